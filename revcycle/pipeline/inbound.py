"""Files that come back from payers: find the ones of a batch not yet applied.

A file is recorded in the same transaction that applies it, so a crash in between leaves
it unrecorded and the next run applies it again from the start. A file that cannot be read
goes to quarantine with its reason, like a provider's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.crashpoints import crash_point
from revcycle.db.models import Batch, File
from revcycle.pipeline.mailbox import pending_pieces
from revcycle.pipeline.resources import Resources
from revcycle.storage import object_key
from revcycle.x12.envelope import BodyParser, X12Document, X12Reader
from revcycle.x12.errors import X12Error


@dataclass(frozen=True)
class InboundFile:
    key: str
    kind: str  # 999, 277CA, 835: from the name the channel gave it
    sha256: str
    data: bytes

    def read(self, res: Resources, batch: Batch,
             parsers: Mapping[str, BodyParser]) -> X12Document | None:
        """The file read; or, when it cannot be read, None after putting a copy in
        quarantine/ with its reason and recording it, so it never blocks the files after
        it and is never read again."""
        try:
            return X12Reader(self.data, parsers).read()
        except X12Error as exc:
            reason = exc.to_dict()
        dest = object_key(batch.tenant_id, "quarantine", batch.business_date, batch.id,
                          self.sha256)
        res.store.put(dest, self.data)
        res.store.put(f"{dest}.reason.json",
                      json.dumps({"source_key": self.key, **reason}).encode())
        with res.sessions() as session, contextlib.suppress(IntegrityError):
            # (suppressed: a run working the batch at the same time recorded it first)
            session.add(File(tenant_id=batch.tenant_id, batch_id=batch.id, direction="in",
                             sha256=self.sha256, zone="quarantine", key=dest,
                             source_key=self.key, size=len(self.data), format=self.kind,
                             status="QUARANTINED", reason=reason))
            session.commit()
        return None

    def record(self, session: Session, batch: Batch) -> File:
        file = File(tenant_id=batch.tenant_id, batch_id=batch.id, direction="in",
                    sha256=self.sha256, zone="inbound", key=self.key, source_key=self.key,
                    size=len(self.data), format=self.kind, status="PROCESSED")
        session.add(file)
        session.flush()
        return file


def new_inbound_files(res: Resources, batch: Batch, payer_id: str,
                      kind: str) -> Iterator[InboundFile]:
    """A payer's inbound files of ``kind`` not applied yet: those in the batch's folder
    (the simulator answers there), then the sets the mailbox routed to the tenant on any
    day (``revcycle.pipeline.mailbox``)."""
    prefix = object_key(batch.tenant_id, "inbound", batch.business_date, batch.id,
                        f"{payer_id}-")
    for key in res.store.list(prefix):
        if not key.endswith(f"-{kind}.x12"):
            continue
        data = res.store.get(key)
        sha = hashlib.sha256(data).hexdigest()
        with res.sessions() as session:
            seen = session.scalar(select(File.id).where(
                File.tenant_id == batch.tenant_id, File.direction == "in",
                File.sha256 == sha))
        if seen is None:
            yield InboundFile(key, kind, sha, data)
    # Asked after the folder's files were applied: the query leaves out what they applied.
    for key, sha in pending_pieces(res, batch.tenant_id, payer_id, kind):
        yield InboundFile(key, kind, sha, res.store.get(key))


def apply_new_files(res: Resources, batch: Batch, payer_id: str, kind: str,
                    parsers: Mapping[str, BodyParser],
                    apply: Callable[[Session, File, X12Document], None]) -> tuple[int, int]:
    """Read each new inbound file of ``kind`` and ``apply`` it, recording the file in the
    same transaction. Returns (files applied, files quarantined).

    Two runs on one batch at once (a re-run started while the scheduled one works) race to
    record a file: the file's row is unique, so the second waits for the first to commit
    and then finds it taken, and goes on to the next file; a file is applied once."""
    applied = quarantined = 0
    for inbound in new_inbound_files(res, batch, payer_id, kind):
        document = inbound.read(res, batch, parsers)
        if document is None:
            quarantined += 1
            continue
        with res.sessions() as session:
            try:
                file = inbound.record(session, batch)
            except IntegrityError:
                continue  # applied by the other run meanwhile
            apply(session, file, document)
            session.commit()
        crash_point("inbound.after_apply")
        applied += 1
    return applied, quarantined
