"""Posting what payers really send: a renumbered or shortened CLP01, SVCs without REF*6R or
with a changed code, and claims the payer split in parts (issues #12/#13, posting side).

Each 835 is the simulated payer's answer to the claims we sent, changed the way a payer
changes it, and written and read with the project's 835 codec."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from revcycle.db import models
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.remittance import (
    Adjustment,
    ClaimPayment,
    ProcedureCode,
    Remittance,
    ServicePayment,
    balance_problems,
)
from revcycle.pipeline.matching import ClaimLines, LineKey, PostedLine, match_lines
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.queues import exceptions, post_by_hand
from revcycle.pipeline.resources import Resources
from revcycle.status import ADJUDICATED, Status
from tests.unit.pipeline.conftest import BOTH_DATABASES
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    _all,
    _negated,
    _payer_remittances,
    _put_835,
    _read_835,
    _rows,
    _submitted,
)

ZERO = Decimal(0)


# --- the line rules alone ------------------------------------------------------------


def _line(number: int, code: str = "99213", modifiers: tuple[str, ...] = (),
          charge: str = "100", on: date | None = date(2026, 10, 1),
          ) -> tuple[PostedLine, LineKey]:
    return (PostedLine(number, number, ZERO, f"L{number}"),
            LineKey(code, tuple(sorted(modifiers)), on, Decimal(charge)))


def _lines(*lines: tuple[PostedLine, LineKey]) -> ClaimLines:
    return ClaimLines({line.line_control_number: line for line, _ in lines}, list(lines))


def _svc(code: str = "99213", modifiers: tuple[str, ...] = (), charge: str = "100",
         on: date | None = date(2026, 10, 1), control: str = "",
         original: ProcedureCode | None = None) -> ServicePayment:
    return ServicePayment(code, Decimal(charge), Decimal(charge), modifiers=modifiers,
                          service_date=on, line_control_number=control,
                          original_procedure=original)


def _clp(*services: ServicePayment, reversal: bool = False) -> ClaimPayment:
    return ClaimPayment("PCN0000001", "22" if reversal else "1",
                        sum((s.charge for s in services), ZERO),
                        sum((s.paid for s in services), ZERO),
                        service_payments=list(services))


def _numbers(found) -> list[int | None]:
    return [line.line_number if line else None for line, _ in found.services]


def test_ref_6r_wins_and_the_fallback_never_takes_a_line_another_svc_names() -> None:
    lines = _lines(_line(1), _line(2), _line(3, "36415", charge="20"))
    # The first SVC has no REF*6R; the second names line 1, identical to line 2.
    found = match_lines(lines, _clp(_svc(), _svc(control="L1"), _svc("36415",
                                                                              charge="20")))
    assert _numbers(found) == [2, 1, 3]
    assert found.summary() == "6R=1 code+date+charge=2 unmatched=0"


def test_identical_lines_are_taken_lowest_number_first() -> None:
    lines = _lines(_line(1, "97110"), _line(2, "97110"), _line(3, "97110"))
    found = match_lines(lines, _clp(_svc("97110"), _svc("97110")))
    assert _numbers(found) == [1, 2]
    # A line an earlier part of a split claim adjudicated is not available.
    assert _numbers(match_lines(lines, _clp(_svc("97110")), adjudicated={1})) == [2]


def test_the_fallback_compares_code_modifiers_date_and_charge() -> None:
    lines = _lines(_line(1, "20610", ("RT", "59"), charge="217.80"))
    same = _svc("20610", ("59", "RT"), "217.80")  # modifiers in another order
    assert _numbers(match_lines(lines, _clp(same))) == [1]
    for other in (_svc("20610", ("RT",), "217.80"),  # a modifier missing
                  _svc("20611", ("RT", "59"), "217.80"),  # another code
                  _svc("20610", ("RT", "59"), "217.81"),  # another charge
                  _svc("20610", ("RT", "59"), "217.80", on=date(2026, 10, 2))):  # date
        found = match_lines(lines, _clp(other))
        assert (_numbers(found), found.summary()) == (
            [None], "6R=0 code+date+charge=0 unmatched=1")


def test_a_changed_code_is_matched_by_the_billed_code_in_svc06() -> None:
    lines = _lines(_line(1, "99214", ("25",)))
    changed = _svc("99213", (), original=ProcedureCode("HC", "99214", ("25",)))
    assert _numbers(match_lines(lines, _clp(changed))) == [1]
    # Without SVC06 the payer's code is all there is: no line has it.
    assert _numbers(match_lines(lines, _clp(_svc("99213")))) == [None]


def test_a_reversal_matches_by_its_negated_charge() -> None:
    lines = _lines(_line(1))
    reversal = _svc(charge="-100")
    assert _numbers(match_lines(lines, _clp(reversal, reversal=True))) == [1]
    assert _numbers(match_lines(lines, _clp(_svc(on=date(2026, 9, 30))))) == [None]


# --- posting ---------------------------------------------------------------------------

# Posting runs on SQLite and PostgreSQL, whose write paths differ (COPY).
ON_BOTH_DATABASES = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)


def _payments(res: Resources, claim_id: int | None = None) -> list[models.Payment]:
    return [p for p in _all(res, models.Payment)
            if claim_id is None or p.claim_id == claim_id]


def _books(res: Resources) -> dict[int, Decimal]:
    """Every claim's ledger is double entry and billed = paid + adjustments + patient
    responsibility + receivables (AR, AR_DENIED, AR_NEXT_PAYER); returns each claim's open
    A/R (``AR``)."""
    with res.sessions() as session:
        ledger = session.execute(select(models.LedgerEntry.claim_id, models.LedgerEntry.account,
                                        models.LedgerEntry.amount)).all()
    accounts: dict[int | None, Counter] = defaultdict(Counter)
    for claim_id, account, amount in ledger:
        accounts[claim_id][account] += amount
    assert sum(sum(a.values()) for a in accounts.values()) == 0
    open_ar = {}
    for row in _rows(res).values():
        ar = accounts[row.id]["AR"]
        assert sum(accounts[row.id].values()) == 0
        receivable = sum((v for k, v in accounts[row.id].items() if k.startswith("AR")), ZERO)
        assert row.total_charge == (row.paid + row.adjusted + row.patient_responsibility
                                    + receivable)
        assert accounts[row.id]["CASH"] == row.paid
        open_ar[row.id] = ar
    return open_ar


def _sent(res: Resources, seed: int) -> tuple[str, object, list[Remittance]]:
    batch, [(delivery, data)] = _submitted(res, n=30, seed=seed)
    return batch, delivery, _payer_remittances(data)


def _pick(remittances: list[Remittance], lines: int = 2, paid: bool = True,
          skip: int = 0) -> tuple[Remittance, ClaimPayment]:
    """A primary payment with at least ``lines`` SVCs, all paid when ``paid``, and no
    claim-level CAS (so it splits by its lines)."""
    found = [(r, c) for r in remittances for c in r.claims
             if c.status_code == "1" and len(c.service_payments) >= lines
             and not c.adjustments and (not paid or all(s.paid > 0 for s in c.service_payments))]
    return found[skip]


def _drop(remittance: Remittance, clp: ClaimPayment) -> None:
    """The payer leaves a claim out of this 835 (it stays awaiting payment)."""
    remittance.claims.remove(clp)
    remittance.total_paid -= clp.paid


def _set(res: Resources, pcn: str, **values: object) -> int:
    with res.sessions() as session:
        claim_id = session.scalar(select(ClaimRow.id).where(
            ClaimRow.patient_control_number == pcn))
        session.execute(update(ClaimRow).where(ClaimRow.id == claim_id).values(**values))
        session.commit()
    return claim_id


def _no_claim_values(text: str, *clps: ClaimPayment) -> None:
    for clp in clps:
        for value in (clp.patient_control_number, clp.payer_claim_control_number,
                      str(clp.charge), str(clp.paid)):
            assert value not in text


def _post(res: Resources, batch: str, delivery: object, remittances: list[Remittance],
          number: int) -> dict:
    assert all(balance_problems(r) == [] for r in remittances)
    _put_835(res, delivery, remittances, number)
    return post_remittances(res, batch, PAYER.payer_id)


@ON_BOTH_DATABASES
def test_every_payment_says_which_rules_matched_it(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=81)
    result = _post(res, batch, delivery, remittances, 800)
    assert result["exceptions"] == 0
    clps = {c.patient_control_number: c for r in remittances for c in r.claims}
    rows = _rows(res)
    for payment in _payments(res):
        clp = clps[next(p for p, r in rows.items() if r.id == payment.claim_id)]
        assert payment.claim_match == "pcn"
        assert payment.line_match == (
            f"6R={len(clp.service_payments)} code+date+charge=0 unmatched=0")
    _books(res)


@ON_BOTH_DATABASES
def test_a_renumbered_clp01_is_matched_by_the_payers_claim_number(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=82)
    _, clp = _pick(remittances)
    ours = clp.patient_control_number
    claim_id = _set(res, ours, payer_claim_control_number=clp.payer_claim_control_number)
    clp.patient_control_number = "PYR8812345"  # the payer's number, not ours

    result = _post(res, batch, delivery, remittances, 810)

    assert (result["exceptions"], result["claims_posted"]) == (
        0, sum(len(r.claims) for r in remittances))
    [payment] = _payments(res, claim_id)
    assert (payment.claim_match, payment.exception, payment.paid) == (
        "payer-claim-number", "", clp.paid)
    assert _rows(res)[ours].status == Status.PAID
    assert _books(res)[claim_id] == 0


@ON_BOTH_DATABASES
def test_two_claims_with_the_payers_claim_number_are_an_exception(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=83)
    _, clp = _pick(remittances)
    other_remittance, other = _pick(remittances, lines=1, paid=False, skip=1)
    _drop(other_remittance, other)  # awaiting payment too
    number = clp.payer_claim_control_number
    first = _set(res, clp.patient_control_number, payer_claim_control_number=number)
    second = _set(res, other.patient_control_number, payer_claim_control_number=number)
    clp.patient_control_number = "PYR8812345"

    result = _post(res, batch, delivery, remittances, 820)

    assert result["exceptions"] == 1
    [exception] = [p for p in _payments(res) if p.exception]
    assert exception.claim_id is None and exception.claim_match == exception.line_match == ""
    assert exception.exception.startswith("Several claims could be this one")
    assert len(exception.exception) < 200
    _no_claim_values(exception.exception, clp, other)
    assert {r.status for r in _rows(res).values() if r.id in (first, second)} == {
        Status.SUBMITTED}
    _books(res)


@ON_BOTH_DATABASES
def test_a_truncated_clp01_is_matched_when_one_claim_has_its_prefix_and_charge(
        res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=84)
    _, clp = _pick(remittances)
    ours = clp.patient_control_number
    # Another claim with the same prefix is left out of the 835: awaiting payment, but
    # its charge is not this CLP's.
    other_remittance, other = next(
        (r, c) for r in remittances for c in r.claims
        if c is not clp and c.charge != clp.charge
        and c.patient_control_number[:len(ours) - 3] == ours[:-3])
    _drop(other_remittance, other)
    clp.patient_control_number = ours[:-3]

    result = _post(res, batch, delivery, remittances, 830)

    assert result["exceptions"] == 0
    claim = _rows(res)[ours]
    [payment] = _payments(res, claim.id)
    assert payment.claim_match == "truncated-pcn" and claim.status == Status.PAID
    assert _rows(res)[other.patient_control_number].status == Status.SUBMITTED
    _books(res)


@ON_BOTH_DATABASES
def test_a_payment_its_reversal_and_a_truncated_correction_in_one_835_all_post(
        res: Resources) -> None:
    """The payer world found it: a payer pays a claim, takes it back and pays it again
    corrected, all in one 835, the correction with CLP01 cut short. The claim an earlier
    CLP names exactly was left out as a candidate, so the correction became an unknown
    claim and the claim stayed REVERSED."""
    batch, delivery, remittances = _sent(res, seed=85)
    remittance, clp = _pick(remittances)
    ours = clp.patient_control_number
    correction = copy.deepcopy(clp)
    correction.patient_control_number = ours[:-3]
    correction.payer_claim_control_number += "01"
    remittance.claims += [_negated(clp), correction]
    remittance.total_paid += correction.paid - clp.paid

    result = _post(res, batch, delivery, remittances, 831)

    assert result["exceptions"] == 0
    claim = _rows(res)[ours]
    assert claim.status == Status.PAID and claim.paid == clp.paid
    assert [p.claim_match for p in _payments(res, claim.id)] == ["pcn", "pcn",
                                                                  "truncated-pcn"]
    _books(res)


@ON_BOTH_DATABASES
def test_a_truncated_clp01_two_claims_could_have_is_an_exception(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=85)
    _, clp = _pick(remittances)
    ours = clp.patient_control_number
    other_remittance, other = next(
        (r, c) for r in remittances for c in r.claims
        if c is not clp and c.patient_control_number[:len(ours) - 3] == ours[:-3])
    _drop(other_remittance, other)
    # The other claim, awaiting payment, has the same prefix and the same charge.
    _set(res, other.patient_control_number, total_charge=clp.charge)
    clp.patient_control_number = ours[:-3]

    result = _post(res, batch, delivery, remittances, 840)

    assert result["exceptions"] == 1
    [exception] = [p for p in _payments(res) if p.exception]
    assert exception.claim_id is None
    assert exception.exception.startswith("Several claims could be this one")
    _no_claim_values(exception.exception, clp, other)
    rows = _rows(res)
    assert (rows[ours].status, rows[other.patient_control_number].status) == (
        Status.SUBMITTED, Status.SUBMITTED)


@ON_BOTH_DATABASES
def test_a_truncated_clp01_with_another_charge_is_not_matched(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=86)
    _, clp = _pick(remittances)
    ours = clp.patient_control_number
    _set(res, ours, total_charge=clp.charge + 1)  # (its books are not checked here)
    clp.patient_control_number = ours[:-3]

    assert _post(res, batch, delivery, remittances, 850)["exceptions"] == 1
    assert _rows(res)[ours].status == Status.SUBMITTED
    assert "no claim" in next(p.exception for p in _payments(res) if p.exception)


@ON_BOTH_DATABASES
def test_svcs_without_ref_6r_or_with_a_changed_code_match_their_lines(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=87)
    _, clp = _pick(remittances, lines=3)
    expected = [s.line_control_number for s in clp.service_payments]
    for service in clp.service_payments:
        service.line_control_number = ""  # missing REF*6R on every SVC
    # The payer changed the first line's code and says what was billed in SVC06.
    changed = clp.service_payments[0]
    changed.original_procedure = ProcedureCode(
        changed.procedure_qualifier, changed.procedure_code, tuple(reversed(changed.modifiers)))
    changed.procedure_code, changed.modifiers = "99499", ()
    # The last line has no date of its own: the claim's date is the line's.
    last = clp.service_payments[-1]
    claim_id = _set(res, clp.patient_control_number, service_date=last.service_date)
    with res.sessions() as session:
        session.execute(update(models.ServiceLine).where(
            models.ServiceLine.claim_id == claim_id,
            models.ServiceLine.line_control_number == expected[-1]).values(service_date=None))
        session.commit()
    key = _put_835(res, delivery, remittances, 860)
    # What posting reads is what was written: the SVC06 travels in the 835.
    [read] = [c for r in _read_835(res.store.get(key)) for c in r.claims
              if c.patient_control_number == clp.patient_control_number]
    assert read.service_payments[0].original_procedure == changed.original_procedure

    result = post_remittances(res, batch, PAYER.payer_id)

    assert result["exceptions"] == 0
    claim = _rows(res)[clp.patient_control_number]
    [payment] = _payments(res, claim.id)
    assert (payment.claim_match, payment.line_match) == (
        "pcn", f"6R=0 code+date+charge={len(expected)} unmatched=0")
    with res.sessions() as session:
        lines = {line.line_control_number: line for line in session.scalars(
            select(models.ServiceLine).where(models.ServiceLine.claim_id == claim.id))}
        numbers = {a.line_number for a in session.scalars(select(models.Adjustment).where(
            models.Adjustment.payment_id == payment.id))}
    # Each SVC's money is on the line it adjudicated, as REF*6R would have put it.
    for control, service in zip(expected, clp.service_payments, strict=True):
        assert lines[control].paid == service.paid
    assert numbers == {lines[c].line_number for c in expected}
    assert not [e for e in _all(res, models.Edit) if e.rule_id == "POST-SVC"]
    _books(res)


@ON_BOTH_DATABASES
def test_an_svc_matching_no_line_is_a_warning_and_its_money_stays_on_the_claim(
        res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=88)
    _, clp = _pick(remittances, lines=2)
    stray = clp.service_payments[1]
    stray.line_control_number, stray.procedure_code = "", "99499"  # no SVC06

    result = _post(res, batch, delivery, remittances, 870)

    assert result["exceptions"] == 0
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PAID and claim.paid == clp.paid
    [payment] = _payments(res, claim.id)
    assert payment.line_match == (
        f"6R={len(clp.service_payments) - 1} code+date+charge=0 unmatched=1")
    [edit] = [e for e in _all(res, models.Edit) if e.claim_id == claim.id]
    assert (edit.rule_id, edit.severity, edit.stage, edit.line_number) == (
        "POST-SVC", "WARNING", "post", None)
    _no_claim_values(edit.message, clp)
    with res.sessions() as session:
        at_claim_level = session.scalars(select(models.Adjustment.amount).where(
            models.Adjustment.payment_id == payment.id,
            models.Adjustment.line_number.is_(None))).all()
        line_paid = sum(session.scalars(select(models.ServiceLine.paid).where(
            models.ServiceLine.claim_id == claim.id)), ZERO)
    assert sorted(at_claim_level) == sorted(a.amount for a in stray.adjustments)
    assert line_paid == clp.paid - stray.paid
    assert _books(res)[claim.id] == 0


def _split(clp: ClaimPayment, first: list[int]) -> tuple[ClaimPayment, ClaimPayment]:
    """The CLP as a payer that split the claim sends it: two CLPs with our CLP01, CLP07s
    base + suffix, the SVCs divided, each CLP's charge the sum of its SVCs."""
    parts = []
    for suffix, keep in (("01", first), ("02", [i for i in range(len(
            clp.service_payments)) if i not in first])):
        part = copy.deepcopy(clp)
        part.service_payments = [part.service_payments[i] for i in keep]
        part.charge = sum((s.charge for s in part.service_payments), ZERO)
        part.paid = sum((s.paid for s in part.service_payments), ZERO)
        part.patient_responsibility = sum(
            (a.amount for s in part.service_payments for a in s.adjustments
             if a.group_code == "PR"), ZERO)
        part.payer_claim_control_number = clp.payer_claim_control_number + suffix
        parts.append(part)
    return parts[0], parts[1]


def _deny(remittance: Remittance, part: ClaimPayment) -> None:
    """The payer denies a whole part (CLP02 4, CO-50 on each line)."""
    remittance.total_paid -= part.paid
    part.status_code, part.paid, part.patient_responsibility = "4", ZERO, ZERO
    for service in part.service_payments:
        service.paid = ZERO
        service.adjustments = [Adjustment("CO", "50", service.charge)]


def _later(remittance: Remittance, trace: str, clps: list[ClaimPayment]) -> Remittance:
    return dataclasses.replace(remittance, trace_number=trace, claims=clps,
                               total_paid=sum((c.paid for c in clps), ZERO),
                               provider_adjustments=[])


def _events(res: Resources, claim_id: int) -> list[tuple[str | None, str]]:
    return [(e.from_status, e.to_status) for e in _all(res, models.ClaimEvent)
            if e.claim_id == claim_id and e.stage == "post"]


@ON_BOTH_DATABASES
def test_a_split_claim_in_one_835_posts_both_parts(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=89)
    remittance, clp = _pick(remittances, lines=3)
    one, two = _split(clp, [0])
    position = remittance.claims.index(clp)
    remittance.claims[position:position + 1] = [one, two]

    result = _post(res, batch, delivery, remittances, 880)

    assert result["exceptions"] == 0
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PAID and claim.paid == clp.paid
    assert claim.patient_responsibility == clp.patient_responsibility
    payments = _payments(res, claim.id)
    assert [(p.claim_match, p.payer_claim_control_number) for p in payments] == [
        ("pcn", one.payer_claim_control_number), ("split-part", two.payer_claim_control_number)]
    assert [p.line_match for p in payments] == [
        "6R=1 code+date+charge=0 unmatched=0",
        f"6R={len(clp.service_payments) - 1} code+date+charge=0 unmatched=0"]
    assert _events(res, claim.id) == [("SUBMITTED", "PAID")]  # the second part changes none
    assert _books(res)[claim.id] == 0


@ON_BOTH_DATABASES
def test_a_split_claim_across_two_835s_stays_open_until_its_last_part(
        res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=90)
    remittance, clp = _pick(remittances, lines=3)
    one, two = _split(clp, [0, 2])
    remittance.claims[remittance.claims.index(clp)] = one
    remittance.total_paid -= two.paid
    for service in two.service_payments:  # and the payer dropped REF*6R on this part
        service.line_control_number = ""

    assert _post(res, batch, delivery, remittances, 890)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PAID and claim.paid == one.paid
    # What the first part did not adjudicate is open A/R, its line unpaid.
    assert _books(res)[claim.id] == two.charge
    with res.sessions() as session:
        lines = dict(session.execute(select(models.ServiceLine.line_number,
                                            models.ServiceLine.paid).where(
            models.ServiceLine.claim_id == claim.id)).all())
    assert lines[2] == 0 and lines[1] + lines[3] == one.paid

    # Not a further part: one that takes the claim past its charge, one with the payer
    # claim number of an earlier part, one that names a line an earlier part adjudicated.
    bloated = copy.deepcopy(two)
    bloated.payer_claim_control_number += "B"
    bloated.charge += 10
    bloated.adjustments = [Adjustment("CO", "45", Decimal(10))]
    renamed = copy.deepcopy(two)
    renamed.payer_claim_control_number = one.payer_claim_control_number
    overlap = copy.deepcopy(two)
    overlap.payer_claim_control_number += "X"
    overlap.service_payments[0].line_control_number = (
        clp.service_payments[0].line_control_number)
    for n, wrong in enumerate((bloated, renamed, overlap)):
        assert _post(res, batch, delivery, [_later(remittance, f"NOTAPART{n}", [wrong])],
                     895 + n)["exceptions"] == 1
    assert _rows(res)[clp.patient_control_number].paid == one.paid

    result = _post(res, batch, delivery, [_later(remittance, "SECONDPART01", [two])], 891)

    assert (result["exceptions"], result["claims_posted"]) == (0, 1)
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PAID and claim.paid == clp.paid
    last = _payments(res, claim.id)[-1]
    assert (last.claim_match, last.line_match) == (
        "split-part", "6R=0 code+date+charge=1 unmatched=0")
    assert _books(res)[claim.id] == 0

    # The same part again is a second payment.
    again = _post(res, batch, delivery, [_later(remittance, "SECONDPART02", [two])], 892)
    assert again["exceptions"] == 1
    texts = [p.exception for p in _payments(res) if p.exception]
    assert len(texts) == 4 and all(t.startswith("Second payment") for t in texts)
    assert _rows(res)[clp.patient_control_number].paid == clp.paid
    _books(res)


@ON_BOTH_DATABASES
def test_a_denied_part_leaves_the_claim_partly_paid(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=91)
    remittance, clp = _pick(remittances, lines=2)
    one, two = _split(clp, [0])
    position = remittance.claims.index(clp)
    remittance.claims[position:position + 1] = [one, two]
    _deny(remittance, two)

    assert _post(res, batch, delivery, remittances, 900)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PARTIALLY_PAID and claim.paid == one.paid
    assert _events(res, claim.id) == [("SUBMITTED", "PAID"), ("PAID", "PARTIALLY_PAID")]
    denials = [e for e in _all(res, models.Edit) if e.claim_id == claim.id]
    assert {e.rule_id for e in denials} == {"CARC-CO-50"}
    assert {e.line_number for e in denials} == set(range(2, len(clp.service_payments) + 1))
    assert _books(res)[claim.id] == 0


@ON_BOTH_DATABASES
def test_all_parts_denied_leave_the_claim_denied(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=92)
    remittance, clp = _pick(remittances, lines=2)
    one, two = _split(clp, [0])
    _deny(remittance, one)
    remittance.claims[remittance.claims.index(clp)] = one
    remittance.total_paid -= two.paid
    assert _post(res, batch, delivery, remittances, 910)["exceptions"] == 0
    _deny(remittance, two)
    assert _post(res, batch, delivery, [_later(remittance, "DENIEDPART02", [two])],
                 911)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.DENIED and claim.paid == 0
    assert _events(res, claim.id) == [("SUBMITTED", "DENIED")]
    assert _books(res)[claim.id] == 0


@ON_BOTH_DATABASES
def test_a_second_payment_of_the_whole_claim_is_still_an_exception(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=93)
    remittance, clp = _pick(remittances)
    assert _post(res, batch, delivery, remittances, 920)["exceptions"] == 0
    # Paid again under another payer claim number: more than the claim's charge.
    again = copy.deepcopy(clp)
    again.payer_claim_control_number += "R"
    result = _post(res, batch, delivery, [_later(remittance, "PAIDAGAIN001", [again])], 921)

    assert result["exceptions"] == 1
    [exception] = [p for p in _payments(res) if p.exception]
    assert exception.exception.startswith("Second payment")
    assert (exception.claim_match, exception.line_match) == ("", "")
    assert _rows(res)[clp.patient_control_number].paid == clp.paid
    _books(res)


@ON_BOTH_DATABASES
def test_a_biller_posting_by_hand_is_recorded_as_such(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=94)
    _, clp = _pick(remittances)
    ours = clp.patient_control_number
    clp.patient_control_number = "NOTOURSX1"
    for service in clp.service_payments:
        service.line_control_number = ""
    assert _post(res, batch, delivery, remittances, 930)["exceptions"] == 1
    with res.sessions() as session:
        [row] = exceptions(session)
    claim = _rows(res)[ours]

    post_by_hand(res, row["payment_id"], claim.id, "ana")

    posted = _payments(res, claim.id)[-1]
    assert (posted.claim_match, posted.posted_by, posted.exception) == ("by-hand", "ana", "")
    assert posted.line_match == (
        f"6R=0 code+date+charge={len(clp.service_payments)} unmatched=0")
    assert _rows(res)[ours].status in ADJUDICATED
    assert _books(res)[claim.id] == 0
