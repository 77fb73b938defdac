"""A provider's corrected file: a claim whose patient control number the tenant already
knows is handled by the known claim's status (issue #14, path 1).

Refused (CORRECTABLE): the known claim's next version, back to RECEIVED in the ingesting
batch. Adjudicated and a replacement or void: the known claim's next version too
(revcycle.pipeline.resubmit). On its way, or adjudicated and an original: a row of its
own that scrub rejects with DUP-PCN. VOIDED: a fresh claim."""

from __future__ import annotations

import sys
import types
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

import revcycle.pipeline as pipeline_package
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, ClaimVersion, Edit, File
from revcycle.model.claim import Claim, ClaimType
from revcycle.pipeline import ingest as ingest_module
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.pipeline.versions import current_claims, versions_of
from revcycle.scrub import DEFAULT_RULES
from revcycle.scrub.duplicates import duplicate_key
from revcycle.simulator import ClaimFactory
from revcycle.status import Status
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    drop,
    factory,
    landing,
    x12_file,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
TENANT = "fixes"
LATER = DAY + timedelta(days=2)
LATER_BATCH = f"{TENANT}-{LATER:%Y%m%d}"
EVERY_PAYER = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
PAYER = PAYERS["SIMA1"]
PATHS = {
    Status.REJECTED: [Status.VALIDATED, Status.REJECTED],
    Status.DQ_FAILED: [Status.DQ_FAILED],
    Status.PAYER_REJECTED: [Status.VALIDATED, Status.READY, Status.SUBMITTED,
                            Status.PAYER_REJECTED],
    Status.VALIDATED: [Status.VALIDATED],
    Status.SUBMITTED: [Status.VALIDATED, Status.READY, Status.SUBMITTED],
    Status.PAID: [Status.VALIDATED, Status.READY, Status.SUBMITTED, Status.PAID],
    Status.VOIDED: [Status.VALIDATED, Status.READY, Status.SUBMITTED, Status.PAID,
                    Status.REVERSED, Status.VOIDED],
}


def _claims(n: int = 3, seed: int = 31) -> tuple[ClaimFactory, list[Claim]]:
    f = factory(TENANT, seed=seed, payers=["SIMA1"])
    return f, f.claims(n, ClaimType.PROFESSIONAL)


def _ingested(res: Resources, f: ClaimFactory, claims: list[Claim], status: Status,
              tenant: str = TENANT) -> list[int]:
    """The claims ingested on DAY for ``tenant`` and taken to ``status`` by transitions."""
    drop(res, tenant, "day.x12", x12_file(claims, f.submitter, 1))
    batch = ingest(res, tenant, DAY)["batch"]
    with res.sessions() as session:
        ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
        _to(session, ids, status)
        session.commit()
    return ids


def _to(session: Any, ids: list[int], status: Status) -> None:
    current = Status.RECEIVED
    for target in PATHS[status]:
        move(session, ids, current, target, "test")
        current = target


def _fixed(claim: Claim, member_id: str = "SYNTHFIXED1", **changes: Any) -> Claim:
    return replace(claim, subscriber=replace(claim.subscriber, member_id=member_id),
                   **changes)


def _send(res: Resources, name: str, f: ClaimFactory, claims: list[Claim] | bytes,
          interchange: int = 2, tenant: str = TENANT) -> dict[str, Any]:
    """A provider's later file (``claims``, or the bytes of one), ingested on LATER."""
    data = claims if isinstance(claims, bytes) else x12_file(claims, f.submitter,
                                                             interchange)
    drop(res, tenant, name, data)
    return ingest(res, tenant, LATER)


def _rows(res: Resources, tenant: str = TENANT) -> int:
    with res.sessions() as session:
        return session.scalar(select(func.count()).select_from(ClaimRow).where(
            ClaimRow.tenant_id == tenant)) or 0


def _run_day(res: Resources, batch: str = LATER_BATCH) -> tuple[dict[str, Any],
                                                               RecordingChannel]:
    """Quality, scrub and submit of the batch, as the day's run takes them."""
    check_quality(res, batch)
    scrubbed = scrub_batch(res, batch, EVERY_PAYER)
    channel = RecordingChannel()
    submit(res, batch, PAYER, channel)
    return scrubbed, channel


@pytest.mark.parametrize("status", [Status.REJECTED, Status.DQ_FAILED,
                                    Status.PAYER_REJECTED])
def test_a_corrected_file_makes_the_next_version_and_the_claim_is_sent(
        res: Resources, status: Status) -> None:
    f, claims = _claims()
    ids = _ingested(res, f, claims, status)
    fixed = x12_file([_fixed(claims[0]), *f.claims(1, ClaimType.PROFESSIONAL)], f.submitter,
                     2)
    result = _send(res, "fixed.x12", f, fixed)
    assert result["files"] == 1 and result["claims"] == 2
    assert (result["corrections"], result["replacements"]) == (1, 0)
    assert _rows(res) == 4  # the fresh claim only
    with res.sessions() as session:
        file_id = session.scalar(select(func.max(File.id)))
        v1, v2 = versions_of(session, ids[0])
        assert (v1.source, v1.batch_id) == ("provider-file", f"{TENANT}-{DAY:%Y%m%d}")
        assert (v2.version, v2.source, v2.changed_by, v2.batch_id) == (
            2, "provider-file", f"provider file {file_id}", LATER_BATCH)
        assert v2.diff == [{"path": "subscriber.member_id", "change": "changed"}]
        row = session.get_one(ClaimRow, ids[0])
        assert (row.status, row.batch_id, row.submission_id) == ("RECEIVED", LATER_BATCH,
                                                                 None)
        event_ = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == ids[0])
                                 .order_by(ClaimEvent.id.desc())).first()
        assert (event_.from_status, event_.to_status) == (status.value, "RECEIVED")
        (_, current), = current_claims(session, res.store, [row])
        assert current.subscriber.member_id == "SYNTHFIXED1"
        assert [session.get_one(ClaimRow, i).status for i in ids[1:]] == [status.value] * 2
        assert not versions_of(session, ids[1])
    scrubbed, channel = _run_day(res)
    assert scrubbed["ready"] == 2 and "DUP-PCN" not in scrubbed["edits"]
    (_, data), = channel.deliveries
    text = data.decode()
    assert "SYNTHFIXED1" in text and text.count(f"CLM*{claims[0].patient_control_number}*") == 1
    with res.sessions() as session:
        assert session.get_one(ClaimRow, ids[0]).status == "SUBMITTED"
    # The same corrected file again (under another name): a duplicate file, no version.
    again = _send(res, "fixed-again.x12", f, fixed)
    assert (again["duplicates"], again["files"], again["corrections"]) == (1, 0, 0)
    with res.sessions() as session:
        assert len(versions_of(session, ids[0])) == 2
    assert "SYNTH" not in repr(result) + repr(scrubbed)


def test_an_identical_resend_of_a_refused_claim_reenters_with_an_empty_diff(
        res: Resources) -> None:
    f, claims = _claims()
    ids = _ingested(res, f, claims, Status.DQ_FAILED)
    assert _send(res, "again.x12", f, claims[:1])["corrections"] == 1
    with res.sessions() as session:
        v1, v2 = versions_of(session, ids[0])
        assert v2.diff == [] and v2.content == v1.content
        assert session.get_one(ClaimRow, ids[0]).status == "RECEIVED"
    assert _rows(res) == 3


def test_a_claim_on_its_way_or_adjudicated_is_not_sent_twice(res: Resources) -> None:
    """The known claim VALIDATED, SUBMITTED or PAID and the file's claim an original: a row
    of its own, rejected at scrub with DUP-PCN naming the known claim (an exact resend of
    a sent claim: DUP-01 alone, as before); the payer never sees the number twice."""
    f, claims = _claims(4)
    ids = _ingested(res, f, claims, Status.VALIDATED)
    with res.sessions() as session:
        _to_from(session, ids[1:], Status.VALIDATED, Status.SUBMITTED)
        _to_from(session, [ids[2]], Status.SUBMITTED, Status.PAID)
        for claim_id, claim in zip(ids[1:], claims[1:], strict=True):  # as scrub sets it
            session.get_one(ClaimRow, claim_id).duplicate_key = duplicate_key(claim)
        session.commit()
    result = _send(res, "resent.x12", f, [_fixed(claims[0], "SYNTHAGAIN0"),
                                          _fixed(claims[1], "SYNTHAGAIN1"),
                                          _fixed(claims[2], "SYNTHAGAIN2"), claims[3]])
    assert (result["claims"], result["corrections"], result["replacements"]) == (4, 0, 0)
    assert _rows(res) == 8
    scrubbed, channel = _run_day(res)
    assert scrubbed["rejected"] == 4 and scrubbed["ready"] == 0
    assert scrubbed["edits"]["DUP-PCN"] == 3 and scrubbed["edits"]["DUP-01"] == 1
    assert channel.deliveries == []
    with res.sessions() as session:
        new = claims_in(session, LATER_BATCH, Status.REJECTED)
        edits = {(e.claim_id, e.rule_id): e.message for e in session.scalars(
            select(Edit).where(Edit.claim_id.in_([r.id for r in new])))}
        statuses = {ids[0]: "VALIDATED", ids[1]: "SUBMITTED", ids[2]: "PAID"}
        for row, known in zip(new, ids, strict=True):
            if known == ids[3]:  # the exact resend
                assert (row.id, "DUP-01") in edits and (row.id, "DUP-PCN") not in edits
                continue
            message = edits[(row.id, "DUP-PCN")]
            assert f"claim {known}'s ({statuses[known]})" in message
            assert row.patient_control_number not in message and "SYNTH" not in message
        # The known claims are as they were, with no version.
        assert [session.get_one(ClaimRow, i).status for i in ids[:3]] == list(
            statuses.values())
        assert session.scalar(select(func.count()).select_from(ClaimVersion)) == 0


def _to_from(session: Any, ids: list[int], current: Status, target: Status) -> None:
    path = PATHS[target]
    for status in path[path.index(current) + 1:]:
        move(session, ids, current, status, "test")
        current = status


def test_a_voided_claims_number_makes_a_fresh_claim(res: Resources) -> None:
    f, claims = _claims(2)
    ids = _ingested(res, f, claims, Status.VOIDED)
    result = _send(res, "anew.x12", f, [_fixed(claims[0], "SYNTHNEW01")])
    assert (result["claims"], result["corrections"]) == (1, 0)
    assert _rows(res) == 3
    scrubbed, channel = _run_day(res)
    assert scrubbed["ready"] == 1 and "DUP-PCN" not in scrubbed["edits"]
    assert len(channel.deliveries) == 1
    with res.sessions() as session:
        assert session.get_one(ClaimRow, ids[0]).status == "VOIDED"
        fresh, = claims_in(session, LATER_BATCH, Status.SUBMITTED)
        assert fresh.patient_control_number == claims[0].patient_control_number
    # That fresh claim is now the number's known claim: refused, a file corrects it.
    with res.sessions() as session:
        _to_from(session, [fresh.id], Status.SUBMITTED, Status.PAYER_REJECTED)
        session.commit()
    assert _send(res, "anew-fixed.x12", f, [_fixed(claims[0], "SYNTHNEW02")],
                 3)["corrections"] == 1
    with res.sessions() as session:
        assert [v.version for v in versions_of(session, fresh.id)] == [1, 2]
        assert not versions_of(session, ids[0])


def test_two_tenants_with_one_number_never_touch_each_others_claims(res: Resources
                                                                   ) -> None:
    f, claims = _claims(2)
    mine = _ingested(res, f, claims, Status.REJECTED)
    theirs = _ingested(res, f, claims, Status.REJECTED, tenant="others")
    assert _send(res, "fixed.x12", f, [_fixed(claims[0])])["corrections"] == 1
    with res.sessions() as session:
        assert len(versions_of(session, mine[0])) == 2
        assert not versions_of(session, theirs[0])
        assert session.get_one(ClaimRow, theirs[0]).status == "REJECTED"
    # The other tenant's claim on its way: its file's claim is its own, and no DUP-PCN
    # points at this tenant's claim.
    with res.sessions() as session:
        move(session, [theirs[1]], Status.REJECTED, Status.RECEIVED, "test")
        session.commit()
    other = _send(res, "fixed.x12", f, [_fixed(claims[1])], tenant="others")
    assert (other["claims"], other["corrections"]) == (1, 0)
    assert _rows(res, "others") == 3 and _rows(res) == 2
    with res.sessions() as session:
        assert session.get_one(ClaimRow, mine[1]).status == "REJECTED"


def test_one_number_twice_in_a_file(res: Resources) -> None:
    """The first is the correction; the second is a claim of its own, which scrub rejects
    (DUP-PCN: the number is the corrected claim's)."""
    f, claims = _claims(2)
    ids = _ingested(res, f, claims, Status.REJECTED)
    result = _send(res, "twice.x12", f, [_fixed(claims[0]), _fixed(claims[0], "SYNTHOTHER")])
    assert (result["claims"], result["corrections"]) == (2, 1)
    assert _rows(res) == 3
    scrubbed, channel = _run_day(res)
    assert (scrubbed["ready"], scrubbed["rejected"]) == (1, 1)
    assert scrubbed["edits"]["DUP-PCN"] == 1
    (_, data), = channel.deliveries
    assert "SYNTHFIXED1" in data.decode() and "SYNTHOTHER" not in data.decode()
    with res.sessions() as session:
        assert session.get_one(ClaimRow, ids[0]).status == "SUBMITTED"


def test_a_crash_before_the_commit_leaves_no_version_and_the_rerun_corrects_once(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f, claims = _claims(2)
    ids = _ingested(res, f, claims, Status.REJECTED)
    fresh = f.claims(1, ClaimType.PROFESSIONAL)
    drop(res, TENANT, "fixed.x12", x12_file([_fixed(claims[0]), *fresh], f.submitter, 2))

    def crash(name: str) -> None:
        if name == "ingest.after_raw_put":
            raise ConnectionError("simulated crash before the commit")

    monkeypatch.setattr(ingest_module, "crash_point", crash)
    with pytest.raises(ConnectionError):
        ingest(res, TENANT, LATER)
    with res.sessions() as session:
        assert not versions_of(session, ids[0])
        assert session.get_one(ClaimRow, ids[0]).status == "REJECTED"
    assert _rows(res) == 2
    monkeypatch.undo()
    assert ingest(res, TENANT, LATER)["corrections"] == 1
    assert ingest(res, TENANT, LATER)["files"] == 0
    with res.sessions() as session:
        assert [v.version for v in versions_of(session, ids[0])] == [1, 2]
    assert _rows(res) == 3


def test_known_numbers_are_looked_up_in_bulk(res: Resources,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """One query per 500 numbers, however many claims the file has."""
    monkeypatch.setattr(ingest_module, "CLAIM_CHUNK", 1000)
    f, claims = _claims(600, seed=32)
    drop(res, TENANT, "big.x12", x12_file(claims, f.submitter, 1))
    lookups: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM claims" in statement and "patient_control_number IN" in statement:
            lookups.append(statement)

    event.listen(res.engine, "before_cursor_execute", seen)
    try:
        assert ingest(res, TENANT, DAY)["claims"] == 600
    finally:
        event.remove(res.engine, "before_cursor_execute", seen)
    assert len(lookups) == 2


def test_a_replacement_of_an_adjudicated_claim_is_its_next_version(res: Resources) -> None:
    """Frequency 7 or 8 of a PAID claim: revcycle.pipeline.resubmit (the lead's module)
    makes it the known claim's next version, back to RECEIVED; no new row."""
    pytest.importorskip("revcycle.pipeline.resubmit")
    f, claims = _claims(2)
    ids = _ingested(res, f, claims, Status.PAID)
    with res.sessions() as session:  # the payer's claim numbers (835 CLP07), as posted
        for n, claim_id in enumerate(ids, 1):
            session.get_one(ClaimRow, claim_id).payer_claim_control_number = f"PAYERICN000{n}"
        session.commit()
    result = _send(res, "replace.x12", f, [
        _fixed(claims[0], frequency_code="7", original_claim_reference="PAYERICN0001"),
        replace(claims[1], frequency_code="8", original_claim_reference="PAYERICN0002")])
    assert (result["claims"], result["replacements"], result["corrections"]) == (2, 2, 0)
    assert _rows(res) == 2
    with res.sessions() as session:
        for claim_id, frequency in zip(ids, ("7", "8"), strict=True):
            assert session.get_one(ClaimRow, claim_id).status == "RECEIVED"
            newest = versions_of(session, claim_id)[-1]
            assert newest.source == "provider-file"
            assert newest.content["frequency_code"] == frequency
    scrubbed, channel = _run_day(res)
    assert scrubbed["ready"] == 2 and "DUP-PCN" not in scrubbed["edits"]
    (_, data), = channel.deliveries
    assert data.decode().count("REF*F8*PAYERICN000") == 2


def test_ingest_hands_a_replacement_to_resubmit_and_a_refusal_gets_its_own_row(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest's side of path 2, with resubmit played by the test: called for a 7 or 8 of an
    adjudicated claim only, in the file's transaction; refused, the claim is a row of its
    own (which scrub rejects with DUP-PCN)."""
    calls: list[tuple[int, str, str, int]] = []

    class ResubmitError(ValueError):
        pass

    def from_provider_file(session: Any, store: Any, row: ClaimRow, claim: Claim,
                           batch_id: str, file_id: int) -> int:
        calls.append((row.id, claim.frequency_code, batch_id, file_id))
        if claim.frequency_code == "8":
            raise ResubmitError(f"claim {row.id}: refused by the test")
        return 2

    fake = types.ModuleType("revcycle.pipeline.resubmit")
    fake.ResubmitError = ResubmitError  # type: ignore[attr-defined]
    fake.from_provider_file = from_provider_file  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "revcycle.pipeline.resubmit", fake)
    monkeypatch.setattr(pipeline_package, "resubmit", fake, raising=False)
    f, claims = _claims(3)
    ids = _ingested(res, f, claims, Status.PAID)
    with res.sessions() as session:
        move(session, [ids[2]], Status.PAID, Status.REVERSED, "test")
        session.commit()
    result = _send(res, "replace.x12", f, [
        _fixed(claims[0], frequency_code="7", original_claim_reference="PAYERICN0001"),
        replace(claims[1], frequency_code="8", original_claim_reference="PAYERICN0002"),
        _fixed(claims[2], frequency_code="1")])
    assert (result["claims"], result["replacements"], result["corrections"]) == (3, 1, 0)
    with res.sessions() as session:
        file_id = session.scalar(select(func.max(File.id)))
    assert calls == [(ids[0], "7", LATER_BATCH, file_id), (ids[1], "8", LATER_BATCH, file_id)]
    assert _rows(res) == 5  # the refused void and the original for a reversed claim
    scrubbed, channel = _run_day(res)
    assert scrubbed["edits"]["DUP-PCN"] == 2 and channel.deliveries == []


def test_a_known_claim_changed_meanwhile_leaves_the_file_for_the_next_run(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f, claims = _claims(2)
    ids = _ingested(res, f, claims, Status.REJECTED)
    original = ingest_module.correct_from_file

    def moved_meanwhile(session: Any, store: Any, items: Any, batch: str,
                        file_id: int) -> Any:
        if items:  # someone corrects it between ingest's look-up and its move
            session.execute(update(ClaimRow).where(ClaimRow.id == ids[0]).values(
                status="RECEIVED").execution_options(synchronize_session=False))
        return original(session, store, items, batch, file_id)

    monkeypatch.setattr(ingest_module, "correct_from_file", moved_meanwhile)
    result = _send(res, "fixed.x12", f, [_fixed(claims[0]), *f.claims(1,
                                                                      ClaimType.PROFESSIONAL)])
    assert (result["deferred"], result["files"], result["corrections"]) == (1, 0, 0)
    assert len(landing(res, TENANT)) == 1 and _rows(res) == 2
    with res.sessions() as session:
        assert not versions_of(session, ids[0])
        assert session.get_one(ClaimRow, ids[0]).status == "REJECTED"
    monkeypatch.undo()
    assert ingest(res, TENANT, LATER)["corrections"] == 1
    assert _rows(res) == 3 and landing(res, TENANT) == []


def test_the_same_number_to_another_payer_is_a_claim_of_its_own(res: Resources) -> None:
    """A number is one claim per payer: the provider's claim of a PAID claim's number to
    another payer (its secondary claim) is a claim of its own that scrub passes, and a
    corrected file for it corrects it, not the first payer's claim."""
    f, claims = _claims(1)
    primary, = _ingested(res, f, claims, Status.PAID)
    other = next(p for p in PAYERS.values() if p.payer_id != PAYER.payer_id)
    secondary = replace(claims[0], payer=replace(claims[0].payer, payer_id=other.payer_id,
                                                 name=other.name))
    result = _send(res, "secondary.x12", f, [secondary])
    assert (result["claims"], result["corrections"], result["replacements"]) == (1, 0, 0)
    assert _rows(res) == 2
    check_quality(res, LATER_BATCH)
    scrubbed = scrub_batch(res, LATER_BATCH, EVERY_PAYER)
    assert scrubbed["ready"] == 1 and "DUP-PCN" not in scrubbed["edits"]
    with res.sessions() as session:
        row, = claims_in(session, LATER_BATCH, Status.READY)
        move(session, [row.id], Status.READY, Status.SUBMITTED, "test")
        move(session, [row.id], Status.SUBMITTED, Status.PAYER_REJECTED, "test")
        session.commit()
    assert _send(res, "secondary-fixed.x12", f, [_fixed(secondary)], 3)["corrections"] == 1
    with res.sessions() as session:
        assert [v.version for v in versions_of(session, row.id)] == [1, 2]
        assert not versions_of(session, primary)
        assert session.get_one(ClaimRow, primary).status == "PAID"
