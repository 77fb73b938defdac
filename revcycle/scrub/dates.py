"""Date rules: dates of service are in the past, ranges run forward, lines fit the stay,
and the claim is filed in time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from revcycle.model.claim import Claim, ClaimType
from revcycle.scrub.rules import Hit, ScrubContext, Severity, rule

_LINE_DATE = "2400 DTP03"
_STATEMENT = "2300 DTP03"
_DEFAULT_FILING_DAYS = 365  # a payer without a limit of its own in ctx.timely_filing_days


@rule("DT-01", family="dates", severity=Severity.ERROR,
      message="date of service is after the business date", field=_LINE_DATE)
def no_future_service(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """No line date and no statement date is after ``ctx.as_of``: nothing is billed ahead."""
    as_of = ctx.as_of
    for number, line in enumerate(claim.service_lines, 1):
        last = line.service_date_end or line.service_date
        if last is not None and last > as_of:
            yield Hit(_LINE_DATE, number,
                      f"service line {number} date of service is after the business date")
    statement = [d for d in (claim.statement_from, claim.statement_to) if d is not None]
    if statement and max(statement) > as_of:
        yield Hit(_STATEMENT, None, "statement period ends after the business date")


@rule("DT-02", family="dates", severity=Severity.ERROR,
      message="date range ends before it starts", field=_LINE_DATE)
def ranges_run_forward(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """Line ranges and the statement period end on or after they start, and an 837I's
    lines fall inside its statement period."""
    start, end = claim.statement_from, claim.statement_to
    period: tuple[date, date] | None = None
    if start is not None and end is not None:
        if start > end:  # lines cannot be placed in a period that makes no sense
            yield Hit(_STATEMENT, None, "statement period ends before it starts")
        elif claim.claim_type is ClaimType.INSTITUTIONAL:
            period = (start, end)
    for number, line in enumerate(claim.service_lines, 1):
        first, last = line.service_date, line.service_date_end
        if first is None:
            continue
        if last is not None and last < first:
            yield Hit(_LINE_DATE, number,
                      f"service line {number} date range ends before it starts")
        elif period is not None and (first < period[0] or (last or first) > period[1]):
            yield Hit(_LINE_DATE, number,
                      f"service line {number} date is outside the statement period")


@rule("DT-03", family="dates", severity=Severity.ERROR,
      message="first date of service is past the payer's timely filing limit",
      field=_LINE_DATE)
def timely_filing(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The first date of service is at most the payer's filing limit
    (``ctx.timely_filing_days``, 365 days unless the payer module says otherwise) before
    ``ctx.as_of``: a claim filed later is denied (CARC 29, time limit for filing expired).
    """
    first = claim.service_date
    if first is None:
        return
    limit = ctx.timely_filing_days.get(claim.payer.payer_id, _DEFAULT_FILING_DAYS)
    if (ctx.as_of - first).days > limit:
        field = _LINE_DATE if claim.claim_type is ClaimType.PROFESSIONAL else _STATEMENT
        yield Hit(field, None, "first date of service is more than "
                               f"{limit} days before the business date (the payer's timely "
                               "filing limit)")
