"""Place-of-service rules (837P): the place is a CMS code in effect, and a facility is named.

An 837P says where the service was in CLM05-1, and in SV105 for a line given somewhere
else. An 837I has a type of bill there instead, so these rules leave it alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from revcycle.codesets import pos
from revcycle.model.claim import Claim, ClaimType
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

_CLAIM = "2300 CLM05-1"
_LINE = "2400 SV105"
# An ambulance is a facility setting, but its places are the pick-up and drop-off
# locations (2310E, 2310F), not a service facility loop.
_AMBULANCE = frozenset({"41", "42"})


def _problem(code: str, on: date) -> str:
    """Why ``code`` is not a place of service on date ``on`` ("" when it is)."""
    entry = pos.lookup(code)
    if entry is None:
        return "is not a CMS place of service code"
    if not pos.is_valid(code, on):
        return "was not yet in effect on the date of service"
    return ""


@rule("POS-01", family="place", severity=Severity.ERROR,
      message="place of service is not a CMS place of service code in effect on the date of "
              "service", field=_CLAIM)
def valid_place_of_service(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The claim's place of service, and each line's own, is a CMS code in effect on the
    (first) date of service."""
    if claim.claim_type is not ClaimType.PROFESSIONAL:
        return
    first = claim.service_date or ctx.as_of
    problem = _problem(claim.facility_code, first)
    if problem:
        yield Hit(_CLAIM, None, f"place of service {problem}")
    for number, line in enumerate(claim.service_lines, 1):
        if line.place_of_service:
            problem = _problem(line.place_of_service, line.service_date or first)
            if problem:
                yield Hit(_LINE, number, f"service line {number} place of service {problem}")


def _needs_facility(code: str) -> bool:
    return pos.is_facility(code) and code not in _AMBULANCE


@rule("POS-02", family="place", severity=Severity.ERROR,
      message="place of service is a facility (hospital, nursing facility, surgical center...) "
              "but the claim names no service facility (2310C)", field=_CLAIM)
def facility_is_named(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """A service given at a facility (not at the billing provider's own site) names the
    facility in the service facility loop (2310C)."""
    if claim.claim_type is not ClaimType.PROFESSIONAL or claim.service_facility is not None:
        return
    if _needs_facility(claim.facility_code):
        yield Hit()
        return
    for number, line in enumerate(claim.service_lines, 1):
        if line.place_of_service and _needs_facility(line.place_of_service):
            yield Hit(_LINE, number, f"service line {number} place of service is a facility "
                                     "but the claim names no service facility (2310C)")
