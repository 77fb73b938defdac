"""The day's key performance indicators (KPIs) of the revenue cycle, from the database.

Each KPI is a dict with its ``rate`` (a float rounded to four places, or None when there is
nothing to divide by) and the counts or amounts it is computed from, so a reader can check
it. Claim KPIs cover the claims of the given batches, as they stand now: an 835 that comes
later changes them. Money is computed in Decimal and given as strings of exact decimals.
Counts, amounts, payer ids and codes only: no claim content.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from revcycle.codesets.carc import describe_carc
from revcycle.db.models import Adjustment, LedgerEntry, Money, Payment
from revcycle.db.models import Claim as ClaimRow
from revcycle.pipeline.outcomes import NOT_DENIALS, PRIOR_PAYER_PAID
from revcycle.status import ADJUDICATED, Status

ZERO = Decimal("0.00")
# Past the payer's front end: accepted (999 and 277CA), adjudicated, reversed or voided.
FRONT_END_PASSED = frozenset({Status.ACCEPTED, Status.REVERSED, Status.VOIDED, *ADJUDICATED})
# Stopped before adjudication: by our quality checks, our scrub or the payer's front end.
FRONT_END_FAILED = frozenset({Status.DQ_FAILED, Status.REJECTED, Status.PAYER_REJECTED})
LOOK_BACK_DAYS = 90  # the days-in-A/R window of charges
CONTRACTUAL = ("CO", "45")  # the contracted write-off (charge above the fee schedule)


def rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    """``part / whole`` rounded to four places; None when ``whole`` is zero.

    >>> rate(1, 3), rate(0, 0)
    (0.3333, None)
    """
    return round(float(Decimal(part) / Decimal(whole)), 4) if whole else None


def claim_kpis(session: Session, batches: Sequence[str]) -> dict[str, Any]:
    """Clean-claim rate, first-pass acceptance, denial rate and net collection rate of the
    batches' claims."""
    statuses = _first_submission_statuses(session, batches)
    return {"clean_claim_rate": clean_claim_rate(statuses),
            "first_pass_acceptance": first_pass_acceptance(statuses),
            "denial_rate": denial_rate(session, batches),
            "net_collection_rate": net_collection_rate(session, batches)}


def _first_submission_statuses(session: Session, batches: Sequence[str]) -> dict[str, int]:
    """Claims by status, counting first submissions only: an original claim (frequency
    code 1) that is not the correction of an earlier claim of the tenant (same patient
    control number) stopped by quality, scrub or the payer's front end."""
    earlier = aliased(ClaimRow)
    correction = exists().where(and_(
        earlier.tenant_id == ClaimRow.tenant_id,
        earlier.patient_control_number == ClaimRow.patient_control_number,
        earlier.id < ClaimRow.id, earlier.status.in_(FRONT_END_FAILED)))
    return dict(session.execute(
        select(ClaimRow.status, func.count())
        .where(ClaimRow.batch_id.in_(list(batches)), ClaimRow.frequency_code == "1",
               ~correction)
        .group_by(ClaimRow.status)).all())


def clean_claim_rate(statuses: dict[str, int]) -> dict[str, Any]:
    """Clean-claim rate: of the claims first submitted whose outcome is known, the share
    that passed our data-quality checks, our scrub and the payer's front end (999 and
    277CA) with no correction: accepted or adjudicated (paid or denied, a denial being the
    payer's decision on a clean claim) over those plus the ones DQ_FAILED, REJECTED or
    PAYER_REJECTED. Claims still on their way (not checked, not sent, or sent and not yet
    answered) are left out until they are."""
    clean = sum(statuses.get(s, 0) for s in FRONT_END_PASSED)
    decided = clean + sum(statuses.get(s, 0) for s in FRONT_END_FAILED)
    return {"rate": rate(clean, decided), "clean": clean, "decided": decided}


def first_pass_acceptance(statuses: dict[str, int]) -> dict[str, Any]:
    """First-pass acceptance rate: of the claims first submitted that the payer has
    answered (a 999/277CA or an 835), the share its front end accepted. Unlike the
    clean-claim rate it leaves out what our own checks stopped before sending."""
    accepted = sum(statuses.get(s, 0) for s in FRONT_END_PASSED)
    answered = accepted + statuses.get(Status.PAYER_REJECTED, 0)
    return {"rate": rate(accepted, answered), "accepted": accepted, "answered": answered}


def denial_rate(session: Session, batches: Sequence[str]) -> dict[str, Any]:
    """Denial rate: claims DENIED over claims adjudicated (PAID, PARTIALLY_PAID, DENIED),
    overall and per payer; per reason, the claims denied with that CARC over all claims
    adjudicated. A reason is a CAS group and CARC other than the patient's share (PR), the
    contractual write-off (CO-45) and a prior payer's payment (OA-23)."""
    by_payer: dict[str, dict[str, Any]] = {}
    for payer, status, count, billed in session.execute(
            select(ClaimRow.payer_id, ClaimRow.status, func.count(),
                   func.sum(ClaimRow.total_charge, type_=Money()))
            .where(ClaimRow.batch_id.in_(list(batches)), ClaimRow.status.in_(ADJUDICATED))
            .group_by(ClaimRow.payer_id, ClaimRow.status)):
        row = by_payer.setdefault(payer, {"payer": payer, "denied": 0, "adjudicated": 0,
                                          "denied_billed": ZERO})
        row["adjudicated"] += count
        if status == Status.DENIED:
            row["denied"] += count
            row["denied_billed"] += billed or ZERO
    adjudicated = sum(r["adjudicated"] for r in by_payer.values())
    denied = sum(r["denied"] for r in by_payer.values())
    return {
        "rate": rate(denied, adjudicated), "denied": denied, "adjudicated": adjudicated,
        "by_payer": [{**r, "denied_billed": str(r["denied_billed"]),
                      "rate": rate(r["denied"], r["adjudicated"])}
                     for _, r in sorted(by_payer.items())],
        "by_reason": [{**r, "rate": rate(r["claims"], adjudicated)}
                      for r in denial_reasons(session, batches)],
    }


def denial_reasons(session: Session, batches: Sequence[str]) -> list[dict[str, Any]]:
    """The reasons of the batches' DENIED claims, most claims first: the CARC with group
    (``CO-16``), its description (None when not in our list), the claims denied for it and
    the amount the payer adjusted for it."""
    claims = func.count(func.distinct(Payment.claim_id))
    rows = session.execute(
        select(Adjustment.group_code, Adjustment.reason_code, claims,
               func.sum(Adjustment.amount, type_=Money()))
        .join(Payment, Payment.id == Adjustment.payment_id)
        .join(ClaimRow, ClaimRow.id == Payment.claim_id)
        .where(ClaimRow.batch_id.in_(list(batches)), ClaimRow.status == Status.DENIED,
               Adjustment.group_code != "PR",
               tuple_(Adjustment.group_code, Adjustment.reason_code).not_in(sorted(NOT_DENIALS)))
        .group_by(Adjustment.group_code, Adjustment.reason_code)
        .order_by(claims.desc(), Adjustment.group_code, Adjustment.reason_code))
    return [{"carc": f"{group}-{reason}", "description": describe_carc(reason),
             "claims": count, "amount": str(amount if amount is not None else ZERO)}
            for group, reason, count, amount in rows]


def net_collection_rate(session: Session, batches: Sequence[str]) -> dict[str, Any]:
    """Net collection rate: payments / (charges - contractual adjustments), over the
    batches' adjudicated claims. Payments are what payers paid (patient payments are not
    posted here, so the patient's share lowers the rate until collected); the contractual
    adjustment is the CO-45 write-off, not a CO-group denial (CO-16, CO-50: counting those
    would hide denials from the rate). On a secondary claim, what the prior payer already
    paid (OA-23) is left out of its charge too, so a claim paid by two payers is not
    counted as billed twice."""
    adjudicated = and_(ClaimRow.batch_id.in_(list(batches)), ClaimRow.status.in_(ADJUDICATED))
    paid, charges = session.execute(
        select(func.sum(ClaimRow.paid, type_=Money()),
               func.sum(ClaimRow.total_charge, type_=Money())).where(adjudicated)).one()
    written_off = {CONTRACTUAL: ZERO, PRIOR_PAYER_PAID: ZERO}
    for group, reason, amount in session.execute(
            select(Adjustment.group_code, Adjustment.reason_code,
                   func.sum(Adjustment.amount, type_=Money()))
            .join(Payment, Payment.id == Adjustment.payment_id)
            .join(ClaimRow, ClaimRow.id == Payment.claim_id)
            .where(adjudicated, tuple_(Adjustment.group_code, Adjustment.reason_code)
                   .in_(sorted(written_off)))
            .group_by(Adjustment.group_code, Adjustment.reason_code)):
        written_off[(group, reason)] = amount or ZERO
    paid, charges = paid or ZERO, charges or ZERO
    collectible = charges - written_off[CONTRACTUAL] - written_off[PRIOR_PAYER_PAID]
    return {"rate": rate(paid, collectible) if collectible > 0 else None,
            "payments": str(paid), "charges": str(charges),
            "contractual": str(written_off[CONTRACTUAL]),
            "prior_payer_paid": str(written_off[PRIOR_PAYER_PAID])}


def days_in_ar(session: Session, tenants: Sequence[str], as_of: date,
               open_ar: Decimal) -> dict[str, Any]:
    """Days in A/R: the open A/R as of a day (the aging's total) over the average daily
    charges of the tenants in the 90 days ending that day (both included); charges are
    booked on the day a claim is submitted. None when nothing was charged in the window."""
    start = as_of - timedelta(days=LOOK_BACK_DAYS - 1)
    revenue = session.scalar(
        select(func.sum(LedgerEntry.amount, type_=Money()))
        .where(LedgerEntry.account == "REVENUE", LedgerEntry.tenant_id.in_(list(tenants)),
               LedgerEntry.entry_date >= start, LedgerEntry.entry_date <= as_of))
    charges = -(revenue or ZERO)  # revenue is credited, so negative
    daily = charges / LOOK_BACK_DAYS
    return {"days": round(float(open_ar / daily), 1) if daily > 0 else None,
            "open_ar": str(open_ar), "average_daily_charges": str(daily.quantize(ZERO)),
            "look_back_days": LOOK_BACK_DAYS, "from": start.isoformat(),
            "to": as_of.isoformat()}
