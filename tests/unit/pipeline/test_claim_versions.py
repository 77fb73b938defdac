"""Claim versions: a biller's correction, a re-check, refusals, and the corrected claim is
what quality, scrub and the 837 writer see."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from revcycle.claims.content import claim_from_json, claim_to_json
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, ClaimVersion, Edit, ServiceLine
from revcycle.model.claim import ClaimType
from revcycle.pipeline.batches import batch_fingerprint, claims_in, ensure_batch, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import submit
from revcycle.pipeline.versions import (
    CorrectionError,
    correct,
    current_claims,
    parse_changes,
    recheck,
    versions_of,
)
from revcycle.scrub import DEFAULT_RULES
from revcycle.status import Status
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    drop_claims,
    factory,
    ready_batch,
    run_cli,
    twice_at_once,
)

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
TENANT = "versions"
LATER = DAY + timedelta(days=3)
EVERY_PAYER = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}


def _rejected(res: Resources, n: int = 6, status: Status = Status.REJECTED
              ) -> tuple[str, list[int]]:
    """A batch whose claims were all rejected (by status transitions), with a PAYER-01 edit
    on the first half."""
    f = factory(TENANT, seed=11, payers=list(PAYERS))
    drop_claims(res, TENANT, f.claims(n, ClaimType.PROFESSIONAL), f.submitter)
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
        if status is Status.DQ_FAILED:
            move(session, ids, Status.RECEIVED, Status.DQ_FAILED, "test")
        else:
            move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
            move(session, ids, Status.VALIDATED, Status.REJECTED, "test")
        session.add_all([Edit(claim_id=i, stage="scrub", rule_id="PAYER-01",
                              severity="ERROR", message="m", field="f")
                         for i in ids[: n // 2]])
        session.commit()
    return batch, ids


def _current(res: Resources, claim_id: int):
    with res.sessions() as session:
        row = session.get_one(ClaimRow, claim_id)
        return current_claims(session, res.store, [row])[0][1]


def test_a_correction_is_a_new_version_and_the_claim_reenters(res: Resources) -> None:
    batch, ids = _rejected(res)
    before = _current(res, ids[0])
    changes = parse_changes(["subscriber.member_id=SYNTHM0001",
                             "service_lines[1].procedure_code=99214",
                             "service_lines[1].charge=210.50"])
    with res.sessions() as session:
        done = correct(session, res.store, ids[0], changes, "biller one", LATER)
    assert done.version == 2
    assert done.batch_id == f"{TENANT}-{LATER:%Y%m%d}" != batch
    assert done.changes == [{"path": "subscriber.member_id", "change": "changed"},
                            {"path": "service_lines[1].procedure_code", "change": "changed"},
                            {"path": "service_lines[1].charge", "change": "changed"}]
    after = _current(res, ids[0])
    assert after.subscriber.member_id == "SYNTHM0001"
    assert after.service_lines[0].procedure_code == "99214"
    assert after.service_lines[0].charge == Decimal("210.50")
    assert after.patient_control_number == before.patient_control_number
    with res.sessions() as session:
        v1, v2 = versions_of(session, ids[0])
        assert (v1.version, v1.source, v1.changed_by, v1.batch_id) == (1, "provider-file", "",
                                                                       batch)
        assert claim_from_json(v1.content) == before  # the old version kept whole
        assert (v2.source, v2.changed_by, v2.diff) == ("biller", "biller one", done.changes)
        row = session.get_one(ClaimRow, ids[0])
        assert (row.status, row.batch_id) == ("RECEIVED", done.batch_id)
        event = session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == ids[0])
                                .order_by(ClaimEvent.id.desc())).first()
        assert (event.from_status, event.to_status, event.stage) == ("REJECTED", "RECEIVED",
                                                                     "biller")
        line = session.scalars(select(ServiceLine).where(ServiceLine.claim_id == ids[0],
                                                         ServiceLine.line_number == 1)).one()
        assert (line.procedure_code, line.charge) == ("99214", Decimal("210.50"))
        # The other claims are as they were.
        assert session.get_one(ClaimRow, ids[1]).status == "REJECTED"
        assert not versions_of(session, ids[1])


def test_a_second_correction_diffs_against_the_first(res: Resources) -> None:
    _, ids = _rejected(res, status=Status.DQ_FAILED)
    with res.sessions() as session:
        correct(session, res.store, ids[0], parse_changes(["subscriber.member_id=SYNTH1"]),
                "a", DAY)
    with res.sessions() as session:
        move(session, [ids[0]], Status.RECEIVED, Status.DQ_FAILED, "test")
        session.commit()
        done = correct(session, res.store, ids[0],
                       {"onset_date": "2026-10-01", "subscriber.member_id": "SYNTH1"}, "b", DAY)
    assert (done.version, done.changes) == (3, [{"path": "onset_date", "change": "changed"}])
    current = _current(res, ids[0])
    assert (current.onset_date, current.subscriber.member_id) == (date(2026, 10, 1), "SYNTH1")


@pytest.mark.parametrize(("sets", "error"), [
    (["subscriber.shoe_size=9"], "subscriber.shoe_size: no such field"),
    (["service_lines[1].charge=lots"], r"service_lines\[1\]\.charge: expected an amount"),
    (["service_lines[1].service_date=02/11/2026"],
     r"service_lines\[1\]\.service_date: expected a date"),
    (["service_lines[40].charge=1.00"], r"service_lines\[40\]: the claim has no such item"),
    (["subscriber.member_id"], "--set takes PATH=VALUE"),
    ([], "nothing to change"),
])
def test_a_bad_path_or_value_is_refused_naming_the_path(res: Resources, sets: list[str],
                                                       error: str) -> None:
    _, ids = _rejected(res)
    with pytest.raises(CorrectionError, match=error) as caught, res.sessions() as session:
        correct(session, res.store, ids[0], parse_changes(sets), "a", DAY)
    assert "lots" not in str(caught.value) and "02/11" not in str(caught.value)
    with res.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ClaimVersion)) == 0
        assert session.get_one(ClaimRow, ids[0]).status == "REJECTED"


def test_a_change_that_changes_nothing_is_refused(res: Resources) -> None:
    _, ids = _rejected(res)
    member = _current(res, ids[0]).subscriber.member_id
    with pytest.raises(CorrectionError, match="leave the claim as it is"), \
            res.sessions() as session:
        correct(session, res.store, ids[0], {"subscriber.member_id": member}, "a", DAY)
    with res.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ClaimVersion)) == 0


@pytest.mark.parametrize(("path", "why"), [
    ([Status.VALIDATED, Status.READY, Status.SUBMITTED], "with the payer"),
    ([Status.VALIDATED, Status.READY, Status.SUBMITTED, Status.PAID], "replacement claim"),
    ([Status.VALIDATED, Status.READY], "still on its way"),
])
def test_a_claim_not_refused_is_not_corrected_here(res: Resources, path: list[Status],
                                                   why: str) -> None:
    f = factory(TENANT, seed=3, payers=list(PAYERS))
    drop_claims(res, TENANT, f.claims(2, ClaimType.PROFESSIONAL), f.submitter)
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        claim_id = claims_in(session, batch, Status.RECEIVED)[0].id
        current = Status.RECEIVED
        for status in path:
            move(session, [claim_id], current, status, "test")
            current = status
        session.commit()
    with pytest.raises(CorrectionError, match=f"is {current}: only .*{why}"), \
            res.sessions() as session:
        correct(session, res.store, claim_id, {"subscriber.member_id": "X1"}, "a", DAY)
    with pytest.raises(CorrectionError, match="no claim 999999"), res.sessions() as session:
        correct(session, res.store, 999999, {"subscriber.member_id": "X1"}, "a", DAY)
    with pytest.raises(CorrectionError, match="--by"), res.sessions() as session:
        correct(session, res.store, claim_id, {"subscriber.member_id": "X1"}, " ", DAY)


def test_recheck_moves_the_claims_with_the_edit_back_unchanged(res: Resources) -> None:
    _, ids = _rejected(res, n=6)
    before = {i: _current(res, i) for i in ids}
    with res.sessions() as session:
        result = recheck(session, res.store, TENANT, Status.REJECTED, "ops", LATER,
                         edit="PAYER-01")
    assert result == {"found": 3, "rechecked": 3}
    with res.sessions() as session:
        statuses = {i: session.get_one(ClaimRow, i).status for i in ids}
        assert [statuses[i] for i in ids] == ["RECEIVED"] * 3 + ["REJECTED"] * 3
        for claim_id in ids[:3]:
            v1, v2 = versions_of(session, claim_id)
            assert (v2.source, v2.changed_by, v2.diff) == ("recheck", "ops", [])
            assert v2.content == v1.content == claim_to_json(before[claim_id])
        assert {r.batch_id for r in claims_in(session, f"{TENANT}-{LATER:%Y%m%d}",
                                              Status.RECEIVED)} == {f"{TENANT}-{LATER:%Y%m%d}"}
    # Another tenant's, or none left: nothing to do.
    with res.sessions() as session:
        assert recheck(session, res.store, "other", Status.REJECTED, "ops", LATER) \
            == {"found": 0, "rechecked": 0}
        with pytest.raises(CorrectionError, match="cannot be re-checked"):
            recheck(session, res.store, None, Status.PAID, "ops", LATER)


def test_a_claim_rejected_for_a_missing_payer_module_passes_once_it_is_added(
        res: Resources) -> None:
    """The new user's case: rejected at scrub (PAYER-01, no module for its payer), the module
    added, `claims recheck` sends it back and scrub takes it, unchanged."""
    f = factory(TENANT, seed=6, payers=["SIMA1"])
    drop_claims(res, TENANT, f.claims(3, ClaimType.PROFESSIONAL), f.submitter)
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    without_sima1 = {p: r for p, r in EVERY_PAYER.items() if p != "SIMA1"}
    assert scrub_batch(res, batch, without_sima1)["rejected"] == 3
    # Running scrub again changes nothing: the claims are REJECTED, not waiting.
    assert scrub_batch(res, batch, EVERY_PAYER)["claims"] == 0
    with res.sessions() as session:  # the SIMA1 module is added; a biller re-checks
        assert recheck(session, res.store, TENANT, Status.REJECTED, "ops", DAY,
                       edit="PAYER-01") == {"found": 3, "rechecked": 3}
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    assert scrub_batch(res, batch, EVERY_PAYER)["rejected"] == 0
    with res.sessions() as session:
        assert {session.get_one(ClaimRow, i).status for i in ids} == {"READY"}


def test_the_837_carries_the_corrected_claim(res: Resources) -> None:
    """Rejected at scrub (its payer has no module), corrected to a configured payer: scrub
    passes it and the 837 the payer receives names the corrected payer and member id."""
    f = factory(TENANT, seed=5, payers=["SIMA1"])
    claims = f.claims(3, ClaimType.PROFESSIONAL)
    drop_claims(res, TENANT, claims, f.submitter)
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        ids = [r.id for r in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    without_sima1 = {p: r for p, r in EVERY_PAYER.items() if p != "SIMA1"}
    assert scrub_batch(res, batch, without_sima1)["rejected"] == 3
    other = next(p for p in PAYERS.values() if p.payer_id != "SIMA1")
    with res.sessions() as session:
        correct(session, res.store, ids[0], {"payer.payer_id": other.payer_id,
                                             "payer.name": other.name,
                                             "subscriber.member_id": "SYNTHFIXED1"},
                "biller", DAY)
        assert session.get_one(ClaimRow, ids[0]).payer_id == other.payer_id
        move(session, [ids[0]], Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    assert scrub_batch(res, batch, without_sima1)["claims"] == 1
    with res.sessions() as session:
        assert session.get_one(ClaimRow, ids[0]).status == "READY"
    channel = RecordingChannel()
    result = submit(res, batch, other, channel)
    assert result["claims"] == 1
    (_, data), = channel.deliveries
    text = data.decode()
    assert f"*PI*{other.payer_id}~" in text and "SYNTHFIXED1" in text


def test_the_cli_corrects_rechecks_and_shows_versions_without_values(
        res: Resources, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    _, ids = _rejected(res, n=4)
    patch = tmp_path / "patch.json"
    patch.write_text('{"subscriber.first_name": "SYNTHPATCHED", "service_lines[1].units": "2"}')
    done = run_cli(res, monkeypatch, "claims", "correct", str(ids[0]), "--set",
                   "subscriber.member_id=SYNTHCLI01", "--patch", str(patch), "--by", "bea",
                   "--date", f"{LATER}")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (
        f"claim {ids[0]}: version 2 by bea, back to RECEIVED in batch"
        f" {TENANT}-{LATER:%Y%m%d}; changed: subscriber.first_name (changed),"
        " subscriber.member_id (changed), service_lines[1].units (changed)")
    assert _current(res, ids[0]).subscriber.first_name == "SYNTHPATCHED"
    shown = run_cli(res, monkeypatch, "claims", "versions", str(ids[0]))
    assert shown.exit_code == 0 and "provider-file" in shown.output
    assert "biller" in shown.output and "subscriber.member_id (changed)" in shown.output
    for output in (done.output, shown.output):
        assert "SYNTH" not in output
    bad = run_cli(res, monkeypatch, "claims", "correct", str(ids[1]), "--set",
                  "service_lines[1].charge=SYNTHNOTANAMOUNT", "--by", "bea")
    assert bad.exit_code == 1
    assert "service_lines[1].charge: expected an amount" in bad.output
    assert "SYNTH" not in bad.output
    refused = run_cli(res, monkeypatch, "claims", "correct", str(ids[0]), "--set",
                      "subscriber.member_id=X", "--by", "bea")
    assert refused.exit_code == 1 and f"claim {ids[0]} is RECEIVED" in refused.output
    again = run_cli(res, monkeypatch, "claims", "recheck", "--status", "REJECTED", "--edit",
                    "PAYER-01", "--tenant", TENANT, "--by", "ops")
    assert again.exit_code == 0, again.output
    assert again.output.strip() == ("1 of 1 REJECTED claim(s) with PAYER-01 back to RECEIVED"
                                    " for re-checking")
    wrong = run_cli(res, monkeypatch, "claims", "recheck", "--status", "PAID", "--by", "ops")
    assert wrong.exit_code == 1 and "--status takes" in wrong.output


def test_the_batch_fingerprint_changes_with_a_correction_and_only_then(res: Resources
                                                                      ) -> None:
    batch, ids = _rejected(res)
    with res.sessions() as session:
        before = batch_fingerprint(session, batch)
        payer = session.get_one(ClaimRow, ids[0]).payer_id
        before_payer = batch_fingerprint(session, batch, payer)
        assert batch_fingerprint(session, batch) == before  # nothing new: the same
        correct(session, res.store, ids[0], {"subscriber.member_id": "SYNTHFP1"}, "a", DAY)
    with res.sessions() as session:
        after = batch_fingerprint(session, batch)
        assert after != before
        assert batch_fingerprint(session, batch, payer) != before_payer
        assert batch_fingerprint(session, batch) == after


def test_a_claim_corrected_after_its_days_run_goes_with_the_next_day(res: Resources
                                                                    ) -> None:
    """Corrected into a day whose run is over, the claim waits RECEIVED there; the next
    day's quality takes it (and that day's fingerprint shows the work waiting)."""
    batch, ids = _rejected(res)
    with res.sessions() as session:
        correct(session, res.store, ids[0], {"subscriber.member_id": "SYNTHLATE1"}, "a", DAY)
        later = ensure_batch(session, TENANT, LATER).id
        before = batch_fingerprint(session, later)
    with res.sessions() as session:
        assert batch_fingerprint(session, later) == before
    assert check_quality(res, later)["claims"] == 1
    with res.sessions() as session:
        row = session.get_one(ClaimRow, ids[0])
        assert (row.batch_id, row.status) == (later, "VALIDATED")
        assert batch_fingerprint(session, later) != before
        # Another tenant's, or a later day's corrections are not taken.
        assert check_quality(res, batch)["claims"] == 0


def test_a_payer_rejected_claim_corrected_goes_out_in_a_new_submission(res: Resources
                                                                      ) -> None:
    f = factory(TENANT, seed=8, payers=["SIMA1"])
    batch = ready_batch(res, TENANT, f.claims(2, ClaimType.PROFESSIONAL), f.submitter)
    payer = PAYERS["SIMA1"]
    channel = RecordingChannel()
    assert submit(res, batch, payer, channel)["claims"] == 2
    with res.sessions() as session:
        claim_id = claims_in(session, batch, Status.SUBMITTED)[0].id
        first = session.get_one(ClaimRow, claim_id).submission_id
        move(session, [claim_id], Status.SUBMITTED, Status.PAYER_REJECTED, "acks")
        session.commit()
        correct(session, res.store, claim_id, {"subscriber.member_id": "SYNTHRESENT"}, "a",
                DAY)
        assert session.get_one(ClaimRow, claim_id).submission_id is None
        move(session, [claim_id], Status.RECEIVED, Status.VALIDATED, "test")
        move(session, [claim_id], Status.VALIDATED, Status.READY, "test")
        session.commit()
    assert submit(res, batch, payer, channel)["claims"] == 1
    with res.sessions() as session:
        row = session.get_one(ClaimRow, claim_id)
        assert row.status == "SUBMITTED" and row.submission_id not in (None, first)
    assert "SYNTHRESENT" in channel.deliveries[-1][1].decode()


def test_two_corrections_at_once_one_wins_and_the_other_is_told(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    from revcycle.pipeline import versions

    _, ids = _rejected(res)

    def one_correction(value: str):
        with res.sessions() as session:
            try:
                return correct(session, res.store, ids[0], {"subscriber.member_id": value},
                               "a", DAY).version
            except CorrectionError as exc:
                return str(exc)

    values = iter(["SYNTHRACE1", "SYNTHRACE2"])
    results = twice_at_once(monkeypatch, versions, "_record",
                            lambda: one_correction(next(values)))
    assert sorted(map(str, results))[0] == "2"
    told = [r for r in results if r != 2]
    assert len(told) == 1 and "changed by someone else meanwhile" in told[0]
    assert "SYNTH" not in told[0]
    with res.sessions() as session:
        assert [v.version for v in versions_of(session, ids[0])] == [1, 2]
