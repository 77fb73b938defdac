"""CARC classes: every listed code has one, the group rules, unknown codes, doctests."""

from __future__ import annotations

import doctest

import pytest

from revcycle.codesets import carc, carc_classes
from revcycle.codesets.carc_classes import AdjustmentClass, classify, is_timely_filing

C, P, D, INFO = (AdjustmentClass.CONTRACTUAL, AdjustmentClass.PATIENT, AdjustmentClass.DENIAL,
              AdjustmentClass.INFORMATIONAL)


def test_doctests_run_and_pass() -> None:
    result = doctest.testmod(carc_classes)
    assert result.attempted >= 4
    assert result.failed == 0


def test_source_and_version_are_recorded() -> None:
    assert "X12" in carc_classes.SOURCE and "139" in carc_classes.SOURCE
    assert carc_classes.VERSION == carc.CARC_VERSION


def test_every_described_reason_code_has_a_class_and_no_other() -> None:
    assert carc_classes.classified_codes() == carc.carc_codes()


@pytest.mark.parametrize(("group", "code", "expected"), [
    ("CO", "45", C), ("CO", "253", C), ("CO", "42", C), ("CO", "59", C), ("CO", "94", C),
    ("CO", "144", C), ("CO", "131", C), ("CO", "24", C),
    ("PR", "1", P), ("PR", "2", P), ("PR", "3", P), ("PR", "45", P), ("PR", "96", P),
    ("PR", "50", P),
    ("CO", "16", D), ("CO", "50", D), ("CO", "96", D), ("CO", "97", D), ("CO", "197", D),
    ("CO", "29", D), ("CO", "18", D), ("OA", "22", D), ("CO", "27", D), ("CO", "31", D),
    ("CO", "109", D), ("PI", "16", D), ("OA", "18", D),
    ("OA", "23", INFO), ("CO", "23", INFO),
])
def test_spot_checks(group: str, code: str, expected: AdjustmentClass) -> None:
    assert classify(group, code) is expected


def test_group_and_code_are_normalized() -> None:
    assert classify(" co ", " 45 ") is C and classify("oa", "23") is INFO
    assert classify("pr", "b7") is P


@pytest.mark.parametrize(("group", "code"), [("CO", "Z9"), ("CO", ""), ("OA", "999"),
                                             ("CR", "45"), ("XX", "45"), ("", "45")])
def test_unknown_code_or_group_is_a_denial(group: str, code: str) -> None:
    assert classify(group, code) is D


def test_an_unknown_code_under_pr_is_still_the_patients() -> None:
    assert classify("PR", "Z9") is P


@pytest.mark.parametrize("group", ["CO", "PI", "OA"])
def test_a_patient_share_outside_pr_needs_a_person(group: str) -> None:
    assert classify(group, "1") is D and classify(group, "2") is D


def test_overrides_win_over_the_group_rules() -> None:
    table = carc_classes.parse_rows([
        {"code": "45", "class": "contractual", "overrides": "PI=denial; PR=informational"},
    ])
    assert classify("PI", "45", table) is D
    assert classify("PR", "45", table) is INFO
    assert classify("CO", "45", table) is C and classify("OA", "45", table) is C


@pytest.mark.parametrize("row", [
    {"code": "45", "class": "writeoff", "overrides": ""},
    {"code": "45", "class": "contractual", "overrides": "PI:denial"},
    {"code": "45", "class": "contractual", "overrides": "ZZ=denial"},
    {"code": "45", "class": "contractual", "overrides": "PI=maybe"},
    {"code": "", "class": "contractual", "overrides": ""},
])
def test_a_malformed_row_stops_the_load(row: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        carc_classes.parse_rows([row])


def test_a_repeated_code_stops_the_load() -> None:
    row = {"code": "45", "class": "contractual", "overrides": ""}
    with pytest.raises(ValueError, match="repeated"):
        carc_classes.parse_rows([row, dict(row)])


@pytest.mark.parametrize(("group", "code", "expected"), [
    ("CO", "29", True), ("OA", "29", True), ("PI", "29", True), ("co", " 29", True),
    ("PR", "29", False), ("CO", "16", False), ("CO", "290", False), ("XX", "29", False),
])
def test_timely_filing(group: str, code: str, expected: bool) -> None:
    assert is_timely_filing(group, code) is expected
