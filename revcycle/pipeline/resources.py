"""The external systems a stage works with, built once per process from settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revcycle.db import make_engine, session_factory, upgrade
from revcycle.settings import Settings, get_settings
from revcycle.storage import ObjectStore, store_from_settings


@dataclass(frozen=True)
class Resources:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore

    @property
    def instance_id(self) -> str:
        """A short fingerprint of where this installation keeps its state."""
        database = self.engine.url.render_as_string(hide_password=True)
        where = f"{database}|{self.store.uri('instance')}"
        return hashlib.sha256(where.encode()).hexdigest()[:12]

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate: bool = True) -> Resources:
        engine = make_engine(settings.database_url_or_default())
        if migrate:
            upgrade(engine)
        return cls(settings, engine, session_factory(engine), store_from_settings(settings))


@lru_cache(maxsize=1)
def get_resources() -> Resources:
    """The process's resources (migrations applied on first use)."""
    return Resources.from_settings(get_settings())
