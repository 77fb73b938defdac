"""``revcycle tenants add|add-provider|list|show``."""

from __future__ import annotations

import json

import pytest

from revcycle.pipeline.resources import Resources
from revcycle.pipeline.tenants import registered_npis, tenant_of_npi
from tests.unit.pipeline.conftest import run_cli

NPI_A, NPI_B = "1234567893", "1245319599"


def test_add_then_list_and_show(res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    added = run_cli(res, monkeypatch, "tenants", "add", "northside", "--name",
                    "Northside Clinic", "--provider",
                    f"{NPI_A}:12-3456789:NORTHSIDE FAMILY MEDICINE: EAST",
                    "--provider", f"{NPI_B}:123456789:NORTHSIDE HOSPITAL")
    assert added.exit_code == 0, added.output
    assert "tenant northside added with 2 billing provider(s)" in added.output
    more = run_cli(res, monkeypatch, "tenants", "add-provider", "northside", "--npi",
                   "1003000126", "--tin", "987-65-4321", "--name", "NORTHSIDE LAB")
    assert more.exit_code == 0, more.output
    run_cli(res, monkeypatch, "tenants", "add", "lakeview", "--name", "Lakeview")

    shown = json.loads(run_cli(res, monkeypatch, "tenants", "show", "northside",
                               "--json").output)
    assert (shown["tenant"], shown["name"]) == ("northside", "Northside Clinic")
    assert shown["providers"] == [
        {"npi": "1003000126", "tin": "987654321", "name": "NORTHSIDE LAB"},
        {"npi": NPI_A, "tin": "123456789", "name": "NORTHSIDE FAMILY MEDICINE: EAST"},
        {"npi": NPI_B, "tin": "123456789", "name": "NORTHSIDE HOSPITAL"}]
    listed = json.loads(run_cli(res, monkeypatch, "tenants", "list", "--json").output)
    assert [(t["tenant"], len(t["providers"])) for t in listed["tenants"]] == [
        ("lakeview", 0), ("northside", 3)]
    table = run_cli(res, monkeypatch, "tenants", "list").output
    assert "Northside Clinic" in table and NPI_B in table and "not checked" in table


def test_another_tenants_npi_is_refused_and_nothing_is_added(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli(res, monkeypatch, "tenants", "add", "northside", "--name", "N", "--provider",
            f"{NPI_A}:123456789:NORTHSIDE")
    refused = run_cli(res, monkeypatch, "tenants", "add", "lakeview", "--name", "L",
                      "--provider", f"{NPI_B}:123456789:LAKEVIEW",
                      "--provider", f"{NPI_A}:123456789:LAKEVIEW TOO")
    assert refused.exit_code == 1
    assert "NPI 1234567893 is already a billing provider of tenant 'northside'" in (
        refused.output)
    with res.sessions() as session:  # all or nothing: no lakeview, NPI_B unregistered
        assert tenant_of_npi(session, NPI_B) is None
        assert registered_npis(session, "northside") == {NPI_A}
    assert run_cli(res, monkeypatch, "tenants", "show", "lakeview").exit_code == 1


@pytest.mark.parametrize(("args", "says"), [
    (("add", "_all", "--name", "All"), "reserved"),
    (("add-provider", "northside", "--npi", "1234567894", "--tin", "123456789", "--name",
      "X"), "check digit is wrong"),
    (("add-provider", "nobody", "--npi", NPI_A, "--tin", "123456789", "--name", "X"),
     "there is no tenant 'nobody'"),
    (("show", "nobody"), "there is no tenant 'nobody'"),
])
def test_refusals_exit_1_with_one_line(res: Resources, monkeypatch: pytest.MonkeyPatch,
                                       args: tuple[str, ...], says: str) -> None:
    run_cli(res, monkeypatch, "tenants", "add", "northside", "--name", "N")
    result = run_cli(res, monkeypatch, "tenants", *args)
    assert result.exit_code == 1
    assert says in result.output and result.output.startswith("error:")


def test_a_provider_that_is_not_npi_tin_name_is_a_usage_error(
        res: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(res, monkeypatch, "tenants", "add", "northside", "--name", "N",
                     "--provider", f"{NPI_A}:123456789")
    assert result.exit_code == 2
    assert "NPI:TIN:NAME" in result.output
