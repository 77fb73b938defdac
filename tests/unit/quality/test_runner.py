"""The data-quality runner: clean claims pass, each injected problem fails the right rule."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from revcycle.model.claim import Claim, ClaimType
from revcycle.quality import (
    QualityError,
    QualityResult,
    claims_frame,
    lines_frame,
    run_quality,
    validate_frames,
)
from revcycle.simulator import generate

SUITES = Path(__file__).resolve().parents[3] / "expectations"
CLAIM_COLUMNS = [
    "claim_id", "claim_type", "patient_control_number_length", "total_charge", "line_count",
    "diagnosis_count", "payer_id", "billing_npi", "facility_code", "frequency_code",
    "service_date_from", "service_date_to", "subscriber_birth_date", "patient_birth_date",
    "has_patient", "statement_from", "statement_to",
]
LINE_COLUMNS = [
    "claim_id", "line_number", "claim_type", "procedure_code", "revenue_code", "charge",
    "units", "service_date", "service_date_end", "modifier_count", "pointer_count",
]
DAY = timedelta(days=1)

Expected = set[tuple[str, int | None]]


# ------------------------------------------------------------------ injected problems

def _pro(c: Claim) -> bool:
    return c.claim_type is ClaimType.PROFESSIONAL


def _inst(c: Claim) -> bool:
    return c.claim_type is ClaimType.INSTITUTIONAL


def _self(c: Claim) -> bool:
    return c.patient is None


def _dependent(c: Claim) -> bool:
    return c.patient is not None


def _any(c: Claim) -> bool:
    return True


def _line(c: Claim, **changes: object) -> None:
    c.service_lines[0] = dataclasses.replace(c.service_lines[0], **changes)


def _set(**changes: object) -> Callable[[Claim], None]:
    def apply(c: Claim) -> None:
        for name, value in changes.items():
            setattr(c, name, value)
    return apply


PROBLEMS: dict[str, tuple[Callable[[Claim], bool], Callable[[Claim], None], Expected]] = {
    "zero charge line": (_pro, lambda c: _line(c, charge=Decimal("0.00")), {("DQ-LIN-07", 1)}),
    "nine-digit NPI": (_any, lambda c: setattr(c.billing_provider, "npi",
                                               c.billing_provider.npi[:9]),
                       {("DQ-CLM-13", None)}),
    "subscriber born after service": (
        lambda c: _pro(c) and _self(c),
        lambda c: setattr(c.subscriber, "birth_date", c.service_date + DAY),
        {("DQ-CLM-25", None)}),
    "patient born after service": (
        _dependent, lambda c: setattr(c.patient, "birth_date", c.service_date + 3 * DAY),
        {("DQ-CLM-26", None)}),
    "frequency 5": (_any, _set(frequency_code="5"), {("DQ-CLM-17", None)}),
    "60 lines on an 837P": (
        _pro, lambda c: setattr(c, "service_lines", [dataclasses.replace(c.service_lines[0])
                                                     for _ in range(60)]),
        {("DQ-CLM-06", None)}),
    "13 diagnoses on an 837P": (_pro, _set(diagnoses=("R51",) * 13), {("DQ-CLM-08", None)}),
    "no procedure code": (_pro, lambda c: _line(c, procedure_code=""), {("DQ-LIN-02", 1)}),
    "lower-case procedure code": (_pro, lambda c: _line(c, procedure_code="j1100"),
                                  {("DQ-LIN-03", 1)}),
    "zero units": (_any, lambda c: _line(c, units=Decimal("0")), {("DQ-LIN-09", 1)}),
    "five modifiers": (_pro, lambda c: _line(c, modifiers=("25", "59", "LT", "RT", "26")),
                       {("DQ-LIN-14", 1)}),
    "no diagnosis pointer": (_pro, lambda c: _line(c, diagnosis_pointers=()),
                             {("DQ-LIN-15", 1)}),
    "line period reversed": (
        _pro, lambda c: _line(c, service_date_end=c.service_lines[0].service_date - DAY),
        {("DQ-LIN-13", 1)}),
    "837I without statement start": (_inst, _set(statement_from=None), {("DQ-CLM-27", None)}),
    "837I statement reversed": (
        _inst, lambda c: setattr(c, "statement_to", c.statement_from - DAY),
        {("DQ-CLM-31", None)}),
    "837I line without revenue code": (_inst, lambda c: _line(c, revenue_code=""),
                                       {("DQ-LIN-04", 1)}),
    "one-digit facility code": (_any, _set(facility_code="1"), {("DQ-CLM-15", None)}),
    "no payer id": (_any, lambda c: setattr(c.payer, "payer_id", ""), {("DQ-CLM-10", None)}),
    "zero total charge": (_any, _set(total_charge=Decimal("0.00")), {("DQ-CLM-05", None)}),
    "patient born 1850": (_dependent, lambda c: setattr(c.patient, "birth_date",
                                                        date(1850, 5, 1)),
                          {("DQ-CLM-24", None)}),
    "subscriber birth date missing": (lambda c: _pro(c) and _self(c),
                                      lambda c: setattr(c.subscriber, "birth_date", None),
                                      {("DQ-CLM-21", None)}),
    "837P without lines": (_pro, _set(service_lines=[]),
                           {("DQ-CLM-06", None), ("DQ-CLM-18", None)}),
    "unknown claim type": (_any, _set(claim_type="835"), {("DQ-CLM-02", None)}),
}


@pytest.fixture(scope="module")
def batch() -> tuple[list[tuple[int, Claim]], dict[int, Expected]]:
    """Synthetic claims under non-positional ids; one per problem broken, the rest clean."""
    claims = generate(120, seed=41).claims
    items = [(7000 + 3 * i, c) for i, c in enumerate(claims)]
    expected: dict[int, Expected] = {}
    for fits, breaks, findings in PROBLEMS.values():
        claim_id, claim = next((i, c) for i, c in items if i not in expected and fits(c))
        breaks(claim)
        expected[claim_id] = findings
    return items, expected


@pytest.fixture(scope="module")
def outcome(batch, tmp_path_factory) -> tuple[QualityResult, Path]:
    items, _ = batch
    docs = tmp_path_factory.mktemp("quality") / "docs"
    return run_quality(items, SUITES, docs), docs


# ------------------------------------------------------------------ results


def test_clean_claims_pass_and_each_problem_fails_its_rule(batch, outcome) -> None:
    items, expected = batch
    result, _ = outcome
    got = {claim_id: {(f.expectation_id, f.line_number) for f in findings}
           for claim_id, findings in result.failed.items()}
    assert got == expected
    assert result.evaluated == len(items)
    assert result.passed == len(items) - len(expected)


def test_findings_carry_message_and_column(outcome) -> None:
    result, _ = outcome
    findings = [f for fs in result.failed.values() for f in fs]
    assert all(f.message and f.message.endswith(".") for f in findings)
    by_id = {f.expectation_id: f for f in findings}
    assert by_id["DQ-CLM-13"].column == "billing_npi"
    assert by_id["DQ-CLM-13"].message == "Billing provider NPI must be exactly 10 digits."
    assert by_id["DQ-CLM-25"].column == "service_date_from,subscriber_birth_date"
    assert by_id["DQ-LIN-07"].column == "charge"


def test_suite_stats_count_expectations(outcome) -> None:
    result, _ = outcome
    sizes = {name: len(json.loads((SUITES / f"{name}.json").read_text())["expectations"])
             for name in ("claims", "service_lines")}
    assert {name: s.evaluated for name, s in result.suite_stats.items()} == sizes
    failed_rules = {f.expectation_id for fs in result.failed.values() for f in fs}
    clm = sum(r.startswith("DQ-CLM") for r in failed_rules)
    lin = sum(r.startswith("DQ-LIN") for r in failed_rules)
    assert result.suite_stats["claims"].successful == sizes["claims"] - clm
    assert result.suite_stats["service_lines"].successful == sizes["service_lines"] - lin


def test_data_docs_written(outcome) -> None:
    result, docs = outcome
    assert result.docs_index == docs / "index.html"
    assert result.docs_page is not None and result.docs_page.parent == docs
    index = result.docs_index.read_text(encoding="utf-8")
    assert f'href="{result.docs_page.name}"' in index and result.run_name in index
    page = result.docs_page.read_text(encoding="utf-8")
    assert "Billing provider NPI must be exactly 10 digits." in page
    assert "Data asset claims" in page and "Data asset service_lines" in page


def test_outcomes_name_failing_claims_by_id_only(batch, outcome) -> None:
    _, expected = batch
    result, _ = outcome
    by_rule: dict[str, set[int]] = {}
    for claim_id, findings in expected.items():
        for rule, _line in findings:
            by_rule.setdefault(rule, set()).add(claim_id)
    shown = {e.expectation_id: e for a in result.assets for e in a.expectations}
    assert {r for r, e in shown.items() if not e.success} == set(by_rule)
    for rule, claim_ids in by_rule.items():
        assert set(shown[rule].claim_ids) == claim_ids
        assert shown[rule].unexpected_count >= len(claim_ids)
    assert all(not e.claim_ids for e in shown.values() if e.success)
    assert [a.asset for a in result.assets] == ["claims", "service_lines"]


# ------------------------------------------------------------------ suites


def _referenced_columns(kwargs: dict) -> set[str]:
    names = set(kwargs.get("column_list", []))
    names.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
    if "row_condition" in kwargs:
        names.add(kwargs["row_condition"]["column"]["name"])
    return names


@pytest.mark.parametrize(("name", "prefix", "columns"), [
    ("claims", "DQ-CLM", CLAIM_COLUMNS), ("service_lines", "DQ-LIN", LINE_COLUMNS)])
def test_suites_are_gx_json_with_ids_and_messages(name, prefix, columns) -> None:
    import great_expectations as gx

    definition = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    gx.get_context(mode="ephemeral")
    suite = gx.ExpectationSuite(**definition)
    assert suite.name == name
    assert len(suite.expectations) == len(definition["expectations"]) >= 15
    ids = [e["meta"]["id"] for e in definition["expectations"]]
    assert ids == [f"{prefix}-{n:02d}" for n in range(1, len(ids) + 1)]
    assert all(e["meta"]["message"] for e in definition["expectations"])
    for e in definition["expectations"]:
        assert _referenced_columns(e["kwargs"]) <= set(columns), e["meta"]["id"]


def _suites(tmp_path: Path, claims: list[dict], lines: list[dict]) -> Path:
    """A suites folder holding just these expectations (a small, fast GX run)."""
    folder = tmp_path / "suites"
    folder.mkdir()
    for name, expectations in (("claims", claims), ("service_lines", lines)):
        (folder / f"{name}.json").write_text(json.dumps({"name": name,
                                                         "expectations": expectations}))
    return folder


def _real(name: str, rule: str) -> dict:
    definition = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    return next(e for e in definition["expectations"] if e["meta"]["id"] == rule)


def test_duplicate_line_number_fails_its_claim(tmp_path) -> None:
    # Line numbers come from positions in the model, so only a frame from elsewhere
    # (a database table, say) can repeat one: validate such a frame directly.
    items = [(11 + i, c) for i, c in enumerate(generate(4, seed=2).claims)]
    lines = lines_frame(items)
    lines = pd.concat([lines, lines[lines["claim_id"] == 12].head(1)], ignore_index=True)
    suites = _suites(tmp_path, [], [_real("service_lines", "DQ-LIN-01")])
    result = validate_frames(claims_frame(items), lines, suites)
    assert {k: [(f.expectation_id, f.line_number) for f in v]
            for k, v in result.failed.items()} == {12: [("DQ-LIN-01", 1)]}
    assert result.passed == 3
    assert result.docs_index is None


@pytest.mark.parametrize(("expectation", "reason"), [
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "claim_type"},
      "meta": {"message": "no id"}}, "unique meta.id"),
    ({"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
      "meta": {"id": "DQ-X-01", "message": "table level"}}, "DQ-X-01 is not a row-level"),
])
def test_suite_that_cannot_name_claims_is_refused(tmp_path, expectation, reason) -> None:
    items = [(1, generate(1, seed=3).claims[0])]
    with pytest.raises(QualityError, match=reason):
        run_quality(items, _suites(tmp_path, [expectation], []))


def test_expectation_that_errs_raises_without_values(tmp_path) -> None:
    # A text date bound makes GX fail inside the metric: that is not a data finding.
    text_bound = {"type": "expect_column_values_to_be_between",
                  "kwargs": {"column": "service_date_from", "min_value": "1900-01-01"},
                  "meta": {"id": "DQ-X-02", "message": "text bound"}}
    items = [(1, generate(1, seed=3).claims[0])]
    with pytest.raises(QualityError, match="DQ-X-02") as caught:
        run_quality(items, _suites(tmp_path, [text_bound], []))
    assert not re.search(r"\d{4}-\d{2}-\d{2}", str(caught.value))


# ------------------------------------------------------------------ frames and edges


def test_frames_hold_no_phi(batch) -> None:
    items, _ = batch
    claims, lines = claims_frame(items), lines_frame(items)
    assert list(claims.columns) == CLAIM_COLUMNS
    assert list(lines.columns) == LINE_COLUMNS
    assert len(lines) == sum(len(c.service_lines) for _, c in items)
    secrets = set()
    for _, c in items:
        secrets |= {c.patient_control_number, c.subscriber.member_id, c.subscriber.last_name,
                    c.subscriber.first_name}
        if c.patient:
            secrets |= {c.patient.last_name, c.patient.first_name}
    cells = {v for frame in (claims, lines) for col in frame.select_dtypes(object)
             for v in frame[col].dropna()}
    assert not cells & secrets
    assert str(claims["service_date_from"].dtype).startswith("datetime64")
    assert claims["total_charge"].dtype == "float64"


def test_frames_keep_out_of_range_dates() -> None:
    claim = generate(1, seed=4, claim_type=ClaimType.PROFESSIONAL).claims[0]
    claim.subscriber.birth_date = date(1066, 10, 14)
    frame = claims_frame([(5, claim)])
    assert frame.loc[0, "subscriber_birth_date"] == pd.Timestamp(1066, 10, 14)
    assert pd.isna(frame.loc[0, "statement_from"])


def test_empty_batch_does_not_touch_gx(tmp_path) -> None:
    result = run_quality([], tmp_path / "no-suites", tmp_path / "docs")
    assert result == QualityResult()
    assert not (tmp_path / "docs").exists()


def test_duplicate_claim_ids_are_refused() -> None:
    a, b = generate(2, seed=5).claims
    with pytest.raises(ValueError, match="unique"):
        run_quality([(1, a), (1, b)], SUITES)


def test_importing_the_runner_does_not_import_gx() -> None:
    code = ("import sys, revcycle.quality; "
            "sys.exit('great_expectations' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
