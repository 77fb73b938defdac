"""Mutation fuzzing: bad input must end as a typed error, a quarantined file or a rejected
claim, never as a crash.

Seeds are valid files the simulator writes (837P, 837I, claims CSV, and the payer's 999,
277CA and 835 for them). Each input is a seed with one to three mutations: bytes flipped,
inserted or deleted; a delimiter, a non-UTF-8 byte or a control character dropped into a
value; a segment deleted, doubled or moved; an element emptied or replaced (long numbers,
bad dates, letters for numbers); the version set to 4010; the file cut short; for a CSV, a
cell, quote or column changed.

- Every input is read: claim files as ingest reads them (``detect_format`` +
  ``read_claims``: only ``UnreadableClaimFile`` may leave), payer files with the X12 reader
  (only ``X12Error``).
- One input in ``--pipeline-every`` also goes through the stages on a scratch installation
  (SQLite and a local folder): a claim file through ingest, scrub, submit (the payer
  simulator answers), acks and post; a payer file in place of the simulator's answer,
  through acks and post. No stage may raise: bad input is quarantined or rejected.

A crash is counted by where it happened (the input's kind, the exception's type, the
innermost line of revcycle's code); the table shows those, never the input. The last line
is one JSON object with ``inputs``, ``crashes`` and the rest.

Run: ``python bench/fuzz.py [--inputs N] [--seed S] [--pipeline-every K] [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from revcycle.channels import Delivery, Receipt
from revcycle.channels.simulator import SimulatorChannel, answer_key
from revcycle.csvclaims import write_csv_claims
from revcycle.model.claim import ClaimType, Receiver
from revcycle.payers import PayerDefinition
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.claimfiles import (
    UnreadableClaimFile,
    detect_format,
    read_claims,
)
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.scrub import DEFAULT_RULES
from revcycle.settings import Settings
from revcycle.simulator import ClaimFactory
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import Status
from revcycle.storage import ObjectStore, object_key
from revcycle.x12.errors import X12Error
from revcycle.x12.reader import read
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

DAY = date(2026, 11, 2)
REPO = Path(__file__).resolve().parents[1]
CLAIM_KINDS = ("837P", "837I", "CSV")
ANSWER_KINDS = ("999", "277CA", "835")
DELIMITERS = b"*~:^>|\n\r"


# ------------------------------------------------------------------ seeds


def seeds(seed: int) -> dict[str, list[bytes]]:
    """Valid files of every kind, a few of each (small: many mutations a second)."""
    from tasks.payers import load_payers

    payer = load_payers()["SIMB1"]
    files: dict[str, list[bytes]] = {kind: [] for kind in (*CLAIM_KINDS, *ANSWER_KINDS)}
    for n in range(3):
        factory = ClaimFactory(seed + n, f"FUZZ{n}", as_of=DAY)
        header = InterchangeHeader(Party(f"FUZZCLIENT{n}"), Party("REVCYCLE"),
                                   usage_indicator="T", created=datetime(2026, 11, 2, 8))
        for claim_type, kind in ((ClaimType.PROFESSIONAL, "837P"),
                                 (ClaimType.INSTITUTIONAL, "837I")):
            claims = factory.claims(4, claim_type)
            written = write_837(claims, header, CounterControlNumbers(interchange=n + 1),
                                factory.submitter, Receiver("REVCYCLE", "REVCYCLE"))
            files[kind].append(written.text.encode())
        files["CSV"].append(write_csv_claims(factory.claims(4, ClaimType.PROFESSIONAL)))
        simulator = PayerSimulator((payer.name, payer.payer_id), seed=seed + n)
        response = simulator.respond(files["837P"][-1], received=DAY,
                                     control_numbers=CounterControlNumbers(interchange=90 + n))
        files["999"].append(response.ack_999)
        if response.ack_277ca is not None:
            files["277CA"].append(response.ack_277ca)
        if response.remittance_835 is not None:
            files["835"].append(response.remittance_835)
    return {kind: found for kind, found in files.items() if found}


# ------------------------------------------------------------------ mutations


def _segments(data: bytes) -> tuple[bytes, list[bytes]]:
    terminator = data[105:106] if len(data) > 106 and data.startswith(b"ISA") else b"~"
    return terminator, data.split(terminator)


def _with_segments(terminator: bytes, parts: list[bytes]) -> bytes:
    return terminator.join(parts)


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    chunk = rng.choice([bytes([rng.choice(DELIMITERS)]), bytes([rng.randrange(0x80, 0x100)]),
                        b"\x00", b"\xef\xbb\xbf", "MÜLLER".encode("latin-1"),
                        "MÜLLER".encode(), b"\t", bytes([rng.randrange(32)])])
    return data[:at] + chunk + data[at:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 8):]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def _segment_edit(rng: random.Random, data: bytes) -> bytes:
    terminator, parts = _segments(data)
    if len(parts) < 3:
        return data
    at = rng.randrange(1, len(parts) - 1)
    action = rng.randrange(3)
    if action == 0:
        del parts[at]
    elif action == 1:
        parts.insert(at, parts[at])
    else:
        moved = parts.pop(at)
        parts.insert(rng.randrange(1, len(parts)), moved)
    return _with_segments(terminator, parts)


VALUES = (b"", b"9" * 40, b"-1", b"1E9", b"NaN", b"20261399", b"19000229", b"ABC", b"0.001",
          b"99999999999.99", b" ", "É".encode(), b"\xdc", b"004010X098A1", b"00401",
          "1²".encode(), "２０２６１１０２".encode(), "٣".encode())


def _element_edit(rng: random.Random, data: bytes) -> bytes:
    terminator, parts = _segments(data)
    if len(parts) < 3:
        return data
    at = rng.randrange(1, len(parts) - 1)
    separator = data[3:4] if data.startswith(b"ISA") else b"*"
    elements = parts[at].split(separator)
    if len(elements) < 2:
        return data
    elements[rng.randrange(1, len(elements))] = rng.choice(VALUES)
    parts[at] = separator.join(elements)
    return _with_segments(terminator, parts)


NAMED = (b"NM1", b"N3", b"N4", b"CLM", b"PRV", b"DTP", b"REF", b"SV1", b"SV2", b"CLP")
STRANGE = ("MÜLLER".encode("latin-1"), "MÜLLER".encode(), b"O\x92BRIEN", b"SMITH:JONES",
           b"A^B", b"X>Y", b"\x00\x01")


def _strange_value(rng: random.Random, data: bytes) -> bytes:
    """A value of a name, address, claim or date segment replaced by text a provider's
    system might send: Latin-1 or UTF-8 letters, cp1252 quotes, another file's delimiters."""
    terminator, parts = _segments(data)
    separator = data[3:4] if data.startswith(b"ISA") else b"*"
    chosen = [i for i, part in enumerate(parts) if part.lstrip().startswith(NAMED)]
    if not chosen:
        return data
    at = rng.choice(chosen)
    elements = parts[at].split(separator)
    if len(elements) < 2:
        return data
    elements[rng.randrange(1, len(elements))] = rng.choice(STRANGE)
    parts[at] = separator.join(elements)
    return _with_segments(terminator, parts)


def _version_4010(rng: random.Random, data: bytes) -> bytes:
    return data.replace(b"*00501*", b"*00401*").replace(b"005010X222A1", b"004010X098A1") \
        .replace(b"005010X223A2", b"004010X096A1")


def _csv_edit(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    at = rng.randrange(len(lines))
    cells = lines[at].split(b",")
    action = rng.randrange(4)
    if action == 0 and cells:
        cells[rng.randrange(len(cells))] = rng.choice((*VALUES, b"SMITH*JONES~X", b'"'))
    elif action == 1 and cells:
        del cells[rng.randrange(len(cells))]
    elif action == 2:
        cells.append(b"extra")
    else:
        cells = [c.replace(b"-", b"/") for c in cells]
    lines[at] = b",".join(cells)
    return b"\n".join(lines)


X12_MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    _flip, _insert, _delete, _truncate, _segment_edit, _segment_edit, _element_edit,
    _element_edit, _element_edit, _version_4010, _strange_value, _strange_value)
CSV_MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    _flip, _insert, _delete, _truncate, _csv_edit, _csv_edit, _csv_edit)


def mutate(rng: random.Random, kind: str, data: bytes) -> bytes:
    mutations = CSV_MUTATIONS if kind == "CSV" else X12_MUTATIONS
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(mutations)(rng, data)
    return data


# ------------------------------------------------------------------ oracles


def _where(exc: BaseException) -> str:
    """The innermost frame in the project's code: file and line, never a value."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(str(REPO)) and "/bench/" not in f.filename
              and "site-packages" not in f.filename]
    if not frames:
        return "outside revcycle"
    last = frames[-1]
    return f"{Path(last.filename).relative_to(REPO)}:{last.lineno}"


def read_input(kind: str, data: bytes) -> None:
    """As ingest reads a claim file, or the X12 reader a payer's; typed errors pass."""
    if kind in CLAIM_KINDS:
        with contextlib.suppress(UnreadableClaimFile):
            read_claims(data, detect_format(data))
        return
    with contextlib.suppress(X12Error):
        read(data)


@dataclass
class Pipeline:
    """A scratch installation the sampled inputs go through, one tenant each."""

    folder: Path
    rules: dict = field(default_factory=dict)
    payers: dict = field(default_factory=dict)
    res: Resources | None = None
    count: int = 0

    def __post_init__(self) -> None:
        from tasks.payers import load_payers

        self.res = Resources.from_settings(Settings(home=self.folder / "home"))
        self.payers = load_payers()
        self.rules = {pid: p.scrub_rules(DEFAULT_RULES) for pid, p in self.payers.items()}

    def run(self, kind: str, data: bytes, clean: dict[str, list[bytes]]) -> None:
        self.count += 1
        tenant = f"fuzz{self.count}"
        claims_file = data if kind in CLAIM_KINDS else clean["837P"][0]
        self.res.store.put(object_key(tenant, "landing", DAY, "drop", "claims.x12"),
                           claims_file)
        batch = ingest(self.res, tenant, DAY)["batch"]
        with self.res.sessions() as session:
            ids = [row.id for row in claims_in(session, batch, Status.RECEIVED)]
            move(session, ids, Status.RECEIVED, Status.VALIDATED, "fuzz")
            session.commit()
        scrub_batch(self.res, batch, self.rules,
                    {pid: p.timely_filing_days for pid, p in self.payers.items()})
        for payer in self.payers.values():
            channel = (SimulatorChannel(self.res.store, payer) if kind in CLAIM_KINDS
                       else _Replacing(self.res.store, payer, kind, data))
            submit(self.res, batch, payer, channel)
            apply_acknowledgments(self.res, batch, payer.payer_id)
            post_remittances(self.res, batch, payer.payer_id)


class _Replacing(SimulatorChannel):
    """The simulator, but its answer of one kind is the fuzzed file."""

    def __init__(self, store: ObjectStore, payer: PayerDefinition, kind: str,
                 data: bytes) -> None:
        super().__init__(store, payer)
        self.kind, self.data = kind, data

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        receipt = super().send(delivery, data)
        self.store.put(answer_key(delivery, self.payer.payer_id, self.kind), self.data)
        return receipt


# ------------------------------------------------------------------ main


def _save(folder: Path | None, name: str, data: bytes) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pipeline-every", type=int, default=400)
    parser.add_argument("--save-crashes", type=Path, default=None, metavar="DIR",
                        help="write each crashing input (synthetic data) to DIR to replay it")
    parser.add_argument("--quick", action="store_true", help="2,000 inputs, 1 in 100"
                        " through the stages (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.inputs, args.pipeline_every = 2_000, 100
    if args.inputs < 1 or args.pipeline_every < 1:
        print("--inputs and --pipeline-every must be at least 1", file=sys.stderr)
        return 2
    import logging

    logging.disable(logging.WARNING)  # the stages' own warnings: not what is measured
    rng = random.Random(args.seed)
    clean = seeds(args.seed)
    kinds = sorted(clean)
    crashes: Counter[tuple[str, str, str]] = Counter()
    pipeline_crashes: Counter[tuple[str, str, str]] = Counter()
    by_kind: Counter[str] = Counter()
    sampled = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="revcycle-fuzz-") as folder:
        pipeline = Pipeline(Path(folder))
        for n in range(args.inputs):
            kind = kinds[n % len(kinds)]
            data = mutate(rng, kind, rng.choice(clean[kind]))
            by_kind[kind] += 1
            try:
                read_input(kind, data)
            except Exception as exc:  # a crash: counted, never shown
                crashes[(kind, type(exc).__name__, _where(exc))] += 1
                _save(args.save_crashes, f"reader-{n}-{kind}", data)
            if (n // len(kinds)) % args.pipeline_every == 0:  # every kind in turn
                sampled += 1
                try:
                    pipeline.run(kind, data, clean)
                except Exception as exc:
                    pipeline_crashes[(kind, type(exc).__name__, _where(exc))] += 1
                    _save(args.save_crashes, f"stages-{n}-{kind}", data)
    elapsed = time.perf_counter() - started
    print(f"fuzzed {args.inputs:,} inputs in {elapsed:.1f} s ({args.inputs / elapsed:,.0f}/s);"
          f" {sampled} of them also through ingest, scrub, submit, acks and post")
    print(f"{'where':<8} {'kind':<6} {'exception':<28} {'count':>7}  line")
    for where, found in (("reader", crashes), ("stages", pipeline_crashes)):
        for (kind, error, line), count in found.most_common():
            print(f"{where:<8} {kind:<6} {error:<28} {count:>7}  {line}")
    if not crashes and not pipeline_crashes:
        print("no crashes: every input ended as a typed error, a quarantine or a rejection")
    figures = {"inputs": args.inputs, "crashes": sum(crashes.values()),
               "pipeline_inputs": sampled, "pipeline_crashes": sum(pipeline_crashes.values()),
               "inputs_by_kind": dict(sorted(by_kind.items())),
               "distinct_crash_sites": len(crashes) + len(pipeline_crashes),
               "seconds": round(elapsed, 1), "seed": args.seed}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
