"""Element values shared by every reader: amounts, dates, required and absent elements.

Each error names the segment, element and loop, never the value. Amounts and dates repeat
a lot within a file (a few hundred distinct values in 10,000 claims), so each is parsed
once; the caches are bounded, so a file of all-distinct values cannot grow them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from revcycle.x12.envelope import parse_date8
from revcycle.x12.errors import X12ElementError
from revcycle.x12.tokenizer import SegmentReader

_DECIMALS: dict[str, Decimal] = {}
_DATES: dict[str, date] = {}
_CACHE_LIMIT = 50_000


def element(elements: list[str], index: int) -> str:
    """Element ``index``, or "" when the segment ends before it."""
    return elements[index] if len(elements) > index else ""


def pad(elements: list[str], size: int) -> list[str]:
    """``elements`` grown in place to ``size`` with empty elements."""
    if len(elements) < size:
        elements.extend([""] * (size - len(elements)))
    return elements


def required(reader: SegmentReader, elements: list[str], position: int, loop: str) -> str:
    value = elements[position] if len(elements) > position else ""
    if not value:
        raise reader.error(X12ElementError, "required element is missing",
                           segment_id=elements[0], element=position, loop=loop)
    return value


def decimal_value(reader: SegmentReader, value: str, tag: str, position: int,
                  loop: str) -> Decimal:
    """An X12 R value ("12.5", "-3", ".5"); anything else (NaN, 1E5, "+5") is an error."""
    number = _DECIMALS.get(value)
    if number is not None:
        return number
    digits = value[1:] if value[:1] == "-" else value
    if not (digits.isascii() and digits.replace(".", "", 1).isdigit()):
        what = "is missing" if not value else "is not a decimal number"
        raise reader.error(X12ElementError, f"the amount {what}", segment_id=tag,
                           element=position, loop=loop)
    number = Decimal(value)  # the check above admits only text Decimal() takes
    if len(_DECIMALS) >= _CACHE_LIMIT:
        _DECIMALS.clear()
    _DECIMALS[value] = number
    return number


def optional_decimal(reader: SegmentReader, value: str, tag: str, position: int,
                     loop: str) -> Decimal | None:
    return decimal_value(reader, value, tag, position, loop) if value else None


def date_value(reader: SegmentReader, value: str, tag: str, position: int, loop: str) -> date:
    """A CCYYMMDD date; anything else is an error."""
    found = _DATES.get(value)
    if found is not None:
        return found
    found = parse_date8(value)
    if found is None:
        what = "is missing" if not value else "is not a CCYYMMDD date"
        raise reader.error(X12ElementError, f"the date {what}", segment_id=tag,
                           element=position, loop=loop)
    if len(_DATES) >= _CACHE_LIMIT:
        _DATES.clear()
    _DATES[value] = found
    return found
