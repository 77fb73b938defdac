"""999 Implementation Acknowledgment (005010X231A1): reader and writer.

One 999 transaction set acknowledges one functional group: AK1 names the group, an AK2
loop per transaction set carries the IK3 (segment) and IK4 (element) error notes and
ends with the set's verdict in IK5, and AK9 gives the group's verdict and counts.

The reader yields a ``TransactionSetAck`` at each IK5. A set without its IK5, a group
without its AK9 or an unreadable code position is an error: a verdict we cannot read
must not be mistaken for an acceptance. A missing AK103 is only reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from revcycle.model.acknowledgment import (
    Context,
    ElementError,
    FunctionalAck,
    SegmentError,
    TransactionSetAck,
)
from revcycle.x12.envelope import BodyContext
from revcycle.x12.errors import X12ElementError, X12StructureError
from revcycle.x12.tokenizer import SegmentReader
from revcycle.x12.values import element, pad, required
from revcycle.x12.writer import (
    ControlNumbers,
    InterchangeHeader,
    SegmentWriter,
    WrittenInterchange,
    write_interchange,
)

VERSION = "005010X231A1"
SET_STATUSES = frozenset({"A", "E", "M", "R", "W", "X"})  # IK501
GROUP_STATUSES = frozenset({"A", "E", "M", "P", "R", "W", "X"})  # AK901
MAX_ERROR_CODES = 5  # IK502-IK506, AK905-AK909
MAX_LOOP_ID = 4  # data element 447 is AN 1/4: "2010", not "2010AA"
_PAD = ("",) * 7
LOOP_ENDERS = frozenset({"AK2", "AK9", "SE"})  # segments that close an AK2 loop




def _int(reader: SegmentReader, value: str, tag: str, position: int, loop: str) -> int:
    if not (value.isdigit() and value.isascii()):
        raise reader.error(X12ElementError, "missing or not a whole number", segment_id=tag,
                           element=position, loop=loop)
    return int(value)


def _optional_int(reader: SegmentReader, value: str, tag: str, position: int,
                  loop: str) -> int | None:
    if not value:
        return None
    return int(value) if value.isdigit() and value.isascii() else _int(
        reader, value, tag, position, loop)






def _context(reader: SegmentReader, elements: list[str], comp: str, loop: str) -> Context:
    name = pad(required(reader, elements, 1, loop).split(comp), 2)
    pad(elements, 7)
    position = pad(elements[5].split(comp), 3)
    return Context(
        name=name[0],
        reference=name[1],
        segment_id=elements[2],
        segment_position=_optional_int(reader, elements[3], "CTX", 3, loop),
        loop_id=elements[4],
        element_position=_optional_int(reader, position[0], "CTX", 5, loop),
        component_position=_optional_int(reader, position[1], "CTX", 5, loop),
        repeat_position=_optional_int(reader, position[2], "CTX", 5, loop),
        data_element_reference=elements[6].split(comp)[0],
    )


def _element_error(reader: SegmentReader, elements: list[str], comp: str) -> ElementError:
    position = pad(required(reader, elements, 1, "2110").split(comp), 3)
    pad(elements, 5)
    return ElementError(
        element_position=_int(reader, position[0], "IK4", 1, "2110"),
        component_position=_optional_int(reader, position[1], "IK4", 1, "2110"),
        repeat_position=_optional_int(reader, position[2], "IK4", 1, "2110"),
        data_element_reference=elements[2],
        error_code=required(reader, elements, 3, "2110"),
        bad_data=elements[4],
    )


def _codes(elements: list[str], first: int) -> tuple[str, ...]:
    return tuple(code for code in elements[first:] if code)


def parse_999(ctx: BodyContext) -> Iterator[TransactionSetAck]:
    """Body parser for a 999: sets a ``FunctionalAck`` body, yields one ack per AK2 loop."""
    reader = ctx.reader
    comp = ctx.delimiters.component
    group: FunctionalAck | None = None
    current: TransactionSetAck | None = None
    segment_error: SegmentError | None = None
    element_error: ElementError | None = None
    closed = False  # AK9 read
    for elements in ctx.segments:
        tag = elements[0]
        if current is not None:
            if tag == "IK4" and segment_error is not None:
                element_error = _element_error(reader, elements, comp)
                segment_error.element_errors.append(element_error)
                continue
            if tag == "CTX" and segment_error is not None:
                if element_error is not None:
                    element_error.contexts += (_context(reader, elements, comp, "2110"),)
                else:
                    segment_error.contexts += (_context(reader, elements, comp, "2100"),)
                continue
            if tag == "IK3":
                segment_error = SegmentError(
                    segment_id=required(reader, elements, 1, "2100"),
                    segment_position=_int(reader, element(elements, 2), "IK3", 2, "2100"),
                    loop_id=element(elements, 3),
                    error_code=element(elements, 4),
                )
                element_error = None
                current.segment_errors.append(segment_error)
                continue
            if tag == "IK5":
                current.status = required(reader, elements, 1, "2000")
                if current.status not in SET_STATUSES:
                    reader.defect("IK501_CODE", "IK501 is not a 999 acknowledgment code")
                current.error_codes = _codes(elements, 2)
                yield current
                current = segment_error = element_error = None
                continue
            if tag in LOOP_ENDERS:
                raise reader.error(X12StructureError, "AK2 loop ends without its IK5"
                                   " trailer", segment_id=tag, loop="2000")
            raise ctx.unexpected(elements, "2000")
        if tag == "AK2" and group is not None and not closed:
            current = TransactionSetAck(
                set_id=required(reader, elements, 1, "2000"),
                control_number=required(reader, elements, 2, "2000"),
                implementation_reference=element(elements, 3),
                status="",
            )
        elif tag == "AK1" and group is None:
            group = FunctionalAck(required(reader, elements, 1, "HEADER"),
                                  required(reader, elements, 2, "HEADER"),
                                  element(elements, 3))
            if not group.version:
                reader.defect("AK103_MISSING", "AK1 does not name the version acknowledged")
            ctx.transaction.body = group
        elif tag == "AK9" and group is not None and not closed:
            group.status = required(reader, elements, 1, "HEADER")
            if group.status not in GROUP_STATUSES:
                reader.defect("AK901_CODE", "AK901 is not a 999 acknowledgment code")
            group.sets_included = _int(reader, element(elements, 2), "AK9", 2, "HEADER")
            group.sets_received = _int(reader, element(elements, 3), "AK9", 3, "HEADER")
            group.sets_accepted = _int(reader, element(elements, 4), "AK9", 4, "HEADER")
            group.error_codes = _codes(elements, 5)
            closed = True
        elif tag == "SE":
            if not closed:
                raise reader.error(X12StructureError, "999 ends without its AK1 or AK9",
                                   segment_id="SE", loop="HEADER")
            ctx.trailer = elements
            return
        else:
            raise ctx.unexpected(elements, "HEADER" if group is None or closed else "2000")


# --- writer --------------------------------------------------------------------------


def _write_context(w: SegmentWriter, context: Context) -> None:
    if not context.name:
        raise X12ElementError("CTX01 context name is required", segment_id="CTX", element=1)
    _check_loop_id(context.loop_id, "CTX", 4)
    w.add("CTX", w.composite(context.name, context.reference), context.segment_id,
          _text(context.segment_position), context.loop_id,
          w.composite(_text(context.element_position), _text(context.component_position),
                      _text(context.repeat_position)),
          context.data_element_reference)


def _check_loop_id(loop_id: str, tag: str, position: int) -> None:
    if len(loop_id) > MAX_LOOP_ID:
        raise X12ElementError("a loop identifier has at most four characters (e.g. 2010)",
                              segment_id=tag, element=position)


def _text(number: int | None) -> str:
    return "" if number is None else str(number)


def _error_codes(codes: tuple[str, ...], tag: str) -> tuple[str, ...]:
    if len(codes) > MAX_ERROR_CODES:
        raise X12ElementError(f"{tag} carries at most {MAX_ERROR_CODES} error codes",
                              segment_id=tag, element=2 if tag == "IK5" else 5)
    return codes


def _write_set(w: SegmentWriter, ack: TransactionSetAck) -> None:
    if not ack.set_id or not ack.control_number:
        raise X12ElementError("AK201 and AK202 are required", segment_id="AK2")
    if ack.status not in SET_STATUSES:
        raise X12ElementError("IK501 is not a 999 acknowledgment code", segment_id="IK5",
                              element=1)
    w.add("AK2", ack.set_id, ack.control_number, ack.implementation_reference)
    for segment in ack.segment_errors:
        if not segment.segment_id:
            raise X12ElementError("IK301 segment id is required", segment_id="IK3", element=1)
        _check_loop_id(segment.loop_id, "IK3", 3)
        w.add("IK3", segment.segment_id, str(segment.segment_position), segment.loop_id,
              segment.error_code)
        for context in segment.contexts:
            _write_context(w, context)
        for error in segment.element_errors:
            if not error.error_code:
                raise X12ElementError("IK403 error code is required", segment_id="IK4",
                                      element=3)
            w.add("IK4", w.composite(str(error.element_position),
                                     _text(error.component_position),
                                     _text(error.repeat_position)),
                  error.data_element_reference, error.error_code, error.bad_data)
            for context in error.contexts:
                _write_context(w, context)
    w.add("IK5", ack.status, *_error_codes(ack.error_codes, "IK5"))


def _write_group(group: FunctionalAck, w: SegmentWriter) -> None:
    if not group.functional_id or not group.group_control_number:
        raise X12ElementError("AK101 and AK102 are required", segment_id="AK1")
    if group.status not in GROUP_STATUSES:
        raise X12ElementError("AK901 is not a 999 acknowledgment code", segment_id="AK9",
                              element=1)
    w.add("AK1", group.functional_id, group.group_control_number, group.version)
    for ack in group.set_acks:
        _write_set(w, ack)
    w.add("AK9", group.status, str(group.sets_included), str(group.sets_received),
          str(group.sets_accepted), *_error_codes(group.error_codes, "AK9"))


def write_999(acks: list[FunctionalAck], header: InterchangeHeader,
              control_numbers: ControlNumbers) -> WrittenInterchange:
    """One interchange with a 999 transaction set per acknowledged functional group."""
    return write_interchange(header, control_numbers, "999", VERSION,
                             [partial(_write_group, group) for group in acks])
