"""What our 837 writer cannot write never blocks a file: scrub rejects a claim whose value
holds one of our delimiters (SYN-07, naming the field), and submit takes out a claim the
writer still refuses, alone, and sends the rest."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import select

from revcycle.csvclaims import write_csv_claims
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import ClaimEvent, Edit, Submission
from revcycle.model.claim import Address, Claim, ClaimBatch, ClaimType, Receiver
from revcycle.pipeline import submit as submit_module
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.scrub import scrub_batch
from revcycle.pipeline.submit import SubmitConfigurationError, submit
from revcycle.scrub import DEFAULT_RULES
from revcycle.status import Status
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12ElementError
from revcycle.x12.read837 import parse_837
from revcycle.x12.tokenizer import Delimiters
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.unit.pipeline.conftest import (
    DAY,
    PAYERS,
    RecordingChannel,
    drop,
    factory,
    ready_batch,
)

TENANT = "riverbend"
RULES = {pid: payer.scrub_rules(DEFAULT_RULES) for pid, payer in PAYERS.items()}
POISON_NAME = "SMITH*JONES~X"
POISON_STREET = "12 ELM ST:APT 3"


def _validated(res: Resources) -> str:
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        ids = [row.id for row in claims_in(session, batch, Status.RECEIVED)]
        move(session, ids, Status.RECEIVED, Status.VALIDATED, "test")
        session.commit()
    return batch


def _edits(res: Resources, rule_id: str) -> list[tuple[str, str, str]]:
    with res.sessions() as session:
        return [(row.patient_control_number, field, message) for row, field, message in
                session.execute(select(ClaimRow, Edit.field, Edit.message).join(
                    Edit, Edit.claim_id == ClaimRow.id).where(Edit.rule_id == rule_id))]


def _statuses(res: Resources) -> dict[str, str]:
    with res.sessions() as session:
        return dict(session.execute(select(ClaimRow.patient_control_number,
                                           ClaimRow.status)).all())


def _poisoned(claims: list[Claim], index: int, **subscriber: object) -> Claim:
    claim = claims[index]
    claim.subscriber = replace(copy.deepcopy(claim.subscriber), **subscriber)
    return claim


def test_a_csv_name_with_our_delimiters_is_rejected_at_scrub_naming_the_field(
        res: Resources) -> None:
    f = factory(TENANT, seed=31, payers=["SIMA1"])
    claims = f.claims(8, ClaimType.PROFESSIONAL)
    poisoned = _poisoned(claims, 3, last_name=POISON_NAME)
    drop(res, TENANT, "claims.csv", write_csv_claims(claims))

    scrub_batch(res, _validated(res), RULES)

    statuses = _statuses(res)
    assert statuses[poisoned.patient_control_number] == Status.REJECTED
    [(pcn, field, message)] = _edits(res, "SYN-07")
    assert (pcn, field) == (poisoned.patient_control_number, "2010BA NM103")
    assert "SMITH" not in message and "JONES" not in message
    assert "element separator" in message and "segment terminator" in message
    # The others go on to submit, and their file is written and sent.
    channel = RecordingChannel()
    submit(res, f"{TENANT}-{DAY:%Y%m%d}", PAYERS["SIMA1"], channel)
    assert len(channel.deliveries) == 1
    assert Counter(statuses.values())[Status.REJECTED] == 1


def test_a_colon_in_a_street_of_an_837_with_another_component_separator_is_rejected(
        res: Resources) -> None:
    f = factory(TENANT, seed=32, payers=["SIMA1"])
    claims = f.claims(8, ClaimType.PROFESSIONAL)
    poisoned = _poisoned(claims, 5, address=Address(POISON_STREET, "SPRINGFIELD", "IL",
                                                    "62701"))
    header = InterchangeHeader(Party("PROVIDERCLIENT"), Party("REVCYCLE"), usage_indicator="T",
                               delimiters=Delimiters(component=">"))
    written = write_837(claims, header, CounterControlNumbers(), f.submitter,
                        Receiver("REVCYCLE", "REVCYCLE"))
    assert POISON_STREET in written.text  # legal in the provider's file
    drop(res, TENANT, "angle.x12", written.text.encode())

    scrub_batch(res, _validated(res), RULES)

    assert _statuses(res)[poisoned.patient_control_number] == Status.REJECTED
    [(pcn, field, message)] = _edits(res, "SYN-07")
    assert (pcn, field) == (poisoned.patient_control_number, "2010BA N301")
    assert "ELM" not in message and "component separator" in message


def _refuse(patient_control_number: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer refuses one claim for a reason scrub did not foresee (a value that turns
    unwritable between scrub and submit stands in for a rule the catalog lacks)."""
    original = submit_module.current_claims

    def load(*args: object) -> list[tuple[ClaimRow, Claim]]:
        loaded = original(*args)
        for _, claim in loaded:
            if claim.patient_control_number == patient_control_number:
                claim.billing_provider = replace(copy.deepcopy(claim.billing_provider),
                                                 last_name="ACME~CLINIC")
        return loaded

    monkeypatch.setattr(submit_module, "current_claims", load)


def test_a_claim_the_writer_refuses_is_taken_out_and_the_rest_is_sent(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory(TENANT, seed=33, payers=["SIMA1"])
    claims = f.claims(12, ClaimType.PROFESSIONAL)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    refused = claims[4].patient_control_number
    _refuse(refused, monkeypatch)
    channel = RecordingChannel()

    result = submit(res, batch, PAYERS["SIMA1"], channel)

    assert (result["created"], result["sent"], result["refused"]) == (1, 1, 1)
    assert result["claims"] == len(claims) - 1
    statuses = _statuses(res)
    assert statuses.pop(refused) == Status.REJECTED
    assert set(statuses.values()) == {Status.SUBMITTED}
    [(pcn, field, message)] = _edits(res, "SUBMIT-01")
    assert (pcn, field) == (refused, "2010AA NM103")
    assert "ACME" not in message and "segment terminator" in message
    [(_, data)] = channel.deliveries
    [body] = X12Reader(data, {"837": parse_837}).read().bodies(ClaimBatch)
    assert sorted(c.patient_control_number for c in body.claims) == sorted(statuses)
    with res.sessions() as session:
        [submission] = session.scalars(select(Submission))
        assert submission.claim_count == len(claims) - 1
        assert submission.interchange_control_number == "000000001"  # no number lost
        assert session.scalars(select(ClaimEvent.stage).where(
            ClaimEvent.to_status == "REJECTED")).all() == ["submit"]
    # A re-run finds nothing more to do.
    again = submit(res, batch, PAYERS["SIMA1"], channel)
    assert (again["created"], again["sent"], again["refused"]) == (0, 0, 0)


def test_a_submitter_name_we_cannot_write_fails_the_payer_step_and_rejects_no_claim(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    f = factory(TENANT, seed=34, payers=["SIMA1"])
    claims = f.claims(4, ClaimType.PROFESSIONAL)
    batch = ready_batch(res, TENANT, claims, f.submitter)
    monkeypatch.setattr(res.settings, "submitter_name", "REVCYCLE*BILLING")

    with pytest.raises(SubmitConfigurationError, match="1000A NM103") as caught:
        submit(res, batch, PAYERS["SIMA1"], RecordingChannel())

    assert isinstance(caught.value, X12ElementError)
    assert set(_statuses(res).values()) == {Status.READY}
