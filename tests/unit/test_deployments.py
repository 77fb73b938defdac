"""The deployments ``revcycle serve`` serves: names, schedule, parameters."""

from __future__ import annotations

import importlib
import inspect

import yaml

from flows.daily import daily_revenue_cycle
from flows.deployments import DAILY_CRON, STAGE_FLOWS, deployments
from tests.conftest import REPO


def test_daily_on_its_schedule_and_every_stage_on_demand() -> None:
    built = {d.name + "@" + d.flow_name: d for d in deployments()}
    daily = built["daily@daily-revenue-cycle"]
    assert [s.schedule.cron for s in daily.schedules] == [DAILY_CRON]
    stages = {"ingest", "quality", "scrub", "submit", "mailbox", "report"}
    assert {d.flow_name for d in built.values() if d.name == "on-demand"} == stages
    assert all(not d.schedules for d in built.values() if d.name == "on-demand")
    # Runs take only the business date and tenants, never claim data, and nothing is
    # baked into a deployment.
    for flow in (daily_revenue_cycle, *STAGE_FLOWS):
        assert list(inspect.signature(flow.fn).parameters) == ["business_date", "tenants"]
    assert all(d.parameters == {} for d in built.values())


def test_the_schedule_can_be_changed() -> None:
    daily = deployments(cron="30 5 * * 1-5", timezone="America/Chicago")[0]
    schedule = daily.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("30 5 * * 1-5", "America/Chicago")


def _team_install() -> list[dict]:
    """The deployments of infra/prefect.yaml (YAML anchors and merges resolved)."""
    return yaml.safe_load((REPO / "infra" / "prefect.yaml").read_text())["deployments"]


def test_the_team_install_deploys_what_serve_serves() -> None:
    served = {(d.flow_name, d.name): d for d in deployments()}
    team = _team_install()
    flows = {}
    for entry in team:
        path, name = entry["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flows[(getattr(module, name).name, entry["name"])] = entry
    assert set(flows) == set(served) and len(team) == len(served)
    for key, entry in flows.items():
        built = served[key]
        assert (entry["tags"], entry["description"]) == (built.tags, built.description)
        assert entry["work_pool"]["name"] == "revcycle"
        # The workers' flow runs send the stages' INFO lines to the dashboard.
        assert entry["work_pool"]["job_variables"]["env"]["PREFECT_LOGGING_LEVEL"] == "INFO"
        schedules = [(s["cron"], s["timezone"]) for s in entry.get("schedules", [])]
        assert schedules == [(s.schedule.cron, s.schedule.timezone) for s in built.schedules]
