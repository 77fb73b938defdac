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

A file is never held whole: it is copied from the store into a local temporary file a
chunk at a time (hashed on the way), its claims are read from there and inserted
``CLAIM_CHUNK`` at a time. The file row and all its claims go in one transaction, committed
only after the whole file is read and its raw copy stored: a crash, or a defect found at
the end of the file, leaves no half-ingested file for other stages to see or a later run
to clean up.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.claims.derived import next_payer_id
from revcycle.crashpoints import crash_point
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, File, Payer, ServiceLine
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import ensure_batch
from revcycle.pipeline.claimfiles import (
    CSV,
    ClaimFile,
    UnreadableClaimFile,
    collector_paused,
    detect_format,
    stream_claim_file,
)
from revcycle.pipeline.resources import Resources
from revcycle.status import Status
from revcycle.storage import (
    STREAM_CHUNK,
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
CLAIM_CHUNK = 5000  # claims read, then inserted with their lines and events, at a time


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
    with tempfile.TemporaryFile(prefix="revcycle-ingest-") as spool:
        try:
            spooled = _spool(res, key, spool)
        except ObjectNotFound:
            return "duplicates", 0  # ingested and cleaned up by the other run
        if bad_name is not None and key.endswith("/") and not spooled.size:
            return "skipped", 0  # an S3 "folder": the provider's, and not a file
        return _ingest_spooled(res, tenant, business_date, batch, key, bad_name, spooled)


@dataclass(slots=True)
class _Spooled:
    """A landing file's bytes in a local temporary file, with their sha256 and size."""

    data: IO[bytes]
    sha: str
    size: int


def _spool(res: Resources, key: str, spool: IO[bytes]) -> _Spooled:
    """Copy the landing object into a local temporary file a chunk at a time, hashing it:
    the object is read once from the store, and what is ingested cannot change meanwhile."""
    digest = hashlib.sha256()
    with res.store.open_listed(key) as source:
        while chunk := source.read(STREAM_CHUNK):
            digest.update(chunk)
            spool.write(chunk)
    size = spool.tell()
    spool.seek(0)
    return _Spooled(spool, digest.hexdigest(), size)


def _ingest_spooled(res: Resources, tenant: str, business_date: date, batch: str, key: str,
                    bad_name: dict[str, str] | None, spooled: _Spooled) -> tuple[str, int]:
    source_key = _storable(key)
    with res.sessions() as session:
        seen = session.scalar(select(File).where(
            File.tenant_id == tenant, File.direction == "in", File.sha256 == spooled.sha))
        if seen is not None and source_key not in (seen.source_key, *seen.other_source_keys):
            seen.other_source_keys = [*seen.other_source_keys, source_key]
            session.commit()
    if seen is not None:
        res.store.delete_listed(key)
        return "duplicates", 0
    try:
        if bad_name is not None:
            raise UnreadableClaimFile(bad_name)
        fmt = detect_format(spooled.data.read(4096))
        spooled.data.seek(0)
        raw_key = object_key(tenant, "raw", business_date, batch,
                             f"{spooled.sha}.{'csv' if fmt == CSV else 'x12'}")
        with res.sessions() as session:
            file = File(tenant_id=tenant, batch_id=batch, direction="in", sha256=spooled.sha,
                        zone="raw", key=raw_key, source_key=source_key, size=spooled.size,
                        format=fmt, status="RAW")
            session.add(file)
            try:
                session.flush()
            except IntegrityError:
                return "duplicates", 0  # the other run recorded it first (and owns cleanup)
            claims = _store_claims(session, tenant, batch, file, spooled.data, fmt)
            spooled.data.seek(0)
            res.store.put_stream(raw_key, spooled.data)
            crash_point("ingest.after_raw_put")
            session.commit()
    except UnreadableClaimFile as exc:  # every row of the file rolled back with its session
        spooled.data.seek(0)
        _quarantine(res, tenant, business_date, batch, source_key, spooled, exc.reason)
        res.store.delete_listed(key)
        return "quarantined", 0
    crash_point("ingest.after_commit")
    res.store.delete(key)
    return "files", claims


def _storable(key: str) -> str:
    """A listed key as the file row keeps it: a local name that is not UTF-8 with its
    bytes escaped, cut to the column's length."""
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")[
        :_KEY_CHARS]


def _reused_control_numbers(session: Session, tenant: str,
                            read: ClaimFile) -> list[dict[str, Any]]:
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
                source_key: str, spooled: _Spooled, reason: dict[str, Any]) -> None:
    dest = object_key(tenant, "quarantine", business_date, batch, spooled.sha)
    res.store.put_stream(dest, spooled.data)
    crash_point("ingest.after_quarantine_put")
    # Beside the file, its landing key as errors show it: the provider's name stays in the
    # database.
    res.store.put(f"{dest}.reason.json",
                  json.dumps({"source_key": shown_key(source_key), **reason}).encode())
    with res.sessions() as session, contextlib.suppress(IntegrityError):
        # (suppressed: a run working the day at the same time recorded it first)
        session.add(File(tenant_id=tenant, batch_id=batch, direction="in", sha256=spooled.sha,
                         zone="quarantine", key=dest, source_key=source_key,
                         size=spooled.size, status="QUARANTINED", reason=reason))
        session.commit()


def _store_claims(session: Session, tenant: str, batch: str, file: File, data: IO[bytes],
                  fmt: str) -> int:
    """Read the file's claims and insert them, their lines and events, ``CLAIM_CHUNK``
    claims at a time, in the session's transaction (not committed: a file that turns out
    unreadable at its end leaves no row), the cycle collector paused meanwhile and run over
    what is new after each chunk. Then the file row gets its defects; returns the number of
    claims."""
    found = ClaimFile([])
    chunk: list[Claim] = []
    payers: set[str] = set()
    count = 0
    with collector_paused():
        for claim in stream_claim_file(data, fmt, found):
            chunk.append(claim)
            if len(chunk) == CLAIM_CHUNK:
                _insert_chunk(session, tenant, batch, file.id, count, chunk, payers)
                count += len(chunk)
                chunk = []
                gc.collect(0)
        _insert_chunk(session, tenant, batch, file.id, count, chunk, payers)
    count += len(chunk)
    file.defects = found.defects + _reused_control_numbers(session, tenant, found)
    file.interchange_control_number = next(iter(found.interchange_control_numbers), "")[:9]
    return count


def _insert_chunk(session: Session, tenant: str, batch: str, file_id: int, first: int,
                  claims: list[Claim], payers: set[str]) -> None:
    """Insert a chunk of a file's claims (``first`` is the ordinal of its first); payers
    not in ``payers`` (those seen so far) are added first, if missing."""
    if not claims:
        return
    new = {c.payer.payer_id: c.payer.name for c in claims if c.payer.payer_id not in payers}
    if new:
        _add_payers(session, new)
        payers.update(new)
    rows = [{
        "tenant_id": tenant, "batch_id": batch, "file_id": file_id, "ordinal": first + n,
        "payer_id": c.payer.payer_id, "claim_type": c.claim_type.value,
        "patient_control_number": c.patient_control_number,
        "frequency_code": c.frequency_code, "billing_npi": c.billing_provider.npi[:10],
        "service_date": c.service_date, "total_charge": c.total_charge,
        "status": Status.RECEIVED.value,
        "payer_responsibility": c.subscriber.payer_responsibility[:1],
        "next_payer_id": next_payer_id(c),
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


def _add_payers(session: Session, payers: dict[str, str]) -> None:
    """The payers' rows, in the file's transaction: a row another run added first stays
    (``ON CONFLICT DO NOTHING``, so the transaction is not aborted)."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Payer)
    session.execute(statement.on_conflict_do_nothing(),
                    [{"id": pid, "name": name, "channel": ""}
                     for pid, name in sorted(payers.items())])
