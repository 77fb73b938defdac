"""Provider-level adjustments (PLB) by reason, the PLB queue, and credit balances (#13).

Synthetic claims only (the simulated payer's); amounts are checked per ledger account, and
every remittance's CASH entries against its BPR02 (signed: a BPR03 D remittance is stored
negative)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from revcycle.channels import Delivery
from revcycle.db import models
from revcycle.model.remittance import ProviderAdjustment, Remittance, balance_problems
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from tests.unit.pipeline.conftest import BOTH_DATABASES, run_cli
from tests.unit.pipeline.test_acks_post import (
    PAYER,
    TENANT,
    _all,
    _payer_remittances,
    _put_835,
    _rows,
    _submitted,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

PAID_ON = date(2026, 11, 20)


def _paid(data: bytes) -> list[Remittance]:
    """The simulated payer's remittances for ``data``, without the PLBs it may add (each
    test adds its own)."""
    remittances = _payer_remittances(data)
    for remittance in remittances:
        remittance.provider_adjustments = []
        remittance.total_paid = sum((c.paid for c in remittance.claims), Decimal(0))
        remittance.credit_debit_flag, remittance.handling_code = "C", "I"
        if remittance.payment_method == "NON":
            remittance.payment_method = "CHK"
        assert balance_problems(remittance) == []
    return remittances


def _posted(res: Resources, seed: int) -> tuple[str, Delivery, Remittance]:
    """Claims submitted and their first 835 posted; the 835's first remittance is the
    template of the later ones."""
    batch, [(delivery, data)] = _submitted(res, seed=seed)
    remittances = _paid(data)
    _put_835(res, delivery, remittances, 800)
    assert post_remittances(res, batch, PAYER.payer_id)["held"] == 0
    return batch, delivery, remittances[0]


def _plb_only(template: Remittance, trace: str, on: date,
              *plbs: tuple[str, str, str]) -> Remittance:
    """A later remittance of the same payer to the same payee with no claim, only PLBs
    (reason, reference, amount): BPR02 is minus their sum (BPR03 D when they take)."""
    remittance = copy.deepcopy(template)
    remittance.claims = []
    remittance.provider_adjustments = [
        ProviderAdjustment(template.payee.id, date(on.year, 12, 31), reason, Decimal(amount),
                           reference) for reason, reference, amount in plbs]
    total = -sum((p.amount for p in remittance.provider_adjustments), Decimal(0))
    remittance.total_paid, remittance.credit_debit_flag = abs(total), "D" if total < 0 else "C"
    remittance.handling_code = "I" if total else "H"
    remittance.payment_method = "CHK" if total else "NON"
    remittance.trace_number, remittance.payment_date = trace, on
    assert balance_problems(remittance) == []
    return remittance


def _post(res: Resources, batch: str, delivery: Delivery, number: int,
          *remittances: Remittance) -> None:
    _put_835(res, delivery, list(remittances), number)
    assert post_remittances(res, batch, PAYER.payer_id)["held"] == 0


def _remittance_row(res: Resources, trace: str) -> models.Remittance:
    return next(r for r in _all(res, models.Remittance) if r.trace_number == trace)


def _entries(res: Resources, remittance_id: int) -> list[models.LedgerEntry]:
    return [e for e in _all(res, models.LedgerEntry) if e.remittance_id == remittance_id]


def _by_account(entries: list[models.LedgerEntry]) -> dict[tuple[int | None, str], Decimal]:
    totals: Counter = Counter()
    for entry in entries:
        totals[entry.claim_id, entry.account] += entry.amount
    return {key: amount for key, amount in totals.items() if amount}


def _claim_balance(res: Resources, claim_id: int, prefix: str = "AR") -> Decimal:
    return sum((e.amount for e in _all(res, models.LedgerEntry)
                if e.claim_id == claim_id and e.account.startswith(prefix)), Decimal(0))


def _cash_is_bpr02(res: Resources) -> None:
    for row in _all(res, models.Remittance):
        if row.status == "POSTED":
            assert sum((e.amount for e in _entries(res, row.id) if e.account == "CASH"),
                       Decimal(0)) == row.total_paid


def _a_paid_claim(res: Resources) -> models.Claim:
    return next(c for c in _rows(res).values()
                if c.status == Status.PAID and c.paid > 20 and c.payer_claim_control_number)


def _plb_queue(res: Resources, **kwargs: object) -> list[dict]:
    from revcycle.pipeline.plb import plb_queue

    with res.sessions() as session:
        return plb_queue(session, **kwargs)


# --- 1. WO naming a claim ---------------------------------------------------------------


@pytest.mark.parametrize("named_by", ["payer_claim_control_number", "patient_control_number"])
def test_a_wo_naming_a_claim_recovers_that_claims_payment(res: Resources,
                                                         named_by: str) -> None:
    batch, delivery, template = _posted(res, seed=131)
    claim = _a_paid_claim(res)
    ar_before = _claim_balance(res, claim.id)
    reference = getattr(claim, named_by)
    later = _plb_only(template, "RECOUP-T1", PAID_ON, ("WO", reference, "12.50"))

    _post(res, batch, delivery, 801, later)

    after = _rows(res)[claim.patient_control_number]
    assert after.paid == claim.paid - Decimal("12.50")
    assert after.status == Status.PAID  # adjudicated as it was; its recovered part is A/R
    assert _claim_balance(res, claim.id) == ar_before + Decimal("12.50")
    row = _remittance_row(res, "RECOUP-T1")
    assert row.total_paid == Decimal("-12.50")  # BPR03 D: the payer took money back
    assert _by_account(_entries(res, row.id)) == {(claim.id, "AR"): Decimal("12.50"),
                                                 (claim.id, "CASH"): Decimal("-12.50")}
    edits = [e for e in _all(res, models.Edit) if e.claim_id == claim.id
             and e.rule_id == "PLB-WO"]
    assert len(edits) == 1
    message = edits[0].message
    assert "$12.50" in message and "RECOUP-T1" in message
    assert claim.patient_control_number not in message
    assert claim.payer_claim_control_number not in message
    assert _plb_queue(res) == []  # applied to its claim: nothing for a biller to place
    [recorded] = _all(res, models.ProviderLevelAdjustment)
    assert (recorded.reason_code, recorded.claim_id, recorded.queued) == ("WO", claim.id,
                                                                         False)
    _cash_is_bpr02(res)


def test_a_wo_in_the_same_835_as_the_claims_payment_recovers_from_it(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=132)
    remittances = _paid(data)
    remittance = remittances[0]
    clp = next(c for c in remittance.claims if c.paid > 20 and c.status_code == "1")
    remittance.provider_adjustments.append(ProviderAdjustment(
        remittance.payee.id, date(2026, 12, 31), "WO", Decimal("5.00"),
        clp.payer_claim_control_number))
    remittance.total_paid -= Decimal("5.00")
    _post(res, batch, delivery, 802, *remittances)

    claim = _rows(res)[clp.patient_control_number]
    assert claim.paid == clp.paid - Decimal("5.00")
    assert _claim_balance(res, claim.id) == Decimal("5.00")
    _cash_is_bpr02(res)


def test_a_wo_naming_no_claim_stays_provider_level_in_the_plb_queue(res: Resources) -> None:
    batch, delivery, template = _posted(res, seed=133)
    paid_before = {c.id: c.paid for c in _rows(res).values()}
    later = _plb_only(template, "RECOUP-T2", PAID_ON, ("WO", "NOSUCHCLAIM01", "7.25"))

    _post(res, batch, delivery, 803, later)

    row = _remittance_row(res, "RECOUP-T2")
    assert _by_account(_entries(res, row.id)) == {(None, "PROVIDER_ADJUSTMENT"): Decimal("7.25"),
                                                 (None, "CASH"): Decimal("-7.25")}
    assert {c.id: c.paid for c in _rows(res).values()} == paid_before
    [item] = _plb_queue(res)
    assert item["reason_code"] == "WO" and item["amount"] == "7.25"
    assert item["trace_number"] == "RECOUP-T2" and item["position"] == 0
    assert "NOSUCHCLAIM01" not in json.dumps(item)  # the biller opens the 835 at its key
    assert item["file"] == _all(res, models.File)[-1].key
    assert item["tenant"] == TENANT and item["payer"] == PAYER.payer_id
    assert "no claim" in item["reason"].lower()
    _cash_is_bpr02(res)


def test_a_wo_naming_two_claims_is_queued_not_guessed(res: Resources) -> None:
    batch, delivery, template = _posted(res, seed=134)
    first, second = [c for c in _rows(res).values() if c.status == Status.PAID][:2]
    with res.sessions() as session:  # the payer reused its number (synthetic)
        session.get_one(models.Claim, second.id).payer_claim_control_number = (
            first.payer_claim_control_number)
        session.commit()
    later = _plb_only(template, "RECOUP-T3", PAID_ON,
                      ("WO", first.payer_claim_control_number, "3.00"))

    _post(res, batch, delivery, 804, later)

    [item] = _plb_queue(res)
    assert "several" in item["reason"].lower()
    assert _rows(res)[first.patient_control_number].paid == first.paid


# --- 2. L6 interest; 3. FB forwarding balance -----------------------------------------


def test_l6_interest_is_interest_income(res: Resources) -> None:
    batch, [(delivery, data)] = _submitted(res, seed=135)
    remittances = _paid(data)
    remittance = remittances[0]
    remittance.provider_adjustments.append(ProviderAdjustment(
        remittance.payee.id, date(2026, 12, 31), "L6", Decimal("-3.21"),
        remittance.claims[0].payer_claim_control_number))
    remittance.total_paid += Decimal("3.21")  # paid to us with the claims
    _post(res, batch, delivery, 805, *remittances)

    row = _remittance_row(res, remittance.trace_number)
    provider_level = _by_account([e for e in _entries(res, row.id) if e.claim_id is None])
    assert provider_level == {(None, "CASH"): Decimal("3.21"),
                              (None, "INTEREST_INCOME"): Decimal("-3.21")}
    assert _plb_queue(res) == []
    _cash_is_bpr02(res)


def test_a_forward_balance_is_owed_until_a_later_fb_settles_it(res: Resources) -> None:
    """As the payer simulator writes it: a WO larger than the payment takes all of it and
    a negative FB carries the rest to a later remittance, where a positive FB takes it."""
    batch, [(delivery, data)] = _submitted(res, seed=136)
    remittances = _paid(data)
    remittance = remittances[0]
    total, forward = remittance.total_paid, Decimal("30.00")
    period = date(2026, 12, 31)
    remittance.provider_adjustments += [
        ProviderAdjustment(remittance.payee.id, period, "WO", total + forward, "OLDICN0001"),
        ProviderAdjustment(remittance.payee.id, period, "FB", -forward, "OLDICN0001")]
    remittance.total_paid, remittance.handling_code, remittance.payment_method = (
        Decimal(0), "H", "NON")
    assert balance_problems(remittance) == []
    _post(res, batch, delivery, 806, *remittances)

    def forward_balance() -> Decimal:
        return sum((e.amount for e in _all(res, models.LedgerEntry)
                    if e.account == "FORWARD_BALANCE"), Decimal(0))

    first = _remittance_row(res, remittance.trace_number)
    assert _by_account([e for e in _entries(res, first.id) if e.claim_id is None]) == {
        (None, "PROVIDER_ADJUSTMENT"): total + forward,  # the WO names no claim of ours
        (None, "CASH"): -total,
        (None, "FORWARD_BALANCE"): -forward}
    assert forward_balance() == -forward  # a credit: owed back to the payer

    settle = _plb_only(remittance, "FB-SETTLE", PAID_ON, ("FB", "OLDICN0001", "30.00"))
    _post(res, batch, delivery, 807, settle)

    second = _remittance_row(res, "FB-SETTLE")
    assert second.total_paid == Decimal("-30.00")
    assert _by_account(_entries(res, second.id)) == {(None, "FORWARD_BALANCE"): forward,
                                                    (None, "CASH"): -forward}
    assert forward_balance() == 0
    assert [i["reason_code"] for i in _plb_queue(res)] == ["WO"]  # the FBs are not queued
    _cash_is_bpr02(res)


# --- 4. every other reason: the PLB queue ---------------------------------------------


def test_other_plb_reasons_are_queued_and_resolved_by_a_biller(res: Resources) -> None:
    batch, delivery, template = _posted(res, seed=137)
    later = _plb_only(template, "OTHER-T1", PAID_ON, ("CS", "ADJ77", "4.00"),
                      ("J1", "", "-1.50"))

    _post(res, batch, delivery, 808, later)

    row = _remittance_row(res, "OTHER-T1")
    assert _by_account(_entries(res, row.id)) == {(None, "PROVIDER_ADJUSTMENT"): Decimal("2.50"),
                                                 (None, "CASH"): Decimal("-2.50")}
    queue = _plb_queue(res)
    assert [(i["reason_code"], i["amount"]) for i in queue] == [("CS", "4.00"), ("J1", "-1.50")]
    assert _plb_queue(res, tenant="someone-else") == []

    from revcycle.pipeline.plb import resolve_plb
    from revcycle.pipeline.queues import QueueError

    with res.sessions() as session:
        with pytest.raises(QueueError):
            resolve_plb(session, queue[0]["plb_id"], "done", "pat", tenant="someone-else")
        done = resolve_plb(session, queue[0]["plb_id"], "capitation adjustment, agreed",
                           "pat", at=datetime(2026, 11, 21, 9))
        session.commit()
    assert done["resolved_by"] == "pat"
    assert [i["reason_code"] for i in _plb_queue(res)] == ["J1"]
    resolved = _plb_queue(res, include_resolved=True)
    assert resolved[0]["resolution"] == "capitation adjustment, agreed"
    with res.sessions() as session, pytest.raises(QueueError):
        resolve_plb(session, queue[0]["plb_id"], "again", "pat")
    _cash_is_bpr02(res)


def test_the_plb_queue_on_the_command_line(res: Resources,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    batch, delivery, template = _posted(res, seed=138)
    _post(res, batch, delivery, 809,
          _plb_only(template, "OTHER-T2", PAID_ON, ("CS", "ADJ78", "4.00")))

    listed = run_cli(res, monkeypatch, "queue", "plb", "--tenant", TENANT, "--json")
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.output)["plb"]
    assert item["reason_code"] == "CS"
    table = run_cli(res, monkeypatch, "queue", "plb")
    assert table.exit_code == 0 and "CS" in table.output

    resolved = run_cli(res, monkeypatch, "queue", "plb-resolve", str(item["plb_id"]),
                       "--note", "recorded", "--by", "pat")
    assert resolved.exit_code == 0, resolved.output
    again = run_cli(res, monkeypatch, "queue", "plb-resolve", str(item["plb_id"]),
                    "--note", "recorded", "--by", "pat")
    assert again.exit_code != 0
    assert json.loads(run_cli(res, monkeypatch, "queue", "plb", "--json").output)["plb"] == []


# --- 5. credit balances ---------------------------------------------------------------


def test_a_credit_balance_is_listed_with_its_age_until_refunded(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recoupment the payer reversed twice leaves the claim paid more than it owes."""
    batch, delivery, template = _posted(res, seed=139)
    claim = _a_paid_claim(res)
    number = claim.payer_claim_control_number
    ar_before = _claim_balance(res, claim.id)
    days = [PAID_ON, PAID_ON + timedelta(days=7), PAID_ON + timedelta(days=14)]
    for n, (day, amount) in enumerate(zip(days, ("5.00", "-5.00", "-5.00"), strict=True)):
        _post(res, batch, delivery, 810 + n,
              _plb_only(template, f"CREDIT-T{n}", day, ("WO", number, amount)))

    assert _claim_balance(res, claim.id) == ar_before - Decimal("5.00")
    assert _rows(res)[claim.patient_control_number].paid == claim.paid + Decimal("5.00")

    from revcycle.pipeline.refunds import credit_balances

    identified = days[2]
    with res.sessions() as session:
        early = credit_balances(session, identified + timedelta(days=10), [TENANT])
        late = credit_balances(session, identified + timedelta(days=61), None)
        before = credit_balances(session, days[1], [TENANT])
        other = credit_balances(session, identified, ["someone-else"])
    assert ar_before == 0  # adjudicated: settled, so the claim is now a credit of $5
    assert [(c["claim_id"], c["amount"], c["identified"], c["age_days"], c["overdue"])
            for c in early] == [(claim.id, "5.00", identified.isoformat(), 10, False)]
    assert [(c["age_days"], c["overdue"]) for c in late] == [(61, True)]
    assert late[0]["refund_due_by"] == (identified + timedelta(days=60)).isoformat()
    assert before == [] and other == []

    listed = run_cli(res, monkeypatch, "queue", "refunds", "--tenant", TENANT, "--json",
                     "--as-of", (identified + timedelta(days=61)).isoformat())
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["refunds"] == late
    _cash_is_bpr02(res)


def test_a_credit_balance_on_any_payer_receivable_counts(res: Resources) -> None:
    """AR, AR_DENIED and AR_NEXT_PAYER are all the payers' receivables: their sum is what
    says credit (a duplicate payment posted by hand, say)."""
    from revcycle.pipeline.refunds import credit_balances

    _posted(res, seed=140)
    claim = _a_paid_claim(res)
    owed = _claim_balance(res, claim.id)
    with res.sessions() as session:
        for account, amount in (("AR_DENIED", Decimal("2.00")), ("AR", -owed - Decimal(9))):
            session.add_all([
                models.LedgerEntry(tenant_id=TENANT, claim_id=claim.id, account=account,
                                   amount=amount, entry_date=PAID_ON, memo="by hand"),
                models.LedgerEntry(tenant_id=TENANT, claim_id=claim.id, account="CASH",
                                   amount=-amount, entry_date=PAID_ON, memo="by hand")])
        session.commit()
        [credit] = credit_balances(session, PAID_ON, [TENANT])
    assert owed == 0
    assert (credit["claim_id"], credit["amount"], credit["age_days"]) == (claim.id, "7.00", 0)
