"""What ``revcycle demo`` and ``revcycle run`` print: this run's steps, then the day."""

from __future__ import annotations

import pytest

from flows.summary import print_run, stage_lines
from revcycle.pipeline.report import build_day_report
from revcycle.pipeline.resources import Resources
from tests.unit.pipeline.conftest import DAY, res  # noqa: F401  (fixture)


def test_stage_lines_say_what_ran_and_what_it_did() -> None:
    lines = stage_lines({
        "ingest": [{"step": "ingest · a", "state": "Completed", "claims": 10, "files": 2,
                    "duplicates": 0, "quarantined": 1},
                   {"step": "ingest · b", "state": "Completed", "claims": 5, "files": 1,
                    "duplicates": 3, "quarantined": 0}],
        "quality": [{"step": "quality · a", "state": "Cached", "validated": 10, "failed": 0}],
        "submit": [{"step": "submit · a · P", "state": "Failed", "reason": "StageFailed"},
                   {"step": "submit · b · P", "state": "Completed", "claims": 0, "sent": 0}],
    })
    assert lines == [
        ("ingest", "completed 2", "claims 15, new files 3, already ingested 3,"
                                  " quarantined 1"),
        ("quality", "cached 1", "nothing new: done by an earlier run"),
        ("submit", "failed 1, completed 1", "nothing new"),
    ]


def test_the_summary_names_failed_steps_then_prints_the_day(
        res: Resources, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    with res.sessions() as session:
        report = build_day_report(session, DAY, ["lakeview"])
    print_run({"business_date": "2026-11-02", "report": report, "stages": {
        "scrub": [{"step": "scrub · lakeview", "state": "Failed",
                   "reason": "StageFailed: UnicodeEncodeError at revcycle/x.py:3"}],
        "submit": [{"step": "submit · lakeview · SIMA1", "state": "not run",
                    "reason": "a step it needs did not finish"}]}})
    out = capsys.readouterr().out
    for text in ("this run, business day 2026-11-02", "failed 1", "not run 1",
                 "scrub · lakeview: Failed StageFailed: UnicodeEncodeError",
                 "submit · lakeview · SIMA1: not run", "Revenue cycle 2026-11-02: lakeview",
                 "claims by status", "$0.00", "what needs a person"):
        assert text in out, text
    assert "{'" not in out  # no dict reprs
