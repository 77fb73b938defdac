"""Report task: the day's report in each tenant's reports zone, and as Prefect artifacts.

Publishes only; the report, its markdown, HTML and charts are built in ``revcycle``.
Artifacts: a markdown report per tenant and one for the run, a table of what needs a
person, the charts (images when the reports zone is served over HTTP, else links) and a
link to each HTML report.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from prefect import task
from prefect.artifacts import (
    create_image_artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from revcycle.pipeline.batches import batch_id
from revcycle.pipeline.links import report_link
from revcycle.pipeline.report import ALL_TENANTS, day_report
from revcycle.pipeline.resources import Resources, get_resources
from revcycle.reporting.tables import markdown, worklist_rows
from tasks.policy import audited, in_stage, run_name, stage_task_options

CHARTS = {"claims-by-status": "claims by status", "denials-by-reason": "denials by reason"}


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes) from its parts.

    >>> artifact_key("run-report", "North_Side", "20261102")
    'run-report-north-side-20261102'
    """
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", "-".join(parts).lower())).strip("-")


def _publish(res: Resources, report: dict[str, Any], keys: dict[str, str],
             *parts: str) -> None:
    """One report's markdown artifact, with links to its files, and a link to its HTML."""
    links = {"HTML report": report_link(res, keys["html"]),
             **{title: report_link(res, keys[name]) for name, title in CHARTS.items()}}
    create_markdown_artifact(markdown(report, links), key=artifact_key("run-report", *parts),
                             description="The day's claims, dollars, KPIs, edits and denials")
    create_link_artifact(links["HTML report"], link_text="run report (HTML)",
                         key=artifact_key("run-report-html", *parts),
                         description="The self-contained HTML run report")


@task(**stage_task_options("report", across_runs=False))
def report_task(business_date: date, tenants: list[str]) -> dict[str, Any]:
    res = get_resources()
    report = in_stage(run_name("report", {"business_date": business_date}), day_report, res,
                      business_date, tenants)
    day = f"{business_date:%Y%m%d}"
    for tenant, own in report["by_tenant"].items():
        _publish(res, own, report["report_keys"][tenant], tenant, day)
        audited(res, "report", batch_id(tenant, business_date),
                {"claims": own["claims"]["in"],
                 "files_published": len(report["report_keys"][tenant])})
    run_keys = report["report_keys"][ALL_TENANTS]
    _publish(res, report, run_keys, day)
    create_table_artifact(
        [{"tenant": tenant, **row} for tenant, own in report["by_tenant"].items()
         for row in worklist_rows(own)],
        key=artifact_key("needs-a-person", day),
        description="What needs a person: open exceptions, held 835s, rejected claims by"
                    " edit, denials in work (counts and dollars)")
    for name, title in CHARTS.items():
        link = report_link(res, run_keys[name])
        key = artifact_key("chart", name, day)
        if link.startswith(("http://", "https://")):  # a browser shows it inline
            create_image_artifact(link, key=key, description=f"Chart: {title}")
        else:
            create_link_artifact(link, link_text=f"chart: {title}", key=key,
                                 description=f"Chart: {title} (SVG)")
    return report
