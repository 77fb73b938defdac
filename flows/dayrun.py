"""The steps of a run and how it ended: which step ran, came back Cached, failed, or could
not run because a step before it failed; one flow run state that says so.

A failed step stops only the steps that need its output (the same tenant's next stages,
or that payer's); the rest of the day runs, and the flow run ends Failed, naming the
failed steps, so the dashboard shows it and Retry redoes those steps only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from prefect.futures import PrefectFuture, wait
from prefect.states import Completed, Failed, State
from prefect.utilities.annotations import allow_failure


@dataclass
class DayRun:
    business_date: date
    tenants: list[str]
    steps: list[tuple[str, str, PrefectFuture[Any]]] = field(default_factory=list)

    def add(self, stage: str, name: str, future: PrefectFuture[Any]) -> PrefectFuture[Any]:
        self.steps.append((stage, name, future))
        return future

    def every_step(self) -> list[Any]:
        """For ``wait_for``: every step so far, finished whether or not it failed."""
        return [allow_failure(future) for _, _, future in self.steps]

    def finish(self, **extra: Any) -> State:
        """Wait for every step; the run's state, whose data is its summary."""
        wait([future for _, _, future in self.steps])
        stages: dict[str, list[dict[str, Any]]] = {}
        failed: list[str] = []
        for stage, name, future in self.steps:
            step = _outcome(name, future)
            stages.setdefault(stage, []).append(step)
            if step["state"] in ("Failed", "Crashed", "not run"):
                failed.append(name)
        report = next((future.result() for stage, _, future in self.steps
                       if stage == "report" and future.state.is_completed()), None)
        summary = {"business_date": self.business_date.isoformat(), "tenants": self.tenants,
                   "stages": stages, "failed_steps": failed, "report": report, **extra}
        if failed:
            shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more"
                                             if len(failed) > 5 else "")
            return Failed(message=f"{len(failed)} of {len(self.steps)} steps did not finish:"
                                  f" {shown}. The other steps finished; Retry redoes only"
                                  " these.", data=summary)
        return Completed(message=f"{len(self.steps)} steps finished", data=summary)


def _outcome(name: str, future: PrefectFuture[Any]) -> dict[str, Any]:
    state = future.state
    if state.is_completed():
        result = future.result()
        # A stage's result is its counts; the report's is the day, given apart.
        counts = result if isinstance(result, dict) and "business_date" not in result else {}
        return {"step": name, "state": state.name, **counts}
    if state.is_pending():  # NotReady: a step it needs did not finish
        return {"step": name, "state": "not run",
                "reason": "a step it needs did not finish"}
    return {"step": name, "state": state.name, "reason": state.message or ""}
