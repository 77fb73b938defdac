"""Claims as a biller sees them: the 837P/837I content, free of X12 syntax.

Plain slotted dataclasses: cheap to build (the readers make hundreds of thousands of
them a second) and compared field by field. Money is ``Decimal``, dates are ``date``.
Diagnosis and procedure codes are kept as X12 carries them (ICD-10-CM without the dot).

``other_segments`` keeps the segments of a loop that the model does not name (COB loops,
ambulance data, notes, drug identification, ...) as tuples of elements, so a claim read
from a partner's file is forwarded without loss. They are written back at the end of the
loop they came from. The other-payer loops (2320, 2330A, 2330B, 2430) are modeled in
``Claim.other_payers`` and ``ServiceLine.adjudications`` when the reader can hold them
exactly; loops it cannot (4010 layouts, unusual orders) stay in ``other_segments``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

Segment = tuple[str, ...]


class ClaimType(StrEnum):
    PROFESSIONAL = "837P"
    INSTITUTIONAL = "837I"


@dataclass(slots=True)
class Address:
    """An N3 (street) and N4 (city, state, ZIP). Where the TR3 makes them situational
    (subscriber, payer, ...), either may be absent: ``line1`` is then empty (no N3), or
    ``city``, ``state`` and ``postal_code`` are (no N4)."""

    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(slots=True)
class Provider:
    """A billing, rendering, attending, referring or service-facility provider."""

    entity_type: str  # "1" person, "2" organization
    last_name: str  # organization name when entity_type is "2"
    first_name: str = ""
    npi: str = ""
    taxonomy: str = ""
    tax_id: str = ""
    tax_id_qualifier: str = ""  # "EI" (EIN) or "SY" (SSN)
    address: Address | None = None
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class Payer:
    name: str
    payer_id: str
    address: Address | None = None
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class Subscriber:
    """The insured member (2000B/2010BA) and their coverage with this payer."""

    last_name: str
    first_name: str
    member_id: str
    birth_date: date | None = None
    sex: str = ""  # "F", "M" or "U"
    middle_name: str = ""
    name_suffix: str = ""
    address: Address | None = None
    payer_responsibility: str = "P"  # SBR01: P primary, S secondary, T tertiary, ...
    group_number: str = ""
    claim_filing_indicator: str = "CI"  # SBR09: CI commercial, MB Medicare Part B, MC Medicaid
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class Patient:
    """The patient when not the subscriber (2000C/2010CA)."""

    last_name: str
    first_name: str
    relationship: str  # PAT01 individual relationship code, e.g. "19" child, "01" spouse
    birth_date: date | None = None
    sex: str = ""
    middle_name: str = ""
    name_suffix: str = ""
    address: Address | None = None
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class CobAdjustment:
    """One adjustment a prior payer made (a CAS group, reason and amount), as an 837 repeats
    it in loop 2320 (claim level) or 2430 (line level) for the next payer."""

    group_code: str  # CO, PR, OA, PI, CR
    reason_code: str  # CARC
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(slots=True)
class LineAdjudication:
    """One 2430 loop: how a prior payer adjudicated this service line (SVD, CAS, DTP*573)."""

    payer_id: str  # SVD01: the 2330B payer's identifier
    paid: Decimal  # SVD02
    procedure_code: str  # SVD03-2
    paid_units: Decimal  # SVD05
    adjudication_date: date | None = None  # DTP*573 (required by the TR3; None only as read)
    procedure_qualifier: str = "HC"  # SVD03-1
    modifiers: tuple[str, ...] = ()  # SVD03-3..6
    revenue_code: str = ""  # SVD04 (837I)
    bundled_line: str = ""  # SVD06
    adjustments: list[CobAdjustment] = field(default_factory=list)
    remaining_liability: Decimal | None = None  # AMT*EAF


@dataclass(slots=True)
class OtherSubscriber:
    """2330A: the insured member of the other coverage."""

    last_name: str
    member_id: str
    first_name: str = ""
    middle_name: str = ""
    name_suffix: str = ""
    entity_type: str = "1"
    id_qualifier: str = "MI"  # MI member id, II standard unique health identifier
    address: Address | None = None
    other_segments: tuple[Segment, ...] = ()  # REF (SY)


@dataclass(slots=True)
class OtherPayer:
    """One 2320 loop with its 2330A (subscriber) and 2330B (payer): another coverage of the
    patient, and what that payer decided when it has adjudicated the claim."""

    responsibility: str  # SBR01: P, S, T, ...
    relationship: str  # SBR02: 18 self, 01 spouse, 19 child, ...
    subscriber: OtherSubscriber
    payer: Payer  # 2330B; its other_segments keep REFs (2U, G1, F8, ...)
    group_number: str = ""  # SBR03
    group_name: str = ""  # SBR04
    insurance_type: str = ""  # SBR05
    claim_filing_indicator: str = ""  # SBR09
    adjustments: list[CobAdjustment] = field(default_factory=list)  # claim-level CAS
    paid_amount: Decimal | None = None  # AMT*D: what this payer paid
    non_covered_amount: Decimal | None = None  # AMT*A8
    remaining_liability: Decimal | None = None  # AMT*EAF: what the patient still owes
    benefits_assigned: str = "Y"  # OI03
    patient_signature_source: str = ""  # OI04
    release_of_information: str = "Y"  # OI06
    adjudication_date: date | None = None  # 2330B DTP*573: the claim check or remit date
    # 2320 segments not named here (MIA, MOA) and the 2330C-I loops after 2330B.
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class ServiceLine:
    """One 2400 loop: a procedure (837P SV1) or a revenue-coded line (837I SV2)."""

    procedure_code: str
    charge: Decimal
    units: Decimal
    service_date: date | None = None
    service_date_end: date | None = None  # set when the line spans a range (RD8)
    modifiers: tuple[str, ...] = ()
    procedure_qualifier: str = "HC"  # HC = CPT/HCPCS
    unit_basis: str = "UN"  # UN units, MJ minutes (837P), DA days (837I)
    place_of_service: str = ""  # 837P, only when it differs from the claim's
    diagnosis_pointers: tuple[int, ...] = ()  # 837P, 1-based into Claim.diagnoses
    revenue_code: str = ""  # 837I
    line_control_number: str = ""  # REF*6R: how the 835 finds this line again
    adjudications: list[LineAdjudication] = field(default_factory=list)  # 2430, prior payers
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class Claim:
    """One 2300 loop with its providers, subscriber, patient and payer."""

    claim_type: ClaimType
    patient_control_number: str  # CLM01
    total_charge: Decimal  # CLM02
    facility_code: str  # CLM05-1: place of service (837P) or type of bill facility (837I)
    billing_provider: Provider
    subscriber: Subscriber
    payer: Payer
    diagnoses: tuple[str, ...]  # principal first
    service_lines: list[ServiceLine] = field(default_factory=list)
    patient: Patient | None = None  # None when the patient is the subscriber
    frequency_code: str = "1"  # CLM05-3: 1 original, 7 replacement, 8 void
    original_claim_reference: str = ""  # REF*F8, required with frequency 7 or 8
    prior_authorization: str = ""  # REF*G1
    provider_signature: str = "Y"  # CLM06
    assignment: str = "A"  # CLM07 (837P) / "A" or "C" (837I)
    benefits_assigned: str = "Y"  # CLM08
    release_of_information: str = "Y"  # CLM09
    delay_reason_code: str = ""  # CLM20: why the claim is filed late (1-11, 15), when it is
    rendering_provider: Provider | None = None
    attending_provider: Provider | None = None  # 837I
    service_facility: Provider | None = None
    onset_date: date | None = None  # DTP*431 (837P)
    statement_from: date | None = None  # DTP*434 (837I)
    statement_to: date | None = None
    admission_date: date | None = None  # DTP*435 (837I)
    admission_type: str = ""  # CL1-01 (837I)
    admission_source: str = ""  # CL1-02
    patient_status: str = ""  # CL1-03
    admitting_diagnosis: str = ""  # HI*ABJ (837I)
    icd9: bool = False  # diagnoses are ICD-9-CM (BK/BF qualifiers), as in pre-2015 files
    other_payers: list[OtherPayer] = field(default_factory=list)  # 2320/2330A/2330B loops
    other_segments: tuple[Segment, ...] = ()

    @property
    def service_date(self) -> date | None:
        """The earliest date of service on the claim (statement start for 837I)."""
        dates = [ln.service_date for ln in self.service_lines if ln.service_date]
        if dates:
            return min(dates)
        return self.statement_from


@dataclass(slots=True)
class Submitter:
    """1000A: who sends the 837 (the billing vendor or provider)."""

    name: str
    id: str
    contact_name: str = ""
    contact_phone: str = ""
    entity_type: str = "2"
    first_name: str = ""


@dataclass(slots=True)
class Receiver:
    """1000B: the payer or clearinghouse the 837 goes to."""

    name: str
    id: str


@dataclass(slots=True)
class ClaimBatch:
    """The body of one 837 transaction set."""

    claim_type: ClaimType
    reference: str  # BHT03, the originator's batch reference
    created: date | None
    time: str
    submitter: Submitter
    receiver: Receiver
    claims: list[Claim] = field(default_factory=list)
    purpose: str = "00"  # BHT02: 00 original, 18 reissue
    transaction_type: str = "CH"  # BHT06: CH chargeable, RP reporting

    def add(self, claim: Claim) -> None:
        self.claims.append(claim)
