"""Throwaway PostgreSQL databases for tests and benchmarks: made on a server given by an
admin URL (one that may CREATE DATABASE), optionally as a copy of a template, and dropped
afterwards even if a connection is still open."""

from __future__ import annotations

import uuid

import sqlalchemy
from sqlalchemy.engine import make_url


class NoServer(RuntimeError):
    """The admin URL's server cannot be reached (or refuses to make a database)."""


def create_database(admin_url: str, prefix: str, template: str | None = None) -> str:
    """A new database ``<prefix>_<random>`` (a copy of ``template`` if given); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    except sqlalchemy.exc.OperationalError as exc:
        raise NoServer(f"no PostgreSQL server to use ({type(exc).__name__})") from None
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database ``url`` names (closing its connections first)."""
    name = make_url(url).database
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
