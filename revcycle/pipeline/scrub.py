"""Scrub: VALIDATED claims through each payer's rule set; READY or REJECTED with edits.

Warnings are stored as edits too (the claim still goes out); a claim whose payer has no
definition is rejected, since there is no channel to send it by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update

from revcycle.codesets import icd10
from revcycle.codesets.tables import DatabaseReferenceData
from revcycle.db.models import Batch, Edit, File
from revcycle.db.models import Claim as ClaimRow
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.claimfiles import load_claims
from revcycle.pipeline.resources import Resources
from revcycle.scrub import RuleSet, ScrubContext, Severity, scrub
from revcycle.status import Status

STAGE = "scrub"
# Claims whose duplicate key counts as billed: everything that left, or is about to.
BILLED = (Status.READY, Status.SUBMITTED, Status.ACCEPTED, Status.PAID,
          Status.PARTIALLY_PAID, Status.DENIED)
UNCONFIGURED_PAYER = {"rule_id": "PAYER-01", "severity": "ERROR", "field": "2010BB NM109",
                      "message": "the claim's payer is not configured: there is no channel"
                                 " to send it by"}


def scrub_batch(res: Resources, batch_id: str, payer_rules: Mapping[str, RuleSet],
                timely_filing_days: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Scrub a batch; ``payer_rules`` holds each configured payer's rule set and
    ``timely_filing_days`` its filing limit. The result lists the rules that could not
    run (``not_run``: their reference table is not loaded)."""
    with res.sessions() as session:
        batch = session.get(Batch, batch_id)
        rows = claims_in(session, batch_id, Status.VALIDATED)
        result: dict[str, Any] = {"batch": batch_id, "claims": len(rows), "ready": 0,
                                  "rejected": 0, "warnings": 0, "edits": {}, "not_run": []}
        if not rows:
            return result
        files = {f.id: f for f in session.scalars(
            select(File).where(File.id.in_({r.file_id for r in rows})))}
        loaded = load_claims(res.store, files, rows)
        seen = set(session.scalars(select(ClaimRow.duplicate_key).where(
            ClaimRow.tenant_id == batch.tenant_id, ClaimRow.duplicate_key != "",
            ClaimRow.status.in_(BILLED))))
        ctx = ScrubContext(as_of=batch.business_date, seen=seen, payer_rules=payer_rules,
                           icd10=icd10.releases(res.settings.icd10_dir or None),
                           reference=DatabaseReferenceData(res.sessions),
                           timely_filing_days=timely_filing_days or {})
        outcome = scrub([claim for _, claim in loaded], ctx)
        edits: list[dict[str, Any]] = []
        ready: list[int] = []
        rejected: list[int] = []
        keys: list[dict[str, Any]] = []
        for index, (row, _) in enumerate(loaded):
            edits += [{"claim_id": row.id, "line_number": f.line_number, "stage": STAGE,
                       "rule_id": f.rule_id, "severity": f.severity.name, "message": f.message,
                       "field": f.field, "code_set": f.code_set} for f in outcome[index]]
            if row.payer_id not in payer_rules:
                edits.append({"claim_id": row.id, "stage": STAGE, **UNCONFIGURED_PAYER})
                rejected.append(row.id)
            elif outcome.blocked(index):
                rejected.append(row.id)
            else:
                ready.append(row.id)
                keys.append({"id": row.id, "duplicate_key": outcome.keys[index]})
        # Moved first: a claim another run has scrubbed meanwhile gets nothing from this one.
        moved = set(move(session, ready, Status.VALIDATED, Status.READY, STAGE))
        result["ready"] = len(moved)
        rejected = move(session, rejected, Status.VALIDATED, Status.REJECTED, STAGE)
        result["rejected"] = len(rejected)
        moved.update(rejected)
        keys = [k for k in keys if k["id"] in moved]
        edits = [e for e in edits if e["claim_id"] in moved]
        if keys:
            session.execute(update(ClaimRow), keys)
        if edits:
            session.execute(insert(Edit), edits)
        result["warnings"] = sum(1 for e in edits if e["severity"] == Severity.WARNING.name)
        result["edits"] = dict(outcome.rule_counts())
        result["not_run"] = sorted(ctx.not_run)
        session.commit()
    return result
