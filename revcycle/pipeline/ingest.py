"""Ingest: landing files into raw/ (or quarantine/) and their claims into the database.

Nothing leaves landing until it is safely in raw or quarantine and recorded: the landing
object is deleted only after the database commit, so a crash at any point is finished by
the next run. The same file dropped twice (same sha256) is ingested once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, File, ServiceLine
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import ensure_batch, ensure_payer
from revcycle.pipeline.claimfiles import CSV, UnreadableClaimFile, detect_format, read_claims
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from revcycle.storage import ObjectNotFound, object_key, zone_prefix

STAGE = "ingest"


def ingest(res: Resources, tenant: str, business_date: date) -> dict[str, Any]:
    """Ingest every landing file of a tenant's business day; counts only in the result."""
    result = {"batch": "", "files": 0, "duplicates": 0, "quarantined": 0, "claims": 0}
    with res.sessions() as session:
        batch = ensure_batch(session, tenant, business_date)
        session.commit()
    result["batch"] = batch.id
    # Every landing file of the tenant: one dropped late for an earlier day is taken today.
    for key in res.store.list(zone_prefix(tenant, "landing")):
        outcome = _ingest_file(res, tenant, business_date, batch.id, key)
        result[outcome[0]] += 1
        result["claims"] += outcome[1]
    return result


def _ingest_file(res: Resources, tenant: str, business_date: date, batch: str,
                 key: str) -> tuple[str, int]:
    """Ingest one landing file. Two runs of the day at once (a re-run started while the
    scheduled one works) may both reach a file: its row is unique, so one records it and
    the other counts it a duplicate; a file taken from landing meanwhile is one too."""
    try:
        data = res.store.get(key)
    except ObjectNotFound:
        return "duplicates", 0  # ingested and cleaned up by the other run
    sha = hashlib.sha256(data).hexdigest()
    with res.sessions() as session:
        seen = session.scalar(select(File.id).where(
            File.tenant_id == tenant, File.direction == "in", File.sha256 == sha))
    if seen is not None:
        res.store.delete(key)
        return "duplicates", 0
    try:
        fmt = detect_format(data)
        claims = read_claims(data, fmt)
    except UnreadableClaimFile as exc:
        _quarantine(res, tenant, business_date, batch, key, sha, data, exc.reason)
        res.store.delete(key)
        return "quarantined", 0
    raw_key = object_key(tenant, "raw", business_date, batch,
                         f"{sha}.{'csv' if fmt == CSV else 'x12'}")
    res.store.put(raw_key, data)
    with res.sessions() as session:
        for payer in sorted({(c.payer.payer_id, c.payer.name) for c in claims}):
            ensure_payer(session, *payer)
    with res.sessions() as session:
        file = File(tenant_id=tenant, batch_id=batch, direction="in", sha256=sha, zone="raw",
                    key=raw_key, source_key=key, size=len(data), format=fmt, status="RAW")
        session.add(file)
        try:
            session.flush()
        except IntegrityError:
            return "duplicates", 0  # the other run recorded it first (and owns cleanup)
        _store_claims(session, tenant, batch, file.id, claims)
        session.commit()
    res.store.delete(key)
    return "files", len(claims)


def _quarantine(res: Resources, tenant: str, business_date: date, batch: str, key: str,
                sha: str, data: bytes, reason: dict[str, Any]) -> None:
    dest = object_key(tenant, "quarantine", business_date, batch, sha)
    res.store.put(dest, data)
    res.store.put(f"{dest}.reason.json", json.dumps({"source_key": key, **reason}).encode())
    with res.sessions() as session, contextlib.suppress(IntegrityError):
        # (suppressed: a run working the day at the same time recorded it first)
        session.add(File(tenant_id=tenant, batch_id=batch, direction="in", sha256=sha,
                         zone="quarantine", key=dest, source_key=key, size=len(data),
                         status="QUARANTINED", reason=reason))
        session.commit()


def _store_claims(session, tenant: str, batch: str, file_id: int,
                  claims: list[Claim]) -> None:
    rows = [{
        "tenant_id": tenant, "batch_id": batch, "file_id": file_id, "ordinal": n,
        "payer_id": c.payer.payer_id, "claim_type": c.claim_type.value,
        "patient_control_number": c.patient_control_number,
        "frequency_code": c.frequency_code, "billing_npi": c.billing_provider.npi[:10],
        "service_date": c.service_date, "total_charge": c.total_charge,
        "status": Status.RECEIVED.value,
    } for n, c in enumerate(claims)]
    ids = list(session.scalars(insert(ClaimRow).returning(ClaimRow.id,
                                                          sort_by_parameter_order=True), rows))
    session.execute(insert(ServiceLine), [{
        "claim_id": claim_id, "line_number": number, "procedure_code": line.procedure_code,
        "revenue_code": line.revenue_code, "modifiers": " ".join(line.modifiers),
        "charge": line.charge, "units": line.units, "service_date": line.service_date,
        "line_control_number": line.line_control_number,
    } for claim_id, claim in zip(ids, claims, strict=True)
        for number, line in enumerate(claim.service_lines, 1)])
    session.execute(insert(ClaimEvent), [
        {"claim_id": i, "from_status": None, "to_status": Status.RECEIVED.value,
         "stage": STAGE} for i in ids])
