"""Links to what the reports zone holds (Data Docs, run reports, charts), for people.

A dashboard artifact or a printed line points at a report by one of these links, the first
that applies:

1. the report server's URL, when one serves the reports zone (``revcycle serve`` starts
   one on loopback and sets ``REVCYCLE_REPORTS_URL``; a proxy's address works the same);
2. on an S3 store, a presigned GetObject URL that works for
   ``REVCYCLE_REPORTS_LINK_EXPIRY_S`` seconds (7 days at most) and is served with the
   object's content type, so a browser shows the page instead of downloading it;
3. the store's own address of the object (``file:///...`` for a local folder).

A presigned link opens one object: a page's relative links to its neighbours (a run page
to its index) are not signed. The report server has no such limit.
"""

from __future__ import annotations

from urllib.parse import quote

from revcycle.pipeline.resources import Resources
from revcycle.reportserver import content_type
from revcycle.storage import check_key


def report_link(res: Resources, key: str) -> str:
    """Where a person opens the object ``key`` of a reports zone."""
    check_key(key)
    base = res.settings.reports_url.rstrip("/")
    if base:
        return f"{base}/{quote(key)}"
    presigned = res.store.presigned_url(key, res.settings.reports_link_expiry_s,
                                        content_type(key))
    return presigned or res.store.uri(key)
