"""DUP-02: two lines of one claim with the same procedure, modifiers and date of service;
the claim that trips it and the nearest claims that do not, built from the simulator's
clean claims by changing one field."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from revcycle.model.claim import Claim
from revcycle.scrub import Finding, Severity
from revcycle.scrub.duplicates import no_duplicate_line
from revcycle.simulator import generate_claims
from tests.unit.scrub.test_diagnoses_more import INST, PRO, clean, ctx


def _coded(claim: Claim) -> bool:
    return len(claim.service_lines) >= 2 and all(ln.procedure_code for ln in claim.service_lines)


def _repeat_first(claim: Claim, **changes: object) -> Claim:
    """The claim with a copy of its first line, changed, as its last line."""
    claim.service_lines.append(dataclasses.replace(claim.service_lines[0], **changes))
    return claim


def test_dup02_the_same_line_twice() -> None:
    claim = _repeat_first(clean(PRO, _coded), line_control_number="X")
    n = len(claim.service_lines)
    assert no_duplicate_line(claim, ctx()) == [Finding(
        "DUP-02", "duplicates", Severity.ERROR,
        f"service line {n} repeats service line 1 (same procedure, modifiers and date of "
        "service)", "2400 SV101", n)]


def test_dup02_modifiers_in_another_order_are_the_same() -> None:
    claim = clean(PRO, _coded)
    claim.service_lines[0].modifiers = ("26", "LT")
    _repeat_first(claim, modifiers=("LT", "26"))
    assert [f.line_number for f in no_duplicate_line(claim, ctx())] == [
        len(claim.service_lines)]


def test_dup02_on_an_837i() -> None:
    claim = _repeat_first(clean(INST, _coded))
    [finding] = no_duplicate_line(claim, ctx())
    assert finding.field == "2400 SV202"


_NEXT_DAY = timedelta(days=1)


@pytest.mark.parametrize("change", [
    lambda line: {"modifiers": (*line.modifiers, "76")},  # a repeat procedure says so
    lambda line: {"modifiers": (*line.modifiers, "XS")},
    lambda line: {"procedure_code": "99499"},
    lambda line: {"service_date": line.service_date + _NEXT_DAY},
    lambda line: {"service_date_end": line.service_date + _NEXT_DAY},  # a range: not one date
])
def test_dup02_nearest_lines_that_differ_in_one_field(change) -> None:
    claim = clean(PRO, _coded)
    _repeat_first(claim, **change(claim.service_lines[0]))
    assert no_duplicate_line(claim, ctx()) == []


def test_dup02_units_and_charges_do_not_make_a_line_distinct() -> None:
    claim = clean(PRO, _coded)
    first = claim.service_lines[0]
    _repeat_first(claim, units=first.units + 1, charge=first.charge * 2)
    assert len(no_duplicate_line(claim, ctx())) == 1


def test_dup02_revenue_only_lines_are_not_compared() -> None:
    claim = clean(INST, lambda c: any(not ln.procedure_code for ln in c.service_lines))
    line = next(ln for ln in claim.service_lines if not ln.procedure_code)
    claim.service_lines.append(dataclasses.replace(line))
    assert no_duplicate_line(claim, ctx()) == []


def test_dup02_a_third_copy_points_at_the_first() -> None:
    claim = clean(PRO, _coded)
    _repeat_first(claim)
    _repeat_first(claim)
    n = len(claim.service_lines)
    assert [(f.line_number, f.message) for f in no_duplicate_line(claim, ctx())] == [
        (n - 1, f"service line {n - 1} repeats service line 1 (same procedure, modifiers "
                "and date of service)"),
        (n, f"service line {n} repeats service line 1 (same procedure, modifiers and date "
            "of service)"),
    ]


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_clean_simulated_claims_have_no_duplicate_line(seed) -> None:
    claims = generate_claims(2000, seed)
    context = ctx()
    assert [f for claim in claims for f in no_duplicate_line(claim, context)] == []
    assert sum(len(c.service_lines) >= 2 for c in claims) > 500
