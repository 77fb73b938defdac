"""Identifier rules: NPIs, the billing provider's tax id, taxonomy codes and pay-to address.

The billing provider is who the payer pays: the TR3 asks for its EIN or SSN as nine
digits, a street address (a post office box goes in the pay-to loop, 2010AB, never in
2010AA) and a nine-digit ZIP code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from revcycle.codesets import npi
from revcycle.codesets.errors import InvalidChecksum, InvalidCode
from revcycle.model.claim import Address, Claim, ClaimType
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

# (attribute, who, 837P field, 837I field) for each provider of a claim that has an NPI.
_PROVIDERS = (
    ("billing_provider", "billing provider", "2010AA NM109", "2010AA NM109"),
    ("rendering_provider", "rendering provider", "2310B NM109", "2310D NM109"),
    ("attending_provider", "attending provider", "2310A NM109", "2310A NM109"),
    ("service_facility", "service facility", "2310C NM109", "2310E NM109"),
)


@lru_cache(maxsize=4096)
def _npi_problem(number: str) -> str:
    """What is wrong with an NPI as X12 carries it ("" when nothing); a tenant has few."""
    try:
        if npi.validate(number) == number:
            return ""
    except InvalidChecksum:
        return "fails its check digit"
    except InvalidCode:
        pass
    return "is not 10 digits starting with 1 or 2"


@rule("NPI-01", family="identifiers", severity=Severity.ERROR,
      message="billing provider NPI fails its check digit", field="2010AA NM109")
def npi_check_digit(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Every NPI on the claim (billing, rendering, attending, service facility) is valid.

    A provider without an NPI is not this rule's business (a missing NPI is another rule).
    """
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    for attribute, who, pro_field, inst_field in _PROVIDERS:
        provider = getattr(claim, attribute)
        if provider is None or not provider.npi:
            continue
        problem = _npi_problem(provider.npi)
        if problem:
            yield Hit(pro_field if professional else inst_field, None, f"{who} NPI {problem}")


def _nine_digits(value: str) -> bool:
    return len(value) == 9 and value.isascii() and value.isdigit()


@rule("ID-01", family="identifiers", severity=Severity.ERROR,
      message="billing provider tax id is not nine digits", field="2010AA REF02")
def billing_tax_id(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The billing provider's EIN or SSN (REF*EI / REF*SY) is nine digits."""
    tax_id = claim.billing_provider.tax_id
    if not tax_id:
        yield Hit(message="billing provider tax id is missing")
    elif not _nine_digits(tax_id):
        yield Hit()


# A provider taxonomy code: three digits, six letters or digits, and a final X.
_TAXONOMY = re.compile(r"[0-9]{3}[A-Z0-9]{6}X").fullmatch
# (attribute, who, 837P field, 837I field) of each provider whose taxonomy the 837 sends
# (PRV): the billing provider, the 837P rendering provider, the 837I attending provider.
_TAXONOMY_PROVIDERS = (
    ("billing_provider", "billing provider", "2000A PRV03", "2000A PRV03"),
    ("rendering_provider", "rendering provider", "2310B PRV03", ""),
    ("attending_provider", "attending provider", "", "2310A PRV03"),
)


@rule("ID-02", family="identifiers", severity=Severity.ERROR,
      message="provider taxonomy code is not a valid taxonomy code", field="2000A PRV03")
def taxonomy_codes(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Every taxonomy code the claim sends has the form of the NUCC code set (``207Q00000X``).

    A provider without one is not this rule's business.
    """
    professional = claim.claim_type is ClaimType.PROFESSIONAL
    for attribute, who, pro_field, inst_field in _TAXONOMY_PROVIDERS:
        field = pro_field if professional else inst_field
        provider = getattr(claim, attribute)
        if field and provider is not None and provider.taxonomy and not _TAXONOMY(
                provider.taxonomy):
            yield Hit(field, None, f"{who} taxonomy code is not a valid taxonomy code")


# Post office boxes as people write them: PO BOX, P.O. BOX, P O BOX, POBOX, POST OFFICE BOX,
# PO DRAWER, POB, LOCKBOX, CALLER BOX, and an address line that starts with BOX and a number.
_PO_BOX = re.compile(
    r"\b(?:P\.?\s*O\.?|POST(?:\s*OFFICE)?)\s*(?:BOX|BX|DRAWER|DRWR)\b"
    r"|\bP\.?\s*O\.?\s*B\b"
    r"|\b(?:LOCK|CALLER)\s*BOX\b"
    r"|^\s*(?:BOX|BX)\s*#?\s*[0-9]",
    re.IGNORECASE,
).search


@lru_cache(maxsize=4096)
def _is_po_box(line: str) -> bool:
    """Whether an address line is a post office box; a tenant has few billing addresses."""
    return _PO_BOX(line) is not None


@rule("ID-03", family="identifiers", severity=Severity.ERROR,
      message="billing provider address is a post office box (it belongs in the pay-to "
              "address, 2010AB)", field="2010AA N301")
def billing_street_address(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The billing provider's address is a street address, not a post office box."""
    address = claim.billing_provider.address
    if address is None:
        return
    if _is_po_box(address.line1):
        yield Hit()
    elif address.line2 and _is_po_box(address.line2):
        yield Hit("2010AA N302")


def _zip_problem(address: Address | None) -> str:
    if address is None or not address.postal_code:
        return "billing provider ZIP code is missing"
    if not _nine_digits(address.postal_code):
        return "billing provider ZIP code is not nine digits (ZIP+4)"
    return ""


@rule("ID-04", family="identifiers", severity=Severity.ERROR,
      message="billing provider ZIP code is not nine digits (ZIP+4)", field="2010AA N403")
def billing_zip_plus_four(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The billing provider's ZIP code has nine digits (ZIP+4), as the TR3 requires."""
    problem = _zip_problem(claim.billing_provider.address)
    if problem:
        yield Hit(message=problem)


@rule("ID-05", family="identifiers", severity=Severity.ERROR,
      message="subscriber member id is missing", field="2010BA NM109")
def subscriber_member_id(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The subscriber's member id (2010BA NM109) is there: the payer finds the coverage by
    it, and its acknowledgments name the claim by it. (Found by ``bench/fuzz.py``: an 837
    without it was read, scrubbed clean and sent.)"""
    if not claim.subscriber.member_id.strip():
        yield Hit()
