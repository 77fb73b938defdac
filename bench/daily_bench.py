"""A whole business day, end to end: how long each stage takes, how far it is from the floor,
and what the orchestration costs.

For each database (SQLite + the local folder store; PostgreSQL + an S3 endpoint, moto's
server on 127.0.0.1) and each day size (default 10,000 and 100,000 claims), a child process
on a scratch installation:

1. drops the day: N synthetic claims from 10 tenants billing 8 payers (the simulator's five
   and three more payer modules written for the run, answered by the simulator too), in
   each tenant's landing zone (not timed: it is the providers' work);
2. times the floor: the day's 837s read from the store and cut with a bare ``str.split``,
   and ~6 rows a claim (the claim, its lines, an event, padded with its diagnoses) written
   with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite) into a scratch table;
3. starts Prefect (its temporary server: timed apart, a deployment has one running) and runs
   the daily flow (ingest, quality, scrub, write; submit per payer; collect, route, acks and post
   per payer; report), the payers answering at once through the simulator. With
   ``--task-runner dask`` the flow runs on a LocalCluster; with ``serial`` no task runs:
   each step's body one after another in one flow run (:func:`serial_day`).

Each step's own work is timed where it runs (``tasks.policy.STAGE_SPANS``): a stage's wall
time is the union of its steps' spans, its busy time their sum. Orchestration is the day's
wall time outside every step's work. The parent samples the RSS of the child's whole process
tree (the flow, Prefect's server) every 50 ms; moto's S3 server is not ours and not counted.

    python bench/daily_bench.py [--claims 10000 100000] [--databases sqlite postgres]
                                [--postgres ADMIN_URL] [--quick]
                                [--task-runner threads|dask|serial]

Prints a table per run and, last, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from revcycle.db.scratch import NoServer, create_database, drop_database  # noqa: E402
from revcycle.settings import TASK_RUNNERS  # noqa: E402

DAY = date(2026, 11, 2)
TENANTS = 10
EXTRA_PAYERS = (("BENCH6", "BENCH SIX HEALTH"), ("BENCH7", "BENCH SEVEN CARE"),
                ("BENCH8", "BENCH EIGHT PLAN"))
STAGES = ("ingest", "quality", "scrub", "write", "submit", "collect", "route", "acks", "post",
          "report")
# The simulator answers the same day: a claim still in one of these after the day was lost
# somewhere (ended neither adjudicated nor refused).
UNSETTLED = ("RECEIVED", "VALIDATED", "READY", "SUBMITTED", "ACCEPTED")
DEFAULT_ADMIN = os.environ.get("REVCYCLE_TEST_POSTGRES",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
SERIAL = "serial"  # --task-runner: the steps' bodies one after another (serial_day)
PAYER_MODULE = '''from revcycle.channels import ChannelSpec
from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(payer_id={pid!r}, name={name!r}, receiver_id={pid!r},
                        channels=(ChannelSpec("simulator"),))
'''


# --- measuring -----------------------------------------------------------------------------

def union_s(spans: Iterable[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the spans."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def tree_rss_kib(root: int) -> int:
    """RSS of ``root`` and every process under it, in KiB. The tree is walked from the
    root by each thread's list of children, not found by reading every process's status
    on the machine: sampled every 50 ms, that took a tenth of a core from the day."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        proc = Path("/proc") / str(pid)
        try:
            total += int((proc / "statm").read_text().split()[1]) * PAGE_KIB
            for task in (proc / "task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
    return total


def stage_figures(spans: list[tuple[str, float, float]], claims: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for stage in STAGES:
        mine = [(start, end) for name, start, end in spans if name == stage]
        if not mine:
            continue
        wall = union_s(mine)
        figures[stage] = {"wall_s": round(wall, 3),
                          "busy_s": round(sum(end - start for start, end in mine), 3),
                          "steps": len(mine),
                          "claims_per_s": round(claims / wall) if wall else None}
    return figures


# --- the child: one day on one installation -----------------------------------------------

def child(config: dict[str, Any]) -> dict[str, Any]:
    home = Path(config["home"])
    modules = home / "payer-modules"
    os.environ.update(REVCYCLE_HOME=str(home), PREFECT_HOME=str(home / "prefect"),
                      REVCYCLE_DATABASE_URL=config["database_url"],
                      REVCYCLE_PAYER_MODULES_DIR=str(modules))
    if config["task_runner"] != SERIAL:
        os.environ["REVCYCLE_TASK_RUNNER"] = config["task_runner"]
    if config.get("s3_endpoint"):
        # A bucket of its own: another run's files (same tenants, day and control numbers)
        # must not answer for this one's.
        os.environ.update(FAKE_AWS, REVCYCLE_STORE="s3",
                          REVCYCLE_S3_BUCKET=f"revcycle-bench-{home.name.lower()}",
                          REVCYCLE_S3_ENDPOINT_URL=config["s3_endpoint"],
                          REVCYCLE_S3_CREATE_BUCKET="true")
    from flows.cli import _orchestration_settings

    _orchestration_settings()
    modules.mkdir(parents=True)
    for pid, name in EXTRA_PAYERS:
        (modules / f"{pid.lower()}.py").write_text(PAYER_MODULE.format(pid=pid, name=name))

    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources
    from revcycle.simulator import DEFAULT_PAYERS, profile_for

    res = get_resources()
    tenants = tuple(f"tenant{n:02d}" for n in range(TENANTS))
    payers = [*DEFAULT_PAYERS, *(profile_for(pid, name) for pid, name in EXTRA_PAYERS)]
    figures: dict[str, Any] = {"database": config["database"], "claims": config["claims"],
                               "task_runner": config["task_runner"]}
    started = time.perf_counter()
    dropped = drop_business_day(res.store, claims=config["claims"], seed=11,
                                business_date=DAY, tenants=tenants, payers=payers,
                                sessions=res.sessions)
    figures["generate_s"] = round(time.perf_counter() - started, 1)
    figures["floor"] = floor(res, tenants, config["database"])

    from prefect import flow

    from flows.cli import run_flow
    from flows.daily import daily_revenue_cycle
    from tasks.policy import STAGE_SPANS

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        """Starts Prefect's temporary server, as a deployment has it running already."""

    started = time.perf_counter()
    warm_up()
    figures["prefect_start_s"] = round(time.perf_counter() - started, 1)
    STAGE_SPANS.clear()
    started = time.perf_counter()
    if config["task_runner"] == SERIAL:
        serial_day(DAY, list(tenants))
        ok, summary = True, {"failed_steps": []}
    else:
        ok, summary = run_flow(daily_revenue_cycle, business_date=DAY, tenants=list(tenants))
    ended = time.perf_counter()
    spans = [span for span in STAGE_SPANS if started <= span[1] <= ended]
    wall = ended - started
    statuses = outcome(res)
    figures.update(ok=ok, failed_steps=summary["failed_steps"], wall_s=round(wall, 1),
                   claims_per_s=round(dropped.claims / wall), outcome=statuses,
                   unsettled=sum(n for status, n in statuses.items() if status in UNSETTLED))
    if spans:  # on Dask the steps run, and record their spans, in the workers
        inside = union_s((start, end) for _, start, end in spans)
        figures.update(stages=stage_figures(spans, dropped.claims),
                       orchestration_s=round(wall - inside, 1),
                       orchestration_share=round((wall - inside) / wall, 3))
    return figures


def serial_day(day: date, tenants: list[str]) -> None:
    """The daily flow's steps in its order, each step's own body (``task.fn``: the stage,
    its audit record, its log lines) called one after another in one flow run: no task
    runner, no task runs, no caching, no concurrency. What one interpreter needs for the
    day's work; the daily flow's wall time against it is what running steps concurrently
    gains or costs. A failed step raises."""
    from prefect import flow

    from revcycle.pipeline.batches import batch_id
    from tasks.acks import acks_task
    from tasks.ingest import ingest_task
    from tasks.mailbox import collect_task, route_task
    from tasks.payers import load_payers
    from tasks.post import post_task
    from tasks.quality import quality_task
    from tasks.report import report_task
    from tasks.scrub import scrub_task
    from tasks.submit import submit_task, write_task

    @flow(name="bench-serial-day")
    def steps_one_by_one() -> None:
        payers = sorted(load_payers())
        for tenant in tenants:
            batch = batch_id(tenant, day)
            ingest_task.fn(tenant, day)
            quality_task.fn(batch)
            scrub_task.fn(batch)
            write_task.fn(batch)
            for payer in payers:
                submit_task.fn(batch, payer)
        for payer in payers:
            collect_task.fn(payer, day)
        route_task.fn(day)
        for tenant in tenants:
            batch = batch_id(tenant, day)
            for payer in payers:
                acks_task.fn(batch, payer)
                post_task.fn(batch, payer)
        report_task.fn(day, tenants)

    steps_one_by_one()


def floor(res: Any, tenants: tuple[str, ...], database: str) -> dict[str, Any]:
    """The day's 837s read from the store, cut with ``str.split``, ~6 rows a claim written
    in bulk into a scratch table; seconds and rows."""
    from revcycle.storage import zone_prefix

    started = time.perf_counter()
    rows: list[tuple[str, str, str]] = []
    claims = 0
    for tenant in tenants:
        for key in res.store.list(zone_prefix(tenant, "landing")):
            if not key.endswith("-claims.x12"):
                continue
            claim = ""
            for segment in res.store.get(key).decode("latin-1").split("~"):
                elements = segment.strip().split("*")
                tag = elements[0]
                if tag == "CLM":
                    claims += 1
                    claim = elements[1]
                    rows.append((tenant, claim, elements[2]))
                    rows.append((tenant, claim, "RECEIVED"))
                elif tag in ("SV1", "SV2", "HI") and claim:
                    rows.append((tenant, claim, elements[1]))
    read = time.perf_counter() - started
    per_claim = len(rows) / claims if claims else 0.0
    with res.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE bench_floor (tenant TEXT, claim TEXT,"
                                   " value TEXT)")
        if database == "postgres":
            with connection.connection.driver_connection.cursor() as cursor, cursor.copy(
                    "COPY bench_floor (tenant, claim, value) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            connection.connection.driver_connection.executemany(
                "INSERT INTO bench_floor VALUES (?, ?, ?)", rows)
    total = time.perf_counter() - started
    with res.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE bench_floor")
    return {"claims": claims, "rows": len(rows), "rows_per_claim": round(per_claim, 1),
            "read_split_s": round(read, 2), "write_s": round(total - read, 2),
            "wall_s": round(total, 2), "claims_per_s": round(claims / total) if total else None}


def outcome(res: Any) -> dict[str, int]:
    """Claims by status after the day: every claim the day took in went somewhere."""
    from sqlalchemy import func, select

    from revcycle.db.models import Claim

    with res.sessions() as session:
        return {str(status): count for status, count in session.execute(
            select(Claim.status, func.count()).group_by(Claim.status))}


# --- the parent: one child per run, RSS sampled from outside -------------------------------

def run_one(database: str, claims: int, admin_url: str, endpoint: str,
            task_runner: str = "threads") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="daily-bench-") as tmp:
        url = create_database(admin_url, "revcycle_daily_bench") if database == "postgres" else ""
        config = {"database": database, "claims": claims, "home": tmp, "database_url": url,
                  "s3_endpoint": endpoint, "task_runner": task_runner,
                  "out": str(Path(tmp) / "figures.json")}
        try:
            process = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(config)],
                                       cwd=ROOT)
            peak = 0
            while process.poll() is None:
                peak = max(peak, tree_rss_kib(process.pid))
                time.sleep(0.05)
            if process.returncode != 0:
                raise SystemExit(f"{database} {claims}: the child failed"
                                 f" (exit {process.returncode})")
            figures = json.loads(Path(config["out"]).read_text())
        finally:
            if url:
                drop_database(admin_url, url)
    figures["peak_rss_mib"] = round(peak / 1024)
    return figures


@contextmanager
def s3_endpoint(database: str) -> Iterator[str]:
    """For PostgreSQL runs, the URL of moto's S3 server started on a free port of
    127.0.0.1 for them (stopped after); for SQLite runs, none."""
    if database != "postgres":
        yield ""
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, **FAKE_AWS})
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("moto's S3 server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()


def print_run(figures: dict[str, Any]) -> None:
    floor_ = figures["floor"]
    store = "S3 (moto)" if figures["database"] == "postgres" else "local folder"
    orchestration = (f"orchestration {figures['orchestration_s']} s"
                     f" ({figures['orchestration_share']:.1%})" if "stages" in figures else
                     "stages and orchestration not measured (the steps ran in Dask's workers)")
    print(f"\n{figures['claims']:,} claims, {TENANTS} tenants, 8 payers -- {figures['database']}"
          f" + {store}, {figures['task_runner']}: day {figures['wall_s']} s"
          f" ({figures['claims_per_s']:,} claims/s), peak RSS {figures['peak_rss_mib']:,} MiB,"
          f" {orchestration}; Prefect's server start {figures['prefect_start_s']} s apart;"
          f" failed steps {len(figures['failed_steps'])}")
    print(f"{'stage':<9} {'wall s':>8} {'busy s':>8} {'steps':>6} {'claims/s':>9}"
          f" {'x floor':>8}")
    for stage, row in figures.get("stages", {}).items():
        ratio = row["wall_s"] / floor_["wall_s"] if floor_["wall_s"] else 0
        rate = f"{row['claims_per_s']:,}" if row["claims_per_s"] else "-"
        print(f"{stage:<9} {row['wall_s']:>8} {row['busy_s']:>8} {row['steps']:>6}"
              f" {rate:>9} {ratio:>8.1f}")
    print(f"{'floor':<9} {floor_['wall_s']:>8} {'':>8} {'':>6} {floor_['claims_per_s']:>9,}"
          f" {1.0:>8.1f}   (read+split {floor_['read_split_s']} s, write"
          f" {floor_['write_s']} s, {floor_['rows_per_claim']} rows a claim)")
    print("claims by status: " + ", ".join(f"{k} {v:,}" for k, v in
                                           sorted(figures["outcome"].items()))
          + f"; unsettled after the day: {figures['unsettled']:,}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgres"),
                        default=["sqlite", "postgres"])
    parser.add_argument("--postgres", default=DEFAULT_ADMIN, help="admin URL of the server")
    parser.add_argument("--quick", action="store_true", help="1,000 and 3,000 claims")
    parser.add_argument("--task-runner", choices=(*TASK_RUNNERS, SERIAL), default="threads",
                        help="the flow's task runner (dask: a LocalCluster of worker"
                        " processes, REVCYCLE_DASK_WORKERS of them); serial: no runner, the"
                        " steps' bodies one after another in one flow run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        config = json.loads(args.child)
        Path(config["out"]).write_text(json.dumps(child(config)))
        return {}
    sizes = [1_000, 3_000] if args.quick else sorted(args.claims)
    runs: list[dict[str, Any]] = []
    for database in args.databases:
        try:
            with s3_endpoint(database) as endpoint:
                for claims in sizes:
                    runs.append(run_one(database, claims, args.postgres, endpoint,
                                        args.task_runner))
                    print_run(runs[-1])
        except NoServer as exc:
            print(f"PostgreSQL not reachable at {args.postgres} ({exc}): SQLite only")
    result = summary(runs, sizes)
    print(json.dumps(result))
    return result


def summary(runs: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    def wall(database: str, claims: int) -> float | None:
        return next((r["wall_s"] for r in runs if r["database"] == database
                     and r["claims"] == claims), None)

    small, large = sizes[0], sizes[-1]
    ratios = {}
    for database in ("postgres", "sqlite"):
        a, b = wall(database, small), wall(database, large)
        if a and b and large != small:
            ratios[database] = round((b / large) / (a / small), 2)
    return {
        "claims": large,
        "wall_s_postgres": wall("postgres", large),
        "wall_s_sqlite": wall("sqlite", large),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "orchestration_share": max((r["orchestration_share"] for r in runs
                                    if "orchestration_share" in r), default=None),
        "task_runner": runs[0]["task_runner"],
        "per_claim_ratio_100k_vs_10k": ratios.get("postgres", ratios.get("sqlite")),
        "per_claim_ratio_by_database": ratios,
        "failed_steps": sum(len(r["failed_steps"]) for r in runs),
        "unsettled_claims": sum(r["unsettled"] for r in runs),
        "runs": [{k: r.get(k) for k in ("database", "claims", "wall_s", "claims_per_s",
                                        "peak_rss_mib", "orchestration_share",
                                        "prefect_start_s", "stages", "floor")} for r in runs],
    }


if __name__ == "__main__":
    main()
