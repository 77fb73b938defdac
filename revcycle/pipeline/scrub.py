"""Scrub: VALIDATED claims through each payer's rule set; READY or REJECTED with edits.

Warnings are stored as edits too (the claim still goes out); a claim whose payer has no
definition is rejected, since there is no channel to send it by. A claim whose payer module
is broken waits (it stays VALIDATED, with a PAYER-02 edit saying why) until the module is
fixed: the claim is not at fault.

A tenant that has registered its billing providers (:mod:`revcycle.pipeline.tenants`) bills
only as them: a claim whose billing provider NPI (2010AA NM109, as corrected) is a valid NPI
but not one of the tenant's is rejected with TENANT-01 (a file dropped in the wrong
tenant's landing zone, or a provider not registered yet). A tenant with none registered is
not checked; an NPI with a wrong check digit is NPI-01's to report.

A patient control number is one claim's per payer (DUP-PCN): a claim is rejected when the
tenant's known claim of its number (:func:`revcycle.pipeline.ingest.known_claim`: the
oldest not VOIDED billing its payer) is another, of another file, whatever its status.
Ingest made such a claim a row of its own only because the known claim was on its way or
adjudicated (a refused one is corrected by it, an adjudicated one replaced by a 7 or 8):
sent, the payer would hold two claims under one number and its remittances could not be
told apart. An exact resend is DUP-01's to report (it alone is). Two claims of one number
in one file are not compared; the same number to another payer is another claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from revcycle.codesets import icd10, npi
from revcycle.codesets.tables import DatabaseReferenceData
from revcycle.crashpoints import crash_point
from revcycle.db.bulk import insert_rows, update_rows
from revcycle.db.models import Batch, Edit
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.handoff import handoff_for
from revcycle.pipeline.ingest import known_claim, known_claims
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.tenants import registered_npis
from revcycle.pipeline.versions import current_claims
from revcycle.scrub import RuleSet, ScrubContext, Severity, scrub
from revcycle.status import Status
from revcycle.x12.charset import CharacterPolicy

STAGE = "scrub"
# Claims whose duplicate key counts as billed: everything that left, or is about to.
BILLED = (Status.READY, Status.SUBMITTED, Status.ACCEPTED, Status.PAID,
          Status.PARTIALLY_PAID, Status.DENIED)
UNCONFIGURED_PAYER = {"rule_id": "PAYER-01", "severity": "ERROR", "field": "2010BB NM109",
                      "message": "the claim's payer is not configured: there is no channel"
                                 " to send it by"}
WAITING_FOR_PAYER = {"rule_id": "PAYER-02", "severity": "ERROR", "field": "2010BB NM109"}
FOREIGN_PROVIDER = {"rule_id": "TENANT-01", "severity": "ERROR", "field": "2010AA NM109"}
TAKEN_PCN = {"rule_id": "DUP-PCN", "severity": "ERROR", "field": "2300 CLM01"}


def scrub_batch(res: Resources, batch_id: str, payer_rules: Mapping[str, RuleSet],
                timely_filing_days: Mapping[str, int] | None = None, *,
                disabled_payers: Mapping[str, str] | None = None,
                unloaded_modules: Sequence[str] = (),
                character_policies: Mapping[str, CharacterPolicy] | None = None
                ) -> dict[str, Any]:
    """Scrub a batch; ``payer_rules`` holds each configured payer's rule set,
    ``timely_filing_days`` its filing limit and ``character_policies`` the characters it
    takes. Claims of a payer in ``disabled_payers``
    (payer id -> why) wait; so do claims of an unknown payer while some payer module
    failed to import (``unloaded_modules``): it may be theirs. The result lists the rules
    that could not run (``not_run``: their reference table is not loaded)."""
    disabled_payers = disabled_payers or {}
    with res.sessions() as session:
        batch = session.get(Batch, batch_id)
        rows = claims_in(session, batch_id, Status.VALIDATED)
        result: dict[str, Any] = {"batch": batch_id, "claims": len(rows), "ready": 0,
                                  "rejected": 0, "waiting": 0, "warnings": 0, "edits": {},
                                  "not_run": []}
        if not rows:
            return result
        handoff = handoff_for(res)
        loaded = current_claims(session, res.store, rows, handoff)  # as corrected, if it was
        seen = set(session.scalars(select(ClaimRow.duplicate_key).where(
            ClaimRow.tenant_id == batch.tenant_id, ClaimRow.duplicate_key != "",
            ClaimRow.status.in_(BILLED))))
        ctx = ScrubContext(as_of=batch.business_date, seen=seen, payer_rules=payer_rules,
                           icd10=icd10.releases(res.settings.icd10_dir or None),
                           reference=DatabaseReferenceData(res.sessions),
                           timely_filing_days=timely_filing_days or {},
                           character_policies=character_policies or {})
        outcome = scrub([claim for _, claim in loaded], ctx)
        foreign = _foreign_providers(session, batch.tenant_id, loaded)
        taken = _taken_numbers(session, batch.tenant_id, rows)
        edits: list[dict[str, Any]] = []
        ready: list[int] = []
        rejected: list[int] = []
        keys: list[dict[str, Any]] = []
        waiting: dict[int, str] = {}
        for index, (row, _) in enumerate(loaded):
            if row.payer_id not in payer_rules and row.id not in foreign:
                why = _why_waiting(row.payer_id, disabled_payers, unloaded_modules)
                if why:
                    waiting[row.id] = why
                    continue
            edits += [{"claim_id": row.id, "line_number": f.line_number, "stage": STAGE,
                       "rule_id": f.rule_id, "severity": f.severity.name, "message": f.message,
                       "field": f.field, "code_set": f.code_set} for f in outcome[index]]
            if row.id in foreign:
                edits.append({"claim_id": row.id, "stage": STAGE, "message": foreign[row.id],
                              **FOREIGN_PROVIDER})
            if row.id in taken and any(f.rule_id == "DUP-01" for f in outcome[index]):
                del taken[row.id]  # a resend: the duplicate rule says so
            if row.id in taken:
                edits.append({"claim_id": row.id, "stage": STAGE, "message": taken[row.id],
                              **TAKEN_PCN})
            if row.payer_id not in payer_rules:
                edits.append({"claim_id": row.id, "stage": STAGE, **UNCONFIGURED_PAYER})
            if (row.payer_id not in payer_rules or row.id in foreign or row.id in taken
                    or outcome.blocked(index)):
                rejected.append(row.id)
            else:
                ready.append(row.id)
                keys.append({"id": row.id, "duplicate_key": outcome.keys[index]})
        # Moved first: a claim another run has scrubbed meanwhile gets nothing from this one.
        moved = set(move(session, ready, Status.VALIDATED, Status.READY, STAGE))
        result["ready"] = len(moved)
        crash_point("scrub.between_moves")
        rejected = move(session, rejected, Status.VALIDATED, Status.REJECTED, STAGE)
        result["rejected"] = len(rejected)
        moved.update(rejected)
        keys = [k for k in keys if k["id"] in moved]
        edits = [e for e in edits if e["claim_id"] in moved]
        update_rows(session, ClaimRow.__table__, [(k["id"], k["duplicate_key"]) for k in keys],
                    ("duplicate_key",))
        # (every row with every column: a bulk insert takes rows of one shape)
        insert_rows(session, Edit.__table__, [{"line_number": None, "code_set": "", **e}
                                               for e in edits])
        result["waiting"] = _record_waiting(session, waiting)
        result["warnings"] = sum(1 for e in edits if e["severity"] == Severity.WARNING.name)
        result["edits"] = dict(outcome.rule_counts())
        if foreign:
            result["edits"][FOREIGN_PROVIDER["rule_id"]] = len(foreign)
        taken_edits = sum(1 for e in edits if e["rule_id"] == TAKEN_PCN["rule_id"])
        if taken_edits:
            result["edits"][TAKEN_PCN["rule_id"]] = taken_edits
        result["not_run"] = sorted(ctx.not_run)
        session.commit()
    # For the write step: the READY claims as scrub() corrected them (in place), each
    # with the character policy it was corrected for.
    ready_now = {k["id"] for k in keys}
    handoff.put(((row.id, claim) for row, claim in loaded if row.id in ready_now),
                corrected_for=lambda claim: ctx.character_policy(claim.payer.payer_id))
    return result


def _foreign_providers(session: Session, tenant: str,
                       loaded: Sequence[tuple[ClaimRow, Claim]]) -> dict[int, str]:
    """Claim id -> TENANT-01 message, for each claim billed under a valid NPI that is not
    one of the tenant's billing providers; none when the tenant has registered none."""
    mine = registered_npis(session, tenant)
    if not mine:
        return {}
    found = {}
    for row, claim in loaded:
        billing = claim.billing_provider.npi
        if billing not in mine and npi.is_valid(billing):
            found[row.id] = (f"the billing provider NPI {billing} is not a registered billing"
                             f" provider of tenant {tenant} (revcycle tenants show {tenant})")
    return found


def _taken_numbers(session: Session, tenant: str, rows: Sequence[ClaimRow]
                   ) -> dict[int, str]:
    """Claim id -> DUP-PCN message, for each claim whose patient control number and payer
    the tenant's known claim (the oldest not VOIDED) of another file holds: the message
    names that claim's id and status, never the number."""
    known = known_claims(session, tenant, {r.patient_control_number for r in rows})
    found = {}
    for row in rows:
        owner = known_claim(known.get(row.patient_control_number, ()), row.payer_id)
        if owner is not None and owner.id != row.id and owner.file_id != row.file_id:
            found[row.id] = (f"the patient control number is claim {owner.id}'s"
                             f" ({owner.status}): the payer would get two claims under one"
                             " number; a refused claim is corrected by sending it again, an"
                             " adjudicated one by a replacement (frequency 7) or void (8)")
    return found


def _why_waiting(payer_id: str, disabled: Mapping[str, str],
                 unloaded: Sequence[str]) -> str:
    if payer_id in disabled:
        return f"{disabled[payer_id]}; the claim waits until the module is fixed"
    if unloaded:
        return (f"no payer module for this payer loaded, and payer module(s)"
                f" {', '.join(unloaded)} failed to load; the claim waits until they are fixed")
    return ""


def _record_waiting(session: Session, waiting: Mapping[int, str]) -> int:
    """A PAYER-02 edit on each waiting claim (once per reason: a re-run adds none)."""
    if not waiting:
        return 0
    known = set(session.execute(select(Edit.claim_id, Edit.message).where(
        Edit.rule_id == WAITING_FOR_PAYER["rule_id"], Edit.claim_id.in_(waiting))).all())
    new = [{"claim_id": claim_id, "stage": STAGE, "message": why, **WAITING_FOR_PAYER}
           for claim_id, why in waiting.items() if (claim_id, why) not in known]
    if new:
        session.execute(insert(Edit), new)
    return len(waiting)
