"""Real components for the pipeline tests: Prefect's test server, SQLite or PostgreSQL,
a local folder or an S3 endpoint over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the session (setting one up costs ~20 s)."""
    os.environ.update({"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                       "GX_ANALYTICS_ENABLED": "false",
                       # As revcycle's commands run it: INFO to the server (the stages'
                       # lines reach the dashboard), warnings and errors to the console.
                       "PREFECT_LOGGING_LEVEL": "INFO",
                       "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
                       "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
                       "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path_factory.mktemp("results"))})
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def configure(monkeypatch: pytest.MonkeyPatch, home: Path, **settings: str) -> None:
    """Point revcycle at ``home`` (and the given settings), dropping cached resources."""
    from revcycle.pipeline.resources import get_resources
    from revcycle.settings import get_settings

    monkeypatch.setenv("REVCYCLE_HOME", str(home))
    for name, value in settings.items():
        monkeypatch.setenv(f"REVCYCLE_{name.upper()}", value)
    get_settings.cache_clear()
    get_resources.cache_clear()
