"""The 835 health care claim payment/advice (005010X221A1): reader and writer.

``parse_835`` is a body parser for ``X12Reader``: it yields one ``ClaimPayment`` per CLP and
builds the ``Remittance`` around them. It does not check balancing (see
``revcycle.model.remittance.balance_problems``); it is strict where a value cannot be
represented (an amount that is not a decimal, a date that is not a date) and tolerant of
segment order and of segments it does not model, which go to the ``other_segments`` of the
loop they stand in. ``write_835`` writes segments in TR3 order, putting those kept segments
back at their TR3 position, so read -> write -> read gives equal objects.

4010 (004010X091A1) remittances are read too: their layout is the same for everything
modeled here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from functools import partial
from operator import itemgetter

from revcycle.model.claim import Address, Segment
from revcycle.model.remittance import (
    Adjustment,
    ClaimPayment,
    Contact,
    Entity,
    ProcedureCode,
    ProviderAdjustment,
    Remittance,
    RemittancePayee,
    RemittancePayer,
    ServicePayment,
)
from revcycle.x12.envelope import ENVELOPE_TAGS, BodyContext, parse_date8
from revcycle.x12.errors import X12ElementError, X12EnvelopeError, X12StructureError
from revcycle.x12.tokenizer import SegmentReader
from revcycle.x12.values import date_value, decimal_value, pad, required
from revcycle.x12.writer import (
    ControlNumbers,
    InterchangeHeader,
    SegmentWriter,
    WrittenInterchange,
    d8,
    money,
    quantity,
    write_interchange,
)

VERSION = "005010X221A1"

# TR3 position of each segment in its loop, by tag and by (tag, qualifier) where a loop
# holds the same tag at several positions. Kept segments are written back at theirs;
# tags a loop does not hold go to its end (99).
_HEADER_POS: dict[object, int] = {"BPR": 0, "TRN": 10, "CUR": 20, "REF": 30, ("REF", "F2"): 31,
                                  "DTM": 40}
_PAYER_POS: dict[object, int] = {"N1": 0, "N3": 10, "N4": 20, "REF": 30, "PER": 40,
                                 ("PER", "BL"): 41, ("PER", "IC"): 42}
_PAYEE_POS: dict[object, int] = {"N1": 0, "N3": 10, "N4": 20, "REF": 30, "RDM": 40}
_SUMMARY_POS: dict[object, int] = {"TS3": 10, "TS2": 20}  # after LX, before CLP
_PROVIDER_REFS = ("0B", "1A", "1B", "1C", "1D", "1G", "1H", "1J", "D3", "G2", "HPI", "SY")
_NM1_FIELDS = {"QC": "patient", "IL": "insured", "74": "corrected_patient",
               "82": "service_provider", "TT": "crossover_carrier",
               "PR": "corrected_priority_payer", "GB": "other_subscriber"}
_CLAIM_POS: dict[object, int] = {
    "CLP": 0, "CAS": 10, "NM1": 27, "MIA": 30, "MOA": 40, "REF": 50, "DTM": 60,
    ("DTM", "036"): 61, ("DTM", "050"): 62, "PER": 70, "AMT": 80, "QTY": 90,
    **{("NM1", q): 20 + i for i, q in enumerate(_NM1_FIELDS)},
    **{("REF", q): 51 for q in (*_PROVIDER_REFS, "LU")},
}
_SERVICE_POS: dict[object, int] = {
    "SVC": 0, "DTM": 10, "CAS": 20, "REF": 30, ("REF", "6R"): 31, ("REF", "0K"): 33,
    "AMT": 40, "QTY": 50, "LQ": 60, **{("REF", q): 32 for q in _PROVIDER_REFS},
}
_UNKNOWN = 99


HEADER, PAYER, PAYEE, DETAIL, SUMMARY = range(5)
_LOOP_NAMES = ("HEADER", "1000A", "1000B", "2000", "SUMMARY")


# ----------------------------------------------------------------------------- reading






def _dtm(reader: SegmentReader, elements: list[str], loop: str) -> date:
    if len(elements) > 3:
        _extra(reader, elements, 3)
    return date_value(reader, elements[2] if len(elements) > 2 else "", "DTM", 2, loop)




def _extra(reader: SegmentReader, elements: list[str], used: int) -> None:
    """Report elements past the ones the model keeps (they are not written back)."""
    if any(elements[used:]):
        tag = elements[0]
        reader.defect(f"{tag}_ELEMENTS_DROPPED",
                      f"{tag} elements from {tag}{used:02d} on are not kept")




def _adjustments(reader: SegmentReader, elements: list[str], loop: str,
                 into: list[Adjustment]) -> None:
    """The triples of one CAS, appended to ``into``."""
    if len(elements) == 4 and elements[1] and elements[2]:  # the common single triple
        into.append(Adjustment(elements[1], elements[2],
                               decimal_value(reader, elements[3], "CAS", 3, loop)))
        return
    group = required(reader, elements, 1, loop)
    required(reader, elements, 2, loop)
    count = len(elements)
    if count > 20:
        _extra(reader, elements, 20)
        count = 20
    for k in range(2, count, 3):
        reason = elements[k]
        amount = elements[k + 1] if k + 1 < count else ""
        qty = elements[k + 2] if k + 2 < count else ""
        if not reason:
            if amount or qty:
                raise reader.error(X12ElementError, f"CAS{k:02d} is missing", segment_id="CAS",
                                   element=k, loop=loop)
            continue
        into.append(Adjustment(group, reason, decimal_value(reader, amount, "CAS", k + 1, loop),
                               decimal_value(reader, qty, "CAS", k + 2, loop) if qty else None))


def _procedure(reader: SegmentReader, composite: str, comp: str, tag: str,
               position: int) -> ProcedureCode:
    parts = composite.split(comp)
    if len(parts) > 7:
        reader.defect(f"{tag}{position:02d}_COMPONENTS_DROPPED",
                      f"{tag}{position:02d} components past the seventh are not kept")
    modifiers = parts[2:6]
    while modifiers and not modifiers[-1]:
        modifiers.pop()
    return ProcedureCode(parts[0], parts[1] if len(parts) > 1 else "", tuple(modifiers),
                         parts[6] if len(parts) > 6 else "")


def _service(reader: SegmentReader, elements: list[str], comp: str) -> ServicePayment:
    e = pad(elements, 8)
    if len(e) > 8:
        _extra(reader, e, 8)
    code = _procedure(reader, e[1], comp, "SVC", 1)
    if not code.code:
        reader.defect("SVC01_NO_CODE", "SVC01 has no procedure code")
    return ServicePayment(
        code.code,
        decimal_value(reader, e[2], "SVC", 2, "2110"),
        decimal_value(reader, e[3], "SVC", 3, "2110"),
        code.qualifier,
        code.modifiers,
        code.description,
        e[4],
        decimal_value(reader, e[5], "SVC", 5, "2110") if e[5] else None,
        _procedure(reader, e[6], comp, "SVC", 6) if e[6] else None,
        decimal_value(reader, e[7], "SVC", 7, "2110") if e[7] else None,
    )


def _claim(reader: SegmentReader, elements: list[str], header_number: str) -> ClaimPayment:
    e = pad(elements, 14)
    if len(e) > 14 or e[10]:
        reader.defect("CLP_ELEMENTS_DROPPED", "CLP10 and elements past CLP13 are not kept")
    return ClaimPayment(
        required(reader, e, 1, "2100"),
        required(reader, e, 2, "2100"),
        decimal_value(reader, e[3], "CLP", 3, "2100"),
        decimal_value(reader, e[4], "CLP", 4, "2100"),
        decimal_value(reader, e[5], "CLP", 5, "2100") if e[5] else None,
        e[6], e[7], e[8], e[9], e[11],
        decimal_value(reader, e[12], "CLP", 12, "2100") if e[12] else None,
        decimal_value(reader, e[13], "CLP", 13, "2100") if e[13] else None,
        header_number,
        segment_number=reader.segment_number,
    )


def _entity(reader: SegmentReader, elements: list[str]) -> Entity:
    e = pad(elements, 10)
    if len(e) > 10 or e[6]:
        reader.defect("NM1_ELEMENTS_DROPPED", "NM106 and elements past NM109 are not kept")
    return Entity(e[2], e[3], e[4], e[5], e[7], e[8], e[9])


def _contact(elements: list[str]) -> Contact:
    numbers = tuple((elements[i], elements[i + 1] if i + 1 < len(elements) else "")
                    for i in range(3, min(len(elements), 9), 2))
    return Contact(elements[1], elements[2] if len(elements) > 2 else "", numbers)


def _payment_date(reader: SegmentReader, value: str) -> date | None:
    """BPR16; a malformed one is reported, not fatal: the payment itself is still good."""
    if not value:
        return None
    parsed = parse_date8(value)
    if parsed is None:
        reader.defect("BPR16_DATE", "BPR16 (payment effective date) is not a date")
    return parsed


def _remittance(reader: SegmentReader, elements: list[str]) -> Remittance:
    e = pad(elements, 17)
    if len(e) > 17:
        _extra(reader, e, 17)
    if not e[16]:
        reader.defect("BPR16_MISSING", "BPR16 (payment effective date) is missing")
    return Remittance(
        handling_code=required(reader, e, 1, "HEADER"),
        total_paid=decimal_value(reader, e[2], "BPR", 2, "HEADER"),
        credit_debit_flag=required(reader, e, 3, "HEADER"),
        payment_method=required(reader, e, 4, "HEADER"),
        payment_date=_payment_date(reader, e[16]),
        trace_number="",
        originator_id="",
        payment_format=e[5],
        sender_dfi_qualifier=e[6],
        sender_dfi_id=e[7],
        sender_account_qualifier=e[8],
        sender_account_number=e[9],
        originating_company_id=e[10],
        originating_company_supplemental=e[11],
        receiver_dfi_qualifier=e[12],
        receiver_dfi_id=e[13],
        receiver_account_qualifier=e[14],
        receiver_account_number=e[15],
    )


def _provider_adjustments(reader: SegmentReader, elements: list[str], comp: str,
                          into: list[ProviderAdjustment]) -> None:
    provider = required(reader, elements, 1, "SUMMARY")
    period_end = date_value(reader, elements[2] if len(elements) > 2 else "", "PLB", 2, "SUMMARY")
    required(reader, elements, 3, "SUMMARY")
    count = len(elements)
    if count > 15:
        _extra(reader, elements, 15)
        count = 15
    for k in range(3, count, 2):
        composite = elements[k]
        amount = elements[k + 1] if k + 1 < count else ""
        if not composite:
            if amount:
                raise reader.error(X12ElementError, f"PLB{k:02d} is missing",
                                   segment_id="PLB", element=k, loop="SUMMARY")
            continue
        parts = composite.split(comp)
        if len(parts) > 2:
            reader.defect("PLB_COMPONENTS_DROPPED", f"PLB{k:02d} components past the second"
                          " are not kept")
        into.append(ProviderAdjustment(provider, period_end, parts[0],
                                       decimal_value(reader, amount, "PLB", k + 1, "SUMMARY"),
                                       parts[1] if len(parts) > 1 else ""))


def _address_line(address: Address | None, elements: list[str]) -> Address:
    """N3 into an address (creating it)."""
    line1 = elements[1] if len(elements) > 1 else ""
    line2 = elements[2] if len(elements) > 2 else ""
    if address is None:
        return Address(line1, "", "", "", line2)
    address.line1, address.line2 = line1, line2
    return address


def _address_city(address: Address | None, elements: list[str]) -> Address:
    """N4 into an address (creating it); the caller keeps an N4 with a country whole."""
    e = pad(elements, 4)
    if address is None:
        return Address("", e[1], e[2], e[3])
    address.city, address.state, address.postal_code = e[1], e[2], e[3]
    return address


def _misplaced(reader: SegmentReader, elements: list[str], table: dict[object, int],
               loop: str) -> Segment:
    """A segment kept as-is; a defect when its tag has no place in the loop it stands in."""
    if elements[0] not in table:
        reader.defect("SEGMENT_KEPT", f"segment {elements[0][:3]} is not part of loop {loop};"
                      " kept with it")
    return tuple(elements)


def parse_835(ctx: BodyContext) -> Iterator[ClaimPayment]:
    """Body parser for ST01 = 835: yields each ClaimPayment, the Remittance is the body."""
    reader = ctx.reader
    comp = ctx.delimiters.component
    segments = ctx.segments
    first = next(segments, None)
    if first is None:
        raise reader.error(X12EnvelopeError, "transaction set ends without an SE trailer",
                           segment_id="SE")
    if first[0] != "BPR":
        if first[0] in ENVELOPE_TAGS:
            raise ctx.unexpected(first, "HEADER")
        raise reader.error(X12StructureError, "835 does not begin with BPR",
                           segment_id=first[0][:3], loop="HEADER")
    remit = _remittance(reader, first)
    ctx.transaction.body = remit
    summaries = remit.provider_summaries
    state = HEADER
    header_number = ""
    claim: ClaimPayment | None = None
    service: ServicePayment | None = None

    for e in segments:
        tag = e[0]
        if service is not None:  # 2110
            if tag == "CAS":
                _adjustments(reader, e, "2110", service.adjustments)
                continue
            if tag == "DTM":
                qualifier = e[1] if len(e) > 1 else ""
                if qualifier == "472" or qualifier == "150":
                    if service.service_date is None:
                        service.service_date = _dtm(reader, e, "2110")
                        continue
                elif qualifier == "151" and service.service_date_end is None:
                    service.service_date_end = _dtm(reader, e, "2110")
                    continue
                service.other_segments += (tuple(e),)
                continue
            if tag == "REF":
                if len(e) > 2 and e[1] == "6R" and not service.line_control_number:
                    if len(e) > 3:
                        _extra(reader, e, 3)
                    service.line_control_number = e[2]
                else:
                    service.other_segments += (tuple(e),)
                continue
            if tag == "AMT":
                if len(e) > 1 and e[1] == "B6" and service.allowed_amount is None:
                    if len(e) > 3:
                        _extra(reader, e, 3)
                    service.allowed_amount = decimal_value(reader, e[2] if len(e) > 2 else "",
                                                      "AMT", 2, "2110")
                else:
                    service.other_segments += (tuple(e),)
                continue
            if tag == "LQ":
                if len(e) == 3 and e[1] == "HE" and e[2]:
                    service.remark_codes += (e[2],)
                else:
                    service.other_segments += (tuple(e),)
                continue
            if tag not in ("SVC", "CLP", "LX", "PLB", "SE") and tag not in ENVELOPE_TAGS:
                service.other_segments += (_misplaced(reader, e, _SERVICE_POS, "2110"),)
                continue
        if tag == "SVC":
            if claim is None:
                raise ctx.unexpected(e, _LOOP_NAMES[state])
            service = _service(reader, e, comp)
            claim.service_payments.append(service)
            continue
        if tag == "CLP":
            if state == SUMMARY:
                raise ctx.unexpected(e, "SUMMARY")
            if claim is not None:
                yield claim
            elif state != DETAIL:
                _check_parties(reader, remit, state)
                reader.defect("CLP_WITHOUT_LX", "claim payment without an LX header number")
                state = DETAIL
            claim = _claim(reader, e, header_number)
            service = None
            continue
        if claim is not None and service is None:  # 2100
            if tag == "CAS":
                _adjustments(reader, e, "2100", claim.adjustments)
                continue
            if tag == "NM1":
                qualifier = e[1] if len(e) > 1 else ""
                if qualifier == "QC":
                    if claim.patient is None:
                        claim.patient = _entity(reader, e)
                        continue
                else:
                    name = _NM1_FIELDS.get(qualifier)
                    if name is not None and getattr(claim, name) is None:
                        setattr(claim, name, _entity(reader, e))
                        continue
                claim.other_segments += (tuple(e),)
                continue
            if tag == "DTM":
                qualifier = e[1] if len(e) > 1 else ""
                if qualifier == "232" and claim.statement_from is None:
                    claim.statement_from = _dtm(reader, e, "2100")
                elif qualifier == "233" and claim.statement_to is None:
                    claim.statement_to = _dtm(reader, e, "2100")
                elif qualifier == "050" and claim.received_date is None:
                    claim.received_date = _dtm(reader, e, "2100")
                else:
                    claim.other_segments += (tuple(e),)
                continue
            if tag == "AMT":
                if len(e) > 1 and e[1] == "AU" and claim.coverage_amount is None:
                    if len(e) > 3:
                        _extra(reader, e, 3)
                    claim.coverage_amount = decimal_value(reader, e[2] if len(e) > 2 else "",
                                                     "AMT", 2, "2100")
                else:
                    claim.other_segments += (tuple(e),)
                continue
            if tag not in ("LX", "PLB", "SE") and tag not in ENVELOPE_TAGS:
                claim.other_segments += (_misplaced(reader, e, _CLAIM_POS, "2100"),)
                continue
        if tag == "LX":
            if state == SUMMARY:
                raise ctx.unexpected(e, "SUMMARY")
            if claim is not None:
                yield claim
                claim = service = None
            elif state != DETAIL:
                _check_parties(reader, remit, state)
            state = DETAIL
            header_number = e[1] if len(e) > 1 else ""
            if header_number in summaries:
                reader.defect("LX_REPEATED", "LX01 repeats an earlier header number")
            else:
                summaries[header_number] = ()
            continue
        if tag == "PLB":
            if claim is not None:
                yield claim
                claim = service = None
            elif state < DETAIL:
                _check_parties(reader, remit, state)
            state = SUMMARY
            _provider_adjustments(reader, e, comp, remit.provider_adjustments)
            continue
        if tag == "SE":
            if claim is not None:
                yield claim
            elif state < DETAIL:
                _check_parties(reader, remit, state)
            ctx.trailer = e
            _drop_empty_summaries(summaries)
            return
        if tag in ENVELOPE_TAGS:
            raise ctx.unexpected(e, _LOOP_NAMES[state])
        state = _outer_segment(reader, remit, state, header_number, e)
    raise reader.error(X12EnvelopeError, "transaction set ends without an SE trailer",
                       segment_id="SE")


def _check_parties(reader: SegmentReader, remit: Remittance, state: int) -> None:
    """Called when the header ends (first LX, CLP, PLB or SE)."""
    if not remit.trace_number:
        reader.defect("TRN_MISSING", "835 header lacks the TRN reassociation trace number")
    if state < PAYEE:
        reader.defect("PAYEE_MISSING" if state == PAYER else "PAYER_MISSING",
                      "835 header lacks the 1000A payer or 1000B payee loop")


def _drop_empty_summaries(summaries: dict[str, tuple[Segment, ...]]) -> None:
    for key in [k for k, v in summaries.items() if not v]:
        del summaries[key]


def _outer_segment(reader: SegmentReader, remit: Remittance, state: int, header_number: str,
                   e: list[str]) -> int:
    """A segment of the header, 1000A, 1000B, 2000 or summary; returns the new state."""
    tag = e[0]
    qualifier = e[1] if len(e) > 1 else ""
    if state == DETAIL:
        remit.provider_summaries[header_number] += (
            _misplaced(reader, e, _SUMMARY_POS, "2000"),)
        return state
    if tag == "N1" and qualifier in ("PR", "PE") and state < SUMMARY:
        if qualifier == "PR" and state == HEADER:
            _party_name(reader, remit.payer, e)
            return PAYER
        if qualifier == "PE" and state < PAYEE:
            if state == HEADER:
                reader.defect("PAYER_MISSING", "835 header lacks the 1000A payer loop")
            _party_name(reader, remit.payee, e)
            return PAYEE
        raise reader.error(X12StructureError, f"N1*{qualifier} repeats", segment_id="N1",
                           loop=_LOOP_NAMES[state])
    if state == HEADER:
        if tag == "TRN" and not remit.trace_number:
            t = pad(e, 5)
            if len(t) > 5:
                _extra(reader, t, 5)
            remit.trace_type = t[1]
            remit.trace_number = required(reader, t, 2, "HEADER")
            remit.originator_id = t[3]
            remit.originator_supplemental = t[4]
        elif tag == "DTM" and qualifier == "405" and remit.production_date is None:
            remit.production_date = _dtm(reader, e, "HEADER")
        else:
            remit.other_segments += (_misplaced(reader, e, _HEADER_POS, "HEADER"),)
        return state
    if state == SUMMARY:
        remit.other_segments += (_misplaced(reader, e, {}, "SUMMARY"),)
        return state
    party = remit.payer if state == PAYER else remit.payee
    if tag == "N3" and (party.address is None or not party.address.line1) and len(e) <= 3:
        party.address = _address_line(party.address, e)
    elif (tag == "N4" and len(e) <= 4
          and (party.address is None or not party.address.city)):
        party.address = _address_city(party.address, e)
    elif state == PAYER and tag == "REF" and qualifier == "2U" and not remit.payer.payer_identifier:
        if len(e) > 3:
            _extra(reader, e, 3)
        remit.payer.payer_identifier = e[2] if len(e) > 2 else ""
    elif state == PAYER and tag == "PER" and qualifier and len(e) <= 9:
        remit.payer.contacts.append(_contact(e))
    elif state == PAYEE and tag == "REF" and qualifier == "TJ" and not remit.payee.tax_id:
        if len(e) > 3:
            _extra(reader, e, 3)
        remit.payee.tax_id = e[2] if len(e) > 2 else ""
    else:
        table = _PAYER_POS if state == PAYER else _PAYEE_POS
        party.other_segments += (_misplaced(reader, e, table, _LOOP_NAMES[state]),)
    return state


def _party_name(reader: SegmentReader, party: RemittancePayer | RemittancePayee,
                elements: list[str]) -> None:
    e = pad(elements, 5)
    if len(e) > 5:
        _extra(reader, e, 5)
    party.name, party.id_qualifier, party.id = e[2], e[3], e[4]


# ----------------------------------------------------------------------------- writing


def _opt_money(value: Decimal | None) -> str:
    return "" if value is None else money(value)


def _opt_quantity(value: Decimal | None) -> str:
    return "" if value is None else quantity(value)


def _position(table: dict[object, int], segment: Segment) -> int:
    if len(segment) > 1:
        found = table.get((segment[0], segment[1]))
        if found is not None:
            return found
    return table.get(segment[0], _UNKNOWN)


def _emit(w: SegmentWriter, written: list[tuple[int, Segment]],
          kept: tuple[Segment, ...], table: dict[object, int]) -> None:
    """The loop's segments, kept ones merged in at their TR3 position (after ours there)."""
    if kept:
        written.extend((_position(table, s), s) for s in kept)
        written.sort(key=itemgetter(0))
    for _, segment in written:
        w.add(*segment)


def _cas(position: int, adjustments: list[Adjustment],
         out: list[tuple[int, Segment]]) -> None:
    """CAS segments: consecutive adjustments of one group share one, six at most."""
    run: list[str] = []
    group = None
    for adj in adjustments:
        if adj.group_code != group or len(run) == 18:
            if run:
                out.append((position, ("CAS", group or "", *run)))
            group, run = adj.group_code, []
        run += (adj.reason_code, money(adj.amount), _opt_quantity(adj.quantity))
    if run:
        out.append((position, ("CAS", group or "", *run)))


def _nm1(code: str, entity: Entity) -> Segment:
    return ("NM1", code, entity.entity_type, entity.last_name, entity.first_name,
            entity.middle_name, "", entity.name_suffix, entity.id_qualifier, entity.id)


def _composite(w: SegmentWriter, code: ProcedureCode) -> str:
    modifiers = list(code.modifiers)
    if code.description:
        modifiers += [""] * (4 - len(modifiers))
    return w.composite(code.qualifier, code.code, *modifiers, code.description)


def _write_service(w: SegmentWriter, s: ServicePayment) -> None:
    procedure = _composite(w, ProcedureCode(s.procedure_qualifier, s.procedure_code,
                                            s.modifiers, s.procedure_description))
    out: list[tuple[int, Segment]] = [(0, (
        "SVC", procedure, money(s.charge), money(s.paid), s.revenue_code,
        _opt_quantity(s.units_paid),
        _composite(w, s.original_procedure) if s.original_procedure else "",
        _opt_quantity(s.units_billed)))]
    if s.service_date_end is not None:
        if s.service_date is not None:
            out.append((10, ("DTM", "150", d8(s.service_date))))
        out.append((10, ("DTM", "151", d8(s.service_date_end))))
    elif s.service_date is not None:
        out.append((10, ("DTM", "472", d8(s.service_date))))
    _cas(20, s.adjustments, out)
    if s.line_control_number:
        out.append((31, ("REF", "6R", s.line_control_number)))
    if s.allowed_amount is not None:
        out.append((40, ("AMT", "B6", money(s.allowed_amount))))
    out.extend((60, ("LQ", "HE", code)) for code in s.remark_codes)
    _emit(w, out, s.other_segments, _SERVICE_POS)


def _write_claim(w: SegmentWriter, c: ClaimPayment) -> None:
    out: list[tuple[int, Segment]] = [(0, (
        "CLP", c.patient_control_number, c.status_code, money(c.charge), money(c.paid),
        _opt_money(c.patient_responsibility), c.claim_filing_indicator,
        c.payer_claim_control_number, c.facility_code, c.frequency_code, "", c.drg_code,
        _opt_quantity(c.drg_weight), _opt_quantity(c.discharge_fraction)))]
    _cas(10, c.adjustments, out)
    for position, (code, name) in enumerate(_NM1_FIELDS.items(), 20):
        entity = getattr(c, name)
        if entity is not None:
            out.append((position, _nm1(code, entity)))
    if c.statement_from is not None:
        out.append((60, ("DTM", "232", d8(c.statement_from))))
    if c.statement_to is not None:
        out.append((60, ("DTM", "233", d8(c.statement_to))))
    if c.received_date is not None:
        out.append((62, ("DTM", "050", d8(c.received_date))))
    if c.coverage_amount is not None:
        out.append((80, ("AMT", "AU", money(c.coverage_amount))))
    _emit(w, out, c.other_segments, _CLAIM_POS)
    for service in c.service_payments:
        _write_service(w, service)


def _address(address: Address | None, out: list[tuple[int, Segment]]) -> None:
    if address is None:
        return
    if address.line1 or address.line2:
        out.append((10, ("N3", address.line1, address.line2)))
    if address.city or address.state or address.postal_code:
        out.append((20, ("N4", address.city, address.state, address.postal_code)))


def _write_parties(w: SegmentWriter, r: Remittance) -> None:
    payer, payee = r.payer, r.payee
    out: list[tuple[int, Segment]] = [(0, ("N1", "PR", payer.name, payer.id_qualifier,
                                           payer.id))]
    _address(payer.address, out)
    if payer.payer_identifier:
        out.append((30, ("REF", "2U", payer.payer_identifier)))
    for contact in payer.contacts:
        numbers = [part for pair in contact.numbers for part in pair]
        segment = ("PER", contact.function_code, contact.name, *numbers)
        out.append((_position(_PAYER_POS, segment), segment))
    _emit(w, out, payer.other_segments, _PAYER_POS)
    out = [(0, ("N1", "PE", payee.name, payee.id_qualifier, payee.id))]
    _address(payee.address, out)
    if payee.tax_id:
        out.append((30, ("REF", "TJ", payee.tax_id)))
    _emit(w, out, payee.other_segments, _PAYEE_POS)


def _write_body(r: Remittance, w: SegmentWriter) -> None:
    out: list[tuple[int, Segment]] = [
        (0, ("BPR", r.handling_code, money(r.total_paid), r.credit_debit_flag,
             r.payment_method, r.payment_format, r.sender_dfi_qualifier, r.sender_dfi_id,
             r.sender_account_qualifier, r.sender_account_number, r.originating_company_id,
             r.originating_company_supplemental, r.receiver_dfi_qualifier, r.receiver_dfi_id,
             r.receiver_account_qualifier, r.receiver_account_number,
             d8(r.payment_date) if r.payment_date else "")),
        (10, ("TRN", r.trace_type, r.trace_number, r.originator_id, r.originator_supplemental)),
    ]
    if r.production_date is not None:
        out.append((40, ("DTM", "405", d8(r.production_date))))
    _emit(w, out, r.other_segments, _HEADER_POS)
    _write_parties(w, r)
    summaries = r.provider_summaries
    written: set[str] = set()
    current: str | None = None
    for claim in r.claims:
        number = claim.header_number
        if number != current and number:
            w.add("LX", number)
            if number not in written:
                written.add(number)
                for segment in summaries.get(number, ()):
                    w.add(*segment)
        current = number
        _write_claim(w, claim)
    for number, kept in summaries.items():  # header numbers no claim payment refers to
        if number not in written:
            w.add("LX", number)
            for segment in kept:
                w.add(*segment)
    _write_plb(w, r.provider_adjustments)


def _write_plb(w: SegmentWriter, adjustments: list[ProviderAdjustment]) -> None:
    """PLB segments: consecutive adjustments of one provider and period share one, six max."""
    run: list[str] = []
    key: tuple[str, date] | None = None
    for adj in adjustments:
        this = (adj.provider_id, adj.fiscal_period_end)
        if this != key or len(run) == 12:
            if run and key:
                w.add("PLB", key[0], d8(key[1]), *run)
            key, run = this, []
        run += (w.composite(adj.reason_code, adj.reference), money(adj.amount))
    if run and key:
        w.add("PLB", key[0], d8(key[1]), *run)


def write_835(remittances: Iterable[Remittance], header: InterchangeHeader,
              control_numbers: ControlNumbers) -> WrittenInterchange:
    """One interchange holding an 835 transaction set per remittance.

    The model is written as it is: a remittance without what 5010 requires (BPR16, the
    payer's N3/N4 and PER*BL technical contact, NM1*QC) gives a file pyx12 rejects.
    """
    # X221A1 marks ST03 "not used": GS08 alone names the guide.
    written = write_interchange(header, control_numbers, "835", VERSION,
                                [partial(_write_body, r) for r in remittances],
                                st03=False)
    return written
