"""CARC and RARC descriptions: the data file's source and version, lookups, doctests."""

from __future__ import annotations

import doctest

import pytest

from revcycle.codesets import carc


def test_doctests_run_and_pass() -> None:
    result = doctest.testmod(carc)
    assert result.attempted >= 3
    assert result.failed == 0


def test_source_and_version_are_recorded() -> None:
    assert "X12" in carc.CARC_SOURCE and "Washington Publishing Company" in carc.CARC_SOURCE
    assert carc.CARC_VERSION == "2025-03-01" == carc.RARC_VERSION


@pytest.mark.parametrize("code", ["1", "2", "3", "4", "5", "16", "18", "22", "23", "26", "27",
                                  "29", "31", "45", "50", "96", "97", "109", "119", "125",
                                  "129", "151", "167", "170", "185", "197", "204", "234",
                                  "242", "253"])
def test_common_reason_codes_are_described(code: str) -> None:
    description = carc.describe_carc(code)
    assert description and description.endswith(".")


@pytest.mark.parametrize("code", ["M15", "M51", "M76", "M80", "MA04", "MA130", "N4", "N20",
                                  "N115", "N130", "N290", "N362"])
def test_common_remark_codes_are_described(code: str) -> None:
    description = carc.describe_rarc(code)
    assert description and description.endswith(".")


def test_lookups_normalize_and_keep_the_lists_apart() -> None:
    assert carc.describe_carc(" 29 ") == carc.describe_carc("29")
    assert carc.describe_rarc("ma130") == carc.describe_rarc("MA130")
    assert carc.describe_carc("M15") is None  # a remark code is not a reason code
    assert carc.describe_rarc("45") is None
    assert carc.describe_carc("") is None and carc.describe_rarc("N99999") is None
    assert "18" in carc.carc_codes() and "N362" in carc.rarc_codes()
