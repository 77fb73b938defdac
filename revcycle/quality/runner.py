"""Run the data-quality suites (``expectations/*.json``) over a batch of claims.

Each claim becomes one row of the ``claims`` frame and each of its service lines one row
of the ``service_lines`` frame. The frames hold what a biller checks before scrubbing
(codes, counts, amounts, dates) and no names, member ids or control numbers. Money is
turned into float here and only here: Great Expectations compares numbers, and nothing
computed from these frames flows back into the claims.

Great Expectations runs in an ephemeral context (nothing is written but the Data Docs),
and is imported inside :func:`validate_frames` only: the import alone takes seconds.

The suites hold row-level expectations only, each with ``meta.id`` (``DQ-CLM-01``) and
``meta.message`` (what a biller reads; shown as the expectation's note in Data Docs).
Date bounds are suite parameters (``{"$PARAMETER": "earliest_date"}``) whose ISO values
sit in the suite's ``meta.parameters``: they are handed to GX as ``datetime``, since GX
cannot compare a date column with a bound given as text.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from revcycle.model.claim import Claim

CLAIMS = "claims"
SERVICE_LINES = "service_lines"
_SITE = "revcycle_quality"
_EPOCH = date(1970, 1, 1).toordinal()
_NAT = np.iinfo(np.int64).min  # the int64 that numpy reads as NaT


class QualityError(RuntimeError):
    """The suites could not be run as written (bad suite file, or an expectation erred).

    Never raised for bad claim data: that is a finding. Messages name suites,
    expectation ids and columns only, never a value.
    """


@dataclass(frozen=True, slots=True)
class QualityFinding:
    """One expectation a claim (or one of its lines) did not meet."""

    expectation_id: str  # e.g. "DQ-CLM-05"
    message: str  # for the biller
    column: str  # column(s) checked, comma-separated for pair and compound checks
    line_number: int | None = None  # set for service-line findings


@dataclass(frozen=True, slots=True)
class SuiteStats:
    evaluated: int  # expectations evaluated
    successful: int  # expectations every row met


@dataclass(slots=True)
class QualityResult:
    failed: dict[int, list[QualityFinding]] = field(default_factory=dict)  # claim id -> findings
    evaluated: int = 0  # claims
    passed: int = 0  # claims with no finding
    suite_stats: dict[str, SuiteStats] = field(default_factory=dict)
    docs_index: Path | None = None  # Data Docs index.html under docs_dir


# ------------------------------------------------------------------ frames


def _dates(values: list[date | None]) -> np.ndarray:
    """Dates as ``datetime64[s]`` (NaT for missing); seconds keep years 1-9999 in range."""
    days = np.array([_NAT if d is None else d.toordinal() - _EPOCH for d in values],
                    dtype=np.int64)
    return days.view("datetime64[D]").astype("datetime64[s]")


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([None if v is None else float(v) for v in values], dtype=np.float64)


def claims_frame(items: Sequence[tuple[int, Claim]]) -> pd.DataFrame:
    """One row per claim, keyed by our database id ``claim_id``; no PHI but dates."""
    ids, types, pcn_lengths, charges, line_counts, dx_counts = [], [], [], [], [], []
    payers, npis, facilities, frequencies = [], [], [], []
    first_dates, last_dates, subscriber_births, patient_births, has_patient = [], [], [], [], []
    statement_from, statement_to = [], []
    for claim_id, c in items:
        ids.append(claim_id)
        types.append(str(c.claim_type) if c.claim_type else None)
        pcn_lengths.append(len(c.patient_control_number or ""))
        charges.append(c.total_charge)
        line_counts.append(len(c.service_lines))
        dx_counts.append(len(c.diagnoses))
        payers.append(c.payer.payer_id or None)
        npis.append(c.billing_provider.npi or None)
        facilities.append(c.facility_code or None)
        frequencies.append(c.frequency_code or None)
        starts = [ln.service_date for ln in c.service_lines if ln.service_date]
        ends = [ln.service_date_end or ln.service_date for ln in c.service_lines
                if ln.service_date]
        first_dates.append(min(starts) if starts else c.statement_from)
        last_dates.append(max(ends) if ends else c.statement_to)
        subscriber_births.append(c.subscriber.birth_date)
        patient_births.append(c.patient.birth_date if c.patient else None)
        has_patient.append(c.patient is not None)
        statement_from.append(c.statement_from)
        statement_to.append(c.statement_to)
    return pd.DataFrame({
        "claim_id": np.array(ids, dtype=np.int64),
        "claim_type": pd.Series(types, dtype=object),
        "patient_control_number_length": np.array(pcn_lengths, dtype=np.int64),
        "total_charge": _floats(charges),
        "line_count": np.array(line_counts, dtype=np.int64),
        "diagnosis_count": np.array(dx_counts, dtype=np.int64),
        "payer_id": pd.Series(payers, dtype=object),
        "billing_npi": pd.Series(npis, dtype=object),
        "facility_code": pd.Series(facilities, dtype=object),
        "frequency_code": pd.Series(frequencies, dtype=object),
        "service_date_from": _dates(first_dates),
        "service_date_to": _dates(last_dates),
        "subscriber_birth_date": _dates(subscriber_births),
        "patient_birth_date": _dates(patient_births),
        "has_patient": np.array(has_patient, dtype=bool),
        "statement_from": _dates(statement_from),
        "statement_to": _dates(statement_to),
    })


def lines_frame(items: Sequence[tuple[int, Claim]]) -> pd.DataFrame:
    """One row per service line, keyed by ``claim_id`` and 1-based ``line_number``."""
    ids, numbers, types, procedures, revenues, charges, units = [], [], [], [], [], [], []
    starts, ends, modifier_counts, pointer_counts = [], [], [], []
    for claim_id, c in items:
        claim_type = str(c.claim_type) if c.claim_type else None
        for number, ln in enumerate(c.service_lines, 1):
            ids.append(claim_id)
            numbers.append(number)
            types.append(claim_type)
            procedures.append(ln.procedure_code or None)
            revenues.append(ln.revenue_code or None)
            charges.append(ln.charge)
            units.append(ln.units)
            starts.append(ln.service_date)
            ends.append(ln.service_date_end)
            modifier_counts.append(len(ln.modifiers))
            pointer_counts.append(len(ln.diagnosis_pointers))
    return pd.DataFrame({
        "claim_id": np.array(ids, dtype=np.int64),
        "line_number": np.array(numbers, dtype=np.int64),
        "claim_type": pd.Series(types, dtype=object),
        "procedure_code": pd.Series(procedures, dtype=object),
        "revenue_code": pd.Series(revenues, dtype=object),
        "charge": _floats(charges),
        "units": _floats(units),
        "service_date": _dates(starts),
        "service_date_end": _dates(ends),
        "modifier_count": np.array(modifier_counts, dtype=np.int64),
        "pointer_count": np.array(pointer_counts, dtype=np.int64),
    })


# ------------------------------------------------------------------ validation


def run_quality(
    items: Sequence[tuple[int, Claim]], suites_dir: Path, docs_dir: Path | None = None
) -> QualityResult:
    """Validate ``(claim_id, claim)`` pairs with the suites in ``suites_dir``.

    Writes Data Docs under ``docs_dir`` when one is given. No claims: no GX at all.
    """
    if not items:
        return QualityResult()
    return validate_frames(claims_frame(items), lines_frame(items), suites_dir, docs_dir)


def validate_frames(
    claims: pd.DataFrame, lines: pd.DataFrame, suites_dir: Path, docs_dir: Path | None = None
) -> QualityResult:
    """Validate frames shaped like :func:`claims_frame` and :func:`lines_frame`."""
    if not claims["claim_id"].is_unique:
        raise ValueError("claim ids must be unique within a quality run")
    if claims.empty:
        return QualityResult()
    gx = _import_gx()
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(_SITE, {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=[_SITE]))
    source = context.data_sources.add_pandas("revcycle")

    result = QualityResult(evaluated=len(claims))
    findings: dict[int, dict[tuple[str, int | None], QualityFinding]] = {}
    for name, frame, keys in ((CLAIMS, claims, ["claim_id"]),
                              (SERVICE_LINES, lines, ["claim_id", "line_number"])):
        suite, parameters = _load_suite(gx, suites_dir / f"{name}.json")
        suite = context.suites.add(suite)
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=name, validation_definitions=[definition], actions=actions,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": keys,
                           "return_unexpected_index_query": False}))
        run = checkpoint.run(batch_parameters={"dataframe": frame},
                             expectation_parameters=parameters)
        for suite_result in run.run_results.values():
            stats = suite_result.statistics
            result.suite_stats[name] = SuiteStats(int(stats["evaluated_expectations"]),
                                                  int(stats["successful_expectations"]))
            for outcome in suite_result.results:
                if not outcome.success:
                    _collect(name, outcome, findings)
    result.failed = {
        claim_id: sorted(by_key.values(), key=lambda f: (f.expectation_id, f.line_number or 0))
        for claim_id, by_key in sorted(findings.items())
    }
    result.passed = result.evaluated - len(result.failed)
    if docs_dir is not None and (docs_dir / "index.html").is_file():
        result.docs_index = docs_dir / "index.html"
    return result


def _import_gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # no per-run chatter
    import great_expectations

    return great_expectations


def _load_suite(gx: Any, path: Path) -> tuple[Any, dict[str, Any]]:
    """The suite in ``path``, and its parameters (ISO dates as ``datetime``)."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(**definition)
    except (OSError, ValueError, TypeError) as exc:
        raise QualityError(f"cannot load the quality suite {path.name}: "
                           f"{type(exc).__name__}") from exc
    seen: set[str] = set()
    for expectation in suite.expectations:
        rule = expectation.meta.get("id") if expectation.meta else None
        if not rule or not expectation.meta.get("message") or rule in seen:
            raise QualityError(f"{path.name}: every expectation needs a unique meta.id and"
                               f" a meta.message ({expectation.expectation_type})")
        seen.add(rule)
        expectation.notes = expectation.notes or f"{rule}: {expectation.meta['message']}"
        if not isinstance(expectation, ColumnMapExpectation | ColumnPairMapExpectation
                          | MulticolumnMapExpectation):
            raise QualityError(f"{path.name}: {rule} is not a row-level expectation,"
                               " so its failures cannot be traced to claims")
    parameters: dict[str, Any] = {}
    for key, value in ((suite.meta or {}).get("parameters") or {}).items():
        try:
            parameters[key] = datetime.fromisoformat(value) if isinstance(value, str) else value
        except ValueError:
            parameters[key] = value
    return suite, parameters


def _collect(suite: str, outcome: Any,
             findings: dict[int, dict[tuple[str, int | None], QualityFinding]]) -> None:
    """Record a failed expectation against every claim whose row(s) it flagged."""
    config = outcome.expectation_config
    rule, message = config.meta["id"], config.meta["message"]
    if _raised(outcome.exception_info):
        raise QualityError(f"{suite}: expectation {rule} could not be evaluated")
    kwargs = config.kwargs
    columns = kwargs.get("column_list") or [
        kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    column = ",".join(columns)
    rows = (outcome.result or {}).get("unexpected_index_list")
    if rows is None:
        raise QualityError(f"{suite}: expectation {rule} failed without naming its rows")
    for row in rows:
        line = int(row["line_number"]) if suite == SERVICE_LINES else None
        finding = QualityFinding(rule, message, column, line)
        findings.setdefault(int(row["claim_id"]), {})[(rule, line)] = finding


def _raised(info: Any) -> bool:
    """Whether GX caught an exception: its info is flat, or keyed by metric."""
    if not isinstance(info, dict):
        return False
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
