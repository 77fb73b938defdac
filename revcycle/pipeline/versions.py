"""Claim versions: a biller's corrections and re-checks, and each claim's current content.

A claim's content is its provider's raw file until someone changes it: a biller
(:func:`correct`), a re-check, or the provider itself, sending a refused claim again under
its patient control number in a later file (:func:`correct_from_file`, called by ingest).
The first correction or re-check writes version 1 (the claim as read from the file, kept whole, so
the history is complete in the database and a diff is always against a stored version)
and then version 2; every later one adds the next. A claim never corrected has no row: the
raw file is its only version, and the 99 % of claims that go through untouched cost no
JSON copy of their PHI. :func:`current_claims` gives the stages each claim's latest
version, falling back to the raw file.

A corrected or re-checked claim goes back to RECEIVED (from REJECTED, DQ_FAILED or
PAYER_REJECTED) and into the batch of the business day it was corrected for (default:
today), so that day's run takes it through quality, scrub and submit with the day's other
claims, whatever day it first came in; the version records the batch. A claim corrected
after its day's run is taken by the next day's quality stage (:func:`adopt_waiting`), so
an unattended schedule picks it up without anyone re-running a day. A payer-rejected
claim leaves its old submission (the submission keeps its list of claims): it is sent
again in a new one. Errors name field paths, never values.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.claims.content import (
    ContentError,
    claim_from_json,
    claim_to_json,
    diff,
    field_type,
    parse_text,
    set_path,
)
from revcycle.claims.derived import next_payer_id
from revcycle.db.models import Batch, ClaimVersion, Edit, File, Payer, ServiceLine
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import ensure_batch, move
from revcycle.pipeline.claimfiles import load_claims
from revcycle.pipeline.handoff import ContentKey, Handoff, file_key, version_key
from revcycle.status import CORRECTABLE, Status
from revcycle.storage import ObjectStore

PROVIDER_FILE = "provider-file"
BILLER = "biller"
RECHECK = "recheck"


class CorrectionError(ValueError):
    """A correction that cannot be made; nothing was written. The message names the claim
    id, its status or the field path, never a value."""


@dataclass(slots=True)
class Correction:
    claim_id: int
    version: int
    batch_id: str
    changes: list[dict[str, str]] = field(default_factory=list)


def latest_versions(session: Session, claim_ids: Sequence[int]) -> dict[int, ClaimVersion]:
    """Each claim's latest stored version (claims with none are absent)."""
    found: dict[int, ClaimVersion] = {}
    for start in range(0, len(claim_ids), 500):
        chunk = list(claim_ids[start:start + 500])
        newest = (select(ClaimVersion.claim_id, func.max(ClaimVersion.version).label("v"))
                  .where(ClaimVersion.claim_id.in_(chunk))
                  .group_by(ClaimVersion.claim_id).subquery())
        for row in session.scalars(select(ClaimVersion).join(
                newest, (ClaimVersion.claim_id == newest.c.claim_id)
                & (ClaimVersion.version == newest.c.v))):
            found[row.claim_id] = row
    return found


def current_claims(session: Session, store: ObjectStore, rows: Sequence[ClaimRow],
                   handoff: Handoff | None = None) -> list[tuple[ClaimRow, Claim]]:
    """The claims of ``rows`` as they are now: the latest version where a claim has been
    corrected or re-checked, else as read from its raw file (``load_claims``), in the
    order of ``rows``. With a ``handoff``, a claim the stage before put on the shelf as
    this same content is taken from there instead of being read again."""
    versions = latest_versions(session, [r.id for r in rows])
    unversioned = [r for r in rows if r.id not in versions]
    files = {f.id: f for f in session.scalars(
        select(File).where(File.id.in_({r.file_id for r in unversioned})))} if unversioned else {}
    loaded: dict[int, Claim] = {}
    if handoff is not None:
        loaded = handoff.take({row.id: _content_key(row, versions.get(row.id), files)
                               for row in rows})
    from_files = [r for r in unversioned if r.id not in loaded]
    if from_files:
        loaded.update((row.id, claim) for row, claim in load_claims(store, files, from_files))
    for claim_id, version in versions.items():
        if claim_id not in loaded:
            loaded[claim_id] = claim_from_json(version.content)
    return [(row, loaded[row.id]) for row in rows]


def _content_key(row: ClaimRow, version: ClaimVersion | None,
                 files: Mapping[int, File]) -> ContentKey:
    """What the claim's current content is: its latest stored version, or its place in
    its raw file."""
    if version is not None:
        return version_key(version.id, version.changed_at)
    file = files[row.file_id]
    return file_key(file.sha256, file.format, row.ordinal)


def parse_changes(sets: Sequence[str], patch: Mapping[str, Any] | None = None
                  ) -> dict[str, Any]:
    """``--set PATH=VALUE`` options and a patch (``{"path": json value}``) as one mapping
    of field path to JSON value, each path checked and each text typed by its field."""
    changes: dict[str, Any] = {}
    try:
        for path, value in (patch or {}).items():
            field_type(path)
            changes[path] = value
        for item in sets:
            path, sep, text = item.partition("=")
            path = path.strip()
            if not sep or not path:
                raise CorrectionError("--set takes PATH=VALUE (e.g."
                                      " subscriber.member_id=...)")
            changes[path] = parse_text(field_type(path), text, path)
    except ContentError as exc:
        raise CorrectionError(f"{exc}; nothing was changed") from None
    if not changes:
        raise CorrectionError("nothing to change: give --set PATH=VALUE or --patch FILE")
    return changes


def correct(session: Session, store: ObjectStore, claim_id: int, changes: Mapping[str, Any],
            by: str, business_date: date) -> Correction:
    """Apply ``changes`` (field path -> JSON value) to the claim's current version, record
    the new version with its diff and move the claim back to RECEIVED in the batch of
    ``business_date``; commits. Raises ``CorrectionError`` (nothing written)."""
    by = _who(by)
    row = _correctable(session, claim_id)
    batch = ensure_batch(session, row.tenant_id, business_date).id  # commits if new
    row = _correctable(session, claim_id)
    (_, claim), = current_claims(session, store, [row])
    old = claim_to_json(claim)
    new = copy.deepcopy(old)
    try:
        for path, value in changes.items():
            set_path(new, path, value)
        corrected = claim_from_json(new)
    except ContentError as exc:
        session.rollback()
        raise CorrectionError(f"claim {claim_id}: {exc}; nothing was changed") from None
    found = diff(old, claim_to_json(corrected))
    if not found:
        session.rollback()
        raise CorrectionError(f"claim {claim_id}: the changes leave the claim as it is;"
                              " nothing was changed")
    try:
        version = _record(session, row, old, corrected, BILLER, by, found, batch)
        _reenter(session, [row], batch, BILLER)
        refresh_columns(session, [(row, corrected)])
        session.commit()
    except CorrectionError:
        session.rollback()
        raise
    except IntegrityError:
        # Two corrections of one claim at once: the second's version number is taken.
        # (SQLAlchemy's own message quotes the parameters: the claim's content.)
        session.rollback()
        raise CorrectionError(f"claim {claim_id} was changed by someone else meanwhile;"
                              " nothing was changed, try again") from None
    return Correction(claim_id, version, batch, found)


def recheck(session: Session, store: ObjectStore, tenant: str | None, status: Status,
            by: str, business_date: date, edit: str | None = None) -> dict[str, int]:
    """Every claim in ``status`` (of ``tenant``, with an edit ``edit``) back to RECEIVED as
    a new version of unchanged content, in the batch of ``business_date``, so that day's
    run checks it again (a payer module added, a code set loaded since); commits. Counts
    only."""
    if status not in CORRECTABLE:
        raise CorrectionError(f"claims {status} cannot be re-checked; only"
                              f" {', '.join(sorted(CORRECTABLE))} can")
    by = _who(by)
    query = select(ClaimRow).where(ClaimRow.status == status.value)
    if tenant:
        query = query.where(ClaimRow.tenant_id == tenant)
    if edit:
        query = query.where(ClaimRow.id.in_(select(Edit.claim_id).where(Edit.rule_id == edit)))
    rows = list(session.scalars(query.order_by(ClaimRow.id)))
    result = {"found": len(rows), "rechecked": 0}
    if not rows:
        return result
    batches = {t: ensure_batch(session, t, business_date).id
               for t in sorted({r.tenant_id for r in rows})}
    for start in range(0, len(rows), 500):
        chunk = [r for r in rows[start:start + 500] if r.status == status.value]
        current = current_claims(session, store, chunk)
        try:
            _record_all(session, [(row, claim_to_json(claim), claim, [],
                                   batches[row.tenant_id]) for row, claim in current],
                        RECHECK, by)
            for tenant_id, batch in batches.items():
                moved = _reenter(session, [r for r in chunk if r.tenant_id == tenant_id],
                                 batch, RECHECK)
                result["rechecked"] += len(moved)
            session.commit()
        except CorrectionError:
            session.rollback()
            raise
        except IntegrityError:
            session.rollback()  # not shown: its message quotes the claims' content
            raise CorrectionError(f"claims were changed by someone else meanwhile;"
                                  f" {result['rechecked']} re-checked before that, run"
                                  " the re-check again for the rest") from None
    return result


def correct_from_file(session: Session, store: ObjectStore,
                      items: Sequence[tuple[ClaimRow, Claim]], batch: str, file_id: int
                      ) -> dict[int, int]:
    """A provider's corrected file: each (known claim in CORRECTABLE, the file's claim of
    its patient control number) becomes the known claim's next version (source
    ``provider-file``, by ``provider file <file id>``, with the diff against its current
    version; an identical resend is a version with an empty diff: the provider says "try
    again"), and the claim goes back to RECEIVED into ``batch`` with its columns and
    service lines as the file has them. In the caller's transaction (ingest: the file's),
    never committed here; returns each claim's new version number. A claim moved by
    someone else meanwhile raises ``CorrectionError`` (the caller rolls back)."""
    if not items:
        return {}
    by = f"provider file {file_id}"
    rows = [row for row, _ in items]
    current = dict((row.id, claim) for row, claim in current_claims(session, store, rows))
    records = []
    for row, claim in items:
        old = claim_to_json(current[row.id])
        records.append((row, old, claim, diff(old, claim_to_json(claim)), batch))
    numbers = _record_all(session, records, PROVIDER_FILE, by)
    _reenter(session, rows, batch, PROVIDER_FILE)
    refresh_columns(session, items)
    return numbers


def waiting_from_earlier_days(batch: Batch) -> Select[tuple[int]]:
    """The ids of corrected or re-checked claims of the batch's tenant still RECEIVED in
    the batch of an earlier day: corrected after that day's run, they wait for the next."""
    return (select(ClaimRow.id).join(Batch, Batch.id == ClaimRow.batch_id)
            .where(ClaimRow.tenant_id == batch.tenant_id,
                   ClaimRow.status == Status.RECEIVED.value,
                   Batch.business_date < batch.business_date,
                   ClaimRow.id.in_(select(ClaimVersion.claim_id))))


def adopt_waiting(session: Session, batch: Batch) -> int:
    """Move the claims :func:`waiting_from_earlier_days` into ``batch`` (its run takes them
    through quality, scrub and submit); returns how many, in the caller's transaction."""
    ids = list(session.scalars(waiting_from_earlier_days(batch)))
    if ids:
        session.execute(update(ClaimRow).where(ClaimRow.id.in_(ids),
                                               ClaimRow.status == Status.RECEIVED.value)
                        .values(batch_id=batch.id)
                        .execution_options(synchronize_session=False))
    return len(ids)


def versions_of(session: Session, claim_id: int) -> list[ClaimVersion]:
    return list(session.scalars(select(ClaimVersion).where(
        ClaimVersion.claim_id == claim_id).order_by(ClaimVersion.version)))


def _correctable(session: Session, claim_id: int) -> ClaimRow:
    row = session.get(ClaimRow, claim_id)
    if row is None:
        raise CorrectionError(f"no claim {claim_id}")
    if row.status not in CORRECTABLE:
        if row.status in (Status.RECEIVED, Status.VALIDATED, Status.READY):
            why = " It has not been refused: it is still on its way."
        elif row.status in (Status.SUBMITTED, Status.ACCEPTED):
            why = (" It is with the payer: wait for its answer (once adjudicated, a"
                   " replacement claim, frequency 7, corrects it).")
        else:
            why = " A claim the payer adjudicated is corrected by a replacement claim" \
                  " (frequency 7)."
        raise CorrectionError(f"claim {claim_id} is {row.status}: only"
                              f" {', '.join(sorted(CORRECTABLE))} claims are corrected"
                              f" here.{why}")
    return row


def _who(by: str) -> str:
    by = by.strip()
    if not by:
        raise CorrectionError("say who makes the change (--by NAME)")
    if len(by) > 60:
        raise CorrectionError("--by takes at most 60 characters")
    return by


def _record(session: Session, row: ClaimRow, old: dict[str, Any], new: Claim, source: str,
            by: str, changes: list[dict[str, str]], batch: str) -> int:
    """Write the next version (version 1 first, from the file, if the claim has none)."""
    return _record_all(session, [(row, old, new, changes, batch)], source, by)[row.id]


def _record_all(session: Session,
                items: Sequence[tuple[ClaimRow, dict[str, Any], Claim, list[dict[str, str]],
                                      str]],
                source: str, by: str) -> dict[int, int]:
    """The next version of each (row, old content, new claim, changes, batch), written in
    one insert, version 1 first (from the file) for a claim that has none; returns each
    claim's new version number."""
    ids = [row.id for row, *_ in items]
    lasts: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        lasts.update(session.execute(
            select(ClaimVersion.claim_id, func.max(ClaimVersion.version))
            .where(ClaimVersion.claim_id.in_(ids[start:start + 500]))
            .group_by(ClaimVersion.claim_id)).all())
    first_files = {row.file_id for row, *_ in items if row.id not in lasts}
    received = dict(session.execute(select(File.id, File.received_at).where(
        File.id.in_(first_files))).all()) if first_files else {}
    values: list[dict[str, Any]] = []
    numbers: dict[int, int] = {}
    now = datetime.now()
    for row, old, new, changes, batch in items:
        last = lasts.get(row.id, 0)
        if not last:
            values.append({"claim_id": row.id, "version": 1, "content": old,
                           "source": PROVIDER_FILE, "changed_by": "",
                           "changed_at": received[row.file_id], "diff": [],
                           "batch_id": row.batch_id})
            last = 1
        values.append({"claim_id": row.id, "version": last + 1,
                       "content": claim_to_json(new), "source": source, "changed_by": by,
                       "changed_at": now, "diff": changes, "batch_id": batch})
        numbers[row.id] = last + 1
    session.execute(insert(ClaimVersion), values)
    return numbers


def _reenter(session: Session, rows: Sequence[ClaimRow], batch: str, stage: str
             ) -> list[int]:
    """Move the claims back to RECEIVED (each from its status) into ``batch``, out of any
    submission, their duplicate key cleared (scrub sets it again). A claim moved by
    someone else meanwhile raises ``CorrectionError``; the caller rolls back."""
    moved: list[int] = []
    for status in CORRECTABLE:
        ids = [r.id for r in rows if r.status == status.value]
        moved += move(session, ids, status, Status.RECEIVED, stage)
    if len(moved) != len(rows):
        raise CorrectionError("a claim was changed by someone else meanwhile (its status);"
                              " nothing was changed, try again")
    if moved:
        session.execute(update(ClaimRow).where(ClaimRow.id.in_(moved)).values(
            batch_id=batch, submission_id=None, duplicate_key="")
            .execution_options(synchronize_session=False))
    return moved


def claim_columns(claim: Claim) -> dict[str, Any]:
    """The columns of a claim's row that come from its content (what stages query and
    report on): ingest writes them, a new version refreshes them."""
    return {"payer_id": claim.payer.payer_id, "claim_type": claim.claim_type.value,
            "patient_control_number": claim.patient_control_number,
            "frequency_code": claim.frequency_code,
            "billing_npi": claim.billing_provider.npi[:10],
            "service_date": claim.service_date, "total_charge": claim.total_charge,
            "payer_responsibility": claim.subscriber.payer_responsibility[:1],
            "next_payer_id": next_payer_id(claim)}


def line_rows(claim_id: int, claim: Claim) -> list[dict[str, Any]]:
    """The service line rows of a claim's content."""
    return [{"claim_id": claim_id, "line_number": number,
             "procedure_code": line.procedure_code, "revenue_code": line.revenue_code,
             "modifiers": " ".join(line.modifiers), "charge": line.charge,
             "units": line.units, "service_date": line.service_date,
             "line_control_number": line.line_control_number}
            for number, line in enumerate(claim.service_lines, 1)]


def refresh_columns(session: Session, items: Sequence[tuple[ClaimRow, Claim]]) -> None:
    """The columns stages query and report on, and the service line rows, as each
    (row, claim) now is: one update, one delete and one insert per 500 claims."""
    for payer_id, name in {c.payer.payer_id: c.payer.name for _, c in items}.items():
        _payer_row(session, payer_id, name)
    for start in range(0, len(items), 500):
        chunk = items[start:start + 500]
        session.execute(update(ClaimRow), [{"id": row.id, **claim_columns(claim)}
                                           for row, claim in chunk])
        session.execute(delete(ServiceLine).where(
            ServiceLine.claim_id.in_([row.id for row, _ in chunk])))
        lines = [line for row, claim in chunk for line in line_rows(row.id, claim)]
        if lines:
            session.execute(insert(ServiceLine), lines)


def _payer_row(session: Session, payer_id: str, name: str) -> None:
    """A payer a correction names must have its row; made inside the caller's transaction
    (``batches.ensure_payer`` commits, which would commit the correction half-made)."""
    if session.get(Payer, payer_id) is None:
        session.add(Payer(id=payer_id, name=name, channel=""))
        session.flush()

