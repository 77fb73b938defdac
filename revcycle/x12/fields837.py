"""Every text value of a claim with the place our 837 writer puts it (loop, segment,
element), so that a check can say which field is wrong without quoting the value. Values
the 837 of the claim's type does not carry (an 837P's attending provider, a rendering
provider's address, ...) are not listed: they are never written.

>>> from revcycle.simulator import generate_claims
>>> claim = generate_claims(1, 7)[0]
>>> claim.subscriber.last_name = "SMITH*JONES"
>>> [(place.field, sorted(found)) for place, found in values_with(claim)]
[('2010BA NM103', ['*'])]

Segments kept from a partner's file (``other_segments``) are named after the loop that
keeps them and their own segment id and element position, e.g. ``2300 NTE02``; a kept
segment of a sub-loop (2310x, 2320, 2330x) is named after the loop it is kept in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from revcycle.model.claim import Address, Claim, ClaimType, Provider, Segment
from revcycle.x12.tokenizer import Delimiters
from revcycle.x12.writer import KEPT_COMPONENT, KEPT_REPETITION, OUR_DELIMITERS

_ADDRESS = (("line1", "N301"), ("line2", "N302"), ("city", "N401"), ("state", "N402"),
            ("postal_code", "N403"))
_PROVIDER = (("entity_type", "NM102"), ("last_name", "NM103"), ("first_name", "NM104"),
             ("npi", "NM109"))
_TAX_ID = (("tax_id_qualifier", "REF01"), ("tax_id", "REF02"))
_PERSON = (("last_name", "NM103"), ("first_name", "NM104"), ("middle_name", "NM105"),
           ("name_suffix", "NM107"), ("sex", "DMG03"))
_SUBSCRIBER = (*_PERSON, ("member_id", "NM109"))
_PAYER = (("name", "NM103"), ("payer_id", "NM109"))
_RELATIONSHIP = (("relationship", "PAT01"),)
_COVERAGE = (("payer_responsibility", "SBR01"), ("group_number", "SBR03"),
             ("claim_filing_indicator", "SBR09"))
_CLAIM = (("patient_control_number", "CLM01"), ("facility_code", "CLM05-1"),
          ("frequency_code", "CLM05-3"), ("provider_signature", "CLM06"),
          ("assignment", "CLM07"), ("benefits_assigned", "CLM08"),
          ("release_of_information", "CLM09"), ("delay_reason_code", "CLM20"),
          ("original_claim_reference", "REF02 (F8)"),
          ("prior_authorization", "REF02 (G1)"), ("admission_type", "CL101"),
          ("admission_source", "CL102"), ("patient_status", "CL103"),
          ("admitting_diagnosis", "HI01-2 (ABJ)"))
# Each claim-level provider the 837 of a claim type carries: attribute, loop, and whether
# its loop has a PRV (837P rendering, 837I attending) and an address (service facility).
_CLAIM_PROVIDERS = {
    True: (("rendering_provider", "2310B", True, False),
           ("service_facility", "2310C", False, True)),
    False: (("attending_provider", "2310A", True, False),
            ("rendering_provider", "2310D", False, False),
            ("service_facility", "2310E", False, True)),
}
# 837P SV1 / 837I SV2 positions of a line's values.
_LINE = {
    True: (("procedure_qualifier", "SV101-1"), ("procedure_code", "SV101-2"),
           ("unit_basis", "SV103"), ("place_of_service", "SV105")),
    False: (("revenue_code", "SV201"), ("procedure_qualifier", "SV202-1"),
            ("procedure_code", "SV202-2"), ("unit_basis", "SV204")),
}
_MODIFIERS = {True: "SV101", False: "SV202"}


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value sits: ``field`` as scrub edits name it, and its 1-based service line."""

    field: str
    line_number: int | None = None


def delimiter_names(delimiters: Delimiters = OUR_DELIMITERS) -> dict[str, str]:
    """Each delimiter character with what the 837 uses it for."""
    names = {delimiters.element: "element separator",
             delimiters.component: "component separator",
             delimiters.segment: "segment terminator"}
    if delimiters.repetition:
        names[delimiters.repetition] = "repetition separator"
    return names


# Where a value sits before it is named: loop, element, 1-based service line.
_Where = tuple[str, str, int | None]


def delimiter_message(field: str, found: set[str],
                      delimiters: Delimiters = OUR_DELIMITERS) -> str:
    """What a biller reads about a value holding delimiters: the field, never the value."""
    names = delimiter_names(delimiters)
    kinds = " and ".join(f"{names[c]} '{c}'" for c in sorted(found))
    return (f"{field} holds a character the 837 uses as its {kinds}: it cannot be sent"
            " until the value is corrected")


def values_with(claim: Claim, delimiters: Delimiters = OUR_DELIMITERS
                ) -> Iterator[tuple[Place, set[str]]]:
    """Each place whose value holds delimiters, with the delimiters it holds: every text
    value the claim's 837 carries is looked at, kept segments included."""
    chosen = set(delimiter_names(delimiters))
    collected = _collect(claim)
    if chosen.isdisjoint("".join([value for _, value in collected])):
        return  # the common case, checked at once
    for where, value in collected:
        found = chosen.intersection(value)
        if found:
            yield _place(where), found


def _place(where: _Where) -> Place:
    loop, element, line = where
    return Place(f"{loop} {element}", line)


def _collect(claim: Claim) -> list[tuple[_Where, str]]:
    """(where, value) of every non-empty text value the claim's 837 carries.

    Appends to one list rather than yielding: scrub runs this on every claim."""
    out: list[tuple[_Where, str]] = []
    pro = claim.claim_type is ClaimType.PROFESSIONAL
    _attributes(out, claim, "2300", _CLAIM)
    for number, code in enumerate(claim.diagnoses):
        out.append((_diagnosis(number, pro, claim.icd9), code))
    billing = claim.billing_provider
    _provider(out, billing, "2010AA", "2000A", address=True)
    _attributes(out, billing, "2010AA", _TAX_ID)
    subscriber = claim.subscriber
    _attributes(out, subscriber, "2000B", _COVERAGE)
    _attributes(out, subscriber, "2010BA", _SUBSCRIBER)
    _address(out, subscriber.address, "2010BA")
    _kept(out, subscriber.other_segments, "2010BA")
    payer = claim.payer
    _attributes(out, payer, "2010BB", _PAYER)
    _address(out, payer.address, "2010BB")
    _kept(out, payer.other_segments, "2010BB")
    patient = claim.patient
    if patient is not None:
        _attributes(out, patient, "2000C", _RELATIONSHIP)
        _attributes(out, patient, "2010CA", _PERSON)
        _address(out, patient.address, "2010CA")
        _kept(out, patient.other_segments, "2010CA")
    for attribute, loop, has_prv, has_address in _CLAIM_PROVIDERS[pro]:
        provider = getattr(claim, attribute)
        if provider is not None:
            _provider(out, provider, loop, loop if has_prv else "", address=has_address)
    _kept(out, claim.other_segments, "2300")
    modifiers = _MODIFIERS[pro]
    for number, line in enumerate(claim.service_lines, 1):
        for attribute, element in _LINE[pro]:
            value = getattr(line, attribute)
            if value:
                out.append((("2400", element, number), value))
        for position, modifier in enumerate(line.modifiers, 3):
            out.append((("2400", f"{modifiers}-{position}", number), modifier))
        if line.line_control_number:
            out.append((("2400", "REF02 (6R)", number), line.line_control_number))
        _kept(out, line.other_segments, "2400", number)
    return out


def _diagnosis(number: int, pro: bool, icd9: bool) -> _Where:
    if pro or number == 0:
        return ("2300", f"HI{number + 1:02d}-2", None)
    qualifier = "BF" if icd9 else "ABF"
    return ("2300", f"HI{(number - 1) % 12 + 1:02d}-2 ({qualifier})", None)


def _attributes(out: list[tuple[_Where, str]], owner: object, loop: str,
                names: tuple[tuple[str, str], ...]) -> None:
    for attribute, element in names:
        value = getattr(owner, attribute)
        if value:
            out.append(((loop, element, None), value))


def _address(out: list[tuple[_Where, str]], address: Address | None, loop: str) -> None:
    if address is not None:
        _attributes(out, address, loop, _ADDRESS)


def _provider(out: list[tuple[_Where, str]], provider: Provider, loop: str,
              taxonomy_loop: str, *, address: bool) -> None:
    """A provider's values its loop carries (a PRV only where ``taxonomy_loop`` is set)."""
    _attributes(out, provider, loop, _PROVIDER)
    if provider.taxonomy and taxonomy_loop:
        out.append(((taxonomy_loop, "PRV03", None), provider.taxonomy))
    if address:
        _address(out, provider.address, loop)
    _kept(out, provider.other_segments, loop)


def _kept(out: list[tuple[_Where, str]], segments: tuple[Segment, ...], loop: str,
          line: int | None = None) -> None:
    """A kept segment's elements; its component and repetition markers are no values."""
    for segment in segments:
        for position, element in enumerate(segment[1:], 1):
            if element:
                value = element.replace(KEPT_COMPONENT, "").replace(KEPT_REPETITION, "")
                out.append(((loop, f"{segment[0]}{position:02d}", line), value))
