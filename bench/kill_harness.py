"""Kill harness: SIGKILL the daily run anywhere, run it again, and check that nothing was
lost or done twice.

A synthetic business day (two tenants, three payers, a few defective claims and one
malformed file) is dropped once into a template installation (SQLite and a local folder
store). Each scenario copies the template, runs the day in a child process and kills it:

- at an exact code point (``REVCYCLE_CRASH_AT``, see ``revcycle.crashpoints``; ``#n`` for
  the n-th time the point is reached), or
- after a random time (SIGKILL from outside, wherever the day is).

Then the day is run again to the end (the send lease set to 1 s, so a killed sender's
claim is taken over) and these invariants are checked:

- every dropped landing file is in exactly one of raw/ and quarantine/, landing is empty;
- every claim is in at most one submission;
- each interchange reached the payer as one file: every delivery of a control number (the
  receiver appends each one, from whatever process, to a file opened with O_APPEND) has
  the bytes of that number's submission, and nothing else arrived;
- each 835 is posted once (one POSTED remittance per payer and trace number);
- the trial balance is zero, overall and per claim, and each charge is booked once;
- the final state is the one an uninterrupted run reaches (claim statuses, row counts and
  ledger totals per account).

The day runs as the stage functions in order (ingest, quality, scrub, then submit, acks and
post per payer), the way the daily flow chains its tasks; that is what crash safety is
about, and it is fast. The table shows each scenario, never a claim value; the last line is
one JSON object (``kills``, ``violations`` and the rest).

Run: ``python bench/kill_harness.py [--claims N] [--random K] [--seed S] [--quick]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the checkout's packages first
    sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from revcycle.channels import Delivery, Receipt  # noqa: E402
from revcycle.channels.simulator import SimulatorChannel  # noqa: E402
from revcycle.crashpoints import ENV as CRASH_ENV  # noqa: E402
from revcycle.crashpoints import POINTS  # noqa: E402
from revcycle.db import models  # noqa: E402
from revcycle.pipeline.resources import Resources  # noqa: E402
from revcycle.settings import Settings  # noqa: E402
from revcycle.storage import zone_prefix  # noqa: E402

DAY = date(2026, 11, 2)
TENANTS = ("northside", "lakeview")
LEASE_S = 1
WITHIN_LEASE_S = 600  # the default lease: a re-run started at once leaves the claim alone
RECEIVED = "received.log"  # in the home: the payer side's log of deliveries
RUN_TIMEOUT_S = 300
# Beyond the first pass of each point: later files, payers and tenants.
LATER_PASSES = ("ingest.after_raw_put#2", "ingest.after_commit#2", "ingest.after_commit#3",
                "quality.after_docs#2", "quality.between_moves#2", "scrub.between_moves#2",
                "submit.after_outbound_put#3", "submit.after_intent#2", "submit.after_claim#3",
                "submit.after_send#2", "submit.after_send#5", "submit.after_sent#4",
                "inbound.after_apply#2", "inbound.after_apply#7", "inbound.after_apply#12",
                "post.after_remittance#2", "post.after_remittance#4")
# Killed here, then run again at once (the killed sender's claim still held), then again
# once the lease is over.
WITHIN_LEASE = ("submit.after_send#2", "submit.after_claim#3")
QUICK_POINTS = ("ingest.after_commit#2", "quality.between_moves", "submit.after_claim",
                "submit.after_send#2", "post.after_remittance#2")
TABLES = (models.File, models.Claim, models.ServiceLine, models.ClaimEvent, models.Edit,
          models.Submission, models.Acknowledgment, models.Remittance, models.Payment,
          models.Adjustment, models.LedgerEntry)


# ------------------------------------------------------------------ the day (child side)


class ReceivingChannel:
    """The payer's side of the wire: each delivery appends its interchange control number
    and the sha256 of its bytes to a log (O_APPEND: one line per write, from any process),
    then the payer simulator answers (999, 277CA, 835), once per control number."""

    label = "receiving"

    def __init__(self, inner: SimulatorChannel, log: Path) -> None:
        self.inner, self.log = inner, log

    def delivered(self, delivery: Delivery) -> bool:
        return self.inner.delivered(delivery)

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        line = f"{delivery.interchange_control_number} {hashlib.sha256(data).hexdigest()}\n"
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return self.inner.send(delivery, data)


def run_day(home: Path, lease_s: int = LEASE_S) -> None:
    """The day's stages in the daily flow's order, for every tenant and payer."""
    from revcycle.pipeline.acks import apply_acknowledgments
    from revcycle.pipeline.batches import batch_id
    from revcycle.pipeline.ingest import ingest
    from revcycle.pipeline.post import post_remittances
    from revcycle.pipeline.quality import check_quality
    from revcycle.pipeline.scrub import scrub_batch
    from revcycle.pipeline.submit import submit
    from revcycle.scrub import DEFAULT_RULES
    from tasks.payers import payer_registry

    res = Resources.from_settings(Settings(home=home, send_lease_s=lease_s))
    registry = payer_registry()
    payers = registry.payers
    for tenant in TENANTS:
        batch = batch_id(tenant, DAY)
        _stage("ingest", tenant)
        ingest(res, tenant, DAY)
        _stage("quality", tenant)
        check_quality(res, batch)
        _stage("scrub", tenant)
        scrub_batch(res, batch, {p: d.scrub_rules(DEFAULT_RULES) for p, d in payers.items()},
                    {p: d.timely_filing_days for p, d in payers.items()},
                    disabled_payers=registry.disabled(),
                    unloaded_modules=registry.unknown_broken(),
                    character_policies={p: d.character_policy for p, d in payers.items()})
        for payer_id, payer in sorted(payers.items()):
            _stage("submit", tenant)
            channel = ReceivingChannel(SimulatorChannel(res.store, payer), home / RECEIVED)
            submit(res, batch, payer, channel)
            _stage("acks", tenant)
            apply_acknowledgments(res, batch, payer_id)
            _stage("post", tenant)
            post_remittances(res, batch, payer_id)
    res.engine.dispose()
    _stage("done", "")


def _stage(stage: str, tenant: str) -> None:
    print(f"stage {stage} {tenant}".rstrip(), flush=True)  # the parent reads where it was


# ------------------------------------------------------------------ scenarios (parent side)


@dataclass
class Outcome:
    scenario: str
    killed: bool  # the first run died by SIGKILL (else it finished: the point not reached)
    where: str  # the last stage the killed run began
    rerun_ok: bool
    resends: int  # deliveries of a control number after its first (the payer dedups them)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0  # the scenario's, both runs
    first_run_s: float = 0.0


def drop_day(res: Resources, claims: int, seed: int) -> list[str]:
    """Drop the day's files into landing; the sha256 of each."""
    from revcycle.demo import drop_business_day

    drop_business_day(res.store, claims=claims, seed=seed, tenants=TENANTS, payers=3,
                      defect_rate=0.1)
    return [hashlib.sha256(res.store.get(key)).hexdigest()
            for tenant in TENANTS for key in res.store.list(zone_prefix(tenant, "landing"))]


def prepare(template: Path, claims: int, seed: int) -> list[str]:
    """Drop the day into a fresh installation; the sha256 of every dropped file."""
    res = Resources.from_settings(Settings(home=template))
    try:
        return drop_day(res, claims, seed)
    finally:
        res.engine.dispose()


def child(home: Path, crash_at: str = "", kill_after_s: float | None = None,
          lease_s: int = LEASE_S) -> tuple[int, str]:
    """Run the day in a child process (killed at ``crash_at`` or after ``kill_after_s``);
    its exit code (negative: the signal) and the last stage it began."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "DO_NOT_TRACK": "1",
           "GX_ANALYTICS_ENABLED": "false"}
    env.pop(CRASH_ENV, None)
    if crash_at:
        env[CRASH_ENV] = crash_at
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, __file__, "--run-day", str(home),
                                    "--lease", str(lease_s)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            process.wait(timeout=kill_after_s if kill_after_s is not None else RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)  # this child only, by its pid
            process.wait(timeout=30)
        out.seek(0)
        lines = out.read().decode(errors="replace").splitlines()
    stages = [line[len("stage "):] for line in lines if line.startswith("stage ")]
    if process.returncode not in (0, -signal.SIGKILL):
        sys.stderr.write("\n".join(lines[-20:]) + "\n")
    return process.returncode, (stages[-1] if stages else "start")


def scenario(template: Path, work: Path, name: str, dropped: list[str],
             baseline: dict[str, Any] | None, crash_at: str = "",
             kill_after_s: float | None = None, within_lease: bool = False
             ) -> tuple[Outcome, dict[str, Any]]:
    home = work / name.replace("#", "-").replace(" ", "-")
    shutil.copytree(template, home)
    started = time.monotonic()
    violations: list[str] = []
    code, where = child(home, crash_at, kill_after_s)
    first_run_s = time.monotonic() - started
    killed = code == -signal.SIGKILL
    if killed and within_lease:  # a re-run at once: the killed sender's claim still holds
        within, _ = child(home, lease_s=WITHIN_LEASE_S)
        if within != 0:
            violations.append(f"re-run within the lease exited {within}")
    if killed and _sending(home):
        time.sleep(LEASE_S + 0.2)  # let the killed sender's lease run out
    rerun, _ = child(home)
    res = Resources.from_settings(Settings(home=home), migrate=False)
    try:
        found, state, resends = check(res, home / RECEIVED, dropped)
    finally:
        res.engine.dispose()
    violations += found
    if rerun != 0:
        violations.insert(0, f"re-run exited {rerun}")
    if baseline is not None:
        violations += [f"differs from an uninterrupted run: {k}"
                       for k in sorted(baseline) if baseline[k] != state.get(k)]
    outcome = Outcome(name, killed, where if killed else "-", rerun == 0, resends,
                      violations, time.monotonic() - started, first_run_s)
    shutil.rmtree(home, ignore_errors=True)
    return outcome, state


def _sending(home: Path) -> bool:
    res = Resources.from_settings(Settings(home=home), migrate=False)
    try:
        with res.sessions() as session:
            return bool(session.scalar(select(func.count()).select_from(models.Submission)
                                       .where(models.Submission.status == "SENDING")))
    finally:
        res.engine.dispose()


# ------------------------------------------------------------------ invariants


def check(res: Resources, received: Path, dropped: list[str]
          ) -> tuple[list[str], dict[str, Any], int]:
    """The invariants' violations (in words, never a value), the state an uninterrupted
    run is compared on, and how many deliveries repeated a control number. ``received``:
    the payer side's log of deliveries; ``dropped``: the landing files' sha256."""
    violations = _files(res, dropped)
    with res.sessions() as session:
        submissions = list(session.scalars(select(models.Submission)))
        claims = list(session.scalars(select(models.Claim)))
        remittances = session.execute(select(models.Remittance.payer_id,
                                             models.Remittance.trace_number).where(
            models.Remittance.status == "POSTED")).all()
        ledger = session.execute(select(models.LedgerEntry.claim_id,
                                        models.LedgerEntry.account,
                                        models.LedgerEntry.amount,
                                        models.LedgerEntry.memo)).all()
        counts = {t.__tablename__: session.scalar(select(func.count()).select_from(t))
                  for t in TABLES}
    violations += _submissions(submissions, claims)
    found, resends = _deliveries(res, received, submissions)
    violations += found
    if len(set(remittances)) != len(remittances):
        violations.append("an 835 (payer, trace number) posted more than once")
    violations += _books(ledger, claims)
    accounts: dict[str, Decimal] = defaultdict(Decimal)
    for _, account, amount, _ in ledger:
        accounts[account] += amount
    statuses = sorted(f"{c.tenant_id}|{c.patient_control_number}|{c.status}"
                      for c in claims)
    state = {**{f"rows.{name}": n for name, n in counts.items()},
             **{f"ledger.{a}": str(v) for a, v in sorted(accounts.items())},
             "claim_statuses": hashlib.sha256("\n".join(statuses).encode()).hexdigest(),
             "by_status": dict(sorted(Counter(c.status for c in claims).items()))}
    return violations, state, resends


def _files(res: Resources, dropped: list[str]) -> list[str]:
    violations = []
    raw: set[str] = set()
    quarantined: set[str] = set()
    for tenant in TENANTS:
        if res.store.list(zone_prefix(tenant, "landing")):
            violations.append(f"landing of {tenant} not empty")
        raw |= {k.rpartition("/")[2].partition(".")[0]
                for k in res.store.list(zone_prefix(tenant, "raw"))}
        quarantined |= {k.rpartition("/")[2] for k in
                        res.store.list(zone_prefix(tenant, "quarantine"))}
    with res.sessions() as session:
        rows = Counter(session.scalars(select(models.File.sha256).where(
            models.File.direction == "in", models.File.zone != "inbound")))
    for sha in dropped:
        places = (sha in raw) + (sha in quarantined)
        if places != 1:
            violations.append(f"a landing file is in {places} of raw/quarantine")
        elif sha in quarantined and f"{sha}.reason.json" not in quarantined:
            violations.append("a quarantined file has no reason beside it")
        if rows[sha] != 1:
            violations.append(f"a landing file has {rows[sha]} file rows")
    return violations


def _submissions(submissions: list[models.Submission],
                 claims: list[models.Claim]) -> list[str]:
    violations = []
    placed = Counter(claim_id for s in submissions
                     for ids in s.transaction_control_numbers.values() for claim_id in ids)
    if placed and max(placed.values()) > 1:
        violations.append("a claim is in more than one submission")
    linked = {c.id: c.submission_id for c in claims if c.submission_id is not None}
    by_id = {s.id: s for s in submissions}
    for claim_id, submission_id in linked.items():
        ids = [i for ids in by_id[submission_id].transaction_control_numbers.values()
               for i in ids]
        if claim_id not in ids:
            violations.append("a claim is linked to a submission that does not hold it")
            break
    if any(s.status in ("PENDING", "SENDING") for s in submissions):
        violations.append("a submission was left unsent after the re-run")
    if any(c.status == "READY" and c.submission_id is not None for c in claims):
        violations.append("a claim in a submission is still READY after the re-run")
    return violations


def _deliveries(res: Resources, log: Path,
                submissions: list[models.Submission]) -> tuple[list[str], int]:
    """What reached the payer against what was recorded as sent."""
    lines = log.read_text().split("\n") if log.exists() else []
    arrived = [tuple(line.split()) for line in lines if line]
    by_number = {s.interchange_control_number: s for s in submissions}
    violations = []
    contents: dict[str, set[str]] = defaultdict(set)
    for number, sha in arrived:
        contents[number].add(sha)
    for number, shas in contents.items():
        submission = by_number.get(number)
        if submission is None:
            violations.append("an interchange reached the payer with no submission")
        elif shas != {hashlib.sha256(res.store.get(submission.key)).hexdigest()}:
            violations.append("a control number reached the payer with other bytes")
    missing = set(by_number) - set(contents)
    if missing:
        violations.append(f"{len(missing)} submission(s) never reached the payer")
    return violations, len(arrived) - len(contents)


def _books(ledger: list[Any], claims: list[models.Claim]) -> list[str]:
    violations = []
    if sum((amount for _, _, amount, _ in ledger), Decimal(0)) != 0:
        violations.append("the trial balance is not zero")
    per_claim: dict[int, Decimal] = defaultdict(Decimal)
    charges: Counter[int] = Counter()
    for claim_id, account, amount, memo in ledger:
        if claim_id is not None:
            per_claim[claim_id] += amount
            if account == "AR" and memo == "charge":
                charges[claim_id] += 1
    if any(total != 0 for total in per_claim.values()):
        violations.append("a claim's ledger does not sum to zero")
    billed = {c.id for c in claims if c.submission_id is not None}
    if any(charges[claim_id] != 1 for claim_id in billed) or set(charges) - billed:
        violations.append("a charge booked other than once")
    return violations


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=60, help="claims in the day")
    parser.add_argument("--random", type=int, default=12, help="kills at random times")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quick", action="store_true",
                        help="five points and one random kill (the CI test)")
    parser.add_argument("--run-day", metavar="HOME", help=argparse.SUPPRESS)
    parser.add_argument("--lease", type=int, default=LEASE_S, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_day:
        run_day(Path(args.run_day), args.lease)
        return 0
    if args.claims < 10 or args.random < 0:
        parser.error("--claims must be at least 10 and --random at least 0")
    points = list(QUICK_POINTS) if args.quick else [*POINTS, *LATER_PASSES]
    within = [] if args.quick else list(WITHIN_LEASE)
    kills_at_random = 1 if args.quick else args.random
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="revcycle-kill-") as tmp:
        work = Path(tmp)
        template = work / "template"
        dropped = prepare(template, args.claims, args.seed)
        print(f"{'scenario':<32} {'killed':>6} {'in stage':<20} {'re-run':>6}"
              f" {'resends':>7} {'s':>5}  violations", flush=True)
        base, baseline = scenario(template, work, "uninterrupted", dropped, None)
        outcomes = [_row(base)]
        for point in points:
            outcomes.append(_row(scenario(template, work, point, dropped, baseline,
                                          crash_at=point)[0]))
        for point in within:
            outcomes.append(_row(scenario(template, work, f"{point} in lease", dropped,
                                          baseline, crash_at=point, within_lease=True)[0]))
        # Random times: over an uninterrupted run's length (a time past its end lets it
        # finish, which the table says).
        for number in range(kills_at_random):
            after = round(rng.uniform(0.5, max(1.0, base.first_run_s)), 2)
            outcomes.append(_row(scenario(template, work, f"random {number + 1} {after}s",
                                          dropped, baseline, kill_after_s=after)[0]))
    return report(outcomes, [*points, *within], kills_at_random, args.claims, baseline)


def _row(o: Outcome) -> Outcome:
    """Print the scenario's row of the table as soon as it is done."""
    print(f"{o.scenario:<32} {'yes' if o.killed else 'no':>6} {o.where:<20}"
          f" {'ok' if o.rerun_ok else 'FAIL':>6} {o.resends:>7} {o.seconds:>5.1f}"
          f"  {'; '.join(o.violations) or '-'}", flush=True)
    return o


def report(outcomes: list[Outcome], points: list[str], random_kills: int, claims: int,
           baseline: dict[str, Any]) -> int:
    kills = [o for o in outcomes[1:] if o.killed]
    figures = {
        "claims": claims, "scenarios": len(outcomes) - 1, "exact_points": len(points),
        "random_times": random_kills, "kills": len(kills),
        "not_reached": [o.scenario for o in outcomes[1:] if not o.killed],
        "violations": sum(len(o.violations) for o in outcomes),
        "failed": [o.scenario for o in outcomes if o.violations],
        "resends": sum(o.resends for o in outcomes),
        "final_by_status": baseline["by_status"],
        "seconds": round(sum(o.seconds for o in outcomes), 1),
    }
    print(json.dumps(figures))
    return 1 if figures["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
