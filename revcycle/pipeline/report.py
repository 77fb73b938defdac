"""The run report: what happened to a business day, per stage, in counts and dollars,
its KPIs (:mod:`revcycle.pipeline.kpis`), what needs a person
(:mod:`revcycle.pipeline.worklist`) and the A/R aging; written as JSON, a self-contained
HTML page and SVG charts to the reports zone.

Carries counts, amounts, rule ids and CARC codes only; no claim content.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.models import Batch, Edit, File, Money, Payment, Remittance
from revcycle.db.models import Claim as ClaimRow
from revcycle.pipeline.aging import ar_aging_for
from revcycle.pipeline.batches import ALL_TENANTS, check_tenant
from revcycle.pipeline.batches import batch_id as make_batch_id
from revcycle.pipeline.kpis import claim_kpis, days_in_ar
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.worklist import needs_a_person
from revcycle.reporting.charts import charts
from revcycle.reporting.html import html_report
from revcycle.reporting.tables import run_report_title
from revcycle.status import ADJUDICATED
from revcycle.storage import object_key

TOP = 10


def _money(value: Decimal | None) -> str:
    return str(value if value is not None else Decimal("0.00"))


def build_day_report(session: Session, business_date: date,
                     tenants: list[str]) -> dict[str, Any]:
    """Summary of one business day over the given tenants, with their A/R aging and days
    in A/R as of that day, and each tenant's own summary (``by_tenant``; a tenant with no
    batch that day has none). Reads only."""
    by_tenant = {}
    for tenant in tenants:
        batch = make_batch_id(tenant, business_date)
        if session.get(Batch, batch) is not None:
            by_tenant[tenant] = {"business_date": business_date.isoformat(), "tenant": tenant,
                                 **_with_ar(session, [batch], business_date, [tenant])}
    combined = _with_ar(session, [make_batch_id(t, business_date) for t in tenants],
                        business_date, tenants)
    return {"business_date": business_date.isoformat(), "tenants": tenants, **combined,
            "by_tenant": by_tenant}


def _with_ar(session: Session, batches: list[str], business_date: date,
             tenants: list[str]) -> dict[str, Any]:
    summary = summarize(session, batches)
    aging = ar_aging_for(session, business_date, tenants)
    summary["ar_aging"] = _aging_totals(aging)
    summary["kpis"]["days_in_ar"] = days_in_ar(session, tenants, business_date,
                                               Decimal(aging["total"]))
    return summary


def day_report(res: Resources, business_date: date, tenants: list[str]) -> dict[str, Any]:
    """:func:`build_day_report`, published: each tenant's report (JSON, HTML and its charts)
    goes to its own reports zone (a tenant never sees another's figures), and the combined
    one to the run's (:data:`ALL_TENANTS`). ``report_keys`` gives the keys written."""
    for tenant in tenants:
        check_tenant(tenant)
    with res.sessions() as session:
        report = build_day_report(session, business_date, tenants)
    keys = {tenant: _publish(res, tenant, business_date, own)
            for tenant, own in report["by_tenant"].items()}
    keys[ALL_TENANTS] = _publish(res, ALL_TENANTS, business_date,
                                 {k: v for k, v in report.items() if k != "by_tenant"})
    return {**report, "report_keys": keys}


def _publish(res: Resources, owner: str, business_date: date,
             report: dict[str, Any]) -> dict[str, str]:
    """Write one report's files to ``owner``'s reports zone; returns their keys by kind."""
    title = run_report_title(report)
    files = {"json": ("run-report.json", json.dumps(report, indent=2)),
             "html": ("run-report.html", html_report(report, title)),
             **{name: (f"{name}.svg", svg) for name, svg in charts(report).items()}}
    keys = {}
    for kind, (name, text) in files.items():
        keys[kind] = object_key(owner, "reports", business_date,
                                make_batch_id(owner, business_date), name)
        res.store.put(keys[kind], text.encode())
    return keys


def _aging_totals(aging: dict[str, Any]) -> dict[str, Any]:
    """The aging's totals (per bucket and per payer), without the day it is as of."""
    return {name: aging[name] for name in ("buckets", "total", "claims", "by_payer",
                                           "by_account", "credits", "denied_in_work",
                                           "write_offs")}


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
    remittances = dict(session.execute(
        select(Remittance.status, func.count()).join(File, File.id == Remittance.file_id)
        .where(File.batch_id.in_(batches)).group_by(Remittance.status)).all())
    posting = _posting(session, batches)
    kpis = claim_kpis(session, batches)
    claims_in = sum(statuses.values())
    adjudicated = sum(statuses.get(s.value, 0) for s in ADJUDICATED)
    return {
        "files": {"ingested": files.get("RAW", 0), "quarantined": files.get("QUARANTINED", 0),
                  "with_defects": _files_with_defects(session, batches)},
        "claims": {"in": claims_in, "by_status": dict(sorted(statuses.items())),
                   "adjudicated": adjudicated},
        "dollars": {"billed": _money(money[0]), "paid": _money(money[1]),
                    "adjusted": _money(money[2]), "patient_responsibility": _money(money[3])},
        "top_edits": [{"rule": rule, "stage": stage, "claims": count,
                       "held": _money(held_by_rule.get(rule))}
                      for rule, stage, count in edits],
        "top_denial_reasons": [{"carc": r["carc"], "description": r["description"],
                                "count": r["claims"], "amount": r["amount"]}
                               for r in kpis["denial_rate"]["by_reason"][:TOP]],
        "remittances": remittances,
        "posting": posting,
        "kpis": kpis,
        "needs_a_person": needs_a_person(session, batches),
    }


def _files_with_defects(session: Session, batches: list[str]) -> dict[str, int]:
    """How many of the batches' provider files were read despite each defect code (a
    wrong SE01, a reused ISA13, bytes that are not UTF-8, ...)."""
    counted: Counter[str] = Counter()
    for defects in session.scalars(select(File.defects).where(
            File.batch_id.in_(batches), File.zone != "inbound")):
        counted.update({d["code"] for d in defects or ()})
    return dict(sorted(counted.items()))


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
