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

A provider corrects a claim by sending it again, in a later file, under the same patient
control number (CLM01). A claim whose number the tenant already knows from another file
goes by its known claim's status (:func:`known_claim`: the oldest of that number not
VOIDED, billing the same payer if one does; looked up 500 numbers per query; then
:func:`_route`). Refused (REJECTED, DQ_FAILED, PAYER_REJECTED): it is the known claim's
next version (:func:`versions.correct_from_file`: the diff, back to RECEIVED in this
batch, so today's run takes it through quality, scrub and submit; an identical resend
too, with an empty diff: the provider says "try again"). Adjudicated or reversed and a
replacement (7) or void (8): the known claim's next version by
``revcycle.pipeline.resubmit``. Otherwise (on its way, or adjudicated and this an
original) it is a claim of its own, which scrub rejects with DUP-PCN; a number whose
claims are all VOIDED makes a fresh claim. All of it in the file's transaction: a crash
leaves neither the version nor a row, and the re-run (the file still in landing) makes it
once; the same file again is a duplicate file. A known claim changed by someone else
meanwhile leaves the file in landing for the next run (``deferred``). The second claim of
one number in one file is never a correction: it is a claim of its own.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import tempfile
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.crashpoints import crash_point
from revcycle.db.bulk import insert_rows, insert_rows_with_ids
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
from revcycle.pipeline.handoff import file_key, handoff_for
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.versions import (
    CorrectionError,
    claim_columns,
    correct_from_file,
    line_rows,
)
from revcycle.status import CORRECTABLE, RESUBMITTABLE, Status
from revcycle.storage import (
    STREAM_CHUNK,
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
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
    """Ingest every landing file of a tenant's business day; counts only in the result:
    ``claims`` read from new files, of which ``corrections`` (the next version of a known
    refused claim, back to RECEIVED in this batch) and ``replacements`` (a replacement or
    void of a known adjudicated claim); the rest are new claims."""
    result = {"batch": "", "files": 0, "duplicates": 0, "quarantined": 0, "claims": 0,
              "skipped": 0, "deferred": 0, "corrections": 0, "replacements": 0}
    with res.sessions() as session:
        batch = ensure_batch(session, tenant, business_date)
        session.commit()
    result["batch"] = batch.id
    # Every landing file of the tenant: one dropped late for an earlier day is taken today.
    for key in res.store.list(zone_prefix(tenant, "landing")):
        outcome, tally = _ingest_file(res, tenant, business_date, batch.id, key)
        result[outcome] += 1
        result["claims"] += tally.claims
        result["corrections"] += tally.corrections
        result["replacements"] += tally.replacements
    if result["skipped"]:
        log.info("ingest %s: %d S3 folder marker(s) in landing skipped and left in place"
                 " (empty objects whose key ends in '/')", batch.id, result["skipped"])
    return result


def _ingest_file(res: Resources, tenant: str, business_date: date, batch: str,
                 key: str) -> tuple[str, _Tally]:
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
            return "duplicates", _Tally()  # ingested and cleaned up by the other run
        if bad_name is not None and key.endswith("/") and not spooled.size:
            return "skipped", _Tally()  # an S3 "folder": the provider's, and not a file
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
                    bad_name: dict[str, str] | None, spooled: _Spooled
                    ) -> tuple[str, _Tally]:
    source_key = _storable(key)
    with res.sessions() as session:
        seen = session.scalar(select(File).where(
            File.tenant_id == tenant, File.direction == "in", File.sha256 == spooled.sha))
        if seen is not None and source_key not in (seen.source_key, *seen.other_source_keys):
            seen.other_source_keys = [*seen.other_source_keys, source_key]
            session.commit()
    if seen is not None:
        res.store.delete_listed(key)
        return "duplicates", _Tally()
    try:
        if bad_name is not None:
            raise UnreadableClaimFile(bad_name)
        handoff = handoff_for(res)  # (its installation id may need a session of its own)
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
                return "duplicates", _Tally()  # the other run recorded it first
            claims = _store_claims(session, res.store, tenant, batch, file, spooled.data, fmt,
                                   _Tally(new=deque(maxlen=handoff.limit)))
            spooled.data.seek(0)
            res.store.put_stream(raw_key, spooled.data)
            crash_point("ingest.after_raw_put")
            session.commit()
        handoff.put_read((claim_id, file_key(spooled.sha, fmt, ordinal), claim)
                         for claim_id, ordinal, claim in claims.new)
        claims.new.clear()
    except KnownClaimMoved as exc:  # rolled back with its session; the file stays in landing
        log.warning("ingest %s: a file left in landing for the next run: %s", batch, exc)
        return "deferred", _Tally()
    except UnreadableClaimFile as exc:  # every row of the file rolled back with its session
        spooled.data.seek(0)
        _quarantine(res, tenant, business_date, batch, source_key, spooled, exc.reason)
        res.store.delete_listed(key)
        return "quarantined", _Tally()
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


class KnownClaimMoved(Exception):
    """A known claim a file's claim corrects was changed meanwhile (a biller's correction
    or another run's file at the same moment): the file is rolled back and left in landing;
    the next run takes it, routing its claims by the known claims' statuses then."""


@dataclass(slots=True)
class _Tally:
    """What a file's claims became: all read (``claims``), of which corrections of known
    refused claims and replacements or voids of known adjudicated ones. ``new`` keeps the
    last claims inserted, ``(id, ordinal, claim)``, for the quality stage to take
    (:mod:`revcycle.pipeline.handoff`): no more than the shelf holds."""

    claims: int = 0
    corrections: int = 0
    replacements: int = 0
    new: deque[tuple[int, int, Claim]] = field(default_factory=lambda: deque(maxlen=0))


def _store_claims(session: Session, store: ObjectStore, tenant: str, batch: str, file: File,
                  data: IO[bytes], fmt: str, tally: _Tally) -> _Tally:
    """Read the file's claims and store them, ``CLAIM_CHUNK`` claims at a time, in the
    session's transaction (not committed: a file that turns out unreadable at its end
    leaves no row, and no version of a known claim), the cycle collector paused meanwhile
    and run over what is new after each chunk. Then the file row gets its defects."""
    found = ClaimFile([])
    chunk: list[Claim] = []
    payers: set[str] = set()
    in_file: set[str] = set()
    with collector_paused():
        for claim in stream_claim_file(data, fmt, found):
            chunk.append(claim)
            if len(chunk) == CLAIM_CHUNK:
                _store_chunk(session, store, tenant, batch, file.id, tally, chunk, payers,
                             in_file)
                chunk = []
                gc.collect(0)
        _store_chunk(session, store, tenant, batch, file.id, tally, chunk, payers, in_file)
    file.defects = found.defects + _reused_control_numbers(session, tenant, found)
    file.interchange_control_number = next(iter(found.interchange_control_numbers), "")[:9]
    return tally


def _store_chunk(session: Session, store: ObjectStore, tenant: str, batch: str,
                 file_id: int, tally: _Tally, claims: list[Claim], payers: set[str],
                 in_file: set[str]) -> None:
    """Store a chunk of a file's claims (``tally.claims`` is the ordinal of its first).
    A claim whose patient control number the tenant already knows (from another file) is
    handled by the known claim's status (:func:`_route`); the rest are inserted."""
    if not claims:
        return
    first = tally.claims
    tally.claims += len(claims)
    new = {c.payer.payer_id: c.payer.name for c in claims if c.payer.payer_id not in payers}
    if new:
        _add_payers(session, new)
        payers.update(new)
    known = known_claims(session, tenant,
                         {c.patient_control_number for c in claims} - in_file)
    inserts: list[tuple[int, Claim]] = []
    corrections: list[tuple[ClaimRow, Claim]] = []
    for n, claim in enumerate(claims):
        pcn = claim.patient_control_number
        row = None if pcn in in_file else known_claim(known.get(pcn, ()),
                                                      claim.payer.payer_id)
        in_file.add(pcn)
        route = _route(row, claim)
        if route == CORRECTION and row is not None:
            corrections.append((row, claim))
        elif (route == REPLACEMENT and row is not None
              and _replace(session, store, row, claim, batch, file_id)):
            tally.replacements += 1
        else:
            inserts.append((first + n, claim))
    ids = _insert_claims(session, tenant, batch, file_id, inserts)
    tally.new.extend((claim_id, ordinal, claim)
                     for claim_id, (ordinal, claim) in zip(ids, inserts, strict=True))
    try:
        correct_from_file(session, store, corrections, batch, file_id)
    except (CorrectionError, IntegrityError):
        # (not chained: an IntegrityError's message quotes the claims' content)
        raise KnownClaimMoved(f"a claim of file {file_id} corrects a known claim someone"
                              " changed meanwhile") from None
    tally.corrections += len(corrections)


CORRECTION = "correction"
REPLACEMENT = "replacement"
NEW = "new"


def _route(known: ClaimRow | None, claim: Claim) -> str:
    """What a file's claim is, given the tenant's known claim of its patient control
    number: the next version of a refused claim (CORRECTABLE), a replacement (7) or void
    (8) of an adjudicated or reversed one (RESUBMITTABLE), else a claim of its own (a
    fresh claim after a void; or one that scrub rejects with DUP-PCN, the known claim being
    on its way or adjudicated and this no replacement)."""
    if known is None:
        return NEW
    status = Status(known.status)
    if status in CORRECTABLE:
        return CORRECTION
    if status in RESUBMITTABLE and claim.frequency_code in ("7", "8"):
        return REPLACEMENT
    return NEW


def known_claims(session: Session, tenant: str, pcns: Collection[str]
                 ) -> dict[str, list[ClaimRow]]:
    """The tenant's claims of each patient control number that are not VOIDED, oldest
    first; one query per 500 numbers (ix_claims_tenant_pcn). :func:`known_claim` picks
    the one a claim of that number meets."""
    numbers = sorted(pcns)
    found: dict[str, list[ClaimRow]] = {}
    for start in range(0, len(numbers), 500):
        for row in session.scalars(select(ClaimRow).where(
                ClaimRow.tenant_id == tenant,
                ClaimRow.patient_control_number.in_(numbers[start:start + 500]),
                ClaimRow.status != Status.VOIDED.value).order_by(ClaimRow.id)):
            found.setdefault(row.patient_control_number, []).append(row)
    return found


def known_claim(candidates: Sequence[ClaimRow], payer_id: str) -> ClaimRow | None:
    """The known claim of a number, for a claim billing ``payer_id``: the oldest of the
    number's claims (not VOIDED) billing that payer, else the oldest of all. A number is
    one claim per payer: the same number to another payer (a provider's secondary claim)
    is a claim of its own, and a correction may change the payer. A later claim of the
    number and payer is a duplicate scrub rejected (DUP-PCN) or the fresh claim made after
    a void."""
    return next((r for r in candidates if r.payer_id == payer_id),
                candidates[0] if candidates else None)


def _replace(session: Session, store: ObjectStore, row: ClaimRow, claim: Claim, batch: str,
             file_id: int) -> bool:
    """A replacement or void of an adjudicated claim, as its next version
    (``revcycle.pipeline.resubmit``, in the file's transaction). Refused (its reason
    logged: ids and statuses, no values), the file's claim is stored as its own row, which
    scrub rejects with DUP-PCN. The known claim changed meanwhile (resubmit rolled the
    transaction back, or its version number is taken) raises ``KnownClaimMoved``."""
    from revcycle.pipeline import resubmit

    try:
        resubmit.from_provider_file(session, store, row, claim, batch, file_id)
    except resubmit.ResubmitError as exc:
        if not session.in_transaction():  # rolled back: the file's rows are gone too
            raise KnownClaimMoved(f"a claim of file {file_id} replaces or voids claim"
                                  f" {row.id}, which someone changed meanwhile") from None
        log.warning("ingest: a claim of file %s was not taken as a replacement or void of"
                    " claim %s: %s", file_id, row.id, exc)
        return False
    except IntegrityError:
        raise KnownClaimMoved(f"a claim of file {file_id} replaces or voids claim {row.id},"
                              " which someone changed meanwhile") from None
    return True


def _insert_claims(session: Session, tenant: str, batch: str, file_id: int,
                   claims: list[tuple[int, Claim]]) -> list[int]:
    """Insert claims of a file (each with its ordinal), their lines and events: COPY on
    PostgreSQL (``revcycle.db.bulk``); their new ids, in order."""
    if not claims:
        return []
    rows = [{"tenant_id": tenant, "batch_id": batch, "file_id": file_id, "ordinal": ordinal,
             "status": Status.RECEIVED.value, **claim_columns(c)} for ordinal, c in claims]
    ids = insert_rows_with_ids(session, ClaimRow.__table__, rows)
    insert_rows(session, ServiceLine.__table__,
                [line for claim_id, (_, claim) in zip(ids, claims, strict=True)
                 for line in line_rows(claim_id, claim)])
    insert_rows(session, ClaimEvent.__table__, [
        {"claim_id": i, "from_status": None, "to_status": Status.RECEIVED.value,
         "stage": STAGE} for i in ids])
    return ids


def _add_payers(session: Session, payers: dict[str, str]) -> None:
    """The payers' rows, in the file's transaction: a row another run added first stays
    (``ON CONFLICT DO NOTHING``, so the transaction is not aborted)."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Payer)
    session.execute(statement.on_conflict_do_nothing(),
                    [{"id": pid, "name": name, "channel": ""}
                     for pid, name in sorted(payers.items())])
