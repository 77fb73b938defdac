"""The payer mailbox: collect what payers leave on their channels, keep it, route it.

**Collect** (once a day per payer, not per batch): every file a payer's channels hold is
stored, as it came, under the tenant-neutral ``_mailbox/mailbox/<day>/<payer>/<sha256>``
and recorded (``mailbox_files``, unique by sha256), and only then acknowledged on the
channel (deleted or archived there). A crash between the two collects it again; the
second copy is recognised by its sha256, not stored twice, and acknowledged.

**Route**: each file is routed by what it says (``revcycle.pipeline.routing``), one
transaction set at a time. A routed set is put in its tenant's inbound zone under the
day's batch and recorded (``mailbox_routes``) with what it matched by; the acknowledgment
and posting stages then apply it whatever day its claims were sent, and whatever day it is
applied (``pending_pieces``). A set that routes nowhere, or to two places, is recorded
with its reason and message (``revcycle queue unrouted``) and looked at again on every
route run, so a fix (a provider registered, a payer module added) routes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.channels import PayerRoute
from revcycle.crashpoints import crash_point
from revcycle.db.models import File, MailboxFile, MailboxRoute
from revcycle.pipeline.batches import MAILBOX, ensure_batch
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.routing import Routed, Router, Unrouted
from revcycle.storage import object_key


def mailbox_key(day: date, payer_id: str, sha256: str) -> str:
    return object_key(MAILBOX, "mailbox", day, payer_id, sha256)


def collect_mailbox(res: Resources, payer_id: str, route: PayerRoute,
                    day: date) -> dict[str, Any]:
    """Store and record every file the payer's channels hold, then acknowledge each."""
    collected = duplicates = 0
    for channel, name, data in route.collect():
        sha = hashlib.sha256(data).hexdigest()
        key = mailbox_key(day, payer_id, sha)
        if not res.store.exists(key):
            res.store.put(key, data)
        with res.sessions() as session:
            try:
                session.add(MailboxFile(sha256=sha, payer_id=payer_id, channel=channel.label,
                                        remote_name=name[:400], key=key, size=len(data),
                                        collected_on=day, status="COLLECTED"))
                session.commit()
                collected += 1
            except IntegrityError:  # collected before (a crash before its acknowledgment)
                session.rollback()
                duplicates += 1
        crash_point("collect.after_store")
        channel.acknowledge(name)
    if route.unreachable and len(route.unreachable) == len(route.channels):
        raise route.unreachable[0]  # no channel of the payer could be read: an outage
    return {"payer": payer_id, "collected": collected, "duplicates": duplicates,
            "unreachable": [error.channel for error in route.unreachable]}


def route_mailbox(res: Resources, router: Router, day: date) -> dict[str, Any]:
    """Route every collected file not routed whole yet; one transaction per file."""
    with res.sessions() as session:
        waiting = list(session.scalars(select(MailboxFile).where(
            MailboxFile.status != "ROUTED").order_by(MailboxFile.id)))
    counts = {"files": len(waiting), "routed": 0, "unrouted": 0}
    for file in waiting:
        outcome = _route_file(res, router, file, day)
        counts["routed"] += outcome.routed
        counts["unrouted"] += outcome.unrouted
        crash_point("route.after_file")
    return counts


@dataclass(frozen=True)
class _Outcome:
    routed: int
    unrouted: int


def _route_file(res: Resources, router: Router, file: MailboxFile, day: date) -> _Outcome:
    results = router.route(res.store.get(file.key))
    with res.sessions() as session:
        done = {r.set_index: r for r in session.scalars(select(MailboxRoute).where(
            MailboxRoute.file_id == file.id))}
        routed = unrouted = 0
        for number, result in enumerate(results):
            index = number if result.set_index is None else result.set_index
            row = done.get(index)
            if row is not None and row.tenant_id is not None:
                continue  # routed on an earlier run
            if isinstance(result, Unrouted):
                unrouted += 1
                values = {"kind": result.kind or "", "reason": result.reason,
                          "message": result.message[:400],
                          "control_number": result.control_number or ""}
            else:
                routed += 1
                values = _place(res, session, file, result, index, day)
            if row is None:
                session.add(MailboxRoute(file_id=file.id, set_index=index, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
        placed = routed + sum(r.tenant_id is not None for r in done.values())
        session.get_one(MailboxFile, file.id).status = (
            "ROUTED" if not unrouted else "PARTLY_ROUTED" if placed else "UNROUTED")
        session.commit()
    return _Outcome(routed, unrouted)


def _place(res: Resources, session: Session, file: MailboxFile, result: Routed, index: int,
           day: date) -> dict[str, Any]:
    """Put a routed set in its tenant's inbound zone under the day's batch."""
    batch = ensure_batch(session, result.tenant, day)
    name = f"{result.payer}-m{file.sha256[:16]}s{index}-{result.kind}.x12"
    key = object_key(result.tenant, "inbound", day, batch.id, name)
    res.store.put(key, result.data)
    return {"kind": result.kind, "tenant_id": result.tenant, "payer_id": result.payer,
            "key": key, "sha256": hashlib.sha256(result.data).hexdigest(),
            "matched_by": result.matched_by[:400], "reason": None, "message": None,
            "control_number": result.control_number or "", "routed_at": datetime.now()}


def pending_pieces(res: Resources, tenant: str, payer_id: str,
                   kind: str) -> list[tuple[str, str]]:
    """(key, sha256) of routed sets of the tenant and payer not applied yet, whatever day
    they were routed on."""
    applied = exists().where(and_(File.tenant_id == tenant, File.direction == "in",
                                  File.sha256 == MailboxRoute.sha256))
    with res.sessions() as session:
        rows = session.execute(select(MailboxRoute.key, MailboxRoute.sha256).where(
            MailboxRoute.tenant_id == tenant, MailboxRoute.payer_id == payer_id,
            MailboxRoute.kind == kind, ~applied).order_by(MailboxRoute.id)).all()
    return [(key, sha) for key, sha in rows]


def unrouted(session: Session, payer: str | None = None) -> list[dict[str, Any]]:
    """The unrouted queue: each set no tenant could be found for, with its reason (in
    words that name no patient)."""
    query = select(MailboxRoute, MailboxFile).join(
        MailboxFile, MailboxFile.id == MailboxRoute.file_id).where(
        MailboxRoute.tenant_id.is_(None)).order_by(MailboxRoute.id)
    if payer is not None:
        query = query.where(MailboxFile.payer_id == payer)
    rows = session.execute(query).all()
    return [{"id": route.id, "file": file.id, "payer": file.payer_id,
             "channel": file.channel, "collected_on": file.collected_on.isoformat(),
             "set": route.set_index, "kind": route.kind, "reason": route.reason,
             "message": route.message} for route, file in rows]

