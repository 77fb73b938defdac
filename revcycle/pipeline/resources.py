"""The external systems a stage works with, built once per process from settings.

Once per process, not once per program: a task runner's worker processes (Dask's) each
build their own from their own environment. A process forked from one that had built
them (a worker started by ``fork``) drops the inherited ones, so it never shares the
parent's database connections, and builds its own on first use."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from dataclasses import dataclass
from functools import cached_property, lru_cache

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle.collector import tune_for_batches
from revcycle.db import make_engine, session_factory, upgrade
from revcycle.db.models import Installation
from revcycle.settings import Settings, get_settings
from revcycle.storage import ObjectStore, store_from_settings


@dataclass(frozen=True)
class Resources:  # not slotted: ``instance_id`` is cached on the instance
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore

    @cached_property
    def instance_id(self) -> str:
        """This installation's identity: the database's own id (made on first use) and
        where the store is. A wiped, new or restored database gets a new one."""
        with self.sessions() as session:
            installation = session.scalar(select(Installation))
            if installation is None:
                installation = Installation(id=uuid.uuid4().hex)
                session.add(installation)
                session.commit()
            database_id = installation.id
        where = f"{database_id}|{self.store.uri('instance')}"
        return hashlib.sha256(where.encode()).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> Resources:
        engine = make_engine(settings.database_url_or_default())
        if migrate:
            upgrade(engine)
        return cls(settings, engine, session_factory(engine), store_from_settings(settings))


_BUILDING = threading.Lock()


@lru_cache(maxsize=1)
def get_resources() -> Resources:
    """The process's resources (migrations applied on first use). Threads that ask at
    once, before there are any (a Dask worker's first tasks), build them one at a time.
    A process that works on claims gets the cycle collector set for it, once."""
    with _BUILDING:
        tune_for_batches()
        return Resources.from_settings(get_settings())


def _forget_in_child() -> None:
    """After ``fork``: leave the parent's pooled connections to the parent (closing them
    here would close them under it), and forget the parent's resources."""
    if get_resources.cache_info().currsize:
        get_resources().engine.dispose(close=False)
    get_resources.cache_clear()


os.register_at_fork(after_in_child=_forget_in_child)
