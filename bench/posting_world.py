"""The posting benchmark's payer world: how much of what payers paid we post right when
their 835s stop naming our claims exactly.

One tenant bills three simulated payers (SIMB1, SIMC1, SIMH1) for ``days`` business days,
``claims_per_day`` claims a day; the payers are a :class:`PayerWorld` behind a real SFTP
server with :meth:`Mismatches.realistic` rates times ``scale`` (dropped REF*6R, changed
codes with SVC06, truncated or payer-made CLP01, split claims, PLB WO recoupments), on
their own timetable (999 the same day, 277CA days later, 835 on a weekly payment run).
Each run day goes through the pipeline's functions the way the daily flow does: ingest,
READY by status transitions (quality and scrub are benchmarked elsewhere), submit over
SFTP, then the mailbox part (collect, route, acknowledgments, posting). After the
submission days a run every seven days for ``settle_weeks`` weeks lets the payers pay.

Scored against :meth:`PayerWorld.remitted`, the world's truth of its delivered ERAs:

- ``match_rate``: the share of the world's service lines (over every remitted claim) whose
  net paid is our ``service_lines.paid`` for that line while the claim's net paid is our
  ``claims.paid``;
- ``claim_match_rate``: the share of remitted claims whose net paid is our ``claims.paid``;
- ``auto_post_dollar_rate``: the share of the remitted CLP04 dollars (absolute, every CLP
  of the collected ERAs) on payments posted with no human step (no exception, in a
  POSTED remittance).

Counts and rates only leave here: no patient control number, name or member id.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flows.demo_days import business_days
from revcycle.channels import PayerRoute, Secrets, route_for
from revcycle.db import models
from revcycle.model.claim import ClaimType, Receiver
from revcycle.model.remittance import Remittance
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import MAILBOX, claims_in, move
from revcycle.pipeline.directory import directory_for
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.mailbox import collect_mailbox, route_mailbox
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.routing import Router
from revcycle.pipeline.submit import submit
from revcycle.pipeline.tenants import register_providers
from revcycle.settings import PayerWorldAddress, Settings
from revcycle.simulator import DEFAULT_PAYERS, ClaimFactory
from revcycle.simulator.mismatch import KINDS, Mismatches
from revcycle.simulator.remitted import RemittedClaim
from revcycle.simulator.sftp_server import SftpTestServer
from revcycle.simulator.world import PayerWorld, WorldPayer
from revcycle.status import Status
from revcycle.storage import object_key, zone_prefix
from revcycle.x12.reader import read
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tasks.channels import in_payer_world
from tasks.payers import load_payers

TENANT = "worldclinic"
PAYERS = ("SIMB1", "SIMC1", "SIMH1")
START = date(2026, 11, 2)  # a Monday
SECRET = "posting-bench-world"
TARGET_MATCH = 0.99  # match_rate and claim_match_rate
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Scored:
    """Our books against the world's truth."""

    lines: int
    lines_matched: int
    claims: int
    claims_matched: int
    by_kind: dict[str, tuple[int, int]]  # mismatch kind -> (claims matched, claims)


@contextmanager
def _world(root: Path, seed: int, mismatches: Mismatches,
           payers: list[Any]) -> Iterator[tuple[PayerWorld, PayerWorldAddress, Secrets]]:
    server = SftpTestServer(root=root)
    password = secrets.token_urlsafe(18)
    server.start()
    try:
        for payer in payers:
            server.add_user(payer.payer_id.lower(), password=password)
        world = PayerWorld([WorldPayer.of(p, seed=seed, sftp=server,
                                          sftp_user=p.payer_id.lower(), mismatches=mismatches)
                            for p in payers], START)
        address = PayerWorldAddress(host=server.host, port=server.port,
                                    host_key=server.host_key_line, password_secret=SECRET)
        yield world, address, Secrets([{SECRET: password}.get])
    finally:
        server.stop()


def run_days(days: int, settle_weeks: int) -> list[date]:
    """``days`` weekdays from START, then one day a week for ``settle_weeks`` weeks."""
    submitted = business_days(START, days)
    return submitted + [submitted[-1] + timedelta(weeks=w) for w in range(1, settle_weeks + 1)]


def bench_world(home: Path, claims_per_day: int, days: int, settle_weeks: int, seed: int,
                scale: float) -> dict[str, Any]:
    """The world's weeks through the pipeline on SQLite, scored against its truth."""
    res = Resources.from_settings(Settings(home=home))
    definitions = load_payers()
    payers = [definitions[p] for p in PAYERS]
    profiles = [p for p in DEFAULT_PAYERS if p.payer_id in PAYERS]
    factory = ClaimFactory(seed, TENANT.upper()[:8], as_of=START, payers=profiles)
    with res.sessions() as session:
        register_providers(session, TENANT, [(p.npi, p.tax_id, p.last_name)
                                             for p in factory.billing_providers])
        session.commit()
    mismatches = Mismatches.realistic().scaled(scale)
    routes: dict[str, PayerRoute] = {}
    try:
        with _world(home / "sftp", seed, mismatches, payers) as (world, address, keys):
            routes = {p.payer_id: route_for(in_payer_world(p, address), res.store, keys)
                      for p in payers}
            router = Router(directory_for(res, payers), receiver_ids=(res.settings.sender_id,))
            schedule = run_days(days, settle_weeks)
            counts = {"submitted": 0, "exceptions": 0, "held": 0}
            for number, day in enumerate(schedule):
                world.advance(day - timedelta(days=1))
                if number < days:
                    _drop(res, factory, day, claims_per_day, number)
                batch = ingest(res, TENANT, day)["batch"]
                counts["submitted"] += _ready(res, batch)
                for payer in payers:
                    if number < days:
                        submit(res, batch, payer, routes[payer.payer_id])
                    collect_mailbox(res, payer.payer_id, routes[payer.payer_id], day)
                route_mailbox(res, router, day)
                for payer in payers:
                    apply_acknowledgments(res, batch, payer.payer_id)
                    posted = post_remittances(res, batch, payer.payer_id)
                    counts["exceptions"] += posted["exceptions"]
                    counts["held"] += posted["held"]
                if number < len(schedule) - 1:  # the last run collected all delivered
                    world.advance(day)
            truth = world.remitted()
            summary = world.summary()
    finally:
        for route in routes.values():
            route.close()
    try:
        scored = _score(res, truth)
        remitted, auto = _remitted_dollars(res), _auto_posted(res)
    finally:
        res.engine.dispose()
    applied = {kind: sum(d.get(kind, 0) for d in summary.values())
               for kind in (*KINDS, "pend-277")}
    return {"claims": counts["submitted"], "days": days, "settle_weeks": settle_weeks,
            "scale": scale, "remitted_claims": scored.claims, "lines": scored.lines,
            "exceptions": counts["exceptions"], "held": counts["held"],
            "remitted": str(remitted), "auto_posted": str(auto),
            "auto_post_dollar_rate": _rate(auto, remitted),
            "match_rate": _rate(Decimal(scored.lines_matched), Decimal(scored.lines)),
            "claim_match_rate": _rate(Decimal(scored.claims_matched), Decimal(scored.claims)),
            "by_mismatch": {kind: {"matched": m, "claims": n}
                            for kind, (m, n) in scored.by_kind.items()},
            "world": applied}


def _drop(res: Resources, factory: ClaimFactory, day: date, claims: int, number: int) -> None:
    """A day's claims in the tenant's landing zone, one 837 per claim type."""
    generated = factory.generate(claims, defect_rate=0.0).claims
    header = InterchangeHeader(Party("WORLDCLINIC"), Party("REVCYCLE"), usage_indicator="T")
    for offset, claim_type in enumerate(ClaimType, 1):
        group = [c for c in generated if c.claim_type is claim_type]
        if group:
            written = write_837(group, header,
                                CounterControlNumbers(interchange=10 * number + offset),
                                factory.submitter, Receiver("REVCYCLE", "REVCYCLE"))
            res.store.put(object_key(TENANT, "landing", day, "drop",
                                     f"{claim_type.value.lower()}.x12"), written.text.encode())


def _ready(res: Resources, batch: str) -> int:
    with res.sessions() as session:
        ids = [row.id for row in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "bench")
        move(session, ids, Status.VALIDATED, Status.READY, "bench")
        session.commit()
    return len(ids)


def _score(res: Resources, truth: dict[tuple[str, str], RemittedClaim]) -> Scored:
    with res.sessions() as session:
        claims: dict[tuple[str, str], tuple[int, Decimal]] = {}
        for claim_id, payer, pcn, paid in session.execute(
                select(models.Claim.id, models.Claim.payer_id,
                       models.Claim.patient_control_number, models.Claim.paid)
                .where(models.Claim.tenant_id == TENANT).order_by(models.Claim.id)):
            claims[payer, pcn] = (claim_id, paid)  # the latest version
        lines = {(claim_id, number): paid for claim_id, number, paid in session.execute(
            select(models.ServiceLine.claim_id, models.ServiceLine.line_control_number,
                   models.ServiceLine.paid)
            .join(models.Claim, models.ServiceLine.claim_id == models.Claim.id)
            .where(models.Claim.tenant_id == TENANT))}
    line_total = line_matched = claim_matched = 0
    by_kind: dict[str, list[int]] = {kind: [0, 0] for kind in (*KINDS, "none")}
    for key, remitted in truth.items():
        claim_id, paid = claims.get(key, (None, None))
        claim_ok = paid == remitted.paid
        lines_ok = True
        for number, world_paid in remitted.line_paid.items():
            line_total += 1
            ok = claim_ok and claim_id is not None and lines.get((claim_id, number)) == (
                world_paid)
            line_matched += ok
            lines_ok = lines_ok and ok
        claim_matched += claim_ok
        for kind in remitted.mismatches or ("none",):
            by_kind[kind][0] += claim_ok and lines_ok
            by_kind[kind][1] += 1
    return Scored(line_total, line_matched, len(truth), claim_matched,
                  {kind: (m, n) for kind, (m, n) in by_kind.items()})


def _remitted_dollars(res: Resources) -> Decimal:
    """Absolute CLP04 over every 835 collected into the mailbox."""
    total = ZERO
    for key in res.store.list(zone_prefix(MAILBOX, "mailbox")):
        total += sum((abs(c.paid) for r in read(res.store.get(key)).bodies(Remittance)
                      for c in r.claims), ZERO)
    return total


def _auto_posted(res: Resources) -> Decimal:
    with res.sessions() as session:
        paid = session.scalars(
            select(models.Payment.paid)
            .join(models.Remittance, models.Payment.remittance_id == models.Remittance.id)
            .where(models.Remittance.tenant_id == TENANT, models.Remittance.status == "POSTED",
                   models.Payment.exception == ""))
        return sum((abs(p) for p in paid), ZERO)


def _rate(part: Decimal, whole: Decimal) -> float:
    return round(float(part / whole), 4) if whole else 0.0


def table(run: dict[str, Any]) -> list[str]:
    """The world section's lines: the rates, then claims matched per mismatch kind."""
    out = [f"payer world ({len(PAYERS)} payers, {run['days']} submission days,"
           f" {run['claims']} claims, {run['settle_weeks']} settle weeks, mismatch rates x"
           f"{run['scale']:g}): {run['remitted_claims']} claims remitted, {run['lines']}"
           f" lines, {run['exceptions']} exceptions, {run['held']} held",
           f"  match_rate {run['match_rate']:.2%}  claim_match_rate"
           f" {run['claim_match_rate']:.2%}  auto-post {run['auto_post_dollar_rate']:.2%}"
           f" of {run['remitted']} remitted",
           f"  {'mismatch':<18} {'applied':>8} {'claims':>7} {'matched':>8} {'rate':>7}"]
    for kind, figures in run["by_mismatch"].items():
        claims = figures["claims"]
        share = f"{figures['matched'] / claims:.0%}" if claims else "-"
        out.append(f"  {kind:<18} {run['world'].get(kind, ''):>8} {claims:>7}"
                   f" {figures['matched']:>8} {share:>7}")
    return out
