"""Secondary and tertiary claims (issue #14): the patient's share of a claim whose content
names a next payer is that payer's (``AR_NEXT_PAYER``), posting makes the claim for it
once, the share moves to it, the normal submit stage sends it (pyx12-valid), and its 835
settles it: paid, the patient's, contractual, a denial in work. A crossover records the
claim the payer forwarded. ``check_books`` passes in every case.

The 835s are built here from the claims as sent (amounts chosen per line), as
test_acks_post does; all data is synthetic."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from revcycle.channels import Delivery
from revcycle.channels.simulator import answer_key
from revcycle.claims.derived import next_payer
from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import (
    Claim,
    ClaimType,
    OtherPayer,
    OtherSubscriber,
    Payer,
)
from revcycle.model.remittance import (
    Adjustment,
    ClaimPayment,
    Entity,
    Remittance,
    ServicePayment,
    balance_problems,
)
from revcycle.payers import PayerDefinition
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import ensure_batch, move
from revcycle.pipeline.cob import RULE
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.queues import post_by_hand
from revcycle.pipeline.reconcile import check_books
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.pipeline.versions import versions_of
from revcycle.scrub import DEFAULT_RULES
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import Status
from revcycle.storage import object_key
from revcycle.x12.remit835 import write_835
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    factory,
    ready_batch,
)
from tests.unit.pipeline.test_acks_post import _negated, _payer_remittances
from tests.x12_validation import pyx12_errors

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

TENANT = "riverbend"
PRIMARY, SECOND, THIRD, CROSS = (PAYERS["SIMC1"], PAYERS["SIMB1"], PAYERS["SIMD1"],
                                 PAYERS["SIMA1"])
ZERO = Decimal(0)
CENT = Decimal("0.01")
PAID_ON = date(2026, 11, 5)


# -- claims and what payers answer --------------------------------------------------------


def _other(claim: Claim, payer: PayerDefinition, responsibility: str) -> OtherPayer:
    s = claim.subscriber
    return OtherPayer(responsibility, "18",
                      OtherSubscriber(s.last_name, f"{payer.payer_id}M0001",
                                      first_name=s.first_name, address=s.address),
                      Payer(payer.name, payer.payer_id), group_number="GRP2",
                      claim_filing_indicator="CI")


def _sent(res: Resources, others: tuple[PayerDefinition, ...], plain: int = 1,
          seed: int = 61) -> tuple[str, list[Claim], list[Claim], Delivery, str]:
    """Claims to PRIMARY, two naming ``others`` after it (S, T) and ``plain`` naming
    none, submitted; returns the batch, the COB claims, the plain ones, the delivery and
    the 837 as sent."""
    f = factory(TENANT, seed=seed, payers=[PRIMARY.payer_id])
    claims = [c for c in f.claims(12, ClaimType.PROFESSIONAL) if c.patient is None]
    cob, rest = claims[:2], claims[2:2 + plain]
    for claim in cob:
        claim.other_payers = [_other(claim, payer, r)
                              for payer, r in zip(others, "ST", strict=False)]
    batch = ready_batch(res, TENANT, cob + rest, f.submitter)
    channel = RecordingChannel()
    submit(res, batch, PRIMARY, channel)
    [(delivery, data)] = channel.deliveries
    return batch, cob, rest, delivery, data.decode()


def _line_payment(line: object, paid: Decimal, adjustments: list[Adjustment]
                  ) -> ServicePayment:
    return ServicePayment(line.procedure_code, line.charge, paid, modifiers=line.modifiers,
                          service_date=line.service_date, adjustments=adjustments,
                          line_control_number=line.line_control_number)


def _allowed(charge: Decimal) -> Decimal:
    return (charge * Decimal("0.8")).quantize(CENT)


def _share(charge: Decimal) -> Decimal:
    """What the primary leaves the patient (coinsurance) on a line."""
    return (_allowed(charge) * Decimal("0.25")).quantize(CENT)


def _primary_clp(claim: Claim, status: str = "1", share: bool = True) -> ClaimPayment:
    """The primary allows 80 % of each line and leaves a quarter of that as PR-2."""
    services = []
    for line in claim.service_lines:
        allowed = _allowed(line.charge)
        pr = _share(line.charge) if share else ZERO
        adjustments = [Adjustment("CO", "45", line.charge - allowed)]
        if pr:
            adjustments.append(Adjustment("PR", "2", pr))
        services.append(_line_payment(line, allowed - pr, adjustments))
    return _clp(claim, status, services, "P")


def _clp(claim: Claim, status: str, services: list[ServicePayment], tag: str
         ) -> ClaimPayment:
    patient = sum((a.amount for s in services for a in s.adjustments
                   if a.group_code == "PR"), ZERO)
    return ClaimPayment(claim.patient_control_number, status, claim.total_charge,
                        sum((s.paid for s in services), ZERO), patient,
                        claim_filing_indicator="CI",
                        payer_claim_control_number=f"{tag}{claim.patient_control_number}"[:30],
                        patient=Entity("1", claim.subscriber.last_name,
                                       claim.subscriber.first_name, id_qualifier="MI",
                                       id=claim.subscriber.member_id),
                        service_payments=services, statement_from=claim.service_date)


def _next_clp(claim: Claim, status: str, before: Decimal, patient: Decimal,
              deny_first: bool = False) -> ClaimPayment:
    """A later payer's CLP: per line the earlier payers paid ``before`` x the allowed
    (OA-23), the primary's write-off is restated (CO-45, plus 5 % of the share left as
    this payer's own), ``patient`` x the share stays the patient's (PR-2), the rest is
    paid; ``deny_first``: the first line is denied (CO-22) instead."""
    services = []
    for number, line in enumerate(claim.service_lines):
        allowed, left = _allowed(line.charge), _share(line.charge)
        earlier = line.charge - allowed + allowed - left  # written off + paid before
        restated = line.charge - allowed
        paid_before = earlier - restated
        if before != 1:  # a tertiary: the secondary paid part of what was left
            paid_before = allowed - left + (left - (left * before).quantize(CENT))
            left = (left * before).quantize(CENT)
        if deny_first and number == 0:
            services.append(_line_payment(line, ZERO, [
                Adjustment("OA", "23", paid_before), Adjustment("CO", "45", restated),
                Adjustment("CO", "22", left)]))
            continue
        own = (left * Decimal("0.05")).quantize(CENT)
        pr = (left * patient).quantize(CENT)
        services.append(_line_payment(line, left - own - pr, [
            Adjustment("OA", "23", paid_before), Adjustment("CO", "45", restated + own),
            *([Adjustment("PR", "2", pr)] if pr else [])]))
    return _clp(claim, status, services, status)


def _remittance(res: Resources, batch: str, payer: PayerDefinition, clps: list[ClaimPayment],
                number: int, delivery: Delivery | None = None) -> None:
    """An 835 from ``payer`` in the batch's inbound zone (answering ``delivery``, or
    unasked: a crossover payer's)."""
    template = _TEMPLATE[0]
    remittance = dataclasses.replace(
        template, claims=clps, total_paid=sum((c.paid for c in clps), ZERO),
        trace_number=f"{payer.payer_id}{number}", payment_date=PAID_ON,
        provider_adjustments=[])
    assert balance_problems(remittance) == []
    header = InterchangeHeader(Party(payer.payer_id), Party("REVCYCLE"), usage_indicator="T")
    text = write_835([remittance], header, CounterControlNumbers(interchange=number)).text
    key = (answer_key(dataclasses.replace(delivery, interchange_control_number=f"{number:09d}"),
                      payer.payer_id, "835") if delivery is not None
           else object_key(TENANT, "inbound", DAY, batch,
                           f"{payer.payer_id}-{number:09d}-835.x12"))
    res.store.put(key, text.encode())


_TEMPLATE: list[Remittance] = []


def _template(data: str) -> None:
    """The simulated payer's 835 for what was sent: its envelope is reused."""
    if not _TEMPLATE:
        _TEMPLATE.append(_payer_remittances(data.encode())[0])


def _send_next(res: Resources, batch: str, payer: PayerDefinition) -> tuple[Delivery, str]:
    """The batch's RECEIVED claims for ``payer`` through to READY (quality and scrub
    have their own tests) and the normal submit stage; the 837 sent."""
    with res.sessions() as session:
        ids = list(session.scalars(select(ClaimRow.id).where(
            ClaimRow.batch_id == batch, ClaimRow.payer_id == payer.payer_id,
            ClaimRow.status == Status.RECEIVED.value)))
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        move(session, ids, Status.VALIDATED, Status.READY, "test")
        session.commit()
    channel = RecordingChannel()
    submit(res, batch, payer, channel)
    [(delivery, data)] = channel.deliveries
    return delivery, data.decode()


# -- the books -----------------------------------------------------------------------------


def _rows(res: Resources) -> list[ClaimRow]:
    with res.sessions() as session:
        return list(session.scalars(select(ClaimRow).order_by(ClaimRow.id)))


def _accounts(res: Resources) -> dict[int | None, Counter]:
    accounts: dict[int | None, Counter] = defaultdict(Counter)
    with res.sessions() as session:
        for claim_id, account, amount in session.execute(select(
                models.LedgerEntry.claim_id, models.LedgerEntry.account,
                models.LedgerEntry.amount)):
            accounts[claim_id][account] += amount
    return accounts


def _books(accounts: Counter) -> dict[str, Decimal]:
    return {k: v for k, v in accounts.items() if v and k != "REVENUE"}


def _receivable(accounts: Counter) -> Decimal:
    return sum((v for k, v in accounts.items() if k.startswith("AR")), ZERO)


def _check(res: Resources) -> None:
    with res.sessions() as session:
        assert check_books(session, [TENANT], date(2026, 12, 31)) == []


def _edits(res: Resources, claim_id: int) -> list[models.Edit]:
    with res.sessions() as session:
        return list(session.scalars(select(models.Edit).where(
            models.Edit.claim_id == claim_id)))


def _no_phi(res: Resources, claims: list[Claim]) -> None:
    phi = {v for c in claims for v in (c.subscriber.member_id, c.subscriber.last_name,
                                       c.subscriber.first_name, str(c.total_charge))}
    with res.sessions() as session:
        messages = list(session.scalars(select(models.Edit.message)))
    assert not [m for m in messages for v in phi if v and v in m]


def _priors(res: Resources) -> dict[str, ClaimRow]:
    """The claims the provider sent, by patient control number."""
    return {r.patient_control_number: r for r in _rows(res) if r.prior_claim_id is None}


def _by_prior(res: Resources) -> dict[int, ClaimRow]:
    return {r.prior_claim_id: r for r in _rows(res) if r.prior_claim_id is not None}


# -- tests ----------------------------------------------------------------------------------


def test_a_primary_with_a_patient_share_bills_the_secondary_once(res: Resources) -> None:
    batch, cob, [plain], delivery, data = _sent(res, (SECOND,))
    _template(data)
    rows = _priors(res)
    assert {rows[c.patient_control_number].next_payer_id for c in cob} == {SECOND.payer_id}
    assert rows[plain.patient_control_number].next_payer_id == ""
    _remittance(res, batch, PRIMARY, [_primary_clp(c) for c in [*cob, plain]], 501, delivery)

    result = post_remittances(res, batch, PRIMARY.payer_id)

    assert (result["claims_posted"], result["next_payer_claims"],
            result["next_payer_waiting"]) == (3, 2, 0)
    made = _by_prior(res)
    accounts = _accounts(res)
    posted = _priors(res)
    for claim in cob:
        prior = posted[claim.patient_control_number]
        share = sum((_share(line.charge) for line in claim.service_lines), ZERO)
        secondary = made[prior.id]
        assert (secondary.payer_id, secondary.payer_responsibility, secondary.status,
                secondary.batch_id, secondary.patient_control_number, secondary.next_payer_id
                ) == (SECOND.payer_id, "S", Status.RECEIVED, batch,
                      claim.patient_control_number, "")
        # The share went to the next payer, and moved to its claim: nothing is the patient's.
        assert _books(accounts[prior.id]) == {
            "CASH": prior.paid, "CONTRACTUAL": prior.adjusted, "COB_TRANSFER": share}
        assert _books(accounts[secondary.id]) == {"AR": share, "COB_TRANSFER": -share}
        assert prior.patient_responsibility == 0  # not the patient's: the next payer's
        [version] = versions_of_claim(res, secondary.id)
        assert (version.version, version.source, version.changed_by) == (
            1, "secondary", "posting")
    # A claim naming no other payer: its share is the patient's, as before.
    row = next(r for r in _rows(res) if r.patient_control_number == plain.patient_control_number)
    share = sum((_share(line.charge) for line in plain.service_lines), ZERO)
    assert row.patient_responsibility == share
    assert _books(accounts[row.id])["PATIENT_AR"] == share
    assert row.id not in made
    _check(res)

    # A rerun posts nothing and makes nothing; the database takes one per prior claim only.
    assert post_remittances(res, batch, PRIMARY.payer_id)["remittances"] == 0
    assert len(_by_prior(res)) == 2
    with res.sessions() as session:
        twin = session.get_one(ClaimRow, made[rows[cob[0].patient_control_number].id].id)
        values = {c.name: getattr(twin, c.name) for c in ClaimRow.__table__.columns
                  if c.name not in ("id", "updated_at")}
        with pytest.raises(IntegrityError):
            session.execute(ClaimRow.__table__.insert().values(**values))
        session.rollback()

    # The normal submit stage sends the secondaries from their version content.
    second_delivery, text = _send_next(res, batch, SECOND)
    assert pyx12_errors(text) == []
    segments = [s.strip() for s in text.split("~")]
    assert sum(s.startswith("SBR*S*") for s in segments) == 2
    assert sum(s.startswith("SBR*P*") for s in segments) == 2  # the primary's 2320
    assert sum(s.startswith("AMT*D*") for s in segments) == 2
    assert any(s.startswith("CAS*") for s in segments)
    assert sum(s.startswith("SVD*") for s in segments) == sum(
        len(c.service_lines) for c in cob)
    assert any(s.startswith("DTP*573*") for s in segments)
    with res.sessions() as session:
        charges = session.scalars(select(models.LedgerEntry).where(
            models.LedgerEntry.memo == "charge",
            models.LedgerEntry.claim_id.in_([r.id for r in made.values()]))).all()
    assert charges == []  # a secondary books no charge: its receivable moved in
    assert {r.status for r in _by_prior(res).values()} == {Status.SUBMITTED}
    _check(res)

    # The secondary's 835: one claim paid (PR and its own write-off), one with a line
    # denied (CO-22, in work). The OA-23 and CO-45 restating the primary are not booked.
    first, second = cob
    clps = [_next_clp(first, "2", Decimal(1), Decimal("0.1")),
            _next_clp(second, "2", Decimal(1), Decimal("0.1"), deny_first=True)]
    _remittance(res, batch, SECOND, clps, 502, second_delivery)
    result = post_remittances(res, batch, SECOND.payer_id)
    assert (result["claims_posted"], result["exceptions"], result["next_payer_claims"]) == (
        2, 0, 0)
    made = _by_prior(res)
    accounts = _accounts(res)
    for claim, clp in zip(cob, clps, strict=True):
        secondary = made[rows[claim.patient_control_number].id]
        share = sum((_share(line.charge) for line in claim.service_lines), ZERO)
        pr = sum((a.amount for s in clp.service_payments for a in s.adjustments
                  if a.group_code == "PR"), ZERO)
        denied = sum((a.amount for s in clp.service_payments for a in s.adjustments
                      if (a.group_code, a.reason_code) == ("CO", "22")), ZERO)
        books = _books(accounts[secondary.id])
        assert books.get("CASH", ZERO) == clp.paid == secondary.paid
        assert books.get("PATIENT_AR", ZERO) == pr == secondary.patient_responsibility
        assert books.get("AR_DENIED", ZERO) == denied
        assert books.get("CONTRACTUAL", ZERO) == share - clp.paid - pr - denied
        assert "OTHER_ADJUSTMENT" not in books
        assert _receivable(accounts[secondary.id]) == denied  # settled, but a denial in work
    assert made[rows[first.patient_control_number].id].status == Status.PAID
    assert made[rows[second.patient_control_number].id].status in (
        Status.PARTIALLY_PAID, Status.DENIED)
    _check(res)
    _no_phi(res, cob)


def versions_of_claim(res: Resources, claim_id: int) -> list[models.ClaimVersion]:
    with res.sessions() as session:
        return versions_of(session, claim_id)


def test_a_tertiary_follows_the_secondary(res: Resources) -> None:
    batch, cob, _, delivery, data = _sent(res, (SECOND, THIRD), plain=0, seed=62)
    _template(data)
    rows = _priors(res)
    _remittance(res, batch, PRIMARY, [_primary_clp(c) for c in cob], 601, delivery)
    post_remittances(res, batch, PRIMARY.payer_id)
    second_delivery, _ = _send_next(res, batch, SECOND)
    made = _by_prior(res)
    secondaries = [made[rows[c.patient_control_number].id] for c in cob]
    assert {s.next_payer_id for s in secondaries} == {THIRD.payer_id}

    # The secondary leaves 40 % of the share to the patient: the tertiary's first.
    _remittance(res, batch, SECOND, [_next_clp(c, "2", Decimal(1), Decimal("0.4"))
                                     for c in cob], 602, second_delivery)
    result = post_remittances(res, batch, SECOND.payer_id)
    assert result["next_payer_claims"] == 2
    made = _by_prior(res)
    accounts = _accounts(res)
    for claim, secondary in zip(cob, secondaries, strict=True):
        tertiary = made[secondary.id]
        assert (tertiary.payer_id, tertiary.payer_responsibility, tertiary.status) == (
            THIRD.payer_id, "T", Status.RECEIVED)
        left = sum(((_share(line.charge) * Decimal("0.4")).quantize(CENT)
                    for line in claim.service_lines), ZERO)
        assert _books(accounts[tertiary.id]) == {"AR": left, "COB_TRANSFER": -left}
        assert _receivable(accounts[secondary.id]) == 0
        assert "PATIENT_AR" not in _books(accounts[secondary.id])
    _check(res)

    third_delivery, text = _send_next(res, batch, THIRD)
    assert pyx12_errors(text) == []
    segments = [s.strip() for s in text.split("~")]
    assert sum(s.startswith("SBR*T*") for s in segments) == 2
    assert sum(s.startswith("AMT*D*") for s in segments) == 4  # the primary's, the secondary's

    # The tertiary pays what is left, less its own write-off; the patient owes nothing.
    clps = [_next_clp(c, "3", Decimal("0.4"), ZERO) for c in cob]
    _remittance(res, batch, THIRD, clps, 603, third_delivery)
    assert post_remittances(res, batch, THIRD.payer_id)["claims_posted"] == 2
    accounts = _accounts(res)
    for claim in cob:
        prior = rows[claim.patient_control_number]
        chain = [prior.id, _by_prior(res)[prior.id].id]
        chain.append(_by_prior(res)[chain[-1]].id)
        assert [_receivable(accounts[i]) for i in chain] == [0, 0, 0]
    _check(res)


def test_a_crossover_to_a_known_payer_records_the_claim_it_forwarded(res: Resources) -> None:
    batch, cob, _, delivery, data = _sent(res, (), plain=0, seed=63)
    _template(data)
    with res.sessions() as session:
        session.add(models.Payer(id=CROSS.payer_id, name=CROSS.name, channel=""))
        session.commit()
    rows = _priors(res)
    known, unknown = cob
    clps = [_primary_clp(c, "19") for c in cob]
    clps[0].crossover_carrier = Entity("2", CROSS.name, id_qualifier="PI", id=CROSS.payer_id)
    clps[1].crossover_carrier = Entity("2", "ELSEWHERE PLAN", id_qualifier="PI", id="ELSE9")
    _remittance(res, batch, PRIMARY, clps, 701, delivery)

    result = post_remittances(res, batch, PRIMARY.payer_id)

    assert (result["next_payer_claims"], result["next_payer_waiting"]) == (1, 1)
    made = _by_prior(res)
    forwarded = made[rows[known.patient_control_number].id]
    assert (forwarded.payer_id, forwarded.status, forwarded.payer_responsibility,
            forwarded.submission_id) == (CROSS.payer_id, Status.SUBMITTED, "S", None)
    waiting = rows[unknown.patient_control_number]
    assert waiting.id not in made
    share = sum((_share(line.charge) for line in unknown.service_lines), ZERO)
    accounts = _accounts(res)
    assert _books(accounts[waiting.id])["AR_NEXT_PAYER"] == share
    [edit] = [e for e in _edits(res, waiting.id) if e.rule_id == RULE]
    assert "ELSE9" in edit.message and "waits" in edit.message
    # Nothing is sent for it: the payer sent it.
    channel = RecordingChannel()
    submit(res, batch, CROSS, channel)
    assert channel.deliveries == []
    _check(res)

    # The crossover payer's 835 (CLP01 our PCN) posts on the claim it was forwarded.
    _remittance(res, batch, CROSS, [_next_clp(known, "2", Decimal(1), Decimal("0.1"))], 702)
    result = post_remittances(res, batch, CROSS.payer_id)
    assert (result["claims_posted"], result["exceptions"]) == (1, 0)
    accounts = _accounts(res)
    assert _receivable(accounts[forwarded.id]) == 0
    assert _receivable(accounts[rows[known.patient_control_number].id]) == 0
    _check(res)
    _no_phi(res, cob)


def test_a_prior_payment_that_does_not_balance_leaves_the_share_in_work(
        res: Resources) -> None:
    batch, cob, _, delivery, data = _sent(res, (SECOND,), plain=0, seed=64)
    _template(data)
    rows = _priors(res)
    clps = [_primary_clp(c) for c in cob]
    odd = clps[0]  # CLP03 is not the claim's charge (balanced by a claim CAS)
    odd.charge -= 1
    odd.adjustments.append(Adjustment("CO", "45", Decimal(-1)))
    _remittance(res, batch, PRIMARY, clps, 801, delivery)

    result = post_remittances(res, batch, PRIMARY.payer_id)

    assert (result["next_payer_claims"], result["next_payer_waiting"]) == (1, 1)
    prior = rows[cob[0].patient_control_number]
    assert prior.id not in _by_prior(res)
    [edit] = [e for e in _edits(res, prior.id) if e.rule_id == RULE]
    assert "CLP03 = CLM02" in edit.message
    share = sum((_share(line.charge) for line in cob[0].service_lines), ZERO)
    assert _books(_accounts(res)[prior.id])["AR_NEXT_PAYER"] == share
    _check(res)
    _no_phi(res, cob)


def test_no_share_left_bills_no_next_payer(res: Resources) -> None:
    batch, cob, _, delivery, data = _sent(res, (SECOND,), plain=0, seed=65)
    _template(data)
    _remittance(res, batch, PRIMARY, [_primary_clp(c, share=False) for c in cob], 901,
                delivery)
    result = post_remittances(res, batch, PRIMARY.payer_id)
    assert (result["claims_posted"], result["next_payer_claims"]) == (2, 0)
    assert _by_prior(res) == {}
    _check(res)


def test_next_payer_reads_the_2320_loops(res: Resources) -> None:
    """(No database: ``res`` only because the module runs on both.)"""
    f = factory(TENANT, seed=66, payers=[PRIMARY.payer_id])
    [claim] = f.claims(1, ClaimType.PROFESSIONAL)
    assert next_payer(claim) is None
    claim.other_payers = [_other(claim, THIRD, "T"), _other(claim, SECOND, "S")]
    assert next_payer(claim).payer.payer_id == SECOND.payer_id
    claim.subscriber.payer_responsibility = "S"
    assert next_payer(claim).payer.payer_id == THIRD.payer_id
    claim.subscriber.payer_responsibility = "T"
    assert next_payer(claim) is None


def test_secondaries_go_through_the_next_days_unattended_run(res: Resources) -> None:
    """Made after the day's run, the secondaries wait RECEIVED; the next day's quality
    adopts them, scrub passes them, submit sends them."""
    batch, cob, _, delivery, data = _sent(res, (SECOND,), plain=0, seed=67)
    _template(data)
    _remittance(res, batch, PRIMARY, [_primary_clp(c) for c in cob], 1001, delivery)
    post_remittances(res, batch, PRIMARY.payer_id)
    with res.sessions() as session:
        later = ensure_batch(session, TENANT, DAY + timedelta(days=1)).id

    assert check_quality(res, later)["validated"] == 2
    rules = {SECOND.payer_id: SECOND.scrub_rules(DEFAULT_RULES)}
    scrubbed = scrub_batch(res, later, rules)
    with res.sessions() as session:
        found = session.execute(select(models.Edit.rule_id, models.Edit.field,
                                       models.Edit.message)).all()
    assert scrubbed["ready"] == 2, found
    channel = RecordingChannel()
    assert submit(res, later, SECOND, channel)["claims"] == 2
    [(_, sent)] = channel.deliveries
    assert pyx12_errors(sent.decode()) == []
    assert {r.batch_id for r in _by_prior(res).values()} == {later}
    _check(res)


def test_a_primary_posted_by_hand_bills_the_next_payer(res: Resources) -> None:
    batch, cob, _, delivery, data = _sent(res, (SECOND,), plain=0, seed=68)
    _template(data)
    clps = [_primary_clp(c) for c in cob]
    clps[0].patient_control_number = "NOSUCHCLAIM1"  # the payer changed it: an exception
    _remittance(res, batch, PRIMARY, clps, 1101, delivery)
    assert post_remittances(res, batch, PRIMARY.payer_id)["exceptions"] == 1
    assert len(_by_prior(res)) == 1
    with res.sessions() as session:
        payment_id = session.scalar(select(models.Payment.id).where(
            models.Payment.exception != ""))
    prior = _priors(res)[cob[0].patient_control_number]

    post_by_hand(res, payment_id, prior.id, "a biller", PAID_ON)

    secondary = _by_prior(res)[prior.id]
    assert (secondary.payer_id, secondary.status) == (SECOND.payer_id, Status.RECEIVED)
    assert _receivable(_accounts(res)[prior.id]) == 0
    _check(res)


def test_a_secondary_payment_taken_back_leaves_what_moved_in_open(res: Resources) -> None:
    batch, cob, _, delivery, data = _sent(res, (SECOND,), plain=0, seed=69)
    _template(data)
    _remittance(res, batch, PRIMARY, [_primary_clp(c) for c in cob], 1201, delivery)
    post_remittances(res, batch, PRIMARY.payer_id)
    second_delivery, _ = _send_next(res, batch, SECOND)
    clps = [_next_clp(c, "2", Decimal(1), Decimal("0.1")) for c in cob]
    _remittance(res, batch, SECOND, clps, 1202, second_delivery)
    post_remittances(res, batch, SECOND.payer_id)

    _remittance(res, batch, SECOND, [_negated(clps[0])], 1203, second_delivery)
    result = post_remittances(res, batch, SECOND.payer_id)

    assert (result["claims_posted"], result["reversals"]) == (1, 1)
    prior = _priors(res)[cob[0].patient_control_number]
    secondary = _by_prior(res)[prior.id]
    share = sum((_share(line.charge) for line in cob[0].service_lines), ZERO)
    assert secondary.status == Status.REVERSED
    assert _books(_accounts(res)[secondary.id]) == {"AR": share, "COB_TRANSFER": -share}
    _check(res)


def test_a_secondary_the_payer_rejects_keeps_its_share_owed(res: Resources) -> None:
    """The next payer's front end rejects the secondary (277CA A3): no charge to take off,
    what moved in stays receivable until the claim is corrected and sent again."""
    batch, cob, _, delivery, data = _sent(res, (SECOND,), plain=0, seed=70)
    _template(data)
    _remittance(res, batch, PRIMARY, [_primary_clp(c) for c in cob], 1301, delivery)
    post_remittances(res, batch, PRIMARY.payer_id)
    second_delivery, text = _send_next(res, batch, SECOND)
    answer = PayerSimulator((SECOND.name, SECOND.payer_id), seed=0).respond(
        text.encode(), received=DAY, control_numbers=CounterControlNumbers(1300))
    assert answer.ack_277ca is not None and b"STC*A2:20" in answer.ack_277ca
    key = answer_key(second_delivery, SECOND.payer_id, "277CA")
    res.store.put(key, answer.ack_277ca.replace(b"STC*A2:20", b"STC*A3:33"))

    assert apply_acknowledgments(res, batch, SECOND.payer_id)["rejected"] == 2

    accounts = _accounts(res)
    for claim in cob:
        secondary = _by_prior(res)[_priors(res)[claim.patient_control_number].id]
        share = sum((_share(line.charge) for line in claim.service_lines), ZERO)
        assert secondary.status == Status.PAYER_REJECTED
        assert _receivable(accounts[secondary.id]) == share
    _check(res)
