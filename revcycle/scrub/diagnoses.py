"""Diagnosis rules: the codes are billable ICD-10-CM codes and the lines point at them."""

from __future__ import annotations

from collections.abc import Iterator

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
    icd10 = ctx.icd10
    for index, code in enumerate(claim.diagnoses):
        if not icd10.is_billable(code):
            what = "principal diagnosis" if index == 0 else f"diagnosis {index + 1}"
            yield Hit(_diagnosis_field(claim, index), None,
                      f"{what} is not a billable ICD-10-CM code")
    if claim.admitting_diagnosis and not icd10.is_billable(claim.admitting_diagnosis):
        yield Hit("2300 HI01-2 (ABJ)", None,
                  "admitting diagnosis is not a billable ICD-10-CM code")


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
