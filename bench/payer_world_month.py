"""A month on the payer world: the acceptance run of the payer mailbox.

Runs ``revcycle demo --days N`` (default 30 business days, 3 tenants, 4 payers, 300
claims a day, then weekly runs while the payers pay) in a fresh home, once on the embedded
SQLite and once on a throwaway PostgreSQL database (made on the server named by
``REVCYCLE_TEST_POSTGRES``; skipped with a message when there is none). Each run is the
real daily flow under an ephemeral Prefect, the payers answering from a payer world over
SFTP: 999s the same day, 277CAs days later, 835s on each payer's weekly payment run, with
take-backs, pends, interest and the real-world matching mismatches.

At the end of each run the demo's closing checks (``flows.demo_days.closing_checks``) must
all pass: every claim the world adjudicated is adjudicated here (or its CLP is in the
posting exception queue), every rejection is here, every collected file is applied or
queued with a reason, none twice, the ledger balances claim by claim and remittance by
remittance, and aging adds up.

A simulated biller works every refusal and denial each morning
(:mod:`revcycle.simulator.biller`): the clean-claim rate on first submission and after
rework, and the denied dollars recovered, written off and still in work, are printed.

Prints a table per database and, as its last line, one JSON object.
Run: ``python bench/payer_world_month.py [--days N] [--claims N] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from revcycle.db.scratch import NoServer, create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("REVCYCLE_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def month(days: int, claims: int, settle_weeks: int, database_url: str) -> dict[str, Any]:
    """One ``demo --days`` run in a fresh home; its JSON and wall time."""
    with tempfile.TemporaryDirectory(prefix="revcycle-month-") as home:
        env = {**os.environ, "REVCYCLE_HOME": f"{home}/home",
               "PREFECT_HOME": f"{home}/prefect", "REVCYCLE_DATABASE_URL": database_url}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", "demo", "--days", str(days), "--claims",
             str(claims), "--tenants", "3", "--payers", "4", "--settle-weeks",
             str(settle_weeks), "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise SystemExit(f"demo --days failed (exit {done.returncode}):\n"
                         f"{done.stderr[-3000:]}")
    result = json.loads(lines[-1])
    result["wall_s"] = round(wall, 1)
    result["exit_code"] = done.returncode
    return result


def figures(result: dict[str, Any]) -> dict[str, Any]:
    world: dict[str, dict[str, int]] = result["payer_world"]
    kinds: dict[str, int] = {}
    for counts in world.values():
        for kind, n in counts.items():
            kinds[kind] = kinds.get(kind, 0) + n
    totals = result["totals"]
    return {"wall_s": result["wall_s"], "runs": len(result["runs"]),
            "claims": sum(r["claims_dropped"] for r in result["runs"]),
            "claims_paid": result["runs"][-1]["claims_paid"],
            "claims_denied": result["runs"][-1]["claims_denied"],
            "billed": totals["billed"], "paid": totals["paid"], "open_ar": totals["open_ar"],
            "aging": {name: b["amount"] for name, b in result["aging"]["buckets"].items()},
            "world": {k: kinds.get(k, 0) for k in (
                "837", "999", "277CA", "277CA-second", "pend-277", "ERA", "paid", "denied",
                "reversed", "pended", "interest", "missing_line_ref", "changed_code",
                "truncated_pcn", "split", "renumbered", "wo_recoupment", "replaced",
                "voided")},
            "rework": result.get("rework"),
            "steps_failed": sum(r["steps_failed"] for r in result["runs"]),
            "checks": len(result["closing_checks"]["checks"]),
            "findings": result["closing_checks"]["findings"],
            "exit_code": result["exit_code"]}


def show(name: str, f: dict[str, Any]) -> None:
    print(f"\n{name}: {f['runs']} runs, {f['claims']:,} claims, {f['wall_s']:,.0f} s"
          f" ({f['wall_s'] / max(1, f['runs']):.1f} s a run)")
    print(f"  paid {f['claims_paid']:,} claims, denied {f['claims_denied']:,};"
          f" billed ${Decimal(f['billed']):,.2f}, paid ${Decimal(f['paid']):,.2f},"
          f" open A/R ${Decimal(f['open_ar']):,.2f}")
    print("  A/R by days since submission: " + ", ".join(
        f"{name} ${Decimal(amount):,.2f}" for name, amount in f["aging"].items()))
    print("  payer world: " + ", ".join(f"{k} {v:,}" for k, v in f["world"].items()))
    rework = f["rework"]
    if rework:
        def share(value: float | None) -> str:
            return "-" if value is None else f"{value:.1%}"

        print(f"  rework: {rework['claims_sent']:,} claims sent, clean on first submission"
              f" {share(rework['clean_first_submission'])}, after rework"
              f" {share(rework['clean_after_rework'])}; denied"
              f" ${Decimal(rework['denied_dollars']):,.2f}: recovered"
              f" ${Decimal(rework['denied_recovered']):,.2f}"
              f" ({share(rework['denied_recovered_share'])}), written off"
              f" ${Decimal(rework['denied_written_off']):,.2f}, in work"
              f" ${Decimal(rework['denied_in_work']):,.2f}")
        print("  the biller: " + ", ".join(f"{what} {n:,}"
                                           for what, n in rework["work"].items()))
    verdict = "all passed" if not f["findings"] else f"{len(f['findings'])} FAILED"
    print(f"  closing checks: {f['checks']} run, {verdict}; steps failed {f['steps_failed']}")
    for finding in f["findings"]:
        print(f"    {finding['check']}: {finding['count']:,} {finding['message']}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--claims", type=int, default=300, help="claims a day (all tenants)")
    parser.add_argument("--settle-weeks", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="5 days of 60 claims, 3 weeks")
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.claims, args.settle_weeks = 5, 60, 3
    out: dict[str, Any] = {"days": args.days, "claims_a_day": args.claims}
    print(f"A month on the payer world: {args.days} business days x {args.claims} claims,"
          f" 3 tenants, 4 payers, then {args.settle_weeks} weekly runs")
    sqlite = figures(month(args.days, args.claims, args.settle_weeks, ""))
    show("SQLite + local store", sqlite)
    out["sqlite"] = sqlite
    try:
        url = create_database(POSTGRES_ADMIN_URL, "revcycle_month")
    except NoServer as exc:
        print(f"\nPostgreSQL: skipped ({exc}; set REVCYCLE_TEST_POSTGRES)")
        out["postgresql"] = None
    else:
        try:
            postgres = figures(month(args.days, args.claims, args.settle_weeks, url))
        finally:
            drop_database(POSTGRES_ADMIN_URL, url)
        show("PostgreSQL + local store", postgres)
        out["postgresql"] = postgres
    runs = [r for r in (out["sqlite"], out["postgresql"]) if r]
    out["all_checks_passed"] = all(not r["findings"] and not r["exit_code"] for r in runs)
    print(json.dumps(out, default=str))
    return out


if __name__ == "__main__":
    main()
