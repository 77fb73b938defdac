"""Acknowledgments as a biller sees them: the 999 and the 277CA, free of X12 syntax.

The 999 (005010X231A1) says whether each transaction set of a functional group we sent
was syntactically accepted; the 277CA (005010X214) says, claim by claim, whether the
payer or clearinghouse took the claim into adjudication or rejected it, and why (claim
status category and status codes).

Copies of bad data (IK404) and business-unit context values (CTX01-2) can carry member
ids or names: they are kept for the record but left out of ``repr`` and must never be
logged or put in messages.

``other_segments`` keeps the segments of a loop that the model does not name, as tuples
of elements, so a file read and written again keeps them (at the end of their loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

Segment = tuple[str, ...]

# IK5 / AK9 codes meaning the set (group) was accepted, possibly with errors noted.
SET_ACCEPTED = frozenset({"A", "E"})
# 277 claim status categories that say the claim was received and taken in (A0
# forwarded, A1 received, A2 accepted into adjudication, A5 split).
ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
# Categories that say the claim was not taken in: A3 returned as unprocessable, A4 not
# found, A6 missing information, A7 invalid information, A8 relational field in error.
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})


# --- 999 ---------------------------------------------------------------------------


@dataclass(slots=True)
class Context:
    """A CTX segment: which trigger, business unit or element an error note refers to."""

    name: str  # CTX01-1: "SITUATIONAL TRIGGER", or a business unit such as "CLM01"
    reference: str = field(default="", repr=False)  # CTX01-2: the business unit's value
    segment_id: str = ""  # CTX02
    segment_position: int | None = None  # CTX03
    loop_id: str = ""  # CTX04
    element_position: int | None = None  # CTX05-1
    component_position: int | None = None  # CTX05-2
    repeat_position: int | None = None  # CTX05-3
    data_element_reference: str = ""  # CTX06-1


@dataclass(slots=True)
class ElementError:
    """IK4: one element of a segment in error."""

    element_position: int  # IK401-1
    error_code: str  # IK403, e.g. "1" required element missing, "7" invalid code value
    data_element_reference: str = ""  # IK402
    component_position: int | None = None  # IK401-2
    repeat_position: int | None = None  # IK401-3
    bad_data: str = field(default="", repr=False)  # IK404: may be PHI, never log it
    contexts: tuple[Context, ...] = ()  # CTX after the IK4

    @property
    def position(self) -> str:
        """IK401 as written with ':' between its parts: "2", "5:1", "5::2"."""
        parts = [str(self.element_position),
                 "" if self.component_position is None else str(self.component_position),
                 "" if self.repeat_position is None else str(self.repeat_position)]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        return ":".join(parts)


@dataclass(slots=True)
class SegmentError:
    """IK3: one segment of an acknowledged transaction set in error, with its elements."""

    segment_id: str  # IK301
    segment_position: int  # IK302: position in the set, ST being 1
    loop_id: str = ""  # IK303
    error_code: str = ""  # IK304, e.g. "8" segment has data element errors
    contexts: tuple[Context, ...] = ()  # CTX after the IK3
    element_errors: list[ElementError] = field(default_factory=list)


@dataclass(slots=True)
class TransactionSetAck:
    """AK2 … IK5: the verdict on one transaction set we sent."""

    set_id: str  # AK201, e.g. "837"
    control_number: str  # AK202: the ST02 of the set acknowledged
    implementation_reference: str  # AK203, e.g. 005010X222A1 ("" when not sent)
    status: str  # IK501: A accepted, E accepted with errors, M, R rejected, W, X
    error_codes: tuple[str, ...] = ()  # IK502-IK506
    segment_errors: list[SegmentError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status in SET_ACCEPTED


@dataclass(slots=True)
class FunctionalAck:
    """The body of one 999 transaction set: the verdict on one functional group (GS)."""

    functional_id: str  # AK101, e.g. "HC"
    group_control_number: str  # AK102: the GS06 acknowledged
    version: str = ""  # AK103, e.g. 005010X222A1
    status: str = ""  # AK901: A, E, P partially accepted, R rejected, M, W, X
    sets_included: int = 0  # AK902
    sets_received: int = 0  # AK903
    sets_accepted: int = 0  # AK904
    error_codes: tuple[str, ...] = ()  # AK905-AK909
    set_acks: list[TransactionSetAck] = field(default_factory=list)

    def add(self, item: TransactionSetAck) -> None:
        self.set_acks.append(item)

    @property
    def accepted(self) -> bool:
        return self.status in SET_ACCEPTED

    @classmethod
    def for_sets(cls, functional_id: str, group_control_number: str, version: str,
                 set_acks: list[TransactionSetAck]) -> FunctionalAck:
        """A group acknowledgment whose AK9 summarizes ``set_acks`` (one per set received)."""
        accepted = sum(1 for ack in set_acks if ack.accepted)
        if accepted == len(set_acks):
            with_errors = any(ack.status != "A" for ack in set_acks)
            status = "E" if with_errors else "A"
        else:
            status = "P" if accepted else "R"
        return cls(functional_id, group_control_number, version, status, len(set_acks),
                   len(set_acks), accepted, (), list(set_acks))


# --- 277CA ---------------------------------------------------------------------------


@dataclass(slots=True)
class StatusInfo:
    """One claim status composite (STC01, STC10 or STC11).

    ``segment`` numbers the STC segments of one loop from 0: composites with the same
    number were sent in the same segment (at most three). ``message`` is that
    segment's free-form text (STC12), kept on its first composite.
    """

    category_code: str  # e.g. A1 received, A2 accepted, A3/A6/A7/A8 rejected
    status_code: str  # e.g. 20 accepted for processing, 21 missing or invalid information
    entity_code: str = ""  # e.g. 85 billing provider, QC patient, IL subscriber
    code_list_qualifier: str = ""  # component 4 (277 X212: RX for NCPDP reject codes)
    segment: int = 0
    message: str = ""


@dataclass(slots=True)
class Entity:
    """An NM1: the payer, information receiver, billing provider or patient."""

    entity_code: str  # NM101: PR, 41, 85, QC (IL, 1P in a 277 X212)
    last_name: str  # organization name when entity_type is "2"
    entity_type: str = "2"  # NM102: "1" person, "2" organization
    first_name: str = ""
    middle_name: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    id_qualifier: str = ""  # NM108: PI payer id, 46 ETIN, XX NPI, MI member id
    id: str = ""  # NM109


@dataclass(slots=True)
class EntityStatus:
    """The information receiver (2000B) or a billing provider (2000C) with its totals."""

    entity: Entity | None
    trace: str = ""  # TRN02
    statuses: list[StatusInfo] = field(default_factory=list)
    effective_date: date | None = None  # STC02 (not used at the billing provider level)
    action_code: str = ""  # STC03: WQ accepted, U rejected
    total_charge: Decimal | None = None  # STC04: total submitted charges
    accepted_quantity: int | None = None  # QTY*90 (receiver) / QTY*QA (provider)
    rejected_quantity: int | None = None  # QTY*AA / QTY*QC
    accepted_amount: Decimal | None = None  # AMT*YU
    rejected_amount: Decimal | None = None  # AMT*YY
    secondary_id_qualifier: str = ""  # provider REF01, e.g. TJ tax id
    secondary_id: str = ""  # provider REF02
    other_segments: tuple[Segment, ...] = ()

    @property
    def id(self) -> str:
        return self.entity.id if self.entity else ""


@dataclass(slots=True)
class LineStatus:
    """2220D: the status of one service line of a claim."""

    procedure_code: str  # SVC01-2
    charge: Decimal  # SVC02
    statuses: list[StatusInfo] = field(default_factory=list)
    procedure_qualifier: str = "HC"  # SVC01-1: HC CPT/HCPCS, NU revenue code, ...
    modifiers: tuple[str, ...] = ()  # SVC01-3..6
    paid: Decimal | None = None  # SVC03: 277 X212 only, a 277CA has no paid amount
    revenue_code: str = ""  # SVC04
    units: Decimal | None = None  # SVC07
    effective_date: date | None = None  # STC02
    action_code: str = ""  # STC03: U
    line_control_number: str = ""  # REF*FJ: the 837's REF*6R
    prescription_number: str = ""  # REF*XZ
    service_date: date | None = None  # DTP*472
    service_date_end: date | None = None  # set when the DTP is a range (RD8)
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class ClaimStatus:
    """2200D: the payer's or clearinghouse's verdict on one claim we sent."""

    patient_control_number: str  # TRN02: our CLM01
    statuses: list[StatusInfo] = field(default_factory=list)  # every STC's composites
    effective_date: date | None = None  # STC02 of the first STC
    action_code: str = ""  # STC03: WQ accepted, U rejected
    total_charge: Decimal | None = None  # STC04
    payer_claim_control_number: str = ""  # REF*1K
    clearinghouse_trace: str = ""  # REF*D9
    bill_type: str = ""  # REF*BLT (institutional claims)
    service_date: date | None = None  # DTP*472
    service_date_end: date | None = None  # set when the DTP is a range (RD8)
    patient: Entity | None = None  # NM1*QC (NM1*IL in a 277 X212)
    billing_provider: EntityStatus | None = None  # the 2000C the claim sits under
    subscriber: Entity | None = None  # 277 X212: the subscriber level of a dependent
    line_statuses: list[LineStatus] = field(default_factory=list)
    other_segments: tuple[Segment, ...] = ()

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.category_code for s in self.statuses)

    @property
    def accepted(self) -> bool:
        """True when every status says the claim was taken in (A0/A1/A2/A5)."""
        return bool(self.statuses) and all(
            s.category_code in ACCEPTED_CATEGORIES for s in self.statuses)

    @property
    def rejected(self) -> bool:
        """True when a status says the claim was not taken in (A3/A4/A6/A7/A8)."""
        return any(s.category_code in REJECTED_CATEGORIES for s in self.statuses)

    @property
    def patient_last_name(self) -> str:
        return self.patient.last_name if self.patient else ""

    @property
    def patient_first_name(self) -> str:
        return self.patient.first_name if self.patient else ""

    @property
    def member_id(self) -> str:
        return self.patient.id if self.patient else ""

    @property
    def billing_provider_id(self) -> str:
        return self.billing_provider.id if self.billing_provider else ""

    @property
    def provider_statuses(self) -> list[StatusInfo]:
        return self.billing_provider.statuses if self.billing_provider else []


@dataclass(slots=True)
class ClaimAckReport:
    """The body of one 277CA transaction set: one payer's verdicts for one receiver."""

    reference: str  # BHT03
    created: date | None  # BHT04
    time: str = ""  # BHT05
    source: Entity | None = None  # 2100A NM1*PR: the payer or clearinghouse
    source_trace: str = ""  # 2200A TRN02
    received_date: date | None = None  # DTP*050
    process_date: date | None = None  # DTP*009
    receiver: EntityStatus | None = None  # 2000B: whom the report is for, with totals
    billing_providers: list[EntityStatus] = field(default_factory=list)
    claims: list[ClaimStatus] = field(default_factory=list)
    structure_code: str = "0085"  # BHT01 (0010 in a 277 X212)
    purpose: str = "08"  # BHT02
    transaction_type: str = "TH"  # BHT06 (DG in a 277 X212)
    other_segments: tuple[Segment, ...] = ()

    def add(self, item: ClaimStatus) -> None:
        self.claims.append(item)
