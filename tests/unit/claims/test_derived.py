"""Secondary, tertiary, replacement and void claims: built from simulated 835s, written,
read back equal, and validated by pyx12 with zero errors (837P and 837I, several seeds).

All data is synthetic (``revcycle.simulator``); assertion messages carry counts and rule
names only.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from revcycle.claims.derived import (
    CLAIM_RULE,
    LINE_RULE,
    CrossoverClaim,
    DerivedClaimError,
    MissingPayerClaimNumber,
    UnbalancedPriorPayment,
    cob_balance_errors,
    replacement_claim,
    secondary_claim,
    void_claim,
)
from revcycle.model.claim import Claim, ClaimBatch, ClaimType, Receiver, Submitter, Subscriber
from revcycle.model.remittance import Adjustment, ClaimPayment, Entity, Remittance
from revcycle.simulator import DEFAULT_AS_OF, DEFAULT_PAYERS, PayerProfile, generate
from revcycle.simulator.payer import PayerBehaviour, PayerSimulator
from revcycle.x12.reader import read
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

SUBMITTER = Submitter("SIM BILLING SERVICES", "SIMBILL01", "BILLING DESK", "2175550100")
# One CLP per claim, processed as the SBR01 says, no reversals: the decisions to build on.
BEHAVIOUR = PayerBehaviour(rejection_rate=0.0, reversal_rate=0.0, secondary_rate=0.0,
                           duplicate_payment_rate=0.0, unknown_claim_rate=0.0,
                           provider_adjustment_rate=0.0)
PRIMARY, SECOND, THIRD = DEFAULT_PAYERS[0], DEFAULT_PAYERS[1], DEFAULT_PAYERS[2]


def _write(claims: list[Claim], profile: PayerProfile) -> str:
    header = InterchangeHeader(Party("SIMBILL01"), Party(profile.payer_id),
                               created=datetime(2026, 11, 2, 9, 30))
    return write_837(claims, header, CounterControlNumbers(interchange=77), SUBMITTER,
                     Receiver(profile.name, profile.payer_id)).text


def _reread(text: str) -> list[Claim]:
    return [c for batch in read(text.encode()).bodies(ClaimBatch) for c in batch.claims]


def _adjudicate(claims: list[Claim], profile: PayerProfile, seed: int, text: str
                ) -> tuple[dict[str, ClaimPayment], date]:
    simulator = PayerSimulator(profile, seed, behaviour=BEHAVIOUR)
    response = simulator.respond(text.encode(), received=DEFAULT_AS_OF,
                                 control_numbers=CounterControlNumbers(interchange=900))
    assert response.remittance_835 is not None
    remittances = read(response.remittance_835).bodies(Remittance)
    payments = {p.patient_control_number: p for r in remittances for p in r.claims}
    paid_on = remittances[0].payment_date
    assert paid_on is not None
    assert set(payments) <= {c.patient_control_number for c in claims}
    return payments, paid_on


def _subscriber(profile: PayerProfile, number: int) -> Subscriber:
    return Subscriber("SYNTHCOB", "MEMBER", f"{profile.payer_id}X{number:06d}",
                      date(1970, 1, 1), "F", group_number="GRP01",
                      claim_filing_indicator="CI")


def _claims(seed: int, claim_type: ClaimType) -> list[Claim]:
    simulation = generate(60, seed, claim_type)
    return [c for c in simulation.claims if c.payer.payer_id == PRIMARY.payer_id][:12]


def _next(claims: list[Claim], payments: dict[str, ClaimPayment], paid_on: date,
          prior: PayerProfile, nxt: PayerProfile, responsibility: str) -> list[Claim]:
    built = []
    for number, claim in enumerate(claims):
        payment = payments.get(claim.patient_control_number)
        if payment is None:
            continue
        built.append(secondary_claim(claim, payment, prior.payer(), nxt.payer(),
                                     _subscriber(nxt, number), adjudication_date=paid_on,
                                     responsibility=responsibility))
    return built


@pytest.mark.parametrize("claim_type", [ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL],
                         ids=["837P", "837I"])
@pytest.mark.parametrize("seed", [3, 17, 41])
def test_secondary_tertiary_replacement_void_pass_pyx12(seed: int,
                                                         claim_type: ClaimType) -> None:
    claims = _claims(seed, claim_type)
    assert claims
    first = _write(claims, PRIMARY)
    payments, paid_on = _adjudicate(claims, PRIMARY, seed, first)

    secondaries = _next(claims, payments, paid_on, PRIMARY, SECOND, "S")
    assert secondaries
    for claim in secondaries:
        assert claim.subscriber.payer_responsibility == "S"
        assert [o.payer.payer_id for o in claim.other_payers] == [PRIMARY.payer_id]
        assert cob_balance_errors(claim) == []
    text = _write(secondaries, SECOND)
    assert pyx12_errors(text) == []
    assert _reread(text) == secondaries  # the 2320/2330/2430 loops are read into the model

    # The second payer adjudicates as secondary; the tertiary carries both decisions.
    second_payments, second_paid_on = _adjudicate(secondaries, SECOND, seed, text)
    tertiaries = _next(secondaries, second_payments, second_paid_on, SECOND, THIRD, "T")
    assert tertiaries
    for claim in tertiaries:
        assert claim.subscriber.payer_responsibility == "T"
        assert [o.responsibility for o in claim.other_payers] == ["P", "S"]
        assert cob_balance_errors(claim) == []
    text = _write(tertiaries, THIRD)
    assert pyx12_errors(text) == []
    assert _reread(text) == tertiaries

    numbered = [(c, payments[c.patient_control_number].payer_claim_control_number)
                for c in claims if c.patient_control_number in payments]
    for build, code in ((replacement_claim, "7"), (void_claim, "8")):
        derived = [build(claim, number) for claim, number in numbered]
        assert {c.frequency_code for c in derived} == {code}
        text = _write(derived, PRIMARY)
        assert pyx12_errors(text) == []
        assert [c.original_claim_reference for c in _reread(text)] == [n for _, n in numbered]


# -- the rules, one at a time on one claim ------------------------------------------------


@pytest.fixture(scope="module")
def decided() -> tuple[Claim, ClaimPayment, date]:
    """A professional claim with two or more lines and the primary's paid CLP for it."""
    claims = [c for c in _claims(5, ClaimType.PROFESSIONAL) if len(c.service_lines) > 1]
    payments, paid_on = _adjudicate(claims, PRIMARY, 5, _write(claims, PRIMARY))
    claim = next(c for c in claims if c.patient_control_number in payments
                 and payments[c.patient_control_number].service_payments)
    return claim, payments[claim.patient_control_number], paid_on


def _build(claim: Claim, payment: ClaimPayment, paid_on: date) -> Claim:
    return secondary_claim(claim, payment, PRIMARY.payer(), SECOND.payer(),
                           _subscriber(SECOND, 1), adjudication_date=paid_on)


def test_secondary_repeats_the_primary_decision(decided) -> None:
    claim, payment, paid_on = decided
    built = _build(claim, payment, paid_on)
    other = built.other_payers[0]
    assert other.paid_amount == payment.paid
    assert other.adjudication_date == paid_on
    assert other.subscriber.member_id == claim.subscriber.member_id
    for line, service in zip(built.service_lines, payment.service_payments, strict=True):
        (adjudication,) = line.adjudications
        assert adjudication.paid == service.paid
        assert adjudication.payer_id == PRIMARY.payer_id
        assert adjudication.adjudication_date == paid_on
        assert [a.amount for a in adjudication.adjustments] == [
            a.amount for a in service.adjustments]
    assert claim.other_payers == [] and all(not ln.adjudications for ln in claim.service_lines)


@pytest.mark.parametrize("status", ["19", "20", "21"])
def test_crossover_gets_no_secondary(decided, status: str) -> None:
    claim, payment, paid_on = decided
    carrier = Entity("2", "SYNTH MEDIGAP", id_qualifier="PI", id="XOVER01")
    forwarded = dataclasses.replace(payment, status_code=status, crossover_carrier=carrier)
    with pytest.raises(CrossoverClaim) as caught:
        _build(claim, forwarded, paid_on)
    assert caught.value.crossover_payer_id == "XOVER01"
    assert "XOVER01" in str(caught.value)


def test_unbalanced_line_is_refused_naming_the_rule(decided) -> None:
    claim, payment, paid_on = decided
    services = list(payment.service_payments)
    services[0] = dataclasses.replace(services[0], paid=services[0].paid + Decimal("0.01"))
    with pytest.raises(UnbalancedPriorPayment) as caught:
        _build(claim, dataclasses.replace(payment, service_payments=services), paid_on)
    assert caught.value.rule == LINE_RULE
    assert caught.value.line_number == 1
    assert str(services[0].paid) not in str(caught.value)


def test_unbalanced_claim_is_refused_naming_the_rule(decided) -> None:
    claim, payment, paid_on = decided
    skewed = dataclasses.replace(payment, paid=payment.paid + Decimal(1))
    with pytest.raises(UnbalancedPriorPayment) as caught:
        _build(claim, skewed, paid_on)
    assert caught.value.rule == CLAIM_RULE
    extra = dataclasses.replace(payment, adjustments=[Adjustment("CO", "45", Decimal(1))])
    with pytest.raises(UnbalancedPriorPayment):
        _build(claim, extra, paid_on)


def test_balance_check_finds_a_broken_rule(decided) -> None:
    built = _build(*decided)
    assert cob_balance_errors(built) == []
    built.service_lines[0].adjudications[0].paid += Decimal(1)
    assert cob_balance_errors(built) == [f"{LINE_RULE} (service line 1)"]
    built.service_lines[0].adjudications[0].paid -= Decimal(1)
    built.other_payers[0].paid_amount += Decimal(1)
    assert cob_balance_errors(built) == [CLAIM_RULE]
    built.other_payers[0].paid_amount = None  # a coverage not adjudicated yet: no rule
    assert cob_balance_errors(built) == []


def test_reversal_and_kept_loops_are_refused(decided) -> None:
    claim, payment, paid_on = decided
    with pytest.raises(DerivedClaimError):
        _build(claim, dataclasses.replace(payment, status_code="22"), paid_on)
    raw = dataclasses.replace(claim, other_segments=(("SBR", "S", "18"),))
    with pytest.raises(DerivedClaimError, match="kept unread"):
        _build(raw, payment, paid_on)


@pytest.mark.parametrize("number", ["", "   "])
def test_replace_and_void_need_the_payer_claim_number(decided, number: str) -> None:
    claim = decided[0]
    for build in (replacement_claim, void_claim):
        with pytest.raises(MissingPayerClaimNumber, match="CLP07"):
            build(claim, number)


def test_replacement_and_void_reference_the_payer_claim(decided) -> None:
    claim = decided[0]
    replaced, voided = replacement_claim(claim, "PCCN123"), void_claim(claim, "PCCN123")
    assert (replaced.frequency_code, replaced.original_claim_reference) == ("7", "PCCN123")
    assert (voided.frequency_code, voided.original_claim_reference) == ("8", "PCCN123")
    assert claim.frequency_code == "1" and claim.original_claim_reference == ""
    secondary = _build(*decided)
    replaced = replacement_claim(secondary, "PCCN123")
    replaced.service_lines[0].adjudications[0].paid += Decimal(1)
    replaced.other_payers[0].paid_amount += Decimal(1)
    assert cob_balance_errors(secondary) == []  # the claim it came from is untouched


def test_tertiary_keeps_a_payer_still_to_come_last(decided) -> None:
    """A secondary claim listing the tertiary coverage (no AMT*D) keeps it after the
    adjudicated payer, and drops the 2320 of the payer it is sent to."""
    claim, payment, paid_on = decided
    built = _build(claim, payment, paid_on)
    to_come = dataclasses.replace(built.other_payers[0], responsibility="T", paid_amount=None,
                                  adjustments=[], remaining_liability=None,
                                  adjudication_date=None)
    to_come.payer = THIRD.payer()
    listed = dataclasses.replace(claim, other_payers=[to_come])
    again = _build(listed, payment, paid_on)
    assert [o.payer.payer_id for o in again.other_payers] == [PRIMARY.payer_id, THIRD.payer_id]
    text = _write([again], SECOND)
    assert pyx12_errors(text) == []
    assert _reread(text) == [again]
    self_listed = dataclasses.replace(claim, other_payers=[
        dataclasses.replace(to_come, payer=SECOND.payer())])
    assert [o.payer.payer_id for o in _build(self_listed, payment, paid_on).other_payers] == [
        PRIMARY.payer_id]


def test_reader_keeps_unusual_cob_loops_raw(decided) -> None:
    """A 2320 the model cannot hold exactly (here AMT*D twice) stays in other_segments and
    is written back as read."""
    built = _build(*decided)
    text = _write([built], SECOND).replace("\n", "")
    amt = next(s for s in text.split("~") if s.startswith("AMT*D*"))
    doubled = text.replace(amt + "~", amt + "~" + amt + "~", 1)
    parts = doubled.split("~")
    se = next(i for i, s in enumerate(parts) if s.startswith("SE*"))
    fields = parts[se].split("*")
    parts[se] = "*".join([fields[0], str(int(fields[1]) + 1), *fields[2:]])
    (claim,) = _reread("~".join(parts))
    assert claim.other_payers == []
    assert sum(1 for s in claim.other_segments if s[:2] == ("AMT", "D")) == 2
    # The 2430 loops are still structured: lines are read on their own.
    assert all(line.adjudications for line in claim.service_lines)
    assert _reread(_write([claim], SECOND)) == [claim]


def test_dates_and_loops_follow_the_tr3_order(decided) -> None:
    built = _build(*decided)
    text = _write([built], SECOND)
    body = text.replace("\n", "").split("CLM*", 1)[1]
    tags = [s.split("*")[0] for s in body.split("~") if s]
    assert tags.index("SBR") < tags.index("OI") < tags.index("LX")
    first_line = tags.index("LX")
    assert tags.index("SVD", first_line) < tags.index("DTP", tags.index("SVD", first_line))
    assert f"DTP*573*D8*{decided[2]:%Y%m%d}" in text
    assert decided[2] + timedelta(days=0) == built.other_payers[0].adjudication_date


def test_svd_takes_the_adjudicated_code_or_the_line_s_own(decided) -> None:
    """The 835's procedure goes in SVD03 when an 837 can carry its qualifier (HC); an NU
    (revenue code) SVC01 leaves the line's own procedure there."""
    claim, payment, paid_on = decided
    services = list(payment.service_payments)
    services[0] = dataclasses.replace(services[0], procedure_code="99999", modifiers=("59",))
    services[1] = dataclasses.replace(services[1], procedure_qualifier="NU",
                                      procedure_code="0450", modifiers=())
    built = _build(claim, dataclasses.replace(payment, service_payments=services), paid_on)
    first, second = (line.adjudications[0] for line in built.service_lines[:2])
    assert (first.procedure_code, first.modifiers) == ("99999", ("59",))
    assert (second.procedure_qualifier, second.procedure_code) == (
        claim.service_lines[1].procedure_qualifier, claim.service_lines[1].procedure_code)
    assert pyx12_errors(_write([built], SECOND)) == []
