"""277CA claim status and 999 IK304/IK403 descriptions: data files, coverage, unknown codes."""

from __future__ import annotations

import doctest
import re
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import pytest

import revcycle.simulator.payer
from revcycle.codesets import ack999_errors, claim_status
from revcycle.codesets.ack999_errors import describe_element_error, describe_segment_error
from revcycle.codesets.claim_status import describe_claim_status, describe_claim_status_category

CATEGORIES = ([f"A{n}" for n in range(9)] + [f"P{n}" for n in range(6)]
              + ["F0", "F1", "F2", "F3", "F3F", "F3N", "F4"]
              + ["R0", "R1"] + [f"R{n}" for n in range(3, 17)] + [f"E{n}" for n in range(5)])
IK304 = {"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"}
IK403 = {*(str(n) for n in range(1, 11)), "12", "13", "I6", "I9", "I10", "I11", "I12", "I13"}


@pytest.mark.parametrize("module", [claim_status, ack999_errors])
def test_doctests_run_and_pass(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted >= 3
    assert result.failed == 0


def test_sources_and_versions_are_recorded() -> None:
    assert "507" in claim_status.SOURCE and "508" in claim_status.SOURCE
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", claim_status.VERSION)
    assert "005010X231A1" in ack999_errors.SOURCE and ack999_errors.VERSION == "005010X231A1"


@pytest.mark.parametrize("code", CATEGORIES)
def test_every_category_group_is_described(code: str) -> None:
    description = describe_claim_status_category(code)
    assert not description.startswith("unknown") and description.endswith(".")


def test_the_category_list_holds_those_and_d0_only() -> None:
    assert claim_status.claim_status_category_codes() == {*CATEGORIES, "D0"}


def test_every_status_the_simulator_sends_is_described() -> None:
    source = Path(revcycle.simulator.payer.__file__).read_text(encoding="utf-8")
    sent = set(re.findall(r'StatusInfo\("([A-Z0-9]+)", "(\d+)"', source))
    assert {("A2", "20"), ("A7", "562"), ("A3", "33")} <= sent  # the pattern still finds them
    for category, status in sent:
        assert category in claim_status.claim_status_category_codes()
        assert status in claim_status.claim_status_codes()


@pytest.mark.parametrize("code", ["0", "1", "3", "19", "20", "21", "33", "35", "54", "116",
                                  "187", "400", "454", "562", "684"])
def test_common_status_codes_are_described(code: str) -> None:
    description = describe_claim_status(code)
    assert not description.startswith("unknown") and description.endswith(".")


def test_999_codes_are_exactly_the_tr3_lists() -> None:
    assert ack999_errors.segment_error_codes() == IK304
    assert ack999_errors.element_error_codes() == IK403


def _pyx12_codes(element: str) -> set[str]:
    text = files("pyx12").joinpath("map", "999.5010X231.A1.xml").read_text(encoding="utf-8")
    node = next(e for e in ET.fromstring(text).iter("element") if e.get("xid") == element)
    return {code.text or "" for code in node.iter("code")}


def test_999_lists_agree_with_pyx12_but_for_its_code_11() -> None:
    """pyx12's map is an independent copy of the TR3's lists: where it differs, the TR3
    (and pyx12's own 999 writer, which never uses 11) wins, and the data file says so."""
    assert _pyx12_codes("IK304") == IK304
    assert _pyx12_codes("IK403") - {"11"} == IK403


@pytest.mark.parametrize("code", sorted(IK304))
def test_every_segment_error_is_described(code: str) -> None:
    assert describe_segment_error(code).endswith(".")
    assert not describe_segment_error(code).startswith("unknown")


@pytest.mark.parametrize("code", sorted(IK403))
def test_every_element_error_is_described(code: str) -> None:
    assert describe_element_error(code).endswith(".")
    assert not describe_element_error(code).startswith("unknown")


def test_descriptions_are_short_and_our_own_lists_do_not_overlap_by_accident() -> None:
    texts = [describe_claim_status_category(c) for c in claim_status.claim_status_category_codes()]
    texts += [describe_claim_status(c) for c in claim_status.claim_status_codes()]
    texts += [describe_segment_error(c) for c in IK304]
    texts += [describe_element_error(c) for c in IK403]
    assert all(len(t) <= 100 for t in texts)
    assert describe_segment_error("I6") != describe_element_error("I6")  # two lists, one code


def test_lookups_normalize() -> None:
    assert describe_claim_status_category(" a2 ") == describe_claim_status_category("A2")
    assert describe_claim_status_category("f3f") == describe_claim_status_category("F3F")
    assert describe_element_error("i10") == describe_element_error("I10")
    assert describe_claim_status(" 20") == describe_claim_status("20")


@pytest.mark.parametrize(("describe", "code", "expected"), [
    (describe_claim_status_category, "Z9",
     "unknown code Z9: not in our list of claim status category codes"),
    (describe_claim_status, "99999", "unknown code 99999: not in our list of claim status codes"),
    (describe_segment_error, "I5",
     "unknown code I5: not in our list of 999 segment error codes (IK304)"),
    (describe_element_error, "11",
     "unknown code 11: not in our list of 999 element error codes (IK403)"),
    (describe_claim_status, "", "unknown code (not a code): not in our list of claim status codes"),
    (describe_claim_status, "SMITH JOHN 1980",
     "unknown code (not a code): not in our list of claim status codes"),
])
def test_an_unknown_code_is_described_as_unknown_never_raised(describe, code, expected) -> None:
    assert describe(code) == expected
