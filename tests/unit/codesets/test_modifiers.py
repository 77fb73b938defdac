"""Modifier list and add-on code table: packaged data files with their source and version."""

from __future__ import annotations

import doctest

import pytest

from revcycle.codesets import addons, modifiers

# The modifiers in common use that the list must hold (CPT Level I and HCPCS Level II).
COMMON = (
    "22", "24", "25", "26", "27", "50", "51", "52", "53", "57", "58", "59", "62", "76",
    "77", "78", "79", "80", "82", "91", "95", "AS", "CR", "CS", "E1", "E2", "E3", "E4",
    "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "FA", "FX", "FY", "GA", "GC",
    "GN", "GO", "GP", "GT", "GV", "GW", "GX", "GY", "GZ", "JW", "JZ", "KX", "LT", "RT",
    "QW", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "TC", "XE", "XP",
    "XS", "XU",
)


@pytest.mark.parametrize("module", [modifiers, addons])
def test_doctests_run_and_pass(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted >= 3
    assert result.failed == 0


@pytest.mark.parametrize("module", [modifiers, addons])
def test_source_and_version_are_recorded(module) -> None:
    assert "CPT" in module.SOURCE
    assert module.VERSION.startswith("20")


@pytest.mark.parametrize("modifier", COMMON)
def test_common_modifiers_are_valid(modifier) -> None:
    assert modifiers.is_valid(modifier)
    entry = modifiers.lookup(modifier)
    assert entry is not None and entry.code == modifier
    assert entry.kind == ("CPT" if modifier.isdigit() else "HCPCS")
    assert modifiers.describe(modifier) == entry.description != ""


@pytest.mark.parametrize("modifier", [
    "", "2", "250", "lt", "Lt", " LT", "LT ", "00", "ZZ", "X", "XX", "I1", "O1", "98",
])
def test_other_values_are_not_modifiers(modifier) -> None:
    assert not modifiers.is_valid(modifier)
    assert modifiers.lookup(modifier) is None
    assert modifiers.describe(modifier) == ""


def test_the_list_is_two_character_upper_case_codes() -> None:
    assert len(modifiers.VALID) >= 200
    assert all(len(m) == 2 and m == m.upper() and m.isalnum() for m in modifiers.VALID)


def test_descriptions_are_short_and_our_own() -> None:
    # Short labels, not descriptors: none is longer than a line of a work queue.
    assert all(len(modifiers.describe(m)) <= 100 for m in modifiers.VALID)


# ------------------------------------------------------------------ add-on codes


@pytest.mark.parametrize(("addon", "primary"), [
    ("99417", "99205"), ("99417", "99215"), ("11045", "11042"), ("15101", "15100"),
    ("22614", "22612"), ("64480", "64479"), ("96367", "96365"),
    ("G2211", "99202"), ("G2211", "99213"), ("G2211", "99215"), ("17315", "17313"),
])
def test_addon_codes_and_their_primaries(addon, primary) -> None:
    assert addons.is_addon(addon)
    assert primary in addons.primaries(addon)


def test_ranges_of_primaries_cover_every_code_between() -> None:
    assert addons.primaries("G2211") == frozenset(
        {"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"})
    assert "99210" not in addons.primaries("G2211")  # between the two ranges


@pytest.mark.parametrize("code", ["99213", "11042", "", "J1100", "99417 "])
def test_other_codes_are_not_addons(code) -> None:
    assert not addons.is_addon(code)
    assert addons.primaries(code) == frozenset()


def test_the_table_is_read_only_and_codes_only() -> None:
    with pytest.raises(TypeError):
        addons.ADDONS["99999"] = frozenset({"99213"})  # type: ignore[index]
    for addon, primaries in addons.ADDONS.items():
        assert len(addon) == 5 and primaries and addon not in primaries
        assert all(len(p) == 5 and p.isalnum() for p in primaries)


def test_bad_primaries_are_refused() -> None:
    with pytest.raises(ValueError):
        addons._expand("99205-99202")  # a backward range
    with pytest.raises(ValueError):
        addons._expand("G2211-G2212")  # only numeric codes make a range
    with pytest.raises(ValueError):
        addons._expand("9920")
