"""Procedure rules: well-formed CPT/HCPCS codes, active on the date, add-ons with their
primaries, valid and consistent modifiers, and the CMS NCCI and MUE edits.

PROC-02 (HCPCS Level II active), NCCI-01 and MUE-01 need tables that operators load from
CMS files (``ctx.reference``). Without their table they add their id to ``ctx.not_run``
and find nothing: the scrub result says they did not run, never that the claim passed.

A line's date of service is its own (SV1/SV2 line DTP), else the claim's first date.
Only lines coded with CPT/HCPCS (qualifier ``HC``) are checked against the code sets; an
837I line billed by revenue code alone carries no procedure code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from functools import lru_cache

from revcycle.codesets.addons import ADDONS
from revcycle.codesets.modifiers import VALID as VALID_MODIFIERS
from revcycle.model.claim import Claim, ClaimType, ServiceLine
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

_HC = "HC"  # SV101-1 / SV202-1: CPT or HCPCS
_MAX_MODIFIERS = 4  # SV101-3 to SV101-6
_CPT, _HCPCS = 1, 2
# CPT: five digits, or four digits and F (category II), T (category III), U (lab analyses).
# HCPCS Level II: a letter and four digits.
_CODE = re.compile(r"(?P<cpt>[0-9]{4}[0-9FTU])|(?P<hcpcs>[A-Z][0-9]{4})")

# Conflicting modifiers on one line: (modifier, those it cannot stand with, why).
_CONFLICTS = (
    ("26", frozenset({"TC"}), "professional and technical component together"),
    ("59", frozenset({"XE", "XP", "XS", "XU"}),
     "distinct-service modifier with a more specific one that replaces it"),
    ("50", frozenset({"LT", "RT"}), "bilateral with a single side"),
)
# Modifiers that tell a payer two NCCI-paired procedures were distinct (indicator 1).
_ANATOMIC = frozenset({
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
    "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "LT", "RT",
    "LC", "LD", "LM", "RC", "RI",
})
_NCCI_BYPASS = _ANATOMIC | {"24", "25", "27", "57", "58", "59", "78", "79", "91",
                            "XE", "XP", "XS", "XU"}


def _fields(claim: Claim) -> tuple[str, str, str]:
    """The procedure code, modifier and units elements of the claim type's lines."""
    if claim.claim_type is ClaimType.PROFESSIONAL:
        return "2400 SV101-2", "2400 SV101-", "2400 SV104"
    return "2400 SV202-2", "2400 SV202-", "2400 SV205"


@lru_cache(maxsize=4096)
def _kind(code: str) -> int:
    """_CPT, _HCPCS, or 0 when the code has neither shape."""
    match = _CODE.fullmatch(code)
    if match is None:
        return 0
    return _CPT if match.lastgroup == "cpt" else _HCPCS


def _coded(claim: Claim) -> Iterator[tuple[int, ServiceLine, date | None]]:
    """(line number, line, date of service) of each line with a CPT/HCPCS code."""
    first: date | None = None
    for number, line in enumerate(claim.service_lines, 1):
        if line.procedure_code and line.procedure_qualifier == _HC:
            on = line.service_date
            if on is None:
                on = first = first or claim.service_date
            yield number, line, on


@rule("PROC-01", family="procedures", severity=Severity.ERROR,
      message="procedure code is neither a CPT nor a HCPCS Level II code",
      field="2400 SV101-2")
def procedure_code_format(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Each CPT/HCPCS line code is five digits, four digits and F/T/U, or a letter and
    four digits; each 837P line has a procedure code."""
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    field = _fields(claim)[0]
    for number, line in enumerate(claim.service_lines, 1):
        code = line.procedure_code
        if not code:
            if professional:
                yield Hit(field, number, f"service line {number} has no procedure code")
        elif line.procedure_qualifier == _HC and not _kind(code):
            yield Hit(field, number, f"service line {number} procedure code is neither a "
                                     "CPT nor a HCPCS Level II code")


@rule("PROC-02", family="procedures", severity=Severity.ERROR,
      message="HCPCS Level II code is not active on the date of service",
      field="2400 SV101-2")
def hcpcs_active(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Each HCPCS Level II code is in the loaded HCPCS file and in effect on the line's
    date of service (added before it, not terminated before it)."""
    reference = ctx.reference
    if not reference.loaded("hcpcs"):
        ctx.not_run.add("PROC-02")
        return
    field = _fields(claim)[0]
    for number, line, on in _coded(claim):
        code = line.procedure_code
        if on is not None and _kind(code) == _HCPCS and not reference.hcpcs_active(code, on):
            yield Hit(field, number, f"service line {number} HCPCS code is not active on "
                                     "its date of service")


@rule("PROC-03", family="procedures", severity=Severity.ERROR,
      message="add-on code is billed without its primary procedure", field="2400 SV101-2")
def addon_with_primary(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """An add-on code is billed on a claim that also carries one of its primary codes."""
    codes: set[str] | None = None
    field = ""
    for number, line in enumerate(claim.service_lines, 1):
        primaries = ADDONS.get(line.procedure_code)
        if primaries is None:
            continue
        if codes is None:
            codes = {ln.procedure_code for ln in claim.service_lines}
            field = _fields(claim)[0]
        if primaries.isdisjoint(codes):
            yield Hit(field, number, f"service line {number} is an add-on code billed "
                                     "without any of its primary procedures")


@rule("MOD-01", family="procedures", severity=Severity.ERROR,
      message="modifier is not a recognized CPT or HCPCS modifier", field="2400 SV101-3")
def modifiers_known(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Each modifier is in the project's modifier list (``revcycle.codesets.modifiers``)."""
    for number, line in enumerate(claim.service_lines, 1):
        for position, modifier in enumerate(line.modifiers, 1):
            if modifier not in VALID_MODIFIERS:
                yield Hit(f"{_fields(claim)[1]}{position + 2}", number,
                          f"service line {number} modifier {position} is not a recognized "
                          "CPT or HCPCS modifier")


@rule("MOD-02", family="procedures", severity=Severity.ERROR,
      message="service line has more than four modifiers", field="2400 SV101-3")
def at_most_four_modifiers(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """A line carries at most four modifiers (SV101-3 to -6 / SV202-3 to -6)."""
    for number, line in enumerate(claim.service_lines, 1):
        if len(line.modifiers) > _MAX_MODIFIERS:
            yield Hit(f"{_fields(claim)[1]}3", number,
                      f"service line {number} has more than four modifiers")


@rule("MOD-03", family="procedures", severity=Severity.ERROR,
      message="the same modifier is on a service line twice", field="2400 SV101-3")
def modifiers_not_repeated(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No modifier appears twice on one line."""
    for number, line in enumerate(claim.service_lines, 1):
        modifiers = line.modifiers
        if len(modifiers) < 2 or len(set(modifiers)) == len(modifiers):
            continue
        for position in range(1, len(modifiers)):
            if modifiers[position] in modifiers[:position]:
                yield Hit(f"{_fields(claim)[1]}{position + 3}", number,
                          f"service line {number} modifier {position + 1} repeats an "
                          "earlier modifier")


@rule("MOD-04", family="procedures", severity=Severity.ERROR,
      message="modifiers on a service line contradict each other", field="2400 SV101-3")
def modifiers_consistent(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No line carries contradicting modifiers: 26 with TC (professional and technical
    component: bill the global service unmodified), 59 with XE/XP/XS/XU (the X modifiers
    replace 59), 50 with LT or RT (bilateral already says both sides)."""
    for number, line in enumerate(claim.service_lines, 1):
        modifiers = line.modifiers
        if len(modifiers) < 2:
            continue
        for modifier, others, what in _CONFLICTS:
            if modifier in modifiers and not others.isdisjoint(modifiers):
                yield Hit(f"{_fields(claim)[1]}3", number,
                          f"service line {number} has conflicting modifiers ({what})")


def _bypassed(column1: ServiceLine, column2: ServiceLine) -> bool:
    """Whether the column-2 line carries a modifier that lets an indicator-1 NCCI pair be
    paid: an anatomic one counts only when the column-1 line does not carry it too (the
    same side or digit is the same site)."""
    for modifier in column2.modifiers:
        if modifier in _NCCI_BYPASS and not (
                modifier in _ANATOMIC and modifier in column1.modifiers):
            return True
    return False


@rule("NCCI-01", family="procedures", severity=Severity.ERROR,
      message="procedure is bundled with another on the same date (NCCI edit)",
      field="2400 SV101-2")
def ncci_procedure_pairs(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No two codes on one date are an NCCI procedure-to-procedure pair in effect that
    date: indicator 0 never allows both; indicator 1 allows both only when the column-2
    line carries an NCCI-associated modifier (59, X{EPSU}, 24, 25, 27, 57, 58, 78, 79,
    91, anatomic); indicator 9 is a deleted edit. The finding points at the column-2
    line."""
    reference = ctx.reference
    kind = claim.claim_type.value
    if not reference.loaded("ncci_ptp", kind):
        ctx.not_run.add("NCCI-01")
        return
    lines = [entry for entry in _coded(claim) if entry[2] is not None]
    if len(lines) < 2:
        return
    field = _fields(claim)[0]
    reported: set[tuple[int, str]] = set()
    for number2, line2, on in lines:
        code2 = line2.procedure_code
        for number1, line1, on1 in lines:
            code1 = line1.procedure_code
            if on1 != on or code1 == code2 or (number2, code1) in reported:
                continue
            indicator = reference.ncci_modifier_indicator(code1, code2, on, kind)
            if indicator == "0" or (indicator == "1" and not _bypassed(line1, line2)):
                reported.add((number2, code1))
                how = ("no modifier allows both" if indicator == "0"
                       else "no modifier shows they were distinct")
                yield Hit(field, number2,
                          f"service line {number2} is bundled with service line {number1} "
                          f"on the same date (NCCI edit; {how})")


@rule("MUE-01", family="procedures", severity=Severity.ERROR,
      message="units of a procedure on one date exceed its medically unlikely edit (MUE)",
      field="2400 SV104")
def mue_units(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The units of each code on one date of service, summed over the claim's lines, are
    not over the code's MUE for the claim type. A line spanning several days (RD8) is
    checked against the MUE times its days. The finding points at the code's first line."""
    reference = ctx.reference
    kind = claim.claim_type.value
    if not reference.loaded("mue", kind):
        ctx.not_run.add("MUE-01")
        return
    totals: dict[tuple[str, date, date], tuple[Decimal, int]] = {}
    for number, line, on in _coded(claim):
        if on is None:
            continue
        key = (line.procedure_code, on, line.service_date_end or on)
        entry = totals.get(key)
        totals[key] = (line.units, number) if entry is None else (entry[0] + line.units,
                                                                   entry[1])
    field = _fields(claim)[2]
    for (code, first, last), (units, number) in totals.items():
        limit = reference.mue_limit(code, first, kind)
        if limit is None:
            continue
        days = max((last - first).days + 1, 1)
        if units > limit * days:
            yield Hit(field, number, f"service line {number}: the units of its procedure "
                                     "on one date exceed the medically unlikely edit (MUE)")

