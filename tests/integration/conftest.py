"""Real components for the pipeline tests: Prefect's test server, SQLite or PostgreSQL,
a local folder or an S3 endpoint over HTTP."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service

POSTGRES_ADMIN_URL = os.environ.get("REVCYCLE_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the session (setting one up costs ~20 s)."""
    os.environ.update({"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                       "GX_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
                       "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
                       "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path_factory.mktemp("results"))})
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _postgres_database() -> str | None:
    """A new empty database on the local PostgreSQL, or None when there is none."""
    import sqlalchemy

    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"revcycle_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError:
        return None
    finally:
        admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = _postgres_database()
    require_service(url is not None, f"no PostgreSQL at {POSTGRES_ADMIN_URL}")
    return url


def configure(monkeypatch: pytest.MonkeyPatch, home: Path, **settings: str) -> None:
    """Point revcycle at ``home`` (and the given settings), dropping cached resources."""
    from revcycle.pipeline.resources import get_resources
    from revcycle.settings import get_settings

    monkeypatch.setenv("REVCYCLE_HOME", str(home))
    for name, value in settings.items():
        monkeypatch.setenv(f"REVCYCLE_{name.upper()}", value)
    get_settings.cache_clear()
    get_resources.cache_clear()
