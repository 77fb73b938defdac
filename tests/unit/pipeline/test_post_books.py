"""Which ledger account each adjusted amount goes to, and what CLP02 means for posting
(issue #13, posting part).

Denials stay receivable (``AR_DENIED``) until worked, a crossover's patient share is owed
by the next payer (``AR_NEXT_PAYER``), contractual and patient amounts do not make a claim
partly paid, and CLP02 codes 2/3, 19-21, 23 and 25 and the group code CR are posted as
the TR3 says. Each 835 is the simulated payer's answer to the claims we sent, changed the
way a payer changes it; every test checks, for every claim, that its receivables (the
accounts starting with ``AR``) are charge - paid - adjusted - patient responsibility."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from revcycle.db import models
from revcycle.model.remittance import Adjustment, ClaimPayment, Entity, Remittance
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.queues import exceptions, post_by_hand
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from tests.unit.pipeline.conftest import BOTH_DATABASES
from tests.unit.pipeline.test_acks_post import PAYER, _all, _negated, _put_835, _rows
from tests.unit.pipeline.test_post_matching import _pick, _post, _sent, _set

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

ZERO = Decimal(0)
RECEIVABLES = ("AR", "AR_DENIED", "AR_NEXT_PAYER")


def _ledger(res: Resources) -> dict[int | None, Counter]:
    """Each claim's accounts, after checking the books: double entry per claim, and every
    claim's receivables are what its row says is still owed by a payer."""
    accounts: dict[int | None, Counter] = defaultdict(Counter)
    for entry in _all(res, models.LedgerEntry):
        accounts[entry.claim_id][entry.account] += entry.amount
    assert sum(sum(a.values()) for a in accounts.values()) == 0
    for row in _rows(res).values():
        books = accounts[row.id]
        assert sum(books.values()) == 0
        receivable = sum((v for k, v in books.items() if k.startswith("AR")), ZERO)
        assert receivable == (row.total_charge - row.paid - row.adjusted
                              - row.patient_responsibility)
        assert books["CASH"] == row.paid
    return accounts


def _books(accounts: Counter) -> dict[str, Decimal]:
    return {k: v for k, v in accounts.items() if v and k not in ("REVENUE",)}


def _edits(res: Resources, claim_id: int) -> list[models.Edit]:
    return [e for e in _all(res, models.Edit) if e.claim_id == claim_id]


def _cut(remittance: Remittance, clp: ClaimPayment, line: int, group: str, reason: str,
         amount: Decimal) -> None:
    """The payer pays ``amount`` less on a line and says why (``group``-``reason``)."""
    service = clp.service_payments[line]
    service.paid -= amount
    service.adjustments.append(Adjustment(group, reason, amount))
    clp.paid -= amount
    remittance.total_paid -= amount


def _deny_line(remittance: Remittance, clp: ClaimPayment, line: int, group: str = "CO",
               reason: str = "97") -> Decimal:
    """The payer denies one line: nothing paid on it, its whole charge ``group``-``reason``.
    Returns the line's charge."""
    service = clp.service_payments[line]
    patient = sum((a.amount for a in service.adjustments if a.group_code == "PR"), ZERO)
    clp.paid -= service.paid
    remittance.total_paid -= service.paid
    clp.patient_responsibility = (clp.patient_responsibility or ZERO) - patient
    service.paid = ZERO
    service.adjustments = [Adjustment(group, reason, service.charge)]
    return service.charge


def _deny(remittance: Remittance, clp: ClaimPayment, reason: str = "50") -> None:
    """The payer denies the whole claim (CLP02 4, ``CO-reason`` on every line)."""
    for line in range(len(clp.service_payments)):
        _deny_line(remittance, clp, line, reason=reason)
    clp.status_code, clp.patient_responsibility = "4", ZERO


def _patient_share(clp: ClaimPayment) -> Decimal:
    return sum((a.amount for s in clp.service_payments for a in s.adjustments
                if a.group_code == "PR"), ZERO) + sum(
        (a.amount for a in clp.adjustments if a.group_code == "PR"), ZERO)


def _contractual(clp: ClaimPayment) -> Decimal:
    return sum((a.amount for s in clp.service_payments for a in s.adjustments
                if a.group_code == "CO"), ZERO)


def _later(remittance: Remittance, trace: str, clps: list[ClaimPayment]) -> Remittance:
    return dataclasses.replace(remittance, trace_number=trace, claims=clps,
                               total_paid=sum((c.paid for c in clps), ZERO),
                               provider_adjustments=[])


# --- 1. denials stay open until worked -------------------------------------------------


def test_a_denied_claim_stays_receivable_in_ar_denied(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=101)
    remittance, clp = _pick(remittances, lines=2)
    _deny(remittance, clp)

    assert _post(res, batch, delivery, remittances, 1010)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.DENIED
    assert (claim.paid, claim.adjusted, claim.patient_responsibility) == (ZERO, ZERO, ZERO)
    assert _books(_ledger(res)[claim.id]) == {"AR_DENIED": claim.total_charge}
    assert {e.rule_id for e in _edits(res, claim.id)} == {"CARC-CO-50"}


def test_a_denied_line_stays_receivable_and_the_rest_is_adjusted(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=102)
    remittance, clp = _pick(remittances, lines=2)
    denied = _deny_line(remittance, clp, 1, reason="16")

    assert _post(res, batch, delivery, remittances, 1020)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PARTIALLY_PAID and claim.paid == clp.paid
    assert claim.adjusted == _contractual(clp) - denied
    assert claim.patient_responsibility == _patient_share(clp)
    books = _ledger(res)[claim.id]
    assert books["AR"] == 0 and books["AR_DENIED"] == denied
    assert books["CONTRACTUAL"] == claim.adjusted
    assert books["PATIENT_AR"] == claim.patient_responsibility


def test_a_reversed_denial_leaves_ar_denied(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=103)
    remittance, clp = _pick(remittances, lines=2)
    denied = _deny_line(remittance, clp, 0, reason="197")
    assert _post(res, batch, delivery, remittances, 1030)["exceptions"] == 0
    claim_id = _rows(res)[clp.patient_control_number].id
    assert _ledger(res)[claim_id]["AR_DENIED"] == denied

    result = _post(res, batch, delivery, [_later(remittance, "REVERSEDENIAL1",
                                                  [_negated(clp)])], 1031)

    assert result["reversals"] == 1
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.REVERSED
    assert (claim.paid, claim.adjusted, claim.patient_responsibility) == (ZERO, ZERO, ZERO)
    assert _books(_ledger(res)[claim.id]) == {"AR": claim.total_charge}


# --- 2. paid or partly paid from the classification ------------------------------------


def test_sequestration_on_a_normal_payment_leaves_it_paid(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=104)
    remittance, clp = _pick(remittances, lines=1)
    _cut(remittance, clp, 0, "CO", "253", Decimal("1.25"))

    result = _post(res, batch, delivery, remittances, 1040)

    assert result["exceptions"] == 0
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PAID
    assert claim.adjusted == _contractual(clp)
    assert not _edits(res, claim.id)
    books = _ledger(res)[claim.id]
    assert books["AR"] == books["AR_DENIED"] == 0
    assert books["CONTRACTUAL"] == claim.adjusted


def test_a_claim_level_denial_on_a_partly_paid_claim_is_worked(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=105)
    remittance, clp = _pick(remittances, lines=2)
    cut = Decimal("10.00")
    clp.adjustments.append(Adjustment("CO", "16", cut))
    clp.paid -= cut
    remittance.total_paid -= cut

    assert _post(res, batch, delivery, remittances, 1050)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PARTIALLY_PAID
    [edit] = _edits(res, claim.id)
    assert (edit.rule_id, edit.line_number, edit.severity) == ("CARC-CO-16", None, "ERROR")
    assert _ledger(res)[claim.id]["AR_DENIED"] == cut


# --- 3. CLP02 as the TR3 says ------------------------------------------------------------


def test_processed_as_secondary_on_a_claim_sent_as_primary_is_a_cob_warning(
        res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=113)
    (_, primary), (_, secondary) = _pick(remittances), _pick(remittances, skip=1)
    _set(res, primary.patient_control_number, payer_responsibility="P")
    _set(res, secondary.patient_control_number, payer_responsibility="S")
    primary.status_code = secondary.status_code = "2"

    assert _post(res, batch, delivery, remittances, 1060)["exceptions"] == 0

    rows = _rows(res)
    cob = _edits(res, rows[primary.patient_control_number].id)
    assert [(e.rule_id, e.severity) for e in cob] == [("POST-COB", "WARNING")]
    assert primary.patient_control_number not in cob[0].message
    assert not _edits(res, rows[secondary.patient_control_number].id)
    assert rows[primary.patient_control_number].status == Status.PAID
    _ledger(res)


def test_a_crossover_leaves_the_patient_share_to_the_next_payer(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=107)
    clp = next(c for r in remittances for c in r.claims
               if c.status_code == "1" and c.service_payments and _patient_share(c) > 0)
    clp.status_code = "19"
    clp.crossover_carrier = Entity("2", "SYNTHETIC MEDIGAP PLAN", id_qualifier="PI",
                                   id="SYNMG01")

    assert _post(res, batch, delivery, remittances, 1070)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PAID and claim.patient_responsibility == 0
    books = _ledger(res)[claim.id]
    assert books["AR_NEXT_PAYER"] == _patient_share(clp) and books["PATIENT_AR"] == 0
    [payment] = [p for p in _all(res, models.Payment) if p.claim_id == claim.id]
    assert (payment.crossover_payer_id, payment.crossover_payer_name) == (
        "SYNMG01", "SYNTHETIC MEDIGAP PLAN")


def test_not_our_claim_is_an_exception_and_its_money_unapplied(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=108)
    _, clp = _pick(remittances)
    clp.status_code = "23"

    result = _post(res, batch, delivery, remittances, 1080)

    assert result["exceptions"] == 1
    [payment] = [p for p in _all(res, models.Payment) if p.exception]
    assert "CLP02 23" in payment.exception and payment.claim_match == ""
    assert _rows(res)[clp.patient_control_number].status == Status.SUBMITTED
    books = _ledger(res)
    assert books[None]["UNAPPLIED_CASH"] == -clp.paid


def test_a_predetermination_is_recorded_never_posted(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=109)
    remittance, clp = _pick(remittances)
    clp.status_code = "25"  # what the payer would pay: no money moves
    remittance.total_paid -= clp.paid
    _put_835(res, delivery, remittances, 1090)

    result = post_remittances(res, batch, PAYER.payer_id)

    assert (result["held"], result["exceptions"]) == (0, 0)
    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.SUBMITTED and claim.paid == 0
    [payment] = [p for p in _all(res, models.Payment) if p.claim_id == claim.id]
    assert payment.claim_match == "pcn" and payment.exception == ""
    assert "predetermination" in payment.note.lower()
    assert _books(_ledger(res)[claim.id]) == {"AR": claim.total_charge}
    assert [(e.rule_id, e.severity) for e in _edits(res, claim.id)] == [
        ("POST-PREDETERMINATION", "WARNING")]
    assert {r.status for r in _all(res, models.Remittance)} == {"POSTED"}


def test_a_predetermination_matched_by_hand_moves_no_cash(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=117)
    remittance, clp = _pick(remittances)
    ours = clp.patient_control_number
    clp.status_code, clp.patient_control_number = "25", "NOTOURSX2"
    remittance.total_paid -= clp.paid
    _put_835(res, delivery, remittances, 1095)
    assert post_remittances(res, batch, PAYER.payer_id)["exceptions"] == 1
    assert "UNAPPLIED_CASH" not in _ledger(res)[None]  # no money came for it
    with res.sessions() as session:
        [row] = exceptions(session)
    claim = _rows(res)[ours]

    post_by_hand(res, row["payment_id"], claim.id, "ana")

    assert _rows(res)[ours].status == Status.SUBMITTED
    books = _ledger(res)
    assert "UNAPPLIED_CASH" not in books[None]
    assert _books(books[claim.id]) == {"AR": claim.total_charge}
    [payment] = [p for p in _all(res, models.Payment) if p.claim_id == claim.id]
    assert payment.posted_by == "ana" and "predetermination" in payment.note.lower()


def test_group_code_cr_is_posted_with_an_exception_edit_as_a_denial(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=110)
    remittance, clp = _pick(remittances, lines=2)
    cut = Decimal("3.00")
    _cut(remittance, clp, 0, "CR", "45", cut)

    assert _post(res, batch, delivery, remittances, 1100)["exceptions"] == 0

    claim = _rows(res)[clp.patient_control_number]
    assert claim.status == Status.PARTIALLY_PAID
    assert "POST-CR" in {e.rule_id for e in _edits(res, claim.id)}
    assert next(e for e in _edits(res, claim.id) if e.rule_id == "POST-CR").severity == "ERROR"
    assert _ledger(res)[claim.id]["AR_DENIED"] == cut


# --- 4. amounts with more than two decimals -------------------------------------------


def test_an_835_with_amounts_past_the_cent_is_held(res: Resources) -> None:
    batch, delivery, remittances = _sent(res, seed=111)
    remittance, clp = _pick(remittances, lines=2)
    precise = copy.deepcopy(remittance)
    held_clp = next(c for c in precise.claims
                    if c.patient_control_number == clp.patient_control_number)
    # Balanced, but a tenth of a cent moves from one line to another.
    for service, shift in zip(held_clp.service_payments, (1, -1), strict=False):
        service.paid += shift * Decimal("0.001")
        service.adjustments.append(Adjustment("CO", "45", -shift * Decimal("0.001")))
    precise.claims = [held_clp]
    precise.total_paid = held_clp.paid
    precise.provider_adjustments = []
    precise.trace_number = "PRECISE00001"

    result = _post(res, batch, delivery, [precise], 1110)

    assert (result["held"], result["claims_posted"]) == (1, 0)
    [held] = _all(res, models.Remittance)
    assert held.status == "HELD" and held.reason["precision"]
    assert "0.001" not in str(held.reason)
    assert _rows(res)[clp.patient_control_number].status == Status.SUBMITTED
    _ledger(res)


def test_the_accounts_doctests_run_and_pass(res: Resources) -> None:
    import doctest

    from revcycle.pipeline import accounts

    result = doctest.testmod(accounts)
    assert result.attempted and not result.failed
