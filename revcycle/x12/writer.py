"""Writing X12: element formatting, segments, and correct envelopes around bodies.

Counts (SE01, GE01, IEA01) and control numbers are always computed here, never taken
from the caller's data; control numbers come from a sequence the caller owns (the
database in production, a counter in tests), so every interchange sent is unique.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from revcycle.x12.errors import X12ElementError
from revcycle.x12.tokenizer import Delimiters

# Kept segments (read but not modeled) store their component and repetition separators
# as these control characters, so they can be written back with any delimiters.
KEPT_COMPONENT = "\x1f"
KEPT_REPETITION = "\x1e"
# The delimiters of every file we write unless a payer's envelope chooses others: a value
# holding one of them cannot be written (scrub rule SYN-07 rejects such a claim).
OUR_DELIMITERS = Delimiters()


def keep_segment(elements: list[str], delimiters: Delimiters) -> tuple[str, ...]:
    """A read segment in the delimiter-independent form of ``other_segments``."""
    comp, rep = delimiters.component, delimiters.repetition
    return tuple(
        e.replace(comp, KEPT_COMPONENT).replace(rep, KEPT_REPETITION) if rep else
        e.replace(comp, KEPT_COMPONENT)
        for e in elements
    )


_MONEY: dict[Decimal, str] = {}
_D8: dict[date, str] = {}


def money(amount: Decimal) -> str:
    """An X12 R (decimal) element: no exponent, no needless trailing zeros, no '+'."""
    text = _MONEY.get(amount)
    if text is not None:  # equal amounts (1.10 and 1.1) are written alike
        return text
    text = _format_money(amount)
    if len(_MONEY) < 50_000:
        _MONEY[amount] = text
    return text


def _format_money(amount: Decimal) -> str:
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(value: Decimal) -> str:
    return money(value)


def d8(value: date) -> str:
    text = _D8.get(value)
    if text is None:
        text = f"{value.year:04d}{value.month:02d}{value.day:02d}"
        if len(_D8) < 50_000:
            _D8[value] = text
    return text


def rd8(start: date, end: date) -> str:
    return f"{d8(start)}-{d8(end)}"


class SegmentWriter:
    """Collects the segments of one transaction set body."""

    __slots__ = ("_comp", "_components", "_elem", "_elements", "_rep", "_repetitions",
                 "_term", "segments")

    def __init__(self, delimiters: Delimiters) -> None:
        self._elem = delimiters.element
        self._comp = delimiters.component
        self._term = delimiters.segment
        self._rep = delimiters.repetition
        self._elements = 0  # separators written on purpose, to detect smuggled ones
        self._components = 0
        self._repetitions = 0
        self.segments: list[str] = []

    def add(self, *elements: str) -> None:
        """One segment; trailing empty elements are dropped."""
        if elements[-1]:
            self._elements += len(elements) - 1
            self.segments.append(self._elem.join(elements))
            return
        end = len(elements)
        while end > 1 and not elements[end - 1]:
            end -= 1
        self._elements += end - 1
        self.segments.append(self._elem.join(elements[:end]))

    def add_kept(self, segment: tuple[str, ...]) -> None:
        """A kept segment, its separators translated to this file's."""
        text = self._elem.join(segment)
        components = text.count(KEPT_COMPONENT)
        repetitions = text.count(KEPT_REPETITION)
        if components or repetitions:
            self._components += components
            self._repetitions += repetitions
            text = text.replace(KEPT_COMPONENT, self._comp).replace(KEPT_REPETITION,
                                                                    self._rep or "^")
        self._elements += len(segment) - 1
        self.segments.append(text)

    def composite(self, *components: str) -> str:
        end = len(components)
        while end > 1 and not components[end - 1]:
            end -= 1
        self._components += max(end - 1, 0)
        return self._comp.join(components[:end])

    def check(self) -> None:
        """Fail if a value carries a delimiter: it would corrupt the file for the receiver."""
        text = "".join(self.segments)
        if (
            text.count(self._elem) == self._elements
            and text.count(self._comp) == self._components
            and self._term not in text
            and (text.count(self._rep) if self._rep else 0) == self._repetitions
        ):
            return
        culprit = next((n for n, seg in enumerate(self.segments, 1)
                        if self._term in seg or (self._rep and self._rep in seg)), None)
        raise X12ElementError("a value contains a delimiter character",
                              segment_number=culprit)


@dataclass(frozen=True, slots=True)
class Party:
    """A trading partner as named in ISA05/06 (qualifier and id) and GS02/03."""

    id: str
    qualifier: str = "ZZ"
    application_code: str = ""

    @property
    def code(self) -> str:
        return self.application_code or self.id


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    sender: Party
    receiver: Party
    usage_indicator: str = "P"  # P production, T test
    ack_requested: str = "0"
    delimiters: Delimiters = OUR_DELIMITERS
    created: datetime | None = None  # default: now


class ControlNumbers(Protocol):
    def next_interchange(self) -> int: ...
    def next_group(self) -> int: ...
    def next_transaction(self) -> int: ...


class CounterControlNumbers:
    """In-memory control numbers, for tests and one-off files."""

    def __init__(self, interchange: int = 1, group: int = 1, transaction: int = 1) -> None:
        self._next = {"interchange": interchange, "group": group, "transaction": transaction}

    def _take(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def next_interchange(self) -> int:
        return self._take("interchange")

    def next_group(self) -> int:
        return self._take("group")

    def next_transaction(self) -> int:
        return self._take("transaction")


BodyWriter = Callable[[SegmentWriter], None]

FUNCTIONAL_IDS = {"837": "HC", "835": "HP", "999": "FA", "277": "HN"}


@dataclass(slots=True)
class WrittenInterchange:
    text: str
    interchange_control_number: str
    group_control_number: str
    transaction_control_numbers: list[str]


def _control_number(value: int, width: int, element: str) -> str:
    text = f"{value:0{width}d}"
    if value < 0 or len(text) > 9:
        raise X12ElementError("control number must be 0 to 999999999", segment_id=element[:-2],
                              element=int(element[-2:]))
    return text


def _check_parties(header: InterchangeHeader) -> None:
    """ISA and GS values are written without the element checks of a body: check here."""
    d = header.delimiters
    delimiters = {d.element, d.component, d.segment} | ({d.repetition} if d.repetition else set())
    for party, element in ((header.sender, 6), (header.receiver, 8)):
        if not party.id or len(party.id) > 15 or len(party.qualifier) != 2:
            raise X12ElementError("interchange id must be 1 to 15 characters, qualifier 2",
                                  segment_id="ISA", element=element)
        if delimiters & set(party.id + party.qualifier + party.application_code):
            raise X12ElementError("a trading partner id contains a delimiter character",
                                  segment_id="ISA", element=element)


def write_interchange(
    header: InterchangeHeader,
    control_numbers: ControlNumbers,
    set_id: str,
    version: str,
    bodies: Iterable[BodyWriter],
    *,
    st03: bool = True,
) -> WrittenInterchange:
    """One ISA with one GS holding a transaction set per body writer.

    ``st03=False`` leaves the implementation reference out of each ST, for the guides
    (835 X221A1) that mark ST03 as not used.
    """
    d = header.delimiters
    _check_parties(header)
    created = header.created or datetime.now()
    isa_number = _control_number(control_numbers.next_interchange(), 9, "ISA13")
    gs_number = _control_number(control_numbers.next_group(), 1, "GS06")
    e = d.element
    out = [
        e.join([
            "ISA", "00", " " * 10, "00", " " * 10,
            header.sender.qualifier, header.sender.id.ljust(15),
            header.receiver.qualifier, header.receiver.id.ljust(15),
            created.strftime("%y%m%d"), created.strftime("%H%M"),
            d.repetition or "U", "00501", isa_number, header.ack_requested,
            header.usage_indicator, d.component,
        ]),
        e.join(["GS", FUNCTIONAL_IDS[set_id], header.sender.code, header.receiver.code,
                created.strftime("%Y%m%d"), created.strftime("%H%M"), gs_number, "X", version]),
    ]
    st_numbers: list[str] = []
    for body in bodies:
        st_number = _control_number(control_numbers.next_transaction(), 4, "ST02")
        writer = SegmentWriter(d)
        writer.add("ST", set_id, st_number, version if st03 else "")
        body(writer)
        writer.add("SE", str(len(writer.segments) + 1), st_number)
        writer.check()
        out.extend(writer.segments)
        st_numbers.append(st_number)
    out.append(e.join(["GE", str(len(st_numbers)), gs_number]))
    out.append(e.join(["IEA", "1", isa_number]))
    term = d.segment + "\n"
    return WrittenInterchange(term.join(out) + term, isa_number, gs_number, st_numbers)
