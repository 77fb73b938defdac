"""837P (005010X222A1) and 837I (005010X223A2) writer: claims out of the domain model.

Claims are grouped under hierarchical levels as they come: consecutive claims with the
same billing provider share a 2000A, with the same subscriber and payer a 2000B, with the
same patient a 2000C. At most 5,000 claims go in one transaction set (the TR3 limit).
Segments kept from a partner's file (``other_segments``) are merged back into their loop
in TR3 order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.cob837 import render_adjudication, render_other_payer
from revcycle.x12.errors import X12ElementError
from revcycle.x12.read837 import split_subloops
from revcycle.x12.writer import (
    KEPT_COMPONENT,
    ControlNumbers,
    InterchangeHeader,
    SegmentWriter,
    WrittenInterchange,
    d8,
    money,
    rd8,
    write_interchange,
)

MAX_CLAIMS_PER_SET = 5000
# The claim-level provider loops whose guide has a PRV: 837P rendering, 837I attending.
TAXONOMY_QUALIFIERS = {True: {"82": "PE"}, False: {"71": "AT"}}
VERSIONS = {ClaimType.PROFESSIONAL: "005010X222A1", ClaimType.INSTITUTIONAL: "005010X223A2"}

# TR3 order of the segments of each loop, for merging kept segments back in.
BILLING_ORDER = {"HL": 0, "PRV": 1, "CUR": 2, "NM1": 3, "N3": 4, "N4": 5, "REF": 6, "PER": 7}
SUBSCRIBER_ORDER = {"HL": 0, "SBR": 1, "PAT": 2, "NM1": 3, "N3": 4, "N4": 5, "DMG": 6,
                    "REF": 7, "PER": 8}
PATIENT_ORDER = {"HL": 0, "PAT": 1, "NM1": 2, "N3": 3, "N4": 4, "DMG": 5, "REF": 6, "PER": 7}
NAME_ORDER = {"NM1": 0, "PRV": 1, "N3": 2, "N4": 3, "DMG": 4, "DTP": 4, "REF": 5, "PER": 6}
CLAIM_ORDER = {"CLM": 0, "DTP": 1, "CL1": 2, "PWK": 3, "CN1": 4, "AMT": 5, "REF": 6, "K3": 7,
               "NTE": 8, "QTY": 6, "CR1": 9, "CR2": 10, "CRC": 11, "HI": 12, "HCP": 13}
LINE_ORDER = {"LX": 0, "SV1": 1, "SV2": 1, "SV5": 2, "PWK": 3, "CR1": 4, "CR3": 5, "CRC": 6,
              "DTP": 7, "QTY": 8, "MEA": 9, "CN1": 10, "REF": 11, "AMT": 12, "K3": 13,
              "NTE": 14, "PS1": 15, "HCP": 16}


def _emit(w: SegmentWriter, segments: list[tuple[str, ...]],
          kept: tuple[tuple[str, ...], ...], order: dict[str, int]) -> None:
    """Write a loop's segments, with any kept ones merged in by TR3 order."""
    if not kept:
        for segment in segments:
            w.add(*segment)
        return
    own, subloops = split_subloops(kept)
    ranked = [(order.get(s[0], 99), False, s) for s in segments]
    ranked += [(order.get(s[0], 99), True, s) for s in own]
    ranked.sort(key=lambda item: item[0])  # stable: modeled before kept of the same rank
    for _, is_kept, segment in ranked:
        if is_kept:
            w.add_kept(segment)
        else:
            w.add(*segment)
    for segment in subloops:
        w.add_kept(segment)


def _address(segments: list[tuple[str, ...]], address: Address | None) -> None:
    """N3 and N4, each only when it has content (a payer's may have either or neither)."""
    if address is None:
        return
    if address.line1 or address.line2:
        segments.append(("N3", address.line1, address.line2))
    if address.city or address.state or address.postal_code:
        segments.append(("N4", address.city, address.state, address.postal_code))


def _provider_name(entity: str, provider: Provider) -> tuple[str, ...]:
    if provider.entity_type == "1":
        return ("NM1", entity, "1", provider.last_name, provider.first_name, "", "", "",
                "XX" if provider.npi else "", provider.npi)
    return ("NM1", entity, "2", provider.last_name, "", "", "", "",
            "XX" if provider.npi else "", provider.npi)


def _same(a: object, b: object) -> bool:
    return a is b or a == b


class Claim837Writer:
    """Writes the body of one 837 transaction set (between ST and SE)."""

    def __init__(self, claims: Sequence[Claim], submitter: Submitter, receiver: Receiver,
                 reference: str, created: datetime) -> None:
        self.claims = claims
        self.submitter = submitter
        self.receiver = receiver
        self.reference = reference
        self.created = created

    def __call__(self, w: SegmentWriter) -> None:
        submitter, receiver = self.submitter, self.receiver
        w.add("BHT", "0019", "00", self.reference, d8(self.created.date()),
              self.created.strftime("%H%M"), "CH")
        w.add("NM1", "41", submitter.entity_type, submitter.name, submitter.first_name, "", "",
              "", "46", submitter.id)
        w.add("PER", "IC", submitter.contact_name, "TE" if submitter.contact_phone else "",
              submitter.contact_phone)
        w.add("NM1", "40", "2", receiver.name, "", "", "", "", "46", receiver.id)
        hl = billing_hl = subscriber_hl = 0
        billing: Provider | None = None
        coverage: tuple[Subscriber, Payer, bool] | None = None
        patient: Patient | None = None
        for claim in self.claims:
            if not _same(claim.billing_provider, billing):
                billing = claim.billing_provider
                hl += 1
                billing_hl = hl
                self._billing(w, hl, billing)
                coverage = None
            # A 2000B holds either the subscriber's own claims or their dependents' 2000Cs.
            claim_coverage = (claim.subscriber, claim.payer, claim.patient is None)
            if coverage is None or not all(map(_same, claim_coverage, coverage)):
                coverage = claim_coverage
                hl += 1
                subscriber_hl = hl
                self._subscriber(w, hl, billing_hl, claim.subscriber, claim.payer,
                                 claim.patient)
                patient = None
            if claim.patient is not None and not _same(claim.patient, patient):
                patient = claim.patient
                hl += 1
                self._patient(w, hl, subscriber_hl, patient)
            self._claim(w, claim)

    # -- hierarchical levels -------------------------------------------------------------
    def _billing(self, w: SegmentWriter, hl: int, provider: Provider) -> None:
        segments: list[tuple[str, ...]] = [("HL", str(hl), "", "20", "1")]
        if provider.taxonomy:
            segments.append(("PRV", "BI", "PXC", provider.taxonomy))
        segments.append(_provider_name("85", provider))
        _address(segments, provider.address)
        if provider.tax_id:
            segments.append(("REF", provider.tax_id_qualifier or "EI", provider.tax_id))
        _emit(w, segments, provider.other_segments, BILLING_ORDER)

    def _subscriber(self, w: SegmentWriter, hl: int, parent: int, subscriber: Subscriber,
                    payer: Payer, patient: Patient | None) -> None:
        segments: list[tuple[str, ...]] = [
            ("HL", str(hl), str(parent), "22", "0" if patient is None else "1"),
            ("SBR", subscriber.payer_responsibility, "18" if patient is None else "",
             subscriber.group_number, "", "", "", "", "", subscriber.claim_filing_indicator),
            ("NM1", "IL", "1", subscriber.last_name, subscriber.first_name,
             subscriber.middle_name, "", subscriber.name_suffix, "MI", subscriber.member_id),
        ]
        _address(segments, subscriber.address)
        if subscriber.birth_date is not None:
            segments.append(("DMG", "D8", d8(subscriber.birth_date), subscriber.sex))
        _emit(w, segments, subscriber.other_segments, SUBSCRIBER_ORDER)
        segments = [("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id)]
        _address(segments, payer.address)
        _emit(w, segments, payer.other_segments, NAME_ORDER)

    def _patient(self, w: SegmentWriter, hl: int, parent: int, patient: Patient) -> None:
        segments: list[tuple[str, ...]] = [
            ("HL", str(hl), str(parent), "23", "0"),
            ("PAT", patient.relationship),
            ("NM1", "QC", "1", patient.last_name, patient.first_name, patient.middle_name, "",
             patient.name_suffix),
        ]
        _address(segments, patient.address)
        if patient.birth_date is not None:
            segments.append(("DMG", "D8", d8(patient.birth_date), patient.sex))
        _emit(w, segments, patient.other_segments, PATIENT_ORDER)

    # -- claims ---------------------------------------------------------------------------
    def _claim(self, w: SegmentWriter, claim: Claim) -> None:
        pro = claim.claim_type is ClaimType.PROFESSIONAL
        facility = w.composite(claim.facility_code, "B" if pro else "A", claim.frequency_code)
        segments: list[tuple[str, ...]] = [(
            "CLM", claim.patient_control_number, money(claim.total_charge), "", "", facility,
            claim.provider_signature if pro else "", claim.assignment,
            claim.benefits_assigned, claim.release_of_information,
        )]
        kept = claim.other_segments
        if kept and kept[0][0] == "CLM":  # CLM10 and after, kept as read
            segments[0] = (*segments[0], *(
                w.composite(*e.split(KEPT_COMPONENT)) for e in kept[0][1:]))
            kept = kept[1:]
        if claim.delay_reason_code:  # CLM20, after what was kept (its place there is empty)
            clm = list(segments[0])
            clm += [""] * (21 - len(clm))
            clm[20] = claim.delay_reason_code
            segments[0] = tuple(clm)
        if pro:
            if claim.onset_date:
                segments.append(("DTP", "431", "D8", d8(claim.onset_date)))
        else:
            if claim.statement_from and claim.statement_to:
                segments.append(("DTP", "434", "RD8",
                                 rd8(claim.statement_from, claim.statement_to)))
            if claim.admission_date:
                segments.append(("DTP", "435", "D8", d8(claim.admission_date)))
            if claim.admission_type or claim.admission_source or claim.patient_status:
                segments.append(("CL1", claim.admission_type, claim.admission_source,
                                 claim.patient_status))
        if claim.prior_authorization:
            segments.append(("REF", "G1", claim.prior_authorization))
        if claim.original_claim_reference:
            segments.append(("REF", "F8", claim.original_claim_reference))
        self._diagnoses(w, claim, pro, segments)
        own, subloops = split_subloops(kept)
        _emit(w, segments, own, CLAIM_ORDER)
        for entity, provider in self._claim_providers(claim, pro):
            segments = [_provider_name(entity, provider)]
            qualifier = TAXONOMY_QUALIFIERS[pro].get(entity)
            if provider.taxonomy and qualifier:
                segments.append(("PRV", qualifier, "PXC", provider.taxonomy))
            if entity == "77":
                _address(segments, provider.address)
            _emit(w, segments, provider.other_segments, NAME_ORDER)
        for segment in subloops:
            w.add_kept(segment)
        for other in claim.other_payers:  # 2320/2330x: after every 2310x loop
            for segment in render_other_payer(other):
                w.add_kept(segment)
        for number, line in enumerate(claim.service_lines, 1):
            self._line(w, number, line, pro)

    @staticmethod
    def _claim_providers(claim: Claim, pro: bool) -> Iterable[tuple[str, Provider]]:
        if not pro and claim.attending_provider is not None:
            yield "71", claim.attending_provider
        if claim.rendering_provider is not None:
            yield "82", claim.rendering_provider
        if claim.service_facility is not None:
            yield "77", claim.service_facility

    @staticmethod
    def _diagnoses(w: SegmentWriter, claim: Claim, pro: bool,
                   segments: list[tuple[str, ...]]) -> None:
        if not claim.diagnoses:
            raise X12ElementError("a claim needs at least one diagnosis", segment_id="HI")
        first, other = ("BK", "BF") if claim.icd9 else ("ABK", "ABF")
        codes = claim.diagnoses
        if pro:
            if len(codes) > 12:
                raise X12ElementError("an 837P claim carries at most 12 diagnoses",
                                      segment_id="HI")
            segments.append(("HI", w.composite(first, codes[0]),
                             *(w.composite(other, code) for code in codes[1:])))
            return
        segments.append(("HI", w.composite(first, codes[0])))
        if claim.admitting_diagnosis:
            segments.append(("HI", w.composite("BJ" if claim.icd9 else "ABJ",
                                               claim.admitting_diagnosis)))
        rest = codes[1:]
        for start in range(0, len(rest), 12):
            segments.append(("HI", *(w.composite(other, code)
                                     for code in rest[start:start + 12])))

    @staticmethod
    def _line(w: SegmentWriter, number: int, line: ServiceLine, pro: bool) -> None:
        procedure = w.composite(line.procedure_qualifier, line.procedure_code,
                                *line.modifiers) if line.procedure_code else ""
        segments: list[tuple[str, ...]] = [("LX", str(number))]
        if pro:
            pointers = w.composite(*(str(p) for p in line.diagnosis_pointers))
            segments.append(("SV1", procedure, money(line.charge), line.unit_basis,
                             money(line.units), line.place_of_service, "", pointers))
        else:
            segments.append(("SV2", line.revenue_code, procedure, money(line.charge),
                             line.unit_basis, money(line.units)))
        if line.service_date is not None:
            if line.service_date_end is not None:
                segments.append(("DTP", "472", "RD8",
                                 rd8(line.service_date, line.service_date_end)))
            else:
                segments.append(("DTP", "472", "D8", d8(line.service_date)))
        if line.line_control_number:
            segments.append(("REF", "6R", line.line_control_number))
        if not line.adjudications:
            _emit(w, segments, line.other_segments, LINE_ORDER)
            return
        # 2430 goes after the 2410 and 2420x loops kept, before a kept 2440 (LQ).
        kept = line.other_segments
        end = next((i for i, s in enumerate(kept) if s[0] == "LQ"), len(kept))
        _emit(w, segments, kept[:end], LINE_ORDER)
        for adjudication in line.adjudications:
            for segment in render_adjudication(adjudication):
                w.add_kept(segment)
        for segment in kept[end:]:
            w.add_kept(segment)


def write_837(
    claims: Sequence[Claim],
    header: InterchangeHeader,
    control_numbers: ControlNumbers,
    submitter: Submitter,
    receiver: Receiver,
    *,
    max_claims_per_set: int = MAX_CLAIMS_PER_SET,
) -> WrittenInterchange:
    """One interchange of 837 transaction sets for claims of one type."""
    if not claims:
        raise X12ElementError("no claims to write")
    claim_type = claims[0].claim_type
    if any(c.claim_type is not claim_type for c in claims):
        raise X12ElementError("professional and institutional claims go in separate files")
    if not 1 <= max_claims_per_set <= MAX_CLAIMS_PER_SET:
        raise X12ElementError("claims per transaction set must be 1 to 5000")
    created = header.created or datetime.now()
    chunks = [claims[i:i + max_claims_per_set] for i in range(0, len(claims),
                                                                max_claims_per_set)]
    bodies = [
        Claim837Writer(chunk, submitter, receiver, f"{created:%Y%m%d%H%M%S}{n:04d}", created)
        for n, chunk in enumerate(chunks, 1)
    ]
    return write_interchange(header, control_numbers, "837", VERSIONS[claim_type], bodies)
