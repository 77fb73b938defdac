"""Syntax rules: the claim's own numbers fit where payers keep them.

The 837 lets a patient control number (CLM01) run to 38 characters, but the TR3 caps it at
20, and some payers keep only 17 on their 835s and 277CAs: what they cut off no longer
matches the claim. The 835 finds a service line again by its line control
number (REF*6R), so each line needs one of its own. A value holding a character our 837
writer uses as a delimiter (legal in a partner's file with other delimiters, or in a
claims CSV) cannot be written at all: the claim is rejected, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.model.claim import Claim, ClaimType
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule
from revcycle.x12.fields837 import delimiter_message, values_with

_PCN_MAX = 20  # 837 TR3, CLM01
_PCN_KEPT = 17  # what some payers' adjudication systems keep and return
_CORRECTIONS = frozenset({"7", "8"})  # CLM05-3: replacement, void
# (837P element, 837I element) of a line's charge and units.
_CHARGE = {True: "2400 SV102", False: "2400 SV203"}
_UNITS = {True: "2400 SV104", False: "2400 SV205"}


@rule("SYN-01", family="syntax", severity=Severity.ERROR,
      message="patient control number is longer than 20 characters", field="2300 CLM01")
def control_number_length(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """CLM01 has at most 20 characters (the TR3's limit)."""
    if len(claim.patient_control_number) > _PCN_MAX:
        yield Hit()


@rule("SYN-02", family="syntax", severity=Severity.WARNING,
      message="patient control number is longer than 17 characters: some payers cut it "
              "short on their remittances", field="2300 CLM01")
def control_number_kept(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """CLM01 of 18 to 20 characters: sent, but some payers return only 17 of them."""
    if _PCN_KEPT < len(claim.patient_control_number) <= _PCN_MAX:
        yield Hit()


@rule("SYN-03", family="syntax", severity=Severity.ERROR,
      message="replacement or void claim (frequency 7 or 8) has no original claim reference "
              "(REF*F8)", field="2300 REF02 (F8)")
def correction_names_its_original(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """A replacement or void carries the payer's claim number of the claim it corrects."""
    if claim.frequency_code in _CORRECTIONS and not claim.original_claim_reference.strip():
        yield Hit()


@rule("SYN-04", family="syntax", severity=Severity.ERROR,
      message="service line charge is zero or negative", field="2400 SV102")
def positive_line_charges(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Every line charges more than zero."""
    for number, line in enumerate(claim.service_lines, 1):
        if line.charge <= 0:
            yield Hit(_CHARGE[claim.claim_type is ClaimType.PROFESSIONAL], number,
                      f"service line {number} charge is zero or negative")


@rule("SYN-05", family="syntax", severity=Severity.ERROR,
      message="service line units are zero or negative", field="2400 SV104")
def positive_line_units(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Every line bills more than zero units (or minutes, or days)."""
    for number, line in enumerate(claim.service_lines, 1):
        if line.units <= 0:
            yield Hit(_UNITS[claim.claim_type is ClaimType.PROFESSIONAL], number,
                      f"service line {number} units are zero or negative")


@rule("SYN-06", family="syntax", severity=Severity.ERROR,
      message="service line control number (REF*6R) is missing or repeats another line's",
      field="2400 REF02 (6R)")
def line_control_numbers(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Each line has a line control number, and no two lines of the claim share one
    (compared as payers do: without surrounding spaces, in upper case)."""
    seen: set[str] = set()
    for number, line in enumerate(claim.service_lines, 1):
        value = line.line_control_number.strip().upper()
        if not value:
            yield Hit(line_number=number,
                      message=f"service line {number} has no line control number (REF*6R)")
        elif value in seen:
            yield Hit(line_number=number, message=(
                f"service line {number} repeats the line control number of an earlier line"))
        else:
            seen.add(value)


@rule("SYN-07", family="syntax", severity=Severity.ERROR,
      message="a value holds a character the 837 uses as a delimiter", field="2300 CLM01")
def writable_values(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No value holds one of our 837 delimiters (``*`` element, ``:`` component, ``~``
    segment, ``^`` repetition): one field per hit, never the value."""
    for place, found in values_with(claim):
        yield Hit(place.field, place.line_number, delimiter_message(place.field, found))
