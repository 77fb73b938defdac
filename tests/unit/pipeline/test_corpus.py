"""Every 835, 999 and 277CA of the public corpus that is not marked invalid goes through
the acknowledgment and posting stages without a crash, and ends in a place a biller sees:
claims the database does not know in the exception queue (or counted as unmatched),
unreadable files in quarantine with a reason, unbalanced remittances held with theirs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from revcycle.db import models
from revcycle.model.acknowledgment import ClaimAckReport
from revcycle.model.remittance import Remittance, balance_problems
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.storage import object_key
from revcycle.x12.ack277 import parse_277
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.remit835 import parse_835
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, factory, ready_batch

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

TENANT = "corpusclinic"
# The name each stage looks for (``revcycle.channels.answer_key``), by ST01.
KINDS = {"835": "835", "999": "999", "277": "277CA"}


def _corpus(samples: Path) -> list[tuple[str, Path]]:
    """(ST01, path) of the corpus files of the three kinds not marked invalid."""
    found = []
    with (samples / "INDEX.tsv").open(newline="") as index:
        for row in csv.DictReader(index, delimiter="\t"):
            status = row["repo_test_status"]
            if row["ST01"] in KINDS and "INVALID" not in status and "DAMAGED" not in status:
                found.append((row["ST01"], samples / row["repo"].split("/")[1]
                              / row["original_path"]))
    return found


def _read(data: bytes, parser: object, st01: str) -> object | None:
    try:
        return X12Reader(data, {st01: parser}).read()
    except X12Error:
        return None


def test_every_corpus_answer_applies_or_is_set_aside_with_a_reason(
        res: Resources, x12_samples: Path) -> None:
    files = _corpus(x12_samples)
    assert {st01 for st01, _ in files} == set(KINDS)
    f = factory(TENANT, seed=47, payers=["SIMC1"])
    batch = ready_batch(res, TENANT, f.claims(5), f.submitter)
    # One payer id per file: the stages run per payer, and a trace number reused by two
    # unrelated sample files must not make the second a duplicate of the first.
    payers = [f"CORPUS{n:02d}" for n in range(len(files))]
    with res.sessions() as session:
        session.add_all(models.Payer(id=p, name="corpus sample payer", channel="none")
                        for p in payers)
        session.commit()
    expected_exceptions = expected_held = unreadable = unmatched_277 = 0
    seen: set[bytes] = set()
    for n, ((st01, path), payer) in enumerate(zip(files, payers, strict=True)):
        data = path.read_bytes()
        res.store.put(object_key(TENANT, "inbound", DAY, batch,
                                 f"{payer}-{n:09d}-{KINDS[st01]}.x12"), data)
        parser = {"835": parse_835, "277": parse_277}.get(st01)
        if parser is None or data in seen:  # a copy of a file is applied once
            continue
        seen.add(data)
        document = _read(data, parser, st01)
        if document is None:
            unreadable += 1
        elif st01 == "277":
            unmatched_277 += sum(len(r.claims) for r in document.bodies(ClaimAckReport))
        else:
            traces: set[str] = set()
            for remittance in document.bodies(Remittance):
                if balance_problems(remittance):
                    expected_held += 1
                elif remittance.trace_number not in traces:
                    traces.add(remittance.trace_number)
                    expected_exceptions += len(remittance.claims)

    totals = {"exceptions": 0, "held": 0, "claims_posted": 0, "unmatched": 0, "accepted": 0,
              "rejected": 0, "sets_rejected": 0, "quarantined": 0}
    for payer in payers:
        for result in (apply_acknowledgments(res, batch, payer),
                       post_remittances(res, batch, payer)):
            for name in totals:
                totals[name] += result.get(name, 0)

    assert expected_exceptions > 0 and unmatched_277 > 0
    assert (totals["claims_posted"], totals["accepted"], totals["rejected"],
            totals["sets_rejected"]) == (0, 0, 0, 0)
    assert totals["exceptions"] == expected_exceptions
    assert totals["held"] == expected_held
    assert totals["unmatched"] == unmatched_277
    with res.sessions() as session:
        inbound = list(session.scalars(select(models.File).where(
            models.File.direction == "in", models.File.format.in_(KINDS.values()))))
        payments = list(session.scalars(select(models.Payment)))
        remittances = list(session.scalars(select(models.Remittance)))
    # Every file was applied or set aside: none is left to be read again.
    assert len(inbound) == len({p.read_bytes() for _, p in files})
    quarantined = [f for f in inbound if f.status == "QUARANTINED"]
    assert len(quarantined) == totals["quarantined"] >= unreadable
    assert all(f.reason and f.reason["code"] for f in quarantined)
    assert len(payments) == expected_exceptions
    assert all(p.claim_id is None and p.exception.startswith("Unknown claim")
               and p.source_key and p.segment_number for p in payments)
    held = [r for r in remittances if r.status == "HELD"]
    assert len(held) == expected_held
    assert all(r.reason["unbalanced"] for r in held)
