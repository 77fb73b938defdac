"""The payer world: 837s uploaded through the real SFTP channel on several days, answered
on a payer's timetable in the real server's outbound folder, collected by the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from revcycle.channels import Delivery
from revcycle.channels.https import HttpsChannel
from revcycle.channels.options import HttpsOptions, SftpOptions
from revcycle.channels.secrets import Secrets
from revcycle.channels.sftp import SftpChannel
from revcycle.model.acknowledgment import ClaimAckReport, FunctionalAck
from revcycle.model.claim import Claim, ClaimBatch, ClaimType, Receiver
from revcycle.model.remittance import REVERSAL, Remittance, balance_problems
from revcycle.payers import PayerDefinition
from revcycle.pipeline.routing import Routed, Router
from revcycle.simulator import DEFAULT_PAYERS, ClaimFactory
from revcycle.simulator.api_server import ApiServer
from revcycle.simulator.sftp_server import SftpTestServer
from revcycle.simulator.world import PayerWorld, WorldPayer
from revcycle.x12.ack277 import parse_277
from revcycle.x12.ack999 import parse_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.read837 import parse_837
from revcycle.x12.remit835 import parse_835
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tasks.payers import load_payers
from tests.unit.pipeline.test_routing import FakeDirectory

PAYER: PayerDefinition = load_payers()["SIMC1"]
PROFILE = next(p for p in DEFAULT_PAYERS if p.payer_id == PAYER.payer_id)
USER, PASSWORD, SECRET = "revcycle", "not-a-real-password", "simc1_sftp"
START = date(2026, 11, 2)  # a Monday
UPLOAD_DAYS = (0, 1, 2, 4, 7, 8, 10)  # days after START: seven files, three weeks
TENANTS = ("ALPHA", "BETA")
END = START + timedelta(days=56)  # long enough for claims pended five weeks


def remittances(data: bytes) -> list[Remittance]:
    return X12Reader(data, {"835": parse_835}).read().bodies(Remittance)


def claims(data: bytes) -> list[Claim]:
    return [c for batch in X12Reader(data, {"837": parse_837}).read().bodies(ClaimBatch)
            for c in batch.claims]


def reports(data: bytes) -> list[ClaimAckReport]:
    return X12Reader(data, {"277": parse_277}).read().bodies(ClaimAckReport)


def channel_to(server: SftpTestServer) -> SftpChannel:
    options = SftpOptions(host=server.host, port=server.port, user=USER,
                          password_secret=SECRET, host_key=server.host_key_line,
                          connect_timeout_s=5.0, timeout_s=5.0)
    return SftpChannel(PAYER.payer_id, "sftp", options, Secrets([{SECRET: PASSWORD}.get]))


def an_837(tenant: str, day: date, icn: int, lookback_days: int = 60) -> bytes:
    """A tenant's three professional claims to the payer, billed on ``day``."""
    factory = ClaimFactory(icn, tenant, as_of=day, payers=[PROFILE],
                           lookback_days=lookback_days)
    header = InterchangeHeader(Party("REVCYCLE"), Party(PAYER.receiver_id),
                               usage_indicator="T", created=datetime.combine(day, time(9)))
    written = write_837(factory.claims(3, ClaimType.PROFESSIONAL), header,
                        CounterControlNumbers(interchange=icn, group=icn), factory.submitter,
                        Receiver(PAYER.name, PAYER.receiver_id))
    return written.text.encode()


@dataclass
class Played:
    """One run of the world: each answer by name, with the day it appeared."""

    world: PayerWorld
    answers: dict[str, bytes]
    appeared: dict[str, date]
    uploaded: dict[str, date]  # ICN -> the day its 837 was sent
    collected: dict[str, bytes]  # what the SFTP channel collected at the end
    tenants: dict[str, str]  # billing provider NPI -> the tenant that billed with it


def play(seed: int = 7) -> Played:
    with SftpTestServer() as server:
        server.add_user(USER, password=PASSWORD)
        world = PayerWorld([WorldPayer.of(PAYER, seed=seed, sftp=server, sftp_user=USER)],
                           START)
        channel = channel_to(server)
        outbound = server.folder(USER, "outbound")
        appeared: dict[str, date] = {}
        uploaded: dict[str, date] = {}
        tenants: dict[str, str] = {}
        day = START
        try:
            while day <= END:
                offset = (day - START).days
                if offset in UPLOAD_DAYS:
                    for number, tenant in enumerate(TENANTS):
                        icn = 100 + 10 * offset + number
                        delivery = Delivery(tenant, day, f"B{offset}", f"{icn:09d}")
                        data = an_837(tenant, day, icn)
                        channel.send(delivery, data)
                        tenants.update({c.billing_provider.npi: tenant for c in claims(data)})
                        uploaded[f"{icn:09d}"] = day
                world.advance(day)
                for path in outbound.iterdir():
                    appeared.setdefault(path.name, day)
                day += timedelta(days=1)
            answers = {p.name: p.read_bytes() for p in sorted(outbound.iterdir())}
            collected = dict(channel.collect())
        finally:
            channel.close()
    return Played(world, answers, appeared, uploaded, collected, tenants)


@cache
def played() -> Played:
    return play()


def kind(name: str) -> str:
    return name.split("_")[0]


def test_the_999_comes_the_same_day_and_the_277ca_one_to_three_days_later() -> None:
    p = played()
    for icn, day in p.uploaded.items():
        assert p.appeared[f"999_{icn}_{day:%Y%m%d}.x12"] == day
        firsts = sorted(d for name, d in p.appeared.items()
                        if name.startswith(f"277CA_{icn}_"))
        assert firsts and 1 <= (firsts[0] - day).days <= 3
        acks = X12Reader(p.answers[f"999_{icn}_{day:%Y%m%d}.x12"],
                         {"999": parse_999}).read().bodies(FunctionalAck)
        assert acks and all(a.accepted for a in acks)
    for name, day in p.appeared.items():
        assert name.endswith(f"_{day:%Y%m%d}.x12") or name.endswith(f"_{day:%Y%m%d}_1.835")


def test_some_claims_are_received_first_and_rejected_days_later() -> None:
    p = played()
    statuses: dict[str, list[tuple[date, str]]] = {}
    for name in sorted(n for n in p.answers if kind(n) == "277CA"):
        for report in reports(p.answers[name]):
            for claim in report.claims:
                if claim.categories[0].startswith("P"):  # a pended claim's "in process"
                    continue
                statuses.setdefault(claim.patient_control_number, []).append(
                    (p.appeared[name], claim.categories[0]))
    two_step = {pcn for pcn, seen in statuses.items() if len(seen) == 2}
    assert two_step, "about one claim in ten goes in two steps"
    for pcn in two_step:
        (first, received), (second, rejected) = sorted(statuses[pcn])
        assert received == "A1" and rejected in ("A3", "A7") and second > first
    assert all(len(seen) == 1 for pcn, seen in statuses.items() if pcn not in two_step)
    assert sum(d.get("two-step", 0) for d in p.world.summary().values()) == len(two_step)


def test_erAs_come_on_the_payment_weekday_with_claims_of_several_days_and_balance() -> None:
    p = played()
    weekday = p.world.payment_weekday(PAYER.payer_id)
    submitted: dict[str, date] = {}  # patient control number -> the day its 837 was sent
    for name in (n for n in p.answers if kind(n) == "277CA"):
        icn = name.split("_")[1]
        for report in reports(p.answers[name]):
            submitted.update({c.patient_control_number: p.uploaded[icn]
                              for c in report.claims})
    eras = sorted(n for n in p.answers if kind(n) == "ERA")
    assert len(eras) >= 3
    mixed = payees = 0
    for name in eras:
        assert p.appeared[name].weekday() == weekday
        items = remittances(p.answers[name])
        assert items and all(balance_problems(r) == [] for r in items)
        assert all(r.payment_date == p.appeared[name] for r in items)
        assert len({r.trace_number for r in items}) == len(items)
        days = {submitted[c.patient_control_number] for r in items for c in r.claims
                if c.patient_control_number in submitted}
        mixed += len(days) > 1
        payees = max(payees, len({(r.payee.id, r.payee.tax_id) for r in items}))
    assert mixed, "a weekly run pays claims sent on several days"
    assert payees > 1, "one ST set per payee"


def test_every_accepted_claim_is_paid_or_denied_in_exactly_one_era() -> None:
    p = played()
    final: dict[str, str] = {}  # pcn -> its last 277CA category
    for name in sorted(n for n in p.answers if kind(n) == "277CA"):
        for report in reports(p.answers[name]):
            final.update({c.patient_control_number: c.categories[0] for c in report.claims
                          if not c.categories[0].startswith("P")})
    paid_in: dict[str, set[str]] = {}
    reversed_in: dict[str, list[str]] = {}
    for name in sorted(n for n in p.answers if kind(n) == "ERA"):
        for remittance in remittances(p.answers[name]):
            for claim in remittance.claims:
                into = reversed_in if claim.status_code == REVERSAL else paid_in
                into.setdefault(claim.patient_control_number, set()).add(name)
    accepted = {pcn for pcn, category in final.items() if category == "A2"}
    assert len(accepted) >= 30
    ours = {pcn for pcn in paid_in if pcn in final}
    assert ours == accepted  # none rejected (at once or in two steps) is paid
    assert all(len(paid_in[pcn]) == 1 for pcn in accepted)
    taken_back = {pcn for pcn, eras in reversed_in.items() if eras - paid_in[pcn]}
    for pcn in taken_back:  # a take-back: a later run reverses what an earlier one paid
        assert min(reversed_in[pcn]) > min(paid_in[pcn])
    assert len(taken_back) == len(p.world.take_backs)


def test_the_router_sends_each_payees_set_of_an_era_to_its_tenant() -> None:
    p = played()
    directory = FakeDirectory(npis=p.tenants, payers={PAYER.payer_id: PAYER.payer_id,
                                                      PAYER.name: PAYER.payer_id})
    for name in (n for n in p.answers if kind(n) == "ERA"):
        sets = remittances(p.answers[name])
        routed = Router(directory).route(p.answers[name])
        assert all(isinstance(r, Routed) and r.kind == "835" for r in routed)
        assert [r.tenant for r in routed if isinstance(r, Routed)] == [
            p.tenants[s.payee.id] for s in sets]
    assert set(p.tenants.values()) == set(TENANTS)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_answers() -> None:
    again = play()
    assert again.answers == played().answers and again.appeared == played().appeared
    assert again.world.summary() == played().world.summary()
    assert play(seed=8).answers != played().answers


def test_the_sftp_channel_collects_every_answer() -> None:
    p = played()
    assert p.collected == p.answers
    summary = p.world.summary()
    totals = {k: sum(d.get(k, 0) for d in summary.values())
              for k in ("837", "999", "277CA", "277CA-second", "pend-277", "ERA")}
    assert totals["837"] == totals["999"] == len(p.uploaded) == totals["277CA"]
    assert totals["ERA"] == sum(kind(n) == "ERA" for n in p.answers)
    assert totals["277CA"] + totals["277CA-second"] + totals["pend-277"] == sum(
        kind(n) == "277CA" for n in p.answers)


def test_a_claim_past_the_payer_module_filing_limit_is_denied_co_29() -> None:
    assert PAYER.timely_filing_days < 200
    with SftpTestServer() as server:
        server.add_user(USER, password=PASSWORD)
        world = PayerWorld([WorldPayer.of(PAYER, sftp=server, sftp_user=USER,
                                          payment_weekday=START.weekday())], START)
        server.folder(USER).joinpath("old.837").write_bytes(
            an_837("GAMMA", START, 900, lookback_days=250))
        world.advance(START + timedelta(days=7))
        era = next(p.read_bytes() for p in server.folder(USER, "outbound").iterdir()
                   if p.name.startswith("ERA_"))
    late = [c for r in remittances(era) for c in r.claims
            if any(a.reason_code == "29" for s in c.service_payments for a in s.adjustments)]
    assert late, "some claims of a 250-day lookback are past a 90-day limit"
    for claim in late:
        first = min(s.service_date for s in claim.service_payments if s.service_date)
        assert (START - first).days > PAYER.timely_filing_days


def test_a_take_back_larger_than_the_payment_is_a_debit() -> None:
    with SftpTestServer() as server:
        server.add_user(USER, password=PASSWORD)
        world = PayerWorld([WorldPayer.of(PAYER, sftp=server, sftp_user=USER,
                                          payment_weekday=START.weekday(),
                                          take_back_rate=1.0, two_step_rate=0.0)], START)
        server.folder(USER).joinpath("one.837").write_bytes(an_837("DELTA", START, 901))
        world.advance(START + timedelta(days=14))  # paid on day 7, all taken back on 14
        files = {p.name: p.read_bytes() for p in server.folder(USER, "outbound").iterdir()}
    first, second = (remittances(files[f"ERA_{PAYER.payer_id}_{d:%Y%m%d}_1.835"])
                     for d in (START + timedelta(days=7), START + timedelta(days=14)))
    paid = sum((r.total_paid for r in first), Decimal(0))
    assert paid > 0
    assert all(c.status_code == REVERSAL for r in second for c in r.claims)
    assert {r.credit_debit_flag for r in second if r.total_paid} == {"D"}
    assert sum((r.total_paid for r in second), Decimal(0)) == paid
    assert all(balance_problems(r) == [] for r in second)



def test_a_payer_behind_the_api_answers_there_on_its_days() -> None:
    with ApiServer(token="synthetic-token") as api:
        world = PayerWorld([WorldPayer.of(PAYER, api=api, payment_weekday=START.weekday(),
                                          two_step_rate=0.0)], START)
        channel = HttpsChannel(PAYER.payer_id, "https", HttpsOptions(
            base_url=api.base_url, token_secret="token", timeout_s=5.0,
            connect_timeout_s=5.0), Secrets([{"token": "synthetic-token"}.get]))
        try:
            channel.send(Delivery("ALPHA", START, "B0", "000000950"),
                         an_837("ALPHA", START, 950))
            world.advance(START)
            same_day = list(dict(channel.collect()).values())
            assert [name for name, _ in api.answers.values()] == [
                f"999_000000950_{START:%Y%m%d}.x12"]
            world.advance(START + timedelta(days=7))
            answers = dict(api.answers.values())
            collected = dict(channel.collect())
        finally:
            channel.close()
    assert same_day == [answers[f"999_000000950_{START:%Y%m%d}.x12"]]
    assert sorted(kind(n) for n in answers) == ["277CA", "999", "ERA"]
    assert sorted(collected.values()) == sorted(answers.values())
    era = next(data for name, data in answers.items() if kind(name) == "ERA")
    assert all(balance_problems(r) == [] for r in remittances(era))


def test_pended_claims_are_paid_weeks_later_with_interest_past_the_prompt_pay_limit() -> None:
    with SftpTestServer() as server:
        server.add_user(USER, password=PASSWORD)
        world = PayerWorld([WorldPayer.of(PAYER, sftp=server, sftp_user=USER,
                                          payment_weekday=START.weekday(), pend_rate=1.0,
                                          two_step_rate=0.0, take_back_rate=0.0)], START)
        server.folder(USER).joinpath("one.837").write_bytes(an_837("EPSILON", START, 902))
        world.advance(START + timedelta(weeks=6))
        eras = {p.name: p.read_bytes() for p in server.folder(USER, "outbound").iterdir()
                if p.name.startswith("ERA_")}
    runs = {datetime.strptime(n.split("_")[2], "%Y%m%d").date(): remittances(d)
            for n, d in eras.items()}
    assert runs and min(runs) >= START + timedelta(weeks=3)
    paid = [c for items in runs.values() for r in items for c in r.claims]
    summary = world.summary()
    assert len(paid) == sum(d.get("pended", 0) for d in summary.values()) >= 2
    for day, items in runs.items():
        for remittance in items:
            assert balance_problems(remittance) == []
            interest = {a.reference: a for a in remittance.provider_adjustments}
            late = (day - START).days > 30
            for claim in remittance.claims:
                owed = claim.paid > 0 and late
                assert (claim.payer_claim_control_number in interest) == owed
            assert all(a.reason_code == "L6" and a.amount < 0 for a in interest.values())
