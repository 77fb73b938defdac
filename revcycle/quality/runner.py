"""Run the data-quality suites (``expectations/*.json``) over a batch of claims.

Each claim becomes one row of the ``claims`` frame and each of its service lines one row
of the ``service_lines`` frame. The frames hold what a biller checks before scrubbing
(codes, counts, amounts, dates) and no names, member ids or control numbers. Money is
turned into float here and only here: Great Expectations compares numbers, and nothing
computed from these frames flows back into the claims.

Great Expectations runs in an ephemeral context (nothing is written to disk; no GX docs
site either), and is imported inside :func:`validate_frames` only: the import alone takes
seconds. Results are asked for without unexpected values (``exclude_unexpected_values``):
a failed expectation names its rows by our ``claim_id`` (and ``line_number``) only, so no
birth date or other value leaves GX. What a run found is kept as :class:`AssetOutcome`
records (counts, the suite's own settings, claim ids), from which
:mod:`revcycle.quality.docs` writes the Data Docs.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from revcycle.model.claim import Claim

CLAIMS = "claims"
SERVICE_LINES = "service_lines"
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


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    """One expectation of a run, as the Data Docs show it: no value of the data in it."""

    expectation_id: str  # meta.id, e.g. "DQ-CLM-05"
    expectation_type: str  # e.g. "expect_column_values_to_not_be_null"
    message: str  # meta.message
    columns: tuple[str, ...]
    settings: tuple[tuple[str, str], ...]  # the suite's other kwargs, as JSON text
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    claim_ids: tuple[int, ...] = ()  # claims with a failing row (failures only)


@dataclass(frozen=True, slots=True)
class AssetOutcome:
    """One data asset (``claims``, ``service_lines``) validated against its suite."""

    asset: str
    suite: str
    rows: int
    stats: SuiteStats
    expectations: tuple[ExpectationOutcome, ...]


@dataclass(slots=True)
class QualityResult:
    failed: dict[int, list[QualityFinding]] = field(default_factory=dict)  # claim id -> findings
    evaluated: int = 0  # claims
    passed: int = 0  # claims with no finding
    suite_stats: dict[str, SuiteStats] = field(default_factory=dict)
    docs_index: Path | None = None  # Data Docs index.html under docs_dir
    docs_page: Path | None = None  # this run's page under docs_dir
    run_name: str = ""  # "<batch>-<yyyymmddThhmmssmmmZ>"
    run_time: datetime | None = None  # UTC
    assets: list[AssetOutcome] = field(default_factory=list)


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
    items: Sequence[tuple[int, Claim]], suites_dir: Path, docs_dir: Path | None = None,
    *, batch: str = "",
) -> QualityResult:
    """Validate ``(claim_id, claim)`` pairs with the suites in ``suites_dir``.

    Writes Data Docs under ``docs_dir`` when one is given (see :mod:`revcycle.quality.docs`);
    ``batch`` names the run. No claims: no GX at all.
    """
    if not items:
        return QualityResult()
    return validate_frames(claims_frame(items), lines_frame(items), suites_dir, docs_dir,
                           batch=batch)


def validate_frames(
    claims: pd.DataFrame, lines: pd.DataFrame, suites_dir: Path, docs_dir: Path | None = None,
    *, batch: str = "",
) -> QualityResult:
    """Validate frames shaped like :func:`claims_frame` and :func:`lines_frame`."""
    if not claims["claim_id"].is_unique:
        raise ValueError("claim ids must be unique within a quality run")
    if claims.empty:
        return QualityResult()
    gx = _import_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    context = _ephemeral_context(gx)
    source = context.data_sources.add_pandas("revcycle")
    run_time = datetime.now(UTC)
    result = QualityResult(evaluated=len(claims), run_time=run_time,
                           run_name=f"{batch or 'quality'}-{run_stamp(run_time)}")
    run_id = RunIdentifier(run_name=result.run_name, run_time=run_time)
    findings: dict[int, dict[tuple[str, int | None], QualityFinding]] = {}
    for name, frame, keys in ((CLAIMS, claims, ["claim_id"]),
                              (SERVICE_LINES, lines, ["claim_id", "line_number"])):
        suite, parameters = _load_suite(gx, suites_dir / f"{name}.json")
        settings = _settings(suite)
        suite = context.suites.add(suite)
        data = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=data, suite=suite))
        run = definition.run(
            batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
            run_id=run_id, result_format={
                "result_format": "COMPLETE", "unexpected_index_column_names": keys,
                "return_unexpected_index_query": False, "exclude_unexpected_values": True,
                "partial_unexpected_count": 0})
        stats = SuiteStats(int(run.statistics["evaluated_expectations"]),
                           int(run.statistics["successful_expectations"]))
        result.suite_stats[name] = stats
        outcomes = tuple(_outcome(name, o, settings, findings) for o in run.results)
        result.assets.append(AssetOutcome(name, suite.name, len(frame), stats, outcomes))
    result.failed = {
        claim_id: sorted(by_key.values(), key=lambda f: (f.expectation_id, f.line_number or 0))
        for claim_id, by_key in sorted(findings.items())
    }
    result.passed = result.evaluated - len(result.failed)
    if docs_dir is not None:
        from revcycle.quality.docs import write_docs

        result.docs_page, result.docs_index = write_docs(result, docs_dir)
    return result


def run_stamp(moment: datetime) -> str:
    """``20260102T060000123Z``: a run's time as a file name takes it (UTC, milliseconds)."""
    return f"{moment:%Y%m%dT%H%M%S}{moment.microsecond // 1000:03d}Z"


def _import_gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    _quiet_gx_loggers()
    return great_expectations


def _quiet_gx_loggers() -> None:
    """GX's loggers say warnings and errors only. Some GX modules set their own logger to
    INFO when imported (``Created temporary directory ...``), which a root handler such
    as Prefect's console prints: raise those to WARNING, leaving higher levels as set."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (name.startswith("great_expectations.") and isinstance(logger, logging.Logger)
                and logger.level != logging.NOTSET and logger.level < logging.WARNING):
            logger.setLevel(logging.WARNING)


def _ephemeral_context(gx: Any) -> Any:
    """An in-memory context with no docs site (GX would make a temporary folder for one),
    no progress bars and no analytics."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False), analytics_enabled=False)
    context = gx.get_context(mode="ephemeral", project_config=config)
    _quiet_gx_loggers()  # modules imported by get_context
    return context


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


_COLUMN_KWARGS = ("column", "column_A", "column_B")
_NOT_SETTINGS = frozenset({*_COLUMN_KWARGS, "column_list", "batch_id", "result_format",
                           "catch_exceptions", "meta", "notes"})


def _outcome(suite: str, outcome: Any, settings: dict[str, dict[str, Any]],
             findings: dict[int, dict[tuple[str, int | None], QualityFinding]]
             ) -> ExpectationOutcome:
    """What the docs show of one expectation's result; a failure's rows go to ``findings``.

    ``settings`` are the suite's kwargs per expectation id, as written in the suite file
    (parameters unresolved): they are shown instead of what GX echoes back.
    """
    config = outcome.expectation_config
    rule = config.meta["id"]
    if _raised(outcome.exception_info):
        raise QualityError(f"{suite}: expectation {rule} could not be evaluated")
    kwargs = config.kwargs
    columns = tuple(kwargs.get("column_list") or [
        kwargs[k] for k in _COLUMN_KWARGS if kwargs.get(k)])
    claim_ids: tuple[int, ...] = ()
    if not outcome.success:
        claim_ids = _collect(suite, rule, config.meta["message"], ",".join(columns),
                             outcome.result or {}, findings)
    stats = outcome.result or {}
    shown = sorted((k, v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str))
                   for k, v in settings.get(rule, {}).items() if k not in _NOT_SETTINGS)
    percent = stats.get("unexpected_percent")
    return ExpectationOutcome(
        rule, str(config.type), config.meta["message"], columns, tuple(shown),
        bool(outcome.success), _int_or_none(stats.get("element_count")),
        _int_or_none(stats.get("unexpected_count")),
        None if percent is None else float(percent), claim_ids)


def _settings(suite: Any) -> dict[str, dict[str, Any]]:
    """Each expectation's kwargs as the suite file writes them, a suite parameter shown as
    ``$name (value)``: configuration, never data."""
    values = (suite.meta or {}).get("parameters") or {}
    settings = {}
    for expectation in suite.expectations:
        kwargs = dict(expectation.configuration.kwargs)
        for key, value in kwargs.items():
            if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
                name = value["$PARAMETER"]
                kwargs[key] = f"${name} ({values.get(name, 'unset')})"
        settings[expectation.meta["id"]] = kwargs
    return settings


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _collect(suite: str, rule: str, message: str, column: str, result: dict[str, Any],
             findings: dict[int, dict[tuple[str, int | None], QualityFinding]]
             ) -> tuple[int, ...]:
    """Record a failed expectation against every claim whose row(s) it flagged; return
    those claims' ids."""
    rows = result.get("unexpected_index_list")
    if rows is None:
        raise QualityError(f"{suite}: expectation {rule} failed without naming its rows")
    claim_ids: set[int] = set()
    for claim_id, line in _row_keys(rows, suite == SERVICE_LINES):
        finding = QualityFinding(rule, message, column, line)
        findings.setdefault(claim_id, {})[(rule, line)] = finding
        claim_ids.add(claim_id)
    return tuple(sorted(claim_ids))


def _row_keys(rows: list[dict[str, Any]], lines: bool) -> Iterator[tuple[int, int | None]]:
    """``(claim_id, line_number)`` of each flagged row. Without unexpected values GX gives
    one dict of id columns (``{"claim_id": [...], "line_number": [...]}``); with them, one
    dict per row: both are read."""
    for row in rows:
        ids = row["claim_id"]
        if isinstance(ids, list):
            numbers = row["line_number"] if lines else [None] * len(ids)
            for claim_id, number in zip(ids, numbers, strict=True):
                yield int(claim_id), None if number is None else int(number)
        else:
            yield int(ids), int(row["line_number"]) if lines else None


def _raised(info: Any) -> bool:
    """Whether GX caught an exception: its info is flat, or keyed by metric."""
    if not isinstance(info, dict):
        return False
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
