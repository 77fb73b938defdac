"""The demo's summary, as printed and as JSON, from a day's stage results and report."""

from __future__ import annotations

from flows.cli import _print_summary, _stage_totals


def test_stage_totals_add_up_counts_per_stage() -> None:
    totals = _stage_totals({"ingest": [{"batch": "a-20261102", "files": 2, "claims": 10},
                                       {"batch": "b-20261102", "files": 1, "claims": 5}],
                            "post": [{"paid": "12.50", "remittances": 3}]})
    assert totals == {"stages": {"ingest": {"files": 3, "claims": 15},
                                 "post": {"remittances": 3}}}


def test_summary_prints_every_section(capsys) -> None:
    report = {
        "files": {"ingested": 6, "quarantined": 1},
        "claims": {"in": 3, "by_status": {"PAID": 2, "REJECTED": 1}, "adjudicated": 2},
        "dollars": {"billed": "300.00", "paid": "150.00", "adjusted": "100.00",
                    "patient_responsibility": "50.00"},
        "top_edits": [{"rule": "NPI-01", "stage": "scrub", "claims": 1, "held": "100.00"}],
        "top_denial_reasons": [{"carc": "CO-50", "count": 1, "amount": "80.00"}],
        "remittances": {"POSTED": 1},
        "posting": {"claim_payments": "1234.50", "auto_posted": "1200.00",
                    "auto_post_rate": 0.9721, "posted_by_hand": "0.00", "exceptions": 1,
                    "open_exceptions": 1, "unapplied": "34.50"},
    }
    _print_summary({"business_date": "2026-11-02", "tenants": ["a"], "files_dropped": 7,
                    "claims_generated": 3, "seeded_defects": 1,
                    "stages": {"ingest": {"files": 6}}, "report": report})
    out = capsys.readouterr().out
    for text in ("2026-11-02", "PAID", "REJECTED", "$300.00", "NPI-01", "CO-50",
                 "files quarantined: 1", "claim payments $1,234.50", "auto-posted 97.21%",
                 "posting exceptions: 1 (1 open, $34.50 unapplied)"):
        assert text in out
