"""The flows' task runner, chosen by settings: ``REVCYCLE_TASK_RUNNER=threads`` (a thread
pool in the flow's process, the default) or ``dask`` (worker processes: a
``distributed.LocalCluster`` started for the flow run, or the existing cluster at
``REVCYCLE_DASK_ADDRESS``).

Where the choice is made, and why there:

- The flow decorators take ``task_runner()`` as it is when their module is imported. That
  is what a deployment runs (a worker or ``revcycle serve`` imports the flow in the process
  that runs it, with that process's environment). Building a ``DaskTaskRunner`` starts
  nothing: its cluster and client are made when a flow run enters the runner, and torn down
  when it leaves (tested).
- ``run_flow`` (``flows/cli.py``) calls ``with_task_runner(flow)`` at call time, so a
  process whose settings change between runs (the tests, ``demo --days``) runs each flow
  with the runner its settings name now, not the one of import time. ``Flow.with_options``
  copies the flow; the module's flow is left as it was.

Dask workers are other processes. Everything a step receives and returns crosses as a
pickle (batch ids, dates, payer ids, dicts of counts); each worker builds its own database
engine and store from its own environment (``revcycle.pipeline.resources``), which a
LocalCluster's workers inherit from the flow's process when the run starts them. Prefect's
settings reach them with each task (Prefect serializes its settings context), but a
temporary Prefect server does not: a worker that finds no API URL would start a server of
its own. ``workers_reach_api`` starts the temporary server in the flow's process first and
names its URL in the settings the tasks carry. Importing ``distributed`` makes exceptions
pickle with their chains (tblib): a failed step's error leaves ``tasks.policy.in_stage``
with none, and a thread-pool run never imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import Flow
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from revcycle.settings import Settings, get_settings

WORKERS = 8  # threads of the thread pool runner


class TaskRunnerUnavailable(RuntimeError):
    """``REVCYCLE_TASK_RUNNER=dask`` without prefect-dask installed."""


def task_runner(settings: Settings | None = None) -> TaskRunner[Any]:
    """The task runner ``settings`` (default: the process's) choose. Starts nothing."""
    settings = settings or get_settings()
    if settings.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=WORKERS)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise TaskRunnerUnavailable(
            "REVCYCLE_TASK_RUNNER=dask needs prefect-dask: pip install 'revcycle[dask]'"
        ) from None
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
        "n_workers": settings.dask_workers,
        "threads_per_worker": settings.dask_threads_per_worker,
        "processes": True,
        # Any free port for the scheduler's HTTP server: never a clash over 8787.
        "dashboard_address": ":0",
    })


def with_task_runner(flow: Flow[..., Any], settings: Settings | None = None) -> Flow[..., Any]:
    """``flow`` with the task runner the settings choose now (see the module's docstring)."""
    return flow.with_options(task_runner=task_runner(settings))


def uses_processes(runner: TaskRunner[Any]) -> bool:
    """Whether ``runner`` runs tasks outside this process (on Dask workers). Never imports
    prefect-dask: importing ``distributed`` makes every exception pickle with its chained
    exceptions (tblib), which a thread-pool run must not get as a side effect."""
    dask = sys.modules.get("prefect_dask.task_runners")
    return dask is not None and isinstance(runner, dask.DaskTaskRunner)


@contextmanager
def workers_reach_api(runner: TaskRunner[Any]) -> Iterator[None]:
    """With no ``PREFECT_API_URL`` and a runner whose tasks run in other processes: start
    Prefect's temporary server here, and name its URL in the settings while the flow runs,
    so the tasks (which carry this process's Prefect settings) report to it rather than
    each worker starting a temporary server of its own. Otherwise nothing."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if not uses_processes(runner) or PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the one this process's Prefect client would start
    server.start()
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield
