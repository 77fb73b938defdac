"""A broken payer module as a failed task run: the dashboard names the module and what is
wrong with it, and the day ends Failed, while every other payer goes on."""

from __future__ import annotations

from prefect import task

from revcycle.payers import PayerModuleError
from tasks.policy import in_stage, run_name


@task(name="payer module", task_run_name=lambda parameters: run_name("payer module",
                                                                      parameters))
def payer_module_task(module: str, problem: str) -> None:
    in_stage(run_name("payer module", {"module": module}), _refuse, module, problem)


def _refuse(module: str, problem: str) -> None:
    raise PayerModuleError(f"payer module tasks/payers/{module}.py {problem}; its payer is"
                           " disabled (its claims wait at scrub with edit PAYER-02)")
