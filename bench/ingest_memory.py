"""Ingest memory benchmark: peak RSS and wall time of ingest (and scrub) against file size.

For each size it builds a synthetic 837P in a temporary folder: one transaction set of
simulated professional claims (``revcycle.simulator``) written once, then repeated with fresh
transaction-set control numbers (ST02/SE02) and fresh patient control numbers (CLM01) and
streamed to the landing file until it reaches the size; the whole text is never in memory.
Each size then runs in its own child process, on a scratch installation (SQLite and a local
folder store; ``--postgres URL`` for a PostgreSQL server instead), so one size's peak does
not hide another's:

- ``ingest`` — the landing file into raw/ and its claims into the database;
- ``scrub`` — after the claims are moved RECEIVED → VALIDATED by status transitions (the
  quality stage needs Great Expectations over every claim and is not run here), the scrub
  of the whole batch, which reads the claims back from the raw file.

A sampler thread reads VmRSS from ``/proc/self/status`` every 20 ms; each stage's peak is
the highest it saw during the stage (the process's VmHWM is reported too). Prints a table,
then, as its last line, one JSON object with ``file_mib``, ``peak_rss_mib``, ``claims`` and
``ingest_s`` of the largest size and every size's figures under ``sizes``.

Run: ``python bench/ingest_memory.py [--mib 100 400] [--quick] [--stages ingest scrub]``
(default 1024 MiB; ``--quick`` is 100 and 400 MiB).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

MIB = 1 << 20
SET_CLAIMS = 1000  # claims in the repeated transaction set
TENANT = "benchtenant"
TARGET_MIB = 500  # peak RSS allowed for a 1 GiB file (issue 10)
DAY = date(2026, 11, 2)


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


class RssSampler:
    """The highest VmRSS seen since ``reset``, sampled by a daemon thread."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.peak_kib = 0
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_kib = max(self.peak_kib, _status_kib("VmRSS"))

    def reset(self) -> None:
        self.peak_kib = _status_kib("VmRSS")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def stage(sampler: RssSampler, figures: dict[str, Any], name: str) -> Iterator[None]:
    sampler.reset()
    started = time.perf_counter()
    yield
    figures[f"{name}_s"] = round(time.perf_counter() - started, 2)
    figures[f"{name}_peak_rss_mib"] = round(max(sampler.peak_kib, _status_kib("VmRSS")) / 1024,
                                            1)


def _template(seed: int) -> tuple[str, list[str], list[int], str, str]:
    """One 837P interchange cut into its header (ISA, GS), the transaction set's segments
    (with the indexes of its CLM segments) and its trailers; and the segment terminator."""
    from revcycle.model.claim import ClaimType, Receiver
    from revcycle.simulator import ClaimFactory
    from revcycle.x12.write837 import write_837
    from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

    factory = ClaimFactory(seed, "BENCH", as_of=DAY)
    claims = factory.claims(SET_CLAIMS, ClaimType.PROFESSIONAL)
    written = write_837(claims, InterchangeHeader(Party("PROVIDERCLIENT"), Party("REVCYCLE"),
                                                  usage_indicator="T"),
                        CounterControlNumbers(), factory.submitter,
                        Receiver("REVCYCLE", "REVCYCLE"))
    text = written.text
    terminator = text[105]  # after the fixed-width ISA
    segments = [s.strip("\r\n") for s in text.split(terminator) if s.strip("\r\n")]
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    body = segments[st:se + 1]
    clms = [i for i, s in enumerate(body) if s.startswith("CLM*")]
    head = terminator.join(segments[:st]) + terminator
    gs_control = segments[st - 1].split("*")[6]
    isa_control = segments[0].split("*")[13]
    return head, body, clms, gs_control + "|" + isa_control, terminator


def build_file(path: Path, mib: int, seed: int = 2026) -> tuple[int, int]:
    """Write an 837P of about ``mib`` MiB to ``path``; returns (bytes, claims)."""
    head, body, clms, controls, term = _template(seed)
    gs_control, isa_control = controls.split("|")
    target = mib * MIB
    sets = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(head)
        written = len(head)
        while written < target:
            sets += 1
            control = f"{sets:09d}"
            segments = list(body)
            segments[0] = "*".join([*body[0].split("*")[:2], control, *body[0].split("*")[3:]])
            se = body[-1].split("*")
            segments[-1] = "*".join([se[0], se[1], control])
            for n, index in enumerate(clms):
                elements = segments[index].split("*")
                elements[1] = f"B{sets:08d}{n:05d}"
                segments[index] = "*".join(elements)
            chunk = term.join(segments) + term
            out.write(chunk)
            written += len(chunk.encode())
        tail = f"GE*{sets}*{gs_control}{term}IEA*1*{isa_control}{term}"
        out.write(tail)
        written += len(tail)
    return path.stat().st_size, sets * len(clms)


def run_size(mib: int, stages: list[str], postgres: str, queue: Any) -> None:
    """One size, in a child process: build, ingest, scrub; figures onto ``queue``. With
    ``postgres`` (an admin URL) a scratch database is made on that server and dropped."""
    from revcycle.db.scratch import create_database, drop_database

    database_url = create_database(postgres, "revcycle_ingest_bench") if postgres else ""
    try:
        _run_size(mib, stages, database_url, queue)
    finally:
        if database_url:
            drop_database(postgres, database_url)


def _run_size(mib: int, stages: list[str], database_url: str, queue: Any) -> None:
    from revcycle.pipeline.batches import move
    from revcycle.pipeline.ingest import ingest
    from revcycle.pipeline.resources import Resources
    from revcycle.pipeline.scrub import scrub_batch
    from revcycle.scrub import DEFAULT_RULES
    from revcycle.settings import Settings
    from revcycle.simulator.providers import DEFAULT_PAYERS
    from revcycle.status import Status
    from revcycle.storage import object_key
    from tasks.payers import load_payers

    sampler = RssSampler()
    figures: dict[str, Any] = {"mib_requested": mib}
    with tempfile.TemporaryDirectory(prefix="ingest-memory-") as tmp:
        res = Resources.from_settings(Settings(home=Path(tmp) / "home",
                                               database_url=database_url))
        try:
            key = object_key(TENANT, "landing", DAY, "drop", "big.x12")
            path = res.store.root / key if hasattr(res.store, "root") else None
            if path is None:
                raise SystemExit("the bench needs the local folder store")
            path.parent.mkdir(parents=True, exist_ok=True)
            with stage(sampler, figures, "build"):
                size, claims = build_file(path, mib)
            figures.update(file_mib=round(size / MIB, 1), claims=claims)
            with stage(sampler, figures, "ingest"):
                result = ingest(res, TENANT, DAY)
            if result["claims"] != claims:
                raise SystemExit(f"ingest read {result['claims']} claims of {claims}")
            if "scrub" in stages:
                batch = result["batch"]
                with res.sessions() as session:
                    ids = _claim_ids(session, batch, Status.RECEIVED)
                    move(session, ids, Status.RECEIVED, Status.VALIDATED, "bench")
                    session.commit()
                    del ids
                payers = {pid: p for pid, p in load_payers().items()
                          if pid in {q.payer_id for q in DEFAULT_PAYERS}}
                rules = {pid: p.scrub_rules(DEFAULT_RULES) for pid, p in payers.items()}
                with stage(sampler, figures, "scrub"):
                    scrubbed = scrub_batch(res, batch, rules,
                                           {pid: p.timely_filing_days
                                            for pid, p in payers.items()})
                figures["scrubbed"] = scrubbed["ready"] + scrubbed["rejected"]
        finally:
            res.engine.dispose()
    sampler.stop()
    figures["vm_hwm_mib"] = round(_status_kib("VmHWM") / 1024, 1)
    figures["peak_rss_mib"] = max(v for k, v in figures.items() if k.endswith("_peak_rss_mib"))
    queue.put(figures)


def _claim_ids(session: Any, batch: str, status: Any) -> list[int]:
    from sqlalchemy import select

    from revcycle.db.models import Claim

    return list(session.scalars(select(Claim.id).where(Claim.batch_id == batch,
                                                       Claim.status == status)))


def _row(figures: dict[str, Any], stages: list[str]) -> str:
    cells = [f"{figures['file_mib']:>8.1f}", f"{figures['claims']:>10,}",
             f"{figures['ingest_s']:>9.1f}", f"{figures['ingest_peak_rss_mib']:>10.1f}"]
    if "scrub" in stages:
        cells += [f"{figures['scrub_s']:>8.1f}", f"{figures['scrub_peak_rss_mib']:>9.1f}"]
    return "  ".join([*cells, f"{figures['vm_hwm_mib']:>9.1f}"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, nargs="+", default=[1024],
                        help="file sizes to measure, in MiB (default 1024)")
    parser.add_argument("--quick", action="store_true", help="100 and 400 MiB")
    parser.add_argument("--stages", nargs="+", choices=("ingest", "scrub"),
                        default=["ingest", "scrub"])
    parser.add_argument("--postgres", default="", metavar="URL",
                        help="a PostgreSQL admin URL: a scratch database there instead of SQLite")
    args = parser.parse_args(argv)
    sizes = [100, 400] if args.quick else args.mib
    context = multiprocessing.get_context("spawn")
    results = []
    for mib in sizes:
        queue = context.Queue()
        child = context.Process(target=run_size, args=(mib, args.stages, args.postgres, queue))
        child.start()
        figures = queue.get()
        child.join()
        results.append(figures)
    header = ["file MiB", "    claims", " ingest s", "ingest MiB"]
    if "scrub" in args.stages:
        header += [" scrub s", "scrub MiB"]
    print(f"revcycle ingest memory benchmark ({'PostgreSQL' if args.postgres else 'SQLite'},"
          " local folder store); peak RSS per stage, sampled every 20 ms")
    print("  ".join([*header, "  VmHWM MiB"]))
    print("\n".join(_row(f, args.stages) for f in results))
    largest = results[-1]
    if len(results) > 1:
        first = results[0]
        ratio = (largest["ingest_s"] / first["ingest_s"]) / (largest["file_mib"]
                                                             / first["file_mib"])
        print(f"ingest time per MiB, largest over smallest: {ratio:.2f} (1.00 is linear)")
    print(f"target: peak RSS <= {TARGET_MIB} MiB for a 1 GiB file:"
          f" {largest['ingest_peak_rss_mib']} MiB at {largest['file_mib']} MiB")
    summary = {"file_mib": largest["file_mib"], "peak_rss_mib": largest["peak_rss_mib"],
               "ingest_peak_rss_mib": largest["ingest_peak_rss_mib"],
               "claims": largest["claims"], "ingest_s": largest["ingest_s"],
               "database": "postgresql" if args.postgres else "sqlite", "sizes": results}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
