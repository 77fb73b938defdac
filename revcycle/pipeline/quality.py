"""Quality: RECEIVED claims of a batch checked against the Great Expectations suites.

Claims that fail an expectation become DQ_FAILED with the expectation as an edit; the
rest become VALIDATED. The Data Docs of the run (:mod:`revcycle.quality.docs`: a page per
run, an index of the batch's runs; claim ids and counts, never values) go to the batch's
reports zone under ``data-docs/``, and the result links to the run's page
(:func:`~revcycle.pipeline.links.report_link`).
"""

from __future__ import annotations

import tempfile
import threading
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from revcycle.crashpoints import crash_point
from revcycle.db.models import Batch, Edit
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.handoff import handoff_for
from revcycle.pipeline.links import report_link
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.versions import adopt_waiting, current_claims
from revcycle.status import Status
from revcycle.storage import object_key

STAGE = "quality"
SUITES = Path(__file__).resolve().parents[2] / "expectations"
# Great Expectations is not safe to run from two threads at once (its suite parameter
# parser keeps state): batches checked on threads of one process take turns. Runs in
# separate processes, as Prefect runs flow runs, are not held up.
_ONE_AT_A_TIME = threading.Lock()


def check_quality(res: Resources, batch_id: str) -> dict[str, Any]:
    from revcycle.quality import run_quality  # pandas and GX: only when there is work

    with res.sessions() as session:
        batch = session.get(Batch, batch_id)
        if batch is not None and adopt_waiting(session, batch):
            session.commit()  # claims corrected after their own day's run
        rows = claims_in(session, batch_id, Status.RECEIVED)
        result: dict[str, Any] = {"batch": batch_id, "claims": len(rows), "validated": 0,
                                  "failed": 0, "data_docs": ""}
        if not rows:
            return result
        # A corrected claim is checked as corrected (its latest version).
        handoff = handoff_for(res)
        items = [(row.id, claim) for row, claim in current_claims(session, res.store, rows,
                                                                  handoff)]
    with tempfile.TemporaryDirectory(prefix="revcycle-docs-") as tmp:
        folder = Path(tmp)
        base = _docs_base(batch)
        earlier = _fetch_summaries(res, base, folder)
        with _ONE_AT_A_TIME:
            outcome = run_quality(items, SUITES, folder, batch=batch_id)
        if outcome.docs_page is not None:
            result["data_docs"] = _publish_docs(res, base, folder, earlier,
                                                outcome.docs_page.name)
    crash_point("quality.after_docs")
    failed = sorted(outcome.failed)
    with res.sessions() as session:
        # Moved first: a claim another run has checked meanwhile gets nothing from this one.
        failed = move(session, failed, Status.RECEIVED, Status.DQ_FAILED, STAGE)
        if failed:
            session.execute(insert(Edit), [
                {"claim_id": claim_id, "line_number": f.line_number, "stage": STAGE,
                 "rule_id": f.expectation_id, "severity": "ERROR", "message": f.message,
                 "field": f.column}
                for claim_id in failed for f in outcome.failed[claim_id]])
        result["failed"] = len(failed)
        crash_point("quality.between_moves")
        passed = [cid for cid, _ in items if cid not in outcome.failed]
        validated = set(move(session, passed, Status.RECEIVED, Status.VALIDATED, STAGE))
        result["validated"] = len(validated)
        session.commit()
    handoff.put((cid, claim) for cid, claim in items if cid in validated)  # for scrub
    return result


def _docs_base(batch: Batch) -> str:
    """``<tenant>/reports/<date>/<batch>/data-docs``: the batch's Data Docs folder."""
    return object_key(batch.tenant_id, "reports", batch.business_date, batch.id, "data-docs")


def _fetch_summaries(res: Resources, base: str, folder: Path) -> set[str]:
    """Copy the summaries of the batch's earlier runs into ``folder`` (the index lists
    them); return their names."""
    from revcycle.quality.docs import SUMMARY_GLOB

    names = set()
    for key in res.store.list(f"{base}/"):
        name = key.rpartition("/")[2]
        if key == f"{base}/{name}" and fnmatch(name, SUMMARY_GLOB):
            (folder / name).write_bytes(res.store.get(key))
            names.add(name)
    return names


def _publish_docs(res: Resources, base: str, folder: Path, earlier: set[str],
                  page: str) -> str:
    """Put the run's files in the reports zone (the index last, once its pages are there);
    return the link to the run's page."""
    from revcycle.quality.docs import INDEX

    new = sorted(p for p in folder.iterdir()
                 if p.is_file() and p.name not in earlier and p.name != INDEX)
    for path in [*new, folder / INDEX]:
        res.store.put(f"{base}/{path.name}", path.read_bytes())
    return report_link(res, f"{base}/{page}")
