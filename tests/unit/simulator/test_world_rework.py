"""The payer world answering corrected, voided and secondary claims as payers do (#14):
a replacement (7) or void (8) reverses the payer's decision on the claim its REF*F8
names, one naming no such claim is rejected by the 277CA; a secondary or tertiary claim
is paid from the prior payers' amounts its COB loops carry, denied CO-22 without them;
the provider generator gives a share of members a second coverage with a world payer."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from revcycle.claims.derived import replacement_claim, secondary_claim, void_claim
from revcycle.model.acknowledgment import ClaimAckReport
from revcycle.model.claim import Claim, ClaimType, CobAdjustment, Receiver, Subscriber
from revcycle.model.remittance import REVERSAL, ClaimPayment, Remittance, balance_problems
from revcycle.simulator import DEFAULT_PAYERS, ClaimFactory
from revcycle.simulator.api_server import ApiServer
from revcycle.simulator.payer import PayerBehaviour
from revcycle.simulator.providers import PayerProfile
from revcycle.simulator.world import PayerWorld, WorldPayer
from revcycle.x12.ack277 import parse_277
from revcycle.x12.envelope import X12Reader
from revcycle.x12.remit835 import parse_835
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

START = date(2026, 11, 2)  # a Monday: every payer's payment run
ZERO = Decimal("0.00")
PROFILES = {p.payer_id: p for p in DEFAULT_PAYERS}
A, B, C = PROFILES["SIMC1"], PROFILES["SIMB1"], PROFILES["SIMH1"]
QUIET = PayerBehaviour(rejection_rate=0.0, denial_rate=0.0, partial_rate=0.0,
                       reversal_rate=0.0, provider_adjustment_rate=0.0, unlined_rate=0.0,
                       secondary_rate=0.0, duplicate_payment_rate=0.0,
                       unknown_claim_rate=0.0)


class World:
    """A world of payers answering through in-process API servers (never started: the
    837s are put where the server keeps what it received)."""

    def __init__(self, *profiles: PayerProfile, seed: int = 5) -> None:
        self.servers = {p.payer_id: ApiServer() for p in profiles}
        self.world = PayerWorld(
            [WorldPayer(p.payer_id, p.name, seed=seed, api=self.servers[p.payer_id],
                        payment_weekday=0, behaviour=QUIET, two_step_rate=0.0,
                        take_back_rate=0.0, pend_rate=0.0, resubmissions=True)
             for p in profiles], START)
        self.sent = 0

    def send(self, payer: PayerProfile, claims: list[Claim], day: date) -> None:
        self.sent += 1
        header = InterchangeHeader(Party("REVCYCLE"), Party(payer.payer_id),
                                   usage_indicator="T", created=datetime.combine(day, time(9)))
        written = write_837(claims, header, CounterControlNumbers(self.sent, self.sent),
                            FACTORY.submitter, Receiver(payer.name, payer.payer_id))
        assert pyx12_errors(written.text) == []
        self.servers[payer.payer_id].received[f"k{self.sent:04d}"] = written.text.encode()

    def answers(self, payer: PayerProfile, kind: str) -> list[bytes]:
        return [data for name, data in self.servers[payer.payer_id].answers.values()
                if name.startswith(kind)]

    def payments(self, payer: PayerProfile) -> list[ClaimPayment]:
        """Every CLP of the payer's delivered ERAs, in order; each ERA balances."""
        found = []
        for data in self.answers(payer, "ERA"):
            for remittance in X12Reader(data, {"835": parse_835}).read().bodies(Remittance):
                assert balance_problems(remittance) == []
                found += remittance.claims
        return found

    def statuses(self, payer: PayerProfile) -> dict[str, list[list[tuple[str, str]]]]:
        """The STC composites (category, status) of each 277CA answer, per patient control
        number, the 837s' own (the first file's 277CA, that is) left out."""
        found: dict[str, list[list[tuple[str, str]]]] = {}
        for data in self.answers(payer, "277CA")[1:]:
            for report in X12Reader(data, {"277": parse_277}).read().bodies(ClaimAckReport):
                for claim in report.claims:
                    found.setdefault(claim.patient_control_number, []).append(
                        [(s.category_code, s.status_code) for s in claim.statuses])
        return found


REJECTED = [("A7", "21"), ("A7", "35")]  # missing or invalid information; claim not found


def statuses_of(world: World, claim: Claim) -> list[list[tuple[str, str]]]:
    return world.statuses(A)[claim.patient_control_number]


FACTORY = ClaimFactory(41, "ALPHA", as_of=START, payers=[A, B, C])  # its submitter


def _claims(n: int, payer: PayerProfile = A) -> list[Claim]:
    """``n`` professional claims of the tenant to ``payer``, each with a second coverage
    (with another of A, B and C), the same in every test."""
    factory = ClaimFactory(41, "ALPHA", as_of=START, payers=[A, B, C], lookback_days=60,
                           cob_rate=1.0)
    claims = [c for c in factory.claims(6 * n, ClaimType.PROFESSIONAL)
              if c.payer.payer_id == payer.payer_id and c.frequency_code == "1"]
    assert len(claims) >= n
    return claims[:n]


def _by_pcn(payments: list[ClaimPayment]) -> dict[str, list[ClaimPayment]]:
    found: dict[str, list[ClaimPayment]] = {}
    for payment in payments:
        found.setdefault(payment.patient_control_number, []).append(payment)
    return found


# -- replacement and void -------------------------------------------------------------


def _paid_originals(world: World, n: int) -> tuple[list[Claim], dict[str, ClaimPayment]]:
    originals = [dataclasses.replace(c, other_payers=[]) for c in _claims(n)]
    world.send(A, originals, START)
    world.world.advance(START + timedelta(days=7))  # the run of the Monday after
    paid = {c.patient_control_number: c for c in world.payments(A)}
    assert set(paid) == {c.patient_control_number for c in originals}
    return originals, paid


def test_a_replacement_reverses_the_original_then_is_adjudicated_afresh() -> None:
    world = World(A)
    originals, paid = _paid_originals(world, 4)
    first, second, third, fourth = originals
    corrected = replacement_claim(first, paid[first.patient_control_number]
                                  .payer_claim_control_number)
    corrected.service_lines[0].charge += Decimal("40.00")
    corrected.total_charge += Decimal("40.00")
    voided = void_claim(second, paid[second.patient_control_number].payer_claim_control_number)
    unknown = replacement_claim(third, "26306999999999")  # no claim of this payer's
    # the same original twice: the first one in the file takes it, the second is refused
    again = void_claim(fourth, paid[fourth.patient_control_number].payer_claim_control_number)
    twice = dataclasses.replace(voided)  # in the same file: the first takes the original
    world.send(A, [corrected, voided, unknown, twice], START + timedelta(days=8))
    world.world.advance(START + timedelta(days=8))
    world.send(A, [again], START + timedelta(days=9))  # waiting for its run, it takes it
    world.send(A, [dataclasses.replace(again)], START + timedelta(days=9))
    world.world.advance(START + timedelta(days=14))
    world.send(A, [dataclasses.replace(again)], START + timedelta(days=15))  # voided since
    world.world.advance(START + timedelta(days=28))

    clps = _by_pcn(world.payments(A))
    old = paid[first.patient_control_number]
    reversal, new = clps[first.patient_control_number][1:]
    assert reversal.status_code == REVERSAL
    assert reversal.payer_claim_control_number == old.payer_claim_control_number
    assert (reversal.charge, reversal.paid) == (-old.charge, -old.paid)
    assert new.status_code == "1" and new.frequency_code == "7"
    assert new.payer_claim_control_number != old.payer_claim_control_number
    assert new.charge == corrected.total_charge

    void_old = paid[second.patient_control_number]
    [_, void_reversal] = clps[second.patient_control_number]
    assert void_reversal.status_code == REVERSAL
    assert void_reversal.payer_claim_control_number == void_old.payer_claim_control_number
    assert statuses_of(world, second) == [[("A2", "20")], REJECTED]

    assert len(clps[third.patient_control_number]) == 1  # the original's payment alone
    assert statuses_of(world, third) == [REJECTED]
    assert len(clps[fourth.patient_control_number]) == 2  # voided once, not thrice
    assert statuses_of(world, fourth) == [[("A2", "20")], REJECTED, REJECTED]

    truth = world.world.remitted()
    replaced = truth[A.payer_id, first.patient_control_number]
    assert (replaced.status_code, replaced.paid, replaced.charge, replaced.clps) == (
        "1", new.paid, corrected.total_charge, 3)
    assert replaced.payer_claim_numbers == {old.payer_claim_control_number,
                                            new.payer_claim_control_number}
    gone = truth[A.payer_id, second.patient_control_number]
    assert (gone.status_code, gone.paid, gone.charge) == (REVERSAL, ZERO, second.total_charge)
    assert all(amount == 0 for amount in gone.line_paid.values())
    assert truth[A.payer_id, third.patient_control_number].status_code == "1"
    assert (A.payer_id, third.patient_control_number) in world.world.rejected()
    assert world.world.summary(A.payer_id)[
        (START + timedelta(days=14)).isoformat()]["replaced"] == 1


def test_a_late_replacement_of_a_claim_filed_on_time_is_not_denied_as_late() -> None:
    world = World(A)
    originals, paid = _paid_originals(world, 1)
    [claim] = originals
    corrected = replacement_claim(claim, paid[claim.patient_control_number]
                                  .payer_claim_control_number)
    late = START + timedelta(days=400)  # past the filing limit of a new claim
    world.send(A, [corrected], late)
    world.world.advance(late + timedelta(days=14))
    new = world.payments(A)[-1]
    assert new.frequency_code == "7" and new.status_code == "1"


def test_without_resubmissions_a_replacement_is_adjudicated_as_any_claim() -> None:
    server = ApiServer()
    world = PayerWorld([WorldPayer(A.payer_id, A.name, seed=5, api=server,
                                   payment_weekday=0, behaviour=QUIET, two_step_rate=0.0,
                                   take_back_rate=0.0, pend_rate=0.0)], START)
    [claim] = _claims(1)
    header = InterchangeHeader(Party("REVCYCLE"), Party(A.payer_id), usage_indicator="T",
                               created=datetime.combine(START, time(9)))
    written = write_837([replacement_claim(claim, "26306999999999")], header,
                        CounterControlNumbers(9, 9), FACTORY.submitter,
                        Receiver(A.name, A.payer_id))
    server.received["k"] = written.text.encode()
    world.advance(START + timedelta(days=7))
    assert world.remitted()[A.payer_id, claim.patient_control_number].status_code == "1"


# -- secondary and tertiary -----------------------------------------------------------


def _subscriber(claim: Claim, payer_id: str) -> Subscriber:
    """The claim's subscriber as the member of its other coverage with ``payer_id``."""
    other = next(o for o in claim.other_payers if o.payer.payer_id == payer_id)
    person = other.subscriber
    return Subscriber(person.last_name, person.first_name, person.member_id,
                      claim.subscriber.birth_date, claim.subscriber.sex,
                      address=person.address, group_number=other.group_number,
                      claim_filing_indicator=other.claim_filing_indicator or "CI")


def _adjusted(payment: ClaimPayment, group: str, reason: str) -> Decimal:
    return sum((a.amount for s in payment.service_payments for a in s.adjustments
                if (a.group_code, a.reason_code) == (group, reason)), ZERO)


def test_a_secondary_is_paid_from_the_prior_payers_amounts_and_a_tertiary_too() -> None:
    world = World(A, B, C)
    primaries = [c for c in _claims(12) if c.other_payers[0].payer.payer_id == B.payer_id]
    assert len(primaries) >= 2
    for claim in primaries:  # the world's payers are the generator's: B is one of them
        assert [o.responsibility for o in claim.other_payers] == ["S"]
        assert claim.other_payers[0].paid_amount is None
    world.send(A, primaries, START)
    world.world.advance(START + timedelta(days=7))
    by_a = {c.patient_control_number: c for c in world.payments(A)}
    paid_on = START + timedelta(days=7)
    secondaries = [secondary_claim(c, by_a[c.patient_control_number], A.payer(), B.payer(),
                                   _subscriber(c, B.payer_id), adjudication_date=paid_on)
                   for c in primaries]
    unpaid = dataclasses.replace(secondaries[-1], other_payers=[
        dataclasses.replace(o, paid_amount=None, adjustments=[], adjudication_date=None)
        for o in secondaries[-1].other_payers],
        service_lines=[dataclasses.replace(ln, adjudications=[])
                       for ln in secondaries[-1].service_lines])
    world.send(B, [*secondaries[:-1], unpaid], START + timedelta(days=8))
    world.world.advance(START + timedelta(days=14))

    by_b = {c.patient_control_number: c for c in world.payments(B)}
    for claim in secondaries[:-1]:
        first, second = by_a[claim.patient_control_number], by_b[claim.patient_control_number]
        assert second.status_code == "2"
        assert _adjusted(second, "OA", "23") == first.paid
        assert _adjusted(second, "CO", "45") == _adjusted(first, "CO", "45")
        left = first.patient_responsibility or ZERO
        assert second.paid == left - _adjusted(second, "PR", "2")
        assert second.charge == second.paid + sum(
            (a.amount for s in second.service_payments for a in s.adjustments), ZERO)
        truth = world.world.remitted()[B.payer_id, claim.patient_control_number]
        assert (truth.status_code, truth.paid) == ("2", second.paid)
    denied = by_b[unpaid.patient_control_number]
    assert denied.status_code == "4" and denied.paid == 0
    assert {(a.group_code, a.reason_code) for s in denied.service_payments
            for a in s.adjustments} == {("CO", "22")}
    assert world.world.remitted()[B.payer_id, unpaid.patient_control_number].status_code == "4"
    assert any(p.paid > 0 for p in by_b.values())
    assert any(_adjusted(p, "OA", "23") > 0 for p in by_b.values())
    assert any(_adjusted(p, "PR", "2") > 0 for p in by_b.values())  # some share stays

    tertiaries = [secondary_claim(s, by_b[s.patient_control_number], B.payer(), C.payer(),
                                  dataclasses.replace(s.subscriber, member_id="MHH000000001",
                                                      claim_filing_indicator="HM"),
                                  adjudication_date=START + timedelta(days=14),
                                  responsibility="T")
                  for s in secondaries[:-1]]
    bare = dataclasses.replace(tertiaries[0], other_payers=[
        dataclasses.replace(o, paid_amount=None) for o in tertiaries[0].other_payers])
    world.send(C, [*tertiaries[1:], bare], START + timedelta(days=15))
    world.world.advance(START + timedelta(days=21))
    by_c = {c.patient_control_number: c for c in world.payments(C)}
    for claim in tertiaries[1:]:
        pcn = claim.patient_control_number
        third = by_c[pcn]
        assert third.status_code == "3"
        assert _adjusted(third, "OA", "23") == by_a[pcn].paid + by_b[pcn].paid
        assert third.paid <= _adjusted(by_b[pcn], "PR", "2")
        assert world.world.remitted()[C.payer_id, pcn].paid == third.paid
    assert by_c[bare.patient_control_number].status_code == "4"
    assert _adjusted(by_c[bare.patient_control_number], "CO", "22") == bare.total_charge


# -- the generator ---------------------------------------------------------------------


def test_the_generator_gives_a_share_of_members_a_second_coverage_with_a_world_payer() -> None:
    plain = ClaimFactory(8, "BETA", as_of=START).claims(60)
    assert not any(c.other_payers for c in plain)
    assert ClaimFactory(8, "BETA", as_of=START, cob_rate=0.0).claims(60) == plain
    factory = ClaimFactory(8, "BETA", as_of=START, cob_rate=0.3)
    claims = factory.claims(60)
    # the same claims but for the loops: the other coverage has a stream of its own
    assert [dataclasses.replace(c, other_payers=[]) for c in claims] == plain
    covered = [c for c in claims if c.other_payers]
    assert 5 < len(covered) < 35
    played = {p.payer_id for p in DEFAULT_PAYERS}
    for claim in covered:
        [other] = claim.other_payers
        assert other.payer.payer_id in played and other.payer.payer_id != claim.payer.payer_id
        assert (other.responsibility, claim.subscriber.payer_responsibility) == ("S", "P")
        assert other.paid_amount is None and not other.adjustments
    for claim_type in ClaimType:
        group = [c for c in covered if c.claim_type is claim_type]
        assert group
        header = InterchangeHeader(Party("BETA"), Party("REVCYCLE"), usage_indicator="T",
                                   created=datetime.combine(START, time(9)))
        text = write_837(group, header, CounterControlNumbers(), factory.submitter,
                         Receiver("REVCYCLE", "REVCYCLE")).text
        assert pyx12_errors(text) == []
        assert "SBR*S*" in text and "AMT*D*" not in text


def test_a_secondary_with_claim_level_cob_amounts_only_shares_them_among_its_lines() -> None:
    """No 2430 loops (the primary adjudicated the claim as a whole): the 2320 amounts are
    shared among the lines by their charges, and the claim still balances."""
    world = World(B)
    claims = [c for c in _claims(6) if len(c.service_lines) > 1]
    assert claims
    claim = claims[0]
    paid = (claim.total_charge * Decimal("0.55")).quantize(Decimal("0.01"))
    left = (claim.total_charge * Decimal("0.15")).quantize(Decimal("0.01"))
    [other] = claim.other_payers
    prior = dataclasses.replace(
        other, responsibility="P", payer=A.payer(), paid_amount=paid,
        adjustments=[CobAdjustment("CO", "45", claim.total_charge - paid - left),
                     CobAdjustment("PR", "2", left)], adjudication_date=START)
    secondary = dataclasses.replace(
        claim, payer=B.payer(), other_payers=[prior],
        subscriber=dataclasses.replace(_subscriber(claim, other.payer.payer_id),
                                       payer_responsibility="S"))
    world.send(B, [secondary], START)
    world.world.advance(START + timedelta(days=7))
    [payment] = world.payments(B)
    assert payment.status_code == "2"
    assert _adjusted(payment, "OA", "23") == paid
    assert _adjusted(payment, "CO", "45") == claim.total_charge - paid - left
    assert payment.paid + _adjusted(payment, "PR", "2") == left
    assert all(s.paid + sum((a.amount for a in s.adjustments), ZERO) == s.charge
               for s in payment.service_payments)


# -- a refused claim corrected and sent again -------------------------------------------


def _refusing_world(rejection_rate: float = 0.0, two_step_rate: float = 0.0) -> World:
    """A world whose payer A refuses members (the 277CA's 33) or makes claims wait for a
    second step that refuses them, at these rates."""
    world = World(A)
    world.world = PayerWorld(
        [WorldPayer(A.payer_id, A.name, seed=5, api=world.servers[A.payer_id],
                    payment_weekday=0,
                    behaviour=dataclasses.replace(QUIET, rejection_rate=rejection_rate),
                    two_step_rate=two_step_rate, take_back_rate=0.0, pend_rate=0.0,
                    resubmissions=True)], START)
    return world


def _other_member(claim: Claim) -> Claim:
    member = claim.subscriber.member_id
    fixed = member[:-1] + ("1" if member.endswith("0") else "0")
    return dataclasses.replace(claim, subscriber=dataclasses.replace(claim.subscriber,
                                                                     member_id=fixed))


def test_a_claim_refused_for_its_member_is_taken_with_a_corrected_id_only() -> None:
    world = _refusing_world(rejection_rate=1.0)
    first, second = [dataclasses.replace(c, other_payers=[]) for c in _claims(2)]
    world.send(A, [first, second], START)
    world.world.advance(START + timedelta(days=4))
    assert world.world.rejected() == {(A.payer_id, first.patient_control_number),
                                      (A.payer_id, second.patient_control_number)}
    # The first corrected, the second sent again unchanged.
    world.send(A, [_other_member(first), second], START + timedelta(days=5))
    world.world.advance(START + timedelta(days=14))
    assert world.world.rejected() == {(A.payer_id, second.patient_control_number)}
    paid = _by_pcn(world.payments(A))
    assert set(paid) == {first.patient_control_number}


def test_a_claim_sent_again_is_not_made_to_wait_twice() -> None:
    world = _refusing_world(two_step_rate=1.0)
    claim, = [dataclasses.replace(c, other_payers=[]) for c in _claims(1)]
    world.send(A, [claim], START)
    world.world.advance(START + timedelta(days=10))
    steps = world.statuses(A).get(claim.patient_control_number, [])
    assert world.world.rejected() == {(A.payer_id, claim.patient_control_number)}, steps
    world.send(A, [_other_member(claim)], START + timedelta(days=11))
    world.world.advance(START + timedelta(days=21))
    assert world.world.rejected() == set()
    assert claim.patient_control_number in _by_pcn(world.payments(A))


def test_a_replacement_of_a_denied_claim_is_decided_afresh() -> None:
    """The payer's second look draws its decision again: some claims denied the first time
    are paid when replaced (the same content, decided again), never all the same way."""
    world = World(A)
    world.world = PayerWorld(
        [WorldPayer(A.payer_id, A.name, seed=5, api=world.servers[A.payer_id],
                    payment_weekday=0, behaviour=dataclasses.replace(QUIET, denial_rate=0.5),
                    two_step_rate=0.0, take_back_rate=0.0, pend_rate=0.0,
                    resubmissions=True)], START)
    originals = [dataclasses.replace(c, other_payers=[]) for c in _claims(16)]
    world.send(A, originals, START)
    world.world.advance(START + timedelta(days=7))
    first = {c.patient_control_number: c for c in world.payments(A)}
    denied = [c for c in originals if first[c.patient_control_number].is_denial]
    assert 2 <= len(denied) < len(originals)
    world.send(A, [replacement_claim(c, first[c.patient_control_number]
                                     .payer_claim_control_number) for c in denied],
               START + timedelta(days=8))
    world.world.advance(START + timedelta(days=21))
    again = {pcn: clps[-1] for pcn, clps in _by_pcn(world.payments(A)).items()}
    paid_now = [c for c in denied if not again[c.patient_control_number].is_denial]
    assert paid_now  # the same denial every time would leave none paid
    assert all(again[c.patient_control_number].frequency_code == "7" for c in denied)
