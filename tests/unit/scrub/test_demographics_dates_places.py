"""Demographic (DEM-01, DEM-02), timely filing (DT-03) and place-of-service (POS-01, POS-02)
rules: for each, a claim that trips it and the nearest claim that does not, built from the
simulator's clean claims by changing one field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from revcycle.model.claim import Claim, Patient, Provider
from revcycle.scrub import Finding, ScrubContext, Severity, dates, demographics, places
from tests.unit.scrub.test_syntax_identifiers import INST, PRO, RULES, clean, ctx, run

AS_OF = ctx().as_of


def _dependent(claim: Claim) -> bool:
    return claim.patient is not None


def _self(claim: Claim) -> bool:
    return claim.patient is None


def _first_date(claim: Claim) -> date:
    first = claim.service_date
    assert first is not None
    return first


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else (
        day.replace(year=day.year - years, day=28))


# ------------------------------------------------------------------ DEM-01


def test_dem01_patient_birth_date_missing_on_837p() -> None:
    claim = clean(PRO, _self)
    claim.subscriber.birth_date = None
    [finding] = run(claim)
    assert finding == Finding(
        "DEM-01", "demographics", Severity.ERROR,
        "subscriber birth date is missing (the subscriber is the patient)", "2010BA DMG02",
        None)
    claim = clean(PRO, _dependent)
    claim.patient.birth_date = None  # type: ignore[union-attr]
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.message) == (
        "DEM-01", "2010CA DMG02", "patient birth date is missing")


def test_dem01_nearest_passing_missing_dates() -> None:
    # The subscriber of a dependent's 837P, and any person on an 837I, may go without.
    claim = clean(PRO, _dependent)
    claim.subscriber.birth_date = None
    assert run(claim) == []
    claim = clean(INST)
    claim.subscriber.birth_date = None
    assert run(claim) == []


@pytest.mark.parametrize("claim_type", [PRO, INST])
def test_dem01_birth_date_in_the_future(claim_type) -> None:
    claim = clean(claim_type, _self)
    claim.subscriber.birth_date = AS_OF + timedelta(days=1)
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.message) == (
        "DEM-01", "2010BA DMG02", "subscriber birth date is after the business date")


def test_dem01_birth_date_after_the_date_of_service() -> None:
    claim = clean(PRO, _dependent)
    claim.patient.birth_date = _first_date(claim) + timedelta(days=1)  # type: ignore[union-attr]
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.message) == (
        "DEM-01", "2010CA DMG02", "patient birth date is after the date of service")


def test_dem01_newborn_seen_on_the_day_of_birth_passes() -> None:
    claim = clean(PRO, _dependent)
    claim.patient.birth_date = _first_date(claim)  # type: ignore[union-attr]
    assert run(claim) == []


def test_dem01_more_than_120_years_before_the_service() -> None:
    claim = clean(INST, _self)
    first = _first_date(claim)
    claim.subscriber.birth_date = _years_before(first, 120) - timedelta(days=1)
    [finding] = run(claim)
    assert (finding.rule_id, finding.message) == (
        "DEM-01", "subscriber birth date is more than 120 years before the date of service")
    claim.subscriber.birth_date = _years_before(first, 120)  # exactly 120: passes
    assert run(claim) == []


def test_dem01_age_counts_from_the_first_date_of_service() -> None:
    claim = clean(PRO, lambda c: len({ln.service_date for ln in c.service_lines}) > 1)
    first = _first_date(claim)
    claim.subscriber.birth_date = _years_before(first, 120)
    assert demographics.plausible_birth_dates(claim, ctx()) == []
    claim.subscriber.birth_date -= timedelta(days=1)
    assert len(demographics.plausible_birth_dates(claim, ctx())) == 1


# ------------------------------------------------------------------ DEM-02


def _patient_like_subscriber(claim: Claim, relationship: str = "19") -> Patient:
    s = claim.subscriber
    return Patient(f" {s.last_name.lower()}", s.first_name, relationship, s.birth_date, s.sex)


@pytest.mark.parametrize("claim_type", [PRO, INST])
@pytest.mark.parametrize("relationship", ["19", "01", "18"])
def test_dem02_patient_loop_that_repeats_the_subscriber(claim_type, relationship) -> None:
    claim = clean(claim_type, _self)
    claim.patient = _patient_like_subscriber(claim, relationship)
    [finding] = run(claim)
    assert finding == Finding(
        "DEM-02", "demographics", Severity.ERROR,
        "patient has the subscriber's name and birth date: the patient is the subscriber "
        "(relationship 18), and the claim should have no patient loop", "2000C PAT01", None)


@pytest.mark.parametrize("change", [
    lambda p: setattr(p, "first_name", p.first_name + "A"),  # twins
    lambda p: setattr(p, "last_name", "OTHERNAME"),
    lambda p: setattr(p, "birth_date", p.birth_date - timedelta(days=1)),
])
def test_dem02_nearest_passing_patients_differ_in_one_part(change) -> None:
    claim = clean(PRO, _self)
    claim.patient = _patient_like_subscriber(claim)
    change(claim.patient)
    assert run(claim) == []


def test_dem02_clean_dependents_pass() -> None:
    claim = clean(PRO, _dependent)
    assert claim.patient is not None and claim.patient.first_name
    assert demographics.patient_is_not_the_subscriber(claim, ctx()) == []


# ------------------------------------------------------------------ DT-03, DT-04


def _counted_from(claim: Claim) -> date:
    """Where the filing limit counts from: an 837I's statement period end (its "through"
    date), else the first date of service."""
    if claim.claim_type is INST and claim.statement_to is not None:
        return claim.statement_to
    return _first_date(claim)


def _filed_after(claim: Claim, days: int) -> ScrubContext:
    """A context whose business date is ``days`` after the date the limit counts from."""
    return ScrubContext(as_of=_counted_from(claim) + timedelta(days=days))


def _stay(claim: Claim) -> bool:
    return (claim.statement_from is not None and claim.statement_to is not None
            and claim.statement_to > claim.statement_from)


@pytest.mark.parametrize(("claim_type", "field", "start"), [
    (PRO, "2400 DTP03", "first date of service"),
    (INST, "2300 DTP03", "statement period end (the through date)")])
def test_dt03_default_limit_is_365_days(claim_type, field, start) -> None:
    claim = clean(claim_type)
    [finding] = RULES.run(claim, _filed_after(claim, 366))
    assert finding == Finding(
        "DT-03", "dates", Severity.ERROR,
        f"{start} is more than 365 days before the business date (the payer's "
        "timely filing limit)", field, None)
    # the last day is in time: no error, a warning that no day is left
    assert [(f.rule_id, f.severity) for f in RULES.run(claim, _filed_after(claim, 365))] == [
        ("DT-04", Severity.WARNING)]


def test_dt03_payer_limits_from_the_context() -> None:
    claim = clean(PRO)
    payer = claim.payer.payer_id
    context = _filed_after(claim, 91)
    context.timely_filing_days = {payer: 90}
    [finding] = dates.timely_filing(claim, context)
    assert "more than 90 days" in finding.message
    context.timely_filing_days = {payer: 91}
    assert dates.timely_filing(claim, context) == []
    context = _filed_after(claim, 400)
    context.timely_filing_days = {payer: 730, "OTHER": 90}
    assert dates.timely_filing(claim, context) == []
    context.timely_filing_days = {"OTHER": 730}  # another payer's limit does not apply
    assert len(dates.timely_filing(claim, context)) == 1


def test_dt03_counts_from_the_first_date_of_service() -> None:
    claim = clean(PRO, lambda c: len({ln.service_date for ln in c.service_lines}) > 1)
    first = _first_date(claim)
    last = max(ln.service_date for ln in claim.service_lines if ln.service_date)
    assert last > first
    context = ScrubContext(as_of=last + timedelta(days=365))  # in time for the last line only
    assert len(dates.timely_filing(claim, context)) == 1
    assert dates.timely_filing(claim, ScrubContext(as_of=first + timedelta(days=365))) == []


def test_dt03_counts_an_institutional_stay_from_its_through_date() -> None:
    claim = clean(INST, _stay)
    assert claim.statement_from is not None and claim.statement_to is not None
    after_start = ScrubContext(as_of=claim.statement_from + timedelta(days=366))
    assert dates.timely_filing(claim, after_start) == []  # late from the admission only
    [finding] = dates.timely_filing(claim, _filed_after(claim, 366))
    assert finding.field == "2300 DTP03" and "through date" in finding.message


def test_dt03_an_institutional_claim_without_a_statement_end_counts_from_service() -> None:
    claim = clean(INST)
    claim.statement_to = None
    assert len(dates.timely_filing(claim, _filed_after(claim, 366))) == 1
    assert dates.timely_filing(claim, _filed_after(claim, 365)) == []


@pytest.mark.parametrize("code", ["1", "7", "11", "15"])
def test_dt03_a_delay_reason_code_makes_a_late_claim_a_warning_naming_it(code) -> None:
    claim = clean(PRO)
    claim.delay_reason_code = code
    context = _filed_after(claim, 500)
    assert dates.timely_filing(claim, context) == []  # not blocked: the payer decides
    [finding] = dates.timely_filing_warnings(claim, context)
    assert (finding.rule_id, finding.severity, finding.field) == (
        "DT-04", Severity.WARNING, "2300 CLM20")
    assert f"delay reason code {code} " in finding.message
    assert "365 days" in finding.message


@pytest.mark.parametrize(("days", "left"), [(335, 30), (350, 15), (364, 1), (365, 0)])
def test_dt04_warns_within_30_days_of_the_limit_with_the_days_left(days, left) -> None:
    claim = clean(PRO)
    [finding] = dates.timely_filing_warnings(claim, _filed_after(claim, days))
    assert finding == Finding(
        "DT-04", "dates", Severity.WARNING,
        f"{left} day{'' if left == 1 else 's'} left before the payer's timely filing limit "
        "(365 days from the first date of service)", "2400 DTP03", None)
    assert dates.timely_filing(claim, _filed_after(claim, days)) == []


@pytest.mark.parametrize("days", [0, 100, 334])
def test_dt04_nearest_passing_more_than_30_days_left(days) -> None:
    claim = clean(INST)
    assert dates.timely_filing_warnings(claim, _filed_after(claim, days)) == []


def test_dt04_uses_the_payers_limit_and_nothing_after_the_limit_without_a_delay_code() -> None:
    claim = clean(INST)
    context = _filed_after(claim, 80)
    context.timely_filing_days = {claim.payer.payer_id: 90}
    [finding] = dates.timely_filing_warnings(claim, context)
    assert finding.message.startswith("10 days left") and "(90 days from the statement" in (
        finding.message)
    assert finding.field == "2300 DTP03"
    context = _filed_after(claim, 91)
    context.timely_filing_days = {claim.payer.payer_id: 90}
    assert dates.timely_filing_warnings(claim, context) == []  # DT-03's error says it all
    assert len(dates.timely_filing(claim, context)) == 1


def test_dt03_dt04_claims_without_dates_are_not_judged() -> None:
    claim = clean(PRO)
    for line in claim.service_lines:
        line.service_date = None
    context = ScrubContext(as_of=AS_OF)
    assert dates.timely_filing(claim, context) == dates.timely_filing_warnings(claim, context) == []


# ------------------------------------------------------------------ POS-01


@pytest.mark.parametrize("code", ["30", "1", "011", "", "AB", "59", "00"])
def test_pos01_claim_place_is_a_cms_code(code) -> None:
    claim = clean(PRO, lambda c: c.facility_code == "11")
    claim.facility_code = code
    [finding] = run(claim)
    assert finding == Finding(
        "POS-01", "place", Severity.ERROR,
        "place of service is not a CMS place of service code", "2300 CLM05-1", None)


@pytest.mark.parametrize(("code", "effective"), [
    ("10", date(2022, 1, 1)), ("27", date(2023, 10, 1)), ("66", date(2024, 8, 1)),
    ("02", date(2017, 1, 1)), ("19", date(2016, 1, 1)),
])
def test_pos01_code_in_effect_on_the_date_of_service(code, effective) -> None:
    claim = clean(PRO, lambda c: c.facility_code == "10")
    claim.facility_code = code
    shift = _first_date(claim) - effective + timedelta(days=1)
    for line in claim.service_lines:  # the day before the code took effect
        line.service_date -= shift  # type: ignore[operator]
    context = ScrubContext(as_of=effective + timedelta(days=30))  # filed back then
    [finding] = places.valid_place_of_service(claim, context)
    assert (finding.rule_id, finding.field, finding.message) == (
        "POS-01", "2300 CLM05-1",
        "place of service was not yet in effect on the date of service")
    for line in claim.service_lines:  # the day it took effect
        line.service_date += timedelta(days=1)  # type: ignore[operator]
    assert places.valid_place_of_service(claim, context) == []


def test_pos01_line_place_of_service() -> None:
    claim = clean(PRO, lambda c: c.facility_code == "11" and len(c.service_lines) > 1)
    claim.service_lines[1].place_of_service = "28"
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number, finding.message) == (
        "POS-01", "2400 SV105", 2,
        "service line 2 place of service is not a CMS place of service code")
    claim.service_lines[1].place_of_service = "12"  # home: a valid place of its own
    assert run(claim) == []


def test_pos01_837i_carries_a_type_of_bill_not_a_place() -> None:
    claim = clean(INST)
    assert claim.facility_code in ("11", "13")  # inpatient, outpatient hospital bills
    claim.facility_code = "86"  # not a place of service, and not this rule's business
    assert places.valid_place_of_service(claim, ctx()) == []
    assert places.facility_is_named(claim, ctx()) == []


# ------------------------------------------------------------------ POS-02


@pytest.mark.parametrize("code", ["21", "22", "23", "19", "24", "31", "51", "61"])
def test_pos02_facility_place_names_the_facility(code) -> None:
    claim = clean(PRO, lambda c: c.facility_code in ("21", "22", "23"))
    claim.facility_code = code
    claim.service_facility = None
    [finding] = run(claim)
    assert finding == Finding(
        "POS-02", "place", Severity.ERROR,
        "place of service is a facility (hospital, nursing facility, surgical center...) but "
        "the claim names no service facility (2310C)", "2300 CLM05-1", None)


def test_pos02_nearest_passing_claims() -> None:
    claim = clean(PRO, lambda c: c.facility_code in ("21", "22", "23"))
    assert claim.service_facility is not None
    assert run(claim) == []  # the facility is named
    claim = clean(PRO, lambda c: c.facility_code == "11" and c.service_facility is None)
    assert run(claim) == []  # the billing provider's own office
    for code in ("41", "42", "02", "12", "32"):  # ambulance, telehealth, home, nursing home
        claim.facility_code = code
        assert run(claim) == [], code


def test_pos02_line_at_a_facility() -> None:
    claim = clean(PRO, lambda c: c.facility_code == "11" and c.service_facility is None
                  and len(c.service_lines) > 1)
    claim.service_lines[1].place_of_service = "22"
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number) == ("POS-02", "2400 SV105", 2)
    assert finding.message == ("service line 2 place of service is a facility but the claim "
                               "names no service facility (2310C)")
    claim.service_facility = Provider("2", "SAMPLE HOSPITAL", npi="1234567893")
    assert run(claim) == []
