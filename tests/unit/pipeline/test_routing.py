"""Routing payer answers by what they say: each rule, each reason a set is not routed,
files of the simulated payer through the database directory, and the public corpus."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select

from revcycle.channels import Delivery
from revcycle.channels.simulator import answer_key
from revcycle.db import models
from revcycle.model.acknowledgment import ClaimAckReport, FunctionalAck
from revcycle.model.claim import Claim, ClaimType, Receiver
from revcycle.model.remittance import Remittance
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.directory import DatabaseDirectory, payer_aliases
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.routing import Reason, Routed, Router, SubmissionRef, Unrouted
from revcycle.pipeline.submit import submit
from revcycle.simulator.payer import PayerResponse, PayerSimulator
from revcycle.x12.ack277 import parse_277, write_277ca
from revcycle.x12.ack999 import parse_999, write_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.remit835 import parse_835, write_835
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    factory,
    ready_batch,
)

PAYER = PAYERS["SIMC1"]
OTHER = PAYERS["SIMA1"] if "SIMA1" in PAYERS else next(p for p in PAYERS.values()
                                                         if p.payer_id != "SIMC1")
FROM_PAYER = InterchangeHeader(Party(PAYER.payer_id), Party("REVCYCLE"), usage_indicator="T")


@dataclass
class FakeDirectory:
    """What our records say, held in memory."""

    npis: dict[str, str] = field(default_factory=dict)
    tins: dict[str, set[str]] = field(default_factory=dict)
    submissions: list[SubmissionRef] = field(default_factory=list)
    # (tenant, payer, patient control number, payer claim control number)
    claims: list[tuple[str, str, str, str]] = field(default_factory=list)
    payers: dict[str, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)  # submission id -> GS06

    def add_submission(self, ref: SubmissionRef, group: str) -> None:
        self.submissions.append(ref)
        self.groups[ref.id] = group

    def tenant_of_npi(self, npi: str) -> str | None:
        return self.npis.get(npi)

    def tenants_of_tin(self, tin: str) -> set[str]:
        return set(self.tins.get(tin, ()))

    def submissions_of_group(self, group_control_number: str) -> list[SubmissionRef]:
        number = group_control_number.lstrip("0")
        return [s for s in self.submissions if self.groups[s.id] == number]

    def claims_of(self, patient_control_numbers: Collection[str],
                  payer_id: str | None = None) -> dict[str, set[str]]:
        return self._owners(2, patient_control_numbers, payer_id)

    def claims_of_payer_numbers(self, numbers: Collection[str],
                                payer_id: str | None = None) -> dict[str, set[str]]:
        return self._owners(3, numbers, payer_id)

    def payer_of(self, value: str) -> str | None:
        return self.payers.get(value)

    def _owners(self, column: int, values: Collection[str],
                payer_id: str | None) -> dict[str, set[str]]:
        owners: dict[str, set[str]] = {}
        for row in self.claims:
            if row[column] and row[column] in values and payer_id in (None, row[1]):
                owners.setdefault(row[column], set()).add(row[0])
        return owners


@dataclass(frozen=True)
class Day:
    """One tenant's claims to one payer, the 837 and the payer's three answers."""

    tenant: str
    claims: tuple[Claim, ...]
    group: str
    sets: tuple[str, ...]
    response: PayerResponse
    payer_tax_id: str


@cache
def day(tenant: str, seed: int, payer_id: str = PAYER.payer_id) -> Day:
    f = factory(tenant, seed=seed, payers=[payer_id])
    claims = tuple(f.claims(8, ClaimType.PROFESSIONAL))
    header = InterchangeHeader(Party("REVCYCLE"), Party(PAYERS[payer_id].receiver_id),
                               usage_indicator="T")
    written = write_837(list(claims), header,
                        CounterControlNumbers(interchange=seed, group=40 + seed),
                        f.submitter, Receiver("REVCYCLE", "REVCYCLE"))
    simulator = PayerSimulator((PAYERS[payer_id].name, payer_id), seed=0)
    response = simulator.respond(written.text.encode(), received=DAY,
                                 control_numbers=CounterControlNumbers(100 * seed))
    return Day(tenant, claims, written.group_control_number,
               tuple(written.transaction_control_numbers), response, simulator.tax_id)


def know(directory: FakeDirectory, d: Day, payer_id: str = PAYER.payer_id,
         submission: int = 0) -> None:
    """Put a day's providers, claims and submission in the directory."""
    for claim in d.claims:
        provider = claim.billing_provider
        directory.npis[provider.npi] = d.tenant
        directory.tins.setdefault(provider.tax_id, set()).add(d.tenant)
        directory.claims.append((d.tenant, payer_id, claim.patient_control_number, ""))
    directory.add_submission(SubmissionRef(submission or len(directory.submissions) + 1,
                                           d.tenant, f"{d.tenant}-batch", payer_id,
                                           frozenset(d.sets)), d.group)
    payer = PAYERS[payer_id]
    directory.payers.update({payer_id: payer_id, payer.name: payer_id})


def alpha() -> Day:
    return day("alpha", 1)


def beta() -> Day:
    return day("beta", 2)


def directory_of(*days: Day) -> FakeDirectory:
    directory = FakeDirectory()
    for d in days:
        know(directory, d)
    return directory


def one(results: list[Routed | Unrouted]) -> Routed | Unrouted:
    assert len(results) == 1
    return results[0]


def assert_no_phi(results: list[Routed | Unrouted], days: Collection[Day]) -> None:
    """No message or match names a patient, member id or patient control number."""
    phi = {v for d in days for c in d.claims
           for v in (c.patient_control_number, c.subscriber.member_id,
                     c.subscriber.last_name, c.subscriber.first_name) if len(v) > 2}
    for result in results:
        text = result.message if isinstance(result, Unrouted) else result.matched_by
        assert not [v for v in phi if v in text], text


def remittances(data: bytes) -> list[Remittance]:
    return X12Reader(data, {"835": parse_835}).read().bodies(Remittance)


def reports(data: bytes) -> list[ClaimAckReport]:
    return X12Reader(data, {"277": parse_277}).read().bodies(ClaimAckReport)


def write_remittances(items: list[Remittance]) -> bytes:
    return write_835(items, FROM_PAYER, CounterControlNumbers(700)).text.encode()


# --- 999 ------------------------------------------------------------------------------


def test_a_999_goes_to_the_submission_of_the_group_it_acknowledges() -> None:
    a, b = alpha(), beta()
    directory = directory_of(a, b)

    routed = one(Router(directory).route(b.response.ack_999))

    assert isinstance(routed, Routed)
    assert (routed.tenant, routed.payer, routed.kind) == ("beta", "SIMC1", "999")
    assert routed.matched_by == f"AK1 group {b.group}"
    assert routed.submission is not None and routed.submission.batch == "beta-batch"
    assert routed.data == b.response.ack_999  # a one-set file is handed on as it came


def _acks(data: bytes) -> list[FunctionalAck]:
    return X12Reader(data, {"999": parse_999}).read().bodies(FunctionalAck)


def test_a_999_for_a_group_we_never_sent_is_unrouted() -> None:
    a = alpha()
    [ack] = _acks(a.response.ack_999)
    stranger = dataclasses.replace(ack, group_control_number="987654")
    data = write_999([stranger], FROM_PAYER, CounterControlNumbers(5)).text.encode()

    result = one(Router(directory_of(a)).route(data))

    assert isinstance(result, Unrouted)
    assert result.reason is Reason.UNKNOWN_SUBMISSION
    assert "987654" in result.message and result.kind == "999"


def test_a_999_naming_sets_its_group_never_held_is_unrouted() -> None:
    a = alpha()
    [ack] = _acks(a.response.ack_999)
    ack.set_acks[0].control_number = "9999"
    data = write_999([ack], FROM_PAYER, CounterControlNumbers(5)).text.encode()

    result = one(Router(directory_of(a)).route(data))

    assert isinstance(result, Unrouted) and result.reason is Reason.SET_MISMATCH
    assert "9999" in result.message


def test_a_999_from_another_payer_than_the_group_went_to_is_unrouted() -> None:
    a = alpha()
    directory = directory_of(a)
    directory.payers[OTHER.payer_id] = OTHER.payer_id
    header = InterchangeHeader(Party(OTHER.payer_id), Party("REVCYCLE"), usage_indicator="T")
    data = write_999(_acks(a.response.ack_999), header, CounterControlNumbers(5)).text.encode()

    result = one(Router(directory).route(data))

    assert isinstance(result, Unrouted) and result.reason is Reason.PAYER_MISMATCH


def test_a_group_number_on_two_submissions_is_not_guessed() -> None:
    a = alpha()
    directory = directory_of(a)
    directory.add_submission(SubmissionRef(77, "beta", "beta-batch", "SIMC1",
                                           frozenset(a.sets)), a.group)

    result = one(Router(directory).route(a.response.ack_999))

    assert isinstance(result, Unrouted) and result.reason is Reason.AMBIGUOUS_SUBMISSION


def test_leading_zeros_of_a_group_number_do_not_matter() -> None:
    a = alpha()
    [ack] = _acks(a.response.ack_999)
    ack.group_control_number = a.group.zfill(9)
    data = write_999([ack], FROM_PAYER, CounterControlNumbers(5)).text.encode()

    routed = one(Router(directory_of(a)).route(data))

    assert isinstance(routed, Routed) and routed.tenant == "alpha"


# --- 277CA ----------------------------------------------------------------------------


def test_a_277ca_goes_to_the_tenant_whose_claims_it_names() -> None:
    a, b = alpha(), beta()
    assert a.response.ack_277ca is not None
    [report] = reports(a.response.ack_277ca)
    assert report.receiver is not None  # the 837's submitter (1000A), here the factory's
    router = Router(directory_of(a, b), receiver_ids=[report.receiver.id])

    results = router.route(a.response.ack_277ca)

    routed = one(results)
    assert isinstance(routed, Routed)
    assert (routed.tenant, routed.payer, routed.kind) == ("alpha", "SIMC1", "277CA")
    assert routed.matched_by.startswith(f"{len(a.claims)} of {len(a.claims)} claims")
    assert_no_phi(results, [a, b])


def test_a_277ca_naming_claims_of_two_tenants_is_unrouted() -> None:
    a, b = alpha(), beta()
    [report] = reports(a.response.ack_277ca)
    [other] = reports(b.response.ack_277ca)
    report.claims += other.claims
    report.billing_providers += other.billing_providers
    data = write_277ca([report], FROM_PAYER, CounterControlNumbers(5)).text.encode()

    results = Router(directory_of(a, b)).route(data)

    result = one(results)
    assert isinstance(result, Unrouted) and result.reason is Reason.MIXED_TENANTS
    assert "alpha" in result.message and "beta" in result.message
    assert_no_phi(results, [a, b])


def test_a_277ca_with_a_set_per_tenant_is_split_per_set() -> None:
    a, b = alpha(), beta()
    both = reports(a.response.ack_277ca) + reports(b.response.ack_277ca)
    data = write_277ca(both, FROM_PAYER, CounterControlNumbers(5)).text.encode()

    results = Router(directory_of(a, b)).route(data)

    assert [(r.tenant, r.set_index) for r in results if isinstance(r, Routed)] \
        == [("alpha", 0), ("beta", 1)]
    assert [len(reports(r.data)[0].claims) for r in results] == [8, 8]


def test_a_277ca_for_another_receiver_is_not_ours() -> None:
    a = alpha()

    result = one(Router(directory_of(a), receiver_ids=["SOMEONEELSE"]).route(
        a.response.ack_277ca))

    assert isinstance(result, Unrouted) and result.reason is Reason.NOT_FOR_US


def test_a_277ca_from_a_payer_we_do_not_know_is_unrouted() -> None:
    a = alpha()
    directory = directory_of(a)
    directory.payers.clear()

    result = one(Router(directory).route(a.response.ack_277ca))

    assert isinstance(result, Unrouted) and result.reason is Reason.UNKNOWN_PAYER


def test_a_277ca_whose_claims_we_never_sent_is_unrouted() -> None:
    a, b = alpha(), beta()

    result = one(Router(directory_of(b)).route(a.response.ack_277ca))

    assert isinstance(result, Unrouted) and result.reason is Reason.NO_MATCHING_CLAIMS


def test_a_277ca_whose_claims_went_to_another_payer_is_a_payer_mismatch() -> None:
    a = alpha()
    directory = FakeDirectory()
    know(directory, a, payer_id=OTHER.payer_id)
    directory.payers[PAYER.payer_id] = PAYER.payer_id

    result = one(Router(directory).route(a.response.ack_277ca))

    assert isinstance(result, Unrouted) and result.reason is Reason.PAYER_MISMATCH


def test_claims_two_tenants_share_are_told_apart_by_the_payers_claim_number() -> None:
    a = alpha()
    directory = directory_of(a)
    # Beta happens to use the same patient control numbers (providers choose them).
    directory.claims += [("beta", "SIMC1", c.patient_control_number, "")
                         for c in a.claims]

    result = one(Router(directory).route(a.response.ack_277ca))
    assert isinstance(result, Unrouted) and result.reason is Reason.AMBIGUOUS_CLAIMS

    [report] = reports(a.response.ack_277ca)
    numbered = [c for c in report.claims if c.payer_claim_control_number]
    assert numbered
    directory.claims += [("alpha", "SIMC1", "", c.payer_claim_control_number)
                         for c in numbered]
    routed = one(Router(directory).route(a.response.ack_277ca))
    assert isinstance(routed, Routed) and routed.tenant == "alpha"


# --- 835 ------------------------------------------------------------------------------


def test_a_multi_payee_835_is_split_a_set_per_tenant() -> None:
    a, b = alpha(), beta()
    sets = remittances(a.response.remittance_835) + remittances(b.response.remittance_835)
    data = write_remittances(sets)
    directory = directory_of(a, b)

    results = Router(directory).route(data)

    assert all(isinstance(r, Routed) for r in results)
    expected = ["alpha"] * len(remittances(a.response.remittance_835)) \
        + ["beta"] * len(remittances(b.response.remittance_835))
    assert [r.tenant for r in results] == expected
    for index, routed in enumerate(results):
        assert isinstance(routed, Routed)
        assert routed.set_index == index and routed.payer == "SIMC1"
        # Each piece is an 835 of its own holding that set alone, routed the same way.
        assert remittances(routed.data) == [sets[index]]
        assert one(Router(directory).route(routed.data)).tenant == routed.tenant
        assert routed.matched_by.startswith("payee NPI ")
    assert [r.data for r in Router(directory).route(data)] == [r.data for r in results]
    assert_no_phi(results, [a, b])


def _835(d: Day) -> Remittance:
    return remittances(d.response.remittance_835)[0]


def test_an_835_for_a_payee_we_do_not_know_is_unrouted() -> None:
    a, b = alpha(), beta()

    result = one(Router(directory_of(b)).route(write_remittances([_835(a)])))

    assert isinstance(result, Unrouted) and result.reason is Reason.UNKNOWN_PAYEE
    assert _835(a).payee.id in result.message  # the NPI is named: it is no patient's


def test_an_835_paid_to_a_tax_id_two_tenants_share_is_ambiguous() -> None:
    a = alpha()
    remittance = _835(a)
    remittance.payee = dataclasses.replace(remittance.payee, id_qualifier="FI",
                                           id=remittance.payee.tax_id or "123456789")
    directory = directory_of(a)
    directory.tins[remittance.payee.id] = {"alpha"}

    routed = one(Router(directory).route(write_remittances([remittance])))
    assert isinstance(routed, Routed) and routed.tenant == "alpha"
    assert f"tax id ending {remittance.payee.id[-4:]}" in routed.matched_by

    directory.tins[remittance.payee.id] = {"alpha", "beta"}
    result = one(Router(directory).route(write_remittances([remittance])))
    assert isinstance(result, Unrouted) and result.reason is Reason.AMBIGUOUS_PAYEE
    assert remittance.payee.id not in result.message  # a tax id shows its last digits only


def test_an_835_whose_npi_and_tax_id_name_different_tenants_is_unrouted() -> None:
    a = alpha()
    remittance = _835(a)
    remittance.payee.tax_id = "987654321"
    directory = directory_of(a)
    directory.tins["987654321"] = {"beta"}

    result = one(Router(directory).route(write_remittances([remittance])))

    assert isinstance(result, Unrouted) and result.reason is Reason.PAYEE_MISMATCH


def test_an_835_whose_payer_is_not_the_claims_payer_is_unrouted() -> None:
    a = alpha()
    directory = FakeDirectory()
    know(directory, a, payer_id=OTHER.payer_id)  # alpha sent these claims to OTHER
    directory.payers[PAYER.payer_id] = PAYER.payer_id

    result = one(Router(directory).route(write_remittances([_835(a)])))

    assert isinstance(result, Unrouted) and result.reason is Reason.PAYER_MISMATCH
    assert "payer SIMC1 (REF*2U)" in result.message


def test_an_835_whose_payer_ids_disagree_is_unrouted() -> None:
    a = alpha()
    remittance = _835(a)
    directory = directory_of(a)
    directory.payers[remittance.originator_id] = OTHER.payer_id  # TRN03 is another's

    result = one(Router(directory).route(write_remittances([remittance])))

    assert isinstance(result, Unrouted) and result.reason is Reason.PAYER_MISMATCH
    assert "REF*2U SIMC1" in result.message and f"TRN03 {OTHER.payer_id}" in result.message


def test_an_835_from_a_payer_we_do_not_know_is_unrouted() -> None:
    a = alpha()
    directory = directory_of(a)
    directory.payers.clear()

    result = one(Router(directory).route(write_remittances([_835(a)])))

    assert isinstance(result, Unrouted) and result.reason is Reason.UNKNOWN_PAYER


def test_an_835_paying_another_tenants_claims_is_unrouted() -> None:
    a, b = alpha(), beta()
    remittance = _835(a)
    directory = directory_of(b)
    directory.npis[remittance.payee.id] = "beta"
    directory.claims = [("alpha", "SIMC1", c.patient_control_number, "") for c in a.claims]

    result = one(Router(directory).route(write_remittances([remittance])))

    assert isinstance(result, Unrouted) and result.reason is Reason.PAYEE_MISMATCH


def test_an_835_paying_claims_nobody_sent_goes_to_the_payee() -> None:
    a = alpha()
    directory = directory_of(a)
    directory.claims.clear()

    routed = one(Router(directory).route(write_remittances([_835(a)])))

    assert isinstance(routed, Routed) and routed.tenant == "alpha"
    assert "none of" in routed.matched_by


# --- what is no payer answer ----------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello", b"ISA*00*" + b"x" * 200])
def test_what_cannot_be_read_is_unrouted(data: bytes) -> None:
    result = one(Router(FakeDirectory()).route(data))

    assert isinstance(result, Unrouted) and result.reason is Reason.UNREADABLE
    assert result.data == data and result.set_index is None


def test_a_truncated_835_is_unreadable() -> None:
    data = alpha().response.remittance_835
    assert data is not None

    result = one(Router(directory_of(alpha())).route(data[: len(data) // 2]))

    assert isinstance(result, Unrouted) and result.reason is Reason.UNREADABLE


def test_an_837_in_the_mailbox_is_unsupported() -> None:
    f = factory("alpha", seed=1, payers=["SIMC1"])
    header = InterchangeHeader(Party("REVCYCLE"), Party("SIMC1"), usage_indicator="T")
    data = write_837(f.claims(2, ClaimType.PROFESSIONAL), header, CounterControlNumbers(),
                     f.submitter, Receiver("SIMC1", "SIMC1")).text.encode()

    result = one(Router(FakeDirectory()).route(data))

    assert isinstance(result, Unrouted) and result.reason is Reason.UNSUPPORTED


# --- the public corpus ----------------------------------------------------------------

KINDS = {"999", "277", "835"}


def _corpus(samples: Path) -> list[Path]:
    with (samples / "INDEX.tsv").open(newline="") as index:
        return sorted({samples / row["repo"].split("/")[1] / row["original_path"]
                       for row in csv.DictReader(index, delimiter="\t")
                       if row["ST01"] in KINDS})


def test_every_corpus_answer_routes_or_is_unrouted_with_a_reason(x12_samples: Path) -> None:
    files = _corpus(x12_samples)
    assert len(files) >= 20
    # A directory that knows every payee NPI and payer id of the corpus 835s, and nothing
    # else: some sets route, the others say why not.
    directory = FakeDirectory()
    for path in files:
        try:
            found = remittances(path.read_bytes())
        except Exception:  # unreadable ones are the router's to report
            continue
        for remittance in found:
            if remittance.payee.id_qualifier == "XX":
                directory.npis[remittance.payee.id] = "corpus"
            for value in (remittance.payer.id, remittance.payer.payer_identifier,
                          remittance.originator_id, remittance.payer.name):
                if value:
                    directory.payers[value] = "CORPUSPAYER"
    reasons: set[Reason] = set()
    routed = 0
    for path in files:
        results = Router(directory, receiver_ids=["REVCYCLE"]).route(path.read_bytes())
        assert results, path
        for result in results:
            if isinstance(result, Routed):
                routed += 1
                assert result.kind == "835" and result.tenant == "corpus"
            else:
                assert isinstance(result.reason, Reason) and result.message, path
                reasons.add(result.reason)
    assert routed > 0
    assert {Reason.UNREADABLE, Reason.UNKNOWN_SUBMISSION, Reason.NOT_FOR_US} <= reasons


def test_no_corpus_message_quotes_a_patient(x12_samples: Path) -> None:
    for path in _corpus(x12_samples):
        data = path.read_bytes()
        try:
            found = remittances(data)
        except Exception:
            continue
        phi = {v for r in found for c in r.claims
               for v in (c.patient_control_number,
                         c.patient.last_name if c.patient else "",
                         c.patient.id if c.patient else "") if len(v) > 2}
        for result in Router(FakeDirectory()).route(data):
            assert isinstance(result, Unrouted)
            assert not [v for v in phi if v in result.message], path


def test_a_day_of_answers_for_two_tenants_lands_where_it_belongs() -> None:
    a, b = alpha(), beta()
    directory = directory_of(a, b)
    router = Router(directory)
    for d in (a, b):
        for data in (d.response.ack_999, d.response.ack_277ca, d.response.remittance_835):
            assert data is not None
            results = router.route(data)
            assert {r.tenant for r in results if isinstance(r, Routed)} == {d.tenant}
            assert all(isinstance(r, Routed) for r in results)


# --- through the database -------------------------------------------------------------


@dataclass
class SentDay:
    """A tenant's batch sent to the payer, and the payer's answer to it."""

    tenant: str
    batch: str
    delivery: Delivery
    claims: tuple[Claim, ...]
    response: PayerResponse


def send_day(res: Resources, tenant: str, seed: int) -> SentDay:
    f = factory(tenant, seed=seed, payers=[PAYER.payer_id])
    claims = tuple(f.claims(12, ClaimType.PROFESSIONAL))
    batch = ready_batch(res, tenant, claims, f.submitter)
    channel = RecordingChannel()
    submit(res, batch, PAYER, channel)
    [(delivery, data)] = channel.deliveries
    response = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=DAY, control_numbers=CounterControlNumbers(100 * seed))
    return SentDay(tenant, batch, delivery, claims, response)


def database_directory(res: Resources, *days: SentDay) -> DatabaseDirectory:
    """The lead's wiring, with the providers (not in the database yet) as mappings."""
    npis = {c.billing_provider.npi: d.tenant for d in days for c in d.claims}
    tins: dict[str, set[str]] = {}
    for d in days:
        for c in d.claims:
            tins.setdefault(c.billing_provider.tax_id, set()).add(d.tenant)
    return DatabaseDirectory(res.sessions, npis=npis.get, tins=tins,
                             payer_aliases=payer_aliases(PAYERS.values()))


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_the_simulated_payers_answers_route_to_their_tenants_and_apply(
        res: Resources) -> None:
    days = [send_day(res, "alpha", 3), send_day(res, "beta", 4)]
    router = Router(database_directory(res, *days), receiver_ids=[res.settings.sender_id])
    # The payer answers both tenants in one mailbox, the 835 sets of both in one file.
    both_835 = [r for d in days for r in remittances(d.response.remittance_835)]
    files = [d.response.ack_999 for d in days] + [d.response.ack_277ca for d in days] \
        + [write_remittances(both_835)]

    results = [r for data in files for r in router.route(data)]

    assert all(isinstance(r, Routed) for r in results), results
    assert [(r.tenant, r.kind) for r in results if r.kind != "835"] == [
        ("alpha", "999"), ("beta", "999"), ("alpha", "277CA"), ("beta", "277CA")]
    assert sorted(r.tenant for r in results if r.kind == "835") == sorted(
        d.tenant for d in days for _ in remittances(d.response.remittance_835))
    for d in days:
        [ack] = [r for r in results if r.kind == "999" and r.tenant == d.tenant]
        assert ack.submission is not None and ack.submission.batch == d.batch
        assert ack.payer == PAYER.payer_id

    # Each routed piece is a file the stages apply as they are.
    for number, routed in enumerate(results, 1):
        [d] = [d for d in days if d.tenant == routed.tenant]
        delivery = dataclasses.replace(d.delivery, interchange_control_number=f"{number:09d}")
        res.store.put(answer_key(delivery, PAYER.payer_id, routed.kind), routed.data)
    for d in days:
        acks = apply_acknowledgments(res, d.batch, PAYER.payer_id)
        assert (acks["files"], acks["unmatched"], acks["quarantined"]) == (2, 0, 0)
        assert acks["accepted"] + acks["rejected"] == len(d.claims)
        posted = post_remittances(res, d.batch, PAYER.payer_id)
        payments = sum(len(r.claims) for r in remittances(d.response.remittance_835))
        assert (posted["claims_posted"], posted["exceptions"], posted["held"]) == (
            payments - d.response.duplicate_payments - d.response.unknown_claims,
            d.response.duplicate_payments + d.response.unknown_claims, 0)


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_the_database_directory_answers_from_our_records(res: Resources) -> None:
    a = send_day(res, "alpha", 3)
    directory = database_directory(res, a)
    with res.sessions() as session:
        [submission] = session.scalars(select(models.Submission))
        submission_id, group = submission.id, submission.group_control_number
    pcns = {c.patient_control_number for c in a.claims}

    [ref] = directory.submissions_of_group(group.zfill(9))
    assert (ref.id, ref.tenant, ref.batch, ref.payer) == (submission_id, "alpha", a.batch,
                                                          PAYER.payer_id)
    assert ref.set_control_numbers and directory.submissions_of_group("999999") == []
    assert directory.claims_of(pcns | {"NOT-OURS"}) == {p: {"alpha"} for p in pcns}
    assert directory.claims_of(pcns, PAYER.payer_id) == {p: {"alpha"} for p in pcns}
    assert directory.claims_of(pcns, OTHER.payer_id) == {}
    assert directory.claims_of_payer_numbers({"", "X1"}) == {}
    assert directory.payer_of(PAYER.payer_id) == PAYER.payer_id
    assert directory.payer_of(PAYER.receiver_id) == PAYER.payer_id
    assert directory.payer_of(" ") is None and directory.payer_of("NOBODY") is None
    with res.sessions() as session:
        name = session.get_one(models.Payer, PAYER.payer_id).name
    assert directory.payer_of(name.lower()) == PAYER.payer_id
    assert directory.tenant_of_npi(a.claims[0].billing_provider.npi) == "alpha"
    assert directory.tenants_of_tin(a.claims[0].billing_provider.tax_id) == {"alpha"}
    assert directory.tenant_of_npi("1234567893") is None

    # The payer's claim numbers are ours once its 277CA is applied.
    res.store.put(answer_key(a.delivery, PAYER.payer_id, "277CA"), a.response.ack_277ca)
    apply_acknowledgments(res, a.batch, PAYER.payer_id)
    numbers = {c.payer_claim_control_number for r in reports(a.response.ack_277ca)
               for c in r.claims} - {""}
    assert numbers
    assert directory.claims_of_payer_numbers(numbers, PAYER.payer_id) == {
        n: {"alpha"} for n in numbers}
