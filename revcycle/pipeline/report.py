"""The run report: what happened to a business day, per stage, in counts and dollars.

Carries counts, amounts, rule ids and CARC codes only; no claim content.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from revcycle.db.models import Adjustment, Batch, Edit, File, Money, Payment, Remittance
from revcycle.db.models import Claim as ClaimRow
from revcycle.pipeline.aging import ar_aging_for
from revcycle.pipeline.batches import batch_id as make_batch_id
from revcycle.pipeline.post import NOT_DENIALS
from revcycle.pipeline.resources import Resources
from revcycle.status import ADJUDICATED, Status
from revcycle.storage import object_key

TOP = 10


def _money(value: Decimal | None) -> str:
    return str(value if value is not None else Decimal("0.00"))


def day_report(res: Resources, business_date: date, tenants: list[str]) -> dict[str, Any]:
    """Summary of one business day over the given tenants, with their A/R aging as of
    that day. Each tenant's own summary goes to its reports zone (a tenant never sees
    another's figures)."""
    with res.sessions() as session:
        for tenant in tenants:
            batch = make_batch_id(tenant, business_date)
            if session.get(Batch, batch) is not None:
                own = summarize(session, [batch])
                own["ar_aging"] = _aging_totals(ar_aging_for(session, business_date,
                                                             [tenant]))
                res.store.put(object_key(tenant, "reports", business_date, batch,
                                         "run-report.json"),
                              json.dumps({"business_date": business_date.isoformat(),
                                          "tenant": tenant, **own}, indent=2).encode())
        combined = summarize(session, [make_batch_id(t, business_date) for t in tenants])
        combined["ar_aging"] = _aging_totals(ar_aging_for(session, business_date, tenants))
    return {"business_date": business_date.isoformat(), "tenants": tenants, **combined}


def _aging_totals(aging: dict[str, Any]) -> dict[str, Any]:
    """The aging's totals (per bucket and per payer), without the day it is as of."""
    return {name: aging[name] for name in ("buckets", "total", "claims", "by_payer")}


def summarize(session: Session, batches: list[str]) -> dict[str, Any]:
    """Counts and dollars of the given batches."""
    files = dict(session.execute(
        select(File.status, func.count()).where(File.batch_id.in_(batches),
                                                File.zone != "inbound")
        .group_by(File.status)).all())
    statuses = dict(session.execute(
        select(ClaimRow.status, func.count()).where(ClaimRow.batch_id.in_(batches))
        .group_by(ClaimRow.status)).all())
    money = session.execute(select(
        func.sum(ClaimRow.total_charge, type_=Money()),
        func.sum(ClaimRow.paid, type_=Money()),
        func.sum(ClaimRow.adjusted, type_=Money()),
        func.sum(ClaimRow.patient_responsibility, type_=Money()),
    ).where(ClaimRow.batch_id.in_(batches))).one()
    held = func.sum(ClaimRow.total_charge, type_=Money())
    edits = session.execute(
        select(Edit.rule_id, Edit.stage, func.count(func.distinct(Edit.claim_id)))
        .join(ClaimRow, ClaimRow.id == Edit.claim_id)
        .where(ClaimRow.batch_id.in_(batches), Edit.severity == "ERROR")
        .group_by(Edit.rule_id, Edit.stage)
        .order_by(func.count(func.distinct(Edit.claim_id)).desc()).limit(TOP)).all()
    # A rule may flag several lines of one claim: its charge is held once per rule.
    flagged = (select(Edit.rule_id, Edit.claim_id).distinct()
               .join(ClaimRow, ClaimRow.id == Edit.claim_id)
               .where(ClaimRow.batch_id.in_(batches), Edit.severity == "ERROR").subquery())
    held_by_rule = dict(session.execute(
        select(flagged.c.rule_id, held).join(ClaimRow, ClaimRow.id == flagged.c.claim_id)
        .group_by(flagged.c.rule_id)).all())
    denied_claims = func.count(func.distinct(Payment.claim_id))
    denials = session.execute(
        select(Adjustment.group_code, Adjustment.reason_code, denied_claims,
               func.sum(Adjustment.amount, type_=Money()))
        .join(Payment, Payment.id == Adjustment.payment_id)
        .join(ClaimRow, ClaimRow.id == Payment.claim_id)
        .where(ClaimRow.batch_id.in_(batches), ClaimRow.status == Status.DENIED,
               Adjustment.group_code != "PR",
               tuple_(Adjustment.group_code, Adjustment.reason_code).not_in(sorted(NOT_DENIALS)))
        .group_by(Adjustment.group_code, Adjustment.reason_code)
        .order_by(denied_claims.desc()).limit(TOP)).all()
    remittances = dict(session.execute(
        select(Remittance.status, func.count()).join(File, File.id == Remittance.file_id)
        .where(File.batch_id.in_(batches)).group_by(Remittance.status)).all())
    posting = _posting(session, batches)
    claims_in = sum(statuses.values())
    adjudicated = sum(statuses.get(s.value, 0) for s in ADJUDICATED)
    return {
        "files": {"ingested": files.get("RAW", 0), "quarantined": files.get("QUARANTINED", 0)},
        "claims": {"in": claims_in, "by_status": dict(sorted(statuses.items())),
                   "adjudicated": adjudicated},
        "dollars": {"billed": _money(money[0]), "paid": _money(money[1]),
                    "adjusted": _money(money[2]), "patient_responsibility": _money(money[3])},
        "top_edits": [{"rule": rule, "stage": stage, "claims": count,
                       "held": _money(held_by_rule.get(rule))}
                      for rule, stage, count in edits],
        "top_denial_reasons": [{"carc": f"{group}-{reason}", "count": count,
                                "amount": _money(amount)}
                               for group, reason, count, amount in denials],
        "remittances": remittances,
        "posting": posting,
    }


def _posting(session: Session, batches: list[str]) -> dict[str, Any]:
    """What the batches' posted remittances paid on claims (CLP04): how much posted with no
    human step, how much a biller posted from the exception queue, how much is still
    unapplied cash (as in the ledger: exceptions not posted by hand, resolved or not), and
    how many exceptions there were and are still open. A CLP posted by hand has two rows
    (the exception and the posting): its money counts once."""
    paid = func.sum(Payment.paid, type_=Money())
    still_open = Payment.resolved_at.is_(None)
    by_hand = Payment.posted_by != ""
    totals = dict.fromkeys(("auto", "manual", "excepted"), Decimal("0.00"))
    exceptions = open_exceptions = 0
    for reason, is_open, manual, count, amount in session.execute(
            select(Payment.exception, still_open, by_hand, func.count(), paid)
            .join(Remittance).join(File, File.id == Remittance.file_id)
            .where(File.batch_id.in_(batches), Remittance.status == "POSTED")
            .group_by(Payment.exception, still_open, by_hand)):
        amount = amount if amount is not None else Decimal("0.00")
        if reason:
            exceptions += count
            open_exceptions += count if is_open else 0
            totals["excepted"] += amount
        else:
            totals["manual" if manual else "auto"] += amount
    claim_payments = totals["auto"] + totals["excepted"]  # each CLP once
    return {
        "claim_payments": _money(claim_payments), "auto_posted": _money(totals["auto"]),
        "auto_post_rate": (round(float(totals["auto"] / claim_payments), 4)
                           if claim_payments else None),
        "posted_by_hand": _money(totals["manual"]), "exceptions": exceptions,
        "open_exceptions": open_exceptions,
        "unapplied": _money(totals["excepted"] - totals["manual"]),
    }
