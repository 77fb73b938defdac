"""Claims that follow a payer's decision: secondary/tertiary (COB), replacement (7), void (8).

Pure functions over the model: each takes a claim as it was sent and returns a new
``Claim`` (the input is never changed); the pipeline decides when to build one and records
it. Every refusal is a typed ``DerivedClaimError`` whose message names the rule or the
reason, never an amount or a name (claims carry PHI).

A secondary claim repeats the prior payer's decision for the next payer, as the 837 TR3
(X222A1, X223A2) asks: a 2320 loop for the prior payer with its paid amount (AMT*D) and
claim-level adjustments (CAS), its 2330A subscriber and 2330B payer, and per service line
a 2430 loop with what that payer paid for the line (SVD), the line's adjustments and the
adjudication date (DTP*573). The TR3's balancing rules must hold for every payer so
repeated:

- line: the line charge (SV102 / SV203) = SVD02 + the line's 2430 CAS amounts;
- claim: the claim charge (CLM02) = AMT*D + the 2320 CAS amounts + every 2430 CAS amount.

A claim the primary forwarded itself (CLP02 19, 20 or 21: a crossover) gets no secondary
from us: the next payer has it already and pays on its own 835.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from revcycle.model.claim import (
    Claim,
    CobAdjustment,
    LineAdjudication,
    OtherPayer,
    OtherSubscriber,
    Patient,
    Payer,
    ServiceLine,
    Subscriber,
)
from revcycle.model.remittance import Adjustment, ClaimPayment, ServicePayment

ZERO = Decimal(0)
CROSSOVER_STATUSES = frozenset({"19", "20", "21"})  # processed as 1st/2nd/3rd, forwarded
REVERSAL_STATUS = "22"
SVD_QUALIFIERS = frozenset({"HC", "ER", "HP", "IV", "WK"})  # SVD03-01 (X222A1, X223A2)
LINE_RULE = "line charge = SVD02 + line CAS (2430)"
CLAIM_RULE = "claim charge = AMT*D + claim CAS (2320) + line CAS (2430)"


class DerivedClaimError(ValueError):
    """A claim that cannot be derived; ``reason`` says why (no values: they may be PHI)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CrossoverClaim(DerivedClaimError):
    """The primary forwarded the claim to the next payer (CLP02 19/20/21): record the
    crossover payer and wait for its 835 instead of billing it."""

    def __init__(self, status_code: str, crossover_payer_id: str) -> None:
        super().__init__(f"claim was forwarded by the payer (CLP02 {status_code}) to"
                         f" crossover payer {crossover_payer_id or 'not named (no NM1*TT)'}")
        self.status_code = status_code
        self.crossover_payer_id = crossover_payer_id


class UnbalancedPriorPayment(DerivedClaimError):
    """The prior payer's amounts do not balance by a TR3 rule; ``rule`` names it."""

    def __init__(self, rule: str, line_number: int | None = None) -> None:
        where = f" (service line {line_number})" if line_number is not None else ""
        super().__init__(f"prior payer's payment does not balance: {rule}{where}")
        self.rule = rule
        self.line_number = line_number


class UnmatchedServiceLine(DerivedClaimError):
    """A service line has no service payment in the prior payer's 835 (by REF*6R or order)."""


class MissingPayerClaimNumber(DerivedClaimError):
    """A replacement or void needs the payer's claim control number (CLP07) for REF*F8."""


# -- balancing --------------------------------------------------------------------------


def _total(adjustments: Iterable[CobAdjustment]) -> Decimal:
    return sum((a.amount for a in adjustments), ZERO)


def cob_balance_errors(claim: Claim) -> list[str]:
    """The TR3 COB balancing rules the claim's adjudicated other payers break, as rule
    names with the service line number where a line breaks one (empty when all hold).

    Only 2320 loops with AMT*D are checked: a 2320 without it describes a coverage that
    has not adjudicated the claim yet.
    """
    errors: list[str] = []
    for other in claim.other_payers:
        if other.paid_amount is None:
            continue
        payer_id = other.payer.payer_id
        line_cas = ZERO
        for number, line in enumerate(claim.service_lines, 1):
            for adjudication in line.adjudications:
                if adjudication.payer_id != payer_id:
                    continue
                cas = _total(adjudication.adjustments)
                line_cas += cas
                if line.charge != adjudication.paid + cas:
                    errors.append(f"{LINE_RULE} (service line {number})")
        if claim.total_charge != other.paid_amount + _total(other.adjustments) + line_cas:
            errors.append(CLAIM_RULE)
    return errors


# -- secondary and tertiary -------------------------------------------------------------

# SBR01 in the order payers pay (X12 1138): primary, secondary, tertiary, then A-H.
PAYMENT_ORDER = "PSTABCDEFGH"
NEXT_RESPONSIBILITIES = frozenset({"S", "T"})  # what secondary_claim can bill


def next_payer(claim: Claim) -> OtherPayer | None:
    """The other payer that pays after the claim's own (its SBR01): the first, in payment
    order, of the 2320 loops with SBR01 S or T that have not adjudicated the claim (no
    AMT*D); None when there is none or the claim's own SBR01 is not a payment order."""
    own = PAYMENT_ORDER.find(claim.subscriber.payer_responsibility or "?")
    if own < 0:
        return None
    after = [o for o in claim.other_payers
             if o.paid_amount is None and o.responsibility in NEXT_RESPONSIBILITIES
             and PAYMENT_ORDER.find(o.responsibility) > own and o.payer.payer_id]
    return min(after, key=lambda o: PAYMENT_ORDER.find(o.responsibility), default=None)


def next_payer_id(claim: Claim) -> str:
    """:func:`next_payer`'s payer id, "" when none: ``claims.next_payer_id``."""
    other = next_payer(claim)
    return other.payer.payer_id[:80] if other is not None else ""


def next_parties(claim: Claim, other: OtherPayer) -> tuple[Subscriber, Patient | None]:
    """The 2010BA subscriber and the 2010CA patient (None when the patient is the
    subscriber) of the claim for ``other``, one of the claim's 2320 loops: its 2330A
    member, with the patient's birth date and sex when the patient is that member (SBR02
    18), else the patient as a 2010CA loop with SBR02 as the relationship."""
    member = other.subscriber
    person = claim.patient or claim.subscriber
    self_insured = other.relationship == "18"
    subscriber = Subscriber(
        last_name=member.last_name, first_name=member.first_name,
        member_id=member.member_id, middle_name=member.middle_name,
        name_suffix=member.name_suffix,
        birth_date=person.birth_date if self_insured else None,
        sex=person.sex if self_insured else "",
        address=copy.copy(member.address or claim.subscriber.address),
        payer_responsibility=other.responsibility, group_number=other.group_number,
        claim_filing_indicator=other.claim_filing_indicator or "CI")
    if self_insured:
        return subscriber, None
    return subscriber, Patient(
        last_name=person.last_name, first_name=person.first_name,
        relationship=other.relationship, birth_date=person.birth_date, sex=person.sex,
        middle_name=person.middle_name, name_suffix=person.name_suffix,
        address=copy.copy(person.address))


def _cob(adjustments: Iterable[Adjustment]) -> list[CobAdjustment]:
    return [CobAdjustment(a.group_code, a.reason_code, a.amount, a.quantity)
            for a in adjustments]


def _match_lines(lines: list[ServiceLine],
                 services: list[ServicePayment]) -> list[ServicePayment | None]:
    """Each line's service payment: by REF*6R when both carry one, else by order."""
    if not services:
        return [None] * len(lines)
    by_control = {s.line_control_number: s for s in services if s.line_control_number}
    matched: list[ServicePayment | None] = []
    for index, line in enumerate(lines):
        service = by_control.get(line.line_control_number) if line.line_control_number else None
        if service is None and not by_control and len(services) == len(lines):
            service = services[index]
        if service is None:
            raise UnmatchedServiceLine(f"service line {index + 1} has no service payment in"
                                       " the prior payer's 835 (by REF*6R or line order)")
        matched.append(service)
    return matched


def _has_kept_cob(claim: Claim) -> bool:
    return any(s[0] == "SBR" for s in claim.other_segments) or any(
        s[0] == "SVD" for line in claim.service_lines for s in line.other_segments)


def secondary_claim(
    claim: Claim,
    primary_payment: ClaimPayment,
    primary_payer: Payer,
    next_payer: Payer,
    next_subscriber: Subscriber,
    *,
    adjudication_date: date,
    responsibility: str = "S",
) -> Claim:
    """The claim for the next payer after ``primary_payer`` adjudicated ``claim``.

    ``primary_payment`` is that payer's 835 CLP loop for the claim, ``adjudication_date``
    its 835's payment date (BPR16), written as DTP*573. ``responsibility`` is the next
    payer's SBR01: "S" for a secondary, "T" for a tertiary (then ``claim`` is the
    secondary claim as sent and ``primary_payment`` the secondary payer's CLP; the
    primary's loops are kept). Other payers the claim lists stay listed, but the next
    payer itself.
    """
    status = primary_payment.status_code
    if status in CROSSOVER_STATUSES:
        carrier = primary_payment.crossover_carrier
        raise CrossoverClaim(status, carrier.id if carrier is not None else "")
    if status == REVERSAL_STATUS:
        raise DerivedClaimError("a reversal (CLP02 22) is not an adjudication to bill the"
                                " next payer on")
    if responsibility not in ("S", "T"):
        raise DerivedClaimError("the next payer's SBR01 must be S (secondary) or"
                                " T (tertiary)")
    if _has_kept_cob(claim):
        raise DerivedClaimError("the claim's other-payer loops were kept unread (not in a"
                                " form the model holds): they cannot be extended")
    if not primary_payer.payer_id or not next_payer.payer_id:
        raise DerivedClaimError("both payers need a payer id (2330B NM109, 2010BB NM109)")
    if primary_payment.charge != claim.total_charge:
        raise UnbalancedPriorPayment("CLP03 = CLM02 (the payment is for this claim's charge)")
    matched = _match_lines(claim.service_lines, primary_payment.service_payments)
    lines: list[ServiceLine] = []
    for number, (line, service) in enumerate(zip(claim.service_lines, matched,
                                                 strict=True), 1):
        adjudications = copy.deepcopy(line.adjudications)
        if service is not None:
            adjustments = _cob(service.adjustments)
            if line.charge != service.paid + _total(adjustments):
                raise UnbalancedPriorPayment(LINE_RULE, number)
            # SVD03 is the code as adjudicated, when the 835 gives one an 837 can carry
            # (not NU, a revenue code, nor N4, a drug code): the line's own otherwise.
            source = service if service.procedure_qualifier in SVD_QUALIFIERS else line
            adjudications.append(LineAdjudication(
                payer_id=primary_payer.payer_id, paid=service.paid,
                procedure_code=source.procedure_code,
                paid_units=service.units_paid if service.units_paid is not None
                else Decimal(1),  # SVC05 absent means one
                adjudication_date=adjudication_date,
                procedure_qualifier=source.procedure_qualifier,
                modifiers=tuple(source.modifiers),
                revenue_code=line.revenue_code, adjustments=adjustments))
        lines.append(dataclasses.replace(line, adjudications=adjudications))
    prior = claim.subscriber
    patient = claim.patient
    adjudicated = OtherPayer(
        responsibility=prior.payer_responsibility,
        relationship="18" if patient is None else patient.relationship,
        subscriber=OtherSubscriber(
            last_name=prior.last_name, member_id=prior.member_id,
            first_name=prior.first_name, middle_name=prior.middle_name,
            name_suffix=prior.name_suffix, address=copy.copy(prior.address)),
        payer=Payer(primary_payer.name, primary_payer.payer_id,
                    copy.copy(primary_payer.address)),
        group_number=prior.group_number,
        claim_filing_indicator=prior.claim_filing_indicator,
        adjustments=_cob(primary_payment.adjustments),
        paid_amount=primary_payment.paid,
        remaining_liability=primary_payment.patient_responsibility,
        benefits_assigned=claim.benefits_assigned or "Y",
        release_of_information=claim.release_of_information or "Y",
        adjudication_date=adjudication_date,
    )
    others = [copy.deepcopy(o) for o in claim.other_payers
              if o.payer.payer_id != next_payer.payer_id]
    # The TR3 lists other payers in the order they pay: the one just adjudicated goes
    # after the payers that paid before it and before those still to come.
    paid_before = [o for o in others if o.paid_amount is not None]
    to_come = [o for o in others if o.paid_amount is None]
    secondary = dataclasses.replace(
        claim,
        subscriber=dataclasses.replace(next_subscriber, payer_responsibility=responsibility),
        payer=next_payer,
        service_lines=lines,
        frequency_code="1",
        original_claim_reference="",
        other_payers=[*paid_before, adjudicated, *to_come],
    )
    errors = cob_balance_errors(secondary)
    if errors:  # a rule the 835's amounts break although each line balanced
        raise UnbalancedPriorPayment(errors[0])
    return secondary


# -- replacement and void ---------------------------------------------------------------


def _resubmission(claim: Claim, payer_claim_control_number: str, frequency: str,
                  what: str) -> Claim:
    number = (payer_claim_control_number or "").strip()
    if not number:
        raise MissingPayerClaimNumber(f"a {what} claim needs the payer's claim control"
                                      " number (835 CLP07) for REF*F8, and there is none")
    return dataclasses.replace(
        claim, frequency_code=frequency, original_claim_reference=number,
        service_lines=[dataclasses.replace(line, adjudications=copy.deepcopy(line.adjudications))
                       for line in claim.service_lines],
        other_payers=copy.deepcopy(claim.other_payers))


def replacement_claim(claim: Claim, payer_claim_control_number: str) -> Claim:
    """The claim as corrected, replacing the adjudicated one (CLM05-3 = 7, REF*F8)."""
    return _resubmission(claim, payer_claim_control_number, "7", "replacement")


def void_claim(claim: Claim, payer_claim_control_number: str) -> Claim:
    """The claim voiding the adjudicated one (CLM05-3 = 8, REF*F8): the payer reverses it."""
    return _resubmission(claim, payer_claim_control_number, "8", "void")
