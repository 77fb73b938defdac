"""Helpers for the stage tests: SQLite and a local store in tmp_path, synthetic claims
dropped into landing, and channels that stand in for a payer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from revcycle.channels import Delivery, Receipt
from revcycle.db import models
from revcycle.model.claim import Claim, ClaimType, Receiver, Submitter
from revcycle.payers import PayerDefinition
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.settings import Settings
from revcycle.simulator import DEFAULT_PAYERS, ClaimFactory, PayerProfile
from revcycle.status import Status
from revcycle.storage import object_key, zone_prefix
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tasks.payers import load_payers

DAY = date(2026, 11, 2)
# The payers the simulator plays (its claims name them), as their payer modules define
# them; a payer module someone adds for a real payer is not among them, so adding one
# never changes what these tests bill.
SIMULATED = tuple(p.payer_id for p in DEFAULT_PAYERS)
PAYERS: dict[str, PayerDefinition] = {pid: payer for pid, payer in load_payers().items()
                                      if pid in SIMULATED}
TABLES = (models.File, models.Claim, models.ServiceLine, models.ClaimEvent, models.Edit,
          models.Submission, models.Acknowledgment, models.Remittance, models.Payment,
          models.Adjustment, models.LedgerEntry)


# For ``pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)``: the
# module's tests run on SQLite and on PostgreSQL, whose posting path differs (COPY).
BOTH_DATABASES = ("sqlite", "postgresql")


@pytest.fixture
def res(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Resources]:
    """A fresh installation: a migrated database (SQLite unless the test is parametrized
    with "postgresql") and a local folder store."""
    database = getattr(request, "param", "sqlite")
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else ""
    resources = Resources.from_settings(Settings(home=tmp_path / "home", database_url=url))
    yield resources
    resources.engine.dispose()


def run_cli(res: Resources, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """``revcycle ARGS`` against this installation (its home and database), wide output."""
    from revcycle.cli import app
    from revcycle.pipeline.resources import get_resources
    from revcycle.settings import get_settings

    monkeypatch.setenv("REVCYCLE_HOME", str(res.settings.home))
    monkeypatch.setenv("REVCYCLE_DATABASE_URL", res.settings.database_url)
    get_settings.cache_clear()
    get_resources.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    finally:
        if get_resources.cache_info().currsize:
            get_resources().engine.dispose()
        get_resources.cache_clear()
        get_settings.cache_clear()


def twice_at_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str,
                  run: Callable[[], Any]) -> list[Any]:
    """``run`` in two threads at once, as two runs of one day would: the first time each
    thread calls ``owner.name`` it waits there for the other, then both go on. Returns the
    two results."""
    original = getattr(owner, name)
    together = threading.Barrier(2, timeout=60)
    met: set[int] = set()

    def meet_first(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() not in met:
            met.add(threading.get_ident())
            together.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, meet_first)
    with ThreadPoolExecutor(2) as pool:
        return [future.result() for future in [pool.submit(run) for _ in range(2)]]


def profile(payer_id: str) -> PayerProfile:
    """The simulator's profile of a payer it plays."""
    for candidate in DEFAULT_PAYERS:
        if candidate.payer_id == payer_id:
            return candidate
    raise LookupError(f"the simulator does not play payer {payer_id}; it plays"
                      f" {', '.join(SIMULATED)}")


def factory(tenant: str, seed: int = 1, payers: Sequence[str] | None = None) -> ClaimFactory:
    """A simulated provider client billing the given payers (all five by default)."""
    profiles = DEFAULT_PAYERS if payers is None else tuple(profile(p) for p in payers)
    return ClaimFactory(seed, tenant.upper()[:8], as_of=DAY, payers=profiles)


def x12_file(claims: Sequence[Claim], submitter: Submitter, interchange: int = 1) -> bytes:
    """The 837 a provider client sends: its claims (one claim type) in one interchange."""
    header = InterchangeHeader(Party("PROVIDERCLIENT"), Party("REVCYCLE"), usage_indicator="T")
    written = write_837(claims, header, CounterControlNumbers(interchange=interchange),
                        submitter, Receiver("REVCYCLE", "REVCYCLE"))
    return written.text.encode()


def drop(res: Resources, tenant: str, name: str, data: bytes) -> str:
    """Put a file in the tenant's landing zone, as a provider client would."""
    key = object_key(tenant, "landing", DAY, "drop", name)
    res.store.put(key, data)
    return key


def drop_claims(res: Resources, tenant: str, claims: Sequence[Claim],
                submitter: Submitter) -> list[str]:
    """One 837 per claim type in landing."""
    keys = []
    for number, claim_type in enumerate(ClaimType, 1):
        group = [c for c in claims if c.claim_type is claim_type]
        if group:
            keys.append(drop(res, tenant, f"{claim_type.value.lower()}.x12",
                             x12_file(group, submitter, number)))
    return keys


def landing(res: Resources, tenant: str) -> list[str]:
    return res.store.list(zone_prefix(tenant, "landing"))


def ready_batch(res: Resources, tenant: str, claims: Sequence[Claim],
                submitter: Submitter) -> str:
    """Ingest the claims and take them to READY by status transitions (quality and scrub
    have their own tests); returns the batch id."""
    drop_claims(res, tenant, claims, submitter)
    batch = ingest(res, tenant, DAY)["batch"]
    with res.sessions() as session:
        ids = [row.id for row in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        move(session, ids, Status.VALIDATED, Status.READY, "test")
        session.commit()
    return batch


def counts(res: Resources) -> dict[str, int]:
    """Rows in every table the pipeline writes."""
    with res.sessions() as session:
        return {t.__tablename__: session.scalar(select(func.count()).select_from(t))
                for t in TABLES}


class RecordingChannel:
    """A payer that takes files and answers nothing (the test answers for it)."""

    label = "recording"

    def __init__(self) -> None:
        self.deliveries: list[tuple[Delivery, bytes]] = []

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        self.deliveries.append((delivery, data))
        return Receipt(self.label, delivery.interchange_control_number)

    def delivered(self, delivery: Delivery) -> bool:
        return any(d.interchange_control_number == delivery.interchange_control_number
                   for d, _ in self.deliveries)

    def collect(self) -> Iterator[tuple[str, bytes]]:
        return iter(())

    def acknowledge(self, remote_name: str) -> None:
        """Nothing is collected."""

    def check(self) -> list[str]:
        return []

    def close(self) -> None:
        """Holds no connection."""
