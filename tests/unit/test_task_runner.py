"""The flows' task runner from settings: threads by default, Dask on request, a bad value
named with its choices, and nothing started before a flow runs.

prefect-dask (and so ``distributed``) is imported inside the tests that need it, each of
which puts the standard exception pickling back afterwards (``standard_exception_pickling``).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import ValidationError

from flows.runner import WORKERS, task_runner, uses_processes, with_task_runner
from revcycle.settings import Settings
from tests.conftest import REPO


def _environment(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name in ("TASK_RUNNER", "DASK_ADDRESS", "DASK_WORKERS", "DASK_THREADS_PER_WORKER"):
        monkeypatch.delenv(f"REVCYCLE_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"REVCYCLE_{name.upper()}", value)


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    _environment(monkeypatch, **env)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_threads_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = task_runner(_settings(monkeypatch))
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == WORKERS
    assert not uses_processes(runner)


@pytest.mark.usefixtures("standard_exception_pickling")
def test_dask_on_a_local_cluster_sized_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import distributed
    from prefect_dask import DaskTaskRunner

    runner = task_runner(_settings(monkeypatch, task_runner="dask"))
    assert isinstance(runner, DaskTaskRunner) and uses_processes(runner)
    assert runner.address is None and runner.resolved_cluster_class is distributed.LocalCluster
    assert runner.cluster_kwargs == {"n_workers": 2, "threads_per_worker": 4,
                                     "processes": True, "dashboard_address": ":0"}
    sized = task_runner(_settings(monkeypatch, task_runner=" Dask ", dask_workers="3",
                                  dask_threads_per_worker="1"))
    assert isinstance(sized, DaskTaskRunner)
    assert (sized.cluster_kwargs["n_workers"], sized.cluster_kwargs["threads_per_worker"]) \
        == (3, 1)


@pytest.mark.usefixtures("standard_exception_pickling")
def test_dask_on_an_existing_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_dask import DaskTaskRunner

    runner = task_runner(_settings(monkeypatch, task_runner="dask",
                                   dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(runner, DaskTaskRunner)
    assert runner.address == "tcp://10.0.0.5:8786" and runner.cluster_kwargs == {}


@pytest.mark.parametrize("value", ["ray", "thread", "", "processes"])
def test_a_bad_runner_is_named_with_the_choices(monkeypatch: pytest.MonkeyPatch,
                                                value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(monkeypatch, task_runner=value)
    message = str(raised.value)
    assert f"REVCYCLE_TASK_RUNNER={value!r} is not a task runner" in message
    assert "use one of threads, dask" in message


@pytest.mark.parametrize(("name", "value"), [("dask_workers", "0"),
                                             ("dask_threads_per_worker", "many")])
def test_a_bad_cluster_size_is_refused(monkeypatch: pytest.MonkeyPatch, name: str,
                                       value: str) -> None:
    with pytest.raises(ValidationError, match=name):
        _settings(monkeypatch, task_runner="dask", **{name: value})


# Run in a fresh interpreter: what importing the flow modules does, and nothing else.
_IMPORT_CHECK = """
import multiprocessing, threading
import distributed
import flows.daily, flows.stages
runners = [flows.daily.daily_revenue_cycle.task_runner, flows.stages.scrub_flow.task_runner]
print([type(r).__name__ for r in runners])
print([(r._cluster, r._client, r._started) for r in runners])
print(multiprocessing.active_children(), len(distributed.deploy.spec.SpecCluster._instances))
print(sorted({t.name.split("-")[0] for t in threading.enumerate()} & {"Dask", "IO loop"}))
"""


def test_importing_the_flows_with_dask_starts_nothing(tmp_path: Path) -> None:
    """The flow modules build their runner on import: no cluster, client or process yet
    (DaskTaskRunner makes them when a flow run enters it)."""
    env = {**os.environ, "REVCYCLE_TASK_RUNNER": "dask", "REVCYCLE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _IMPORT_CHECK], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == [
        "['DaskTaskRunner', 'DaskTaskRunner']",
        "[(None, None, False), (None, None, False)]",
        "[] 0",
        "[]",
    ]


@pytest.mark.usefixtures("standard_exception_pickling")
def test_a_run_takes_the_runner_its_settings_name_now(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_dask import DaskTaskRunner

    from flows.daily import daily_revenue_cycle

    dask = with_task_runner(daily_revenue_cycle, _settings(monkeypatch, task_runner="dask"))
    assert isinstance(dask.task_runner, DaskTaskRunner)
    assert dask.name == daily_revenue_cycle.name and dask.fn is daily_revenue_cycle.fn
    assert isinstance(daily_revenue_cycle.task_runner, ThreadPoolTaskRunner)  # untouched
    threads = with_task_runner(dask, _settings(monkeypatch))
    assert isinstance(threads.task_runner, ThreadPoolTaskRunner)


def _resources_in_child(queue: Any) -> None:
    from revcycle.pipeline.resources import get_resources

    queue.put(get_resources.cache_info().currsize)


def test_a_forked_worker_builds_its_own_resources(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from revcycle.pipeline.resources import get_resources
    from revcycle.settings import get_settings

    monkeypatch.setenv("REVCYCLE_HOME", str(tmp_path))
    get_settings.cache_clear()
    get_resources.cache_clear()
    try:
        get_resources()  # the parent holds an engine and a store
        fork = multiprocessing.get_context("fork")
        queue = fork.Queue()
        child = fork.Process(target=_resources_in_child, args=(queue,))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        assert queue.get(timeout=5) == 0  # the child starts without the parent's
        assert get_resources.cache_info().currsize == 1  # the parent keeps its own
    finally:
        get_settings.cache_clear()
        get_resources.cache_clear()


@pytest.mark.parametrize(("env", "said"), [
    ({"REVCYCLE_TASK_RUNNER": "ray"},
     "revcycle: REVCYCLE_TASK_RUNNER='ray' is not a task runner: use one of threads, dask"),
    ({"REVCYCLE_TASK_RUNNER": "dask", "REVCYCLE_DASK_WORKERS": "0"},
     "revcycle: REVCYCLE_DASK_WORKERS: Input should be greater than or equal to 1"),
])
def test_the_commands_say_which_setting_is_wrong(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 env: dict[str, str], said: str) -> None:
    from typer.testing import CliRunner

    from flows.cli import app
    from revcycle.settings import get_settings

    _environment(monkeypatch, home=str(tmp_path),
                 **{k.removeprefix("REVCYCLE_").lower(): v for k, v in env.items()})
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["run", "--date", "2026-11-02", "--json"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [said]
