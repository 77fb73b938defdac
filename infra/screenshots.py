"""Screenshots of the Prefect dashboard for the README: a completed day and a retried one.

Run by hand from the checkout (it is not a test)::

    .venv/bin/python infra/screenshots.py            # writes docs/screenshots/*.png

What it does, all on 127.0.0.1 and in a temporary folder (nothing of yours is touched):

1. starts a Prefect server (``prefect server start``) with a fresh ``PREFECT_HOME`` and
   ``revcycle serve`` against it, with a fresh ``REVCYCLE_HOME`` (SQLite + a local store);
2. a completed day: drops a synthetic demo day and runs the ``daily-revenue-cycle/daily``
   deployment for it;
3. a retried day: writes a payer module with a typo in its channel into ``tasks/payers/``
   (removed again whatever happens), runs the deployment for a second day (it ends
   Failed, with the step ``payer module · zz_screenshot_typo`` failed and every other step
   finished), removes the module and retries the same flow run as the dashboard's Retry
   button does (a Scheduled state named ``AwaitingRetry``, forced);
4. takes the screenshots with headless Chromium (Debian's ``chromium`` package) and stops
   every process it started, even on error.

Needs ``/usr/bin/chromium`` (``apt-get update && apt-get install -y chromium``); uses
``pngquant`` if present to keep the images small.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any
from uuid import UUID

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
OUT = REPO / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
DEPLOYMENT = "daily-revenue-cycle/daily"
TYPO_MODULE = REPO / "tasks" / "payers" / "zz_screenshot_typo.py"
TYPO_SOURCE = '''"""Written by infra/screenshots.py for a moment: a payer module with a typo."""

from revcycle.channels import ChannelSpec
from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="ZZTYPO",
    name="SCREENSHOT TYPO HEALTH",
    receiver_id="ZZTYPO",
    channels=(ChannelSpec("sftpp"),),
)
'''
COMPLETED_DAY = date(2026, 11, 2)
RETRIED_DAY = date(2026, 11, 3)
CLAIMS = 600
SERVER_START_S = 240.0
DEPLOYMENT_WAIT_S = 180.0
RUN_WAIT_S = 1200.0
SETTLE_S = 60.0
CHROMIUM_TIMEOUT_S = 180.0
MAX_PNG_BYTES = 400_000
WINDOW = (1440, 1000)
TALL = 1600  # pages with a long list: more of it in the picture


def say(message: str) -> None:
    print(f"screenshots: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_environment(work: Path, api_url: str, reports_port: int) -> dict[str, str]:
    """The environment of every process started here: the developer's own Prefect and
    revcycle settings are dropped, everything points into ``work``."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PREFECT_", "REVCYCLE_"))}
    home = work / "revcycle"
    env.update({
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        # Explicit, so that a .env in the checkout cannot point the runs elsewhere.
        "REVCYCLE_HOME": str(home),
        "REVCYCLE_DATABASE_URL": f"sqlite:///{home / 'revcycle.db'}",
        "REVCYCLE_STORE": "local",
        "REVCYCLE_STORE_ROOT": str(home / "store"),
        "REVCYCLE_REPORTS_HOST": "127.0.0.1",
        "REVCYCLE_REPORTS_PORT": str(reports_port),
    })
    return env


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]


class Processes:
    """The processes started here, each in its own process group, stopped in reverse."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[Started] = []

    def start(self, name: str, *command: str) -> Started:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        started = Started(name, process, log)
        self.started.append(started)
        say(f"started {name} (pid {process.pid}, log {log.name})")
        return started

    def stop_all(self) -> None:
        for started in reversed(self.started):
            self._stop(started)
        self.started.clear()

    @staticmethod
    def _stop(started: Started) -> None:
        process = started.process
        if process.poll() is None:
            for sig, wait_s in ((signal.SIGINT, 20.0), (signal.SIGTERM, 15.0),
                                (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(process.pid, sig)  # its group: the pid we started
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Children of the group that outlived their parent (a flow run's process).
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        started.log.close()
        say(f"stopped {started.name}")


def wait_for_health(api_url: str, server: Started) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"the Prefect server exited ({server.process.returncode});"
                             f" see {server.log.name}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(2)
    raise SystemExit(f"the Prefect server did not answer /api/health within"
                     f" {SERVER_START_S:.0f} s; see {server.log.name}")


def revcycle(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(VENV_BIN / "revcycle"), *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise SystemExit(f"revcycle {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def drop_day(env: dict[str, str], day: date) -> list[str]:
    out = revcycle(env, "demo", "--drop-only", "--date", day.isoformat(),
                   "--claims", str(CLAIMS), "--json")
    dropped = json.loads(out.strip().splitlines()[-1])
    say(f"dropped {dropped['claims']} synthetic claims for {day} in"
        f" {dropped['files_dropped']} files")
    tenants: list[str] = dropped["tenants"]
    return tenants


# --- Prefect's API (this process is a client of the server started above) ---------------

def wait_for_deployment(serve: Started) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + DEPLOYMENT_WAIT_S
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if serve.process.poll() is not None:
                raise SystemExit(f"revcycle serve exited ({serve.process.returncode});"
                                 f" see {serve.log.name}")
            try:
                client.read_deployment_by_name(DEPLOYMENT)
                return
            except ObjectNotFound:
                time.sleep(2)
    raise SystemExit(f"revcycle serve did not create {DEPLOYMENT} within"
                     f" {DEPLOYMENT_WAIT_S:.0f} s; see {serve.log.name}")


def start_day(day: date, tenants: list[str]) -> UUID:
    from prefect.deployments import run_deployment

    flow_run = run_deployment(DEPLOYMENT, parameters={"business_date": day.isoformat(),
                                                      "tenants": tenants}, timeout=0)
    say(f"flow run {flow_run.name} ({flow_run.id}) for {day} scheduled")
    return flow_run.id


def wait_for_final(flow_run_id: UUID, serve: Started) -> Any:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + RUN_WAIT_S
    last = ""
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            flow_run = client.read_flow_run(flow_run_id)
            state = flow_run.state
            if state is not None and state.name != last:
                last = state.name
                say(f"  {flow_run.name}: {state.name}")
            if state is not None and state.is_final():
                return flow_run
            if serve.process.poll() is not None:
                raise SystemExit(f"revcycle serve exited ({serve.process.returncode})"
                                 f" during the run; see {serve.log.name}")
            time.sleep(3)
    raise SystemExit(f"flow run {flow_run_id} did not finish within {RUN_WAIT_S:.0f} s")


def task_states(flow_run_id: UUID) -> dict[str, str]:
    """Each task run's name and state name (the latest run of each name), once the server
    has recorded them all: task runs reach it as events, a moment after the flow run
    ends, and a picture taken before would show some still Pending."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    deadline = time.monotonic() + SETTLE_S
    seen: list[tuple[str, str]] = []
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200)
            now = [(run.name, run.state.name if run.state else "?") for run in runs]
            settled = all(run.state is not None and run.state.is_final() for run in runs)
            if (settled and now == seen) or time.monotonic() > deadline:
                return dict(now)
            seen = now
            time.sleep(3)


def retry_like_the_dashboard(flow_run_id: UUID) -> None:
    """What the dashboard's Retry button does (Prefect 3.9's UI): set the flow run's state,
    forced, to a Scheduled state named AwaitingRetry; the serving process picks it up and
    runs the flow again, where finished tasks come back Cached."""
    from prefect.client.orchestration import get_client
    from prefect.states import AwaitingRetry

    with get_client(sync_client=True) as client:
        result = client.set_flow_run_state(
            flow_run_id, AwaitingRetry(message="Retry from the UI"), force=True)
    say(f"retry: {result.status.value}, state {result.state.name if result.state else '?'}")


def artifact_id(key: str) -> UUID:
    """The id of the latest artifact under ``key`` (its page shows the content)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC, limit=1)
    if not found:
        raise SystemExit(f"no artifact {key!r}: did the report step run?")
    return found[0].id


@contextmanager
def typo_payer_module() -> Iterator[None]:
    if TYPO_MODULE.exists():
        raise SystemExit(f"{TYPO_MODULE} exists already: not overwriting it")
    TYPO_MODULE.write_text(TYPO_SOURCE)
    try:
        yield
    finally:
        TYPO_MODULE.unlink(missing_ok=True)
        cached = TYPO_MODULE.parent / "__pycache__"
        for stale in cached.glob(f"{TYPO_MODULE.stem}.*.pyc"):
            stale.unlink(missing_ok=True)
        say(f"removed {TYPO_MODULE.relative_to(REPO)}")


# --- screenshots --------------------------------------------------------------------------

def screenshot(url: str, png: Path, profile: Path, *, budget_ms: int,
               window: tuple[int, int] = WINDOW) -> None:
    """One page, rendered by headless Chromium; the virtual time budget lets the
    single-page app fetch and draw before the picture is taken."""
    if profile.exists():
        shutil.rmtree(profile)
    profile.mkdir(parents=True)
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}",
               f"--window-size={window[0]},{window[1]}",
               f"--virtual-time-budget={budget_ms}", f"--screenshot={png}", url]
    png.unlink(missing_ok=True)
    try:
        subprocess.run(command, capture_output=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"chromium took more than {CHROMIUM_TIMEOUT_S:.0f} s on {url}") from None
    if not png.exists():
        raise SystemExit(f"chromium wrote no screenshot of {url}")
    shrink(png)
    say(f"  {png.relative_to(REPO)}: {png.stat().st_size // 1024} KB  <- {url}")


def shrink(png: Path) -> None:
    pngquant = shutil.which("pngquant")
    if pngquant is not None:
        subprocess.run([pngquant, "--force", "--skip-if-larger", "--quality=70-95",
                        "--speed=1", "--output", str(png), str(png)],
                       capture_output=True, timeout=120, check=False)
    if png.stat().st_size > MAX_PNG_BYTES:
        say(f"  warning: {png.name} is {png.stat().st_size // 1024} KB")


@dataclass
class Shot:
    name: str
    path: str  # in the UI
    height: int = WINDOW[1]
    width: int = WINDOW[0]


def take_screenshots(ui: str, shots: list[Shot], work: Path, budget_ms: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        screenshot(f"{ui}{shot.path}", OUT / f"{shot.name}.png", work / "chromium",
                   budget_ms=budget_ms, window=(shot.width, shot.height))


# --- the run ------------------------------------------------------------------------------

def run(work: Path, budget_ms: int) -> None:
    port, reports_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    # The dashboard an operator lands on: http://host:port/ redirects to the V2 UI.
    ui = f"http://127.0.0.1:{port}/v2"
    env = child_environment(work, api_url, reports_port)
    os.environ.update({name: env[name] for name in env
                       if name.startswith(("PREFECT_", "REVCYCLE_"))
                       or name in ("DO_NOT_TRACK",)})
    logs = work / "logs"
    logs.mkdir(parents=True)
    processes = Processes(env, logs)
    try:
        server = processes.start("prefect-server", str(VENV_BIN / "prefect"), "server",
                                 "start", "--host", "127.0.0.1", "--port", str(port))
        wait_for_health(api_url, server)
        say(f"Prefect server up at {api_url}")
        serve = processes.start("revcycle-serve", str(VENV_BIN / "revcycle"), "serve")
        wait_for_deployment(serve)

        # A completed day.
        tenants = drop_day(env, COMPLETED_DAY)
        completed = wait_for_final(start_day(COMPLETED_DAY, tenants), serve)
        states = task_states(completed.id)
        say(f"completed day: {completed.state.name}, task runs"
            f" {dict(Counter(states.values()))}")
        if not completed.state.is_completed():
            raise SystemExit(f"the completed day ended {completed.state.name}:"
                             f" {completed.state.message}; see {serve.log.name}")

        # A failed day, then retried.
        drop_day(env, RETRIED_DAY)
        with typo_payer_module():
            failed = wait_for_final(start_day(RETRIED_DAY, tenants), serve)
        states = task_states(failed.id)
        say(f"failed day: {failed.state.name} ({failed.state.message}), task runs"
            f" {dict(Counter(states.values()))}")
        step = f"payer module · {TYPO_MODULE.stem}"
        if not failed.state.is_failed() or states.get(step) != "Failed":
            raise SystemExit(f"expected the day to fail at {step!r}; it ended"
                             f" {failed.state.name}, the step {states.get(step)}")
        take_screenshots(ui, [Shot("3-failed-day-logs",
                                   f"/runs/flow-run/{failed.id}?tab=Logs")], work, budget_ms)

        retry_like_the_dashboard(failed.id)
        retried = wait_for_final(failed.id, serve)
        states = task_states(retried.id)
        say(f"retried day: {retried.state.name}, task runs {dict(Counter(states.values()))}")

        day = f"{COMPLETED_DAY:%Y%m%d}"
        take_screenshots(ui, [
            Shot("1-runs", "/runs"),
            Shot("2-completed-day-task-runs", f"/runs/flow-run/{completed.id}?tab=TaskRuns",
                 TALL),
            Shot("4-retried-day-task-runs", f"/runs/flow-run/{retried.id}?tab=TaskRuns",
                 TALL),
            Shot("5-run-report", f"/artifacts/artifact/{artifact_id(f'run-report-{day}')}",
                 TALL),
            # Wide: the dashboard does not wrap a table's cells, and the counts and
            # dollars are its last columns.
            Shot("6-needs-a-person",
                 f"/artifacts/artifact/{artifact_id(f'needs-a-person-{day}')}", 900, 2400),
        ], work, budget_ms)
    finally:
        processes.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-ms", type=int, default=15000,
                        help="Chromium's virtual time budget per page (default 15000).")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the temporary folder (logs, databases) and print it.")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium package"
                         " (apt-get update && apt-get install -y chromium), then run this"
                         " again.")
    if not (VENV_BIN / "revcycle").exists():
        raise SystemExit(f"{VENV_BIN / 'revcycle'} is missing: install the project in"
                         " .venv first.")
    work = Path(tempfile.mkdtemp(prefix="revcycle-screenshots-"))
    try:
        run(work, args.budget_ms)
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"done: {', '.join(sorted(p.name for p in OUT.glob('*.png')))}")


if __name__ == "__main__":
    main()
