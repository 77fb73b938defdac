"""The ``revcycle`` commands that need no orchestration: x12 inspect, db upgrade."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revcycle.cli import app
from revcycle.model.claim import Receiver, Submitter
from revcycle.simulator import generate_claims
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

runner = CliRunner()


@pytest.fixture
def claim_file(tmp_path: Path) -> tuple[Path, list]:
    claims = generate_claims(12, seed=5)
    professional = [c for c in claims if c.claim_type.value == "837P"]
    header = InterchangeHeader(Party("SENDER"), Party("RECEIVER"),
                               created=datetime(2026, 11, 2, 8, 0))
    written = write_837(professional, header, CounterControlNumbers(interchange=42),
                        Submitter("VENDOR", "V1"), Receiver("PAYER", "P1"))
    path = tmp_path / "claims.x12"
    path.write_text(written.text)
    return path, professional


def test_inspect_counts_without_claim_content(claim_file: tuple[Path, list]) -> None:
    path, claims = claim_file
    result = runner.invoke(app, ["x12", "inspect", str(path)])
    assert result.exit_code == 0
    assert "000000042" in result.output
    assert f"claims {len(claims)}" in result.output.replace("\n", " ")
    for claim in claims:  # names, member ids and control numbers stay out of the output
        assert claim.subscriber.last_name not in result.output
        assert claim.subscriber.member_id not in result.output
        assert claim.patient_control_number not in result.output


def test_inspect_json(claim_file: tuple[Path, list]) -> None:
    path, claims = claim_file
    result = runner.invoke(app, ["x12", "inspect", "--json", str(path)])
    assert result.exit_code == 0
    summary = json.loads(result.output)
    (transaction,) = summary["interchanges"][0]["groups"][0]["sets"]
    assert summary["readable"] is True and summary["defects"] == []
    assert transaction["claims"] == len(claims)
    assert transaction["service_lines"] == sum(len(c.service_lines) for c in claims)


def test_inspect_unreadable_file_exits_1_with_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.x12"
    path.write_text("ST*837*0001~NM1*IL*1*SECRETNAME~")
    result = runner.invoke(app, ["x12", "inspect", str(path)])
    assert result.exit_code == 1
    assert "X12DelimiterError" in result.output
    assert "SECRETNAME" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_db_upgrade_is_repeatable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from revcycle.settings import get_settings

    monkeypatch.setenv("REVCYCLE_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        for _ in range(2):
            result = runner.invoke(app, ["db", "upgrade"])
            assert result.exit_code == 0, result.output
        assert (tmp_path / "revcycle.db").is_file()
    finally:
        get_settings.cache_clear()
