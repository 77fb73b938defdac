"""Identifier rules: NPIs (and, later, tax ids, member ids, payer ids)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from revcycle.codesets import npi
from revcycle.codesets.errors import InvalidChecksum, InvalidCode
from revcycle.model.claim import Claim, ClaimType
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
