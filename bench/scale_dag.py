"""The daily flow's steps as a graph, and a list scheduler that runs it on W workers
sharing K database writers. Used by ``bench/scale_model.py``; no Prefect, no database.

The graph is the one ``flows/daily.py`` and ``flows/stages.add_mailbox_part`` submit:

- per tenant: ingest -> quality -> scrub -> write (every payer's 837s) -> submit (one
  step per payer);
- per payer: collect; then one route after every collect;
- per tenant and payer: acks after route and after that tenant's submit to that payer,
  then post after acks;
- report after every other step.

A step holds one worker for its whole duration. A share ``db_share`` of a database step's
time is spent writing to the database and needs one of ``db_writers`` writer slots as
well (the step's last part: it computes, then writes). A step whose writer slot is not
free waits, still holding its worker. Ready steps start in order of their longest path to
the end (the critical path first), ties by name.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Stages whose steps write claims, events, submissions or payments to the database.
DB_STAGES = frozenset({"ingest", "quality", "scrub", "write", "submit", "acks", "post"})


@dataclass
class Step:
    name: str
    stage: str
    cost_s: float
    after: list[str] = field(default_factory=list)
    uses_db: bool = False


@dataclass(frozen=True)
class Schedule:
    """When each step started and ended, and the day's wall time."""

    wall_s: float
    start: dict[str, float]
    end: dict[str, float]
    db_wait_s: float  # summed over steps: time spent waiting for a writer slot


def daily_graph(tenant_claims: Sequence[float], payers: int,
                cost: Mapping[str, float], base_claims_per_tenant: float,
                base_claims: float, overhead_s: float = 0.0) -> dict[str, Step]:
    """The day's steps for tenants with the given claims, ``payers`` payers each.

    ``cost[stage]`` is one step's measured seconds at ``base_claims_per_tenant`` claims a
    tenant (per-tenant and per tenant-and-payer stages) or ``base_claims`` claims in all
    (collect, route, report); a step's cost scales linearly with its claims. Each step
    also costs ``overhead_s`` (orchestration)."""
    steps: dict[str, Step] = {}
    total = float(sum(tenant_claims))

    def add(name: str, stage: str, scale: float, after: list[str]) -> str:
        steps[name] = Step(name, stage, cost.get(stage, 0.0) * scale + overhead_s, after,
                           stage in DB_STAGES)
        return name

    whole = total / base_claims if base_claims else 0.0
    collects = [add(f"collect·p{p}", "collect", whole, []) for p in range(payers)]
    route = add("route", "route", whole, collects)
    for t, claims in enumerate(tenant_claims):
        share = claims / base_claims_per_tenant if base_claims_per_tenant else 0.0
        ingest = add(f"ingest·t{t}", "ingest", share, [])
        quality = add(f"quality·t{t}", "quality", share, [ingest])
        scrub = add(f"scrub·t{t}", "scrub", share, [quality])
        write = add(f"write·t{t}", "write", share, [scrub])
        for p in range(payers):
            submit = add(f"submit·t{t}·p{p}", "submit", share, [write])
            acks = add(f"acks·t{t}·p{p}", "acks", share, [route, submit])
            add(f"post·t{t}·p{p}", "post", share, [acks])
    add("report", "report", whole, list(steps))
    return steps


def _children(steps: Mapping[str, Step]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {name: [] for name in steps}
    for step in steps.values():
        for parent in step.after:
            children[parent].append(step.name)
    return children


def _order(steps: Mapping[str, Step]) -> list[str]:
    """A topological order (parents first)."""
    waiting = {name: len(step.after) for name, step in steps.items()}
    children = _children(steps)
    ready = sorted(name for name, n in waiting.items() if n == 0)
    order: list[str] = []
    while ready:
        name = ready.pop()
        order.append(name)
        for child in children[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if len(order) != len(steps):
        raise ValueError("the graph has a cycle")
    return order


def bottom_levels(steps: Mapping[str, Step]) -> dict[str, float]:
    """Each step's longest path to the end, itself included."""
    children = _children(steps)
    level: dict[str, float] = {}
    for name in reversed(_order(steps)):
        level[name] = steps[name].cost_s + max((level[c] for c in children[name]), default=0.0)
    return level


def critical_path(steps: Mapping[str, Step]) -> tuple[float, list[str]]:
    """The longest chain of steps (its seconds and names): no worker count beats it."""
    level = bottom_levels(steps)
    children = _children(steps)
    roots = [name for name, step in steps.items() if not step.after]
    if not roots:
        return 0.0, []
    name: str | None = max(roots, key=lambda n: (level[n], n))
    path: list[str] = []
    while name is not None:
        path.append(name)
        name = max(children[name], key=lambda c: (level[c], c), default=None)
    return level[path[0]], path


def simulate(steps: Mapping[str, Step], workers: int, db_writers: float = math.inf,
             db_share: float = 0.0) -> Schedule:
    """Run the graph on ``workers`` workers and ``db_writers`` writer slots."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    level = bottom_levels(steps)
    children = _children(steps)
    waiting = {name: len(step.after) for name, step in steps.items()}
    ready = [(-level[n], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    events: list[tuple[float, int, str, str]] = []  # (time, seq, kind, step)
    seq = 0
    free_workers, free_writers = workers, db_writers
    writer_queue: list[tuple[float, str]] = []  # (since, step), first come first served
    start: dict[str, float] = {}
    end: dict[str, float] = {}
    holds_writer: set[str] = set()
    db_wait = 0.0
    now = 0.0

    def db_part(name: str) -> float:
        return steps[name].cost_s * db_share if steps[name].uses_db else 0.0

    def push(at: float, kind: str, name: str) -> None:
        nonlocal seq
        heapq.heappush(events, (at, seq, kind, name))
        seq += 1

    while ready or events:
        while ready and free_workers:
            _, name = heapq.heappop(ready)
            free_workers -= 1
            start[name] = now
            push(now + steps[name].cost_s - db_part(name), "computed", name)
        if not events:
            break
        now, _, kind, name = heapq.heappop(events)
        if kind == "computed":
            if db_part(name) == 0.0:
                push(now, "done", name)
            elif free_writers >= 1:
                free_writers -= 1
                holds_writer.add(name)
                push(now + db_part(name), "done", name)
            else:
                writer_queue.append((now, name))
            continue
        end[name] = now
        free_workers += 1
        if name in holds_writer:
            holds_writer.discard(name)
            free_writers += 1
            if writer_queue:
                since, waiter = writer_queue.pop(0)
                db_wait += now - since
                free_writers -= 1
                holds_writer.add(waiter)
                push(now + db_part(waiter), "done", waiter)
        for child in children[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (-level[child], child))
    if len(end) != len(steps):
        raise ValueError("not every step ran")
    return Schedule(max(end.values(), default=0.0), start, end, db_wait)
