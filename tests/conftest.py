"""Shared fixtures: where the public X12 corpus lives, and how a missing one is treated."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("REVCYCLE_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SAMPLES = Path(os.environ.get("REVCYCLE_X12_SAMPLES", REPO.parent / "shared" / "x12-samples"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(available: bool, reason: str) -> None:
    """Skip a test whose service is missing, except in CI, where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def x12_samples() -> Path:
    """The folder of public 5010 fixtures (../shared/x12-samples), used in place."""
    require_service(SAMPLES.is_dir() and (SAMPLES / "INDEX.tsv").is_file(),
                    f"public X12 corpus not found at {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on 127.0.0.1 (free port), with fake credentials in the env.

    Real HTTP through boto3; state lives for the session, so tests use their own buckets.
    """
    from moto.server import ThreadedMotoServer

    fake_env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in fake_env.items():
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Name of a migrated, otherwise empty database on the test PostgreSQL server
    (``REVCYCLE_TEST_POSTGRES``, an admin URL), for tests to copy: a copy costs a fraction
    of running the migrations."""
    from sqlalchemy.engine import make_url

    from revcycle.db.scratch import NoServer, create_database, drop_database
    from revcycle.pipeline.resources import Resources
    from revcycle.settings import Settings

    try:
        url = create_database(POSTGRES_ADMIN_URL, "revcycle_template")
    except NoServer as exc:
        require_service(False, f"{exc} at {make_url(POSTGRES_ADMIN_URL).host}")
    home = tmp_path_factory.mktemp("template-home")
    Resources.from_settings(Settings(home=home, database_url=url)).engine.dispose()
    yield make_url(url).database
    drop_database(POSTGRES_ADMIN_URL, url)


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """URL of a fresh migrated database of the test's own, dropped after the test."""
    from revcycle.db.scratch import create_database, drop_database

    url = create_database(POSTGRES_ADMIN_URL, "revcycle_test", template=postgres_template)
    yield url
    drop_database(POSTGRES_ADMIN_URL, url)


@pytest.fixture
def standard_exception_pickling() -> Iterator[None]:
    """Importing ``distributed`` (the Dask task runner's tests) makes every exception class
    pickle with its chained exceptions and traceback (tblib, process-wide). Put the standard
    pickling back after the test, so the tests after it see what a thread-pool run sees."""
    import copyreg

    saved = dict(copyreg.dispatch_table)
    yield
    copyreg.dispatch_table.clear()
    copyreg.dispatch_table.update(saved)
