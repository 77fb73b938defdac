"""The simulated payer: 999, 277CA and 835 answers to synthetic 837s.

Every file is checked with pyx12 and read back with the project's readers; balancing is
checked with ``balance_problems`` and again here from the CAS amounts themselves.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from revcycle.model.acknowledgment import ClaimAckReport, ClaimStatus, FunctionalAck
from revcycle.model.claim import Claim, ClaimType, Receiver, ServiceLine, Submitter
from revcycle.model.remittance import Adjustment, ClaimPayment, Remittance, balance_problems
from revcycle.simulator import DEFAULT_AS_OF, DEFAULT_PAYERS, PayerProfile, generate
from revcycle.simulator.payer import (
    DEFAULT_FEE_SCHEDULE,
    Denial,
    FeeSchedule,
    PayerBehaviour,
    PayerResponse,
    PayerSimulator,
    PlanRules,
)
from revcycle.x12.errors import X12Error
from revcycle.x12.reader import read
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

RECEIVED = DEFAULT_AS_OF
SUBMITTER = Submitter("SIM BILLING SERVICES", "SIMBILL01", "BILLING DESK", "2175550100")
# CLP06 codes pyx12's 835 map (005010X221A1) accepts.
CLP06_CODES = {"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB",
               "MC", "OF", "TV", "VA", "WC", "ZZ"}
EXPECTED_CLP06 = {"SIMA1": "MB", "SIMD1": "MC", "SIMB1": "12", "SIMC1": "12", "SIMH1": "HM"}
INSTITUTIONAL_CLP06 = {"SIMA1": "MA"}
CENT = Decimal("0.01")
ZERO = Decimal(0)
# The hard cases off: one CLP per claim, all with line detail, processed as primary, no PLB.
NO_HARD_CASES = {"reversal_rate": 0.0, "provider_adjustment_rate": 0.0, "unlined_rate": 0.0,
                 "secondary_rate": 0.0, "duplicate_payment_rate": 0.0,
                 "unknown_claim_rate": 0.0}


def _profile(payer_id: str) -> PayerProfile:
    return next(p for p in DEFAULT_PAYERS if p.payer_id == payer_id)


def _submission(claims: list[Claim], profile: PayerProfile, *,
                per_set: int = 5000) -> bytes:
    header = InterchangeHeader(Party("SIMBILL01"), Party(profile.payer_id),
                               created=datetime(2026, 11, 2, 9, 30))
    written = write_837(claims, header, CounterControlNumbers(interchange=4242), SUBMITTER,
                        Receiver(profile.name, profile.payer_id), max_claims_per_set=per_set)
    return written.text.encode()


def _claims(seed: int, claim_type: ClaimType | None, payer_id: str, n: int = 150,
            **options: object) -> list[Claim]:
    simulation = generate(n, seed, claim_type, **options)
    return [c for c in simulation.claims if c.payer.payer_id == payer_id]


def _respond(simulator: PayerSimulator, data: bytes,
             received: date = RECEIVED) -> PayerResponse:
    return simulator.respond(data, received=received, control_numbers=CounterControlNumbers(
        interchange=900))


def _acks(data: bytes) -> list[FunctionalAck]:
    return read(data).bodies(FunctionalAck)


def _statuses(response: PayerResponse) -> list[ClaimStatus]:
    assert response.ack_277ca is not None
    return [c for report in read(response.ack_277ca).bodies(ClaimAckReport)
            for c in report.claims]


def _remittances(response: PayerResponse) -> list[Remittance]:
    assert response.remittance_835 is not None
    return read(response.remittance_835).bodies(Remittance)


def _payments(response: PayerResponse) -> dict[str, ClaimPayment]:
    """The last word on each claim: its payment, or the correction of a reversed one (a
    second payment of a claim, the payer's error, is checked and left out)."""
    sequences: dict[str, list[ClaimPayment]] = defaultdict(list)
    for payment in (c for r in _remittances(response) for c in r.claims):
        sequences[payment.patient_control_number].append(payment)
    duplicates = 0
    for sequence in sequences.values():
        assert len(sequence) in (1, 2, 3), "a claim appears more than three times"
        if len(sequence) == 3:
            _check_reversal_and_correction(*sequence)
        elif len(sequence) == 2:
            _check_paid_twice(*sequence)
            sequence.pop()
            duplicates += 1
    assert duplicates == response.duplicate_payments
    return {pcn: sequence[-1] for pcn, sequence in sequences.items()}


def _check_paid_twice(first: ClaimPayment, second: ClaimPayment) -> None:
    """The same payment again under a new CLP07, with no reversal between."""
    assert not first.is_reversal and not second.is_reversal and first.paid > 0
    assert second.payer_claim_control_number != first.payer_claim_control_number
    assert _negated(second)[:3] == _negated(first)[:3]
    assert _negated(second)[4:] == _negated(first)[4:]


def _negated(payment: ClaimPayment) -> tuple[object, ...]:
    """The amounts of a payment, negated, with the codes they go with."""
    def cas(adjustments: list[Adjustment]) -> list[tuple[str, str, Decimal]]:
        return [(a.group_code, a.reason_code, -a.amount) for a in adjustments]

    return (-payment.charge, -payment.paid, -(payment.patient_responsibility or 0),
            payment.payer_claim_control_number, cas(payment.adjustments),
            [(s.procedure_code, -s.charge, -s.paid, cas(s.adjustments),
              s.line_control_number) for s in payment.service_payments])


def _check_reversal_and_correction(original: ClaimPayment, reversal: ClaimPayment,
                                   corrected: ClaimPayment) -> None:
    assert original.status_code in ("1", "2", "3") and reversal.status_code == "22"
    assert _negated(original) == (
        reversal.charge, reversal.paid, reversal.patient_responsibility or 0,
        reversal.payer_claim_control_number,
        [(a.group_code, a.reason_code, a.amount) for a in reversal.adjustments],
        [(s.procedure_code, s.charge, s.paid,
          [(a.group_code, a.reason_code, a.amount) for a in s.adjustments],
          s.line_control_number) for s in reversal.service_payments])
    assert corrected.status_code == original.status_code
    assert corrected.payer_claim_control_number not in ("", original.payer_claim_control_number)
    assert corrected.charge == original.charge and corrected.paid > original.paid
    assert _adjusted(corrected, "CO") < _adjusted(original, "CO")  # a higher allowed amount


def _adjusted(payment: ClaimPayment, group: str | None = None) -> Decimal:
    return sum((a.amount for a in payment.adjustments
                + [a for s in payment.service_payments for a in s.adjustments]
                if group is None or a.group_code == group), Decimal(0))


def _check_claim_arithmetic(payment: ClaimPayment) -> None:
    """billed = paid + CO + PR (+ OA/PI), at the claim and at every line."""
    groups = {a.group_code for s in payment.service_payments for a in s.adjustments} | {
        a.group_code for a in payment.adjustments}
    assert groups <= {"CO", "PR", "OA", "PI"}
    assert payment.charge == payment.paid + sum(_adjusted(payment, g) for g in groups)
    for service in payment.service_payments:
        assert service.charge == service.paid + sum(a.amount for a in service.adjustments)
        assert service.paid >= 0 and all(a.amount > 0 for a in service.adjustments)
    responsibility = _adjusted(payment, "PR")
    assert (payment.patient_responsibility or 0) == responsibility


# --------------------------------------------------------------------- whole answers


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_answers_pass_pyx12_and_account_for_every_claim(seed: int,
                                                        claim_type: ClaimType) -> None:
    simulation = generate(100, seed, claim_type)
    for profile in DEFAULT_PAYERS:
        claims = [c for c in simulation.claims if c.payer.payer_id == profile.payer_id]
        if not claims:
            continue
        simulator = PayerSimulator(profile, seed, behaviour=PayerBehaviour(**NO_HARD_CASES))
        response = _respond(simulator, _submission(claims, profile))
        for data in (response.ack_999, response.ack_277ca, response.remittance_835):
            assert data is not None
            assert pyx12_errors(data.decode()) == []

        (group,) = _acks(response.ack_999)
        assert (group.status, group.sets_accepted) == ("A", 1)

        statuses = _statuses(response)
        by_pcn = {c.patient_control_number: c for c in claims}
        # Each claim exactly once (the 277CA lists them by billing provider).
        assert sorted(s.patient_control_number for s in statuses) == sorted(by_pcn)
        accepted = {s.patient_control_number: s for s in statuses if s.accepted}
        assert all(s.rejected for s in statuses if not s.accepted)
        assert all(s.payer_claim_control_number for s in accepted.values())
        assert len({s.payer_claim_control_number for s in accepted.values()}) == len(accepted)

        payments = _payments(response)
        assert set(payments) == set(accepted)  # rejected claims are not in the 835
        remittances = _remittances(response)
        assert len({r.trace_number for r in remittances}) == len(remittances)
        assert len({r.payee.id for r in remittances}) == len(remittances)  # one per payee
        for remittance in remittances:
            assert balance_problems(remittance) == []
            assert remittance.payment_date == RECEIVED
            assert remittance.payer.technical_contact is not None
            assert remittance.payer.address is not None
            assert remittance.total_paid == sum(c.paid for c in remittance.claims)
        for pcn, payment in payments.items():
            claim = by_pcn[pcn]
            _check_claim_arithmetic(payment)
            assert payment.charge == claim.total_charge
            assert payment.payer_claim_control_number == (
                accepted[pcn].payer_claim_control_number)
            assert payment.claim_filing_indicator in CLP06_CODES
            expected = EXPECTED_CLP06[profile.payer_id]
            if claim_type is ClaimType.INSTITUTIONAL:
                expected = INSTITUTIONAL_CLP06.get(profile.payer_id, expected)
            assert payment.claim_filing_indicator == expected
            assert (payment.facility_code, payment.frequency_code) == (
                claim.facility_code, claim.frequency_code)
            assert [s.line_control_number for s in payment.service_payments] == [
                ln.line_control_number for ln in claim.service_lines]
            if payment.status_code == "4":
                assert payment.paid == 0
                assert all(a.group_code == "CO" and a.reason_code not in ("45", "")
                           for s in payment.service_payments for a in s.adjustments)
            else:
                assert payment.status_code == "1"
        assert response.claims_accepted == len(accepted)
        assert response.claims_rejected == len(statuses) - len(accepted)
        assert response.claims_paid + response.claims_denied == len(payments)
        assert response.paid_total == sum(r.total_paid for r in remittances)
        assert response.billed_total == sum(p.charge for p in payments.values())


def test_the_kinds_of_answer_use_real_codes() -> None:
    """With high rates, every kind of answer shows up, each with its real codes."""
    behaviour = PayerBehaviour(rejection_rate=0.15, denial_rate=0.2, partial_rate=0.5)
    profile = _profile("SIMC1")
    claims = _claims(31, ClaimType.PROFESSIONAL, "SIMC1", n=400)
    response = _respond(PayerSimulator(profile, 5, behaviour=behaviour),
                        _submission(claims, profile))
    assert pyx12_errors(response.remittance_835.decode()) == []  # type: ignore[union-attr]

    statuses = _statuses(response)
    codes = {(s.category_code, s.status_code, s.entity_code) for c in statuses
             for s in c.statuses}
    assert codes == {("A2", "20", ""), ("A3", "33", "IL")}
    assert 0 < response.claims_rejected < len(claims) // 4

    payments = list(_payments(response).values())
    denied = [p for p in payments if p.status_code == "4"]
    allowed_denials = {(d.reason_code, d.remark_codes) for d in behaviour.denials}
    assert denied
    for payment in denied:
        found = {(a.reason_code, s.remark_codes) for s in payment.service_payments
                 for a in s.adjustments}
        assert len(found) == 1 and found <= allowed_denials
    line_denials = {(d.reason_code, d.remark_codes) for d in behaviour.line_denials}
    partial = [p for p in payments if p.status_code == "1" and any(
        s.paid == 0 and any(a.group_code == "CO" and a.reason_code != "45"
                            for a in s.adjustments) for s in p.service_payments)]
    assert partial and response.claims_with_denied_lines == len(partial)
    for payment in partial:
        cut = [s for s in payment.service_payments if s.remark_codes]
        assert len(cut) == 1
        assert {(a.reason_code, cut[0].remark_codes) for a in cut[0].adjustments} <= (
            line_denials)
        assert payment.service_payments[0] is not cut[0]  # the first line is never cut
    reasons = {(a.group_code, a.reason_code) for p in payments if p.status_code == "1"
               for s in p.service_payments for a in s.adjustments}
    assert {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3")} <= reasons


# --------------------------------------------------------------------- the hard cases


HARD_CASES = PayerBehaviour(rejection_rate=0.0, reversal_rate=0.2, provider_adjustment_rate=1.0,
                            unlined_rate=0.4, secondary_rate=0.25, duplicate_payment_rate=0.0,
                            unknown_claim_rate=0.0)


def _check_secondary(payment: ClaimPayment) -> None:
    """CLP02 2: the primary's payment as OA-23, the patient left only a copay."""
    assert payment.status_code == "2"
    adjustments = payment.adjustments + [a for s in payment.service_payments
                                         for a in s.adjustments]
    assert {a.reason_code for a in adjustments if a.group_code == "PR"} <= {"3"}
    assert {a.reason_code for a in adjustments if a.group_code == "OA"} <= {"23"}
    for service in payment.service_payments:
        if service.allowed_amount is None:  # a line denied (bundled)
            assert service.paid == 0 and {a.group_code for a in service.adjustments} == {"CO"}
            continue
        assert {(a.group_code, a.reason_code) for a in service.adjustments} <= {
            ("CO", "45"), ("OA", "23"), ("PR", "3")}
        primary = sum((a.amount for a in service.adjustments if a.group_code == "OA"), ZERO)
        copay = sum((a.amount for a in service.adjustments if a.group_code == "PR"), ZERO)
        assert service.paid + primary + copay == service.allowed_amount


def _check_provider_adjustments(remittance: Remittance,
                                seen: defaultdict[str, int]) -> None:
    claims_paid = sum(c.paid for c in remittance.claims)
    icns = {c.payer_claim_control_number for c in remittance.claims}
    kinds = [p.reason_code for p in remittance.provider_adjustments]
    assert kinds in ([], ["WO"], ["L6"], ["WO", "FB"])
    assert all(p.provider_id == remittance.payee.id and p.reference
               and p.fiscal_period_end.year == remittance.payment_date.year  # type: ignore[union-attr]
               for p in remittance.provider_adjustments)
    if kinds == ["L6"]:  # interest on a claim of this remittance: paid on top
        (interest,) = remittance.provider_adjustments
        assert interest.amount < 0 and interest.reference in icns
        assert remittance.total_paid == claims_paid - interest.amount > claims_paid
    elif kinds == ["WO"]:  # an earlier overpayment recovered from this payment
        (recovery,) = remittance.provider_adjustments
        assert 0 < recovery.amount < claims_paid and recovery.reference not in icns
        assert remittance.total_paid == claims_paid - recovery.amount
    elif kinds == ["WO", "FB"]:  # more to recover than paid: the rest carried forward
        recovery, forward = remittance.provider_adjustments
        assert recovery.amount > claims_paid > 0 > forward.amount
        assert recovery.amount + forward.amount == claims_paid
        assert forward.reference == recovery.reference
        assert (remittance.total_paid, remittance.payment_method) == (0, "NON")
    else:
        assert claims_paid <= 0 or remittance.total_paid == claims_paid
    for kind in kinds:
        seen[kind] += 1


@pytest.mark.parametrize("seed", [41, 42, 43, 44])
def test_hard_cases_balance_and_pass_pyx12(seed: int) -> None:
    seen: defaultdict[str, int] = defaultdict(int)
    simulation = generate(240, seed)
    for profile, claim_type in itertools.product(DEFAULT_PAYERS, ClaimType):
        claims = [c for c in simulation.claims if c.payer.payer_id == profile.payer_id
                  and c.claim_type is claim_type]
        if not claims:
            continue
        by_pcn = {c.patient_control_number: c for c in claims}
        response = _respond(PayerSimulator(profile, seed, behaviour=HARD_CASES),
                            _submission(claims, profile))
        assert response.remittance_835 is not None
        assert pyx12_errors(response.remittance_835.decode()) == []
        remittances = _remittances(response)
        for remittance in remittances:
            assert balance_problems(remittance) == []
            _check_provider_adjustments(remittance, seen)
            reversed_at = [i for i, c in enumerate(remittance.claims) if c.is_reversal]
            originals = {c.patient_control_number for c in remittance.claims[
                :reversed_at[0] if reversed_at else None]}
            # Reversals and corrections come after the claims paid for the first time.
            assert len(originals) == (reversed_at[0] if reversed_at else len(
                remittance.claims))
            seen["reversal"] += len(reversed_at)
        payments = _payments(response)  # checks each reversal and its correction
        assert set(payments) <= set(by_pcn)
        assert response.claims_reversed == sum(
            c.is_reversal for r in remittances for c in r.claims)
        assert response.provider_adjustments == sum(
            len(r.provider_adjustments) for r in remittances)
        assert response.claims_paid + response.claims_denied == len(payments)
        for pcn, payment in payments.items():
            _check_claim_arithmetic(payment)
            claim = by_pcn[pcn]
            if not payment.service_payments:  # adjudicated at claim level
                assert claim.claim_type is ClaimType.INSTITUTIONAL
                assert payment.adjustments and payment.statement_from is not None
                assert payment.charge - payment.paid == _adjusted(payment)
                seen["unlined"] += 1
            else:
                assert not payment.adjustments
            if payment.status_code == "2":
                _check_secondary(payment)
                seen["secondary"] += 1
            else:
                assert payment.status_code in ("1", "4")
    assert {"reversal", "unlined", "secondary", "WO", "L6", "FB"} <= set(seen), dict(seen)


def test_a_claim_paid_twice_and_a_claim_never_sent_come_after_the_others() -> None:
    profile = _profile("SIMC1")
    claims = _claims(47, ClaimType.PROFESSIONAL, "SIMC1", n=150)
    behaviour = PayerBehaviour(rejection_rate=0.0, **{
        **NO_HARD_CASES, "duplicate_payment_rate": 0.2, "unknown_claim_rate": 0.2})
    response = _respond(PayerSimulator(profile, 47, behaviour=behaviour),
                        _submission(claims, profile))
    assert pyx12_errors(response.remittance_835.decode()) == []  # type: ignore[union-attr]
    sent = {c.patient_control_number for c in claims}
    first_time: list[str] = []
    extras: list[ClaimPayment] = []
    for remittance in _remittances(response):  # one per payee: its claims, then extras
        numbers = [c.patient_control_number for c in remittance.claims]
        end = next((i for i, n in enumerate(numbers) if n not in sent or n in numbers[:i]),
                   len(numbers))
        first_time += numbers[:end]
        extras += remittance.claims[end:]
    assert sorted(first_time) == sorted(sent)
    unknown = [c for c in extras if c.patient_control_number not in sent]
    assert len(unknown) == response.unknown_claims > 0
    assert len(set(c.patient_control_number for c in unknown)) == len(unknown)
    assert len(extras) - len(unknown) == response.duplicate_payments > 0
    payments = _payments(response)  # checks each second payment against the first
    assert set(payments) == sent | {c.patient_control_number for c in unknown}
    assert response.claims_paid + response.claims_denied == len(claims)
    assert all(balance_problems(r) == [] for r in _remittances(response))


def test_a_secondary_claim_is_processed_as_secondary_whatever_the_rates() -> None:
    profile = _profile("SIMB1")
    claims = _claims(45, ClaimType.PROFESSIONAL, "SIMB1", n=120)
    for claim in claims:
        claim.subscriber.payer_responsibility = "S"
    behaviour = PayerBehaviour(rejection_rate=0.0, denial_rate=0.0, partial_rate=0.0,
                               **NO_HARD_CASES)
    response = _respond(PayerSimulator(profile, 45, behaviour=behaviour),
                        _submission(claims, profile))
    assert pyx12_errors(response.remittance_835.decode()) == []  # type: ignore[union-attr]
    payments = _payments(response)
    assert len(payments) == len(claims)
    for payment in payments.values():
        _check_claim_arithmetic(payment)
        _check_secondary(payment)
    assert sum(_adjusted(p, "OA") for p in payments.values()) > 0


def test_the_default_behaviour_shows_every_hard_case_on_a_day() -> None:
    """With the default (small) rates, a demo-sized day has some of each hard case."""
    simulation = generate(2000, 46)
    counts: defaultdict[str, int] = defaultdict(int)
    for profile, claim_type in itertools.product(DEFAULT_PAYERS, ClaimType):
        claims = [c for c in simulation.claims if c.payer.payer_id == profile.payer_id
                  and c.claim_type is claim_type]
        if not claims:
            continue
        response = _respond(PayerSimulator(profile, 46), _submission(claims, profile))
        remittances = _remittances(response)
        assert all(balance_problems(r) == [] for r in remittances)
        counts["reversal"] += response.claims_reversed
        counts["plb"] += response.provider_adjustments
        payments = _payments(response).values()
        counts["unlined"] += sum(not p.service_payments for p in payments)
        counts["secondary"] += sum(p.status_code == "2" for p in payments)
        counts["paid twice"] += response.duplicate_payments
        counts["not ours"] += response.unknown_claims
        counts["claims"] += len(payments) - response.unknown_claims
    assert all(counts[k] > 0 for k in ("reversal", "plb", "unlined", "secondary", "paid twice",
                                       "not ours")), dict(counts)
    rare = ("reversal", "secondary", "paid twice", "not ours")
    assert sum(counts[k] for k in rare) < counts["claims"] // 10, dict(counts)


def test_seeded_defects_are_rejected_or_denied_with_their_reason() -> None:
    behaviour = PayerBehaviour(rejection_rate=0.0, denial_rate=0.0, partial_rate=0.0,
                               **NO_HARD_CASES)
    profile = _profile("SIMA1")
    simulation = generate(300, 8, ClaimType.PROFESSIONAL, defect_rate=0.3,
                          defects=("NPI-01", "BAL-01", "DT-01", "DUP-01"))
    claims = [c for c in simulation.claims if c.payer.payer_id == "SIMA1"]
    response = _respond(PayerSimulator(profile, 3, behaviour=behaviour),
                        _submission(claims, profile))
    statuses = {s.patient_control_number: s for s in _statuses(response)}
    payments = _payments(response)
    expected = {"NPI-01": "562", "BAL-01": "400", "DT-01": "187"}
    seen = set()
    for claim in claims:
        pcn = claim.patient_control_number
        tags = simulation.defects.get(pcn, ())
        status = statuses[pcn]
        if set(tags) & set(expected):
            (info,) = status.statuses
            assert info.category_code == "A7"
            assert info.status_code in {expected[t] for t in tags}
            assert pcn not in payments
            seen.update(tags)
        elif tags == ("DUP-01",):
            assert status.accepted
            assert payments[pcn].status_code == "4"
            assert {(a.group_code, a.reason_code) for s in payments[pcn].service_payments
                    for a in s.adjustments} == {("CO", "18")}
            seen.add("DUP-01")
        else:
            assert status.accepted and payments[pcn].status_code == "1"
    assert seen == {"NPI-01", "BAL-01", "DT-01", "DUP-01"}


def test_unknown_member_pattern_rejects_and_leaves_nothing_to_pay() -> None:
    profile = _profile("SIMC1")
    claims = _claims(4, ClaimType.PROFESSIONAL, "SIMC1", n=60)
    behaviour = PayerBehaviour(unknown_member_pattern="TCX[0-9]+")
    response = _respond(PayerSimulator(profile, 4, behaviour=behaviour),
                        _submission(claims, profile))
    assert all(c.subscriber.member_id.startswith("TCX") for c in claims)
    statuses = _statuses(response)
    assert len(statuses) == len(claims)
    assert all([(s.category_code, s.status_code, s.entity_code) for s in c.statuses]
               == [("A3", "33", "IL")] and c.action_code == "U" for c in statuses)
    assert response.remittance_835 is None
    assert (response.claims_accepted, response.claims_rejected) == (0, len(claims))
    assert pyx12_errors(response.ack_277ca.decode()) == []  # type: ignore[union-attr]


def test_late_claims_are_denied_for_timely_filing() -> None:
    profile = _profile("SIMB1")
    claims = _claims(6, ClaimType.PROFESSIONAL, "SIMB1", n=200)
    behaviour = PayerBehaviour(rejection_rate=0.0, denial_rate=0.0, timely_filing_days=30,
                               **NO_HARD_CASES)
    response = _respond(PayerSimulator(profile, 6, behaviour=behaviour),
                        _submission(claims, profile))
    payments = _payments(response)
    late = 0
    for claim in claims:
        payment = payments[claim.patient_control_number]
        first = min(ln.service_date for ln in claim.service_lines if ln.service_date)
        reasons = {a.reason_code for s in payment.service_payments for a in s.adjustments}
        if (RECEIVED - first).days > 30:
            late += 1
            assert payment.status_code == "4" and reasons == {"29"}
        else:
            assert payment.status_code == "1" and "29" not in reasons
    assert 0 < late < len(claims)


def test_every_claim_denied_gives_a_notification_only_835() -> None:
    profile = _profile("SIMD1")
    claims = _claims(9, ClaimType.INSTITUTIONAL, "SIMD1", n=120)
    behaviour = PayerBehaviour(rejection_rate=0.0, denial_rate=1.0,
                               denials=(Denial("96", ("N130",)),))
    response = _respond(PayerSimulator(profile, 9, behaviour=behaviour),
                        _submission(claims, profile))
    assert pyx12_errors(response.remittance_835.decode()) == []  # type: ignore[union-attr]
    (remittance,) = _remittances(response)
    assert (remittance.handling_code, remittance.total_paid, remittance.payment_method) == (
        "H", 0, "NON")
    assert remittance.sender_dfi_id == ""
    assert response.claims_denied == len(claims) and response.paid_total == 0
    for payment in remittance.claims:
        assert payment.status_code == "4"
        assert all(s.remark_codes == ("N130",) for s in payment.service_payments)


def test_patient_share_follows_the_plan_rules() -> None:
    plan = PlanRules(Decimal("300.00"), 1.0, Decimal("0.25"), Decimal("30.00"))  # ties: .5 cent
    behaviour = PayerBehaviour(rejection_rate=0.0, denial_rate=0.0, partial_rate=0.0,
                               plans={}, default_plan=plan, **NO_HARD_CASES)
    profile = _profile("SIMC1")
    claims = _claims(12, ClaimType.PROFESSIONAL, "SIMC1", n=200)
    response = _respond(PayerSimulator(profile, 12, behaviour=behaviour),
                        _submission(claims, profile))
    by_pcn = {c.patient_control_number: c for c in claims}
    copays = 0
    for pcn, payment in _payments(response).items():
        claim = by_pcn[pcn]
        deductible = sum(a.amount for s in payment.service_payments for a in s.adjustments
                         if (a.group_code, a.reason_code) == ("PR", "1"))
        assert 0 < deductible <= plan.deductible
        em_lines = [i for i, ln in enumerate(claim.service_lines)
                    if ln.procedure_code.startswith("99")]
        for i, service in enumerate(payment.service_payments):
            owed = {a.reason_code: a.amount for a in service.adjustments
                    if a.group_code == "PR"}
            allowed = service.allowed_amount
            assert allowed is not None and allowed <= service.charge
            rest = allowed - owed.get("1", 0) - owed.get("3", 0)
            assert owed.get("2", 0) == (rest * plan.coinsurance).quantize(CENT, ROUND_HALF_UP)
            if "3" in owed:
                copays += 1
                assert i == em_lines[0] and owed["3"] <= plan.copay
            assert service.paid == rest - owed.get("2", 0)
    assert copays


def test_institutional_remittance_carries_the_claim_period() -> None:
    profile = _profile("SIMA1")
    claims = _claims(14, ClaimType.INSTITUTIONAL, "SIMA1", n=80)
    response = _respond(PayerSimulator(profile, 14), _submission(claims, profile))
    payments = _payments(response)
    statuses = {s.patient_control_number: s for s in _statuses(response)}
    assert payments
    for claim in claims:
        status = statuses[claim.patient_control_number]
        assert status.bill_type == claim.facility_code + claim.frequency_code
        payment = payments.get(claim.patient_control_number)
        if payment is not None:
            assert (payment.statement_from, payment.statement_to) == (
                claim.statement_from, claim.statement_to)
            assert payment.received_date == RECEIVED


# --------------------------------------------------------------------- determinism


def test_same_inputs_give_the_same_bytes() -> None:
    profile = _profile("SIMC1")
    data = _submission(_claims(21, ClaimType.INSTITUTIONAL, "SIMC1", n=150), profile)
    first = _respond(PayerSimulator(profile, 21), data)
    again = _respond(PayerSimulator(profile, 21), data)
    assert first == again
    other = _respond(PayerSimulator(profile, 22), data)
    assert other.remittance_835 != first.remittance_835
    assert other.ack_999 == first.ack_999  # syntax does not depend on the seed


def test_a_claim_gets_the_same_answer_whatever_else_is_in_the_file() -> None:
    profile = _profile("SIMB1")
    claims = _claims(23, ClaimType.PROFESSIONAL, "SIMB1", n=200)
    simulator = PayerSimulator(profile, 23)
    whole = _payments(_respond(simulator, _submission(claims, profile)))
    half = _payments(_respond(simulator, _submission(claims[::2], profile)))
    for pcn, payment in half.items():
        mine, theirs = whole[pcn], payment
        assert (mine.status_code, mine.paid, mine.service_payments) == (
            theirs.status_code, theirs.paid, theirs.service_payments)


def test_payment_date_and_trace_follow_the_behaviour() -> None:
    profile = _profile("SIMH1")
    data = _submission(_claims(25, ClaimType.PROFESSIONAL, "SIMH1", n=200), profile)
    response = _respond(PayerSimulator(profile, 25, behaviour=PayerBehaviour(
        payment_lag_days=14, payment_method="CHK")), data)
    assert pyx12_errors(response.remittance_835.decode()) == []  # type: ignore[union-attr]
    for remittance in _remittances(response):
        assert remittance.payment_date == RECEIVED + timedelta(days=14)
        assert remittance.payment_method in ("CHK", "NON")
        assert remittance.originator_id.startswith("100") and len(
            remittance.originator_id) == 10


# --------------------------------------------------------------------- the 999


def test_an_unreadable_set_is_rejected_and_the_others_are_answered() -> None:
    profile = _profile("SIMC1")
    claims = _claims(27, ClaimType.PROFESSIONAL, "SIMC1", n=100)
    text = _submission(claims, profile, per_set=5).decode()
    segments = text.split("~\n")
    sets = [i for i, s in enumerate(segments) if s.startswith("ST*")]
    second = next(i for i, s in enumerate(segments) if s.startswith("CLM*") and i > sets[1])
    elements = segments[second].split("*")
    elements[2] = "12X.00"  # CLM02 is not a number
    segments[second] = "*".join(elements)
    response = _respond(PayerSimulator(profile, 27), "~\n".join(segments).encode())
    assert pyx12_errors(response.ack_999.decode()) == []
    (group,) = _acks(response.ack_999)
    assert group.status == "P" and group.sets_received == len(sets)
    assert group.sets_accepted == len(sets) - 1
    rejected = group.set_acks[1]
    assert (rejected.status, rejected.error_codes) == ("R", ("5",))
    (segment,) = rejected.segment_errors
    assert (segment.segment_id, segment.segment_position, segment.loop_id,
            segment.error_code) == ("CLM", second - sets[1] + 1, "2300", "8")
    assert [(e.element_position, e.error_code, e.bad_data) for e in
            segment.element_errors] == [(2, "6", "")]
    lost = {c.patient_control_number for c in claims[5:10]}  # the second set's claims
    answered = {s.patient_control_number for s in _statuses(response)}
    assert answered == {c.patient_control_number for c in claims} - lost
    assert response.sets_rejected == 1


def test_an_unreadable_837_gets_a_rejecting_999_and_nothing_else() -> None:
    profile = _profile("SIMD1")
    claims = _claims(29, ClaimType.PROFESSIONAL, "SIMD1", n=40)
    text = _submission(claims, profile).decode()
    broken = text.replace("~\nCLM*", "~\nZZZ*1~\nCLM*", 1)  # a segment no 837 has
    response = _respond(PayerSimulator(profile, 29), broken.encode())
    assert response.ack_277ca is None and response.remittance_835 is None
    assert pyx12_errors(response.ack_999.decode()) == []
    (group,) = _acks(response.ack_999)
    assert (group.status, group.sets_received, group.sets_accepted) == ("R", 1, 0)
    (segment,) = group.set_acks[0].segment_errors
    assert (segment.segment_id, segment.error_code) == ("ZZZ", "2")
    assert response.summary()["sets_rejected"] == 1


def test_a_truncated_837_is_rejected_whole() -> None:
    profile = _profile("SIMD1")
    claims = _claims(29, ClaimType.PROFESSIONAL, "SIMD1", n=80)
    text = _submission(claims, profile, per_set=4).decode()
    cut = text[: text.index("~\nCLM*", text.index("ST*837*0002")) + 2]  # mid second set
    response = _respond(PayerSimulator(profile, 29), cut.encode())
    assert response.ack_277ca is None and response.remittance_835 is None
    assert pyx12_errors(response.ack_999.decode()) == []
    (group,) = _acks(response.ack_999)
    assert group.status == "R"
    assert [(a.status, a.error_codes) for a in group.set_acks] == [("R", ()),
                                                                   ("R", ("2",))]


def test_a_file_without_a_group_cannot_be_acknowledged() -> None:
    simulator = PayerSimulator(("ANY PAYER", "ANY01"), 1)
    with pytest.raises(X12Error):
        _respond(simulator, b"this is not an interchange")


# --------------------------------------------------------------------- configuration


def test_fee_schedule_prices_by_code_then_revenue_code_then_share_of_charge() -> None:
    schedule = FeeSchedule({"99213": Decimal("80.00")}, {"0300": Decimal("20.00")},
                           Decimal("0.55"))
    line = ServiceLine("99213", Decimal("150.00"), Decimal("2"))
    assert schedule.allowed(line) == Decimal("150.00")  # capped at the charge
    line.units = Decimal("1")
    assert schedule.allowed(line) == Decimal("80.00")
    lab = ServiceLine("", Decimal("90.00"), Decimal("3"), revenue_code="0300")
    assert schedule.allowed(lab) == Decimal("60.00")
    other = ServiceLine("12345", Decimal("10.05"), Decimal("1"))
    assert schedule.allowed(other) == Decimal("5.53")  # 5.5275 rounded half up
    assert DEFAULT_FEE_SCHEDULE.allowed(ServiceLine("99213", Decimal("1.00"),
                                                    Decimal("1"))) == Decimal("1.00")


@pytest.mark.parametrize("options", [
    {"rejection_rate": 1.5}, {"denial_rate": -0.1}, {"payment_method": "WIRE"},
    {"denials": ()}, {"timely_filing_days": 0}, {"unknown_member_pattern": "("},
    {"reversal_rate": 2.0}, {"secondary_rate": -1.0}, {"provider_adjustments": ()},
    {"provider_adjustments": ("WO", "CS")},
])
def test_behaviour_refuses_nonsense(options: dict) -> None:
    with pytest.raises(ValueError):
        PayerBehaviour(**options)


def test_a_payer_given_by_name_and_id_answers_and_the_summary_has_no_phi() -> None:
    profile = _profile("SIMC1")
    claims = _claims(33, ClaimType.PROFESSIONAL, "SIMC1", n=60)
    response = _respond(PayerSimulator(("PLAIN TEST PAYER", "PLAIN01"), 33),
                        _submission(claims, profile))
    assert pyx12_errors(response.remittance_835.decode()) == []  # type: ignore[union-attr]
    (remittance, *_) = _remittances(response)
    assert (remittance.payer.name, remittance.payer.payer_identifier) == (
        "PLAIN TEST PAYER", "PLAIN01")
    summary = str(response.summary())
    for claim in claims:
        for value in (claim.patient_control_number, claim.subscriber.member_id,
                      claim.subscriber.last_name):
            assert value not in summary


def test_a_wrong_segment_count_is_accepted_with_the_error_noted() -> None:
    profile = _profile("SIMB1")
    claims = _claims(35, ClaimType.PROFESSIONAL, "SIMB1", n=40)
    text = _submission(claims, profile).decode()
    start = text.index("~\nSE*") + 2
    end = text.index("*", start + 3)
    wrong = text[:start + 3] + str(int(text[start + 3:end]) + 1) + text[end:]
    response = _respond(PayerSimulator(profile, 35), wrong.encode())
    assert pyx12_errors(response.ack_999.decode()) == []
    (group,) = _acks(response.ack_999)
    assert (group.status, group.sets_accepted) == ("E", 1)
    assert [(a.status, a.error_codes) for a in group.set_acks] == [("E", ("4",))]
    assert response.claims_accepted + response.claims_rejected == len(claims)
