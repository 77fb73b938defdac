"""Posting benchmark: how fast ``post_remittances`` posts a large 835, and how much of the
remitted money posts with no human step.

For each database (a fresh SQLite file, and a throwaway PostgreSQL database made on the
server named by ``REVCYCLE_TEST_POSTGRES`` the way the integration tests make theirs;
skipped with a message when that server is unreachable) it:

1. generates ``--claims`` synthetic claims of one payer (SIMC1, commercial) for one tenant,
   drops them in landing as 837s and ingests them (the pipeline's ``ingest``);
2. takes them to READY by status transitions (quality and scrub are benchmarked elsewhere),
   submits them through the payer simulator channel (``submit``: 837s of up to 5,000
   claims, each answered at once with a 999, a 277CA and an 835 in inbound/) and applies
   the acknowledgments (``apply_acknowledgments``);
3. times ``post_remittances`` alone (one run, ``time.perf_counter``).

The simulator's default behaviour includes the hard cases (reversals with corrections,
PLB, claims adjudicated without lines, secondary-payer claims). The auto-post dollar
rate is the share of the remitted dollars (the sum of CLP04 over the 835s) on payments
that posted with no human step: in a posted (not held) remittance and not in the
exception queue. It is also measured on the demo's business day
(``revcycle.demo.drop_business_day``) taken through every stage: ingest, quality, scrub,
submit, acknowledgments and posting. Those two rates are ``auto_post_dollar_rate_simulator``
and ``day_auto_post_dollar_rate`` in the JSON.

Last, a payer world (``bench/posting_world.py``): weeks of one tenant's claims to three
payers that answer on their own timetable through a real SFTP server, their 835s carrying
the mismatches real payers make (``Mismatches.realistic()``, times ``--mismatch-scale``),
scored against what the world says it paid: ``match_rate`` (lines), ``claim_match_rate``
and ``auto_post_dollar_rate``, with claims matched per mismatch kind.

Prints a table, the targets with MET or MISS and, as its last line, one JSON object.
Run: ``python bench/posting_bench.py [--claims N] [--seed S] [--mismatch-scale X]
[--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.posting_world import TARGET_MATCH, bench_world, table
from revcycle.channels import route_for
from revcycle.channels.simulator import SimulatorChannel
from revcycle.db import models
from revcycle.db.scratch import NoServer, create_database, drop_database
from revcycle.demo import DEMO_DATE, drop_business_day
from revcycle.model.claim import ClaimType, Receiver
from revcycle.model.remittance import Remittance
from revcycle.payers import PayerDefinition
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.scrub import DEFAULT_RULES
from revcycle.settings import Settings
from revcycle.simulator import DEFAULT_PAYERS, ClaimFactory
from revcycle.status import Status
from revcycle.storage import object_key, zone_prefix
from revcycle.x12.reader import read
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

POSTGRES_ADMIN_URL = os.environ.get("REVCYCLE_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TENANT = "benchclinic"
DAY = DEMO_DATE
PAYER_ID = "SIMC1"
TARGET_CLAIMS_PER_S = 2000.0  # on PostgreSQL
TARGET_AUTO_POST = 0.95


def _remitted(res: Resources, tenant: str) -> tuple[Decimal, int]:
    """Sum of CLP04 and number of CLPs over the tenant's inbound 835s."""
    total, clps = Decimal(0), 0
    for key in res.store.list(zone_prefix(tenant, "inbound")):
        if not key.endswith("-835.x12"):
            continue
        for remittance in read(res.store.get(key)).bodies(Remittance):
            total += sum((c.paid for c in remittance.claims), Decimal(0))
            clps += len(remittance.claims)
    return total, clps


def _posted(res: Resources) -> dict[str, Any]:
    """What the database says was posted with no human step, and the exception queue."""
    with res.sessions() as session:
        auto = session.scalar(
            select(func.coalesce(func.sum(models.Payment.paid), 0))
            .join(models.Remittance, models.Payment.remittance_id == models.Remittance.id)
            .where(models.Remittance.status == "POSTED", models.Payment.exception == ""))
        payments = session.scalar(select(func.count()).select_from(models.Payment))
        unexplained = session.scalar(select(func.count()).select_from(models.Payment).where(
            models.Payment.claim_id.is_(None), models.Payment.exception == ""))
        held = list(session.scalars(select(models.Remittance.reason).where(
            models.Remittance.status != "POSTED")))
    return {"auto_posted": Decimal(auto), "payments": payments,
            "every_exception_has_a_reason": unexplained == 0 and all(held)}


def _submitted_batch(res: Resources, claims: int, seed: int) -> tuple[str, PayerDefinition]:
    """``claims`` claims of one payer, ingested, sent and acknowledged; the batch id."""
    profile = next(p for p in DEFAULT_PAYERS if p.payer_id == PAYER_ID)
    payer = PayerDefinition(profile.payer_id, profile.name, profile.payer_id)
    factory = ClaimFactory(seed, TENANT.upper()[:8], as_of=DAY, payers=(profile,))
    simulation = factory.generate(claims, defect_rate=0.0)
    header = InterchangeHeader(Party("BENCHCLINIC"), Party("REVCYCLE"), usage_indicator="T")
    for number, claim_type in enumerate(ClaimType, 1):
        group = [c for c in simulation.claims if c.claim_type is claim_type]
        if group:
            written = write_837(group, header, CounterControlNumbers(interchange=number),
                                factory.submitter, Receiver("REVCYCLE", "REVCYCLE"))
            res.store.put(object_key(TENANT, "landing", DAY, "drop",
                                     f"{claim_type.value.lower()}.x12"),
                          written.text.encode())
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        ids = [row.id for row in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "bench")
        move(session, ids, Status.VALIDATED, Status.READY, "bench")
        session.commit()
    submit(res, batch, payer, SimulatorChannel(res.store, payer, seed=seed))
    apply_acknowledgments(res, batch, payer.payer_id)
    return batch, payer


def bench_posting(database_url: str, home: Path, claims: int, seed: int) -> dict[str, Any]:
    """Set up a submitted batch on ``database_url`` and time posting its 835s."""
    res = Resources.from_settings(Settings(home=home, database_url=database_url))
    try:
        started = time.perf_counter()
        batch, payer = _submitted_batch(res, claims, seed)
        setup_s = time.perf_counter() - started
        remitted, clps = _remitted(res, TENANT)
        started = time.perf_counter()
        result = post_remittances(res, batch, payer.payer_id)
        seconds = time.perf_counter() - started
        posted = _posted(res)
    finally:
        res.engine.dispose()
    return {"claims": claims, "clps": clps, "seconds": round(seconds, 3),
            "setup_s": round(setup_s, 1), "claims_per_s": round(clps / seconds, 1),
            "remittances": result["remittances"], "held": result["held"],
            "exceptions": result["exceptions"], "claims_posted": result["claims_posted"],
            "reversals": result["reversals"], "remitted": str(remitted),
            "auto_posted": str(posted["auto_posted"]),
            "auto_post_dollar_rate": _rate(posted["auto_posted"], remitted),
            "every_exception_has_a_reason": posted["every_exception_has_a_reason"]}


def bench_day(home: Path, claims: int, seed: int) -> dict[str, Any]:
    """The demo's business day through every stage on SQLite: its auto-post dollar rate."""
    from tasks.payers import load_payers  # the configured payers, as the daily flow uses

    res = Resources.from_settings(Settings(home=home))
    payers = load_payers()
    rules = {pid: p.scrub_rules(DEFAULT_RULES) for pid, p in payers.items()}
    filing = {pid: p.timely_filing_days for pid, p in payers.items()}
    try:
        day = drop_business_day(res.store, claims=claims, seed=seed)
        exceptions = held = 0
        remitted = Decimal(0)
        for tenant in day.tenants:
            batch = ingest(res, tenant, day.business_date)["batch"]
            check_quality(res, batch)
            scrub_batch(res, batch, rules, filing)
            for payer_id in sorted(payers):
                submit(res, batch, payers[payer_id], route_for(payers[payer_id], res.store))
                apply_acknowledgments(res, batch, payer_id)
                result = post_remittances(res, batch, payer_id)
                exceptions += result["exceptions"]
                held += result["held"]
            remitted += _remitted(res, tenant)[0]
        posted = _posted(res)
    finally:
        res.engine.dispose()
    return {"claims": claims, "remitted": str(remitted),
            "auto_posted": str(posted["auto_posted"]), "held": held,
            "exceptions": exceptions,
            "auto_post_dollar_rate": _rate(posted["auto_posted"], remitted),
            "every_exception_has_a_reason": posted["every_exception_has_a_reason"]}


def _rate(part: Decimal, whole: Decimal) -> float:
    return round(float(part / whole), 4) if whole else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mismatch-scale", type=float, default=1.0,
                        help="the payer world's mismatch rates times this (5: a hard world)")
    parser.add_argument("--quick", action="store_true",
                        help="a small run (500 claims, a 300-claim day, a 300-claim world)"
                             " to check it works")
    args = parser.parse_args(argv)
    if args.claims < 1:
        parser.error("--claims must be at least 1")
    if args.mismatch_scale < 0:
        parser.error("--mismatch-scale must not be negative")
    claims = min(args.claims, 500) if args.quick else args.claims
    day_claims = 300 if args.quick else 2000
    world_per_day, settle_weeks = (60, 7) if args.quick else (400, 8)
    runs: dict[str, dict[str, Any] | None] = {}
    with tempfile.TemporaryDirectory(prefix="posting-bench-") as tmp:
        root = Path(tmp)
        sqlite_url = f"sqlite:///{root / 'bench.db'}"
        runs["sqlite"] = bench_posting(sqlite_url, root / "sqlite", claims, args.seed)
        try:
            url = create_database(POSTGRES_ADMIN_URL, "revcycle_bench")
        except NoServer as exc:
            print(f"PostgreSQL skipped: {exc} at {make_url(POSTGRES_ADMIN_URL).host};"
                  " set REVCYCLE_TEST_POSTGRES to an admin URL to include it")
            runs["postgres"] = None
        else:
            try:
                runs["postgres"] = bench_posting(url, root / "postgres", claims, args.seed)
            finally:
                drop_database(POSTGRES_ADMIN_URL, url)
        day = bench_day(root / "day", day_claims, args.seed)
        world = bench_world(root / "world", world_per_day, 5, settle_weeks, args.seed,
                            args.mismatch_scale)

    print(f"posting {claims} claims of one payer (simulator defaults: reversals, PLB,"
          " unlined and secondary claims included)")
    print(f"{'database':<10} {'CLPs':>7} {'seconds':>8} {'claims/s':>9} {'remits':>7}"
          f" {'held':>5} {'exceptions':>10} {'reversals':>9} {'auto-post $':>11}")
    for db, run in runs.items():
        if run is None:
            print(f"{db:<10} skipped")
            continue
        print(f"{db:<10} {run['clps']:>7} {run['seconds']:>8.2f} {run['claims_per_s']:>9.0f}"
              f" {run['remittances']:>7} {run['held']:>5} {run['exceptions']:>10}"
              f" {run['reversals']:>9} {run['auto_post_dollar_rate']:>11.2%}")
    print(f"demo day ({day_claims} claims, every stage, SQLite): auto-post"
          f" {day['auto_post_dollar_rate']:.2%} of {day['remitted']} remitted,"
          f" {day['held']} held, {day['exceptions']} exceptions; every exception has a"
          f" reason: {day['every_exception_has_a_reason']}")
    print("\n".join(table(world)))
    postgres = runs["postgres"]
    sqlite = runs["sqlite"]
    assert sqlite is not None
    met = {
        "claims_per_s_postgres": (postgres is not None
                                  and postgres["claims_per_s"] >= TARGET_CLAIMS_PER_S),
        "auto_post_dollar_rate_simulator": (
            sqlite["auto_post_dollar_rate"] >= TARGET_AUTO_POST
            and day["auto_post_dollar_rate"] >= TARGET_AUTO_POST),
        "auto_post_dollar_rate": world["auto_post_dollar_rate"] >= TARGET_AUTO_POST,
        "match_rate": world["match_rate"] >= TARGET_MATCH,
        "claim_match_rate": world["claim_match_rate"] >= TARGET_MATCH,
    }
    pg_figure = "skipped" if postgres is None else f"{postgres['claims_per_s']:.0f}"
    print(f"target: >= {TARGET_CLAIMS_PER_S:.0f} claims/s on PostgreSQL: {pg_figure}"
          f" -> {'MET' if met['claims_per_s_postgres'] else 'MISS'}")
    print(f"target: auto-post >= {TARGET_AUTO_POST:.0%} of remitted dollars:"
          f" {sqlite['auto_post_dollar_rate']:.2%} (bench), {day['auto_post_dollar_rate']:.2%}"
          f" (day) -> {'MET' if met['auto_post_dollar_rate_simulator'] else 'MISS'}")
    print(f"target: payer world auto-post >= {TARGET_AUTO_POST:.0%} of remitted dollars:"
          f" {world['auto_post_dollar_rate']:.2%}"
          f" -> {'MET' if met['auto_post_dollar_rate'] else 'MISS'}")
    for name in ("match_rate", "claim_match_rate"):
        print(f"target: payer world {name} >= {TARGET_MATCH:.0%}: {world[name]:.2%}"
              f" -> {'MET' if met[name] else 'MISS'}")
    figures = {
        "claims": claims, "seed": args.seed, "quick": args.quick,
        "claims_per_s_sqlite": sqlite["claims_per_s"],
        "claims_per_s_postgres": postgres["claims_per_s"] if postgres else None,
        "auto_post_dollar_rate_simulator": sqlite["auto_post_dollar_rate"],
        "day_auto_post_dollar_rate": day["auto_post_dollar_rate"],
        "auto_post_dollar_rate": world["auto_post_dollar_rate"],
        "match_rate": world["match_rate"], "claim_match_rate": world["claim_match_rate"],
        "mismatch_scale": args.mismatch_scale,
        "every_exception_has_a_reason": (day["every_exception_has_a_reason"] and all(
            r["every_exception_has_a_reason"] for r in runs.values() if r)),
        "sqlite": sqlite, "postgres": postgres, "day": day, "world": world,
        "targets_met": met,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
