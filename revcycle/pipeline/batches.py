"""Batches (one tenant's business day), tenants and payers, and claim status changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.db.bulk import CHUNK, among, insert_rows
from revcycle.db.models import Base, Batch, ClaimEvent, ClaimVersion, Payer, Tenant
from revcycle.db.models import Claim as ClaimRow
from revcycle.status import Status, check_transition

# Whose reports zone holds the combined report of a run over several tenants (every
# tenant's figures): no provider client may have this id, or that report would be its.
ALL_TENANTS = "_all"
MAILBOX = "_mailbox"  # the tenant-neutral prefix of what payers' mailboxes hold


class TenantError(ValueError):
    """A tenant id no provider client may have."""


def check_tenant(tenant: str) -> None:
    if tenant == ALL_TENANTS:
        raise TenantError(f"tenant id {ALL_TENANTS!r} is reserved for the combined report"
                          " of a run over several tenants")
    if tenant == MAILBOX:
        raise TenantError(f"tenant id {MAILBOX!r} is reserved for the payers' mailboxes")


def batch_id(tenant: str, business_date: date) -> str:
    return f"{tenant}-{business_date:%Y%m%d}"


def mailbox_batch(business_date: date) -> str:
    """The audit trail's name for a day of the mailbox stages (collect, route): they work
    for no tenant, so there is no batch row behind it."""
    return batch_id(MAILBOX, business_date)


def ensure_batch(session: Session, tenant: str, business_date: date) -> Batch:
    """The tenant's batch for the day; it and the tenant are made and committed if missing."""
    check_tenant(tenant)
    _make_once(session, Tenant, tenant, lambda: Tenant(id=tenant, name=tenant))
    key = batch_id(tenant, business_date)
    _make_once(session, Batch, key, lambda: Batch(id=key, tenant_id=tenant,
                                                  business_date=business_date))
    return session.get_one(Batch, key)


def ensure_payer(session: Session, payer_id: str, name: str, channel: str = "") -> None:
    """The payer's row, made and committed if missing."""
    _make_once(session, Payer, payer_id, lambda: Payer(id=payer_id, name=name,
                                                       channel=channel))


def _make_once(session: Session, model: type[Base], key: str,
               make: Callable[[], Base]) -> None:
    """Make and commit the row with this primary key if it is missing. Two runs making it
    at once: the second's insert fails on the key, and it uses the first's row."""
    if session.get(model, key) is not None:
        return
    session.add(make())
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def claims_in(session: Session, batch: str, status: Status,
              payer: str | None = None) -> list[ClaimRow]:
    query = select(ClaimRow).where(ClaimRow.batch_id == batch, ClaimRow.status == status)
    if payer is not None:
        query = query.where(ClaimRow.payer_id == payer)
    return list(session.scalars(query.order_by(ClaimRow.id)))


def move(session: Session, claim_ids: Sequence[int], current: Status, target: Status,
         stage: str) -> list[int]:
    """Change the status of the claims that are in ``current``, recording an event for
    each; returns their ids. A claim another run has moved meanwhile is not among them.
    Every stage moves its claims through here: on PostgreSQL the ids go as one array
    parameter and the events in with COPY (``revcycle.db.bulk``)."""
    if not claim_ids:
        return []
    check_transition(current, target)
    moved: list[int] = []
    for start in range(0, len(claim_ids), CHUNK):
        chunk = list(claim_ids[start:start + CHUNK])
        ids = list(session.scalars(
            update(ClaimRow).where(among(session, ClaimRow.id, chunk),
                                   ClaimRow.status == current)
            .values(status=target).returning(ClaimRow.id)
            # Rows loaded in the session learn their new status by primary key ("fetch"):
            # the default would test every loaded row against the criteria, chunk after
            # chunk (quadratic in a 10,000-claim batch).
            .execution_options(synchronize_session="fetch")))
        insert_rows(session, ClaimEvent.__table__, [
            {"claim_id": i, "from_status": current.value, "to_status": target.value,
             "stage": stage} for i in ids])
        moved += ids
    return moved


def tenant_of(batch: str) -> str:
    """The tenant of a batch id (``<tenant>-<yyyymmdd>``)."""
    return batch.rsplit("-", 1)[0]


def batch_of(session: Session, batch: str) -> Batch:
    """The batch of an id, made if missing: the mailbox part of a day applies answers for
    a tenant that dropped no claims that day."""
    found = session.get(Batch, batch)
    if found is not None:
        return found
    tenant, day = batch.rsplit("-", 1)
    return ensure_batch(session, tenant, datetime.strptime(day, "%Y%m%d").date())


def batch_fingerprint(session: Session, batch: str, payer: str | None = None) -> str:
    """What a batch (a payer's part of it) holds: its claims' count and highest id, and the
    claim versions written into it (their count and highest id). Claims and versions are
    only ever added, and a correction or re-check writes a version naming the batch it puts
    the claim back into, so this changes exactly when a stage may have new work in the
    batch: a late file, or a claim sent back to RECEIVED. Nothing else changes it, so a
    re-run with nothing new finds its step cached."""
    query = select(func.count(ClaimRow.id), func.max(ClaimRow.id)).where(
        ClaimRow.batch_id == batch)
    versions = (select(func.count(ClaimVersion.id), func.max(ClaimVersion.id))
                .where(ClaimVersion.batch_id == batch))
    if payer is not None:
        query = query.where(ClaimRow.payer_id == payer)
        versions = versions.join(ClaimRow, ClaimRow.id == ClaimVersion.claim_id).where(
            ClaimRow.payer_id == payer)
    count, highest = session.execute(query).one()
    corrected, latest = session.execute(versions).one()
    found = f"{count}.{highest or 0}.{corrected}.{latest or 0}"
    day = session.get(Batch, batch)
    if day is not None:
        # Corrected claims still waiting in an earlier day's batch: this day's quality
        # takes them (revcycle.pipeline.versions.adopt_waiting).
        from revcycle.pipeline.versions import waiting_from_earlier_days

        waiting = session.execute(select(func.count(), func.max(ClaimRow.id)).where(
            ClaimRow.id.in_(waiting_from_earlier_days(day)))).one()
        if waiting[0]:
            found += f".w{waiting[0]}.{waiting[1]}"
    return found
