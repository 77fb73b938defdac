"""Diagnosis rules: the codes are billable ICD-10-CM codes that fit the patient and each
other, and the lines point at them.

Age and sex conflicts (DX-02, DX-03) are warnings by default: a code meant for another
age or sex is usually a keying error, but not always (a perinatal condition can last a
lifetime; a patient's recorded sex may differ from the one a code assumes), so a payer
that rejects them raises the rules to errors with ``RuleSet.override``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from revcycle.codesets.icd10_edits import ages_of, exclusive_pairs, sex_of
from revcycle.model.claim import Claim, ClaimType
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

_MAX_POINTERS = 4  # SV107 has four components
_MAX_DIAGNOSES = 12  # an 837P HI segment holds twelve; pointers cannot reach further


def _diagnosis_field(claim: Claim, index: int) -> str:
    """Where the diagnosis at ``index`` (0 = principal) stands in the 2300 HI segments."""
    if claim.claim_type is ClaimType.PROFESSIONAL:
        return f"2300 HI{index + 1:02d}-2"
    if index == 0:
        return "2300 HI01-2 (ABK)"
    return f"2300 HI{(index - 1) % 12 + 1:02d}-2 (ABF)"


def _which(index: int) -> str:
    """How a message names the diagnosis at ``index`` (0 = principal)."""
    return "principal diagnosis" if index == 0 else f"diagnosis {index + 1}"


_ADMITTING_FIELD = "2300 HI01-2 (ABJ)"
_EXTERNAL_CAUSE = ("V", "W", "X", "Y")  # chapter 20, V00-Y99


@rule("DX-01", family="diagnoses", severity=Severity.ERROR,
      message="diagnosis is not a billable ICD-10-CM code", field="2300 HI01-2")
def billable_diagnoses(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Every diagnosis (and an 837I's admitting diagnosis) is a billable ICD-10-CM code in
    the release of ``ctx.icd10`` (the scrub result records which)."""
    if not claim.diagnoses:
        yield Hit(message="the claim has no diagnosis")
        return
    if claim.icd9:
        yield Hit(message="diagnoses are coded in ICD-9-CM; ICD-10-CM is required")
        return
    icd10 = ctx.icd10.for_date(claim.service_date or ctx.as_of)  # the release then in effect
    code_set = f"ICD-10-CM {icd10.release}"
    for index, code in enumerate(claim.diagnoses):
        if not icd10.is_billable(code):
            what = "principal diagnosis" if index == 0 else f"diagnosis {index + 1}"
            yield Hit(_diagnosis_field(claim, index), None,
                      f"{what} is not a billable ICD-10-CM code", code_set)
    if claim.admitting_diagnosis and not icd10.is_billable(claim.admitting_diagnosis):
        yield Hit("2300 HI01-2 (ABJ)", None,
                  "admitting diagnosis is not a billable ICD-10-CM code", code_set)


@rule("PTR-01", family="diagnoses", severity=Severity.ERROR,
      message="service line diagnosis pointers are missing or match no diagnosis",
      field="2400 SV107")
def diagnosis_pointers(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Each 837P line has one to four diagnosis pointers, each to a diagnosis of the claim."""
    if claim.claim_type is not ClaimType.PROFESSIONAL:
        return
    count = min(len(claim.diagnoses), _MAX_DIAGNOSES)
    for number, line in enumerate(claim.service_lines, 1):
        pointers = line.diagnosis_pointers
        if not pointers:
            yield Hit(line_number=number,
                      message=f"service line {number} has no diagnosis pointer")
        elif len(pointers) > _MAX_POINTERS:
            yield Hit(line_number=number,
                      message=f"service line {number} has more than four diagnosis pointers")
        elif min(pointers) < 1 or max(pointers) > count:
            yield Hit(line_number=number, message=(
                f"service line {number} has a diagnosis pointer that matches none of the "
                "claim's diagnoses"))


def _age(born: date, on: date) -> int:
    """Age in whole years on a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@rule("DX-02", family="diagnoses", severity=Severity.WARNING,
      message="diagnosis does not fit the patient's age", field="2300 HI01-2")
def diagnosis_fits_age(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No diagnosis is meant for another age (newborn, child, maternity, adult codes) than
    the patient's (the subscriber's when there is no patient loop) on the first date of
    service. Without a birth date or a date of service there is nothing to check."""
    if claim.icd9:
        return
    limited = [(index, span) for index, code in enumerate(claim.diagnoses)
               if (span := ages_of(code)) is not None]
    admitting = ages_of(claim.admitting_diagnosis) if claim.admitting_diagnosis else None
    if not limited and admitting is None:
        return
    born = (claim.patient or claim.subscriber).birth_date
    on = claim.service_date
    if born is None or on is None or born > on:
        return  # DEM-01's business
    age = _age(born, on)
    for index, (low, high) in limited:
        if not low <= age <= high:
            yield Hit(_diagnosis_field(claim, index), None,
                      f"{_which(index)} does not fit the patient's age")
    if admitting is not None and not admitting[0] <= age <= admitting[1]:
        yield Hit(_ADMITTING_FIELD, None, "admitting diagnosis does not fit the patient's age")


@rule("DX-03", family="diagnoses", severity=Severity.WARNING,
      message="diagnosis does not fit the patient's sex", field="2300 HI01-2")
def diagnosis_fits_sex(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No diagnosis is meant for the other sex than the patient's (the subscriber's when
    there is no patient loop); an unknown sex ("U" or none) conflicts with nothing."""
    if claim.icd9:
        return
    sex = (claim.patient or claim.subscriber).sex
    if sex != "F" and sex != "M":
        return
    for index, code in enumerate(claim.diagnoses):
        meant = sex_of(code)
        if meant is not None and meant != sex:
            yield Hit(_diagnosis_field(claim, index), None,
                      f"{_which(index)} does not fit the patient's sex")
    if claim.admitting_diagnosis:
        meant = sex_of(claim.admitting_diagnosis)
        if meant is not None and meant != sex:
            yield Hit(_ADMITTING_FIELD, None, "admitting diagnosis does not fit the patient's sex")


@rule("DX-04", family="diagnoses", severity=Severity.ERROR,
      message="an external-cause code (V00-Y99) cannot be the principal diagnosis",
      field="2300 HI01-2")
def external_cause_not_first(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The first diagnosis is not an external-cause code (chapter 20, V00-Y99): those say
    how an injury happened, never what was treated, and are only ever secondary."""
    if claim.diagnoses and not claim.icd9 and claim.diagnoses[0].startswith(_EXTERNAL_CAUSE):
        yield Hit(_diagnosis_field(claim, 0))


@rule("DX-05", family="diagnoses", severity=Severity.ERROR,
      message="two diagnoses are mutually exclusive (ICD-10-CM Excludes1)",
      field="2300 HI01-2")
def no_excludes1_pair(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No two diagnoses of the claim are an Excludes1 pair: one code's Excludes1 notes (or
    its ancestors') name the other, so they may never be coded together. The notes are
    those of the release in effect on the first date of service (``ctx.icd10.for_date``
    when the context holds several releases). The finding points at the later code."""
    codes = claim.diagnoses
    if len(codes) < 2 or claim.icd9:
        return
    release: object = ctx.icd10
    for_date = getattr(release, "for_date", None)
    on = claim.service_date
    if for_date is not None and on is not None:
        release = for_date(on)
    for earlier, later in exclusive_pairs(codes, release):
        yield Hit(_diagnosis_field(claim, later), None,
                  f"{_which(earlier)} and diagnosis {later + 1} are mutually exclusive "
                  "(ICD-10-CM Excludes1)")


@rule("DX-06", family="diagnoses", severity=Severity.ERROR,
      message="the claim has more than 12 diagnoses; an 837P carries at most 12",
      field="2300 HI")
def at_most_twelve_diagnoses(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """An 837P holds 12 diagnoses (one HI segment, and the pointers reach no further)."""
    if claim.claim_type is ClaimType.PROFESSIONAL and len(claim.diagnoses) > _MAX_DIAGNOSES:
        yield Hit()


@rule("DX-07", family="diagnoses", severity=Severity.WARNING,
      message="a diagnosis is not pointed to by any service line", field="2300 HI01-2")
def every_diagnosis_pointed_to(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """On an 837P each diagnosis (of the 12 the pointers can reach) is pointed to by a
    line: one that supports no service is usually a keying error or a missing line."""
    if claim.claim_type is not ClaimType.PROFESSIONAL or not claim.service_lines:
        return
    count = min(len(claim.diagnoses), _MAX_DIAGNOSES)
    pointed = {pointer for line in claim.service_lines for pointer in line.diagnosis_pointers}
    for number in range(1, count + 1):
        if number not in pointed:
            yield Hit(_diagnosis_field(claim, number - 1), None,
                      f"{_which(number - 1)} is not pointed to by any service line")
