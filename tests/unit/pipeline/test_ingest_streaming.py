"""Ingest streams a landing file: read a chunk at a time from the store, its claims
inserted a chunk at a time, all of it in one transaction committed once the whole file is
read, so a crash or a defect at the end leaves nothing half-ingested."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import File, Payer
from revcycle.model.claim import ClaimType
from revcycle.pipeline import claimfiles
from revcycle.pipeline import ingest as ingest_module
from revcycle.pipeline.claimfiles import load_claims
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.storage import zone_prefix
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    counts,
    drop,
    factory,
    landing,
    x12_file,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

TENANT = "streamside"
CHUNK = 7


def _two_interchanges(seed: int) -> tuple[bytes, list[str]]:
    """One file holding two interchanges of 15 professional claims each."""
    f = factory(TENANT, seed=seed)
    first, second = f.claims(15, ClaimType.PROFESSIONAL), f.claims(15, ClaimType.PROFESSIONAL)
    data = x12_file(first, f.submitter, 1) + x12_file(second, f.submitter, 2)
    return data, [c.patient_control_number for c in first + second]


def _chunks(monkeypatch: pytest.MonkeyPatch, crash_at: int | None = None) -> list[int]:
    """Insert ``CHUNK`` claims at a time and record each chunk's size; with ``crash_at``
    the process "dies" when that chunk (1-based) is about to go in."""
    monkeypatch.setattr(ingest_module, "CLAIM_CHUNK", CHUNK)
    store_chunk = ingest_module._store_chunk
    sizes: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> None:
        claims = args[6]
        if claims and len(sizes) + 1 == crash_at:
            raise ConnectionError("simulated crash in the middle of the file")
        if claims:
            sizes.append(len(claims))
        store_chunk(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "_store_chunk", counted)
    return sizes


def _payers(res: Resources) -> int:
    with res.sessions() as session:
        return session.scalar(select(func.count()).select_from(Payer)) or 0


def test_a_file_goes_in_a_chunk_at_a_time_and_is_committed_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    data, pcns = _two_interchanges(seed=21)
    drop(res, TENANT, "day.x12", data)
    sizes = _chunks(monkeypatch)
    commit = Session.commit
    file_commits = []

    def counted_commit(session: Session) -> None:
        if any(isinstance(o, File) and o.zone == "raw" for o in session.identity_map.values()):
            file_commits.append(1)
        commit(session)

    def whole(*_: Any) -> bytes:
        raise AssertionError("the landing file was read whole")

    monkeypatch.setattr(Session, "commit", counted_commit)
    monkeypatch.setattr(type(res.store), "get_listed", whole)

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["claims"]) == (1, 30)
    assert sizes == [7, 7, 7, 7, 2]
    assert file_commits == [1]
    with res.sessions() as session:
        rows = list(session.scalars(select(ClaimRow).order_by(ClaimRow.ordinal)))
        [file] = session.scalars(select(File))
    assert [r.ordinal for r in rows] == list(range(30))
    assert [r.patient_control_number for r in rows] == pcns
    assert file.interchange_control_number == "000000001" and file.size == len(data)
    monkeypatch.undo()
    rebuilt = load_claims(res.store, {file.id: file}, rows)
    assert [c.patient_control_number for _, c in rebuilt] == pcns


def test_a_crash_in_the_middle_of_a_file_leaves_nothing_and_the_next_run_takes_it_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    data, pcns = _two_interchanges(seed=22)
    key = drop(res, TENANT, "day.x12", data)
    payers_before = _payers(res)
    sizes = _chunks(monkeypatch, crash_at=3)

    with pytest.raises(ConnectionError):
        ingest(res, TENANT, DAY)

    assert sizes == [7, 7]  # two chunks were inserted, then the crash
    after_crash = counts(res)
    assert (after_crash["files"], after_crash["claims"], after_crash["service_lines"],
            after_crash["claim_events"]) == (0, 0, 0, 0)
    assert _payers(res) == payers_before
    assert res.store.list(zone_prefix(TENANT, "raw")) == []
    assert landing(res, TENANT) == [key]

    monkeypatch.undo()
    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["claims"], result["duplicates"]) == (1, 30, 0)
    with res.sessions() as session:
        assert list(session.scalars(select(ClaimRow.patient_control_number)
                                    .order_by(ClaimRow.ordinal))) == pcns
    assert counts(res)["files"] == 1 and landing(res, TENANT) == []
    assert ingest(res, TENANT, DAY)["claims"] == 0


def test_a_file_found_unreadable_at_its_end_is_quarantined_without_rows(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claims of the first interchange are inserted before the reader reaches the
    second's missing trailer; the file is quarantined and none of them stays."""
    data, _ = _two_interchanges(seed=23)
    truncated = data[:data.rindex(b"GE*")]
    drop(res, TENANT, "cut.x12", truncated)
    payers_before = _payers(res)
    sizes = _chunks(monkeypatch)

    result = ingest(res, TENANT, DAY)

    assert (result["quarantined"], result["files"], result["claims"]) == (1, 0, 0)
    assert sum(sizes) >= 15  # claims went in before the end was reached
    with res.sessions() as session:
        [file] = session.scalars(select(File))
    assert (file.zone, file.status, file.reason["code"]) == ("quarantine", "QUARANTINED",
                                                             "ENVELOPE")
    assert res.store.get(file.key) == truncated
    assert counts(res)["claims"] == 0 and _payers(res) == payers_before
    assert res.store.list(zone_prefix(TENANT, "raw")) == []


def test_later_stages_stream_the_raw_file_and_stop_after_the_last_claim_they_need(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    data, pcns = _two_interchanges(seed=24)
    drop(res, TENANT, "day.x12", data)
    ingest(res, TENANT, DAY)
    with res.sessions() as session:
        [file] = session.scalars(select(File))
        rows = list(session.scalars(select(ClaimRow).where(ClaimRow.ordinal.in_([12, 3]))
                                    .order_by(ClaimRow.ordinal.desc())))
    stream = claimfiles.stream_claim_file
    read: list[str] = []

    def counted(*args: Any) -> Any:
        for claim in stream(*args):
            read.append(claim.patient_control_number)
            yield claim

    def whole(*_: Any) -> bytes:
        raise AssertionError("the raw file was read whole")

    monkeypatch.setattr(claimfiles, "stream_claim_file", counted)
    monkeypatch.setattr(type(res.store), "get", whole)

    loaded = load_claims(res.store, {file.id: file}, rows)

    assert [c.patient_control_number for _, c in loaded] == [pcns[12], pcns[3]]
    assert [row.id for row, _ in loaded] == [row.id for row in rows]
    assert read == pcns[:13]  # nothing after the last claim asked for
