"""The report server: reports zones only, over real HTTP, from a folder and from S3 (moto)."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from revcycle.reportserver import ReportServer, report_key, serve_reports, start_report_server
from revcycle.settings import Settings, get_settings
from revcycle.storage import LocalObjectStore, ObjectStore, S3ObjectStore, object_key

DAY = date(2026, 3, 2)
BATCH = "acme-20260302"
PAGE = b"<!DOCTYPE html><html><body>report</body></html>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


def rkey(name: str, zone: str = "reports", tenant: str = "acme") -> str:
    return object_key(tenant, zone, DAY, BATCH, name)


DOCS = f"{rkey('data-docs')}"
OBJECTS = {
    rkey("run-report.html"): PAGE,
    rkey("paid.svg"): SVG,
    rkey("run-report.json"): b'{"claims": 3}',
    rkey("style.css"): b"body{}",
    rkey("chart.png"): PNG,
    f"{DOCS}/index.html": b"<!DOCTYPE html><p>index</p>",
    f"{DOCS}/run-20260302T060000000Z.html": PAGE,
    rkey("claims.837", zone="raw"): b"ISA*00*SECRET~",
    rkey("drop.837", zone="landing"): b"ISA*00*SECRET~",
    rkey("bad.837", zone="quarantine"): b"ISA*00*SECRET~",
    rkey("out.837", zone="outbound"): b"ISA*00*SECRET~",
}


def _fill(store: ObjectStore) -> ObjectStore:
    for key, data in OBJECTS.items():
        store.put(key, data)
    return store


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReportServer]:
    if request.param == "local":
        store: ObjectStore = LocalObjectStore(tmp_path / "store")
    else:
        store = S3ObjectStore(f"t-{uuid.uuid4().hex[:20]}", region="us-east-1",
                              endpoint_url=request.getfixturevalue("s3_endpoint"),
                              create_bucket=True)
    running = start_report_server(_fill(store))
    yield running
    running.stop()


def fetch(server: ReportServer, path: str, method: str = "GET"
          ) -> tuple[int, dict[str, str], bytes]:
    """A raw request (http.client sends the path exactly as given)."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("name", "kind"), [
    ("run-report.html", "text/html; charset=utf-8"), ("paid.svg", "image/svg+xml"),
    ("run-report.json", "application/json"), ("style.css", "text/css; charset=utf-8"),
    ("chart.png", "image/png")])
def test_a_report_is_served_with_its_bytes_and_type(server, name, kind) -> None:
    status, headers, body = fetch(server, f"/{rkey(name)}")
    assert status == 200
    assert body == OBJECTS[rkey(name)]
    assert headers["Content-Type"] == kind
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src" not in headers["Content-Security-Policy"]


def test_head_gives_the_headers_only(server) -> None:
    status, headers, body = fetch(server, f"/{rkey('run-report.html')}", "HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(PAGE))


def test_a_folder_serves_its_index_and_is_never_listed(server) -> None:
    status, headers, body = fetch(server, f"/{DOCS}/")
    assert (status, body) == (200, OBJECTS[f"{DOCS}/index.html"])
    assert headers["Content-Type"].startswith("text/html")
    status, headers, _ = fetch(server, f"/{DOCS}")
    assert status == 301 and headers["Location"] == f"/{DOCS}/"
    for folder in (f"/{rkey('x')[:-1]}", "/acme/reports/", "/acme/", "/"):
        status, _, body = fetch(server, folder)
        assert status == 404 and b"run-report" not in body


@pytest.mark.parametrize("zone", ["raw", "landing", "quarantine", "outbound"])
def test_other_zones_are_not_found(server, zone) -> None:
    name = next(k for k in OBJECTS if k.split("/")[1] == zone)
    status, _, body = fetch(server, f"/{name}")
    assert status == 404 and b"SECRET" not in body
    status, _, _ = fetch(server, f"/{name}", "HEAD")
    assert status == 404


@pytest.mark.parametrize("path", [
    f"/acme/reports/{DAY}/{BATCH}/../../../raw/{DAY}/{BATCH}/claims.837",
    f"/acme/reports/{DAY}/{BATCH}/%2e%2e/%2e%2e/%2e%2e/raw/{DAY}/{BATCH}/claims.837",
    f"/acme/reports/{DAY}/{BATCH}/..%2f..%2f..%2fraw%2f{DAY}%2f{BATCH}%2fclaims.837",
    f"/acme%2freports%2f{DAY}%2f{BATCH}%2f..%2f..%2f..%2fraw/{DAY}/{BATCH}/claims.837",
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", f"//acme/reports/{DAY}/{BATCH}/x.html",
    f"/acme/reports/{DAY}/{BATCH}/.hidden.html", f"/acme/reports/not-a-date/{BATCH}/a.html",
    f"/acme/reports/{DAY}/{BATCH}/a\\b.html", f"/acme/reports/{DAY}/{BATCH}/%00.html",
    f"/acme/reports/{DAY}/{BATCH}/%ff.html", "/acme/reports/2026-02-30/b/a.html",
])
def test_traversal_and_bad_keys_are_not_found(server, path) -> None:
    status, _, body = fetch(server, path)
    assert status == 404 and b"SECRET" not in body


def test_a_query_string_is_ignored_and_never_logged(server, caplog) -> None:
    caplog.set_level(logging.INFO, logger="revcycle.reportserver")
    status, _, body = fetch(server, f"/{rkey('run-report.html')}?token=s3cr3t&x=1")
    assert (status, body) == (200, PAGE)
    fetch(server, f"/{rkey('drop.837', zone='landing')}?token=s3cr3t")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"GET /{rkey('run-report.html')} 200" in logged
    assert "s3cr3t" not in logged and "drop.837" not in logged and "landing" not in logged


def test_report_key() -> None:
    assert report_key(f"/{rkey('a.html')}?q=1#f") == rkey("a.html")
    assert report_key(f"/{DOCS}/") == f"{DOCS}/index.html"
    assert report_key(f"/{rkey('a.html', zone='raw')}") is None
    assert report_key(f"/{rkey('a.html', zone='archive')}") is None
    assert report_key("/acme/reports/2026-03-02") is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_reports_points_links_at_the_server(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REVCYCLE_REPORTS_URL", "")  # undone after the test, as set below
    monkeypatch.delenv("REVCYCLE_REPORTS_URL")
    port = _free_port()
    settings = Settings(home=tmp_path, reports_port=port)
    _fill(LocalObjectStore(tmp_path / "store"))
    server, line = serve_reports(settings)
    try:
        assert server is not None and server.url == f"http://127.0.0.1:{port}"
        assert server.url in line
        assert os.environ["REVCYCLE_REPORTS_URL"] == server.url
        monkeypatch.setenv("REVCYCLE_HOME", str(tmp_path))
        assert get_settings().reports_url == server.url  # the cached settings were cleared
        assert fetch(server, f"/{rkey('run-report.html')}")[2] == PAGE
        again, line = serve_reports(settings)  # the port is taken now
        assert again is None and "not started" in line
    finally:
        if server is not None:
            server.stop()
        get_settings.cache_clear()


def test_serve_reports_off_and_an_operators_url_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REVCYCLE_REPORTS_URL", "")  # undone after the test, as set below
    monkeypatch.delenv("REVCYCLE_REPORTS_URL")
    server, line = serve_reports(Settings(home=tmp_path, reports_port=0))
    assert server is None and "off" in line
    monkeypatch.setenv("REVCYCLE_REPORTS_URL", "https://reports.example.test")
    server, _ = serve_reports(Settings(home=tmp_path, reports_port=_free_port(),
                                       reports_url="https://reports.example.test"))
    try:
        assert os.environ["REVCYCLE_REPORTS_URL"] == "https://reports.example.test"
    finally:
        assert server is not None
        server.stop()
        get_settings.cache_clear()


def test_revcycle_serve_starts_it_for_the_flow_runs(tmp_path, monkeypatch) -> None:
    import prefect
    from typer.testing import CliRunner

    import revcycle.reportserver as reportserver
    from flows import cli

    # What serve sets in the environment is undone after the test.
    for name in (*cli.TELEMETRY_OFF, cli.STARTUP_TIMEOUT, "PREFECT_RESULTS_PERSIST_BY_DEFAULT",
                 "PREFECT_LOGGING_LEVEL", "REVCYCLE_REPORTS_URL"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    port = _free_port()
    monkeypatch.setenv("REVCYCLE_HOME", str(tmp_path))
    monkeypatch.setenv("REVCYCLE_REPORTS_PORT", str(port))
    _fill(LocalObjectStore(tmp_path / "store"))
    get_settings.cache_clear()
    started: list[ReportServer] = []
    seen: dict[str, object] = {}

    def start(*args: object) -> ReportServer:
        started.append(start_report_server(*args))  # type: ignore[arg-type]
        return started[-1]

    def fake_serve(*deployments: object) -> None:  # what the flow runs would see
        seen["deployments"] = len(deployments)
        seen["url"] = get_settings().reports_url
        seen["page"] = fetch(started[0], f"/{rkey('run-report.html')}")[2]

    monkeypatch.setattr(reportserver, "start_report_server", start)
    monkeypatch.setattr(prefect, "serve", fake_serve)
    try:
        outcome = CliRunner().invoke(cli.app, ["serve"])
    finally:
        for server in started:
            server.stop()
        get_settings.cache_clear()
    assert outcome.exit_code == 0, outcome.output
    assert f"reports served at http://127.0.0.1:{port}" in outcome.output
    assert seen["url"] == f"http://127.0.0.1:{port}" and seen["page"] == PAGE
    assert seen["deployments"]
