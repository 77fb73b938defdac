"""ICD-10-CM adapter: billable codes in X12 form, the packaged release, cached answers."""

from __future__ import annotations

import doctest

import pytest

from revcycle.codesets import icd10


def test_doctests_run_and_pass() -> None:
    result = doctest.testmod(icd10)
    assert result.attempted >= 5
    assert result.failed == 0


@pytest.mark.parametrize("code", ["E119", "I10", "Z23", "S93401A", "S0990XA", "T7840XA",
                                  "Z00121", "F17210"])
def test_leaf_codes_are_billable(code) -> None:
    assert icd10.is_billable(code)


@pytest.mark.parametrize("code", [
    "E11",  # category with subcategories
    "M545",  # subcategory with children (M54.50, M54.51, ...)
    "S93401",  # needs a seventh character
    "E11.9",  # dotted: X12 carries no dot
    "e119",  # lower case
    " E119",
    "A00-A09",  # a block
    "1",  # a chapter
    "",
    "E1199999",
    "Ｅ119",  # full-width letter
    "ZZZ99",
])
def test_other_values_are_not_billable(code) -> None:
    assert not icd10.is_billable(code)


def test_release_is_read_off_the_packaged_data() -> None:
    assert icd10.release() == "2026-04-01"
    assert icd10.default().release == icd10.release()
    assert icd10.default() is icd10.default()


def test_answers_are_cached_per_adapter() -> None:
    adapter = icd10.SimpleICD10CM()
    assert adapter.is_billable("J069") and not adapter.is_billable("J06")
    assert adapter._answers == {"J069": True, "J06": False}
    assert adapter.is_billable("J069")
    assert len(adapter._answers) == 2

