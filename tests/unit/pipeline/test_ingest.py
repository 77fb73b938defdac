"""Ingest: landing files into raw/ (or quarantine/) and their claims into the database."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.csvclaims import write_csv_claims
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, File, ServiceLine
from revcycle.model.claim import ClaimType
from revcycle.pipeline import ingest as ingest_module
from revcycle.pipeline.claimfiles import CSV, X12, load_claims
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import Status
from revcycle.storage import object_key, shown_key, zone_prefix
from revcycle.x12.writer import CounterControlNumbers
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    counts,
    drop,
    drop_claims,
    factory,
    landing,
    twice_at_once,
    x12_file,
)

TENANT = "northside"
BATCH = f"{TENANT}-{DAY:%Y%m%d}"


def _files(res: Resources) -> list[File]:
    with res.sessions() as session:
        return list(session.scalars(select(File).order_by(File.id)))


def _claim_rows(res: Resources) -> list[ClaimRow]:
    with res.sessions() as session:
        return list(session.scalars(select(ClaimRow).order_by(ClaimRow.id)))


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_a_landed_file_goes_to_raw_and_its_claims_are_received(res: Resources) -> None:
    f = factory(TENANT, seed=2)
    claims = f.claims(30)
    keys = drop_claims(res, TENANT, claims, f.submitter)
    dropped = {key: res.store.get(key) for key in keys}
    assert len(dropped) == 2  # both claim types

    result = ingest(res, TENANT, DAY)

    assert result == {"batch": BATCH, "files": 2, "duplicates": 0, "quarantined": 0,
                      "claims": 30, "skipped": 0, "deferred": 0, "corrections": 0,
                      "replacements": 0}
    assert landing(res, TENANT) == []
    files = _files(res)
    assert {f.source_key for f in files} == set(dropped)
    for file in files:
        data = dropped[file.source_key]
        sha = hashlib.sha256(data).hexdigest()
        assert file.key == object_key(TENANT, "raw", DAY, BATCH, f"{sha}.x12")
        assert res.store.get(file.key) == data
        assert (file.sha256, file.size, file.zone, file.status, file.format, file.batch_id) \
            == (sha, len(data), "raw", "RAW", X12, BATCH)
    assert len(res.store.list(zone_prefix(TENANT, "raw"))) == 2

    rows = _claim_rows(res)
    by_pcn = {c.patient_control_number: c for c in claims}
    assert sorted(r.patient_control_number for r in rows) == sorted(by_pcn)
    for row in rows:
        claim = by_pcn[row.patient_control_number]
        assert row.status == Status.RECEIVED and row.batch_id == BATCH
        assert (row.payer_id, row.claim_type, row.total_charge, row.billing_npi) == (
            claim.payer.payer_id, claim.claim_type.value, claim.total_charge,
            claim.billing_provider.npi)
        # Nothing posted or sent yet: the model's defaults, which COPY (PostgreSQL) is
        # given by revcycle.db.bulk as an INSERT would apply them.
        assert (row.paid, row.adjusted, row.patient_responsibility, row.duplicate_key,
                row.payer_claim_control_number, row.submission_id, row.prior_claim_id) \
            == (0, 0, 0, "", "", None, None)
        assert row.updated_at is not None
    with res.sessions() as session:
        events = list(session.execute(select(ClaimEvent.claim_id, ClaimEvent.from_status,
                                             ClaimEvent.to_status, ClaimEvent.stage)))
        assert None not in session.scalars(select(ClaimEvent.at)).all()
        lines = session.scalars(select(ServiceLine)).all()
        assert {line.paid for line in lines} == {0}
        # The raw file and ordinal rebuild each claim.
        rebuilt = load_claims(res.store, {f.id: f for f in files}, rows)
    assert sorted(tuple(e) for e in events) == [(r.id, None, "RECEIVED", "ingest")
                                                for r in rows]
    assert len(lines) == sum(len(c.service_lines) for c in claims)
    assert all(row.patient_control_number == claim.patient_control_number
               and claim.total_charge == row.total_charge for row, claim in rebuilt)


def test_the_same_file_dropped_twice_is_ingested_once(res: Resources) -> None:
    f = factory(TENANT, seed=3)
    data = x12_file(f.claims(20, ClaimType.PROFESSIONAL), f.submitter)
    drop(res, TENANT, "monday.x12", data)
    drop(res, TENANT, "monday-again.x12", data)  # twice in one drop, under another name

    first = ingest(res, TENANT, DAY)
    assert (first["files"], first["duplicates"], first["claims"]) == (1, 1, 20)
    before = counts(res)
    assert before["files"] == 1 and before["claims"] == 20

    drop(res, TENANT, "monday.x12", data)  # and again on a later run
    drop(res, TENANT, "resent-by-the-client.x12", data)
    second = ingest(res, TENANT, DAY)

    assert (second["files"], second["duplicates"], second["claims"]) == (0, 2, 0)
    assert counts(res) == before
    assert landing(res, TENANT) == []
    assert len(res.store.list(zone_prefix(TENANT, "raw"))) == 1


def _malformed_837() -> tuple[bytes, list[str]]:
    """An 837 whose first CLM02 (the claim total) holds a patient's surname; and the
    identifying values of the file, none of which may appear in a reason."""
    f = factory(TENANT, seed=5)
    claims = f.claims(6, ClaimType.PROFESSIONAL)
    surname = claims[0].subscriber.last_name
    segments = x12_file(claims, f.submitter).decode().split("~")
    index = next(i for i, s in enumerate(segments) if s.lstrip().startswith("CLM*"))
    parts = segments[index].split("*")
    parts[2] = surname
    segments[index] = "*".join(parts)
    phi = [value for c in claims for value in (
        c.subscriber.last_name, c.subscriber.first_name, c.subscriber.member_id,
        f"{c.subscriber.birth_date:%Y%m%d}")]
    return "~".join(segments).encode(), phi


def _an_835() -> bytes:
    """A payer's 835: X12, but no claims in it."""
    f = factory(TENANT, seed=6, payers=["SIMC1"])
    data = x12_file(f.claims(4, ClaimType.PROFESSIONAL), f.submitter)
    answer = PayerSimulator(("TESTCARE COMMERCIAL", "SIMC1"), seed=1).respond(
        data, received=DAY, control_numbers=CounterControlNumbers())
    assert answer.remittance_835 is not None
    return answer.remittance_835


def test_unreadable_files_go_to_quarantine_with_a_reason(res: Resources) -> None:
    malformed, phi = _malformed_837()
    bad_csv_rows = write_csv_claims(factory(TENANT, seed=7).claims(2)).decode().split("\n")
    bad_csv_rows[1] = bad_csv_rows[1].replace(",837", ",8X7", 1)
    dropped = {
        "claims.x12": (malformed, "X12ElementError"),
        "remittance.x12": (_an_835(), "NotAClaimFile"),
        "scan.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 claim form scan\n", "UnknownFormat"),
        "claims.csv": ("\n".join(bad_csv_rows).encode(), "CsvClaimError"),
        "empty.x12": (b"", "UnknownFormat"),
    }
    names = {drop(res, TENANT, name, data): name for name, (data, _) in dropped.items()}

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["quarantined"], result["claims"]) == (0, 5, 0)
    assert landing(res, TENANT) == []
    assert _claim_rows(res) == []
    files = {names[f.source_key]: f for f in _files(res)}
    assert set(files) == set(dropped)
    for name, (data, error) in dropped.items():
        file = files[name]
        sha = hashlib.sha256(data).hexdigest()
        assert (file.zone, file.status, file.sha256) == ("quarantine", "QUARANTINED", sha)
        assert file.key == object_key(TENANT, "quarantine", DAY, BATCH, sha)
        assert res.store.get(file.key) == data
        reason = json.loads(res.store.get(f"{file.key}.reason.json"))
        # Beside it, the landing key as errors show it: the provider's name stays in the
        # database.
        assert reason == {"source_key": shown_key(file.source_key), **file.reason}
        assert name not in json.dumps(reason)
        assert reason["error"] == error and reason["reason"]
        # The reason says where and why, never what: no value from the file.
        text = json.dumps(reason)
        assert not [value for value in phi if value in text]
    assert files["remittance.x12"].reason["code"] == "SET"
    assert files["claims.x12"].reason["segment_id"] == "CLM"
    assert files["claims.x12"].reason["element"] == 2
    assert (files["claims.csv"].reason["row"], files["claims.csv"].reason["column"]) \
        == (2, "claim_type")

    # Dropped again, a quarantined file is recognised and not quarantined twice.
    drop(res, TENANT, "claims-resent.x12", malformed)
    assert ingest(res, TENANT, DAY)["duplicates"] == 1
    assert len(_files(res)) == 5


def test_a_crash_before_the_commit_is_finished_by_the_next_run(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory(TENANT, seed=8)
    data = x12_file(f.claims(25, ClaimType.PROFESSIONAL), f.submitter)
    key = drop(res, TENANT, "day.x12", data)
    commit = Session.commit
    crashes = []

    def crash_once(session: Session) -> None:
        holds_raw_file = any(isinstance(o, File) and o.zone == "raw"
                             for o in session.identity_map.values())
        if holds_raw_file and not crashes:
            crashes.append(1)
            raise ConnectionError("simulated crash: the database went away")
        commit(session)

    monkeypatch.setattr(Session, "commit", crash_once)
    with pytest.raises(ConnectionError):
        ingest(res, TENANT, DAY)
    # The raw object is written, but nothing is recorded and the file is still in landing.
    assert len(res.store.list(zone_prefix(TENANT, "raw"))) == 1
    assert _files(res) == [] and _claim_rows(res) == []
    assert landing(res, TENANT) == [key]

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["duplicates"], result["claims"]) == (1, 0, 25)
    assert counts(res)["claims"] == 25 and counts(res)["files"] == 1
    assert len(res.store.list(zone_prefix(TENANT, "raw"))) == 1
    assert landing(res, TENANT) == []


def test_a_crash_after_the_commit_is_finished_by_the_next_run(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory(TENANT, seed=9)
    key = drop(res, TENANT, "day.x12", x12_file(f.claims(10, ClaimType.PROFESSIONAL),
                                                f.submitter))
    delete = type(res.store).delete
    crashes = []

    def crash_once(store: object, key: str) -> None:
        if not crashes:
            crashes.append(key)
            raise ConnectionError("simulated crash before landing is cleaned")
        delete(store, key)

    monkeypatch.setattr(type(res.store), "delete", crash_once)
    with pytest.raises(ConnectionError):
        ingest(res, TENANT, DAY)
    assert landing(res, TENANT) == [key]
    before = counts(res)
    assert before["claims"] == 10

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["duplicates"], result["claims"]) == (0, 1, 0)
    assert counts(res) == before
    assert landing(res, TENANT) == []


def test_a_claims_csv_becomes_claims(res: Resources) -> None:
    f = factory(TENANT, seed=10)
    claims = f.claims(20, ClaimType.PROFESSIONAL)
    data = write_csv_claims(claims)
    drop(res, TENANT, "professional-claims.csv", data)

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["claims"], result["quarantined"]) == (1, 20, 0)
    [file] = _files(res)
    assert file.format == CSV and file.status == "RAW"
    assert file.key == object_key(TENANT, "raw", DAY, BATCH,
                                  f"{hashlib.sha256(data).hexdigest()}.csv")
    rows = _claim_rows(res)
    assert [r.patient_control_number for r in rows] == [c.patient_control_number
                                                       for c in claims]
    assert all(r.status == Status.RECEIVED for r in rows)
    rebuilt = load_claims(res.store, {file.id: file}, rows)
    assert [(c.patient_control_number, c.total_charge, len(c.service_lines))
            for _, c in rebuilt] == [(c.patient_control_number, c.total_charge,
                                      len(c.service_lines)) for c in claims]


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_two_runs_ingesting_at_once_take_each_file_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-run started while the scheduled run ingests the day: both read the same landing
    files; each file and its claims are recorded once, and landing ends empty."""
    f = factory(TENANT, seed=9)
    drop_claims(res, TENANT, f.claims(30), f.submitter)
    files = len(landing(res, TENANT))
    results = twice_at_once(monkeypatch, ingest_module, "detect_format",
                            lambda: ingest(res, TENANT, DAY))

    assert sum(r["files"] for r in results) == files
    assert sum(r["claims"] for r in results) == 30 == len(_claim_rows(res))
    assert len(_files(res)) == files and landing(res, TENANT) == []
