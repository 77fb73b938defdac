"""``revcycle codesets load`` and ``revcycle codesets list`` on synthetic CMS-layout files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revcycle.cli import app
from revcycle.settings import get_settings
from tests.unit.codesets.test_loaders import hcpcs_file, hcpcs_record, mue_file, ptp_file

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh installation (SQLite in tmp_path) for each test."""
    monkeypatch.setenv("REVCYCLE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REVCYCLE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def listed() -> list[dict]:
    result = runner.invoke(app, ["codesets", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["loads"]


def test_nothing_loaded_says_which_rules_do_not_run() -> None:
    result = runner.invoke(app, ["codesets", "list"])
    assert result.exit_code == 0
    assert "no reference table is loaded" in result.output
    assert "PROC-02" in result.output and "NCCI-01" in result.output
    assert listed() == []


def test_load_each_kind_then_list(tmp_path: Path) -> None:
    hcpcs = hcpcs_file(tmp_path / "HCPC2026_JUL_ANWEB.txt", hcpcs_record("Z9991"),
                       hcpcs_record("Z9992"))
    ptp = ptp_file(tmp_path / "edits.txt", "0001F\t0002F\t\t20200101\t*\t1\tx")
    mue = mue_file(tmp_path / "mue.csv", "Practitioner", "Z9991,2,1 Line Edit,x")

    result = runner.invoke(app, ["codesets", "load", "hcpcs", str(hcpcs)])
    assert result.exit_code == 0, result.output
    assert "loaded hcpcs release HCPC2026_JUL_ANWEB: 2 rows" in result.output
    result = runner.invoke(app, ["codesets", "load", "ncci-ptp", str(ptp),
                                 "--claim-type", "institutional", "--release", "2026Q3"])
    assert result.exit_code == 0, result.output
    assert "loaded ncci_ptp (institutional) release 2026Q3: 1 rows" in result.output
    result = runner.invoke(app, ["codesets", "load", "mue", str(mue), "--effective-from",
                                 "2026-07-01", "--effective-to", "2026-09-30"])
    assert result.exit_code == 0, result.output

    loads = {(row["table"], row["claim_type"]): row for row in listed()}
    assert set(loads) == {("hcpcs", ""), ("ncci_ptp", "institutional"),
                          ("mue", "professional")}
    assert loads[("ncci_ptp", "institutional")]["release"] == "2026Q3"
    assert loads[("hcpcs", "")]["rows"] == 2
    assert loads[("mue", "professional")]["file"] == "mue.csv"

    table = runner.invoke(app, ["codesets", "list"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "2026Q3" in table.output and "HCPC2026_JUL_ANWEB" in table.output


def test_loading_the_same_file_again_does_nothing(tmp_path: Path) -> None:
    hcpcs = hcpcs_file(tmp_path / "h.txt", hcpcs_record("Z9991"))
    assert runner.invoke(app, ["codesets", "load", "hcpcs", str(hcpcs)]).exit_code == 0
    again = runner.invoke(app, ["codesets", "load", "hcpcs", str(hcpcs)])
    assert again.exit_code == 0
    assert "already loaded" in again.output
    assert len(listed()) == 1


def test_a_malformed_file_fails_with_its_line_and_column(tmp_path: Path) -> None:
    bad = ptp_file(tmp_path / "ccipra-bad.txt", "0001F\t0002F\t\t20200101\t*\t1\tx",
                   "0001F\t0003F\t\t2020XX01\t*\t1\tx")
    result = runner.invoke(app, ["codesets", "load", "ncci-ptp", str(bad)])
    assert result.exit_code == 1
    assert "ccipra-bad.txt, line 8, column Effective Date: not a date" in result.output
    assert "2020XX01" not in result.output and "0003F" not in result.output
    assert listed() == []


def test_wrong_claim_type_and_unknown_kind_are_refused(tmp_path: Path) -> None:
    mue = mue_file(tmp_path / "mue.csv", "Practitioner", "Z9991,2,1 Line Edit,x")
    result = runner.invoke(app, ["codesets", "load", "mue", str(mue), "--claim-type", "dme"])
    assert result.exit_code == 1
    assert "for professional claims, not dme" in result.output
    result = runner.invoke(app, ["codesets", "load", "cpt", str(mue)])
    assert result.exit_code == 2  # typer's usage error: not one of the choices
    assert listed() == []
