"""What providers drop off that is not what it should be: bytes that are not UTF-8, names
that cannot be keys, 4010 files, envelope defects, the same file under a second name. Each
becomes a quarantined file or a claim with an edit; the rest of the day goes on."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import uuid

import pytest
from sqlalchemy import select

from revcycle.csvclaims import write_csv_claims
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Edit, File
from revcycle.model.claim import ClaimType
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.report import summarize
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.scrub import DEFAULT_RULES
from revcycle.status import Status
from revcycle.storage import InvalidKey, ObjectNotFound, S3ObjectStore, shown_key, zone_prefix
from tests.unit.pipeline.conftest import (
    DAY,
    PAYERS,
    RecordingChannel,
    drop,
    factory,
    landing,
    x12_file,
)

TENANT = "northside"
PAYER = "SIMA1"
RULES = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}


def _sub(data: bytes, pattern: bytes, replacement: bytes, occurrence: int = 0) -> bytes:
    """``data`` with the ``occurrence``-th match of ``pattern`` replaced."""
    match = list(re.finditer(pattern, data))[occurrence]
    return data[:match.start()] + match.expand(replacement) + data[match.end():]


def _files(res: Resources) -> list[File]:
    with res.sessions() as session:
        return list(session.scalars(select(File).order_by(File.id)))


def _validate_and_scrub(res: Resources, batch: str, policies: dict | None = None) -> None:
    with res.sessions() as session:
        ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    scrub_batch(res, batch, RULES, character_policies=policies)


def _edits(res: Resources) -> dict[str, list[tuple[str, str, str]]]:
    """Patient control number -> its (rule, severity, field) edits; and the claims' status."""
    with res.sessions() as session:
        rows = session.execute(select(ClaimRow.patient_control_number, Edit.rule_id,
                                      Edit.severity, Edit.field)
                               .join(Edit, Edit.claim_id == ClaimRow.id)).all()
    found: dict[str, list[tuple[str, str, str]]] = {}
    for pcn, *edit in rows:
        found.setdefault(pcn, []).append(tuple(edit))
    return found


def _statuses(res: Resources) -> dict[str, str]:
    with res.sessions() as session:
        return {pcn: status for pcn, status in session.execute(
            select(ClaimRow.patient_control_number, ClaimRow.status))}


def test_a_latin_1_837_is_ingested_scrubbed_and_sent_in_the_payers_characters(
        res: Resources) -> None:
    f = factory(TENANT, seed=21, payers=[PAYER])
    claims = f.claims(6, ClaimType.PROFESSIONAL)
    data = x12_file(claims, f.submitter)
    data = _sub(data, rb"NM1\*IL\*1\*[^*]+", b"NM1*IL*1*M\xdcLLER", 0)  # claim 1's subscriber
    data = _sub(data, rb"CLM\*([A-Z0-9]+)", b"CLM*\\1\xdc", 1)  # claim 2's CLM01
    data = _sub(data, rb"NM1\*IL\*([^~]*~\s*)N3\*[^~*]+",
                b"NM1*IL*\\1N3*12 RUE DU CH\xc2TEAU", 2)
    data = re.sub(rb"PRV\*BI\*PXC\*([0-9A-Z]+)", b"PRV*BI*PXC*\\1\xdc", data)  # each 2000A
    drop(res, TENANT, "latin-1.x12", data)

    result = ingest(res, TENANT, DAY)
    assert (result["files"], result["quarantined"], result["claims"]) == (1, 0, 6)
    _validate_and_scrub(res, result["batch"])

    pcns = [c.patient_control_number for c in claims]
    pcns[1] += "\u00dc"  # CLM01 as read: the byte as Windows-1252
    edits = _edits(res)
    # The billing provider's taxonomy (2000A PRV03) is a code: never rewritten, so each
    # claim has an error naming the element.
    assert all(("CHAR-01", "ERROR", "2000A PRV03") in edits[p] for p in pcns)
    assert ("FIX-04", "WARNING", "2010BA NM103") in edits[pcns[0]]
    assert ("CHAR-01", "ERROR", "2300 CLM01") in edits[pcns[1]]
    assert ("FIX-04", "WARNING", "2010BA N301") in edits[pcns[2]]
    assert sorted(e for found in edits.values() for e in found if e[0] != "ID-02") == sorted(
        [("CHAR-01", "ERROR", "2000A PRV03")] * 6 + [("FIX-04", "WARNING", "2010BA NM103"),
         ("CHAR-01", "ERROR", "2300 CLM01"), ("FIX-04", "WARNING", "2010BA N301")])
    assert _statuses(res) == dict.fromkeys(pcns, "REJECTED")


def test_transliterated_names_reach_the_payer_and_a_strict_payer_rejects_them(
        res: Resources) -> None:
    f = factory(TENANT, seed=22, payers=[PAYER])
    claims = f.claims(4, ClaimType.PROFESSIONAL)
    data = _sub(x12_file(claims, f.submitter), rb"NM1\*IL\*1\*[^*]+", b"NM1*IL*1*M\xdcLLER")
    data = _sub(data, rb"NM1\*IL\*([^~]*~\s*)N3\*[^~*]+",
                b"NM1*IL*\\1N3*12 RUE DU CH\xc2TEAU", 1)
    drop(res, TENANT, "latin-1.x12", data)
    batch = ingest(res, TENANT, DAY)["batch"]
    strict = dataclasses.replace(PAYERS[PAYER], transliterate=False)
    _validate_and_scrub(res, batch, {PAYER: PAYERS[PAYER].character_policy})
    channel = RecordingChannel()
    submit(res, batch, PAYERS[PAYER], channel)

    [(_, sent)] = channel.deliveries
    assert sent.isascii() and b"NM1*IL*1*MULLER*" in sent and b"N3*12 RUE DU CHATEAU" in sent
    assert set(_statuses(res).values()) == {"SUBMITTED"}

    # A payer that takes no transliteration: the same names are errors naming the field.
    drop(res, "lakeview", "latin-1.x12", data)
    batch = ingest(res, "lakeview", DAY)["batch"]
    _validate_and_scrub(res, batch, {PAYER: strict.character_policy})
    with res.sessions() as session:
        fields = set(session.execute(select(Edit.rule_id, Edit.field).join(ClaimRow)
                                     .where(ClaimRow.batch_id == batch)).all())
    assert fields == {("CHAR-01", "2010BA NM103"), ("CHAR-01", "2010BA N301")}


def test_a_latin_1_claims_csv_is_read_with_a_defect(res: Resources) -> None:
    claims = factory(TENANT, seed=23, payers=[PAYER]).claims(3, ClaimType.PROFESSIONAL)
    claims[0].subscriber.last_name = "M\u00dcLLER"
    drop(res, TENANT, "claims.csv", write_csv_claims(claims).decode().encode("cp1252"))

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["claims"]) == (1, 3)
    [file] = _files(res)
    assert [d["code"] for d in file.defects] == ["NOT_UTF8"]
    _validate_and_scrub(res, result["batch"])
    assert _edits(res)[claims[0].patient_control_number] == [
        ("FIX-04", "WARNING", "2010BA NM103")]
    assert landing(res, TENANT) == []


@pytest.mark.parametrize("bad", [b"\xdc", b"\x81"])
def test_a_byte_in_a_claims_csv_never_crashes(res: Resources, bad: bytes) -> None:
    claims = factory(TENANT, seed=24, payers=[PAYER]).claims(2, ClaimType.PROFESSIONAL)
    text = write_csv_claims(claims)
    drop(res, TENANT, "claims.csv", text.replace(b"\n", b"\n" + bad, 1))
    result = ingest(res, TENANT, DAY)
    assert result["files"] + result["quarantined"] == 1


# --- landing names -------------------------------------------------------------------------

BAD_NAMES = ["claims\tjan.x12", "claims\njan.x12", ".claims.x12", "sub/.hidden/claims.x12"]


def _s3_resources(res: Resources, s3_endpoint: str) -> Resources:
    """The same database, with a fresh bucket on the moto server as the store."""
    store = S3ObjectStore(f"t-{uuid.uuid4().hex[:20]}", endpoint_url=s3_endpoint,
                          region="us-east-1", create_bucket=True)
    return dataclasses.replace(res, store=store)


def _put_raw(res: Resources, key: str, data: bytes) -> None:
    """Put an object under a key as a provider's tool would, unchecked."""
    if isinstance(res.store, S3ObjectStore):
        res.store._client.put_object(Bucket=res.store.bucket, Key=key, Body=data)
    else:
        path = res.store.root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.mark.parametrize("store", ["local", "s3"])
def test_names_the_store_cannot_address_are_quarantined_and_the_day_goes_on(
        res: Resources, store: str, request: pytest.FixtureRequest) -> None:
    if store == "s3":
        res = _s3_resources(res, request.getfixturevalue("s3_endpoint"))
    f = factory(TENANT, seed=25, payers=[PAYER])
    prefix = f"{TENANT}/landing/{DAY}/drop/"
    # (moto's server cannot take a line break in a key; S3 itself can.)
    names = [n for n in BAD_NAMES if store == "local" or "\n" not in n]
    bad = {name: x12_file(f.claims(2, ClaimType.PROFESSIONAL), f.submitter, number)
           for number, name in enumerate(names, 1)}
    if store == "s3":  # names only S3 can hold
        bad["../ROE-UP.x12"] = b"dot dot"
        bad["/ROE-ABS.x12"] = b"absolute"
        _put_raw(res, f"{TENANT}/landing/{DAY}/", b"")  # the console's "Create folder"
    for name, data in bad.items():
        _put_raw(res, prefix + name, data)
    good = drop(res, TENANT, "good.x12", x12_file(f.claims(3, ClaimType.PROFESSIONAL),
                                                  f.submitter, 9))
    drop(res, "lakeview", "good.x12", res.store.get(good))

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["claims"], result["quarantined"]) == (1, 3, len(bad))
    assert result["skipped"] == (1 if store == "s3" else 0)
    assert ingest(res, "lakeview", DAY)["claims"] == 3  # the next tenant too
    files = {f.source_key: f for f in _files(res) if f.status == "QUARANTINED"}
    assert set(files) == {prefix + name for name in bad}
    for name, data in bad.items():
        file = files[prefix + name]
        assert file.reason["code"] == "NAME" and file.reason["error"] == "InvalidName"
        assert res.store.get(file.key) == data  # under its sha256
        shown = json.loads(res.store.get(f"{file.key}.reason.json"))
        assert shown["source_key"] == shown_key(prefix + name)
        assert name.split("/")[-1].strip(".").split(".")[0] not in json.dumps(shown)
    # Landing holds only the folder marker, left where it is; a second run finds no work.
    assert res.store.list(zone_prefix(TENANT, "landing")) == (
        [f"{TENANT}/landing/{DAY}/"] if store == "s3" else [])
    again = ingest(res, TENANT, DAY)
    assert (again["files"], again["quarantined"], again["duplicates"]) == (0, 0, 0)


def test_a_local_name_that_is_not_utf8_is_kept_escaped(res: Resources) -> None:
    folder = res.store.root / TENANT / "landing" / str(DAY) / "drop"
    folder.mkdir(parents=True)
    (folder / os.fsdecode(b"M\xdcLLER.x12")).write_bytes(b"not claims")
    assert ingest(res, TENANT, DAY)["quarantined"] == 1
    [file] = _files(res)
    assert file.source_key.endswith("M\\xdcLLER.x12")


def test_a_storage_error_on_a_landing_file_pickles_without_its_name(res: Resources) -> None:
    key = f"{TENANT}/landing/{DAY}/drop/SMITH\tJOHN 1970-01-01.x12"
    for error in (InvalidKey("bad", key=key), ObjectNotFound("gone", key=key)):
        text = pickle.dumps(error).decode("latin-1")
        assert "SMITH" not in text and "1970" not in text
        assert pickle.loads(pickle.dumps(error)).key == shown_key(key)


# --- versions and envelope defects -----------------------------------------------------------


def test_a_4010_file_is_quarantined_with_the_version_it_needs(res: Resources) -> None:
    f = factory(TENANT, seed=26, payers=[PAYER])
    data = x12_file(f.claims(3, ClaimType.PROFESSIONAL), f.submitter)
    data = data.replace(b"*005010X222A1~", b"*004010X098A1~").replace(b"*00501*", b"*00401*")
    drop(res, TENANT, "old.x12", data)
    drop(res, TENANT, "new.x12", x12_file(f.claims(2, ClaimType.PROFESSIONAL), f.submitter, 2))

    result = ingest(res, TENANT, DAY)

    assert (result["files"], result["quarantined"], result["claims"]) == (1, 1, 2)
    [quarantined] = [f for f in _files(res) if f.status == "QUARANTINED"]
    assert quarantined.reason == {
        "error": "UnsupportedVersion", "code": "VERSION",
        "reason": "X12 version 004010 is not supported; send 005010X222A1/X223A2"}


def test_tolerated_envelope_defects_are_kept_on_the_file_and_counted_in_the_report(
        res: Resources) -> None:
    f = factory(TENANT, seed=27, payers=[PAYER])
    first = x12_file(f.claims(2, ClaimType.PROFESSIONAL), f.submitter, 7)
    wrong_se01 = re.sub(rb"SE\*\d+\*", b"SE*999*", first)
    reused_isa13 = x12_file(f.claims(3, ClaimType.PROFESSIONAL), f.submitter, 7)
    drop(res, TENANT, "a.x12", wrong_se01)
    assert ingest(res, TENANT, DAY)["files"] == 1
    drop(res, TENANT, "b.x12", reused_isa13)
    assert ingest(res, TENANT, DAY)["files"] == 1

    a, b = _files(res)
    assert [d["code"] for d in a.defects] == ["SE01_COUNT"]
    assert a.defects[0]["segment_number"] and a.defects[0]["byte_offset"]
    assert [d["code"] for d in b.defects] == ["ISA13_REUSED"]
    assert (a.interchange_control_number, b.interchange_control_number) == ("000000007",) * 2
    with res.sessions() as session:
        report = summarize(session, [a.batch_id])
    assert report["files"]["with_defects"] == {"ISA13_REUSED": 1, "SE01_COUNT": 1}


def test_the_same_content_under_a_second_name_is_recorded_on_its_file(
        res: Resources) -> None:
    f = factory(TENANT, seed=28, payers=[PAYER])
    data = x12_file(f.claims(2, ClaimType.PROFESSIONAL), f.submitter)
    first = drop(res, TENANT, "a-monday.x12", data)
    second = drop(res, TENANT, "b-copy.x12", data)
    ingest(res, TENANT, DAY)
    drop(res, TENANT, "a-monday.x12", data)  # the same name again adds nothing
    third = drop(res, TENANT, "tuesday.x12", data)
    assert ingest(res, TENANT, DAY)["duplicates"] == 2

    [file] = _files(res)
    assert (file.source_key, file.other_source_keys) == (first, [second, third])
