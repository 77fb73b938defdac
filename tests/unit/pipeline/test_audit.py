"""The audit trail: every stage task appends which run touched which batch, with counts
only; nothing ever updates or deletes a row; ``revcycle audit`` reads it by batch or
tenant."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import DBAPIError

from revcycle.db.models import StageRun
from revcycle.pipeline.audit import PROCESS_RUN_ID, AuditError, record, trail
from revcycle.pipeline.batches import MAILBOX, ensure_batch, mailbox_batch
from revcycle.pipeline.resources import Resources
from tests.unit.pipeline.conftest import BOTH_DATABASES, DAY, run_cli

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)

REPO = Path(__file__).resolve().parents[3]


def _batches(res: Resources, *tenants: str) -> list[str]:
    with res.sessions() as session:
        return [ensure_batch(session, tenant, DAY).id for tenant in tenants]


def test_a_record_holds_ids_and_counts_only(res: Resources) -> None:
    alpha, bravo = _batches(res, "alpha", "bravo")
    record(res, "post", alpha, {"batch": alpha, "payer": "SIMC1", "remittances": 2,
                                "paid": "120.00", "held": 0, "edits": {"R1": 3},
                                "done": True}, run_id="flow-run-1", payer="SIMC1")
    record(res, "scrub", bravo, {"claims": 5})
    record(res, "submit", alpha, {"sent": 1}, run_id="flow-run-1")

    with res.sessions() as session:
        rows = trail(session, batch=alpha)
        assert [(r["run_id"], r["stage"], r["batch"], r["counts"])
                for r in trail(session, tenant="bravo")] \
            == [(PROCESS_RUN_ID, "scrub", bravo, {"claims": 5})]
        with pytest.raises(AuditError):
            trail(session)
    assert [(r["run_id"], r["stage"], r["tenant"], r["payer"], r["counts"]) for r in rows] == [
        ("flow-run-1", "post", "alpha", "SIMC1", {"remittances": 2, "held": 0}),
        ("flow-run-1", "submit", "alpha", "", {"sent": 1})]
    with pytest.raises(AuditError):
        record(res, "post", "nobody-20261102", {})


def test_revcycle_audit_reads_a_batch_or_a_tenant(res: Resources,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    alpha, bravo = _batches(res, "alpha", "bravo")
    record(res, "ingest", alpha, {"files": 2, "claims": 40}, run_id="run-a")
    record(res, "ingest", bravo, {"files": 1, "claims": 9}, run_id="run-b")

    by_batch = run_cli(res, monkeypatch, "audit", "--batch", alpha, "--json")
    by_tenant = run_cli(res, monkeypatch, "audit", "--tenant", "bravo")
    neither = run_cli(res, monkeypatch, "audit")

    assert by_batch.exit_code == 0, by_batch.output
    [row] = json.loads(by_batch.output)["audit"]
    assert (row["run_id"], row["stage"], row["batch"], row["counts"]) \
        == ("run-a", "ingest", alpha, {"files": 2, "claims": 40})
    assert by_tenant.exit_code == 0
    assert "run-b" in by_tenant.output and "run-a" not in by_tenant.output
    assert neither.exit_code == 1 and "batch or which tenant" in neither.output


def test_every_stage_task_records_its_run(res: Resources,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.acks import acks_task
    from tasks.ingest import ingest_task
    from tasks.policy import audited
    from tasks.post import post_task
    from tasks.quality import quality_task
    from tasks.report import report_task
    from tasks.scrub import scrub_task
    from tasks.submit import submit_task

    for stage, task in (("ingest", ingest_task), ("quality", quality_task),
                        ("scrub", scrub_task), ("submit", submit_task), ("acks", acks_task),
                        ("post", post_task), ("report", report_task)):
        assert f'"{stage}", ' in inspect.getsource(task.fn).split("audited(", 1)[1], stage
    # Outside a flow run, the process's id names the run.
    [alpha] = _batches(res, "alpha")
    audited(res, "quality", alpha, {"batch": alpha, "validated": 3, "failed": 1})
    audited(res, "post", alpha, {"batch": alpha, "payer": "SIMC1", "claims_posted": 4})
    with res.sessions() as session:
        rows = [(r["run_id"], r["stage"], r["payer"], r["counts"])
                for r in trail(session, batch=alpha)]
    assert rows == [(PROCESS_RUN_ID, "quality", "", {"validated": 3, "failed": 1}),
                    (PROCESS_RUN_ID, "post", "SIMC1", {"claims_posted": 4})]


def test_the_mailbox_stages_record_their_runs_under_the_mailbox(res: Resources) -> None:
    from tasks import mailbox

    for stage, work in (("collect", mailbox._collect), ("route", mailbox._route)):
        assert f'"{stage}", ' in inspect.getsource(work).split("audited(", 1)[1], stage
    day = mailbox_batch(DAY)
    record(res, "collect", day, {"payer": "SIMC1", "collected": 3, "duplicates": 0,
                                 "unreachable": []}, payer="SIMC1")
    record(res, "route", day, {"files": 3, "routed": 5, "unrouted": 1})
    with res.sessions() as session:
        rows = [(r["stage"], r["tenant"], r["payer"], r["counts"])
                for r in trail(session, tenant=MAILBOX)]
    assert rows == [("collect", MAILBOX, "SIMC1", {"collected": 3, "duplicates": 0}),
                    ("route", MAILBOX, "", {"files": 3, "routed": 5, "unrouted": 1})]
    with pytest.raises(AuditError):  # not a way around the batch check for tenants
        record(res, "post", f"{MAILBOX}x-20261102", {"claims": 1})


def test_no_code_path_updates_or_deletes_the_trail(res: Resources) -> None:
    writes = re.compile(r"\b(update|delete)\s*\(\s*StageRun\b|\b(UPDATE|DELETE FROM)\s+"
                        r"stage_runs\b|StageRun\.__table__\.(update|delete)\b")
    sources = [p for folder in ("revcycle", "tasks", "flows")
               for p in (REPO / folder).rglob("*.py") if "migrations" not in p.parts]
    assert sources
    assert [str(p) for p in sources if writes.search(p.read_text(encoding="utf-8"))] == []
    # And at run time: recording and reading issue no UPDATE or DELETE on the table.
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(res.engine, "before_cursor_execute", seen)
    try:
        [alpha] = _batches(res, "alpha")
        record(res, "ingest", alpha, {"files": 1})
        record(res, "ingest", alpha, {"files": 0})
        with res.sessions() as session:
            assert len(trail(session, tenant="alpha")) == 2
    finally:
        event.remove(res.engine, "before_cursor_execute", seen)
    assert not [s for s in statements
                if re.match(r"\s*(UPDATE|DELETE)\b.*\bstage_runs\b", s, re.I | re.S)]


def test_postgresql_refuses_to_change_the_trail(res: Resources) -> None:
    if res.engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; SQLite relies on the code never doing it")
    [alpha] = _batches(res, "alpha")
    record(res, "ingest", alpha, {"files": 1})
    for change in (update(StageRun).values(stage="x"), delete(StageRun)):
        with res.sessions() as session, pytest.raises(DBAPIError, match="append-only"):
            session.execute(change)
    with res.sessions() as session:
        assert session.scalars(select(StageRun.stage)).all() == ["ingest"]
