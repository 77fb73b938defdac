"""report_link: the report server's URL, else a presigned S3 URL, else the file's URI."""

from __future__ import annotations

import urllib.request
import uuid
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from revcycle.pipeline.links import report_link
from revcycle.pipeline.resources import Resources
from revcycle.settings import Settings
from revcycle.storage import LocalObjectStore, ObjectStore, S3ObjectStore, object_key

KEY = object_key("acme", "reports", date(2026, 3, 2), "acme-20260302", "run-report.html")
PAGE = b"<!DOCTYPE html><p>report</p>"


def _res(store: ObjectStore, **settings: Any) -> Resources:
    # report_link needs the settings and the store only.
    return Resources(Settings(**settings), None, None, store)  # type: ignore[arg-type]


def test_the_report_servers_url_comes_first(tmp_path: Path) -> None:
    res = _res(LocalObjectStore(tmp_path), reports_url="http://127.0.0.1:4210/")
    assert report_link(res, KEY) == f"http://127.0.0.1:4210/{KEY}"


def test_a_local_store_gives_the_files_uri(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put(KEY, PAGE)
    link = report_link(_res(store), KEY)
    assert link == (tmp_path.resolve() / KEY).as_uri()
    with urllib.request.urlopen(link) as response:
        assert response.read() == PAGE


def test_an_s3_store_gives_a_presigned_url_a_browser_opens(s3_endpoint: str) -> None:
    store = S3ObjectStore(f"t-{uuid.uuid4().hex[:20]}", endpoint_url=s3_endpoint,
                          region="us-east-1", create_bucket=True)
    store.put(KEY, PAGE)
    link = report_link(_res(store, reports_link_expiry_s=3600), KEY)
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == ["3600"]
    assert query["response-content-type"] == ["text/html; charset=utf-8"]
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.read() == PAGE
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    default = parse_qs(urlsplit(report_link(_res(store), KEY)).query)
    assert default["X-Amz-Expires"] == [str(7 * 24 * 3600)]
