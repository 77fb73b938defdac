"""The report server: the reports zones of the object store over HTTP, for people.

Data Docs, run reports and their charts live in ``<tenant>/reports/...`` of the store, a
folder or an S3 bucket that a browser cannot open by itself. ``revcycle serve`` starts this
server (stdlib :class:`~http.server.ThreadingHTTPServer`, on 127.0.0.1 by default) in a
daemon thread and points ``REVCYCLE_REPORTS_URL`` at it, so the links that runs put in the
dashboard open.

``GET`` and ``HEAD`` of ``/<key>`` return the object under ``key`` if, and only if, it is
in a reports zone: ``<tenant>/reports/<yyyy-mm-dd>/<batch>/<name>[/<name>...]``, every part
checked as :func:`revcycle.storage.object_key` checks it. Every other zone (landing, raw,
quarantine, inbound, outbound, archive, the mailbox) holds PHI and is never served; such a
path, a ``..``, or any key the store would refuse is a plain 404, the same as a missing
object. A path ending in ``/`` serves that folder's ``index.html``; nothing is listed.
Requests are logged without their query strings, and a refused path is not logged at all.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from revcycle.storage import (
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    TransientStorageError,
    check_key,
    check_name,
)

if TYPE_CHECKING:
    from revcycle.settings import Settings

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
INDEX = "index.html"
REPORTS_ZONE = "reports"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Pages are self-contained: no script, nothing fetched from elsewhere.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"


def content_type(key: str) -> str:
    """The Content-Type a report object is served with, from its name's extension."""
    name = key.rpartition("/")[2]
    dot = name.rfind(".")
    return CONTENT_TYPES.get(name[dot:].lower(), DEFAULT_CONTENT_TYPE) if dot > 0 \
        else DEFAULT_CONTENT_TYPE


def report_key(path: str) -> str | None:
    """The store key an HTTP request path names, if it is a reports-zone key; else None.

    The query and fragment are dropped, percent-escapes decoded once, and a path ending in
    ``/`` names that folder's ``index.html``.
    """
    try:
        key = unquote(urlsplit(path).path, errors="strict").lstrip("/")
    except (UnicodeDecodeError, ValueError):
        return None
    if key.endswith("/"):
        key += INDEX
    try:
        check_key(key)
    except InvalidKey:
        return None
    parts = key.split("/")
    if len(parts) < 5 or parts[1] != REPORTS_ZONE:
        return None
    tenant, _, day, batch, *names = parts
    if not (_ID.fullmatch(tenant) and _ID.fullmatch(batch) and _DATE.fullmatch(day)):
        return None
    try:
        date.fromisoformat(day)
        for name in names:
            check_name(name)
    except (ValueError, InvalidKey):
        return None
    return key


class ReportServer(ThreadingHTTPServer):
    """Serves one store's reports zones; see the module's docstring."""

    daemon_threads = True

    def __init__(self, store: ObjectStore, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = store
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """Base URL of the server (no trailing ``/``)."""
        host, port = self.server_address[:2]
        host = str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> ReportServer:
        """Serve from a daemon thread; returns self."""
        self._thread = threading.Thread(target=self.serve_forever, name="report-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    server: ReportServer
    server_version = "revcycle-reports"
    sys_version = ""

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def _respond(self, *, body: bool) -> None:
        key = report_key(self.path)
        if key is None:
            self._status(HTTPStatus.NOT_FOUND, body, "not a report")
            return
        store = self.server.store
        try:
            data = store.get(key)
        except (ObjectNotFound, InvalidKey):
            folder = f"{key}/{INDEX}"
            if not key.endswith(f"/{INDEX}") and report_key(folder) and store.exists(folder):
                self._redirect(f"/{quote(key)}/", body)
            else:
                self._status(HTTPStatus.NOT_FOUND, body, "no such report")
            return
        except TransientStorageError:
            self._status(HTTPStatus.SERVICE_UNAVAILABLE, body, "store unavailable")
            return
        except StorageError:
            self._status(HTTPStatus.BAD_GATEWAY, body, "store error")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type(key))
        self.send_header("Content-Length", str(len(data)))
        self._common_headers()
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _common_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("Referrer-Policy", "no-referrer")

    def _status(self, status: HTTPStatus, body: bool, text: str) -> None:
        data = f"{status.value} {text}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self._common_headers()
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _redirect(self, location: str, body: bool) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self._common_headers()
        self.end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path without its query; a refused one (maybe a provider's file name) not at all.
        key = report_key(self.path)
        shown = f"/{key}" if key else "(not a report)"
        log.info("%s %s %s", self.command, shown, code)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server puts the raw request line in its messages: log the status code only.
        codes = [a for a in args if isinstance(a, int)]
        log.warning("report server: bad request (%s)", codes[0] if codes else "no status")

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing else is logged: http.server's messages carry the whole request line."""


def start_report_server(store: ObjectStore, host: str = "127.0.0.1",
                        port: int = 0) -> ReportServer:
    """A :class:`ReportServer` for ``store``, already serving from a daemon thread."""
    return ReportServer(store, host, port).start()


def serve_reports(settings: Settings | None = None) -> tuple[ReportServer | None, str]:
    """Start the report server the settings ask for (``reports_port``, ``reports_host``)
    and make report links point at it: ``REVCYCLE_REPORTS_URL`` is set in this process's
    environment (flow runs started from here inherit it) unless it is set already (a
    proxy's address, say), and the cached settings are cleared.

    Returns the server (None when off or not started) and a line for the operator; a port
    in use is said there, and links then stay as they were."""
    from revcycle.settings import get_settings
    from revcycle.storage import store_from_settings

    settings = settings or get_settings()
    if not settings.reports_port:
        return None, "report server off (REVCYCLE_REPORTS_PORT=0)"
    try:
        server = start_report_server(store_from_settings(settings), settings.reports_host,
                                     settings.reports_port)
    except OSError as exc:
        return None, (f"report server not started on {settings.reports_host}:"
                      f"{settings.reports_port}: {exc.strerror or type(exc).__name__}")
    if not settings.reports_url:
        os.environ["REVCYCLE_REPORTS_URL"] = server.url
        get_settings.cache_clear()
        resources = sys.modules.get("revcycle.pipeline.resources")
        if resources is not None:  # built from the settings before: build them again
            resources.get_resources.cache_clear()
    return server, f"reports served at {server.url}/<tenant>/reports/..."
