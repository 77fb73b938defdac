"""Interchange (ISA/IEA), functional group (GS/GE) and transaction set (ST/SE) envelopes.

The walker reads the envelopes itself and hands each transaction set's body to the parser
registered for its ST01. Control numbers and counts are checked and reported as defects,
not errors: real trading partners get SE01 wrong and their files still carry claims.
A truncated file (an ST without SE, an ISA without IEA) is an error: it may be a partial
upload, and reading half of it would lose claims silently.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from revcycle.x12.errors import X12EnvelopeError, X12StructureError
from revcycle.x12.tokenizer import Defect, Delimiters, SegmentReader, Source

ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


def segment_id(tag: str) -> str | None:
    """The tag if it has the form of a segment id; None, so it is never echoed, if not
    (a damaged file can put data where the id should be)."""
    return tag if 2 <= len(tag) <= 3 and tag.isalnum() and tag.isupper() else None


@dataclass(slots=True)
class TransactionSet:
    set_id: str  # ST01: 837, 835, 999, 277
    control_number: str  # ST02
    implementation_reference: str  # ST03, e.g. 005010X222A1
    body: Any = None  # ClaimBatch, Remittance, FunctionalAck or ClaimAckReport; None if unread
    segment_count: int = 0  # counted, ST and SE included


@dataclass(slots=True)
class FunctionalGroup:
    functional_id: str  # GS01: HC, HP, FA, HN
    sender_code: str
    receiver_code: str
    date: date | None
    time: str
    control_number: str
    version: str  # GS08, e.g. 005010X222A1
    transactions: list[TransactionSet] = field(default_factory=list)


@dataclass(slots=True)
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: date | None
    time: str
    control_number: str
    version: str  # ISA12: 00501
    ack_requested: str
    usage_indicator: str  # P production, T test
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)


@dataclass(slots=True)
class X12Document:
    interchanges: list[Interchange]
    defects: list[Defect]

    def transactions(self) -> Iterator[TransactionSet]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                yield from group.transactions

    def bodies(self, kind: type | None = None) -> list[Any]:
        """Every parsed transaction body, optionally only those of one type."""
        return [
            t.body
            for t in self.transactions()
            if t.body is not None and (kind is None or isinstance(t.body, kind))
        ]


@dataclass(slots=True)
class BodyContext:
    """What a transaction-set parser gets: the shared segment stream and its envelope."""

    reader: SegmentReader
    segments: Iterator[list[str]]
    transaction: TransactionSet
    group: FunctionalGroup
    trailer: list[str] | None = None  # the SE segment, set by the parser when it reaches it

    @property
    def delimiters(self) -> Delimiters:
        return self.reader.delimiters

    def unexpected(self, elements: list[str], loop: str) -> Exception:
        """The error for a segment that has no place where it stands."""
        tag = elements[0]
        if segment_id(tag) is None:
            return self.reader.error(X12StructureError, "segment identifier is missing or"
                                     " invalid", loop=loop)
        if tag in ENVELOPE_TAGS:
            return self.reader.error(X12EnvelopeError, "transaction set ends without an SE"
                                     " trailer", segment_id=tag, loop=loop)
        return self.reader.error(X12StructureError, f"segment {tag} is not expected here",
                                 segment_id=tag, loop=loop)


# A body parser sets ``ctx.transaction.body``, yields the body's items (claims, claim
# payments, set acknowledgments, claim statuses) and stops after storing the SE in
# ``ctx.trailer``.
BodyParser = Callable[[BodyContext], Iterator[Any]]


def parse_date8(value: str) -> date | None:
    """CCYYMMDD to a date, or None when it is not one."""
    if len(value) != 8 or not (value.isascii() and value.isdigit()):
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _parse_date6(value: str) -> date | None:
    if len(value) != 6 or not (value.isascii() and value.isdigit()):
        return None
    # ISA09 is YYMMDD; X12 assigns no century, so the nearest one to today is taken.
    century = 2000 if int(value[:2]) < 70 else 1900
    return parse_date8(f"{century + int(value[:2])}{value[2:]}")


def _element(elements: list[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""


class X12Reader:
    """Reads a file's interchanges; the transaction bodies by the parsers it is given."""

    def __init__(self, source: Source, parsers: Mapping[str, BodyParser]) -> None:
        self.segments = SegmentReader(source)
        self.parsers = parsers
        self.document = X12Document([], self.segments.defects)
        self.transaction: TransactionSet | None = None

    def read(self) -> X12Document:
        """The whole document, every body's items collected.

        Python's cycle collector is paused meanwhile: reading builds hundreds of thousands
        of objects, none of them in a reference cycle, and each collection pass would walk
        all of them again (a third of the time on a 10,000-claim file). Nothing else runs
        inside the loop, so nothing else is affected; ``items()`` does not pause it.
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            for _ in self._walk(keep=True):
                pass
        finally:
            if paused:
                gc.enable()
        return self.document

    def items(self) -> Iterator[Any]:
        """Stream the bodies' items (claims, claim payments, ...) without keeping them."""
        return self._walk(keep=False)

    def _walk(self, keep: bool) -> Iterator[Any]:
        reader = self.segments
        segments = iter(reader)
        interchange: Interchange | None = None
        group: FunctionalGroup | None = None
        for elements in segments:
            tag = elements[0]
            if tag == "ST":
                if group is None:
                    raise reader.error(X12EnvelopeError, "ST outside a functional group",
                                       segment_id="ST")
                yield from self._transaction(elements, group, segments, keep)
            elif tag == "GS":
                if interchange is None or group is not None:
                    raise reader.error(X12EnvelopeError, "GS outside an interchange or inside"
                                       " an open group", segment_id="GS")
                group = self._group(elements)
                interchange.groups.append(group)
            elif tag == "GE":
                if group is None:
                    raise reader.error(X12EnvelopeError, "GE without GS", segment_id="GE")
                self._check_count(elements, len(group.transactions), group.control_number,
                                  "GE")
                group = None
            elif tag == "ISA":
                if interchange is not None:
                    raise reader.error(X12EnvelopeError, "ISA inside an open interchange",
                                       segment_id="ISA")
                interchange = self._interchange(elements)
                self.document.interchanges.append(interchange)
            elif tag == "IEA":
                if interchange is None or group is not None:
                    raise reader.error(X12EnvelopeError, "IEA without ISA, or before GE",
                                       segment_id="IEA")
                self._check_count(elements, len(interchange.groups),
                                  interchange.control_number, "IEA")
                interchange = None
            else:
                raise reader.error(X12EnvelopeError, "segment outside a transaction set",
                                   segment_id=segment_id(tag))
        if group is not None or interchange is not None:
            raise reader.error(X12EnvelopeError, "file ends inside an open "
                               + ("functional group (no GE)" if group else "interchange (no"
                                  " IEA)"))

    def _transaction(self, st: list[str], group: FunctionalGroup,
                     segments: Iterator[list[str]], keep: bool) -> Iterator[Any]:
        reader = self.segments
        if len(st) < 3 or not st[1] or not st[2]:
            raise reader.error(X12EnvelopeError, "ST lacks its set id or control number",
                               segment_id="ST")
        start = reader.segment_number
        transaction = TransactionSet(st[1], st[2], _element(st, 3))
        if any(t.control_number == transaction.control_number for t in group.transactions):
            reader.defect("ST02_DUPLICATE", "transaction set control number repeats in the"
                          " group")
        group.transactions.append(transaction)
        self.transaction = transaction
        parse = self.parsers.get(transaction.set_id)
        ctx = BodyContext(reader, segments, transaction, group)
        if parse is None:
            ctx.trailer = self._skip_to_se(segments)
        elif keep:
            for item in parse(ctx):
                transaction.body.add(item)
        else:
            yield from parse(ctx)
        if ctx.trailer is None:
            raise reader.error(X12EnvelopeError, "transaction set ends without an SE trailer",
                               segment_id="SE")
        transaction.segment_count = reader.segment_number - start + 1
        self._check_count(ctx.trailer, transaction.segment_count, transaction.control_number,
                          "SE")

    def _skip_to_se(self, segments: Iterator[list[str]]) -> list[str] | None:
        for elements in segments:
            if elements[0] == "SE":
                return elements
            if elements[0] in ENVELOPE_TAGS:
                raise self.segments.error(X12EnvelopeError, "transaction set ends without an"
                                          " SE trailer", segment_id=elements[0])
        return None

    def _check_count(self, trailer: list[str], counted: int, control: str, tag: str) -> None:
        if _element(trailer, 1) != str(counted):
            self.segments.defect(f"{tag}01_COUNT", f"{tag}01 does not match the {counted}"
                                 " counted")
        if _element(trailer, 2).lstrip("0") != control.lstrip("0"):
            self.segments.defect(f"{tag}02_CONTROL", f"{tag}02 does not match its header's"
                                 " control number")

    def _group(self, gs: list[str]) -> FunctionalGroup:
        if len(gs) < 9:
            raise self.segments.error(X12EnvelopeError, "GS has fewer than 8 elements",
                                      segment_id="GS")
        group = FunctionalGroup(gs[1], gs[2], gs[3], parse_date8(gs[4]), gs[5], gs[6], gs[8])
        if group.date is None:
            self.segments.defect("GS04_DATE", "GS04 is not a CCYYMMDD date")
        if not gs[8].startswith("00501"):
            self.segments.defect("NOT_5010", "group version is not 005010")
        return group

    def _interchange(self, isa: list[str]) -> Interchange:
        if len(isa) < 17:
            raise self.segments.error(X12EnvelopeError, "ISA has fewer than 16 elements",
                                      segment_id="ISA")
        interchange = Interchange(
            sender_qualifier=isa[5],
            sender_id=isa[6].strip(),
            receiver_qualifier=isa[7],
            receiver_id=isa[8].strip(),
            date=_parse_date6(isa[9]),
            time=isa[10],
            control_number=isa[13],
            version=isa[12],
            ack_requested=isa[14],
            usage_indicator=isa[15],
            delimiters=self.segments.delimiters,
        )
        if interchange.date is None:
            self.segments.defect("ISA09_DATE", "ISA09 is not a YYMMDD date")
        if len(isa[13]) != 9 or not (isa[13].isascii() and isa[13].isdigit()):
            self.segments.defect("ISA13_FORMAT", "ISA13 is not a nine-digit control number")
        if isa[12] == "00501" and not self.segments.delimiters.repetition:
            self.segments.defect("ISA11_NOT_SEPARATOR", "5010 ISA11 holds no repetition"
                                 " separator")
        return interchange
