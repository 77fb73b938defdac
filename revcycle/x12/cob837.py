"""The other-payer loops of an 837 (2320, 2330A, 2330B; 2430 per line) in and out of the model.

The reader first keeps these loops as segments, as it always has; ``structure_claim``
then turns them into ``Claim.other_payers`` and ``ServiceLine.adjudications`` only when
the structured form, written again, gives back the same segments (numbers compared as
numbers). Anything else -- a 4010 layout, a loop out of TR3 order, an element the model
does not hold -- stays in ``other_segments`` exactly as before, so a valid file is never
refused and nothing is dropped. The writer uses the same ``render_*`` functions, which
is what makes that comparison a proof of a lossless round trip.

Segments here are in the kept form of ``other_segments``: tuples of elements with
``KEPT_COMPONENT`` between components, trailing empty elements left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from revcycle.model.claim import (
    Address,
    Claim,
    CobAdjustment,
    LineAdjudication,
    OtherPayer,
    OtherSubscriber,
    Payer,
    Segment,
    ServiceLine,
)
from revcycle.x12.envelope import parse_date8
from revcycle.x12.writer import KEPT_COMPONENT, KEPT_REPETITION, d8, money

# TR3 order of the segments of loop 2320 (X222A1, X223A2): AMT D, A8, EAF in that order.
COB_ORDER = {"SBR": 0, "CAS": 1, "AMT": 2, "OI": 5, "MIA": 6, "MOA": 7}
AMT_RANK = {"D": 2, "A8": 3, "EAF": 4}
CAS_TRIPLETS = 6  # reason/amount/quantity groups in one CAS segment


class _Unusual(Exception):
    """The loops are valid but not in a shape the model holds exactly: keep them raw."""


# -- rendering (the writer's side) ---------------------------------------------------------


def _seg(*elements: str) -> Segment:
    end = len(elements)
    while end > 1 and not elements[end - 1]:
        end -= 1
    return tuple(elements[:end])


def _amount(value: Decimal | None) -> str:
    return "" if value is None else money(value)


def render_adjustments(adjustments: Sequence[CobAdjustment]) -> list[Segment]:
    """CAS segments: consecutive adjustments of one group share a CAS, six to a segment."""
    segments: list[Segment] = []
    current: list[str] = []
    for adj in adjustments:
        if not current or current[0] != adj.group_code or len(current) >= 1 + 3 * CAS_TRIPLETS:
            if current:
                segments.append(_seg("CAS", *current))
            current = [adj.group_code]
        current += [adj.reason_code, money(adj.amount), _amount(adj.quantity)]
    if current:
        segments.append(_seg("CAS", *current))
    return segments


def _address(address: Address | None) -> list[Segment]:
    if address is None:
        return []
    out = []
    if address.line1 or address.line2:
        out.append(_seg("N3", address.line1, address.line2))
    if address.city or address.state or address.postal_code:
        out.append(_seg("N4", address.city, address.state, address.postal_code))
    return out


def render_other_payer(other: OtherPayer) -> list[Segment]:
    """Loop 2320 with its 2330A and 2330B (and any kept 2330C-I loops after them)."""
    own: list[tuple[int, Segment]] = [
        (0, _seg("SBR", other.responsibility, other.relationship, other.group_number,
                 other.group_name, other.insurance_type, "", "", "",
                 other.claim_filing_indicator)),
    ]
    own += [(1, s) for s in render_adjustments(other.adjustments)]
    for qualifier, value in (("D", other.paid_amount), ("A8", other.non_covered_amount),
                             ("EAF", other.remaining_liability)):
        if value is not None:
            own.append((AMT_RANK[qualifier], ("AMT", qualifier, money(value))))
    own.append((5, _seg("OI", "", "", other.benefits_assigned, other.patient_signature_source,
                        "", other.release_of_information)))
    kept_own, subloops = _split_at_name(other.other_segments)
    own += [(COB_ORDER.get(s[0], 9), s) for s in kept_own]
    own.sort(key=lambda item: item[0])  # stable: modeled before kept of the same rank
    out = [s for _, s in own]
    sub = other.subscriber
    if sub.entity_type == "1":
        out.append(_seg("NM1", "IL", "1", sub.last_name, sub.first_name, sub.middle_name, "",
                        sub.name_suffix, sub.id_qualifier, sub.member_id))
    else:
        out.append(_seg("NM1", "IL", "2", sub.last_name, "", "", "", "", sub.id_qualifier,
                        sub.member_id))
    out += _address(sub.address)
    out += sub.other_segments
    payer = other.payer
    out.append(_seg("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id))
    out += _address(payer.address)
    if other.adjudication_date is not None:
        out.append(("DTP", "573", "D8", d8(other.adjudication_date)))
    out += payer.other_segments
    out += subloops
    return out


def render_adjudication(adjudication: LineAdjudication) -> list[Segment]:
    """Loop 2430: SVD, CAS, DTP*573, AMT*EAF."""
    a = adjudication
    procedure = ""
    if a.procedure_code:
        procedure = KEPT_COMPONENT.join(_seg(a.procedure_qualifier, a.procedure_code,
                                             *a.modifiers))
    out = [_seg("SVD", a.payer_id, money(a.paid), procedure, a.revenue_code,
                money(a.paid_units), a.bundled_line)]
    out += render_adjustments(a.adjustments)
    if a.adjudication_date is not None:
        out.append(("DTP", "573", "D8", d8(a.adjudication_date)))
    if a.remaining_liability is not None:
        out.append(("AMT", "EAF", money(a.remaining_liability)))
    return out


def _split_at_name(segments: Sequence[Segment]) -> tuple[tuple[Segment, ...],
                                                         tuple[Segment, ...]]:
    for index, segment in enumerate(segments):
        if segment[0] == "NM1":
            return tuple(segments[:index]), tuple(segments[index:])
    return tuple(segments), ()


# -- reading (structure kept segments when that is lossless) ------------------------------


def _get(segment: Segment, index: int) -> str:
    return segment[index] if len(segment) > index else ""


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Unusual from None
    if not value.is_finite():
        raise _Unusual
    return value


def _date(text: str) -> date:
    value = parse_date8(text) if len(text) == 8 and text.isdigit() else None
    if value is None:
        raise _Unusual
    return value


def _adjustments(segment: Segment) -> list[CobAdjustment]:
    group = _get(segment, 1)
    if not group or len(segment) > 20:
        raise _Unusual
    out = []
    for start in range(2, len(segment), 3):
        reason, amount, qty = (_get(segment, start), _get(segment, start + 1),
                               _get(segment, start + 2))
        if not reason and not amount and not qty:
            continue
        if not reason or not amount:
            raise _Unusual
        out.append(CobAdjustment(group, reason, _decimal(amount),
                                 _decimal(qty) if qty else None))
    return out


def _name_loop(segments: list[Segment], index: int) -> tuple[list[Segment], int]:
    """The segments of the name loop starting at ``index`` (its NM1 and detail)."""
    end = index + 1
    while end < len(segments) and segments[end][0] not in ("NM1", "SBR"):
        end += 1
    return segments[index:end], end


def _address_of(detail: list[Segment]) -> tuple[Address | None, list[Segment]]:
    """N3/N4 at the head of a name loop's detail, and what follows them."""
    n3 = detail[0] if detail and detail[0][0] == "N3" else None
    rest = detail[1:] if n3 else detail
    n4 = rest[0] if rest and rest[0][0] == "N4" else None
    rest = rest[1:] if n4 else rest
    if n3 is None and n4 is None:
        return None, rest
    if (n3 and len(n3) > 3) or (n4 and len(n4) > 4):
        raise _Unusual  # N404 country and after: not held by Address
    return Address(_get(n3, 1) if n3 else "", _get(n4, 1) if n4 else "",
                   _get(n4, 2) if n4 else "", _get(n4, 3) if n4 else "",
                   _get(n3, 2) if n3 else ""), rest


def _other_payer(block: list[Segment]) -> OtherPayer:
    sbr = block[0]
    if len(sbr) > 10 or any(_get(sbr, i) for i in (6, 7, 8)):
        raise _Unusual
    index = 1
    adjustments: list[CobAdjustment] = []
    amounts: dict[str, Decimal] = {}
    oi: Segment | None = None
    kept: list[Segment] = []
    while index < len(block) and block[index][0] != "NM1":
        segment = block[index]
        tag = segment[0]
        if tag == "CAS":
            adjustments += _adjustments(segment)
        elif tag == "AMT" and _get(segment, 1) in AMT_RANK and len(segment) == 3:
            if segment[1] in amounts:
                raise _Unusual
            amounts[segment[1]] = _decimal(segment[2])
        elif tag == "OI" and oi is None:
            if len(segment) > 7 or _get(segment, 1) or _get(segment, 2) or _get(segment, 5):
                raise _Unusual
            oi = segment
        elif tag in ("MIA", "MOA"):
            kept.append(segment)
        else:
            raise _Unusual
        index += 1
    if oi is None or index >= len(block):
        raise _Unusual
    subscriber_loop, index = _name_loop(block, index)
    nm1 = subscriber_loop[0]
    if (_get(nm1, 1) != "IL" or len(nm1) > 10 or _get(nm1, 6)
            or not _get(nm1, 3) or not _get(nm1, 9)):
        raise _Unusual
    address, rest = _address_of(subscriber_loop[1:])
    if any(s[0] != "REF" for s in rest):
        raise _Unusual
    subscriber = OtherSubscriber(
        last_name=nm1[3], member_id=nm1[9], first_name=_get(nm1, 4),
        middle_name=_get(nm1, 5), name_suffix=_get(nm1, 7), entity_type=_get(nm1, 2),
        id_qualifier=_get(nm1, 8), address=address, other_segments=tuple(rest))
    if index >= len(block):
        raise _Unusual
    payer_loop, index = _name_loop(block, index)
    nm1 = payer_loop[0]
    if (_get(nm1, 1) != "PR" or _get(nm1, 2) != "2" or _get(nm1, 8) != "PI" or len(nm1) > 10
            or any(_get(nm1, i) for i in (4, 5, 6, 7)) or not _get(nm1, 9)):
        raise _Unusual
    address, rest = _address_of(payer_loop[1:])
    paid_date = None
    if rest and rest[0][0] == "DTP":
        dtp = rest[0]
        if _get(dtp, 1) != "573" or _get(dtp, 2) != "D8" or len(dtp) > 4:
            raise _Unusual
        paid_date = _date(dtp[3])
        rest = rest[1:]
    if any(s[0] != "REF" for s in rest):
        raise _Unusual
    payer = Payer(nm1[3], nm1[9], address, tuple(rest))
    return OtherPayer(
        responsibility=sbr[1] if len(sbr) > 1 else "", relationship=_get(sbr, 2),
        subscriber=subscriber, payer=payer, group_number=_get(sbr, 3),
        group_name=_get(sbr, 4), insurance_type=_get(sbr, 5),
        claim_filing_indicator=_get(sbr, 9), adjustments=adjustments,
        paid_amount=amounts.get("D"), non_covered_amount=amounts.get("A8"),
        remaining_liability=amounts.get("EAF"), benefits_assigned=_get(oi, 3),
        patient_signature_source=_get(oi, 4), release_of_information=_get(oi, 6),
        adjudication_date=paid_date, other_segments=(*kept, *block[index:]))


def _adjudication(block: list[Segment]) -> LineAdjudication:
    svd = block[0]
    if len(svd) > 7 or not _get(svd, 1) or not _get(svd, 2):
        raise _Unusual
    raw = _get(svd, 3)
    parts = raw.split(KEPT_COMPONENT) if raw else ["HC", ""]
    # SVD03-7 (a description) is not held; an empty modifier between two would not survive.
    if raw and (not 2 <= len(parts) <= 6 or not all(parts)):
        raise _Unusual
    if not _get(svd, 5):
        raise _Unusual
    adjudication = LineAdjudication(
        payer_id=svd[1], paid=_decimal(svd[2]), procedure_code=parts[1],
        paid_units=_decimal(svd[5]), procedure_qualifier=parts[0],
        modifiers=tuple(parts[2:]), revenue_code=_get(svd, 4), bundled_line=_get(svd, 6))
    rank = 0
    for segment in block[1:]:
        tag, qualifier = segment[0], _get(segment, 1)
        if tag == "CAS" and rank <= 1:
            adjudication.adjustments += _adjustments(segment)
            rank = 1
        elif tag == "DTP" and rank < 2 and qualifier == "573" and _get(segment, 2) == "D8" \
                and len(segment) == 4:
            adjudication.adjudication_date = _date(segment[3])
            rank = 2
        elif tag == "AMT" and rank < 3 and qualifier == "EAF" and len(segment) == 3:
            adjudication.remaining_liability = _decimal(segment[2])
            rank = 3
        else:
            raise _Unusual
    return adjudication


def _blocks(segments: Sequence[Segment], starter: str) -> list[list[Segment]]:
    blocks: list[list[Segment]] = []
    for segment in segments:
        if segment[0] == starter:
            blocks.append([segment])
        else:
            blocks[-1].append(segment)
    return blocks


def _same(written: list[Segment], read: Sequence[Segment]) -> bool:
    """Whether ``written`` says what ``read`` says: the same elements, numbers as numbers."""
    if len(written) != len(read):
        return False
    for ours, theirs in zip(written, read, strict=True):
        theirs = _seg(*theirs)
        if ours == theirs:
            continue
        if len(ours) != len(theirs):
            return False
        for a, b in zip(ours, theirs, strict=True):
            if a != b:
                try:
                    if Decimal(a) != Decimal(b):
                        return False
                except InvalidOperation:
                    return False
    return True


def _has_repetition(segments: Sequence[Segment]) -> bool:
    return any(KEPT_REPETITION in e for s in segments for e in s)


def structure_claim(claim: Claim) -> None:
    """Move the claim's kept 2320/2330 loops, and each line's 2430 loops, into the model
    when that is lossless; leave them kept otherwise (all the claim's or none)."""
    kept = claim.other_segments
    for index, segment in enumerate(kept):
        if segment[0] == "SBR":
            block = kept[index:]
            try:
                if _has_repetition(block):
                    raise _Unusual
                others = [_other_payer(b) for b in _blocks(block, "SBR")]
            except (_Unusual, IndexError):
                break
            written = [s for other in others for s in render_other_payer(other)]
            if _same(written, block):
                claim.other_payers = others
                claim.other_segments = kept[:index]
            break
    for line in claim.service_lines:
        if line.other_segments:
            structure_line(line)


def structure_line(line: ServiceLine) -> None:
    """The line's kept 2430 loops into ``adjudications`` when lossless."""
    kept = line.other_segments
    start = next((i for i, s in enumerate(kept) if s[0] == "SVD"), None)
    if start is None:
        return
    end = next((i for i in range(start, len(kept)) if kept[i][0] == "LQ"), len(kept))
    block = kept[start:end]
    try:
        if _has_repetition(block):
            raise _Unusual
        adjudications = [_adjudication(b) for b in _blocks(block, "SVD")]
    except (_Unusual, IndexError):
        return
    written = [s for a in adjudications for s in render_adjudication(a)]
    if _same(written, block):
        line.adjudications = adjudications
        line.other_segments = (*kept[:start], *kept[end:])


def cob_segments(claim: Claim) -> Iterator[tuple[tuple[Segment, ...], str, int | None]]:
    """The claim's modeled other-payer loops as the segments the writer will write, with
    their loop and line number: for checks that look at every value written (the scrub's
    character check walks ``other_segments`` the same way, and COB values read from a
    provider's file now live here instead)."""
    for other in claim.other_payers:
        yield tuple(render_other_payer(other)), "2320", None
    for number, line in enumerate(claim.service_lines, 1):
        for adjudication in line.adjudications:
            yield tuple(render_adjudication(adjudication)), "2430", number
