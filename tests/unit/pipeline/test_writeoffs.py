"""Write-offs and what A/R aging shows of denials, write-offs and credit balances."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from revcycle.db import models
from revcycle.pipeline.aging import ar_aging
from revcycle.pipeline.reconcile import check_books
from revcycle.pipeline.report import build_day_report
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.writeoffs import WriteOffError, write_off
from revcycle.reporting.tables import markdown
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, run_cli
from tests.unit.pipeline.test_acks_post import TENANT, _rows, _submitted

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
CENT = Decimal("0.01")


def _book(res: Resources, claim_id: int, pairs: list[tuple[str, str, str]],
          on: date = DAY) -> None:
    """Balanced entries on a claim: (debit account, credit account, amount)."""
    with res.sessions() as session:
        for debit, credit, amount in pairs:
            for account, sign in ((debit, 1), (credit, -1)):
                session.add(models.LedgerEntry(tenant_id=TENANT, claim_id=claim_id,
                                               account=account, entry_date=on,
                                               amount=sign * Decimal(amount), memo="test"))
        session.commit()


def _denied(res: Resources, claim_id: int, reasons: dict[tuple[str, str], str]) -> None:
    """A posted payment of the claim carrying these denial adjustments, and the denied
    money moved from AR to AR_DENIED, as posting books a denial."""
    with res.sessions() as session:
        remittance = models.Remittance(tenant_id=TENANT, payer_id="SIMC1", file_id=_file(
            session), trace_number=f"T{claim_id}", total_paid=Decimal(0), status="POSTED")
        session.add(remittance)
        session.flush()
        payment = models.Payment(remittance_id=remittance.id, claim_id=claim_id, clp_index=0,
                                 claim_status_code="4", charge=Decimal(0), paid=Decimal(0),
                                 patient_responsibility=Decimal(0))
        session.add(payment)
        session.flush()
        for (group, code), amount in reasons.items():
            session.add(models.Adjustment(payment_id=payment.id, group_code=group,
                                          reason_code=code, amount=Decimal(amount)))
        session.commit()
    total = sum((Decimal(a) for a in reasons.values()), Decimal(0))
    _book(res, claim_id, [("AR_DENIED", "AR", str(total))])
    with res.sessions() as session:
        session.get_one(models.Claim, claim_id).status = "DENIED"
        session.commit()


def _file(session: object) -> int:
    return session.scalar(select(func.min(models.File.id)))


def _claims(res: Resources) -> list[models.Claim]:
    _submitted(res, n=6, seed=61)
    return sorted(_rows(res).values(), key=lambda r: r.id)


def test_a_denial_stays_in_work_until_written_off_with_a_reason(res: Resources) -> None:
    first, second, *_ = _claims(res)
    _denied(res, first.id, {("CO", "16"): "60.00", ("CO", "197"): "40.00"})
    _denied(res, second.id, {("CO", "29"): str(second.total_charge)})

    with res.sessions() as session:
        aging = ar_aging(session, DAY, TENANT)
    work = aging["denied_in_work"]
    assert (work["claims"], Decimal(work["amount"])) == (2, 100 + second.total_charge)
    assert work["by_reason"] == {"CO-16": {"claims": 1, "amount": "60.00"},
                                 "CO-197": {"claims": 1, "amount": "40.00"}}
    assert work["timely_filing"] == {"claims": 1, "amount": str(second.total_charge)}
    assert Decimal(aging["by_account"]["AR_DENIED"]) == 100 + second.total_charge

    with res.sessions() as session:
        done = write_off(session, first.id, "no_authorization", "auth never obtained",
                         "A. Biller", amount="25.00", on=DAY)
        session.commit()
    assert (done["amount"], done["balance_left"], done["account"]) == ("25.00", "75.00",
                                                                     "AR_DENIED")
    with res.sessions() as session:
        aging = ar_aging(session, DAY, TENANT)
        claim = session.get_one(models.Claim, first.id)
        entries = session.execute(select(models.LedgerEntry.account, models.LedgerEntry.amount)
                                  .where(models.LedgerEntry.memo == "write-off NO_AUTHORIZATION")
                                  ).all()
        findings = check_books(session, [TENANT], DAY)
    assert sorted(entries) == [("AR_DENIED", Decimal("-25.00")), ("WRITE_OFF", Decimal("25.00"))]
    assert claim.adjusted == Decimal("25.00") + first.adjusted
    # The rest of the denial stays in work, spread over its reasons in proportion.
    assert aging["denied_in_work"]["by_reason"] == {
        "CO-16": {"claims": 1, "amount": "45.00"}, "CO-197": {"claims": 1, "amount": "30.00"}}
    assert aging["write_offs"] == {"by_reason": {"NO_AUTHORIZATION": {
        "claims": 1, "amount": "25.00"}}, "total": "25.00"}
    assert [f for f in findings if f.check in ("trial-balance", "aging")] == []


def test_a_write_off_refuses_what_it_cannot_do_and_writes_nothing(res: Resources) -> None:
    first, second, *_ = _claims(res)
    _denied(res, first.id, {("CO", "50"): "30.00"})
    cases = [
        (first.id, "NOPE", "denied", None, "unknown reason"),
        (first.id, "BAD_DEBT", "denied", None, "does not write off a denied balance"),
        (first.id, "NON_COVERED", "denied", "30.01", "at most"),
        (first.id, "NON_COVERED", "denied", "0", "more than 0"),
        (first.id, "NON_COVERED", "denied", "1.005", "dollars and cents"),
        (second.id, "NON_COVERED", "denied", None, "no denied balance"),
        (second.id, "CHARITY", "patient", None, "no patient balance"),
        (999_999, "NON_COVERED", "denied", None, "no claim"),
    ]
    with res.sessions() as session:
        for claim_id, reason, source, amount, why in cases:
            with pytest.raises(WriteOffError, match=why):
                write_off(session, claim_id, reason, "note", "A. Biller", source=source,
                          amount=amount)
        with pytest.raises(WriteOffError, match="note"):
            write_off(session, first.id, "NON_COVERED", " ", "A. Biller")
        with pytest.raises(WriteOffError, match="approved"):
            write_off(session, first.id, "NON_COVERED", "note", "")
        with pytest.raises(WriteOffError, match="no claim"):  # another tenant's claim
            write_off(session, first.id, "NON_COVERED", "note", "A. Biller", tenant="other")
        session.commit()
        assert session.scalar(select(func.count()).select_from(models.WriteOff)) == 0


def test_a_credit_balance_is_shown_apart_and_never_aged(res: Resources) -> None:
    first, *_ = _claims(res)
    # Paid the full charge and then 12.34 more (a duplicate payment posted by hand).
    _book(res, first.id, [("CASH", "AR", str(first.total_charge + Decimal("12.34")))])

    with res.sessions() as session:
        aging = ar_aging(session, DAY, TENANT)
    assert aging["credits"] == {"claims": 1, "amount": "-12.34"}
    assert aging["claims"] == len(_rows(res)) - 1
    assert Decimal(aging["total"]) == sum((r.total_charge for r in _rows(res).values()
                                           if r.id != first.id), Decimal(0))


def test_revcycle_queue_writeoff_and_ar_aging_show_it(res: Resources,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first, *_ = _claims(res)
    _denied(res, first.id, {("CO", "29"): "80.00", ("CO", "16"): "20.00"})

    result = run_cli(res, monkeypatch, "queue", "writeoff", str(first.id), "--reason",
                     "timely_filing", "--note", "filed late by us", "--by", "B. Lead",
                     "--amount", "80", "--date", str(DAY + timedelta(days=1)))
    assert result.exit_code == 0, result.output
    assert "wrote off $80.00" in result.output and "TIMELY_FILING" in result.output

    aging = json.loads(run_cli(res, monkeypatch, "ar", "aging", "--tenant", TENANT,
                               "--as-of", str(DAY + timedelta(days=1)), "--json").output)
    assert aging["write_offs"]["by_reason"] == {"TIMELY_FILING": {"claims": 1,
                                                                  "amount": "80.00"}}
    assert Decimal(aging["denied_in_work"]["amount"]) == Decimal("20.00")
    shown = run_cli(res, monkeypatch, "ar", "aging", "--tenant", TENANT, "--as-of",
                    str(DAY + timedelta(days=1))).output
    for words in ("denied, in work", "timely filing", "written off", "TIMELY_FILING",
                  "credit balances"):
        assert words in shown, shown

    with res.sessions() as session:
        report = markdown(build_day_report(session, DAY + timedelta(days=1), [TENANT]))
    assert "| written off | TIMELY_FILING | 1 | $80.00 |" in report, report
    assert "| denied, in work | timely filing (CARC 29), apart | 0 | $0.00 |" in report

    refused = run_cli(res, monkeypatch, "queue", "writeoff", str(first.id), "--reason",
                      "charity", "--note", "x", "--by", "B. Lead")
    assert refused.exit_code != 0 and "does not write off a denied balance" in refused.output
