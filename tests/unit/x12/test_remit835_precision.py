"""Amounts with more than two decimals in an 835: read (pyx12 accepts them), then named by
``excess_precision`` so posting holds the remittance instead of rounding it into the books."""

from __future__ import annotations

from decimal import Decimal

import pytest

from revcycle.model.remittance import (
    Adjustment,
    ProviderAdjustment,
    Remittance,
    balance_problems,
    excess_precision,
)
from tests.unit.x12.test_remit835 import _with_element, build_remittance, remittances, write
from tests.x12_validation import pyx12_errors

ODD = "100.005"


def test_pyx12_accepts_three_decimals_so_the_reader_reads_them() -> None:
    text = _with_element("CLP", 3, ODD)
    assert pyx12_errors(text) == []  # the TR3 validator's verdict: a valid 835
    (remit,) = remittances(text)
    assert remit.claims[0].charge == Decimal(ODD)  # read exactly, not rounded


@pytest.mark.parametrize(("tag", "position", "where", "element"), [
    ("BPR", 2, "transaction", "BPR02"),
    ("CLP", 3, "claims[0]", "CLP03"),
    ("CLP", 4, "claims[0]", "CLP04"),
    ("CLP", 5, "claims[0]", "CLP05"),
    ("SVC", 2, "claims[0].service_payments[0]", "SVC02"),
    ("SVC", 3, "claims[0].service_payments[0]", "SVC03"),
    ("CAS", 3, "claims[0].service_payments[0].adjustments[0]", "CAS amount"),
    ("AMT", 2, "claims[0].service_payments[0]", "AMT02 (AMT*B6)"),
    ("PLB", 4, "provider_adjustments[0]", "PLB amount"),
])
def test_each_amount_is_named_with_its_place_never_its_value(
        tag: str, position: int, where: str, element: str) -> None:
    (remit,) = remittances(_with_element(tag, position, ODD))
    problems = excess_precision(remit)
    assert len(problems) == 1
    (problem,) = problems
    assert problem.startswith(where + " ") or problem.startswith(where + ":")
    assert element in problem and "more than two decimals" in problem
    assert ODD not in problem and "005" not in problem
    if where.startswith("claims[0]"):  # the CLP's segment number locates it in the file
        assert f"CLP at segment {remit.claims[0].segment_number}" in problem


def test_a_valid_remittance_and_trailing_zeros_have_no_problem() -> None:
    assert excess_precision(build_remittance(3)) == []
    (remit,) = remittances(_with_element("CLP", 3, "100.5000"))
    assert excess_precision(remit) == []  # whole cents: nothing would be rounded


def test_quantities_and_weights_may_have_more_decimals() -> None:
    remit = build_remittance(1)
    claim = remit.claims[0]
    claim.drg_weight, claim.discharge_fraction = Decimal("1.2345"), Decimal("0.125")
    claim.service_payments[0].units_paid = Decimal("1.125")
    claim.service_payments[0].adjustments[0].quantity = Decimal("0.333")
    assert excess_precision(remit) == []


def test_kept_amt_segments_and_claim_level_amounts_are_checked() -> None:
    remit = build_remittance(1)
    claim = remit.claims[1]
    claim.other_segments = (*claim.other_segments, ("AMT", "I", "1.001"))
    claim.adjustments.append(Adjustment("CO", "45", Decimal("0.001")))
    claim.coverage_amount = Decimal("9.999")
    problems = excess_precision(remit)
    assert [p.split(":")[0] for p in problems] == ["claims[1].adjustments[0]", "claims[1]",
                                                   "claims[1]"]
    assert any("AMT02 (AMT*AU)" in p for p in problems)
    assert any("AMT02 (AMT*I)" in p for p in problems)


def test_a_built_remittance_without_positions_still_names_its_place() -> None:
    remit = build_remittance(2)
    remit.total_paid += Decimal("0.004")
    remit.provider_adjustments.append(
        ProviderAdjustment("1234567893", remit.provider_adjustments[0].fiscal_period_end,
                           "L6", Decimal("-0.004")))
    assert balance_problems(remit) == []  # the two cancel: balancing cannot see them
    assert excess_precision(remit) == [
        "transaction: BPR02 has more than two decimals",
        "provider_adjustments[3]: a PLB amount has more than two decimals",
    ]


def test_one_written_file_round_trips_the_odd_amount_for_the_record() -> None:
    remit: Remittance = build_remittance(4)
    remit.claims[0].service_payments[0].allowed_amount = Decimal("10.125")
    (again,) = remittances(write([remit]))
    assert again.claims[0].service_payments[0].allowed_amount == Decimal("10.125")
    assert len(excess_precision(again)) == 1
