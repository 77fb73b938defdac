"""What ``revcycle demo`` and ``revcycle run`` print: this run's steps, then the day."""

from __future__ import annotations

import pytest

from flows.summary import print_run, stage_lines

REPORT = {
    "files": {"ingested": 6, "quarantined": 1},
    "claims": {"in": 3, "by_status": {"PAID": 2, "REJECTED": 1}, "adjudicated": 2},
    "dollars": {"billed": "1300.00", "paid": "150.00", "adjusted": "100.00",
                "patient_responsibility": "50.00"},
    "top_edits": [{"rule": "NPI-01", "stage": "scrub", "claims": 1, "held": "100.00"}],
    "top_denial_reasons": [{"carc": "CO-50", "count": 1, "amount": "80.00"}],
    "remittances": {"POSTED": 36},
    "posting": {"claim_payments": "1234.50", "auto_posted": "1200.00",
                "auto_post_rate": 0.9721, "posted_by_hand": "0.00", "exceptions": 1,
                "open_exceptions": 1, "unapplied": "34.50"},
}


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


def test_the_summary_formats_dollars_and_names_failed_steps(
        capsys: pytest.CaptureFixture[str]) -> None:
    print_run({"business_date": "2026-11-02", "report": REPORT, "stages": {
        "scrub": [{"step": "scrub · lakeview", "state": "Failed",
                   "reason": "StageFailed: UnicodeEncodeError at revcycle/x.py:3"}],
        "submit": [{"step": "submit · lakeview · SIMA1", "state": "not run",
                    "reason": "a step it needs did not finish"}]}})
    out = capsys.readouterr().out
    for text in ("2026-11-02", "PAID", "REJECTED", "$1,300.00", "NPI-01", "CO-50",
                 "$80.00", "files quarantined: 1", "remittances: posted 36",
                 "claim payments $1,234.50", "auto-posted 97.2%",
                 "posting exceptions: 1 (1 open, $34.50 unapplied)",
                 "scrub · lakeview: Failed", "submit · lakeview · SIMA1: not run"):
        assert text in out, text
    assert "{'" not in out  # no dict reprs
