"""277CA Claim Acknowledgment (005010X214): reader and writer.

The 277CA is a hierarchy of HL levels: the information source (HL 20, the payer or
clearinghouse, 2000A), the information receiver (HL 21, us, 2000B) with its totals, a
billing provider (HL 19, 2000C) with its totals, and a patient (HL PT, 2000D) holding one
2200D loop per claim (TRN*2 = our patient control number, STC verdicts, REF, DTP) and its
2220D service lines (SVC, STC, REF, DTP).

The reader yields a ``ClaimStatus`` per 2200D, each holding its patient and a reference
to its billing provider. It also reads the claim-level statuses of a 277 claim status
response (005010X212), whose subscriber (HL 22) and dependent (HL 23) levels stand where
the patient level does. A transaction set whose repeated source or receiver levels
differ from the first ones is refused (``X12UnsupportedError``): a report has one of
each, and merging them would misattribute claims.

Strict where a verdict would otherwise be wrong: a level without its name (NM1), a claim
without its trace number or status codes, a malformed date or amount. Lenient about HL
numbering and what the model does not name, which stays in ``other_segments``; elements
the model has no place for are reported as defects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from functools import partial

from revcycle.model.acknowledgment import (
    ClaimAckReport,
    ClaimStatus,
    Entity,
    EntityStatus,
    LineStatus,
    Segment,
    StatusInfo,
)
from revcycle.x12.envelope import BodyContext
from revcycle.x12.errors import X12ElementError, X12StructureError, X12UnsupportedError
from revcycle.x12.tokenizer import SegmentReader
from revcycle.x12.values import (
    date_value,
    decimal_value,
    element,
    optional_decimal,
    pad,
    required,
)
from revcycle.x12.writer import (
    ControlNumbers,
    InterchangeHeader,
    SegmentWriter,
    WrittenInterchange,
    d8,
    keep_segment,
    money,
    rd8,
    write_interchange,
)

VERSION = "005010X214"

# The reader's states: which level's segments are being read.
HEADER, SOURCE, RECEIVER, PROVIDER, PATIENT, CLAIM, LINE = range(7)
LEVEL_LOOPS = {HEADER: "HEADER", SOURCE: "2000A", RECEIVER: "2000B", PROVIDER: "2000C",
               PATIENT: "2000D", CLAIM: "2200D", LINE: "2220D"}
# HL03 codes and the codes their parent level may have (22/23 come from the 277 X212).
PARENT_CODES = {"20": (), "21": ("20",), "19": ("21",), "PT": ("19",), "22": ("19",),
                "23": ("22",)}
PATIENT_CODES = frozenset({"PT", "22", "23"})
# QTY qualifiers (accepted, rejected) by level.
QUANTITY_CODES = {RECEIVER: ("90", "AA"), PROVIDER: ("QA", "QC")}
MAX_STATUSES_PER_STC = 3  # STC01, STC10, STC11
MAX_MODIFIERS = 4
_PAD = ("",) * 13














def _not_kept(reader: SegmentReader, elements: list[str], last: int) -> None:
    """Report elements after position ``last``, which the model has no place for."""
    if len(elements) > last + 1 and any(elements[last + 1 :]):
        reader.defect("ELEMENT_NOT_KEPT", f"{elements[0]} elements after position {last}"
                      " are not kept")


class _Source:
    """The 2000A level being read, before it is set on (or matched with) the report."""

    __slots__ = ("entity", "other", "processed", "received", "trace")

    def __init__(self) -> None:
        self.entity: Entity | None = None
        self.trace = ""
        self.received: date | None = None
        self.processed: date | None = None
        self.other: list[Segment] = []

    def fields(self) -> tuple[object, ...]:
        return (self.entity, self.trace, self.received, self.processed, tuple(self.other))


class _Reader:
    """One pass over a 277's segments, the loop state held in attributes."""

    __slots__ = ("chain", "claim", "comp", "ctx", "dates", "delimiters", "line", "patient",
                 "patient_claims", "patient_code", "patient_has_children", "provider",
                 "reader", "receiver", "report", "source", "state", "subscriber")

    def __init__(self, ctx: BodyContext) -> None:
        self.ctx = ctx
        self.reader = ctx.reader
        self.delimiters = ctx.delimiters
        self.comp = ctx.delimiters.component
        self.report: ClaimAckReport | None = None
        self.state = HEADER
        self.chain: list[tuple[str, str]] = []  # open HL levels: (HL03, HL01)
        self.source: _Source | None = None
        self.receiver: EntityStatus | None = None
        self.provider: EntityStatus | None = None
        self.patient: Entity | None = None
        self.patient_code = ""
        self.patient_claims = 0
        self.patient_has_children = False
        self.subscriber: Entity | None = None  # the last subscriber level (277 X212)
        self.claim: ClaimStatus | None = None
        self.line: LineStatus | None = None

    def run(self) -> Iterator[ClaimStatus]:
        reader = self.reader
        for elements in self.ctx.segments:
            tag = elements[0]
            state = self.state
            if tag == "HL":
                if self.claim is not None:
                    yield self._end_claim()
                self._hl(elements)
            elif state >= CLAIM and tag != "SE":
                if tag == "TRN":
                    yield self._end_claim()
                    self._start_claim(elements)
                elif tag == "SVC":
                    self._start_line(elements)
                elif state == LINE:
                    self._line_segment(elements)
                else:
                    self._claim_segment(elements)
            elif tag == "SE":
                if self.claim is not None:
                    yield self._end_claim()
                self._end_level()
                self._end_report()
                self.ctx.trailer = elements
                return
            elif state == PATIENT:
                if tag == "TRN":
                    self._start_claim(elements)
                elif tag == "NM1" and self.patient is None:
                    self.patient = self._entity(elements, "2100D")
                else:
                    raise self.ctx.unexpected(elements, "2000D")
            elif state in (RECEIVER, PROVIDER):
                self._status_level_segment(elements)
            elif state == SOURCE:
                self._source_segment(elements)
            elif tag == "BHT" and self.report is None:
                self._bht(elements)
            elif self.report is None:
                raise reader.error(X12StructureError, "277 does not begin with BHT",
                                   segment_id=tag, loop="HEADER")
            else:
                raise self.ctx.unexpected(elements, "HEADER")

    # --- levels --------------------------------------------------------------------

    def _bht(self, elements: list[str]) -> None:
        self.report = ClaimAckReport(
            reference=required(self.reader, elements, 3, "HEADER"),
            created=date_value(self.reader, element(elements, 4), "BHT", 4, "HEADER"),
            time=element(elements, 5),
            structure_code=element(elements, 1),
            purpose=element(elements, 2),
            transaction_type=element(elements, 6),
        )
        _not_kept(self.reader, elements, 6)
        self.ctx.transaction.body = self.report

    def _hl(self, elements: list[str]) -> None:
        reader = self.reader
        if self.report is None:
            raise reader.error(X12StructureError, "277 does not begin with BHT",
                               segment_id="HL", loop="HEADER")
        hl_id = required(reader, elements, 1, "HL")
        code = required(reader, elements, 3, "HL")
        parents = PARENT_CODES.get(code)
        if parents is None:
            raise reader.error(X12StructureError, "HL03 is not a 277 level code",
                               segment_id="HL", element=3)
        self._end_level()
        chain = self.chain
        while chain and chain[-1][0] not in parents:
            chain.pop()
        if parents and not chain:
            raise reader.error(X12StructureError, "HL level stands outside the level it"
                               " belongs to", segment_id="HL", element=3)
        if element(elements, 2) != (chain[-1][1] if chain else ""):
            reader.defect("HL02_PARENT", "HL02 does not name the enclosing level")
        chain.append((code, hl_id))
        if code in PATIENT_CODES:
            self.state = PATIENT
            self.patient = None
            self.patient_code = code
            self.patient_claims = 0
            self.patient_has_children = element(elements, 4) == "1"
        elif code == "19":
            self.state = PROVIDER
            self.provider = EntityStatus(None)
            self.report.billing_providers.append(self.provider)
        elif code == "21":
            self.state = RECEIVER
            self.receiver = EntityStatus(None)
        else:
            self.state = SOURCE
            self.source = _Source()

    def _end_level(self) -> None:
        """Check the level whose own segments end here, and file it in the report."""
        state, report, reader = self.state, self.report, self.reader
        if state >= PATIENT:
            if self.patient is None:
                raise reader.error(X12StructureError, "patient level lacks its name (NM1)",
                                   loop="2100D")
            if self.patient_code == "22":
                self.subscriber = self.patient
            if not self.patient_claims and not self.patient_has_children:
                reader.defect("PATIENT_WITHOUT_CLAIM", "a patient level holds no claim")
        elif state == PROVIDER:
            if self.provider is None or self.provider.entity is None:
                raise reader.error(X12StructureError, "billing provider level lacks its name"
                                   " (NM1)", loop="2100C")
        elif state == RECEIVER and report is not None and self.receiver is not None:
            if self.receiver.entity is None:
                raise reader.error(X12StructureError, "information receiver level lacks its"
                                   " name (NM1)", loop="2100B")
            if report.receiver is None:
                report.receiver = self.receiver
            elif report.receiver != self.receiver:
                raise reader.error(X12UnsupportedError, "a 277 transaction set with several"
                                   " different information receivers", loop="2000B")
        elif state == SOURCE and report is not None and self.source is not None:
            source = self.source
            if source.entity is None:
                raise reader.error(X12StructureError, "information source level lacks its"
                                   " name (NM1)", loop="2100A")
            if report.source is None:
                report.source = source.entity
                report.source_trace = source.trace
                report.received_date = source.received
                report.process_date = source.processed
                report.other_segments = tuple(source.other)
            elif source.fields() != (report.source, report.source_trace, report.received_date,
                                     report.process_date, report.other_segments):
                raise reader.error(X12UnsupportedError, "a 277 transaction set with several"
                                   " different information sources", loop="2000A")

    def _end_report(self) -> None:
        report = self.report
        if report is None or report.source is None or report.receiver is None:
            raise self.reader.error(X12StructureError, "277 lacks its information source or"
                                    " receiver level", segment_id="SE")

    # --- segments of the source, receiver and provider levels ----------------------

    def _entity(self, elements: list[str], loop: str) -> Entity:
        _not_kept(self.reader, elements, 9)
        pad(elements, 10)
        return Entity(
            entity_code=required(self.reader, elements, 1, loop),
            last_name=required(self.reader, elements, 3, loop),
            entity_type=elements[2],
            first_name=elements[4],
            middle_name=elements[5],
            name_prefix=elements[6],
            name_suffix=elements[7],
            id_qualifier=elements[8],
            id=elements[9],
        )

    def _keep(self, elements: list[str]) -> Segment:
        return keep_segment(elements, self.delimiters)

    def _source_segment(self, elements: list[str]) -> None:
        source = self.source
        assert source is not None
        tag = elements[0]
        if tag == "NM1" and source.entity is None:
            source.entity = self._entity(elements, "2100A")
        elif tag == "TRN" and not source.trace:
            source.trace = required(self.reader, elements, 2, "2200A")
            _not_kept(self.reader, elements, 2)
        elif tag == "DTP" and element(elements, 1) == "050" and source.received is None:
            source.received = self._single_date(elements, "2200A")
        elif tag == "DTP" and element(elements, 1) == "009" and source.processed is None:
            source.processed = self._single_date(elements, "2200A")
        else:
            source.other.append(self._keep(elements))

    def _status_level_segment(self, elements: list[str]) -> None:
        """A segment of the information receiver or billing provider level."""
        level = self.receiver if self.state == RECEIVER else self.provider
        assert level is not None
        loop = "2200B" if self.state == RECEIVER else "2200C"
        reader = self.reader
        tag = elements[0]
        if tag == "STC":
            self._status(level, elements, loop, date_required=False)
        elif tag == "NM1" and level.entity is None:
            level.entity = self._entity(elements, loop.replace("22", "21"))
        elif tag == "TRN" and not level.trace:
            level.trace = required(reader, elements, 2, loop)
            _not_kept(reader, elements, 2)
        elif tag == "QTY" and element(elements, 1) in QUANTITY_CODES[self.state]:
            count = self._count(elements, loop)
            if element(elements, 1) == QUANTITY_CODES[self.state][0]:
                if level.accepted_quantity is None:
                    level.accepted_quantity = count
                    return
            elif level.rejected_quantity is None:
                level.rejected_quantity = count
                return
            self._other(level, elements)
        elif tag == "AMT" and element(elements, 1) == "YU" and level.accepted_amount is None:
            level.accepted_amount = decimal_value(reader, element(elements, 2), "AMT", 2, loop)
            _not_kept(reader, elements, 2)
        elif tag == "AMT" and element(elements, 1) == "YY" and level.rejected_amount is None:
            level.rejected_amount = decimal_value(reader, element(elements, 2), "AMT", 2, loop)
            _not_kept(reader, elements, 2)
        elif tag == "REF" and self.state == PROVIDER and not level.secondary_id:
            level.secondary_id_qualifier = required(reader, elements, 1, loop)
            level.secondary_id = required(reader, elements, 2, loop)
            _not_kept(reader, elements, 2)
        else:
            self._other(level, elements)

    def _count(self, elements: list[str], loop: str) -> int:
        number = decimal_value(self.reader, element(elements, 2), "QTY", 2, loop)
        if number != number.to_integral_value():
            raise self.reader.error(X12ElementError, "a claim count is not a whole number",
                                    segment_id="QTY", element=2, loop=loop)
        _not_kept(self.reader, elements, 2)
        return int(number)

    def _other(self, target: EntityStatus | ClaimStatus | LineStatus,
               elements: list[str]) -> None:
        target.other_segments += (self._keep(elements),)

    # --- claims and lines ----------------------------------------------------------

    def _start_claim(self, elements: list[str]) -> None:
        if self.patient is None:
            raise self.reader.error(X12StructureError, "claim stands before its patient's"
                                    " name (NM1)", segment_id="TRN", loop="2100D")
        self.claim = ClaimStatus(
            patient_control_number=required(self.reader, elements, 2, "2200D"),
            patient=self.patient,
            billing_provider=self.provider,
            subscriber=self.subscriber if self.patient_code == "23" else None,
        )
        _not_kept(self.reader, elements, 2)
        self.patient_claims += 1
        self.line = None
        self.state = CLAIM

    def _end_claim(self) -> ClaimStatus:
        claim = self.claim
        assert claim is not None
        if claim.service_date is None:
            self.reader.defect("DTP472_MISSING", "a claim has no service date (DTP*472)")
        self.claim = None
        self.line = None
        self.state = PATIENT
        return claim

    def _claim_segment(self, elements: list[str]) -> None:
        claim = self.claim
        assert claim is not None
        tag = elements[0]
        if tag == "STC":
            self._status(claim, elements, "2200D", date_required=True)
        elif tag == "REF":
            qualifier = element(elements, 1)
            if qualifier == "1K" and not claim.payer_claim_control_number:
                claim.payer_claim_control_number = self._ref(elements, "2200D")
            elif qualifier == "D9" and not claim.clearinghouse_trace:
                claim.clearinghouse_trace = self._ref(elements, "2200D")
            elif qualifier == "BLT" and not claim.bill_type:
                claim.bill_type = self._ref(elements, "2200D")
            else:
                self._other(claim, elements)
        elif tag == "DTP" and element(elements, 1) == "472" and claim.service_date is None:
            claim.service_date, claim.service_date_end = self._period(elements, "2200D")
        else:
            self._other(claim, elements)

    def _start_line(self, elements: list[str]) -> None:
        reader = self.reader
        claim = self.claim
        assert claim is not None
        _not_kept(reader, elements, 7)
        pad(elements, 8)
        procedure = pad(required(reader, elements, 1, "2220D").split(self.comp), 3)
        code = procedure[1]
        if not procedure[0] or not code:
            raise reader.error(X12ElementError, "SVC01 lacks its qualifier or procedure code",
                               segment_id="SVC", element=1, loop="2220D")
        modifiers = procedure[2 : 2 + MAX_MODIFIERS]
        while modifiers and not modifiers[-1]:
            modifiers.pop()
        if any(procedure[2 + MAX_MODIFIERS :]) or elements[5] or elements[6]:
            reader.defect("ELEMENT_NOT_KEPT", "SVC01 description, SVC05 or SVC06 not kept")
        self.line = LineStatus(
            procedure_code=code,
            charge=decimal_value(reader, elements[2], "SVC", 2, "2220D"),
            procedure_qualifier=procedure[0],
            modifiers=tuple(modifiers),
            paid=optional_decimal(reader, elements[3], "SVC", 3, "2220D"),
            revenue_code=elements[4],
            units=optional_decimal(reader, elements[7], "SVC", 7, "2220D"),
        )
        claim.line_statuses.append(self.line)
        self.state = LINE

    def _line_segment(self, elements: list[str]) -> None:
        line = self.line
        assert line is not None
        tag = elements[0]
        if tag == "STC":
            self._status(line, elements, "2220D", date_required=True)
        elif tag == "REF" and element(elements, 1) == "FJ" and not line.line_control_number:
            line.line_control_number = self._ref(elements, "2220D")
        elif tag == "REF" and element(elements, 1) == "XZ" and not line.prescription_number:
            line.prescription_number = self._ref(elements, "2220D")
        elif tag == "DTP" and element(elements, 1) == "472" and line.service_date is None:
            line.service_date, line.service_date_end = self._period(elements, "2220D")
        else:
            self._other(line, elements)

    # --- elements shared by several levels ------------------------------------------

    def _ref(self, elements: list[str], loop: str) -> str:
        _not_kept(self.reader, elements, 2)
        return required(self.reader, elements, 2, loop)

    def _single_date(self, elements: list[str], loop: str) -> date:
        if element(elements, 2) != "D8":
            raise self.reader.error(X12ElementError, "DTP02 is not D8", segment_id="DTP",
                                    element=2, loop=loop)
        _not_kept(self.reader, elements, 3)
        return date_value(self.reader, element(elements, 3), "DTP", 3, loop)

    def _period(self, elements: list[str], loop: str) -> tuple[date, date | None]:
        _not_kept(self.reader, elements, 3)
        form, value = pad(elements, 4)[2:4]
        if form == "D8":
            return date_value(self.reader, value, "DTP", 3, loop), None
        if form == "RD8":
            start, _, end = value.partition("-")
            reader = self.reader
            return (date_value(reader, start, "DTP", 3, loop),
                    date_value(reader, end, "DTP", 3, loop))
        raise self.reader.error(X12ElementError, "DTP02 is neither D8 nor RD8", segment_id="DTP",
                           element=2, loop=loop)

    def _status(self, owner: EntityStatus | ClaimStatus | LineStatus, elements: list[str],
                loop: str, date_required: bool) -> None:
        """One STC: its composites join ``owner.statuses``; the first STC's date, action
        code and amount are the owner's (a later STC that differs is reported)."""
        reader = self.reader
        if len(elements) > 13 or any(elements[5:10]):
            reader.defect("ELEMENT_NOT_KEPT", "STC payment elements (STC05-STC09) are not"
                          " kept")
        pad(elements, 13)
        statuses = owner.statuses
        segment = statuses[-1].segment + 1 if statuses else 0
        message = elements[12]
        if not elements[1]:
            required(reader, elements, 1, loop)
        for position in (1, 10, 11):
            if elements[position]:
                statuses.append(self._status_info(elements[position], position, segment,
                                                  message, loop))
                message = ""
        effective = (date_value(self.reader, elements[2], "STC", 2, loop)
                     if date_required or elements[2] else None)
        action = elements[3]
        if isinstance(owner, LineStatus):
            if elements[4]:
                reader.defect("ELEMENT_NOT_KEPT", "a line's STC04 is not kept")
            if segment == 0:
                owner.effective_date, owner.action_code = effective, action
            differs = (effective, action) != (owner.effective_date, owner.action_code)
        else:
            amount = optional_decimal(reader, elements[4], "STC", 4, loop)
            if segment == 0:
                owner.effective_date, owner.action_code, owner.total_charge = (
                    effective, action, amount)
            differs = (effective, action, amount) != (
                owner.effective_date, owner.action_code, owner.total_charge)
        if differs:
            reader.defect("STC_DETAIL_DIFFERS", "a later STC's date, action code or amount"
                          " differs from the first STC's; the first is kept")

    def _status_info(self, value: str, position: int, segment: int, message: str,
                     loop: str) -> StatusInfo:
        parts = pad(value.split(self.comp), 4)
        if not parts[0] or not parts[1]:
            raise self.reader.error(X12ElementError, "claim status lacks its category or"
                                    " status code", segment_id="STC", element=position,
                                    loop=loop)
        return StatusInfo(parts[0], parts[1], parts[2], parts[3], segment, message)


def parse_277(ctx: BodyContext) -> Iterator[ClaimStatus]:
    """Body parser for a 277CA (or a 277 X212): sets a ``ClaimAckReport`` body, yields
    one ``ClaimStatus`` per claim (2200D)."""
    return _Reader(ctx).run()


# --- writer --------------------------------------------------------------------------


def _missing(what: str, tag: str, element: int | None = None) -> X12ElementError:
    return X12ElementError(f"{what} is required in a 277CA", segment_id=tag, element=element)


def _write_entity(w: SegmentWriter, entity: Entity | None) -> None:
    if entity is None:
        raise _missing("a level's name", "NM1")
    if not (entity.entity_code and entity.last_name and entity.id_qualifier and entity.id):
        raise _missing("NM101, NM103, NM108 and NM109", "NM1")
    w.add("NM1", entity.entity_code, entity.entity_type, entity.last_name, entity.first_name,
          entity.middle_name, entity.name_prefix, entity.name_suffix, entity.id_qualifier,
          entity.id)


def _write_statuses(w: SegmentWriter, statuses: list[StatusInfo], effective: date | None,
                    action: str, amount: Decimal | None, date_required: bool,
                    amount_required: bool) -> None:
    """One STC per run of statuses with the same ``segment`` number."""
    groups: list[list[StatusInfo]] = []
    for status in statuses:
        if not status.category_code or not status.status_code:
            raise _missing("a status's category and status code", "STC", 1)
        if groups and groups[-1][0].segment == status.segment:
            groups[-1].append(status)
        else:
            groups.append([status])
    if not groups:
        return
    if (date_required and effective is None) or not action or (amount_required
                                                                and amount is None):
        raise _missing("the STC effective date, action code and amount", "STC")
    for group in groups:
        if len(group) > MAX_STATUSES_PER_STC:
            raise X12ElementError("one STC carries at most three statuses", segment_id="STC")
        composites = [w.composite(s.category_code, s.status_code, s.entity_code,
                                  s.code_list_qualifier) for s in group]
        composites += [""] * (MAX_STATUSES_PER_STC - len(composites))
        w.add("STC", composites[0], d8(effective) if effective else "", action,
              money(amount) if amount is not None else "", "", "", "", "", "",
              composites[1], composites[2], group[0].message)


def _write_date(w: SegmentWriter, qualifier: str, start: date | None,
                end: date | None) -> None:
    if start is None:
        return
    if end is None:
        w.add("DTP", qualifier, "D8", d8(start))
    else:
        w.add("DTP", qualifier, "RD8", rd8(start, end))


def _write_status_level(w: SegmentWriter, level: EntityStatus, trace_type: str,
                        quantity_codes: tuple[str, str], receiver: bool) -> None:
    _write_entity(w, level.entity)
    if not level.trace:
        raise _missing("TRN02 trace", "TRN", 2)
    w.add("TRN", trace_type, level.trace)
    _write_statuses(w, level.statuses, level.effective_date, level.action_code,
                    level.total_charge, date_required=receiver, amount_required=True)
    if level.secondary_id:
        w.add("REF", level.secondary_id_qualifier, level.secondary_id)
    for code, count in zip(quantity_codes, (level.accepted_quantity, level.rejected_quantity),
                           strict=True):
        if count is not None:
            w.add("QTY", code, str(count))
    for code, amount in (("YU", level.accepted_amount), ("YY", level.rejected_amount)):
        if amount is not None:
            w.add("AMT", code, money(amount))
    for segment in level.other_segments:
        w.add_kept(segment)


def _write_line(w: SegmentWriter, line: LineStatus) -> None:
    if line.paid is not None:
        raise X12ElementError("a 277CA line has no paid amount (SVC03)", segment_id="SVC",
                              element=3)
    if not line.procedure_code or len(line.modifiers) > MAX_MODIFIERS:
        raise X12ElementError("SVC01 needs a procedure code and at most four modifiers",
                              segment_id="SVC", element=1)
    w.add("SVC", w.composite(line.procedure_qualifier, line.procedure_code, *line.modifiers),
          money(line.charge), "", line.revenue_code, "", "",
          money(line.units) if line.units is not None else "")
    _write_statuses(w, line.statuses, line.effective_date, line.action_code, None,
                    date_required=True, amount_required=False)
    if line.line_control_number:
        w.add("REF", "FJ", line.line_control_number)
    if line.prescription_number:
        w.add("REF", "XZ", line.prescription_number)
    _write_date(w, "472", line.service_date, line.service_date_end)
    for segment in line.other_segments:
        w.add_kept(segment)


def _write_claim(w: SegmentWriter, claim: ClaimStatus) -> None:
    if claim.subscriber is not None:
        raise X12ElementError("a 277CA has no subscriber level: the patient stands alone",
                              segment_id="HL", loop="2000D")
    _write_entity(w, claim.patient)
    if not claim.patient_control_number:
        raise _missing("the patient control number (TRN02)", "TRN", 2)
    w.add("TRN", "2", claim.patient_control_number)
    _write_statuses(w, claim.statuses, claim.effective_date, claim.action_code,
                    claim.total_charge, date_required=True, amount_required=True)
    for qualifier, value in (("1K", claim.payer_claim_control_number),
                             ("D9", claim.clearinghouse_trace), ("BLT", claim.bill_type)):
        if value:
            w.add("REF", qualifier, value)
    _write_date(w, "472", claim.service_date, claim.service_date_end)
    for segment in claim.other_segments:
        w.add_kept(segment)
    for line in claim.line_statuses:
        _write_line(w, line)


def _write_report(report: ClaimAckReport, w: SegmentWriter) -> None:
    if report.created is None or not report.reference or not report.time:
        raise _missing("BHT03, BHT04 and BHT05", "BHT")
    if report.receiver is None or not report.source_trace:
        raise _missing("the information receiver level and the source's trace", "HL")
    if report.received_date is None or report.process_date is None:
        raise _missing("the receipt (DTP*050) and process (DTP*009) dates", "DTP")
    by_provider: dict[int, list[ClaimStatus]] = {id(p): [] for p in report.billing_providers}
    for claim in report.claims:
        claims = by_provider.get(id(claim.billing_provider))
        if claims is None:
            raise X12StructureError("a claim's billing provider is not one of the report's",
                                    loop="2000C")
        claims.append(claim)
    if not by_provider or not all(by_provider.values()):
        # 2000C and 2000D are required loops: a provider level with no claim is invalid.
        raise X12StructureError("a 277CA needs a billing provider, and a claim under each",
                                loop="2000C")
    w.add("BHT", report.structure_code, report.purpose, report.reference,
          d8(report.created), report.time, report.transaction_type)
    w.add("HL", "1", "", "20", "1")
    _write_entity(w, report.source)
    w.add("TRN", "1", report.source_trace)
    _write_date(w, "050", report.received_date, None)
    _write_date(w, "009", report.process_date, None)
    for segment in report.other_segments:
        w.add_kept(segment)
    w.add("HL", "2", "1", "21", "1")
    _write_status_level(w, report.receiver, "2", QUANTITY_CODES[RECEIVER], receiver=True)
    number = 2
    for provider in report.billing_providers:
        number += 1
        provider_number = str(number)
        claims = by_provider[id(provider)]
        w.add("HL", provider_number, "2", "19", "1")
        _write_status_level(w, provider, "1", QUANTITY_CODES[PROVIDER], receiver=False)
        for claim in claims:
            number += 1
            w.add("HL", str(number), provider_number, "PT")
            _write_claim(w, claim)


def write_277ca(reports: list[ClaimAckReport], header: InterchangeHeader,
                control_numbers: ControlNumbers) -> WrittenInterchange:
    """One interchange with a 277CA transaction set per report."""
    return write_interchange(header, control_numbers, "277", VERSION,
                             [partial(_write_report, report) for report in reports])
