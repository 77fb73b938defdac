"""Place of service: the packaged CMS code set, its recorded source and version, effective
dates of the codes added recently, and the facility settings."""

from __future__ import annotations

import doctest
from datetime import date, timedelta

import pytest

from revcycle.codesets import pos

UNASSIGNED = ({f"{n:02d}" for n in (*range(28, 31), *range(35, 41), *range(43, 49), 59, 63, 64,
                                     *range(67, 71), *range(73, 81), *range(82, 99))} | {"00"})


def test_doctests_run_and_pass() -> None:
    result = doctest.testmod(pos)
    assert result.attempted >= 4
    assert result.failed == 0


def test_source_and_version_are_recorded() -> None:
    assert pos.SOURCE.startswith("CMS Place of Service Code Set")
    assert date.fromisoformat(pos.VERSION) == date(2024, 8, 1)


def test_every_two_digit_code_is_assigned_or_unassigned() -> None:
    codes = pos.codes()
    assert list(codes) == sorted(codes)
    assert len(codes) == 52
    assert set(codes) | UNASSIGNED == {f"{n:02d}" for n in range(100)}
    assert not set(codes) & UNASSIGNED
    names = [pos.lookup(code).name for code in codes]  # type: ignore[union-attr]
    assert all(names) and len(set(names)) == len(names)


@pytest.mark.parametrize(("code", "effective"), [
    ("09", date(2006, 7, 1)), ("16", date(2008, 1, 1)), ("17", date(2010, 5, 1)),
    ("18", date(2013, 1, 1)), ("19", date(2016, 1, 1)), ("02", date(2017, 1, 1)),
    ("58", date(2020, 1, 1)), ("10", date(2022, 1, 1)), ("27", date(2023, 10, 1)),
    ("66", date(2024, 8, 1)),
])
def test_codes_added_recently_are_valid_from_their_effective_date(code, effective) -> None:
    assert not pos.is_valid(code, effective - timedelta(days=1))
    assert pos.is_valid(code, effective)
    assert pos.is_valid(code, date(2026, 11, 2))
    assert pos.lookup(code).effective == effective  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["11", "12", "21", "22", "23", "49", "57", "81", "99"])
def test_older_codes_are_valid_on_any_date(code) -> None:
    assert pos.is_valid(code, date(2003, 1, 1))
    assert pos.lookup(code).effective == date.min  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["", "1", "011", " 11", "11 ", "AB", "30", "59", "00", "100"])
def test_anything_else_is_not_a_place_of_service(code) -> None:
    assert not pos.is_valid(code, date(2026, 11, 2))
    assert pos.lookup(code) is None
    assert not pos.is_facility(code)


def test_facility_settings() -> None:
    facilities = {code for code in pos.codes() if pos.is_facility(code)}
    assert facilities == {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51",
                          "52", "53", "56", "61"}
    for code in ("02", "10", "11", "12", "32", "49", "65"):  # telehealth, office, home, ...
        assert not pos.is_facility(code)
