"""Which claim an 835's CLP pays, and which service line each of its SVCs adjudicates.

Payers do not always echo what we sent: they cut the patient control number short, give
the claim a number of their own, drop the line control numbers (REF*6R), change a line's
procedure code, or split a claim in two. Posting matches what they send by the rules
below and never guesses: when a rule finds several claims (or a line rule several lines
that are not interchangeable) the CLP is left for a biller with the reason.

Claim rules, in order; the name of the one that matched is kept on the payment row
(``payments.claim_match``; empty for an exception):

- ``pcn``: CLP01 is the patient control number of a claim of this tenant and payer. When
  several claims share it (an original and its replacements) :func:`_pick` chooses the one
  the CLP can apply to. An exact number names the claim even when that claim cannot take
  the CLP: the rules below are tried only when no claim has the number.
- ``payer-claim-number``: CLP07 is the payer claim control number (from the 277CA, or an
  earlier 835) of exactly one claim that can take the CLP: awaiting payment for a payment,
  adjudicated for a reversal. A payer that renumbered CLP01 keeps its own CLP07.
- ``truncated-pcn``: CLP01 (at least :data:`MIN_PREFIX` characters) is a proper prefix of
  the patient control number of exactly one claim awaiting payment whose total charge is
  CLP03, or of one adjudicated claim the CLP is a valid further part of (a split claim);
  a claim awaiting its first payment that another CLP of the same 835 names exactly is
  not a candidate (one that CLP paid and a reversal took back is). Payments only: a
  reversal names the payment it takes back by CLP07.
- ``split-part``: set by posting when a CLP is a further part of a claim the payer split
  (see :mod:`revcycle.pipeline.post`).
- ``by-hand``: a biller matched it from the exception queue.

Line rules, for each SVC of a matched CLP:

- ``6R``: REF*6R is the line control number of a line of the claim;
- ``code+date+charge``: otherwise (no REF*6R, or one naming no line of the claim), among
  the claim's lines not yet taken by this CLP (nor adjudicated by an earlier part of a
  split claim): the same procedure code (SVC06's when the payer changed it, else SVC01's;
  a line billed by revenue code alone by that code), the same modifiers, the same date of
  service (DTM*472/150, else the CLP's statement date; the line's, else the claim's) and
  the same charge. Modifiers compare as a multiset, not in order: payers reorder them
  (pricing modifiers first, say) and the same modifiers in another order bill the same
  service, while a missing or extra modifier does not. When several lines qualify they
  are identical in all that was billed, so the lowest line number is taken.
- otherwise the SVC is ``unmatched``: its money is booked at claim level and posting
  leaves a warning edit on the claim.

The payment row's ``line_match`` counts them as ``6R=<n> code+date+charge=<n>
unmatched=<n>`` (always the three keys, in that order; empty for an exception).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.bulk import CHUNK, among
from revcycle.db.models import Adjustment, Payment, ServiceLine
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.remittance import REVERSAL, ClaimPayment, ServicePayment
from revcycle.status import ADJUDICATED, Status

PCN, PAYER_NUMBER, TRUNCATED, SPLIT_PART, BY_HAND = (
    "pcn", "payer-claim-number", "truncated-pcn", "split-part", "by-hand")
BY_6R, BY_CODE, UNMATCHED = "6R", "code+date+charge", "unmatched"
# A shorter CLP01 is too likely a prefix of another claim's number by chance.
MIN_PREFIX = 6
OPEN = (Status.SUBMITTED, Status.ACCEPTED)
AWAITING = frozenset({*OPEN, Status.REVERSED})  # may take a payment
IN_FLIGHT = frozenset(OPEN)
RESUBMISSIONS = frozenset({"7", "8"})  # CLM05-3: replacement, void

AMBIGUOUS = ("Several claims could be this one: {what} fits more than one claim we sent to"
             " this payer; not posted, so a biller picks the right one.")
BY_PAYER_NUMBER = "its payer claim control number (CLP07)"
BY_PREFIX = "its shortened patient control number with its charge"


@dataclass(slots=True)
class PostedClaim:
    """What posting reads and changes of a claim (the columns of the same names)."""

    id: int
    patient_control_number: str
    status: str
    paid: Decimal
    adjusted: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str
    total_charge: Decimal
    payer_responsibility: str  # SBR01 as sent: P, S, T ... ("" when not known)
    frequency_code: str  # CLM05-3 of the version sent: 7 replacement, 8 void
    prior_claim_id: int | None  # on a claim for the next payer: the prior payer's claim
    next_payer_id: str  # the payer after this one ("" when none): see revcycle.pipeline.cob


def takes_reversal(claim: PostedClaim) -> bool:
    """Whether a payer's reversal (CLP02 22) may apply to the claim: one it adjudicated,
    or one whose replacement (7) or void (8) is with the payer (the payer reverses its
    first decision before it decides again)."""
    return claim.status in ADJUDICATED or (
        claim.frequency_code in RESUBMISSIONS and claim.status in IN_FLIGHT
        and bool(claim.payer_claim_control_number))


class PostedLine(NamedTuple):
    id: int
    line_number: int
    paid: Decimal
    line_control_number: str


class LineKey(NamedTuple):
    """What the fallback compares: what was billed on the line."""

    code: str  # the procedure code, or the revenue code of a line billed by it alone
    modifiers: tuple[str, ...]  # sorted: compared as a multiset
    service_date: date | None
    charge: Decimal


class ClaimLines(NamedTuple):
    """A claim's lines by REF*6R and, read only for the claims a CLP may need the fallback
    for, every line with what it billed, in line number order."""

    by_control: dict[str, PostedLine]
    billed: list[tuple[PostedLine, LineKey]]


@dataclass(slots=True)
class Parts:
    """What the payments posted to a claim since its last reversal adjudicated: their
    CLP07s, the sum of their CLP03s and the line numbers their SVCs matched. ``whole`` when
    one came without line detail (it adjudicated the whole claim)."""

    numbers: set[str] = field(default_factory=set)
    charge: Decimal = Decimal(0)
    lines: set[int] = field(default_factory=set)
    whole: bool = False


class ClaimMatch(NamedTuple):
    claim: PostedClaim | None
    rule: str  # one of the claim rules, "" when none matched
    ambiguity: str = ""  # the exception text when several claims could be this one


class LineMatch(NamedTuple):
    services: list[tuple[PostedLine | None, ServicePayment]]
    by_code: int  # how many SVCs the fallback matched
    unmatched: int  # how many matched no line

    def summary(self) -> str:
        by_6r = len(self.services) - self.by_code - self.unmatched
        return f"{BY_6R}={by_6r} {BY_CODE}={self.by_code} {UNMATCHED}={self.unmatched}"


def _can_take(claim: PostedClaim, payment: ClaimPayment) -> bool:
    if payment.is_reversal:
        return takes_reversal(claim)
    return claim.status in AWAITING


def _pick(candidates: list[PostedClaim], payment: ClaimPayment) -> PostedClaim:
    """The claim a CLP applies to among claims sharing its patient control number (newest
    first): a payment goes to one awaiting payment (sent, or reversed and awaiting its
    correction), a reversal to an adjudicated one (the one whose payer claim control
    number it names, if any). When none can take it, the newest is returned and the caller
    says why it is an exception."""
    if payment.is_reversal:
        adjudicated = [c for c in candidates if takes_reversal(c)]
        named = [c for c in adjudicated if payment.payer_claim_control_number
                 and c.payer_claim_control_number == payment.payer_claim_control_number]
        preferred = named or adjudicated
    else:
        preferred = ([c for c in candidates if c.status in OPEN]
                     or [c for c in candidates if c.status == Status.REVERSED])
    return (preferred or candidates)[0]


class Candidates:
    """The claims an 835's CLPs may apply to, their lines and what earlier payments
    adjudicated of them, read in a few queries for the whole remittance (never one per
    CLP: an 835 may hold thousands)."""

    def __init__(self, session: Session, tenant: str, payer_id: str) -> None:
        self.session, self.tenant, self.payer_id = session, tenant, payer_id
        self.claims: dict[int, PostedClaim] = {}  # by id: one object per claim
        self.by_number: dict[str, list[PostedClaim]] = defaultdict(list)
        self.by_payer_number: dict[str, list[PostedClaim]] = defaultdict(list)
        self.by_prefix: dict[str, list[PostedClaim]] = defaultdict(list)
        self.chosen: PostedClaim | None = None  # the claim a biller matched
        self.lines: dict[int, dict[str, PostedLine]] = defaultdict(dict)  # by REF*6R
        self.billed: dict[int, list[tuple[PostedLine, LineKey]]] = defaultdict(list)
        self.parts: dict[int, Parts] = {}  # adjudicated claims, and claims posted to
        self.named: set[str] = set()  # the CLP01s of the remittance's payments

    def load(self, payments: list[ClaimPayment], claim_id: int | None = None) -> None:
        """Read the claims the payments may apply to by the claim rules, or only
        ``claim_id`` (a match a biller made) for every payment."""
        c = ClaimRow.__table__.c
        if claim_id is not None:
            for claim in self._claims(c.id == claim_id):
                self.chosen = claim
        else:
            numbers = sorted({p.patient_control_number for p in payments})
            for chunk in _chunks(numbers):
                for claim in self._claims(among(self.session, c.patient_control_number,
                                                chunk)):
                    self.by_number[claim.patient_control_number].append(claim)
            self.named = {p.patient_control_number for p in payments if not p.is_reversal}
            unmatched = [p for p in payments if p.patient_control_number not in self.by_number]
            self._load_by_payer_number(unmatched)
            self._load_by_prefix(unmatched)
        self._load_lines()
        self._load_billed(payments)
        self._load_parts()

    def _claims(self, where: object) -> list[PostedClaim]:
        c = ClaimRow.__table__.c
        rows = self.session.execute(
            select(*(c[n] for n in PostedClaim.__slots__))
            .where(c.tenant_id == self.tenant, c.payer_id == self.payer_id, where)
            .order_by(c.id.desc()))
        return [self.claims.setdefault(row.id, PostedClaim(*row)) for row in rows]

    def _load_by_payer_number(self, payments: list[ClaimPayment]) -> None:
        c = ClaimRow.__table__.c
        numbers = sorted({p.payer_claim_control_number for p in payments} - {""})
        for chunk in _chunks(numbers):
            for claim in self._claims(among(self.session, c.payer_claim_control_number,
                                            chunk)):
                self.by_payer_number[claim.payer_claim_control_number].append(claim)

    def _load_by_prefix(self, payments: list[ClaimPayment]) -> None:
        """The claims whose number starts with a CLP01 that matched no claim exactly: one
        query per prefix length (and chunk), comparing the number's first characters."""
        c = ClaimRow.__table__.c
        by_length: dict[int, set[str]] = defaultdict(set)
        for p in payments:
            if not p.is_reversal and len(p.patient_control_number) >= MIN_PREFIX:
                by_length[len(p.patient_control_number)].add(p.patient_control_number)
        for length, prefixes in sorted(by_length.items()):
            for chunk in _chunks(sorted(prefixes)):
                for claim in self._claims(
                        func.substr(c.patient_control_number, 1, length).in_(chunk)
                        & (func.length(c.patient_control_number) > length)):
                    self.by_prefix[claim.patient_control_number[:length]].append(claim)

    def _load_lines(self) -> None:
        lines = ServiceLine.__table__.c
        for chunk in _chunks(sorted(self.claims)):
            for row in self.session.execute(select(
                    lines.claim_id, lines.line_control_number, lines.id, lines.line_number,
                    lines.paid).where(among(self.session, lines.claim_id, chunk))):
                self.lines[row.claim_id][row.line_control_number] = PostedLine(
                    row.id, row.line_number, row.paid, row.line_control_number)

    def _load_billed(self, payments: list[ClaimPayment]) -> None:
        """Every line and what it billed, for the claims a payment may need the fallback on
        (an SVC whose REF*6R names none of the claim's lines) and the adjudicated ones: most
        835s echo REF*6R on every SVC, and then this reads next to nothing."""
        ids = {i for i, claim in self.claims.items() if claim.status in ADJUDICATED}
        for payment in payments:
            for claim in self._candidates_of(payment):
                lines = self.lines[claim.id]
                if not all(s.line_control_number and s.line_control_number in lines
                           for s in payment.service_payments):
                    ids.add(claim.id)
        lines, claims = ServiceLine.__table__.c, ClaimRow.__table__.c
        for chunk in _chunks(sorted(ids)):
            for row in self.session.execute(select(
                    lines.claim_id, lines.id, lines.line_number, lines.paid,
                    lines.line_control_number, lines.procedure_code, lines.revenue_code,
                    lines.modifiers, lines.service_date, lines.charge,
                    claims.service_date.label("claim_date"),
            ).join_from(ServiceLine.__table__, ClaimRow.__table__,
                        lines.claim_id == claims.id,
                        ).where(among(self.session, lines.claim_id, chunk))):
                # A line without a date of its own has the claim's.
                self.billed[row.claim_id].append((
                    PostedLine(row.id, row.line_number, row.paid, row.line_control_number),
                    LineKey(row.procedure_code or row.revenue_code,
                            tuple(sorted(row.modifiers.split())),
                            row.service_date or row.claim_date, row.charge)))
        for billed in self.billed.values():
            billed.sort(key=lambda pair: pair[0].line_number)

    def lines_of(self, claim_id: int) -> ClaimLines:
        return ClaimLines(self.lines[claim_id], self.billed[claim_id])

    def _candidates_of(self, payment: ClaimPayment) -> list[PostedClaim]:
        if self.chosen is not None:
            return [self.chosen]
        return [*self.by_number.get(payment.patient_control_number, ()),
                *self.by_payer_number.get(payment.payer_claim_control_number, ()),
                *self.by_prefix.get(payment.patient_control_number, ())]

    def _load_parts(self) -> None:
        """What the payments posted to the adjudicated claims since their last reversal
        adjudicated: what decides whether a CLP is a further part of a split claim."""
        ids = sorted(i for i, claim in self.claims.items() if claim.status in ADJUDICATED)
        p, a = Payment.__table__.c, Adjustment.__table__.c
        line_numbers: dict[int, set[int]] = defaultdict(set)  # payment id -> its lines
        rows = []
        for chunk in _chunks(ids):
            posted = among(self.session, p.claim_id, chunk) & (p.exception == "")
            rows += self.session.execute(select(
                p.id, p.claim_id, p.claim_status_code, p.charge,
                p.payer_claim_control_number).where(posted)).all()
            for payment_id, number in self.session.execute(
                    select(a.payment_id, a.line_number).join_from(
                        Adjustment.__table__, Payment.__table__, a.payment_id == p.id).where(
                        posted, a.line_number.is_not(None))):
                line_numbers[payment_id].add(number)
        for payment_id, claim_id, status_code, charge, number in sorted(rows):
            if status_code == REVERSAL:
                self.parts.pop(claim_id, None)
                continue
            parts = self.parts.setdefault(claim_id, Parts())
            parts.numbers.add(number)
            parts.charge += charge
            parts.lines |= line_numbers[payment_id]
        for claim_id in ids:
            parts = self.parts.setdefault(claim_id, Parts(whole=True))
            # A line paid in full has no CAS: its paid amount says it was adjudicated.
            parts.lines |= {line.line_number for line, _ in self.billed[claim_id]
                            if line.paid}
            parts.whole = parts.whole or not parts.lines

    def match(self, payment: ClaimPayment,
              further_part: Callable[[PostedClaim, ClaimPayment], bool]) -> ClaimMatch:
        """The claim ``payment`` applies to, by the first claim rule that names one.
        ``further_part`` says whether it is a valid further part of an adjudicated claim."""
        if self.chosen is not None:
            return ClaimMatch(self.chosen, BY_HAND)
        exact = self.by_number.get(payment.patient_control_number)
        if exact:
            return ClaimMatch(_pick(exact, payment), PCN)
        named = self.by_payer_number.get(payment.payer_claim_control_number, [])
        if named and payment.payer_claim_control_number:
            able = [c for c in named if _can_take(c, payment)]
            if len(able) > 1:
                return ClaimMatch(None, "", AMBIGUOUS.format(what=BY_PAYER_NUMBER))
            return ClaimMatch((able or named)[0], PAYER_NUMBER)
        if not payment.is_reversal:
            # A claim awaiting its first payment that another CLP of this remittance names
            # exactly is that CLP's: leaving it out keeps the match independent of the
            # order of the CLPs. One that CLP paid and a reversal took back awaits its
            # correction, which may come cut short.
            able = [c for c in self.by_prefix.get(payment.patient_control_number, ())
                    if (c.status in AWAITING and c.total_charge == payment.charge
                        and (c.patient_control_number not in self.named
                             or c.status == Status.REVERSED))
                    or (c.status in ADJUDICATED and further_part(c, payment))]
            if len(able) > 1:
                return ClaimMatch(None, "", AMBIGUOUS.format(what=BY_PREFIX))
            if able:
                return ClaimMatch(able[0], TRUNCATED)
        return ClaimMatch(None, "")


def match_lines(lines: ClaimLines, payment: ClaimPayment,
                adjudicated: Iterable[int] = ()) -> LineMatch:
    """The line each SVC of ``payment`` adjudicates, by the line rules: REF*6R first for
    every SVC (so the fallback never takes a line a later SVC names), then the fallback in
    SVC order among the lines neither taken nor ``adjudicated`` (line numbers an earlier
    part of a split claim adjudicated). A REF*6R match is kept even on such a line: the
    caller decides what that means."""
    services = payment.service_payments
    found = [lines.by_control.get(s.line_control_number) if s.line_control_number
             else None for s in services]
    if all(found):  # what almost every 835 is: the SVCs echo REF*6R
        return LineMatch(list(zip(found, services, strict=True)), 0, 0)
    taken = set(adjudicated) | {line.line_number for line in found if line}
    by_code = 0
    for i, service in enumerate(services):
        if found[i] is not None:
            continue
        key = _service_key(service, payment)
        line = next((line for line, billed in lines.billed if line.line_number not in taken
                     and billed == key), None)
        if line is not None:
            found[i] = line
            by_code += 1
            taken.add(line.line_number)
    return LineMatch(list(zip(found, services, strict=True)), by_code,
                     sum(line is None for line in found))


def _service_key(service: ServicePayment, payment: ClaimPayment) -> LineKey:
    billed = service.original_procedure
    code, modifiers = (billed.code, billed.modifiers) if billed else (
        service.procedure_code, service.modifiers)
    # A reversal's amounts are negated; the line it takes back was billed positive.
    return LineKey(code, tuple(sorted(m for m in modifiers if m)),
                   service.service_date or payment.statement_from, abs(service.charge))


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
