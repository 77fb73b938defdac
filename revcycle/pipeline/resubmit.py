"""Replacement (frequency 7) and void (8) of a claim the payer adjudicated.

A payer that has decided a claim is not sent the claim again as new: a correction goes as
a *replacement* of it, a claim sent in error as a *void*, each naming the payer's claim
control number (the 835's CLP07) in REF*F8 (837 TR3, 2300 loop). Neither is a new claim
here: it is the next version of the same claim (``claim_versions``), back to RECEIVED in
the batch of the day it is made for, so that day's run takes it through quality, scrub and
submit like any correction (:mod:`revcycle.pipeline.versions`). Keeping one row per claim
is what makes the books close:

- the replacement takes over the original's charge: submission books only a changed
  total's difference (:func:`revcycle.pipeline.charges.book_charges`), so the charge is
  counted once and the original never sits in A/R beside its replacement;
- the payer answers with a reversal of its first decision (CLP02 22, naming the original
  CLP07), which posts on this claim while the replacement is with the payer, then with its
  decision on the replacement, which posts as any payment does;
- a void books nothing when sent; the payer's reversal takes back what it decided and
  then the charge leaves the books (:func:`revcycle.pipeline.charges.void_charges`): the
  claim is VOIDED with nothing open.

Refusals are a typed :class:`ResubmitError` naming the claim id and the reason, never a
value from the claim (claims carry PHI).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.claims.content import ContentError, claim_from_json, claim_to_json, diff, set_path
from revcycle.claims.derived import DerivedClaimError, replacement_claim, void_claim
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ServiceLine
from revcycle.model.claim import Claim
from revcycle.pipeline.batches import ensure_batch, move
from revcycle.pipeline.versions import (
    BILLER,
    PROVIDER_FILE,
    Correction,
    CorrectionError,
    _payer_row,
    _record_all,
    _who,
    claim_columns,
    current_claims,
    line_rows,
)
from revcycle.status import RESUBMITTABLE, Status
from revcycle.storage import ObjectStore

REPLACEMENT = "7"
VOID = "8"
_KINDS = {REPLACEMENT: "replacement", VOID: "void"}


class ResubmitError(CorrectionError):
    """A replacement or void that cannot be made; nothing was written."""


def replace(session: Session, store: ObjectStore, claim_id: int,
            changes: Mapping[str, Any], by: str, business_date: date) -> Correction:
    """A biller's replacement (7) of an adjudicated claim, with ``changes`` (field path ->
    JSON value, as ``versions.parse_changes`` gives them) applied; commits."""
    return _resubmit(session, store, claim_id, REPLACEMENT, changes, by, business_date)


def void(session: Session, store: ObjectStore, claim_id: int, by: str,
         business_date: date) -> Correction:
    """A biller's void (8) of an adjudicated claim; commits."""
    return _resubmit(session, store, claim_id, VOID, {}, by, business_date)


def from_provider_file(session: Session, store: ObjectStore, row: ClaimRow, claim: Claim,
                       batch_id: str, file_id: int) -> int:
    """A provider's own replacement or void (``claim`` as read from its new file) of the
    adjudicated claim ``row``: its next version, back to RECEIVED in ``batch_id``, in the
    caller's transaction; returns the version number. A provider's REF*F8 is kept when it
    gives one, else the payer's claim number we hold is filled in."""
    frequency = claim.frequency_code
    if frequency not in _KINDS:
        raise ResubmitError(f"claim {row.id}: frequency {frequency} is not a replacement"
                            " (7) or void (8)")
    _check(row, _KINDS[frequency])
    (_, current), = current_claims(session, store, [row])
    number = claim.original_claim_reference or row.payer_claim_control_number
    new = _derive(row.id, claim, number, frequency)
    return _write(session, row, current, new, PROVIDER_FILE, f"provider file {file_id}",
                  batch_id)


def _resubmit(session: Session, store: ObjectStore, claim_id: int, frequency: str,
              changes: Mapping[str, Any], by: str, business_date: date) -> Correction:
    by = _who(by)
    kind = _KINDS[frequency]
    _check(_row(session, claim_id), kind)
    batch = ensure_batch(session, _row(session, claim_id).tenant_id, business_date).id
    row = _row(session, claim_id)  # read again: ensure_batch may have committed
    _check(row, kind)
    (_, current), = current_claims(session, store, [row])
    content = copy.deepcopy(claim_to_json(current))
    try:
        for path, value in changes.items():
            set_path(content, path, value)
        edited = claim_from_json(content)
    except ContentError as exc:
        session.rollback()
        raise ResubmitError(f"claim {claim_id}: {exc}; nothing was changed") from None
    new = _derive(claim_id, edited, row.payer_claim_control_number, frequency)
    try:
        version = _write(session, row, current, new, BILLER, by, batch)
        session.commit()
    except IntegrityError:
        session.rollback()  # not shown: its message quotes the claim's content
        raise ResubmitError(f"claim {claim_id} was changed by someone else meanwhile;"
                            " nothing was changed, try again") from None
    return Correction(claim_id, version, batch, diff(claim_to_json(current),
                                                     claim_to_json(new)))


def _row(session: Session, claim_id: int) -> ClaimRow:
    row = session.get(ClaimRow, claim_id)
    if row is None:
        raise ResubmitError(f"no claim {claim_id}")
    return row


def _check(row: ClaimRow, kind: str) -> None:
    if row.status not in RESUBMITTABLE:
        raise ResubmitError(
            f"claim {row.id} is {row.status}: a {kind} follows a payer's decision (a claim"
            f" {', '.join(sorted(RESUBMITTABLE))}); a refused claim is corrected with"
            " `revcycle claims correct`, one still with the payer waits for its answer")
    if row.prior_claim_id is not None:
        raise ResubmitError(f"claim {row.id} is a claim we billed to the next payer from"
                            f" claim {row.prior_claim_id}: replace or void that one")
    if not row.payer_claim_control_number:
        raise ResubmitError(f"claim {row.id}: a {kind} names the payer's claim control"
                            " number (835 CLP07) in REF*F8, and the payer gave none for this"
                            " claim; ask the payer for it")


def _derive(claim_id: int, claim: Claim, number: str, frequency: str) -> Claim:
    try:
        if frequency == VOID:
            return void_claim(claim, number)
        return replacement_claim(claim, number)
    except DerivedClaimError as exc:
        raise ResubmitError(f"claim {claim_id}: {exc.reason}") from None


def _write(session: Session, row: ClaimRow, current: Claim, new: Claim, source: str,
           by: str, batch: str) -> int:
    """The new version, the claim back to RECEIVED in ``batch`` and its columns and lines
    as the new version says, in the caller's transaction."""
    old = claim_to_json(current)
    version = _record_all(session, [(row, old, new, diff(old, claim_to_json(new)), batch)],
                          source, by)[row.id]
    if not move(session, [row.id], Status(row.status), Status.RECEIVED, _KINDS[
            new.frequency_code]):
        session.rollback()
        raise ResubmitError(f"claim {row.id} was changed by someone else meanwhile (its"
                            " status); nothing was changed, try again")
    _payer_row(session, new.payer.payer_id, new.payer.name)
    session.execute(update(ClaimRow).where(ClaimRow.id == row.id).values(
        batch_id=batch, submission_id=None, duplicate_key="", **claim_columns(new))
        .execution_options(synchronize_session=False))
    _refresh_lines(session, row.id, new)
    return version


def _refresh_lines(session: Session, claim_id: int, claim: Claim) -> None:
    """The claim's line rows as the new version bills them, each keeping what was paid on
    it (the payer's reversal takes that back line by line); a line no longer billed is
    dropped unless something was paid on it."""
    existing = {line.line_number: line for line in session.scalars(
        select(ServiceLine).where(ServiceLine.claim_id == claim_id))}
    for values in line_rows(claim_id, claim):
        if values["line_number"] in existing:
            session.execute(update(ServiceLine).where(
                ServiceLine.id == existing.pop(values["line_number"]).id).values(**values))
        else:
            session.execute(insert(ServiceLine).values(**values))
    gone = [line.id for line in existing.values() if not line.paid]
    if gone:
        session.execute(delete(ServiceLine).where(ServiceLine.id.in_(gone)))
