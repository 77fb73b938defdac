"""Duplicate rules: the same service is not billed twice.

A duplicate earns a CO-18 denial and, repeated, a payer's attention. Two claims are the
same claim when they agree on who was treated (member id, patient name and birth date),
by whom (billing and rendering NPIs), for which payer, from which first date of service
and with which procedures (codes, modifiers, units, revenue codes). Charges, diagnoses
and control numbers do not count: a resubmission under a new control number with a new
price is still a duplicate. A replacement (frequency 7) or void (8) carries the claim it
replaces in its key, so it does not collide with that claim, but sending it twice does.

Within one claim, two lines with the same procedure, modifiers and date of service are
a duplicate too (DUP-02).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

from revcycle.model.claim import Claim, ClaimType
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

# ASCII record and unit separators: never in X12 data, so fields cannot run together.
_PART = "\x1e"
_FIELD = "\x1f"
_ORIGINAL = ("", "1")  # CLM05-3 of an original claim


@lru_cache(maxsize=512)
def _units(units: Decimal) -> str:
    """Units as one text per value: 1, 1.0 and 1.00 are the same quantity."""
    return format(units.normalize(), "f")


def duplicate_key(claim: Claim) -> str:
    """The claim's identity as a sha256 hex digest: equal for duplicates, and no PHI.

    The key does not depend on the tenant, the control number, the charges, the
    diagnoses, the order of the lines or the case of the names.
    """
    person = claim.patient or claim.subscriber
    rendering = claim.rendering_provider
    first = claim.service_date
    lines = sorted(
        _FIELD.join((line.procedure_qualifier, line.procedure_code, ":".join(line.modifiers),
                     _units(line.units), line.unit_basis, line.revenue_code))
        for line in claim.service_lines
    )
    parts = [
        claim.claim_type.value,
        claim.payer.payer_id.strip().upper(),
        claim.subscriber.member_id.strip().upper(),
        person.last_name.strip().upper(),
        person.first_name.strip().upper(),
        person.birth_date.isoformat() if person.birth_date else "",
        claim.billing_provider.npi,
        rendering.npi if rendering else "",
        first.isoformat() if first else "",
        *lines,
    ]
    if claim.frequency_code not in _ORIGINAL:
        parts += ("frequency", claim.frequency_code, claim.original_claim_reference)
    return hashlib.sha256(_PART.join(parts).encode()).hexdigest()


@rule("DUP-01", family="duplicates", severity=Severity.ERROR,
      message="claim duplicates an earlier claim (same patient, provider, payer, date of "
              "service and procedures)", field="2300 CLM")
def no_duplicate(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The claim's :func:`duplicate_key` is neither in ``ctx.seen`` (earlier claims of the
    tenant) nor in ``ctx.passed`` (claims of this run that passed before it)."""
    current = ctx.current
    key = current[1] if current is not None and current[0] is claim else duplicate_key(claim)
    if key in ctx.seen or key in ctx.passed:
        yield Hit()


@rule("DUP-02", family="duplicates", severity=Severity.ERROR,
      message="two service lines bill the same procedure, modifiers and date of service",
      field="2400 SV101")
def no_duplicate_line(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No two lines of the claim have the same procedure code, modifiers (in any order)
    and dates of service: the units belong on one line, and a true repeat says so with a
    modifier (76, 77, 91). Lines without a procedure code (an 837I's revenue-only lines)
    are not compared. The finding points at the later line."""
    lines = claim.service_lines
    if len(lines) < 2:
        return
    first: dict[tuple[object, ...], int] = {}
    for number, line in enumerate(lines, 1):
        if not line.procedure_code:
            continue
        modifiers = line.modifiers
        key = (line.procedure_code, modifiers if len(modifiers) < 2 else tuple(sorted(modifiers)),
               line.service_date, line.service_date_end)
        earlier = first.setdefault(key, number)
        if earlier != number:
            yield Hit("2400 SV101" if claim.claim_type is ClaimType.PROFESSIONAL
                      else "2400 SV202", number,
                      f"service line {number} repeats service line {earlier} (same procedure, "
                      "modifiers and date of service)")
