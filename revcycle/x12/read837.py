"""837P (005010X222A1) and 837I (005010X223A2) reader: claims into the domain model.

One pass over the segments with an explicit loop state. Claims are yielded as soon as
they are complete (at the next CLM, HL or SE), so a file of any size streams. Each claim
holds references to its billing provider, subscriber, payer and patient.

Strict where a claim would otherwise be wrong or incomplete: a required loop or segment
missing, a loop repeated beyond its maximum, a segment out of order within a name loop,
a segment that has no place in the loop where it stands, a malformed amount or date.
Lenient about what does not change a claim: HL numbering, unknown qualifiers, 4010 files.
Segments the model does not name are kept in ``other_segments`` of their loop.
"""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimBatch,
    ClaimType,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.cob837 import structure_claim
from revcycle.x12.envelope import BodyContext, parse_date8, segment_id
from revcycle.x12.errors import X12ElementError, X12StructureError, X12UnsupportedError
from revcycle.x12.values import date_value, decimal_value, element
from revcycle.x12.writer import keep_segment

# Rank of each segment inside a name loop (2010xx, 2310x, 2330x, 2420x): TR3 order.
NAME_LOOP_ORDER = {"NM1": 0, "PRV": 1, "N3": 2, "N4": 3, "DMG": 4, "DTP": 4, "REF": 5, "PER": 6}
CLAIM_SEGMENTS = frozenset(
    {"DTP", "CL1", "PWK", "CN1", "AMT", "REF", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP",
     "QTY"}
)
COB_SEGMENTS = frozenset({"SBR", "CAS", "AMT", "OI", "MIA", "MOA", "DMG"})  # 2320 (+4010)
LINE_SEGMENTS = frozenset(
    {"PWK", "CR1", "CR3", "CRC", "DTP", "QTY", "MEA", "CN1", "REF", "AMT", "K3", "NTE", "PS1",
     "HCP", "SV5"}
)
LINE_SUBLOOP_SEGMENTS = frozenset(
    {"LIN", "CTP", "REF", "NM1", "PRV", "N3", "N4", "PER", "SVD", "CAS", "DTP", "AMT", "LQ",
     "FRM"}
)
ALTERNATE_COMPONENT_SEPARATORS = (":", ">", "^", "|")
HEADER_LOOP_SEGMENTS = {"1000A": ("PER",), "1000B": ()}  # besides their NM1
# Name loops whose N3 and N4 the TR3 requires (X222A1, X223A2): billing provider, patient,
# service facility (837I 2310E, read as 2310C). Elsewhere (subscriber, payer) both are
# situational and either may come alone.
ADDRESS_REQUIRED = frozenset({"2010AA", "2010CA", "2310C"})
# Claim-level provider loops whose PRV (taxonomy) the guide defines: 837P rendering,
# 837I attending. Elsewhere a PRV is kept as it came.
TAXONOMY_LOOPS = {True: ("2310B",), False: ("2310A",)}
# Principal and other diagnoses, and external causes (sent as other diagnoses in 5010 837P);
# the value says whether the code is ICD-9-CM.
DIAGNOSIS_QUALIFIERS = {"ABK": False, "ABF": False, "ABN": False, "BK": True, "BF": True,
                        "BN": True}
ADMITTING_QUALIFIERS = ("ABJ", "BJ")

# The loop states of the reader.
HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, LINE = range(6)


SUBLOOP_STARTERS = frozenset({"NM1", "SBR", "LIN", "SVD", "LQ"})


def split_subloops(extras: list[tuple[str, ...]] | tuple[tuple[str, ...], ...]):
    """Split kept segments into those of the loop itself and those of unnamed sub-loops.

    Sub-loops (pay-to, referring provider, other subscriber, drug, line adjudication, ...)
    start with one of ``SUBLOOP_STARTERS``; everything from the first of them on stays in
    reading order after the loop's own segments.
    """
    for index, segment in enumerate(extras):
        if segment[0] in SUBLOOP_STARTERS:
            return tuple(extras[:index]), tuple(extras[index:])
    return tuple(extras), ()


def claim_type_of(reference: str) -> ClaimType:
    """837P or 837I from the implementation reference (ST03 or GS08)."""
    if "X222" in reference or "X098" in reference:
        return ClaimType.PROFESSIONAL
    if "X223" in reference or "X096" in reference:
        return ClaimType.INSTITUTIONAL
    raise X12UnsupportedError("837 implementation is neither professional (X222) nor"
                              " institutional (X223)", segment_id="ST", element=3)




class _NameLoop:
    """Order and repetition bookkeeping for the name loop being read."""

    __slots__ = ("extras", "loop", "rank", "target", "tax_refs")

    def __init__(self, loop: str, target: object | None) -> None:
        self.loop = loop
        self.target = target  # the model object filled, or None when kept as extras
        self.rank = 0
        self.tax_refs = 0
        self.extras: list[tuple[str, ...]] = []


class Claim837Parser:
    """Parses the body of one 837 transaction set; see ``parse_837``."""

    def __init__(self, ctx: BodyContext) -> None:
        self.ctx = ctx
        self.reader = ctx.reader
        self.component = ctx.delimiters.component
        reference = ctx.transaction.implementation_reference or ctx.group.version
        self.claim_type = claim_type_of(reference)
        self.professional = self.claim_type is ClaimType.PROFESSIONAL
        self.is_5010 = reference.startswith("00501")
        self.batch: ClaimBatch | None = None
        self.state = HEADER
        self.name: _NameLoop | None = None
        self.level_extras: list[tuple[str, ...]] = []
        # Current hierarchy.
        self.billing: Provider | None = None
        self.subscriber: Subscriber | None = None
        self.payer: Payer | None = None
        self.patient: Patient | None = None
        self.hl_ids: set[str] = set()
        self.claim: Claim | None = None
        self.claim_extras: list[tuple[str, ...]] = []
        self.in_cob = False
        self.line: ServiceLine | None = None
        self.line_extras: list[tuple[str, ...]] = []
        self.in_line_subloop = False
        self.saw_line_subloop = False  # a line of this claim has 2410-2440 loops
        self.claim_patient: Patient | None = None
        self._pointer_cache: dict[str, tuple[int, ...]] = {}
        self.billing_taxonomy = ""
        self.patient_relationship = ""
        self.sbr: list[str] | None = None
        self.bht: list[str] | None = None
        self.submitter: Submitter | None = None
        self.receiver: Receiver | None = None

    def _keep(self, elements: list[str]) -> tuple[str, ...]:
        """A segment the model does not name, with its separators made file-independent."""
        return keep_segment(elements, self.ctx.delimiters)

    # -- errors -----------------------------------------------------------------------
    def _structure(self, message: str, tag: str | None = None, loop: str | None = None):
        return self.reader.error(X12StructureError, message,
                                 segment_id=segment_id(tag) if tag else None, loop=loop)

    def _missing(self, tag: str, position: int, loop: str):
        return self.reader.error(X12ElementError, "required element is missing",
                                 segment_id=tag, element=position, loop=loop)

    def _require(self, elements: list[str], positions: tuple[int, ...], loop: str) -> None:
        for position in positions:
            if len(elements) <= position or not elements[position]:
                raise self._missing(elements[0], position, loop)

    # -- main loop --------------------------------------------------------------------
    def parse(self) -> Iterator[Claim]:
        # Bound methods as locals: this loop runs once per segment.
        line_segment, claim_segment = self._line_segment, self._claim_segment
        level_segment = self._level_segment
        for elements in self.ctx.segments:
            tag = elements[0]
            try:
                if tag == "SE" or tag == "HL" or tag == "CLM":
                    if self.claim is not None:
                        yield self._finish_claim()
                    if tag == "CLM":
                        self._start_claim(elements)
                    elif tag == "HL":
                        self._hierarchy(elements)
                    else:
                        self._close_level()
                        self.ctx.trailer = elements
                        return
                    continue
                state = self.state
                if state == LINE:
                    line_segment(tag, elements)
                elif state == CLAIM:
                    claim_segment(tag, elements)
                else:
                    level_segment(tag, elements)
            except IndexError:
                raise self._missing(tag, len(elements), self._loop_name()) from None
        # Running out of segments without SE is reported by the envelope reader.

    def _loop_name(self) -> str:
        if self.name is not None and self.state != CLAIM:
            return self.name.loop
        return {HEADER: "HEADER", BILLING: "2000A", SUBSCRIBER: "2000B", PATIENT: "2000C",
                CLAIM: "2300", LINE: "2400"}[self.state]

    # -- header and hierarchy --------------------------------------------------------
    def _level_segment(self, tag: str, elements: list[str]) -> None:
        if tag == "NM1":
            self._name(elements)
        elif self.name is not None and tag in NAME_LOOP_ORDER:
            self._name_detail(tag, elements)
        elif self.state == HEADER:
            self._header_segment(tag, elements)
        elif self.state == BILLING and tag in ("PRV", "CUR"):
            if tag == "PRV" and element(elements, 1) == "BI":
                self.billing_taxonomy = element(elements, 3)
            else:
                self.level_extras.append(self._keep(elements))
        elif self.state == SUBSCRIBER and tag == "SBR":
            self._subscriber_sbr(elements)
        elif self.state in (SUBSCRIBER, PATIENT) and tag == "PAT":
            if self.state == PATIENT:
                self.patient_relationship = element(elements, 1)
            else:
                self.level_extras.append(self._keep(elements))
        else:
            raise self.ctx.unexpected(elements, self._loop_name())

    def _header_segment(self, tag: str, elements: list[str]) -> None:
        if tag == "BHT" and self.bht is None:
            if len(elements) <= 2 or not (elements[1] and elements[2]):
                self._require(elements, (1, 2), "HEADER")
            self.bht = elements
        elif tag == "REF":  # 4010 transmission type identification
            return
        else:
            raise self.ctx.unexpected(elements, "HEADER")

    def _hierarchy(self, elements: list[str]) -> None:
        if len(elements) < 5:  # absent trailing elements read as empty
            elements = [*elements, *[""] * (5 - len(elements))]
        if len(elements) <= 3 or not (elements[1] and elements[3]):
            self._require(elements, (1, 3), self._loop_name())
        self._close_level()
        hl_id, parent, level = elements[1], elements[2], elements[3]
        if hl_id in self.hl_ids:
            self.reader.defect("HL01_DUPLICATE", "HL id repeats in the transaction set")
        elif parent and parent not in self.hl_ids:
            self.reader.defect("HL02_UNKNOWN_PARENT", "HL parent id was not seen before")
        self.hl_ids.add(hl_id)
        self.name = None
        self.level_extras = []
        if level == "20":
            if self.batch is None:
                self._open_batch()
            self.state = BILLING
            self.billing = None
            self.billing_taxonomy = ""
        elif level == "22":
            if self.billing is None:
                raise self._structure("subscriber level without a billing provider level",
                                      "HL", "2000B")
            self.state = SUBSCRIBER
            self.subscriber = None
            self.payer = None
            self.patient = None
            self.sbr = None
        elif level == "23":
            if self.subscriber is None:
                raise self._structure("patient level without a subscriber level", "HL", "2000C")
            self.state = PATIENT
            self.patient = None
            self.patient_relationship = ""
        else:
            raise self.reader.error(X12ElementError, "HL level code is not 20, 22 or 23",
                                    segment_id="HL", element=3)

    def _open_batch(self) -> None:
        if self.submitter is None:
            raise self._structure("loop 1000A (submitter) required but not found", "NM1",
                                  "1000A")
        if self.receiver is None:
            raise self._structure("loop 1000B (receiver) required but not found", "NM1",
                                  "1000B")
        bht = self.bht
        if bht is None:
            raise self._structure("BHT required but not found", "BHT", "HEADER")
        self.batch = ClaimBatch(
            claim_type=self.claim_type,
            reference=element(bht, 3),
            created=parse_date8(element(bht, 4)),
            time=element(bht, 5),
            submitter=self.submitter,
            receiver=self.receiver,
            purpose=bht[2],
            transaction_type=element(bht, 6),
        )
        self.ctx.transaction.body = self.batch

    def _close_level(self) -> None:
        """Check that the level just ended had its required loops, and seal its objects."""
        state = self.state
        if state == BILLING:
            if self.billing is None:
                raise self._structure("loop 2010AA (billing provider name) required but not"
                                      " found", "NM1", "2000A")
            self._seal_name()
            self._flush_level_extras(self.billing)
        elif state == SUBSCRIBER:
            self._close_subscriber()
        elif state == PATIENT:
            self._close_patient()
        elif state in (CLAIM, LINE):
            self._seal_name()

    def _close_subscriber(self) -> None:
        if self.sbr is None:
            raise self._structure("SBR required but not found", "SBR", "2000B")
        if self.subscriber is None:
            raise self._structure("loop 2010BA (subscriber name) required but not found",
                                  "NM1", "2000B")
        if self.payer is None:
            raise self._structure("loop 2010BB (payer name) required but not found", "NM1",
                                  "2000B")
        self._seal_name()
        self._flush_level_extras(self.subscriber)

    def _close_patient(self) -> None:
        if self.patient is None:
            raise self._structure("loop 2010CA (patient name) required but not found", "NM1",
                                  "2000C")
        self._seal_name()
        self._flush_level_extras(self.patient)

    # -- name loops -------------------------------------------------------------------
    def _name(self, elements: list[str]) -> None:
        as_read = elements  # kept as read: padding would write trailing separators
        if len(elements) < 10:  # absent trailing elements read as empty
            elements = [*elements, *[""] * (10 - len(elements))]
        state = self.state
        entity = elements[1]
        if state == HEADER:
            if len(elements) <= 2 or not (elements[1] and elements[2]):
                self._require(elements, (1, 2), "1000B" if entity == "40" else "1000A")
        else:
            if len(elements) <= 2 or not (elements[1] and elements[2]):
                self._require(elements, (1, 2), self._loop_name())
        self._seal_name()
        if state == HEADER:
            if entity == "41":
                if len(elements) <= 3 or not (elements[3]):
                    self._require(elements, (3,), "1000A")
                self.submitter = Submitter(elements[3], elements[9],
                                           entity_type=elements[2], first_name=elements[4])
                self.name = _NameLoop("1000A", self.submitter)
                return
            if entity == "40":
                if len(elements) <= 3 or not (elements[3]):
                    self._require(elements, (3,), "1000B")
                self.receiver = Receiver(elements[3], elements[9])
                self.name = _NameLoop("1000B", self.receiver)
                return
        elif state == BILLING:
            if self.billing is None and entity != "85":
                raise self._structure("loop 2010AA (billing provider name) required but not"
                                      " found", "NM1", "2010AA")
            if entity == "85":
                if self.billing is not None:
                    raise self._structure("loop 2010AA exceeds its maximum of one", "NM1",
                                          "2010AA")
                self.billing = self._provider(elements, "2010AA")
                self.billing.taxonomy = self.billing_taxonomy
                self.name = _NameLoop("2010AA", self.billing)
                return
            if entity in ("87", "PE") and self.billing is not None:
                self.name = _NameLoop("2010AB" if entity == "87" else "2010AC", None)
                self.name.extras.append(self._keep(as_read))
                return
        elif state == SUBSCRIBER:
            if entity == "IL":
                if self.subscriber is not None:
                    raise self._structure("loop 2010BA exceeds its maximum of one", "NM1",
                                          "2010BA")
                if self.sbr is None:
                    raise self._structure("SBR required before loop 2010BA", "NM1", "2000B")
                if len(elements) <= 3 or not (elements[3]):
                    self._require(elements, (3,), "2010BA")
                sbr = self.sbr
                self.subscriber = Subscriber(
                    last_name=elements[3], first_name=elements[4],
                    member_id=elements[9], middle_name=elements[5],
                    name_suffix=elements[7], payer_responsibility=sbr[1],
                    group_number=element(sbr, 3), claim_filing_indicator=element(sbr, 9),
                )
                self.name = _NameLoop("2010BA", self.subscriber)
                return
            if entity == "PR":
                if self.payer is not None:
                    raise self._structure("loop 2010BB exceeds its maximum of one", "NM1",
                                          "2010BB")
                if len(elements) <= 3 or not (elements[3]):
                    self._require(elements, (3,), "2010BB")
                self.payer = Payer(elements[3], elements[9])
                self.name = _NameLoop("2010BB", self.payer)
                return
        elif state == PATIENT and entity == "QC":
            if self.patient is not None:
                raise self._structure("loop 2010CA exceeds its maximum of one", "NM1", "2010CA")
            if len(elements) <= 3 or not (elements[3]):
                self._require(elements, (3,), "2010CA")
            self.patient = Patient(
                last_name=elements[3], first_name=elements[4],
                relationship=self.patient_relationship, middle_name=elements[5],
                name_suffix=elements[7],
            )
            self.name = _NameLoop("2010CA", self.patient)
            return
        raise self.reader.error(X12StructureError, "NM1 entity code has no loop here",
                                segment_id="NM1", element=1, loop=self._loop_name())

    def _provider(self, elements: list[str], loop: str) -> Provider:
        count = len(elements)
        if count <= 3 or not elements[3]:
            self._require(elements, (3,), loop)
        return Provider(elements[2], elements[3], elements[4] if count > 4 else "",
                        elements[9] if count > 9 and elements[8] == "XX" else "")

    def _name_detail(self, tag: str, elements: list[str]) -> None:
        name = self.name
        loop = name.loop
        if loop in HEADER_LOOP_SEGMENTS and tag not in HEADER_LOOP_SEGMENTS[loop]:
            raise self.ctx.unexpected(elements, loop)
        rank = NAME_LOOP_ORDER[tag]
        if rank < name.rank:
            raise self._structure(f"segment {tag} is out of order", tag, loop)
        name.rank = rank
        target = name.target
        if target is None:
            name.extras.append(self._keep(elements))
            return
        count = len(elements)
        if tag == "N3":
            if count < 2 or not elements[1]:
                self._require(elements, (1,), loop)
            target.address = Address(elements[1], "", "", "", elements[2] if count > 2 else "")
        elif tag == "N4":
            address = target.address
            if address is None:  # no N3: the TR3 allows that only where N3 is situational
                if loop in ADDRESS_REQUIRED:
                    raise self._structure("N3 required but not found before N4", "N3", loop)
                address = target.address = Address("", "", "", "")
            address.city = element(elements, 1)
            address.state = element(elements, 2)
            address.postal_code = element(elements, 3)
        elif tag == "DMG" and isinstance(target, Subscriber | Patient):
            if element(elements, 1) == "D8" and element(elements, 2):
                target.birth_date = date_value(self.reader, elements[2], "DMG", 2, loop)
            target.sex = element(elements, 3)
        elif tag == "REF" and loop == "2010AA" and element(elements, 1) in ("EI", "SY"):
            name.tax_refs += 1
            if name.tax_refs > 1:
                raise self._structure("REF (tax identification) exceeds its maximum of one",
                                      "REF", loop)
            target.tax_id_qualifier, target.tax_id = elements[1], element(elements, 2)
        elif tag == "PRV" and loop in TAXONOMY_LOOPS[self.professional]:
            target.taxonomy = element(elements, 3)
        elif tag == "PER" and isinstance(target, Submitter):
            target.contact_name = element(elements, 2)
            target.contact_phone = element(elements, 4) if element(elements, 3) == "TE" else ""
            if count > 5:
                name.extras.append(self._keep(elements))
        else:
            name.extras.append(self._keep(elements))

    def _seal_name(self) -> None:
        """Close the current name loop: check its required segments, store its extras."""
        name = self.name
        if name is None:
            return
        self.name = None
        target = name.target
        if target is None:
            # A loop the model does not name belongs to the enclosing level, claim or line.
            self._enclosing_extras().extend(name.extras)
            return
        if name.loop == "2010AA":
            if target.address is None:
                raise self._structure("N3 required but not found", "N3", name.loop)
            if not target.address.city:
                raise self._structure("N4 required but not found", "N4", name.loop)
            if not target.tax_id:
                self.reader.defect("BILLING_TAX_ID_MISSING", "2010AA has no REF*EI or REF*SY")
        if name.extras and hasattr(target, "other_segments"):
            target.other_segments = tuple(name.extras)

    def _enclosing_extras(self) -> list[tuple[str, ...]]:
        if self.state == LINE:
            return self.line_extras
        if self.state == CLAIM:
            return self.claim_extras
        return self.level_extras

    def _flush_level_extras(self, owner: Provider | Subscriber | Patient) -> None:
        """Level segments (PRV, CUR, PAT) and unnamed loops (pay-to) go to the level's
        main object, around the extras of its own name loop, in reading order."""
        if self.level_extras:
            head, tail = split_subloops(self.level_extras)
            owner.other_segments = (*head, *owner.other_segments, *tail)
            self.level_extras = []

    def _subscriber_sbr(self, elements: list[str]) -> None:
        if self.sbr is not None:
            raise self._structure("SBR exceeds its maximum of one", "SBR", "2000B")
        if len(elements) <= 1 or not (elements[1]):
            self._require(elements, (1,), "2000B")
        self.sbr = elements

    # -- claims -------------------------------------------------------------------------
    def _start_claim(self, elements: list[str]) -> None:
        if len(elements) < 10:  # absent trailing elements read as empty
            elements = [*elements, *[""] * (10 - len(elements))]
        state = self.state
        if state in (BILLING, HEADER):
            raise self._structure("claim outside a subscriber or patient level", "CLM", "2300")
        if state == SUBSCRIBER:
            self._close_subscriber()
            patient = None
        elif state == PATIENT:
            self._close_patient()
            patient = self.patient
        else:
            self._seal_name()
            patient = self.claim_patient
        if len(elements) <= 5 or not (elements[1] and elements[2] and elements[5]):
            self._require(elements, (1, 2, 5), "2300")
        facility = elements[5].split(self.component)
        if not facility[0]:
            raise self.reader.error(X12ElementError, "required component is missing",
                                    segment_id="CLM", element=5, loop="2300")
        pro = self.professional
        self.claim = Claim(
            claim_type=self.claim_type,
            patient_control_number=elements[1],
            total_charge=decimal_value(self.reader, elements[2], "CLM", 2, "2300"),
            facility_code=facility[0],
            billing_provider=self.billing,
            subscriber=self.subscriber,
            payer=self.payer,
            diagnoses=(),
            service_lines=[],
            patient=patient,
            frequency_code=facility[2] if len(facility) > 2 else "",
            provider_signature=elements[6] if pro else "",
            assignment=elements[7],
            benefits_assigned=elements[8],
            release_of_information=elements[9],
        )
        self.claim_patient = patient
        self.claim_extras = []
        if len(elements) > 10:
            self._keep_clm_rest(elements)
        self.in_cob = False
        self.line = None
        self.state = CLAIM

    def _keep_clm_rest(self, elements: list[str]) -> None:
        """CLM20 (delay reason) into the claim; CLM10-19 and after kept as read, with CLM20
        left empty in what is kept (the writer puts the model's value there)."""
        rest = elements[10:]
        if len(rest) > 10:
            self.claim.delay_reason_code = rest[10]
            rest[10] = ""
        while rest and not rest[-1]:
            rest.pop()
        if rest:
            self.claim_extras.append(self._keep(["CLM", *rest]))

    def _claim_segment(self, tag: str, elements: list[str]) -> None:
        claim = self.claim
        name = self.name
        if tag == "LX":
            self._seal_name()
            self._start_line(elements)
        elif tag == "NM1":
            self._claim_name(elements)
        elif tag in ("SV1", "SV2"):
            raise self._structure("loop 2400 required: service line without LX", "LX", "2400")
        elif name is not None and tag in NAME_LOOP_ORDER:
            self._name_detail(tag, elements)
        elif tag in COB_SEGMENTS and (tag == "SBR" or self.in_cob):
            self._seal_name()
            self.in_cob = True
            self.claim_extras.append(self._keep(elements))
        elif name is None and not self.in_cob and tag in CLAIM_SEGMENTS:
            self._claim_detail(claim, tag, elements)
        else:
            raise self.ctx.unexpected(elements, self._loop_name())

    def _claim_name(self, elements: list[str]) -> None:
        if len(elements) <= 2 or not (elements[1] and elements[2]):
            self._require(elements, (1, 2), "2310")
        entity = elements[1]
        self._seal_name()
        claim = self.claim
        if not self.in_cob:
            if entity == "82" and claim.rendering_provider is None:
                claim.rendering_provider = self._provider(elements, "2310B")
                self.name = _NameLoop("2310B", claim.rendering_provider)
                return
            if entity == "77" and claim.service_facility is None:
                claim.service_facility = self._provider(elements, "2310C")
                self.name = _NameLoop("2310C", claim.service_facility)
                return
            if entity == "71" and not self.professional and claim.attending_provider is None:
                claim.attending_provider = self._provider(elements, "2310A")
                self.name = _NameLoop("2310A", claim.attending_provider)
                return
        self.name = _NameLoop("2330" if self.in_cob else "2310", None)
        self.name.extras.append(self._keep(elements))

    def _claim_detail(self, claim: Claim, tag: str, elements: list[str]) -> None:
        if tag == "HI":
            self._diagnoses(claim, elements)
        elif tag == "DTP":
            self._claim_date(claim, elements)
        elif tag == "REF" and element(elements, 1) in ("F8", "G1"):
            if len(elements) <= 2 or not (elements[2]):
                self._require(elements, (2,), "2300")
            if elements[1] == "F8":
                claim.original_claim_reference = elements[2]
            else:
                claim.prior_authorization = elements[2]
        elif tag == "CL1" and not self.professional:
            claim.admission_type = element(elements, 1)
            claim.admission_source = element(elements, 2)
            claim.patient_status = element(elements, 3)
        else:
            self.claim_extras.append(self._keep(elements))

    def _diagnoses(self, claim: Claim, elements: list[str]) -> None:
        """HI with diagnosis codes (principal, other, admitting); other HI types are kept."""
        comp = self.component
        codes = []
        for value in elements[1:]:  # the common case: ICD-10 diagnoses, one per composite
            qualifier, _, code = value.partition(comp)
            if qualifier not in ("ABK", "ABF") or not code or comp in code:
                break
            codes.append(code)
        else:
            claim.diagnoses = (*claim.diagnoses, *codes)
            claim.icd9 = False
            return
        elements = self._join_split_composites(elements)
        composites = [(position, self._components(value, "HI", position))
                      for position, value in enumerate(elements) if position and value]
        kinds = {parts[0] in DIAGNOSIS_QUALIFIERS or parts[0] in ADMITTING_QUALIFIERS
                 for _, parts in composites}
        if kinds != {True}:
            if True in kinds:
                raise self.reader.error(X12ElementError, "HI mixes diagnosis and other codes",
                                        segment_id="HI", loop="2300")
            self.claim_extras.append(self._keep(elements))
            return
        codes: list[str] = []
        for position, parts in composites:
            if len(parts) < 2 or not parts[1]:
                raise self.reader.error(X12ElementError, "diagnosis code is missing",
                                        segment_id="HI", element=position, loop="2300")
            if parts[0] in ADMITTING_QUALIFIERS:
                claim.admitting_diagnosis = parts[1]
            else:
                claim.icd9 = DIAGNOSIS_QUALIFIERS[parts[0]]
                codes.append(parts[1])
        claim.diagnoses = (*claim.diagnoses, *codes)

    def _join_split_composites(self, elements: list[str]) -> list[str]:
        """Mend ``HI*BK*8901`` (qualifier and code as two elements) into ``HI*BK:8901``."""
        comp = self.component
        if all(comp in e for e in elements[1:] if e):
            return elements
        mended = [elements[0]]
        values = iter(elements[1:])
        for value in values:
            if value in DIAGNOSIS_QUALIFIERS or value in ADMITTING_QUALIFIERS:
                code = next(values, "")
                value = f"{value}{comp}{code}" if code and comp not in code else value
            mended.append(value)
        if mended != elements:
            self.reader.defect("HI_SPLIT_COMPOSITE", "HI qualifier and code stand in"
                               " separate elements")
        return mended

    def _claim_date(self, claim: Claim, elements: list[str]) -> None:
        qualifier, fmt, value = element(elements, 1), element(elements, 2), element(elements, 3)
        reader = self.reader
        if qualifier == "431" and fmt == "D8" and self.professional:
            claim.onset_date = date_value(reader, value, "DTP", 3, "2300")
        elif qualifier == "434" and fmt == "RD8" and not self.professional:
            start, _, end = value.partition("-")
            claim.statement_from = date_value(reader, start, "DTP", 3, "2300")
            claim.statement_to = date_value(reader, end, "DTP", 3, "2300")
        elif qualifier == "435" and fmt == "D8" and not self.professional:
            claim.admission_date = date_value(reader, value, "DTP", 3, "2300")
        else:
            self.claim_extras.append(self._keep(elements))

    # -- service lines -----------------------------------------------------------------
    def _start_line(self, elements: list[str]) -> None:
        self._store_line()
        self.state = LINE
        self.line = None
        self.line_extras = []
        self.in_line_subloop = False

    def _line_segment(self, tag: str, elements: list[str]) -> None:
        line = self.line
        if line is None:
            if tag == "SV1" and self.professional:
                self.line = self._professional_line(elements)
            elif tag == "SV2" and not self.professional:
                self.line = self._institutional_line(elements)
            else:
                raise self._structure("service line has no " + ("SV1" if self.professional
                                      else "SV2"), tag, "2400")
        elif tag == "LX":
            self._seal_name()
            self._start_line(elements)
        elif tag == "DTP" and elements[1] == "472" and not self.in_line_subloop:
            self._line_date(line, elements)
        elif tag == "REF" and elements[1] == "6R" and not self.in_line_subloop:
            if len(elements) < 3 or not elements[2]:
                raise self._missing("REF", 2, "2400")
            line.line_control_number = elements[2]
        elif tag in ("LIN", "NM1", "SVD", "LQ"):
            self.in_line_subloop = self.saw_line_subloop = True
            self.line_extras.append(self._keep(elements))
        elif (tag in LINE_SUBLOOP_SEGMENTS and self.in_line_subloop) or (
            tag in LINE_SEGMENTS and not self.in_line_subloop
        ):
            self.line_extras.append(self._keep(elements))
        else:
            raise self.ctx.unexpected(elements, "2400")

    def _line_date(self, line: ServiceLine, elements: list[str]) -> None:
        if len(elements) < 4:
            raise self._missing("DTP", len(elements), "2400")
        fmt, value = elements[2], elements[3]
        if fmt == "RD8":
            start, _, end = value.partition("-")
            line.service_date = date_value(self.reader, start, "DTP", 3, "2400")
            line.service_date_end = date_value(self.reader, end, "DTP", 3, "2400")
        else:
            line.service_date = date_value(self.reader, value, "DTP", 3, "2400")

    def _components(self, value: str, tag: str, position: int) -> list[str]:
        """Split a composite; tolerate writers whose separator differs from their ISA16."""
        parts = value.split(self.component)
        if len(parts) == 1:
            for other in ALTERNATE_COMPONENT_SEPARATORS:
                if other in value and other != self.component:
                    self.reader.defect("COMPONENT_SEPARATOR", f"{tag}{position:02d} uses a"
                                       " component separator other than ISA16")
                    return value.split(other)
        return parts

    def _procedure(self, composite: str, tag: str, position: int) -> list[str]:
        parts = self._components(composite, tag, position)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise self.reader.error(X12ElementError, "procedure code is missing",
                                    segment_id=tag, element=position, loop="2400")
        return parts

    def _professional_line(self, elements: list[str]) -> ServiceLine:
        if len(elements) <= 4 or not (elements[1] and elements[2] and elements[3]
                                      and elements[4]):
            self._require(elements, (1, 2, 3, 4), "2400")
        parts = elements[1].split(self.component)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            parts = self._procedure(elements[1], "SV1", 1)
        reader = self.reader
        count = len(elements)
        pointers: tuple[int, ...] = ()
        if count > 7 and elements[7]:
            pointers = self._pointer_cache.get(elements[7]) or self._pointers(elements[7])
        return ServiceLine(
            procedure_code=parts[1],
            charge=decimal_value(reader, elements[2], "SV1", 2, "2400"),
            units=decimal_value(reader, elements[4], "SV1", 4, "2400"),
            modifiers=tuple(filter(None, parts[2:6])) if len(parts) > 2 else (),
            procedure_qualifier=parts[0],
            unit_basis=elements[3],
            place_of_service=elements[5] if count > 5 else "",
            diagnosis_pointers=pointers,
        )

    def _pointers(self, value: str) -> tuple[int, ...]:
        """SV107's pointers; parsed once per distinct value."""
        result = self._parse_pointers(value)
        if len(self._pointer_cache) < 10_000:
            self._pointer_cache[value] = result
        return result

    def _parse_pointers(self, value: str) -> tuple[int, ...]:
        pointers = []
        for raw in self._components(value, "SV1", 7):
            if not (raw.isascii() and raw.isdigit()):
                number = decimal_value(self.reader, raw, "SV1", 7, "2400")
                if number != number.to_integral_value():
                    raise self.reader.error(X12ElementError, "diagnosis pointer is not a whole"
                                            " number", segment_id="SV1", element=7, loop="2400")
                self.reader.defect("POINTER_FORMAT", "diagnosis pointer written as a decimal")
                raw = str(int(number))
            pointers.append(int(raw))
        return tuple(pointers)

    def _institutional_line(self, elements: list[str]) -> ServiceLine:
        if len(elements) <= 5 or not (elements[1] and elements[3] and elements[4] and elements[5]):
            self._require(elements, (1, 3, 4, 5), "2400")
        reader = self.reader
        if len(elements) > 2 and elements[2].strip():
            parts = self._procedure(elements[2], "SV2", 2)
        else:
            parts = ["HC", ""]  # revenue code only: no procedure
        return ServiceLine(
            procedure_code=parts[1],
            charge=decimal_value(reader, elements[3], "SV2", 3, "2400"),
            units=decimal_value(reader, elements[5], "SV2", 5, "2400"),
            modifiers=tuple(m for m in parts[2:6] if m),
            procedure_qualifier=parts[0],
            unit_basis=elements[4],
            revenue_code=elements[1],
        )

    def _store_line(self) -> None:
        line = self.line
        if line is None:
            if self.state == LINE:
                raise self._structure("service line has no SV1/SV2", "LX", "2400")
            return
        if self.line_extras:
            line.other_segments = tuple(self.line_extras)
        self.claim.service_lines.append(line)
        self.line = None

    def _finish_claim(self) -> Claim:
        claim = self.claim
        self._seal_name()
        self._store_line()
        self.claim = None
        self.state = PATIENT if claim.patient is not None else SUBSCRIBER
        if not claim.diagnoses:
            if self.is_5010:
                raise self._structure("HI (diagnosis) required but not found", "HI", "2300")
            self.reader.defect("HI_MISSING", "claim has no diagnosis (accepted before 5010)")
        if not claim.service_lines:
            raise self._structure("loop 2400 required but not found", "LX", "2300")
        if self.claim_extras:
            claim.other_segments = tuple(self.claim_extras)
            self.claim_extras = []
            if self.in_cob or self.saw_line_subloop:
                structure_claim(claim)  # other payers into the model, when lossless
        elif self.saw_line_subloop:
            structure_claim(claim)
        self.saw_line_subloop = False
        return claim


def parse_837(ctx: BodyContext) -> Iterator[Claim]:
    """Body parser for an 837 transaction set (professional or institutional)."""
    return Claim837Parser(ctx).parse()
