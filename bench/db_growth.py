"""Database growth per claim, measured: what one simulated business day leaves in PostgreSQL,
scaled to 1M claims a day.

Makes a fresh PostgreSQL database on the server of the admin URL, runs ``revcycle demo
--claims N --json`` on it (``bench/demo_run.py``: a fresh folder store and Prefect home;
the simulator's payers answer at once, so each claim goes through its whole life in the
day: acknowledged, paid or denied, posted to the ledger), then reads, per table, the row
count, ``pg_total_relation_size`` and ``pg_indexes_size`` (the table's own bytes are the
difference: heap, TOAST, free space and visibility maps). Sizes are read as the run left
them (with the dead rows its updates made, as a live database has) and again after
``VACUUM FULL`` (the floor). Also measured: the object store's bytes and Prefect's
database file, per claim.

Prints a table (rows and bytes per claim, per table; per day at 1M claims, per 30-day
month and per year), then one JSON object with the figures.
Run: ``python bench/db_growth.py [--claims 5000] [--tenants 3] [ADMIN_URL]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

import sqlalchemy

from bench.demo_run import ADMIN_URL, demo_environment, run_demo

PER_DAY = 1_000_000
DAYS = {"day": 1, "month": 30, "year": 365}

SIZES = """
SELECT c.relname AS name, pg_total_relation_size(c.oid) AS total,
       pg_indexes_size(c.oid) AS indexes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
ORDER BY c.relname
"""


def table_sizes(url: str) -> dict[str, dict[str, int]]:
    """Rows, total bytes and index bytes of every table of the public schema."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            tables = {row.name: {"total": int(row.total), "indexes": int(row.indexes)}
                      for row in connection.execute(sqlalchemy.text(SIZES))}
            for name, figures in tables.items():
                figures["rows"] = int(connection.exec_driver_sql(
                    f'SELECT count(*) FROM "{name}"').scalar_one())
    finally:
        engine.dispose()
    return tables


def vacuum_full(url: str) -> None:
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM FULL")
    finally:
        engine.dispose()


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


PER_CLAIM = 0.1  # tables with fewer rows a claim grow per file or per step, not per claim


def per_claim(tables: dict[str, dict[str, int]], vacuumed: dict[str, dict[str, int]],
              claims: int) -> dict[str, dict[str, float]]:
    """Rows and bytes (table, index; all after VACUUM FULL) per claim, for the tables that
    grow with the claims."""
    return {name: {"rows": t["rows"] / claims,
                   "table_bytes": (t["total"] - t["indexes"]) / claims,
                   "index_bytes": t["indexes"] / claims,
                   "vacuumed_bytes": vacuumed.get(name, t)["total"] / claims}
            for name, t in tables.items() if t["rows"] >= claims * PER_CLAIM}


def report(claims: int, tenants: int, tables: dict[str, dict[str, int]],
           vacuumed: dict[str, dict[str, int]], store_bytes: int, prefect_bytes: int,
           wall_s: float) -> dict[str, Any]:
    rates = per_claim(tables, vacuumed, claims)
    print(f"revcycle demo --claims {claims:,} --tenants {tenants} on PostgreSQL:"
          f" {wall_s:.0f} s. Bytes per claim as the run left them (dead rows included),"
          f" and after VACUUM FULL; at {PER_DAY:,} claims a day:")
    print(f"{'table':<24}{'rows':>7}{'table B':>9}{'index B':>9}{'vacuumed':>10}"
          f"{'per day':>11}{'per month':>11}{'per year':>11}")

    def row(label: str, rows: str, table: str, index: str, vac: str, size: float) -> None:
        print(f"{label:<24}{rows:>7}{table:>9}{index:>9}{vac:>10}"
              + "".join(f"{human(size * d):>11}" for d in DAYS.values()))

    for name, r in sorted(rates.items(), key=lambda item: -item[1]["table_bytes"]
                          - item[1]["index_bytes"]):
        row(name, f"{r['rows']:.2f}", f"{r['table_bytes']:.0f}", f"{r['index_bytes']:.0f}",
            f"{r['vacuumed_bytes']:.0f}", (r["table_bytes"] + r["index_bytes"]) * PER_DAY)
    total = sum(r["table_bytes"] + r["index_bytes"] for r in rates.values())
    index = sum(r["index_bytes"] for r in rates.values())
    floor = sum(r["vacuumed_bytes"] for r in rates.values())
    others = sum(t["total"] for name, t in tables.items() if name not in rates)
    row("tables growing per claim", "", f"{total - index:.0f}", f"{index:.0f}",
        f"{floor:.0f}", total * PER_DAY)
    row("  the same, vacuumed", "", "", "", "", floor * PER_DAY)
    row("object store (folder)", "", f"{store_bytes / claims:.0f}", "", "",
        store_bytes / claims * PER_DAY)
    print(f"Not per claim (a run's worth, once a day): other tables {human(others)}"
          f" ({', '.join(sorted(n for n in tables if n not in rates and tables[n]['rows']))});"
          f" Prefect's database after the run {human(prefect_bytes)}")
    return {"claims": claims, "tenants": tenants, "demo_wall_s": round(wall_s, 1),
            "bytes_per_claim": round(total, 1), "index_bytes_per_claim": round(index, 1),
            "bytes_per_claim_vacuumed": round(floor, 1),
            "store_bytes_per_claim": round(store_bytes / claims, 1),
            "other_tables_bytes_per_run": others, "prefect_db_bytes_per_run": prefect_bytes,
            "per_1m_day_bytes": round(total * PER_DAY),
            "per_month_bytes": round(total * PER_DAY * DAYS["month"]),
            "per_year_bytes": round(total * PER_DAY * DAYS["year"]),
            "tables": {name: {k: round(v, 3) for k, v in r.items()}
                       for name, r in rates.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=ADMIN_URL,
                        help="a PostgreSQL URL that may CREATE DATABASE")
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--tenants", type=int, default=3)
    args = parser.parse_args()

    from revcycle.db.scratch import create_database, drop_database

    url = create_database(args.admin_url, "revcycle_growth")
    try:
        with tempfile.TemporaryDirectory(prefix="revcycle-growth-") as tmp:
            home, prefect_home = Path(tmp) / "home", Path(tmp) / "prefect"
            demo = run_demo(args.claims, args.tenants,
                            demo_environment(home, url, prefect_home))
            if not demo.summary:
                sys.exit(f"demo failed ({demo.returncode}): {demo.stderr_tail}")
            claims = int(demo.summary.get("claims_generated") or args.claims)
            tables = table_sizes(url)
            vacuum_full(url)
            vacuumed = table_sizes(url)
            store = folder_bytes(home / "store")
            prefect_db = folder_bytes(prefect_home) if prefect_home.exists() else 0
    finally:
        drop_database(args.admin_url, url)
    figures = report(claims, args.tenants, tables, vacuumed, store, prefect_db, demo.wall_s)
    figures["demo_ok"] = demo.returncode == 0
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
