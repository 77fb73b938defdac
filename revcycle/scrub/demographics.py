"""Demographic rules: who was treated is told plausibly and once.

Payers match a claim to a member by name, member id and birth date, so a missing or
impossible birth date is rejected, and a patient loop (2000C) that repeats the
subscriber means the relationship was coded wrong: when the patient is the subscriber,
the claim says so (SBR02 = 18) and has no patient loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from revcycle.model.claim import Claim, ClaimType, Patient, Subscriber
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

_MAX_AGE = 120  # years between birth and the date of service
_SUBSCRIBER = "2010BA DMG02"
_PATIENT = "2010CA DMG02"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _birth_problem(birth: date, service: date, as_of: date) -> str:
    """What is wrong with a birth date ("" when nothing)."""
    if birth > as_of:
        return "is after the business date"
    if birth > service:
        return "is after the date of service"
    if (service - birth).days > _MAX_AGE * 365 and birth < _years_before(service, _MAX_AGE):
        return f"is more than {_MAX_AGE} years before the date of service"
    return ""


@rule("DEM-01", family="demographics", severity=Severity.ERROR,
      message="patient birth date is missing or not plausible", field=_SUBSCRIBER)
def plausible_birth_dates(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The patient's birth date is there on an 837P (the TR3 requires it), and every
    birth date on the claim is before the service, not in the future and at most 120
    years before the (first) date of service."""
    patient = claim.patient
    if claim.claim_type is ClaimType.PROFESSIONAL:
        if patient is None:
            if claim.subscriber.birth_date is None:
                yield Hit(_SUBSCRIBER, None,
                          "subscriber birth date is missing (the subscriber is the patient)")
        elif patient.birth_date is None:
            yield Hit(_PATIENT, None, "patient birth date is missing")
    service = claim.service_date or ctx.as_of
    people: tuple[tuple[str, str, Subscriber | Patient | None], ...] = (
        ("subscriber", _SUBSCRIBER, claim.subscriber), ("patient", _PATIENT, patient))
    for who, field, person in people:
        if person is None or person.birth_date is None:
            continue
        problem = _birth_problem(person.birth_date, service, ctx.as_of)
        if problem:
            yield Hit(field, None, f"{who} birth date {problem}")


def _same_name(a: str, b: str) -> bool:
    return a.strip().upper() == b.strip().upper()


@rule("DEM-02", family="demographics", severity=Severity.ERROR,
      message="patient has the subscriber's name and birth date: the patient is the "
              "subscriber (relationship 18), and the claim should have no patient loop",
      field="2000C PAT01")
def patient_is_not_the_subscriber(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """A patient loop is for someone other than the subscriber: its name and birth date
    do not both equal the subscriber's."""
    patient, subscriber = claim.patient, claim.subscriber
    if (patient is not None and patient.birth_date is not None
            and patient.birth_date == subscriber.birth_date
            and _same_name(patient.last_name, subscriber.last_name)
            and _same_name(patient.first_name, subscriber.first_name)):
        yield Hit()
