"""Claims handed from ingest to quality to scrub to write in one process instead of read
again: the claim file is not read again after ingest, what is written is what reading it
three times writes, and a claim corrected meanwhile is never taken as it was."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import select

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Edit, File, Submission
from revcycle.model.claim import ClaimType
from revcycle.pipeline.batches import move
from revcycle.pipeline.handoff import ClaimShelf, Handoff, handoff_for
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import write_submissions
from revcycle.pipeline.versions import correct, current_claims
from revcycle.scrub import DEFAULT_RULES
from revcycle.settings import Settings
from revcycle.simulator import ClaimFactory
from revcycle.status import Status
from revcycle.storage import LocalObjectStore
from revcycle.x12.charset import CharacterPolicy
from tests.unit.pipeline.conftest import DAY, PAYERS, drop, factory, x12_file

TENANT = "northside"
PAYER = "SIMA1"
RULES = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
POLICIES = {pid: payer.character_policy for pid, payer in PAYERS.items()}
ENVELOPE = {"ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"}


class CountingStore(LocalObjectStore):
    """A folder store that counts the reads of each object, as the receiving side."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: Counter[str] = Counter()

    def open_listed(self, key: str) -> IO[bytes]:
        self.reads[key] += 1
        return super().open_listed(key)

    def get_listed(self, key: str) -> bytes:
        self.reads[key] += 1
        return super().get_listed(key)


def _installation(tmp_path: Path, handoff_claims: int) -> Resources:
    settings = Settings(home=tmp_path / "home", handoff_claims=handoff_claims)
    plain = Resources.from_settings(settings)
    return dataclasses.replace(plain, store=CountingStore(tmp_path / "home" / "store"))


def _latin_1_file(f: ClaimFactory) -> bytes:
    """Six claims, the first subscriber's name in Latin-1 (scrub transliterates it)."""
    data = x12_file(f.claims(6, ClaimType.PROFESSIONAL), f.submitter)
    match = re.search(rb"NM1\*IL\*1\*[^*]+", data)
    assert match is not None
    return data[:match.start()] + b"NM1*IL*1*M\xdcLLER" + data[match.end():]


def _day_to_written(res: Resources, data: bytes) -> tuple[int, dict[str, object]]:
    """Drop, ingest, check, scrub and write a batch: the reads of the claim file after
    ingest, and what the day made (statuses, edits, the claims' segments written)."""
    drop(res, TENANT, "claims.x12", data)
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        [raw] = session.scalars(select(File.key).where(File.direction == "in"))
    before = res.store.reads[raw]
    check_quality(res, batch)
    scrub_batch(res, batch, RULES, character_policies=POLICIES)
    write_submissions(res, batch, PAYERS)
    with res.sessions() as session:
        made = {
            "statuses": sorted(tuple(r) for r in session.execute(
                select(ClaimRow.patient_control_number, ClaimRow.status))),
            "edits": sorted(tuple(r) for r in session.execute(select(Edit.rule_id,
                                                                     Edit.field))),
            "written": [[s for s in res.store.get(key).decode().split("~")
                         if s.strip() and s.strip().split("*")[0] not in ENVELOPE]
                        for key in session.scalars(select(Submission.key)
                                                   .order_by(Submission.id))],
        }
    return res.store.reads[raw] - before, made


def test_quality_scrub_and_write_take_the_claims_ingest_read_and_write_the_same(
        tmp_path: Path) -> None:
    data = _latin_1_file(factory(TENANT, seed=41, payers=[PAYER]))
    reads, made = _day_to_written(_installation(tmp_path / "shelf", 1000), data)
    # A shelf smaller than the batch: each stage takes what is left and reads the rest.
    reads_small, made_small = _day_to_written(_installation(tmp_path / "small", 4), data)
    reads_without, made_without = _day_to_written(_installation(tmp_path / "none", 0), data)

    assert reads == 0  # every claim handed on from ingest, to quality, scrub and write
    assert reads_small == reads_without == 3  # quality, scrub and write each read some
    assert made == made_small == made_without
    assert ("FIX-04", "2010BA NM103") in made["edits"]  # transliterated by scrub...
    written = "~".join(s for f in made["written"] for s in f)
    assert "NM1*IL*1*MULLER*" in written and written.isascii()  # ...and written so


def test_a_claim_corrected_after_it_was_shelved_is_read_as_corrected(
        res: Resources) -> None:
    f = factory(TENANT, seed=42, payers=[PAYER])
    drop(res, TENANT, "claims.x12", x12_file(f.claims(3, ClaimType.PROFESSIONAL),
                                             f.submitter))
    batch = ingest(res, TENANT, DAY)["batch"]
    assert check_quality(res, batch)["validated"] == 3  # shelved for scrub
    with res.sessions() as session:
        rows = list(session.scalars(select(ClaimRow).order_by(ClaimRow.id)))
        # Refused (as scrub could have), then corrected by a biller: a new version.
        move(session, [rows[0].id], Status.VALIDATED, Status.REJECTED, "test")
        session.commit()
        correct(session, res.store, rows[0].id, {"subscriber.member_id": "W0CORRECTED"},
                "tester", DAY)
    with res.sessions() as session:
        rows = list(session.scalars(select(ClaimRow).order_by(ClaimRow.id)))
        handoff = handoff_for(res)
        loaded = current_claims(session, res.store, rows, handoff)

    assert loaded[0][1].subscriber.member_id == "W0CORRECTED"
    assert handoff.taken == 2  # the other two as quality left them


def test_the_shelf_gives_a_claim_once_to_its_installation_and_drops_the_oldest() -> None:
    shelf = ClaimShelf()
    claims = ClaimFactory(seed=43).claims(3)
    keys = {n: ("file", "abc", "837P", n) for n in range(3)}
    policy = CharacterPolicy()
    shelf.put("one", ((n, keys[n], c, policy) for n, c in enumerate(claims)), limit=2)

    assert len(shelf) == 2  # the oldest (claim 0) went
    assert shelf.take("two", keys) == {}  # another installation's ids name other claims
    assert shelf.take("one", {1: ("file", "abc", "837P", 9)}) == {}  # other content
    handoff = Handoff("one", limit=2, shelf=shelf)
    assert handoff.take(keys) == {1: claims[1], 2: claims[2]}
    assert handoff.corrected == {1: policy, 2: policy}
    assert handoff.take(keys) == {} and len(shelf) == 0  # taken once

    handoff.put([(0, claims[0])])
    assert len(shelf) == 1
    off = Handoff("one", limit=0, shelf=shelf)
    off.put([(1, claims[1])])
    assert len(shelf) == 1 and off.take(keys) == {}  # limit 0: the shelf is not used


@pytest.mark.parametrize("res", ["postgresql"], indirect=True)
def test_a_day_to_written_on_postgresql(res: Resources) -> None:
    drop(res, TENANT, "claims.x12", _latin_1_file(factory(TENANT, seed=44, payers=[PAYER])))
    batch = ingest(res, TENANT, DAY)["batch"]

    assert check_quality(res, batch)["validated"] == 6
    scrubbed = scrub_batch(res, batch, RULES, character_policies=POLICIES)
    assert write_submissions(res, batch, PAYERS)["claims"] == scrubbed["ready"] == 6
    with res.sessions() as session:
        edits = session.execute(select(Edit.rule_id, Edit.field, Edit.line_number,
                                       Edit.code_set)).all()
        keys = set(session.scalars(select(ClaimRow.duplicate_key)))
    assert ("FIX-04", "2010BA NM103", None, "") in edits  # the edits, by COPY
    assert "" not in keys and len(keys) == 6  # each READY claim's duplicate key stored
