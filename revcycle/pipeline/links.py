"""Links to what the reports zone holds (Data Docs, run reports, charts), for people.

A dashboard artifact or a printed line points at a report by one of these links: the report
server's URL when one serves the reports zone (``revcycle serve`` starts one on loopback and
sets ``REVCYCLE_REPORTS_URL``), else the store's own address of the object.
"""

from __future__ import annotations

from revcycle.pipeline.resources import Resources
from revcycle.storage import check_key


def report_link(res: Resources, key: str) -> str:
    """Where a person opens the object ``key`` of a reports zone."""
    check_key(key)
    base = res.settings.reports_url.rstrip("/")
    if base:
        return f"{base}/{key}"
    return res.store.uri(key)
