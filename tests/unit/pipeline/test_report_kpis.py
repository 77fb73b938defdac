"""The run report's KPIs and its work list on a day small enough to count by hand, and what
a person reads of it: the HTML page, the SVG charts, the markdown and the command."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from revcycle.channels.simulator import answer_key
from revcycle.codesets.carc import describe_carc
from revcycle.db import models
from revcycle.formatting import dollars
from revcycle.model.claim import Claim, ClaimType
from revcycle.model.remittance import Adjustment, ClaimPayment, Remittance
from revcycle.pipeline.batches import claims_in, move
from revcycle.pipeline.ingest import ingest
from revcycle.pipeline.kpis import LOOK_BACK_DAYS
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.report import ALL_TENANTS, build_day_report, day_report
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.reporting.charts import bar_chart
from revcycle.reporting.html import html_report
from revcycle.reporting.tables import markdown
from revcycle.simulator.payer import PayerSimulator
from revcycle.status import Status
from revcycle.storage import zone_prefix
from revcycle.x12.envelope import X12Reader
from revcycle.x12.remit835 import parse_835, write_835
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.unit.pipeline.conftest import (
    BOTH_DATABASES,
    DAY,
    PAYERS,
    RecordingChannel,
    drop_claims,
    factory,
    run_cli,
)

TENANT = "acme"
PAYER = PAYERS["SIMC1"]
ZERO = Decimal("0.00")


@dataclasses.dataclass
class Day:
    """The hand-built day: which claim ended where, and the claims as generated."""

    res: Resources
    generated: list[Claim]
    charge: dict[str, Decimal]  # role -> billed charge


def _remittance_template(data: bytes) -> Remittance:
    answer = PayerSimulator((PAYER.name, PAYER.payer_id), seed=0).respond(
        data, received=DAY, control_numbers=CounterControlNumbers(900))
    return X12Reader(answer.remittance_835, {"835": parse_835}).read().bodies(Remittance)[0]


@pytest.fixture(params=BOTH_DATABASES)
def day(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Day]:
    """Ten claims of one payer: one DQ_FAILED, one REJECTED at scrub, eight sent. Of the
    sent: A rejected by the payer's 277CA, B unanswered, C accepted, D paid less CO-45
    20.00 and PR-2 10.00, E paid less CO-45 15.00, F paid in full, G denied CO-16, H denied
    CO-50. The 835 also pays 12.34 on a claim we never sent (an exception), and a second,
    unbalanced 835 of 5.00 is held."""
    res = _resources(request, tmp_path)
    f = factory(TENANT, seed=61, payers=[PAYER.payer_id])
    generated = f.claims(10, ClaimType.PROFESSIONAL)
    drop_claims(res, TENANT, generated, f.submitter)
    batch = ingest(res, TENANT, DAY)["batch"]
    with res.sessions() as session:
        rows = claims_in(session, batch, Status.RECEIVED)
        assert len(rows) == 10
        ids = [r.id for r in rows]
        move(session, ids[:1], Status.RECEIVED, Status.DQ_FAILED, "quality")
        move(session, ids[1:], Status.RECEIVED, Status.VALIDATED, "quality")
        move(session, ids[1:2], Status.VALIDATED, Status.REJECTED, "scrub")
        move(session, ids[2:], Status.VALIDATED, Status.READY, "scrub")
        session.add_all([
            models.Edit(claim_id=ids[0], stage="quality", rule_id="claims-member-id",
                        severity="ERROR", message="subscriber member id is missing"),
            models.Edit(claim_id=ids[1], stage="scrub", rule_id="NPI-01", severity="ERROR",
                        message="billing provider NPI fails its check digit")])
        session.commit()
        by_role = dict(zip(("dq", "rejected", *"ABCDEFGH"), rows, strict=True))
        charge = {role: row.total_charge for role, row in by_role.items()}
        pcn = {role: row.patient_control_number for role, row in by_role.items()}
        role_id = {role: row.id for role, row in by_role.items()}
    channel = RecordingChannel()
    submit(res, batch, PAYER, channel)
    [(delivery, data)] = channel.deliveries
    with res.sessions() as session:
        move(session, [role_id["A"]], Status.SUBMITTED, Status.PAYER_REJECTED, "acks")
        move(session, [role_id["C"]], Status.SUBMITTED, Status.ACCEPTED, "acks")
        session.add(models.Edit(claim_id=role_id["A"], stage="acks", rule_id="277CA-A7:21",
                                severity="ERROR", message="payer rejected the claim: claim"
                                " status category A7, status code 21"))
        session.commit()
    assert charge["D"] > 30 and charge["E"] > 15
    template = _remittance_template(data)
    clp = template.claims[0]

    def paid(role: str, amount: Decimal, *cas: tuple[str, str, str], status: str = "1",
             number: str | None = None) -> ClaimPayment:
        adjustments = [Adjustment(g, r, Decimal(a)) for g, r, a in cas]
        return dataclasses.replace(
            clp, patient_control_number=number or pcn[role], status_code=status,
            charge=charge.get(role, amount), paid=amount,
            patient_responsibility=sum((a.amount for a in adjustments if a.group_code == "PR"),
                                       ZERO),
            adjustments=adjustments, service_payments=[])

    claims = [paid("D", charge["D"] - 30, ("CO", "45", "20.00"), ("PR", "2", "10.00")),
              paid("E", charge["E"] - 15, ("CO", "45", "15.00")),
              paid("F", charge["F"]),
              paid("G", ZERO, ("CO", "16", str(charge["G"])), status="4"),
              paid("H", ZERO, ("CO", "50", str(charge["H"])), status="4"),
              paid("stray", Decimal("12.34"), number="NOTOURS0001")]
    posted = dataclasses.replace(template, claims=claims, provider_adjustments=[],
                                 trace_number="KPI-1",
                                 total_paid=sum((c.paid for c in claims), ZERO))
    held = dataclasses.replace(template, claims=[paid("B", Decimal("5.00"))],
                               provider_adjustments=[], trace_number="KPI-2",
                               total_paid=Decimal("5.00"))
    written = write_835([posted, held], InterchangeHeader(Party(PAYER.payer_id),
                                                          Party("REVCYCLE"), usage_indicator="T"),
                        CounterControlNumbers(interchange=700))
    res.store.put(answer_key(dataclasses.replace(delivery, interchange_control_number="700"),
                             PAYER.payer_id, "835"), written.text.encode())
    outcome = post_remittances(res, batch, PAYER.payer_id)
    assert (outcome["claims_posted"], outcome["exceptions"], outcome["held"]) == (5, 1, 1)
    yield Day(res, generated, charge)
    res.engine.dispose()


def _resources(request: pytest.FixtureRequest, tmp_path: Path) -> Resources:
    from revcycle.settings import Settings

    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    return Resources.from_settings(Settings(home=tmp_path / "home", database_url=url))


def _rate(part: Decimal | int, whole: Decimal | int) -> float:
    return round(float(Decimal(part) / Decimal(whole)), 4)


def _report(day: Day) -> dict[str, Any]:
    with day.res.sessions() as session:
        return build_day_report(session, DAY, [TENANT])


def test_the_kpis_are_the_ones_counted_by_hand(day: Day) -> None:
    c = day.charge
    kpis = _report(day)["kpis"]

    # Nine first submissions decided (B awaits its answer); C..H passed everything.
    assert kpis["clean_claim_rate"] == {"rate": _rate(6, 9), "clean": 6, "decided": 9}
    # The payer answered for seven (A..H but B) and its front end rejected A.
    assert kpis["first_pass_acceptance"] == {"rate": _rate(6, 7), "accepted": 6,
                                             "answered": 7}
    denials = kpis["denial_rate"]
    assert (denials["rate"], denials["denied"], denials["adjudicated"]) == (0.4, 2, 5)
    assert denials["by_payer"] == [{"payer": PAYER.payer_id, "denied": 2, "adjudicated": 5,
                                    "denied_billed": str(c["G"] + c["H"]), "rate": 0.4}]
    assert denials["by_reason"] == [
        {"carc": "CO-16", "description": describe_carc("16"), "claims": 1,
         "amount": str(c["G"]), "rate": 0.2},
        {"carc": "CO-50", "description": describe_carc("50"), "claims": 1,
         "amount": str(c["H"]), "rate": 0.2}]
    payments = c["D"] - 30 + c["E"] - 15 + c["F"]
    charges = c["D"] + c["E"] + c["F"] + c["G"] + c["H"]
    assert kpis["net_collection_rate"] == {
        "rate": _rate(payments, charges - 35), "payments": str(payments),
        "charges": str(charges), "contractual": "35.00", "prior_payer_paid": "0.00"}
    # Open A/R: A (moved to rejected by hand here, its charge still booked), B and C, and
    # the denials G and H, in work until someone works them; charged today: the eight sent.
    open_ar = c["A"] + c["B"] + c["C"] + c["G"] + c["H"]
    daily = sum((c[r] for r in "ABCDEFGH"), ZERO) / LOOK_BACK_DAYS
    assert kpis["days_in_ar"] == {
        "days": round(float(open_ar / daily), 1), "open_ar": str(open_ar),
        "average_daily_charges": str(daily.quantize(ZERO)), "look_back_days": 90,
        "from": date(2026, 8, 5).isoformat(), "to": DAY.isoformat()}


def test_what_needs_a_person_is_counted_by_hand(day: Day) -> None:
    c = day.charge
    work = _report(day)["needs_a_person"]

    assert work["open_exceptions"] == {"count": 1, "amount": "12.34"}
    assert work["held_remittances"] == {"count": 1, "amount": "5.00"}
    assert work["rejected_by_edit"] == [{
        "rule": "NPI-01", "message": "billing provider NPI fails its check digit",
        "claims": 1, "billed": str(c["rejected"])}]
    assert work["dq_failed_by_expectation"] == [{
        "rule": "claims-member-id", "message": "subscriber member id is missing",
        "claims": 1, "billed": str(c["dq"])}]
    assert work["payer_rejected"] == {
        "claims": 1, "billed": str(c["A"]),
        "by_reason": [{"rule": "277CA-A7:21", "claims": 1, "billed": str(c["A"]),
                       "message": "payer rejected the claim: claim status category A7,"
                                  " status code 21"}]}
    assert work["denials_in_work"] == {"claims": 2, "billed": str(c["G"] + c["H"])}


def test_a_correction_is_not_a_first_submission(day: Day) -> None:
    """The corrected version of the claim scrub rejected, accepted, leaves the clean-claim
    rate as it was: it is a second submission."""
    with day.res.sessions() as session:
        [rejected] = session.scalars(select(models.Claim).where(
            models.Claim.status == Status.REJECTED)).all()
        columns = [c.key for c in models.Claim.__table__.columns if c.key != "id"]
        session.add(models.Claim(**{**{c: getattr(rejected, c) for c in columns},
                                    "status": Status.ACCEPTED}))
        session.commit()

    kpis = _report(day)["kpis"]

    assert kpis["clean_claim_rate"] == {"rate": _rate(6, 9), "clean": 6, "decided": 9}


def test_rates_with_nothing_to_divide_by_are_none(res: Resources) -> None:
    with res.sessions() as session:
        report = build_day_report(session, DAY, ["nobody"])
    kpis = report["kpis"]
    assert [kpis[k]["rate"] for k in ("clean_claim_rate", "first_pass_acceptance",
                                      "denial_rate", "net_collection_rate")] == [None] * 4
    assert kpis["days_in_ar"]["days"] is None
    assert "clean-claim rate | -" in markdown(report)


def _phi(claims: list[Claim]) -> set[str]:
    """What of the generated claims must never reach a report: names, member ids and
    birth dates (as written and as X12 writes them)."""
    values: set[str] = set()
    for claim in claims:
        for person in (claim.subscriber, claim.patient):
            if person is None:
                continue
            values |= {person.last_name, person.first_name}
            if person.birth_date is not None:
                values |= {person.birth_date.isoformat(), f"{person.birth_date:%Y%m%d}"}
        values.add(claim.subscriber.member_id)
    return {v for v in values if len(v) >= 3}


def test_the_html_report_is_self_contained_and_has_no_phi(day: Day) -> None:
    report = day_report(day.res, DAY, [TENANT])

    keys = report["report_keys"][TENANT]
    page = day.res.store.get(keys["html"]).decode()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    for external in ("http://", "https://", "src=", "href=", "url(", "@import", "<script",
                     "<link"):
        assert external not in page.lower(), external
    # The same tables as the markdown, dollars formatted.
    c = day.charge
    for text in ("claims by status", "KPIs", "top edits", "denials by payer",
                 "denials by reason", "what needs a person", "A/R aging",
                 dollars(c["G"] + c["H"]), "$12.34", describe_carc("50")):
        assert text in page, text
    assert str(c["G"] + c["H"]) not in markdown(report["by_tenant"][TENANT])
    # No patient data in anything the reports zone holds for the day.
    phi = _phi(day.generated)
    assert phi
    for owner in (TENANT, ALL_TENANTS):
        for key in day.res.store.list(zone_prefix(owner, "reports", DAY)):
            text = day.res.store.get(key).decode()
            assert not [v for v in phi if v in text], key


def test_the_svg_charts_are_well_formed_and_escaped(day: Day) -> None:
    report = day_report(day.res, DAY, [TENANT])

    for name in ("claims-by-status", "denials-by-reason"):
        svg = day.res.store.get(report["report_keys"][TENANT][name])
        root = ElementTree.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = [t.text for t in ElementTree.fromstring(svg).iter(
        "{http://www.w3.org/2000/svg}text")]
    assert "CO-16 " + dollars(day.charge["G"]) in labels
    again = day_report(day.res, DAY, [TENANT])["report_keys"][TENANT]["denials-by-reason"]
    assert day.res.store.get(again) == svg  # the same figures give the same bytes
    odd = bar_chart("a <b> & 'c'", [("<script>", 1), ("x & y", Decimal("2.5"))])
    texts = [t.text for t in ElementTree.fromstring(odd).iter(
        "{http://www.w3.org/2000/svg}text")]
    assert {"a <b> & 'c'", "<script>", "x & y"} <= set(texts)
    assert ElementTree.fromstring(bar_chart("empty", [])).find(
        "{http://www.w3.org/2000/svg}title").text == "empty"


def test_the_report_command(day: Day, monkeypatch: pytest.MonkeyPatch,
                            tmp_path: Path) -> None:
    c = day.charge
    printed = run_cli(day.res, monkeypatch, "report", "--date", DAY.isoformat())
    assert printed.exit_code == 0, printed.output
    for text in ("clean-claim rate", "66.7%", "what needs a person", "NPI-01",
                 dollars(c["G"] + c["H"]), "CO-50"):
        assert text in printed.output, text

    page = tmp_path / "day.html"
    written = run_cli(day.res, monkeypatch, "report", "--date", DAY.isoformat(),
                      "--tenant", TENANT, "--html", str(page))
    assert written.exit_code == 0, written.output
    assert str(page) in written.output.replace("\n", "")
    assert page.read_text() == html_report(_report(day))

    as_json = run_cli(day.res, monkeypatch, "report", "--date", DAY.isoformat(), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["kpis"] == _report(day)["kpis"]
    assert day.res.store.list(zone_prefix(TENANT, "reports")) == []  # it only reads


def test_the_report_task_publishes_artifacts(day: Day,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.report as task_module

    published: list[tuple[str, dict[str, Any]]] = []
    for name in ("create_markdown_artifact", "create_table_artifact",
                 "create_link_artifact", "create_image_artifact"):
        monkeypatch.setattr(task_module, name, lambda *a, _n=name, **k: published.append(
            (_n, {"args": a, **k})))
    monkeypatch.setattr(task_module, "get_resources", lambda: day.res)

    task_module.report_task.fn(DAY, [TENANT])

    keys = [p["key"] for _, p in published]
    assert all(re.fullmatch(r"[a-z0-9-]+", k) for k in keys), keys
    assert len(set(keys)) == len(keys)
    assert {"run-report-acme-20261102", "run-report-20261102",
            "needs-a-person-20261102"} <= set(keys)
    [tenant_md] = [p for n, p in published if p["key"] == "run-report-acme-20261102"]
    assert dollars(day.charge["G"] + day.charge["H"]) in tenant_md["args"][0]
    [table] = [p for n, p in published if n == "create_table_artifact"]
    rows = table["args"][0]
    assert {(r["what"], r["count"]) for r in rows} >= {
        ("open posting exceptions", 1), ("held 835s", 1), ("denials in work", 2)}
    assert all(r["tenant"] == TENANT for r in rows)
    # Charts as links when the reports zone is not served over HTTP.
    assert sum(n == "create_link_artifact" and p["key"].startswith("chart-")
               for n, p in published) == 2
    # Images when a report server serves it: the dashboard shows them inline.
    published.clear()
    monkeypatch.setattr(day.res.settings, "reports_url", "http://127.0.0.1:8765/")
    task_module.report_task.fn(DAY, [TENANT])
    images = [p["args"][0] for n, p in published if n == "create_image_artifact"]
    assert images == [f"http://127.0.0.1:8765/_all/reports/{DAY}/_all-20261102/{name}.svg"
                      for name in ("claims-by-status", "denials-by-reason")]


def test_doctests_run_and_pass() -> None:
    import doctest

    import revcycle.pipeline.kpis
    import revcycle.reporting.charts
    import tasks.report

    for module in (revcycle.pipeline.kpis, revcycle.reporting.charts, tasks.report):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__
