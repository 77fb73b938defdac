"""The audit trail: which run touched which batch, in which stage, when, and what it did.

``stage_runs`` is append-only: :func:`record` inserts a row and nothing here (or anywhere
in the code) updates or deletes one; on PostgreSQL a trigger refuses both. A row holds ids
(run, batch, tenant, payer), the stage, the time and the stage's counts: integers under their
names, never a claim value, an amount or an object key.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from revcycle.db.models import Batch, StageRun
from revcycle.pipeline.batches import MAILBOX
from revcycle.pipeline.resources import Resources

# A process outside any Prefect flow run is one run: its rows share this id.
PROCESS_RUN_ID = f"process-{os.getpid()}-{uuid.uuid4().hex[:12]}"


class AuditError(ValueError):
    """An audit row that cannot be written or a query that cannot be answered."""


def counts_of(result: Mapping[str, Any]) -> dict[str, int]:
    """The counts of a stage's result: its integer values (not booleans, amounts, names
    or nested tables)."""
    return {name: value for name, value in result.items()
            if isinstance(value, int) and not isinstance(value, bool)}


def record(res: Resources, stage: str, batch_id: str, result: Mapping[str, Any],
           run_id: str = "", payer: str = "") -> None:
    """Append one row: ``run_id`` (default: this process's) touched ``batch_id`` (``payer``'s
    part of it, "" for all) in ``stage`` and did ``result``'s counts. Committed at once, in
    its own transaction. The mailbox stages record under ``batches.mailbox_batch``."""
    with res.sessions() as session:
        tenant = (MAILBOX if re.fullmatch(rf"{MAILBOX}-\d{{8}}", batch_id) else
                  session.scalar(select(Batch.tenant_id).where(Batch.id == batch_id)))
        if not stage or tenant is None:
            raise AuditError(f"no batch {batch_id!r} to record stage {stage!r} on")
        session.execute(insert(StageRun), [{
            "run_id": (run_id or PROCESS_RUN_ID)[:64], "stage": stage, "batch_id": batch_id,
            "tenant_id": tenant, "payer_id": payer, "at": datetime.now(),
            "counts": counts_of(result)}])
        session.commit()


def trail(session: Session, *, batch: str | None = None,
          tenant: str | None = None) -> list[dict[str, Any]]:
    """The rows of a batch or of a tenant (one of them at least), oldest first."""
    if batch is None and tenant is None:
        raise AuditError("say which batch or which tenant")
    query = select(StageRun)
    if batch is not None:
        query = query.where(StageRun.batch_id == batch)
    if tenant is not None:
        query = query.where(StageRun.tenant_id == tenant)
    return [{"run_id": row.run_id, "stage": row.stage, "batch": row.batch_id,
             "tenant": row.tenant_id, "payer": row.payer_id,
             "at": row.at.isoformat(timespec="seconds"),
             "counts": dict(row.counts)}
            for row in session.scalars(query.order_by(StageRun.at, StageRun.id))]
