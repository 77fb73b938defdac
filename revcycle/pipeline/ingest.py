"""Ingest: landing files into raw/ (or quarantine/) and their claims into the database.

Nothing leaves landing until it is safely in raw or quarantine and recorded: the landing
object is deleted only after the database commit, so a crash at any point is finished by
the next run. The same file dropped twice (same sha256) is ingested once; the other names
it came under are recorded on its row.

Whatever a provider puts in landing is taken or set aside, never left to block the day:
a name the store cannot address (a tab or line break, a leading dot, ``..``, an empty
folder) is quarantined under its sha256 like an unreadable file, its name kept on the file
row only; an S3 "folder" (an empty object whose key ends in ``/``, as the S3 console's
Create folder makes) is left where it is and skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from revcycle.crashpoints import crash_point
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, File, ServiceLine
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import ensure_batch, ensure_payer
from revcycle.pipeline.claimfiles import (
    CSV,
    ClaimFile,
    UnreadableClaimFile,
    detect_format,
    read_claim_file,
)
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from revcycle.storage import (
    InvalidKey,
    ObjectNotFound,
    check_key,
    object_key,
    shown_key,
    zone_prefix,
)

STAGE = "ingest"
log = logging.getLogger(__name__)
_KEY_CHARS = 400  # File.source_key's length


def ingest(res: Resources, tenant: str, business_date: date) -> dict[str, Any]:
    """Ingest every landing file of a tenant's business day; counts only in the result."""
    result = {"batch": "", "files": 0, "duplicates": 0, "quarantined": 0, "claims": 0,
              "skipped": 0}
    with res.sessions() as session:
        batch = ensure_batch(session, tenant, business_date)
        session.commit()
    result["batch"] = batch.id
    # Every landing file of the tenant: one dropped late for an earlier day is taken today.
    for key in res.store.list(zone_prefix(tenant, "landing")):
        outcome = _ingest_file(res, tenant, business_date, batch.id, key)
        result[outcome[0]] += 1
        result["claims"] += outcome[1]
    if result["skipped"]:
        log.info("ingest %s: %d S3 folder marker(s) in landing skipped and left in place"
                 " (empty objects whose key ends in '/')", batch.id, result["skipped"])
    return result


def _ingest_file(res: Resources, tenant: str, business_date: date, batch: str,
                 key: str) -> tuple[str, int]:
    """Ingest one landing file. Two runs of the day at once (a re-run started while the
    scheduled one works) may both reach a file: its row is unique, so one records it and
    the other counts it a duplicate; a file taken from landing meanwhile is one too."""
    try:
        check_key(key)
        bad_name = None
    except InvalidKey as exc:  # the message names the problem, never the name
        bad_name = {"error": "InvalidName", "code": "NAME",
                    "reason": f"the landing file's name cannot be used: {exc}"}
    try:
        data = res.store.get_listed(key)
    except ObjectNotFound:
        return "duplicates", 0  # ingested and cleaned up by the other run
    if bad_name is not None and key.endswith("/") and not data:
        return "skipped", 0  # an S3 "folder": the provider's, and not a file
    sha = hashlib.sha256(data).hexdigest()
    source_key = _storable(key)
    with res.sessions() as session:
        seen = session.scalar(select(File).where(
            File.tenant_id == tenant, File.direction == "in", File.sha256 == sha))
        if seen is not None and source_key not in (seen.source_key, *seen.other_source_keys):
            seen.other_source_keys = [*seen.other_source_keys, source_key]
            session.commit()
    if seen is not None:
        res.store.delete_listed(key)
        return "duplicates", 0
    try:
        if bad_name is not None:
            raise UnreadableClaimFile(bad_name)
        fmt = detect_format(data)
        read = read_claim_file(data, fmt)
    except UnreadableClaimFile as exc:
        _quarantine(res, tenant, business_date, batch, source_key, sha, data, exc.reason)
        res.store.delete_listed(key)
        return "quarantined", 0
    raw_key = object_key(tenant, "raw", business_date, batch,
                         f"{sha}.{'csv' if fmt == CSV else 'x12'}")
    res.store.put(raw_key, data)
    crash_point("ingest.after_raw_put")
    claims = read.claims
    with res.sessions() as session:
        for payer in sorted({(c.payer.payer_id, c.payer.name) for c in claims}):
            ensure_payer(session, *payer)
    with res.sessions() as session:
        file = File(tenant_id=tenant, batch_id=batch, direction="in", sha256=sha, zone="raw",
                    key=raw_key, source_key=source_key, size=len(data), format=fmt,
                    status="RAW", defects=read.defects + _reused_control_numbers(
                        session, tenant, read),
                    interchange_control_number=next(iter(
                        read.interchange_control_numbers), "")[:9])
        session.add(file)
        try:
            session.flush()
        except IntegrityError:
            return "duplicates", 0  # the other run recorded it first (and owns cleanup)
        _store_claims(session, tenant, batch, file.id, claims)
        session.commit()
    crash_point("ingest.after_commit")
    res.store.delete(key)
    return "files", len(claims)


def _storable(key: str) -> str:
    """A listed key as the file row keeps it: a local name that is not UTF-8 with its
    bytes escaped, cut to the column's length."""
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")[
        :_KEY_CHARS]


def _reused_control_numbers(session, tenant: str, read: ClaimFile) -> list[dict[str, Any]]:
    """An ISA13 that an earlier file of the tenant had: a defect (the file is still read;
    its acknowledgments may be hard to tell apart)."""
    numbers = [n for n in read.interchange_control_numbers if n]
    if not numbers:
        return []
    earlier = session.scalar(select(File.id).where(
        File.tenant_id == tenant, File.direction == "in",
        File.interchange_control_number.in_(numbers)).limit(1))
    if earlier is None:
        return []
    return [{"code": "ISA13_REUSED", "message": "ISA13 repeats the interchange control"
             " number of an earlier file of this tenant", "segment_number": None,
             "byte_offset": None}]


def _quarantine(res: Resources, tenant: str, business_date: date, batch: str,
                source_key: str, sha: str, data: bytes, reason: dict[str, Any]) -> None:
    dest = object_key(tenant, "quarantine", business_date, batch, sha)
    res.store.put(dest, data)
    crash_point("ingest.after_quarantine_put")
    # Beside the file, its landing key as errors show it: the provider's name stays in the
    # database.
    res.store.put(f"{dest}.reason.json",
                  json.dumps({"source_key": shown_key(source_key), **reason}).encode())
    with res.sessions() as session, contextlib.suppress(IntegrityError):
        # (suppressed: a run working the day at the same time recorded it first)
        session.add(File(tenant_id=tenant, batch_id=batch, direction="in", sha256=sha,
                         zone="quarantine", key=dest, source_key=source_key, size=len(data),
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
