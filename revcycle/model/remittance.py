"""Remittances as a biller posts them: the 835 (005010X221A1) content, free of X12 syntax.

One ``Remittance`` is the body of one 835 transaction set: a payment (BPR/TRN), who paid
(1000A) and who was paid (1000B), a ``ClaimPayment`` per CLP (2100) with its
``ServicePayment`` lines (2110), and the provider-level adjustments (PLB) that are not tied
to a claim. Every CAS triple is one ``Adjustment`` and every PLB pair one
``ProviderAdjustment``, so sums are plain sums.

Segments the model does not name (MIA, MOA, claim REFs, TS3/TS2, ...) are kept as tuples
of elements in the ``other_segments`` of the loop they came from, so an 835 read from a
payer is written back without loss.

``balance_problems`` checks the three balancing rules of the TR3 and ``excess_precision``
finds amounts that are not whole cents; the reader calls neither (posting decides what an
unbalanced or over-precise remittance means).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from revcycle.model.claim import Address, Segment

REVERSAL = "22"  # CLP02: reversal of a previous payment
DENIED = "4"  # CLP02: denied
PREDETERMINATION = "25"  # CLP02: predetermination pricing only, no payment


@dataclass(slots=True)
class Adjustment:
    """One CAS triple: why part of the charge was not paid, and by whom it is owed."""

    group_code: str  # CO contractual, PR patient responsibility, OA other, PI payer initiated
    reason_code: str  # CARC, e.g. "45", "1" (deductible), "2" (coinsurance), "3" (copay)
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(slots=True)
class ProcedureCode:
    """A composite procedure identifier (SVC01 or SVC06)."""

    qualifier: str  # HC (CPT/HCPCS), NU (revenue code), AD, ER, HP, IV, WK, N4
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""


@dataclass(slots=True)
class ServicePayment:
    """One 2110 loop: how one billed service line was adjudicated."""

    procedure_code: str  # SVC01-2
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    procedure_qualifier: str = "HC"  # SVC01-1
    modifiers: tuple[str, ...] = ()  # SVC01-3..6
    procedure_description: str = ""  # SVC01-7
    revenue_code: str = ""  # SVC04 (NUBC)
    units_paid: Decimal | None = None  # SVC05; absent means one
    original_procedure: ProcedureCode | None = None  # SVC06, when the payer changed the code
    units_billed: Decimal | None = None  # SVC07
    service_date: date | None = None  # DTM*472, or DTM*150 when a period is given
    service_date_end: date | None = None  # DTM*151
    adjustments: list[Adjustment] = field(default_factory=list)
    line_control_number: str = ""  # REF*6R, the 837's line item control number
    allowed_amount: Decimal | None = None  # AMT*B6
    remark_codes: tuple[str, ...] = ()  # LQ*HE (RARC)
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class Entity:
    """A person or organization named by an NM1 in the 2100 loop."""

    entity_type: str  # NM102: "1" person, "2" organization
    last_name: str = ""  # organization name when entity_type is "2"
    first_name: str = ""
    middle_name: str = ""
    name_suffix: str = ""
    id_qualifier: str = ""  # NM108: MI member id, HN, II, MR, XX (NPI), FI, ...
    id: str = ""  # NM109


@dataclass(slots=True)
class ClaimPayment:
    """One 2100 loop: the payer's decision on one claim."""

    patient_control_number: str  # CLP01, the 837's CLM01
    status_code: str  # CLP02: 1/2/3 processed as primary/secondary/tertiary, 4 denied, 22 ...
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None = None  # CLP05
    claim_filing_indicator: str = ""  # CLP06: 12 PPO, 13 POS, 15 indemnity, HM, MB, MC, ...
    payer_claim_control_number: str = ""  # CLP07
    facility_code: str = ""  # CLP08
    frequency_code: str = ""  # CLP09
    drg_code: str = ""  # CLP11
    drg_weight: Decimal | None = None  # CLP12
    discharge_fraction: Decimal | None = None  # CLP13
    header_number: str = "1"  # LX01: claims that share it are written under one LX
    patient: Entity | None = None  # NM1*QC
    insured: Entity | None = None  # NM1*IL
    corrected_patient: Entity | None = None  # NM1*74
    service_provider: Entity | None = None  # NM1*82
    crossover_carrier: Entity | None = None  # NM1*TT
    corrected_priority_payer: Entity | None = None  # NM1*PR
    other_subscriber: Entity | None = None  # NM1*GB
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    service_payments: list[ServicePayment] = field(default_factory=list)
    statement_from: date | None = None  # DTM*232
    statement_to: date | None = None  # DTM*233
    received_date: date | None = None  # DTM*050
    coverage_amount: Decimal | None = None  # AMT*AU
    other_segments: tuple[Segment, ...] = ()
    # Where the CLP stood in the file it was read from (1-based, ISA is 1), so a posting
    # exception can point at it; not content, so equality ignores it.
    segment_number: int | None = field(default=None, compare=False)

    @property
    def is_reversal(self) -> bool:
        return self.status_code == REVERSAL

    @property
    def is_denial(self) -> bool:
        return self.status_code == DENIED


@dataclass(slots=True)
class ProviderAdjustment:
    """One PLB adjustment: money moved at provider level, not tied to a claim payment."""

    provider_id: str  # PLB01
    fiscal_period_end: date  # PLB02
    reason_code: str  # PLB03-1: WO overpayment recovery, L6 interest, FB forwarding, ...
    amount: Decimal  # PLB04; positive reduces the payment, negative increases it
    reference: str = ""  # PLB03-2, e.g. the payer claim control number being recovered


@dataclass(slots=True)
class Contact:
    """A PER segment: a contact function, a name and its communication numbers."""

    function_code: str  # PER01: BL technical, CX business, IC information
    name: str = ""
    numbers: tuple[tuple[str, str], ...] = ()  # (TE/EM/UR/FX/EX, number), up to three


@dataclass(slots=True)
class RemittancePayer:
    """1000A: who sent the payment."""

    name: str = ""
    id_qualifier: str = ""  # N103: XV (CMS plan id), when N104 is given
    id: str = ""  # N104
    address: Address | None = None
    payer_identifier: str = ""  # REF*2U
    contacts: list[Contact] = field(default_factory=list)  # PER*CX, PER*BL, PER*IC
    other_segments: tuple[Segment, ...] = ()

    @property
    def technical_contact(self) -> Contact | None:
        """The payer technical contact (PER*BL), required in 5010."""
        return next((c for c in self.contacts if c.function_code == "BL"), None)


@dataclass(slots=True)
class RemittancePayee:
    """1000B: who received the payment."""

    name: str = ""
    id_qualifier: str = ""  # N103: XX (NPI), FI (TIN), XV
    id: str = ""  # N104
    address: Address | None = None
    tax_id: str = ""  # REF*TJ
    other_segments: tuple[Segment, ...] = ()


@dataclass(slots=True)
class Remittance:
    """The body of one 835 transaction set."""

    handling_code: str  # BPR01: I remittance with payment, H notification only, ...
    total_paid: Decimal  # BPR02
    credit_debit_flag: str  # BPR03: C credit, D debit
    payment_method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_date: date | None  # BPR16
    trace_number: str  # TRN02: check or EFT trace number, what reassociates money and 835
    originator_id: str  # TRN03: payer's "1" + EIN or other id
    payer: RemittancePayer = field(default_factory=RemittancePayer)
    payee: RemittancePayee = field(default_factory=RemittancePayee)
    payment_format: str = ""  # BPR05: CCP, CTX
    sender_dfi_qualifier: str = ""  # BPR06
    sender_dfi_id: str = ""  # BPR07
    sender_account_qualifier: str = ""  # BPR08
    sender_account_number: str = ""  # BPR09
    originating_company_id: str = ""  # BPR10
    originating_company_supplemental: str = ""  # BPR11
    receiver_dfi_qualifier: str = ""  # BPR12
    receiver_dfi_id: str = ""  # BPR13
    receiver_account_qualifier: str = ""  # BPR14
    receiver_account_number: str = ""  # BPR15
    trace_type: str = "1"  # TRN01
    originator_supplemental: str = ""  # TRN04
    production_date: date | None = None  # DTM*405
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    # LX01 -> the TS3/TS2 provider summaries (and anything else) between LX and CLP
    provider_summaries: dict[str, tuple[Segment, ...]] = field(default_factory=dict)
    other_segments: tuple[Segment, ...] = ()

    def add(self, claim: ClaimPayment) -> None:
        self.claims.append(claim)


def _lines_balance(service: ServicePayment) -> bool:
    return service.charge - sum(a.amount for a in service.adjustments) == service.paid


def balance_problems(remittance: Remittance) -> list[str]:
    """The TR3 balancing rules this remittance breaks (an empty list when it balances).

    Service line: SVC02 - its CAS = SVC03. Claim: CLP03 - CLP04 = claim CAS + line CAS
    (claim CAS alone when the payer sent no line detail). Transaction: BPR02 = sum of
    CLP04 - sum of PLB amounts (BPR02 counts negative when BPR03 is D), leaving out the
    CLP04 of a predetermination (CLP02 25): what the payer would pay, not money sent, so
    not in BPR02 (an 835 of predeterminations alone is BPR01 H, BPR02 0). Messages name
    positions (0-based), never amounts.
    """
    problems: list[str] = []
    total = Decimal(0)
    for i, claim in enumerate(remittance.claims):
        if claim.status_code != PREDETERMINATION:  # priced, not paid: no money moved
            total += claim.paid
        adjusted = sum((a.amount for a in claim.adjustments), Decimal(0))
        for j, service in enumerate(claim.service_payments):
            if not _lines_balance(service):
                problems.append(f"claims[{i}].service_payments[{j}]: SVC02 minus the line's"
                                " CAS amounts does not equal SVC03")
            adjusted += sum((a.amount for a in service.adjustments), Decimal(0))
        if claim.charge - claim.paid != adjusted:
            problems.append(f"claims[{i}]: CLP03 minus CLP04 does not equal the claim and"
                            " line CAS amounts")
    total -= sum((p.amount for p in remittance.provider_adjustments), Decimal(0))
    expected = -remittance.total_paid if remittance.credit_debit_flag == "D" else (
        remittance.total_paid)
    if total != expected:
        problems.append("transaction: BPR02 does not equal the sum of CLP04 minus the sum of"
                        " PLB amounts")
    return problems


_CENT = Decimal("0.01")


def _whole_cents(amount: Decimal | int | None) -> bool:
    if amount is None:
        return True
    amount = Decimal(amount)  # an int (0) built in code is whole cents too
    return not amount.is_finite() or amount % _CENT == 0


def _kept_amounts(segments: Iterable[Segment]) -> Iterable[str]:
    """The qualifiers of kept AMT segments whose AMT02 is a number that is not whole cents."""
    for segment in segments:
        if segment[:1] == ("AMT",) and len(segment) > 2:
            try:
                amount = Decimal(segment[2])
            except ArithmeticError:  # not a number: not this check's business
                continue
            if not _whole_cents(amount):
                yield segment[1]


def excess_precision(remittance: Remittance) -> list[str]:
    """The monetary amounts of this remittance that have more than two decimals.

    pyx12 accepts an 835 amount such as 100.005 (an X12 R value may carry any number of
    decimals), so the reader reads it exactly. But the books keep cents: posting such an
    amount would round it after the balance check, and a remittance could balance as read
    yet not as stored. Posting holds the remittance with these problems instead.

    Amounts are BPR02, CLP03-05, SVC02-03, every CAS and PLB amount and AMT02 (modeled or
    kept); quantities (SVC05, SVC07, CAS quantities) and CLP12-13 are not money and may have
    more decimals. Trailing zeros (100.5000) are whole cents and pass. Like
    ``balance_problems``, messages name places (0-based), never amounts; a claim read from
    a file also names its CLP's segment number.
    """
    problems: list[str] = []

    def check(amount: Decimal | None, where: str, what: str) -> None:
        if not _whole_cents(amount):
            problems.append(f"{where}: {what} has more than two decimals")

    check(remittance.total_paid, "transaction", "BPR02")
    for i, claim in enumerate(remittance.claims):
        at = (f" (CLP at segment {claim.segment_number})"
              if claim.segment_number is not None else "")
        for element, amount in (("CLP03", claim.charge), ("CLP04", claim.paid),
                                ("CLP05", claim.patient_responsibility)):
            check(amount, f"claims[{i}]{at}", element)
        for k, adjustment in enumerate(claim.adjustments):
            check(adjustment.amount, f"claims[{i}].adjustments[{k}]{at}", "a CAS amount")
        check(claim.coverage_amount, f"claims[{i}]{at}", "AMT02 (AMT*AU)")
        for qualifier in _kept_amounts(claim.other_segments):
            problems.append(f"claims[{i}]{at}: AMT02 (AMT*{qualifier}) has more than two"
                            " decimals")
        for j, service in enumerate(claim.service_payments):
            line = f"claims[{i}].service_payments[{j}]"
            check(service.charge, line + at, "SVC02")
            check(service.paid, line + at, "SVC03")
            for k, adjustment in enumerate(service.adjustments):
                check(adjustment.amount, f"{line}.adjustments[{k}]{at}", "a CAS amount")
            check(service.allowed_amount, line + at, "AMT02 (AMT*B6)")
            for qualifier in _kept_amounts(service.other_segments):
                problems.append(f"{line}{at}: AMT02 (AMT*{qualifier}) has more than two"
                                " decimals")
    for k, provider_adjustment in enumerate(remittance.provider_adjustments):
        check(provider_adjustment.amount, f"provider_adjustments[{k}]", "a PLB amount")
    return problems
