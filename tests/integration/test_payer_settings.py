"""What a payer's channels take from the Prefect server: secrets from Secret blocks, and the
per-payer tag concurrency limits every submit step carries."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.conftest import configure


@pytest.mark.usefixtures("prefect_server")
def test_a_secret_comes_from_the_environment_first_then_a_secret_block(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    from tasks.channels import channel_secrets

    Secret(value="from-the-block").save("acme-sftp-password", overwrite=True)
    secrets = channel_secrets()
    assert secrets.get("acme-sftp-password") == "from-the-block"
    assert secrets.get("no-such-secret") is None
    monkeypatch.setenv("REVCYCLE_SECRET_ACME_SFTP_PASSWORD", "from-the-environment")
    assert secrets.get("acme-sftp-password") == "from-the-environment"


@pytest.mark.usefixtures("prefect_server")
def test_payer_limits_become_tag_concurrency_limits_and_submit_steps_carry_the_tag(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client

    from flows.cli import app
    from flows.daily import daily_revenue_cycle
    from revcycle.demo import drop_business_day
    from revcycle.pipeline.resources import get_resources
    from tasks.payers import load_payers

    configure(monkeypatch, tmp_path / "home")
    result = CliRunner().invoke(app, ["payers", "limits"])
    assert result.exit_code == 0, result.output
    payers = load_payers()
    assert all(f"payer:{payer}" in result.output for payer in payers)

    async def limits_and_tags() -> tuple[dict[str, int], set[str]]:
        async with get_client() as client:
            limits = {tag: (await client.read_concurrency_limit_by_tag(tag)).concurrency_limit
                      for tag in (f"payer:{p}" for p in payers)}
            runs = await client.read_task_runs()
            tags = {tag for run in runs if run.name.startswith("submit")
                    for tag in run.tags}
            return limits, tags

    day = date(2026, 12, 1)
    drop_business_day(get_resources().store, claims=30, seed=5, tenants=("eastgate",),
                      payers=2, business_date=day)
    summary = daily_revenue_cycle(business_date=day, tenants=["eastgate"])
    assert summary["failed_steps"] == []
    limits, tags = asyncio.run(limits_and_tags())
    assert limits == {f"payer:{p}": d.concurrency for p, d in payers.items()}
    assert {f"payer:{p}" for p in payers} <= tags
    # Run again: the limits are set, not duplicated.
    assert CliRunner().invoke(app, ["payers", "limits"]).exit_code == 0
    assert asyncio.run(limits_and_tags())[0] == limits


def test_payers_check_on_the_simulator_sends_nothing_and_list_shows_every_module(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app

    configure(monkeypatch, tmp_path / "home")
    listed = CliRunner().invoke(app, ["payers", "list"])
    assert listed.exit_code == 0 and "SIMA1" in listed.output and "simulator" in listed.output
    checked = CliRunner().invoke(app, ["payers", "check", "SIMA1"])
    assert checked.exit_code == 0 and "simulator" in checked.output
    unknown = CliRunner().invoke(app, ["payers", "check", "NOPE1"])
    assert unknown.exit_code == 1
    assert not list((tmp_path / "home").rglob("*.x12"))
