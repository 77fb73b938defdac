"""The first commands a new user types, as they type them: a fresh Prefect home (so
Prefect's temporary server creates its database), no Prefect server, a new working folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from revcycle.storage import zone_prefix

TENANTS = ("northside", "lakeview")


def _revcycle(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PREFECT_", "REVCYCLE_"))}
    clean.update(PREFECT_HOME=str(tmp_path / "prefect"), REVCYCLE_HOME=str(tmp_path / "home"),
                 COLUMNS="120", **env)
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=tmp_path,
                          env=clean, capture_output=True, text=True, timeout=600)


def test_the_demo_runs_on_a_fresh_machine_and_says_what_a_second_run_did(
        tmp_path: Path) -> None:
    first = _revcycle(tmp_path, "demo", "--claims", "90", "--tenants", "2", "--payers", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Traceback" not in first.stderr and len(first.stderr.splitlines()) < 5
    out = first.stdout
    assert "this run, business day 2026-11-02" in out and "claims 90" in out
    assert "$" in out and "{'" not in out  # dollars formatted, no dict reprs
    # The same day again: the re-dropped files are recognised, the rest was done already.
    again = _revcycle(tmp_path, "demo", "--claims", "90", "--tenants", "2", "--payers", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already ingested 5" in again.stdout
    assert "done by an earlier run" in again.stdout
    assert "claims 90" not in again.stdout  # nothing new ingested


def test_a_day_dropped_now_runs_later(tmp_path: Path) -> None:
    dropped = _revcycle(tmp_path, "demo", "--drop-only", "--date", "2026-11-03", "--claims",
                        "60", "--tenants", "2", "--payers", "2")
    assert dropped.returncode == 0, dropped.stderr[-3000:]
    assert "revcycle run --date 2026-11-03 --tenant northside --tenant lakeview" \
        in " ".join(dropped.stdout.split())
    store = tmp_path / "home" / "store"
    for tenant in TENANTS:
        assert list((store / zone_prefix(tenant, "landing")).rglob("*claims*"))
        assert not (store / zone_prefix(tenant, "raw")).exists()  # nothing ran yet
    ran = _revcycle(tmp_path, "run", "--date", "2026-11-03", "--tenant", "northside",
                    "--tenant", "lakeview", "--json")
    assert ran.returncode == 0, ran.stderr[-3000:]
    summary = json.loads(ran.stdout)
    assert summary["business_date"] == "2026-11-03" and summary["failed_steps"] == []
    assert sum(step["claims"] for step in summary["stages"]["ingest"]) == 60
    assert summary["report"]["claims"]["in"] == 60


def test_prefect_that_cannot_start_is_one_clear_line(tmp_path: Path) -> None:
    failed = _revcycle(tmp_path, "run", "--date", "2026-11-02", "--tenant", "northside",
                       PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0")
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr[-3000:]
    assert lines[0].startswith("revcycle: Prefect's temporary server did not start")
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in lines[0]
    assert "PREFECT_API_URL" in lines[0]


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday"])
def test_a_bad_date_is_refused_before_anything_starts(tmp_path: Path, value: str) -> None:
    refused = _revcycle(tmp_path, "run", "--date", value)
    assert refused.returncode == 2 and "is not a date" in refused.stderr
