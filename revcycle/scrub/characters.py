"""Every value of a claim in the payer's character set (:mod:`revcycle.x12.charset`).

- FIX-04 (WARNING): a name or an address with characters outside the payer's set (``MÜLLER``
  from a Latin-1 file) is transliterated into it (``MULLER``), when the payer allows it.
- CHAR-01 (ERROR): any other value with such characters (an identifier, a code, a segment
  the model keeps as it came, or a name the payer does not let us transliterate). The
  finding names the loop, segment and element, never the value.

:func:`check_characters` runs inside :func:`revcycle.scrub.corrections.autocorrect`, so the
scrub and the submit stage apply the same transliterations.
"""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.model.claim import Address, Claim, ClaimType, Segment
from revcycle.scrub.rules import Finding, Severity
from revcycle.x12.charset import CharacterPolicy
from revcycle.x12.cob837 import cob_segments
from revcycle.x12.writer import KEPT_COMPONENT

FIX, CHAR = "FIX-04", "CHAR-01"
FAMILY = "characters"

# One value of a claim: the object holding it, its attribute, where it goes in the 837,
# whether it is a name or an address (text that may be transliterated), its line number.
Slot = tuple[object, str, str, bool, int | None]

_NAMES = (("last_name", "NM103"), ("first_name", "NM104"), ("middle_name", "NM105"),
          ("name_suffix", "NM107"))
_PROVIDERS = (  # (attribute, 837P loop, 837I loop, PRV loop or "" for the provider's own)
    ("billing_provider", "2010AA", "2010AA", "2000A"),
    ("rendering_provider", "2310B", "2310D", ""),
    ("attending_provider", "2310A", "2310A", ""),
    ("service_facility", "2310C", "2310E", ""),
)
_CLAIM_CODES = (
    ("patient_control_number", "CLM01"), ("facility_code", "CLM05-1"),
    ("frequency_code", "CLM05-3"), ("provider_signature", "CLM06"), ("assignment", "CLM07"),
    ("benefits_assigned", "CLM08"), ("release_of_information", "CLM09"),
    ("original_claim_reference", "REF02 (F8)"), ("prior_authorization", "REF02 (G1)"),
    ("admission_type", "CL101"), ("admission_source", "CL102"), ("patient_status", "CL103"),
    ("admitting_diagnosis", "HI01-2 (ABJ)"),
)


def _address(address: Address | None, loop: str) -> Iterator[Slot]:
    if address is None:
        return
    yield address, "line1", f"{loop} N301", True, None
    yield address, "line2", f"{loop} N302", True, None
    yield address, "city", f"{loop} N401", True, None
    yield address, "state", f"{loop} N402", False, None
    yield address, "postal_code", f"{loop} N403", False, None


def _segments(segments: tuple[Segment, ...], loop: str,
              line: int | None = None) -> Iterator[tuple[str, str, int | None]]:
    """(value, field, line) of each element of segments kept as they came."""
    for segment in segments:
        for position, value in enumerate(segment[1:], 1):
            # A composite's components are joined by our own separator, which the writer
            # turns into the component delimiter: its values are what is checked.
            yield (value.replace(KEPT_COMPONENT, ""),
                   f"{loop} {segment[0][:3]}{position:02d}", line)


def _slots(claim: Claim) -> Iterator[Slot]:
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    for attribute, element in _CLAIM_CODES:
        yield claim, attribute, f"2300 {element}", False, None
    for attribute, pro_loop, inst_loop, prv_loop in _PROVIDERS:
        provider = getattr(claim, attribute)
        if provider is None:
            continue
        loop = pro_loop if professional else inst_loop
        for name, element in _NAMES[:2]:
            yield provider, name, f"{loop} {element}", True, None
        yield provider, "entity_type", f"{loop} NM102", False, None
        yield provider, "npi", f"{loop} NM109", False, None
        yield provider, "taxonomy", f"{prv_loop or loop} PRV03", False, None
        yield provider, "tax_id_qualifier", f"{loop} REF01", False, None
        yield provider, "tax_id", f"{loop} REF02", False, None
        yield from _address(provider.address, loop)
    for person, loop in ((claim.subscriber, "2010BA"), (claim.patient, "2010CA")):
        if person is None:
            continue
        for name, element in _NAMES:
            yield person, name, f"{loop} {element}", True, None
        yield person, "sex", f"{loop} DMG03", False, None
        yield from _address(person.address, loop)
    subscriber = claim.subscriber
    yield subscriber, "member_id", "2010BA NM109", False, None
    yield subscriber, "payer_responsibility", "2000B SBR01", False, None
    yield subscriber, "group_number", "2000B SBR03", False, None
    yield subscriber, "claim_filing_indicator", "2000B SBR09", False, None
    if claim.patient is not None:
        yield claim.patient, "relationship", "2000C PAT01", False, None
    yield claim.payer, "name", "2010BB NM103", True, None
    yield claim.payer, "payer_id", "2010BB NM109", False, None
    yield from _address(claim.payer.address, "2010BB")
    procedure, unit = ("2400 SV101", "2400 SV103") if professional else ("2400 SV202",
                                                                        "2400 SV204")
    for number, line in enumerate(claim.service_lines, 1):
        yield line, "procedure_qualifier", f"{procedure}-1", False, number
        yield line, "procedure_code", f"{procedure}-2", False, number
        yield line, "unit_basis", unit, False, number
        yield line, "revenue_code", "2400 SV201", False, number
        yield line, "place_of_service", "2400 SV105", False, number
        yield line, "line_control_number", "2400 REF02 (6R)", False, number


def _kept(claim: Claim) -> Iterator[tuple[str, str, int | None]]:
    """The values that are not plain attributes: lists of codes, segments kept as they came
    (named by the loop of the object keeping them)."""
    for code in claim.diagnoses:
        yield code, "2300 HI", None
    yield from _segments(claim.other_segments, "2300")
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    modifiers = "2400 SV101-3" if professional else "2400 SV202-3"
    for number, line in enumerate(claim.service_lines, 1):
        for modifier in line.modifiers:
            yield modifier, modifiers, number
        yield from _segments(line.other_segments, "2400", number)
    owners = [(claim.subscriber, "2010BA"), (claim.patient, "2010CA"),
              (claim.payer, "2010BB")]
    owners += [(getattr(claim, attribute), pro if professional else inst)
               for attribute, pro, inst, _ in _PROVIDERS]
    for owner, loop in owners:
        if owner is not None:
            yield from _segments(owner.other_segments, loop)
    for segments, loop, number in cob_segments(claim):  # other payers' loops, as written
        yield from _segments(segments, loop, number)


def check_characters(claim: Claim, policy: CharacterPolicy) -> list[Finding]:
    """Transliterate the claim's names and addresses into ``policy``'s set (in place, one
    FIX-04 warning each) and report every other value outside it (CHAR-01 errors)."""
    found: list[Finding] = []
    for owner, attribute, field, text, line in _slots(claim):
        value = getattr(owner, attribute)
        if not value or not policy.outside(value):
            continue
        spelled = policy.transliterate_value(value) if text and policy.transliterate else None
        if spelled is None:
            found.append(_outside(field, line))
        else:
            setattr(owner, attribute, spelled)
            found.append(Finding(FIX, FAMILY, Severity.WARNING,
                                 "characters outside the payer's character set were"
                                 " transliterated", field, line))
    found += [_outside(field, line) for value, field, line in _kept(claim)
              if value and policy.outside(value)]
    return found


def _outside(field: str, line: int | None) -> Finding:
    return Finding(CHAR, FAMILY, Severity.ERROR, "holds characters outside the payer's"
                   " character set", field, line)
