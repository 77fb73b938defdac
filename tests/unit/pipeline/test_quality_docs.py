"""The quality stage publishes its Data Docs to the batch's reports zone and links them:
pages a browser opens, without a value of the claims, every run of the batch indexed."""

from __future__ import annotations

import re
import urllib.request
from dataclasses import replace

from sqlalchemy import select

from revcycle.db import models
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.quality import check_quality
from revcycle.pipeline.resources import Resources
from revcycle.reportserver import start_report_server
from revcycle.storage import object_key
from tests.unit.pipeline.conftest import DAY, drop_claims, factory


def _day(res: Resources, seed: int, n: int = 12) -> tuple[str, list]:
    f = factory("lakeview", seed=seed)
    sim = f.generate(n, defect_rate=0.4, defects=("DEM-01",))  # born after the service
    drop_claims(res, "lakeview", sim.claims, f.submitter)
    return ingest(res, "lakeview", DAY)["batch"], sim.claims


def test_data_docs_go_to_the_reports_zone_and_the_link_opens(res: Resources) -> None:
    batch, claims = _day(res, seed=21)
    result = check_quality(res, batch)
    assert result["failed"] > 0
    base = object_key("lakeview", "reports", DAY, batch, "data-docs")
    keys = res.store.list(f"{base}/")
    pages = [k for k in keys if re.fullmatch(rf"{base}/run-\d{{8}}T\d{{9}}Z\.html", k)]
    assert len(pages) == 1 and f"{base}/index.html" in keys
    assert result["data_docs"] == res.store.uri(pages[0])  # a folder store: its file URI
    with urllib.request.urlopen(result["data_docs"]) as response:
        page = response.read().decode()
    assert f"Data quality run {batch}-" in page

    with res.sessions() as session:
        failed = set(session.scalars(select(models.Edit.claim_id)
                                     .where(models.Edit.stage == "quality")))
    assert failed and all(re.search(rf"\b{claim_id}\b", page) for claim_id in failed)
    everything = "".join(res.store.get(k).decode() for k in keys)
    for c in claims:
        people = [c.subscriber, *([c.patient] if c.patient else [])]
        for day in {p.birth_date for p in people} | {c.service_date}:
            assert day is None or day.isoformat() not in everything
        assert c.patient_control_number not in everything


def test_each_run_is_indexed_and_linked_through_the_report_server(res: Resources) -> None:
    first_batch, _ = _day(res, seed=22, n=4)
    first = check_quality(res, first_batch)
    batch, _ = _day(res, seed=23, n=3)  # later files of the same day: the same batch
    assert batch == first_batch
    server = start_report_server(res.store)
    try:
        served = replace(res, settings=res.settings.model_copy(
            update={"reports_url": server.url}))
        second = check_quality(served, batch)
        assert second["claims"] == 3
        assert second["data_docs"].startswith(f"{server.url}/lakeview/reports/")
        with urllib.request.urlopen(second["data_docs"], timeout=10) as response:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert b"Data quality run" in response.read()
        index_url = second["data_docs"].rpartition("/")[0] + "/"
        with urllib.request.urlopen(index_url, timeout=10) as response:
            index = response.read().decode()
    finally:
        server.stop()
    first_page = first["data_docs"].rpartition("/")[2]
    second_page = second["data_docs"].rpartition("/")[2]
    assert first_page != second_page
    assert index.index(second_page) < index.index(first_page)  # newest first
