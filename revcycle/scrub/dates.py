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


_DELAY_REASON = "2300 CLM20"
WARNING_DAYS = 30  # DT-04 warns this many days (or fewer) before the limit


def _filing_clock(claim: Claim, ctx: ScrubContext) -> tuple[str, str, int, int] | None:
    """Where the filing limit counts from (its field and its name in a message), the
    payer's limit, and the days left (negative once it has passed); None without dates.

    An 837I with a statement period counts from its end, the "through" date (CLM/DTP*434):
    an inpatient stay is billed after discharge, and payers (Medicare among them) count
    institutional limits from the through date. Everything else counts from the first date
    of service, the strictest reading when a payer counts per line."""
    if claim.claim_type is ClaimType.INSTITUTIONAL and claim.statement_to is not None:
        start, field, name = claim.statement_to, _STATEMENT, (
            "statement period end (the through date)")
    else:
        start = claim.service_date
        if start is None:
            return None
        field = _LINE_DATE if claim.claim_type is ClaimType.PROFESSIONAL else _STATEMENT
        name = "first date of service"
    limit = ctx.timely_filing_days.get(claim.payer.payer_id, _DEFAULT_FILING_DAYS)
    return field, name, limit, limit - (ctx.as_of - start).days


@rule("DT-03", family="dates", severity=Severity.ERROR,
      message="first date of service is past the payer's timely filing limit",
      field=_LINE_DATE)
def timely_filing(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """The claim is filed at most the payer's filing limit (``ctx.timely_filing_days``, 365
    days unless the payer module says otherwise) after the date the limit counts from (an
    837I's statement period end, else the first date of service): a claim filed later is
    denied (CARC 29, time limit for filing expired).

    A late claim that carries a delay reason code (CLM20) is not blocked: the code asks the
    payer to accept it late, and only the payer can say yes. DT-04 warns about it instead.
    The catalog gives a rule one severity, so the warnings of the timely-filing check are
    a rule of their own (DT-04), which a payer module can drop or keep apart from this one.
    """
    clock = _filing_clock(claim, ctx)
    if clock is None or claim.delay_reason_code:
        return
    field, name, limit, left = clock
    if left < 0:
        yield Hit(field, None, f"{name} is more than {limit} days before the business date "
                               "(the payer's timely filing limit)")


@rule("DT-04", family="dates", severity=Severity.WARNING,
      message="the payer's timely filing limit is near, or passed with a delay reason",
      field=_LINE_DATE)
def timely_filing_warnings(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    """What DT-03 does not block but a biller should see: a claim within 30 days of the
    payer's filing limit ("N days left": send it now, or fix it fast), and a claim past the
    limit that carries a delay reason code (CLM20), named, since the payer decides whether
    the reason holds (if not: CARC 29). A late claim without a code is DT-03's error."""
    clock = _filing_clock(claim, ctx)
    if clock is None:
        return
    field, name, limit, left = clock
    if left < 0:
        if claim.delay_reason_code:
            yield Hit(_DELAY_REASON, None,
                      f"filed after the payer's timely filing limit ({limit} days from the "
                      f"{name}) with delay reason code {claim.delay_reason_code} (CLM20): "
                      "the payer decides whether it accepts the delay")
    elif left <= WARNING_DAYS:
        yield Hit(field, None, f"{left} day{'' if left == 1 else 's'} left before the payer's "
                               f"timely filing limit ({limit} days from the {name})")
