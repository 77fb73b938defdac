"""Data Docs: pages that open offline, name the run and its assets, and hold no values."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from revcycle.model.claim import Claim
from revcycle.quality import QualityResult, run_quality
from revcycle.quality.docs import read_summaries, render_index
from revcycle.simulator import generate

SUITES = Path(__file__).resolve().parents[3] / "expectations"
DAY = timedelta(days=1)


def _items() -> list[tuple[int, Claim]]:
    """Synthetic claims, three of them failing on dates (the values must not be shown)."""
    items = [(500 + 7 * i, c) for i, c in enumerate(generate(30, seed=11).claims)]
    selfs = [c for _, c in items if c.patient is None]
    selfs[0].subscriber.birth_date = selfs[0].service_date + 2 * DAY
    selfs[1].subscriber.birth_date = date(1850, 3, 4)
    dependent = next(c for _, c in items if c.patient is not None)
    dependent.patient.birth_date = dependent.service_date + 5 * DAY
    return items


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[list[tuple[int, Claim]], QualityResult, Path]:
    items = _items()
    docs = tmp_path_factory.mktemp("docs")
    return items, run_quality(items, SUITES, docs, batch="acme-20260105"), docs


def _dates(items: list[tuple[int, Claim]]) -> set[date]:
    found: set[date] = set()
    for _, c in items:
        people = [c.subscriber, *([c.patient] if c.patient else [])]
        found |= {p.birth_date for p in people if p.birth_date}
        found |= {d for d in (c.statement_from, c.statement_to) if d}
        for ln in c.service_lines:
            found |= {d for d in (ln.service_date, ln.service_date_end) if d}
    return found


def _pages(docs: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in docs.iterdir()}


def test_pages_are_self_contained(run) -> None:
    _, result, docs = run
    assert result.docs_index and result.docs_page
    for name, text in _pages(docs).items():
        if not name.endswith(".html"):
            continue
        assert text.startswith("<!DOCTYPE html>")
        assert "<style>" in text, name
        lowered = text.lower()
        for outside in ("http:", "https:", "src=\"//", "href=\"//", "<script", "<link",
                        "@import", "url("):
            assert outside not in lowered, (name, outside)


def test_no_value_of_the_claims_reaches_the_docs(run) -> None:
    items, result, docs = run
    assert {e.expectation_id for a in result.assets for e in a.expectations
            if not e.success} >= {"DQ-CLM-22", "DQ-CLM-25", "DQ-CLM-26"}
    text = "\n".join(_pages(docs).values())
    for day in _dates(items):
        for shown in (day.isoformat(), f"{day:%Y%m%d}", f"{day:%m/%d/%Y}", f"{day:%m-%d-%Y}"):
            assert shown not in text
    secrets = {c.patient_control_number for _, c in items}
    secrets |= {c.subscriber.member_id for _, c in items}
    secrets |= {c.subscriber.last_name for _, c in items}
    assert not {s for s in secrets if s and s in text}
    assert "1850" not in text


def test_run_page_names_run_assets_suites_and_failing_claims(run) -> None:
    _, result, _ = run
    page = result.docs_page.read_text(encoding="utf-8")
    assert result.run_name.startswith("acme-20260105-")
    assert result.run_name in page
    assert result.run_time is not None
    assert result.run_time.strftime("%Y-%m-%d %H:%M:%S UTC") in page
    for asset in ("claims", "service_lines"):
        assert f"Data asset {asset}</h2>" in page
        assert f"Suite <code>{asset}</code>" in page
    failed = {e.expectation_id: e for a in result.assets for e in a.expectations
              if not e.success}
    row = re.search(r"<b>DQ-CLM-25</b>.*?</tr>", page, re.S).group(0)
    assert "not met" in row and "expect_column_pair_values_a_to_be_greater_than_b" in row
    assert ", ".join(map(str, failed["DQ-CLM-25"].claim_ids)) in row
    clean = re.search(r"<b>DQ-CLM-13</b>.*?</tr>", page, re.S).group(0)
    assert "met" in clean and "<details>" not in clean
    assert "$earliest_date (1900-01-01)" in page  # a suite parameter, as configured


def test_index_lists_every_run_in_the_folder_newest_first(run, tmp_path) -> None:
    items, first, docs = run
    for path in docs.glob("run-*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    second = run_quality(items[:5], SUITES, tmp_path, batch="acme-20260105")
    index = second.docs_index.read_text(encoding="utf-8")
    assert index.index(second.docs_page.name) < index.index(first.docs_page.name)
    summaries = read_summaries(tmp_path)
    assert [s["claims"] for s in summaries] == [5, len(items)]


def test_a_summary_with_a_strange_page_is_left_out(tmp_path) -> None:
    (tmp_path / "run-x.json").write_text(json.dumps(
        {"page": "javascript:alert(1)", "run_name": "x", "run_time": "2026"}))
    (tmp_path / "run-y.json").write_text("not json")
    assert read_summaries(tmp_path) == []
    assert "No runs yet" in render_index([])


def test_a_quality_run_says_nothing_on_stdout_or_stderr(capfd) -> None:
    # As under Prefect: a root handler that prints every record it gets. GX sets one of
    # its module loggers to INFO when imported; put it back as a fresh import leaves it.
    chatty = logging.getLogger("great_expectations.data_context.types.base")
    chatty.setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setLevel(logging.NOTSET)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        capfd.readouterr()
        result = run_quality(_items()[:8], SUITES, batch="quiet-1")
        out, err = capfd.readouterr()
        assert result.evaluated == 8
        assert "Created temporary directory" not in out + err
        assert out == "" and err == ""
        chatty.warning("a real GX warning is still shown")
        assert "a real GX warning is still shown" in capfd.readouterr().err
    finally:
        root.removeHandler(handler)
