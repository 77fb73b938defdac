"""Transient faults: a channel that times out, an S3 endpoint that drops connections, a
database connection killed mid-stage. The real daily flow (Prefect's test server) gets
through them by its tasks' retries, and the kill harness's invariants hold after it: each
landing file in raw or quarantine once, each claim in one submission, each interchange at
the payer as one file, each 835 posted once, the books balanced."""

from __future__ import annotations

import importlib.util
import random
import select as selectors
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from revcycle.channels import Delivery, Receipt
from revcycle.channels.simulator import SimulatorChannel
from tests.integration.conftest import configure

_SPEC = importlib.util.spec_from_file_location(
    "kill_harness", Path(__file__).resolve().parents[2] / "bench" / "kill_harness.py")
assert _SPEC is not None and _SPEC.loader is not None
harness = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = harness  # (dataclasses look their module up)
_SPEC.loader.exec_module(harness)

CLAIMS = 60
STAGE_TASKS = ("ingest_task", "quality_task", "scrub_task", "submit_task", "acks_task",
               "post_task")


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tasks' retry policy as it is (three retries of transient errors only), with
    short delays: the policy's 2, 10 and 30 s would only slow the test."""
    import importlib

    for name in STAGE_TASKS:
        task = getattr(importlib.import_module(f"tasks.{name.removesuffix('_task')}"), name)
        monkeypatch.setattr(task, "retry_delay_seconds", [0.2, 0.2, 0.2])


class FaultyChannel:
    """A payer channel that times out on three sends in ten (``faulty``): the first of
    each ten and the seventh before the payer gets the file (the request lost), the fourth
    after (the answer lost). A third try of an interchange always goes through, so the
    task's three retries see every file out."""

    def __init__(self, inner: Any, faulty: bool = True) -> None:
        self.inner, self.faulty = inner, faulty
        self.tries: Counter[str] = Counter()
        self.timeouts = Counter[str]()
        self.lock = threading.Lock()

    label = "faulty"

    def delivered(self, delivery: Delivery) -> bool:
        return self.inner.delivered(delivery)

    def close(self) -> None:
        """Holds no connection."""

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        number = delivery.interchange_control_number
        with self.lock:
            tried = self.tries[number]
            self.tries[number] += 1
            fault = {0: "before", 6: "before", 3: "after"}.get(
                sum(self.tries.values()) % 10, "") if self.faulty and tried < 2 else ""
            if fault:
                self.timeouts[f"{fault} delivery"] += 1
        if fault == "before":
            raise TimeoutError("the payer's endpoint did not answer")
        receipt = self.inner.send(delivery, data)
        if fault == "after":
            raise TimeoutError("the payer's endpoint did not answer")
        return receipt


def _through_channel(monkeypatch: pytest.MonkeyPatch, log: Path,
                     **faults: Any) -> FaultyChannel:
    """Every payer's channel: the simulator behind the harness's receiving log, with faults
    in front (one wrapper for every payer, so its counts are the day's)."""
    import tasks.submit

    wrapper = FaultyChannel(None, **faults)

    def payer_route(payer: Any, store: Any) -> FaultyChannel:
        receiving = harness.ReceivingChannel(SimulatorChannel(store, payer), log)
        channel = FaultyChannel(receiving, wrapper.faulty)
        channel.tries, channel.timeouts, channel.lock = (wrapper.tries, wrapper.timeouts,
                                                         wrapper.lock)
        return channel

    monkeypatch.setattr(tasks.submit, "payer_route", payer_route)
    return wrapper


def _run_day_and_check(home: Path) -> dict[str, Any]:
    """The daily flow over the harness's day; it must finish with every step done and
    the invariants holding. Returns the run's summary."""
    from flows.daily import daily_revenue_cycle
    from revcycle.pipeline.resources import get_resources

    res = get_resources()
    dropped = harness.drop_day(res, CLAIMS, 11)
    summary = daily_revenue_cycle(business_date=harness.DAY, tenants=list(harness.TENANTS))
    assert summary["failed_steps"] == []
    violations, state, _ = harness.check(res, home / harness.RECEIVED, dropped)
    assert violations == []
    assert set(state["by_status"]) <= {"PAID", "PARTIALLY_PAID", "DENIED", "REJECTED",
                                        "DQ_FAILED", "PAYER_REJECTED"}
    assert sum(state["by_status"].values()) == CLAIMS
    return summary


@pytest.mark.usefixtures("prefect_server", "quick_retries")
def test_a_channel_timing_out_30_percent_of_the_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, tmp_path / "home")
    channel = _through_channel(monkeypatch, tmp_path / "home" / harness.RECEIVED)

    _run_day_and_check(tmp_path / "home")

    sends = sum(channel.tries.values())
    assert channel.timeouts["before delivery"] and channel.timeouts["after delivery"]
    assert 0.15 < sum(channel.timeouts.values()) / sends < 0.45


# ------------------------------------------------------------------ S3 that drops connections


class DroppingProxy:
    """A TCP proxy on 127.0.0.1 in front of an S3 endpoint that cuts ``rate`` of the
    requests: the connection is closed as the request comes in, either before it reaches
    the endpoint or after (the endpoint may have done it; the answer is lost). Besides, an
    outage: from the ``outage[0]``-th request on, the next ``outage[1]`` are all cut, more
    than the S3 client's own tries (4) cover."""

    def __init__(self, upstream: str, rate: float, outage: tuple[int, int],
                 seed: int = 5) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.rate, self.random = rate, random.Random(seed)
        self.outage, self.requests = outage, 0
        self.dropped = Counter[str]()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.5)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def __enter__(self) -> DroppingProxy:
        self._start(self._accept)
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            self._start(self._relay, client)

    def _fate(self) -> str:
        with self.lock:
            self.requests += 1
            draw = self.random.random()
            fate = ("outage" if 0 <= self.requests - self.outage[0] < self.outage[1] else
                    "before" if draw < self.rate / 2 else
                    "after" if draw < self.rate else "")
            if fate:
                self.dropped[fate] += 1
            return fate

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream, timeout=10)
        try:
            while not self.stopping.is_set():
                ready, _, _ = selectors.select([client, server], [], [], 0.5)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    fate = self._fate() if source is client else ""
                    if fate in ("before", "outage"):
                        return
                    (server if source is client else client).sendall(data)
                    if fate == "after":
                        return
        except OSError:
            return
        finally:
            client.close()
            server.close()


@pytest.mark.usefixtures("prefect_server", "quick_retries")
def test_an_s3_endpoint_dropping_connections(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_endpoint: str,
        caplog: pytest.LogCaptureFixture) -> None:
    with DroppingProxy(s3_endpoint, rate=0.2, outage=(60, 12)) as proxy:
        configure(monkeypatch, tmp_path / "home", store="s3", s3_bucket="revcycle-faults",
                  s3_endpoint_url=proxy.url, s3_region="us-east-1",
                  s3_create_bucket="true")
        _through_channel(monkeypatch, tmp_path / "home" / harness.RECEIVED, faulty=False)
        _run_day_and_check(tmp_path / "home")
    assert proxy.dropped["before"] > 5 and proxy.dropped["after"] > 5
    assert proxy.dropped["outage"] == 12
    # The S3 client's own tries took the scattered cuts; the outage reached the tasks,
    # whose retries took it.
    assert any("could not reach a service (TransientStorageError)" in r.getMessage()
               for r in caplog.records)


# ------------------------------------------------------------------ a database connection killed

def _statement(start: str, **values: Any) -> Callable[[str, Any], bool]:
    """Matches a statement by its start and the values of some of its parameters."""
    def match(statement: str, parameters: Any) -> bool:
        return statement.startswith(start) and all(
            isinstance(parameters, dict) and parameters.get(k) == v for k, v in values.items())
    return match


# Where the stage's own connection is killed, mid-transaction, once each: ingest drawing the
# ids of a file's claims (its file row written, the claims' COPY next); submit recording the
# files the payer has (the claims stay with the run: its retry asks the payer and records
# them, sending nothing twice); post drawing its payments' ids (the remittance row written).
KILL_AT = {"ingest: claims": _statement("SELECT nextval(pg_get_serial_sequence(",
                                        table="claims"),
           "submit: SENT": _statement("UPDATE submissions", status="SENT"),
           "post: payments": _statement("SELECT nextval(pg_get_serial_sequence(",
                                        table="payments")}


@pytest.fixture
def killer(postgres_url: str) -> Iterator[Callable[[int], None]]:
    """Kills one backend of the test's database (``pg_terminate_backend``, from a
    connection of its own, waiting until it is gone)."""
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")

    def kill(pid: int) -> None:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                     {"pid": pid})

    yield kill
    engine.dispose()


@pytest.mark.usefixtures("prefect_server", "quick_retries")
def test_a_database_connection_dropped_mid_stage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str,
        killer: Callable[[int], None]) -> None:
    from revcycle.pipeline.resources import get_resources

    configure(monkeypatch, tmp_path / "home", database_url=postgres_url)
    _through_channel(monkeypatch, tmp_path / "home" / harness.RECEIVED, faulty=False)
    killed: list[str] = []
    lock = threading.Lock()

    def drop_connection(connection: Any, _cursor: Any, statement: str, parameters: Any,
                        *_: Any) -> None:
        with lock:
            where = next((name for name, match in KILL_AT.items()
                          if name not in killed and match(statement, parameters)), None)
            if where is None:
                return
            killed.append(where)
        killer(connection.connection.dbapi_connection.info.backend_pid)

    engine = get_resources().engine
    event.listen(engine, "before_cursor_execute", drop_connection)
    try:
        _run_day_and_check(tmp_path / "home")
    finally:
        event.remove(engine, "before_cursor_execute", drop_connection)
    assert sorted(killed) == sorted(KILL_AT)
