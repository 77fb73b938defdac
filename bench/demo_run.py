"""Run ``revcycle demo`` in a child process on a fresh PostgreSQL database, a fresh object
store folder and a fresh Prefect home, for the scaling benchmarks (``db_growth.py``,
``stage_times.py``). Synthetic data only: the demo's simulator makes every claim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("REVCYCLE_TEST_POSTGRES",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class DemoRun:
    """What one demo run took and said."""

    wall_s: float
    returncode: int
    summary: dict[str, Any]
    stderr_tail: str


def revcycle_command() -> list[str]:
    """The ``revcycle`` entry point of this interpreter's environment."""
    script = Path(sys.executable).with_name("revcycle")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


def demo_environment(home: Path, database_url: str, prefect_home: Path) -> dict[str, str]:
    """The child's environment: a folder store under ``home``, the given database, its own
    Prefect home (so its temporary server starts on an empty database), telemetry off."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("REVCYCLE_", "PREFECT_"))}
    env.update({
        "REVCYCLE_HOME": str(home), "REVCYCLE_DATABASE_URL": database_url,
        "REVCYCLE_STORE": "local", "PREFECT_HOME": str(prefect_home),
        "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    })
    return env


def run_demo(claims: int, tenants: int, env: dict[str, str], timeout_s: float = 3600.0,
             payers: str = "4") -> DemoRun:
    """``revcycle demo --claims N --tenants T --json``; its wall time and JSON summary."""
    command = [*revcycle_command(), "demo", "--claims", str(claims), "--tenants",
               str(tenants), "--payers", payers, "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    summary = json.loads(lines[-1]) if lines else {}
    return DemoRun(wall, done.returncode, summary, done.stderr[-2000:])
