"""Balance rules: the claim's money adds up."""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.model.claim import Claim
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule


@rule("BAL-01", family="balance", severity=Severity.ERROR,
      message="total claim charge is not the sum of the service line charges",
      field="2300 CLM02")
def total_charge_balances(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """CLM02 equals the sum of the line charges (SV102 / SV203), to the cent."""
    if sum(line.charge for line in claim.service_lines) != claim.total_charge:
        yield Hit()
