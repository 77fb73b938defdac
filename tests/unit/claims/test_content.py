"""A claim as JSON and back, typed changes at field paths, field-level diffs."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from revcycle.claims.content import (
    ContentError,
    PathError,
    claim_from_json,
    claim_to_json,
    diff,
    field_type,
    parse_text,
    set_path,
)
from revcycle.model.claim import ClaimType
from revcycle.pipeline.claimfiles import X12, read_claims
from revcycle.simulator import ClaimFactory
from tests.unit.pipeline.conftest import DAY, x12_file


def _claims(claim_type: ClaimType, n: int = 25) -> list:
    f = ClaimFactory(7, "CLAIMS", as_of=DAY)
    return f.claims(n, claim_type), f


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_simulator_claims_survive_json_exactly(claim_type: ClaimType) -> None:
    claims, _ = _claims(claim_type)
    for claim in claims:
        text = json.dumps(claim_to_json(claim))  # what the database stores
        assert claim_from_json(json.loads(text)) == claim


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_claims_read_from_a_file_keep_their_other_segments(claim_type: ClaimType) -> None:
    claims, f = _claims(claim_type)
    read = read_claims(x12_file(claims, f.submitter), X12)
    with_extra = [replace(read[0], other_segments=(("NTE", "ADD", "SYNTHETIC NOTE"),))]
    with_extra[0].service_lines[0].other_segments = (("REF", "6R", "L1"),)
    for claim in [*read, *with_extra]:
        back = claim_from_json(json.loads(json.dumps(claim_to_json(claim))))
        assert back == claim
        assert type(back.total_charge) is Decimal
        assert isinstance(back.other_segments, tuple)
        assert all(isinstance(s, tuple) for s in back.other_segments)


def test_decimals_keep_their_scale_and_dates_their_type() -> None:
    claims, _ = _claims(ClaimType.PROFESSIONAL, 1)
    claim = claims[0]
    claim.total_charge = Decimal("125.50")
    claim.onset_date = date(2026, 10, 1)
    data = claim_to_json(claim)
    assert data["total_charge"] == "125.50"
    back = claim_from_json(data)
    assert str(back.total_charge) == "125.50"
    assert back.onset_date == date(2026, 10, 1)


def test_a_stored_version_that_does_not_fit_the_model_fails_naming_the_path() -> None:
    claims, _ = _claims(ClaimType.PROFESSIONAL, 1)
    data = claim_to_json(claims[0])
    data["service_lines"][0]["charge"] = "12x"
    with pytest.raises(ContentError, match=r"^service_lines\[1\]\.charge: expected an amount"):
        claim_from_json(data)
    data = claim_to_json(claims[0])
    data["subscriber"]["shoe_size"] = "9"
    with pytest.raises(PathError, match=r"subscriber\.shoe_size: no such field"):
        claim_from_json(data)


def test_set_path_changes_one_field_and_checks_the_path() -> None:
    claims, _ = _claims(ClaimType.PROFESSIONAL, 1)
    data = claim_to_json(claims[0])
    set_path(data, "subscriber.member_id", "NEWMEMBER01")
    set_path(data, "service_lines[1].procedure_code", "99214")
    claim = claim_from_json(data)
    assert claim.subscriber.member_id == "NEWMEMBER01"
    assert claim.service_lines[0].procedure_code == "99214"
    for path, error in [("subscriber.shoe_size", "no such field"),
                        ("service_lines[99].charge", "no such item"),
                        ("service_lines[0].charge", "no such item"),
                        ("subscriber..x", "not a field path"),
                        ("payer.payer_id[1]", "not a list")]:
        with pytest.raises(PathError, match=error) as caught:
            set_path(copy.deepcopy(data), path, "1")
        assert "NEWMEMBER01" not in str(caught.value)


def test_a_missing_loop_is_not_invented() -> None:
    claims, _ = _claims(ClaimType.PROFESSIONAL, 25)
    claim = next(c for c in claims if c.patient is None)
    with pytest.raises(PathError, match="patient: the claim has none"):
        set_path(claim_to_json(claim), "patient.last_name", "SYNTH")


def test_text_values_are_typed_by_the_field() -> None:
    assert parse_text(field_type("diagnoses"), "E119, I10", "diagnoses") == ["E119", "I10"]
    assert parse_text(field_type("service_lines[1].diagnosis_pointers"), "1,2",
                      "p") == [1, 2]
    assert parse_text(field_type("onset_date"), "", "onset_date") is None
    assert parse_text(field_type("icd9"), "false", "icd9") is False
    with pytest.raises(ContentError, match="p: expected a whole number"):
        parse_text(field_type("service_lines[1].diagnosis_pointers"), "one", "p")
    with pytest.raises(ContentError, match="subscriber: a group of fields"):
        parse_text(field_type("subscriber"), "x", "subscriber")


def test_diff_names_paths_and_kinds_never_values() -> None:
    claims, _ = _claims(ClaimType.PROFESSIONAL, 1)
    old = claim_to_json(claims[0])
    new = copy.deepcopy(old)
    new["subscriber"]["member_id"] = "SECRETVALUE1"
    new["service_lines"][0]["procedure_code"] = "SECRET2"
    new["diagnoses"] = [*new["diagnoses"], "Z0000"]
    new["service_lines"].append(copy.deepcopy(new["service_lines"][0]))
    found = diff(old, new)
    n = len(new["service_lines"])
    assert found == [
        {"path": "subscriber.member_id", "change": "changed"},
        {"path": "diagnoses", "change": "changed"},
        {"path": "service_lines[1].procedure_code", "change": "changed"},
        {"path": f"service_lines[{n}]", "change": "added"},
    ]
    assert "SECRET" not in json.dumps(found)
    assert diff(old, old) == []
    assert diff(new, old)[-1] == {"path": f"service_lines[{n}]", "change": "removed"}


def test_a_whole_group_can_be_set_and_a_missing_required_field_is_named() -> None:
    claims, _ = _claims(ClaimType.PROFESSIONAL, 1)
    data = claim_to_json(claims[0])
    subscriber = dict(data["subscriber"], member_id="SYNTHGROUP1")
    set_path(data, "subscriber", subscriber)
    assert claim_from_json(data).subscriber.member_id == "SYNTHGROUP1"
    del subscriber["last_name"]
    with pytest.raises(ContentError, match=r"^subscriber\.last_name: missing"):
        claim_from_json(data)
