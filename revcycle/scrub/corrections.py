"""Safe auto-corrections: fixes that cannot change what a claim means, applied and recorded.

- FIX-01: codes and ids typed in lower case are upper-cased (procedure codes, modifiers,
  diagnoses, taxonomy codes): X12 code sets are upper case.
- FIX-02: spaces and punctuation are taken out of NPIs and tax ids ("12-3456789"), when
  what is left is all digits.
- FIX-03: ZIP codes are written as digits only ("62701-1234" becomes "627011234"), when
  what is left is five or nine digits.
- FIX-04: names and addresses are transliterated into the payer's character set, and any
  other value outside it is a CHAR-01 error (:mod:`revcycle.scrub.characters`).

:func:`autocorrect` changes the claim in place and returns one WARNING finding per
correction, so that nothing is changed silently. The scrub runs it before the rules (a
corrected claim is checked as corrected) and the submit stage before writing the 837 (what
is sent is the corrected claim). The messages say which kind of correction was made
where, never the value.
"""

from __future__ import annotations

import re

from revcycle.model.claim import Address, Claim, ClaimType
from revcycle.scrub.characters import check_characters
from revcycle.scrub.rules import Finding, Severity
from revcycle.x12.charset import DEFAULT_POLICY, CharacterPolicy

FAMILY = "corrections"
_CASE, _PUNCTUATION, _ZIP = "FIX-01", "FIX-02", "FIX-03"
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")

# (attribute, who, 837P loop, 837I loop) of each provider of a claim.
_PROVIDERS = (
    ("billing_provider", "billing provider", "2010AA", "2010AA"),
    ("rendering_provider", "rendering provider", "2310B", "2310D"),
    ("attending_provider", "attending provider", "2310A", "2310A"),
    ("service_facility", "service facility", "2310C", "2310E"),
)
_TAXONOMY_LOOPS = {"billing provider": "2000A"}  # the others' PRV is in their own loop


def _finding(rule_id: str, message: str, field: str, line: int | None = None) -> Finding:
    return Finding(rule_id, FAMILY, Severity.WARNING, message, field, line)


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _compact_digits(value: str) -> str:
    """``value`` without spaces and punctuation if that leaves only digits, else ""."""
    compact = _NOT_ALNUM.sub("", value)
    return compact if compact and compact.isdigit() else ""


def _fix_zip(address: Address | None, who: str, loop: str, found: list[Finding]) -> None:
    if address is None or not address.postal_code or _digits(address.postal_code):
        return
    compact = _compact_digits(address.postal_code)
    if len(compact) in (5, 9):
        address.postal_code = compact
        found.append(_finding(_ZIP, f"{who} ZIP code was rewritten as digits only",
                              f"{loop} N403"))


def autocorrect(claim: Claim, characters: CharacterPolicy = DEFAULT_POLICY) -> list[Finding]:
    """Apply FIX-01 to FIX-04 to ``claim`` in place; one finding per correction, and a
    CHAR-01 error for each value outside the ``characters`` the payer takes."""
    found: list[Finding] = []
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    # FIX-01 on the codes of the claim and its lines.
    joined = "".join(claim.diagnoses)
    if joined != joined.upper():
        claim.diagnoses = tuple(code.upper() for code in claim.diagnoses)
        found.append(_finding(_CASE, "diagnosis codes were upper-cased", "2300 HI"))
    if claim.admitting_diagnosis != claim.admitting_diagnosis.upper():
        claim.admitting_diagnosis = claim.admitting_diagnosis.upper()
        found.append(_finding(_CASE, "admitting diagnosis was upper-cased",
                              "2300 HI01-2 (ABJ)"))
    code_field = "2400 SV101-2" if professional else "2400 SV202-2"
    modifier_field = "2400 SV101-3" if professional else "2400 SV202-3"
    for number, line in enumerate(claim.service_lines, 1):
        code = line.procedure_code
        if code != code.upper():
            line.procedure_code = code.upper()
            found.append(_finding(_CASE, f"service line {number} procedure code was upper-cased",
                                  code_field, number))
        joined = "".join(line.modifiers)
        if joined != joined.upper():
            line.modifiers = tuple(m.upper() for m in line.modifiers)
            found.append(_finding(_CASE, f"service line {number} modifiers were upper-cased",
                                  modifier_field, number))
    # The providers: FIX-01 on taxonomy codes, FIX-02 on NPIs and tax ids, FIX-03 on ZIPs.
    for attribute, who, pro_loop, inst_loop in _PROVIDERS:
        provider = getattr(claim, attribute)
        if provider is None:
            continue
        loop = pro_loop if professional else inst_loop
        if provider.taxonomy != provider.taxonomy.upper():
            provider.taxonomy = provider.taxonomy.upper()
            found.append(_finding(_CASE, f"{who} taxonomy code was upper-cased",
                                  f"{_TAXONOMY_LOOPS.get(who, loop)} PRV03"))
        if provider.npi and not _digits(provider.npi):
            compact = _compact_digits(provider.npi)
            if compact:
                provider.npi = compact
                found.append(_finding(_PUNCTUATION,
                                      f"{who} NPI: spaces and punctuation were removed",
                                      f"{loop} NM109"))
        if provider.tax_id and not _digits(provider.tax_id):
            compact = _compact_digits(provider.tax_id)
            if compact:
                provider.tax_id = compact
                found.append(_finding(_PUNCTUATION,
                                      f"{who} tax id: spaces and punctuation were removed",
                                      f"{loop} REF02"))
        _fix_zip(provider.address, who, loop, found)
    _fix_zip(claim.subscriber.address, "subscriber", "2010BA", found)
    if claim.patient is not None:
        _fix_zip(claim.patient.address, "patient", "2010CA", found)
    _fix_zip(claim.payer.address, "payer", "2010BB", found)
    return found + check_characters(claim, characters)  # last: the codes are upper-cased
