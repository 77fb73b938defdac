"""Posting: 835 remittances applied to claims, adjustments and the ledger.

Before anything is posted the remittance must balance at line, claim and transaction
level; an unbalanced one is held with its reasons. The same 835 (tenant, payer and TRN02)
posts once. A CLP is matched to a claim, never by position, by the rules of
:mod:`revcycle.pipeline.matching` (patient control number, then the payer's claim number,
then a shortened patient control number with its charge), and its SVCs to service lines by
REF*6R or else by code, date and charge; the payment row says which rules matched. A CLP
that matches nothing or several claims, or a claim paid twice, goes to the exception queue
(the payment row keeps the reason in a biller's words, the 835's object key and the CLP's
segment number) instead of being posted. An SVC that matches no line is posted to its
claim with a warning edit.

A claim the payer split (277CA A5) comes back as several CLPs with our patient control
number and CLP07s of their own, in one 835 or several. A CLP for a claim already
adjudicated is such a further part, not a second payment, when its CLP07 is new to the
claim, its SVCs all match lines no earlier part adjudicated, and the parts' charges do
not exceed the claim's. The claim's status combines the parts (all paid: PAID, all denied:
DENIED, else PARTIALLY_PAID); until the last part, what it did not adjudicate stays open A/R.

A denial is worked like any other edit: a DENIED claim, and each denied line of a
PARTIALLY_PAID one, gets an edit per denial reason (CARC, with the RARCs' descriptions).

The ledger is double entry. Submission books the charge (A/R debit, revenue credit);
posting moves A/R to cash and each adjusted amount to the account its class says (see
:mod:`revcycle.pipeline.accounts`): contractual and other adjustments leave A/R for good,
the patient's share goes to the patient, a denial stays receivable in ``AR_DENIED`` until
worked, and on a crossover the patient's share is the next payer's (``AR_NEXT_PAYER``).
So for every claim: billed = paid + adjustments + patient responsibility + what payers
still owe (the ``AR*`` accounts). What CLP02 and the retired group code CR mean for
posting is in :mod:`revcycle.pipeline.claim_status_codes`; an 835 with amounts past the
cent is held like an unbalanced one.

The money of a CLP left in the exception queue is cash all the same: it is booked to
unapplied cash until a biller applies it to the claim it belongs to
(:func:`post_matched`), so a remittance's cash is always what reached the bank.

Coordination of benefits (:mod:`revcycle.pipeline.cob`). A claim whose content names a
payer after this one (``claims.next_payer_id``, from its 2320 loops) and that its payer
processed (CLP02 1, 2, 3) puts the patient's share in ``AR_NEXT_PAYER``, not
``PATIENT_AR``: the next payer owes it first. In the same transaction, once the remittance
is posted, the claim for the next payer is made (or, on a crossover, the claim the payer
forwarded is recorded) and that share moves to it: ``AR_NEXT_PAYER`` credit on the prior
claim (memo "to next payer"), ``AR`` debit on the new one (memo "from prior payer"), each
side against ``COB_TRANSFER`` so every claim's entries still sum to zero. A claim for the
next payer (``prior_claim_id`` set) books no charge; its receivable is what moved in (its
*basis*), not its CLM02 (which repeats the original's total). Its 835 posts:

- cash = CLP04;
- patient responsibility (PR) -> ``PATIENT_AR``, or ``AR_NEXT_PAYER`` when a tertiary
  payer follows;
- denial-class adjustments (e.g. CO-22) -> ``AR_DENIED`` (in work);
- what remains of the basis after paid + PR + denied -> ``CONTRACTUAL`` (the next payer
  allowed less than what was left); a reversal takes back basis - paid - PR - denied;
- every other adjustment (OA-23, the CO-45 that restates the prior payer's decision, the
  payer's own contractual) is recorded as an adjustment row but not booked again.

So a settled claim for the next payer ends with its ``AR*`` accounts at 0, and the open
A/R of a prior claim and of its claim for the next payer is the share not yet settled,
counted once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.crashpoints import crash_point
from revcycle.db.bulk import insert_rows, insert_rows_with_ids, update_rows
from revcycle.db.models import (
    Adjustment,
    Batch,
    ClaimEvent,
    Edit,
    File,
    LedgerEntry,
    Payment,
    ServiceLine,
)
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import Remittance as RemittanceRow
from revcycle.model.remittance import (
    Adjustment as CasAdjustment,
)
from revcycle.model.remittance import (
    ClaimPayment,
    Remittance,
    ServicePayment,
    balance_problems,
    excess_precision,
)
from revcycle.pipeline.accounts import (
    ADJUSTED,
    AR_DENIED,
    AR_NEXT_PAYER,
    CASH,
    CONTRACTUAL,
    PATIENT_AR,
    account_for,
)
from revcycle.pipeline.batches import batch_of
from revcycle.pipeline.charges import VOID, void_charges
from revcycle.pipeline.claim_status_codes import (
    NOT_OURS,
    NOT_OURS_EXCEPTION,
    PREDETERMINATION,
    PREDETERMINATION_NOTE,
    crossover_payer,
    is_crossover,
    is_predetermination,
    predetermination_edit,
    status_code_edits,
)
from revcycle.pipeline.cob import BILLED_ONWARD, Onward, bill_next_payers, moved_in
from revcycle.pipeline.inbound import apply_new_files
from revcycle.pipeline.matching import (
    AWAITING,
    BY_HAND,
    SPLIT_PART,
    Candidates,
    LineMatch,
    Parts,
    PostedClaim,
    match_lines,
    takes_reversal,
)
from revcycle.pipeline.outcomes import (
    STAGE,
    combined,
    denial_edits,
    outcome,
    unmatched_line_edit,
)
from revcycle.pipeline.plb import book_provider_adjustments
from revcycle.pipeline.resources import Resources
from revcycle.status import ADJUDICATED, Status, check_transition
from revcycle.storage import ObjectStore
from revcycle.x12.envelope import X12Document
from revcycle.x12.remit835 import parse_835

ZERO = Decimal(0)
# Cash received that no claim has taken yet (a posting exception), until a biller applies it.
UNAPPLIED = "UNAPPLIED_CASH"


def post_remittances(res: Resources, batch_id: str, payer_id: str) -> dict[str, Any]:
    result = {"batch": batch_id, "payer": payer_id, "remittances": 0, "quarantined": 0,
              "held": 0,
              "duplicates": 0, "claims_posted": 0, "exceptions": 0, "paid": "0",
              "reversals": 0, "next_payer_claims": 0, "next_payer_waiting": 0}
    paid = ZERO
    with res.sessions() as session:
        batch = batch_of(session, batch_id)

    def apply(session: Session, file: File, document: X12Document) -> None:
        nonlocal paid
        for remittance in document.bodies(Remittance):
            outcome = _post(session, res.store, file, batch, payer_id, remittance)
            crash_point("post.after_remittance")
            for name in ("held", "duplicates", "claims_posted", "exceptions", "reversals",
                         "next_payer_claims", "next_payer_waiting"):
                result[name] += outcome.get(name, 0)
            result["remittances"] += 1
            paid += outcome.get("paid", ZERO)

    _, result["quarantined"] = apply_new_files(res, batch, payer_id, "835",
                                               {"835": parse_835}, apply)
    result["paid"] = str(paid)
    return result


def _post(session: Session, store: ObjectStore, file: File, batch: Batch, payer_id: str,
          remittance: Remittance) -> dict[str, Any]:
    trace = remittance.trace_number
    if session.scalar(select(RemittanceRow.id).where(
            RemittanceRow.tenant_id == batch.tenant_id, RemittanceRow.payer_id == payer_id,
            RemittanceRow.trace_number == trace,
            RemittanceRow.status == "POSTED")) is not None:
        return {"duplicates": 1}
    problems = balance_problems(remittance)
    # Amounts past the cent would be rounded once stored: held like an unbalanced 835.
    precision = excess_precision(remittance)
    reason = {k: v for k, v in (("unbalanced", problems), ("precision", precision)) if v}
    # Signed: a debit remittance (BPR03 D) is money the payer took back.
    cash = -remittance.total_paid if remittance.credit_debit_flag == "D" else (
        remittance.total_paid)
    row = RemittanceRow(tenant_id=batch.tenant_id, payer_id=payer_id, file_id=file.id,
                        trace_number=trace, payment_date=remittance.payment_date,
                        total_paid=cash,
                        status="HELD" if reason else "POSTED",
                        reason=reason or None)
    session.add(row)
    session.flush()
    if reason:
        return {"held": 1}
    on = remittance.payment_date or batch.business_date
    posting = Posting(session, row, file.key, batch.tenant_id, payer_id, on)
    posting.load(remittance.claims)
    for index, payment in enumerate(remittance.claims):
        posting.post(index, payment)
    book_provider_adjustments(posting, remittance.provider_adjustments)
    bill_next_payers(posting, store, batch)
    posting.write()
    posting.outcome["paid"] = cash
    return posting.outcome


def post_matched(session: Session, remittance: RemittanceRow, source_key: str,
                 payment: ClaimPayment, clp_index: int, claim_id: int, on: date,
                 by: str, store: ObjectStore | None = None) -> str:
    """Post a CLP left in the exception queue to the claim biller ``by`` matched it to (of
    the remittance's tenant and payer), moving its money out of unapplied cash. Returns
    why it still cannot be posted to that claim ("" when posted); nothing is written then.
    With ``store``, the claim's next payer is billed as posting would (the claim is made in
    the batch the 835 came in: the next run's quality stage adopts it)."""
    posting = Posting(session, remittance, source_key, remittance.tenant_id,
                      remittance.payer_id, on, posted_by=by)
    posting.load([payment], claim_id=claim_id)
    if posting.matcher.chosen is None:
        return "No claim with that id was sent to this payer for this provider client."
    posting.post(clp_index, payment)
    if posting.outcome["exceptions"]:
        return posting.payments[0]["exception"]
    if not is_predetermination(payment):  # a predetermination's money never came
        posting.book(None, UNAPPLIED, "CASH", payment.paid, "applied by hand")
    if store is not None and posting.onward:
        file = session.get_one(File, remittance.file_id)
        bill_next_payers(posting, store, session.get_one(Batch, file.batch_id))
    posting.write()
    return ""


def _exception(payment: ClaimPayment, claim: PostedClaim | None) -> str:
    """Why a CLP is not posted, in a biller's words ("" when it can be). Under 200
    characters, and never a value from the claim."""
    if claim is None:
        return ("Unknown claim: no claim we sent to this payer has this patient control"
                " number, its payer claim number, or a longer number with its charge; check"
                " where it was billed.")
    if payment.status_code == NOT_OURS:
        return NOT_OURS_EXCEPTION
    if is_predetermination(payment):
        return ""  # not a payment: recorded whatever the claim's status
    status = Status(claim.status)
    if payment.is_reversal and not takes_reversal(claim):
        return (f"The payer takes back a payment we never posted (the claim is {status}):"
                " look for the original payment on an earlier remittance.")
    if not payment.is_reversal and status in ADJUDICATED:
        return (f"Second payment for a claim already {status}, with no reversal of the"
                " first: a possible duplicate payment or overpayment; not posted.")
    if not payment.is_reversal and status not in AWAITING:
        # Never sent, or rejected: the status machine has no way to paid from there.
        return (f"Payment for a claim in status {status}, which was not awaiting one:"
                " check that the payer and the claim are the right ones before posting.")
    return ""


class Posting:
    """One remittance's postings: the claims and lines it touches read in a few queries,
    the rows it adds collected and inserted in bulk. Claim statuses change in memory as
    the CLPs are applied, so a reversal and its correction in one 835 see each other."""

    def __init__(self, session: Session, remittance: RemittanceRow, source_key: str,
                 tenant: str, payer_id: str, on: date, posted_by: str = "") -> None:
        self.session, self.remittance, self.source_key = session, remittance, source_key
        self.tenant, self.payer_id, self.on = tenant, payer_id, on
        self.posted_by = posted_by  # a biller posting from the exception queue, or ""
        self.matcher = Candidates(session, tenant, payer_id)
        self.payments: list[dict[str, Any]] = []
        self.adjustments: list[tuple[int, dict[str, Any]]] = []  # (payment index, row)
        self.ledger: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.outcome: dict[str, Any] = defaultdict(int)
        self.line_paid: dict[int, Decimal] = {}  # service line id -> its new paid amount
        self.changed: dict[int, PostedClaim] = {}  # claims posted to, by id
        # A claim's first payment in this remittance, until a further part needs it.
        self.first_parts: dict[int, tuple[ClaimPayment, LineMatch]] = {}
        self.voided: list[int] = []  # claims whose void the payer's reversal completed
        # Claims for the next payer among the candidates: what moved in to each (basis).
        self.basis: dict[int, Decimal] = {}
        # Claims whose patient share this remittance put in AR_NEXT_PAYER, to bill onward.
        self.onward: dict[int, Onward] = {}

    def load(self, payments: list[ClaimPayment], claim_id: int | None = None) -> None:
        """Read the claims the payments may apply to (see :mod:`.matching`), or only
        ``claim_id`` (a match a biller made) for every payment."""
        self.matcher.load(payments, claim_id)
        self.basis = moved_in(self.session, [c.id for c in self.matcher.claims.values()
                                             if c.prior_claim_id is not None])

    def post(self, index: int, payment: ClaimPayment) -> None:
        found = self.matcher.match(payment, self._is_further_part)
        claim, rule = found.claim, found.rule
        exception = found.ambiguity or _exception(payment, claim)
        part = self._further_part(claim, payment) if exception and claim else None
        if part is not None:  # a claim the payer split: not a second payment
            exception, rule = "", rule if rule == BY_HAND else SPLIT_PART
        matched = None
        if not exception:
            matched = part or match_lines(self.matcher.lines_of(claim.id), payment)
        crossover = crossover_payer(payment)
        predetermination = is_predetermination(payment)
        self.payments.append({
            "remittance_id": self.remittance.id, "claim_id": claim.id if claim else None,
            "clp_index": index, "claim_status_code": payment.status_code,
            "charge": payment.charge, "paid": payment.paid,
            "patient_responsibility": payment.patient_responsibility or ZERO,
            "payer_claim_control_number": payment.payer_claim_control_number,
            "exception": exception, "source_key": self.source_key,
            "segment_number": payment.segment_number, "posted_by": self.posted_by,
            "claim_match": "" if exception else rule,
            "line_match": matched.summary() if matched else "",
            "crossover_payer_id": crossover[0], "crossover_payer_name": crossover[1],
            "note": "" if exception or not predetermination else PREDETERMINATION_NOTE})
        if claim is None or matched is None:
            self.outcome["exceptions"] += 1
            if not predetermination:
                # The payer sent this money all the same: it waits, unapplied, for a biller.
                self.book(None, "CASH", UNAPPLIED, payment.paid, "posting exception")
            return
        if predetermination:  # never a payment: no cash, no status change
            self.edits.append(predetermination_edit(claim.id))
            return
        adjustments = [(None, a) for a in payment.adjustments]
        numbered: list[tuple[int | None, ServicePayment]] = []
        for line, service in matched.services:
            if line is not None:
                self.line_paid[line.id] = self.line_paid.get(line.id, line.paid) + service.paid
            number = line.line_number if line else None
            numbered.append((number, service))
            adjustments += [(number, a) for a in service.adjustments]
        self.edits += [unmatched_line_edit(claim.id) for _ in range(matched.unmatched)]
        payment_index = len(self.payments) - 1
        self.adjustments += [(payment_index, {
            "line_number": number, "group_code": a.group_code,
            "reason_code": a.reason_code, "amount": a.amount}) for number, a in adjustments]
        forwarded = is_crossover(payment)
        onward = forwarded or (bool(claim.next_payer_id)
                               and payment.status_code in BILLED_ONWARD)
        totals = self._totals(claim, payment, [a for _, a in adjustments], onward)
        for account, amount in totals.items():
            self.book(claim.id, account, "AR", amount, STAGE)
        owed_next = totals.get(AR_NEXT_PAYER, ZERO)
        if onward and not payment.is_reversal and owed_next > 0:
            if claim.id in self.onward:  # a further part of a split claim
                self.onward[claim.id].amount += owed_next
            else:
                self.onward[claim.id] = Onward(claim, payment, owed_next)
        self.changed[claim.id] = claim
        claim.paid += payment.paid
        claim.patient_responsibility += totals.get(PATIENT_AR, ZERO)
        # Only what left A/R for good: denials (AR_DENIED) and what the next payer owes
        # (AR_NEXT_PAYER) are still receivable.
        claim.adjusted += sum((v for k, v in totals.items() if k in ADJUSTED), ZERO)
        if payment.payer_claim_control_number:
            claim.payer_claim_control_number = payment.payer_claim_control_number
        current, target = Status(claim.status), outcome(payment, adjustments)
        if part is not None:
            target = combined(current, target)
        self._record_part(claim, payment, matched, further=part is not None)
        if part is None or target is not current:  # a further part may leave it as it was
            check_transition(current, target)
            claim.status = target.value
            self.events.append({"claim_id": claim.id, "from_status": current.value,
                                "to_status": target.value, "stage": STAGE})
        if target is Status.REVERSED and claim.frequency_code == VOID:
            self._void(claim)
        self.edits += denial_edits(claim.id, target, payment, numbered)
        self.edits += status_code_edits(claim.id, payment, claim.payer_responsibility)
        self.outcome["claims_posted"] += 1
        if target is Status.REVERSED:
            self.outcome["reversals"] += 1

    def _void(self, claim: PostedClaim) -> None:
        """The payer took back its decision on a claim we voided: the claim is done and
        its charge leaves the books when the posting is written."""
        check_transition(Status.REVERSED, Status.VOIDED)
        claim.status = Status.VOIDED.value
        self.events.append({"claim_id": claim.id, "from_status": Status.REVERSED.value,
                            "to_status": Status.VOIDED.value, "stage": STAGE})
        self.voided.append(claim.id)

    def _totals(self, claim: PostedClaim, payment: ClaimPayment,
                adjustments: list[CasAdjustment], onward: bool) -> dict[str, Decimal]:
        """What the CLP moves out of ``AR``, by account (cash included). On a claim for the
        next payer only the patient's share and denials are booked by their class, and
        what is left of its basis is contractual (see the module docstring)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        totals[CASH] = payment.paid
        secondary = claim.prior_claim_id is not None
        for a in adjustments:
            account = account_for(a.group_code, a.reason_code, onward)
            if not secondary or account in (PATIENT_AR, AR_NEXT_PAYER, AR_DENIED):
                totals[account] += a.amount
        if secondary:
            basis = self.basis.get(claim.id, ZERO)
            rest = (-basis if payment.is_reversal else basis) - sum(totals.values(), ZERO)
            if rest > 0 or payment.is_reversal:  # more paid than moved in: a credit
                totals[CONTRACTUAL] += rest
        return totals

    def _further_part(self, claim: PostedClaim, payment: ClaimPayment) -> LineMatch | None:
        """The lines of a claim the payer split that ``payment`` adjudicates, when it is a
        further part of that claim; None when it is not (then a second payment for an
        adjudicated claim stays an exception). A further part names a payer claim number
        no earlier part had, adjudicates only lines no earlier part did (all of its SVCs
        matched), and with the earlier parts charges no more than the claim's total."""
        if payment.status_code in (NOT_OURS, PREDETERMINATION):
            return None
        parts = self._parts(claim.id)
        if (payment.is_reversal or claim.status not in ADJUDICATED or parts is None
                or parts.whole or not payment.service_payments
                or not payment.payer_claim_control_number
                or payment.payer_claim_control_number in parts.numbers
                or parts.charge + payment.charge > claim.total_charge):
            return None
        matched = match_lines(self.matcher.lines_of(claim.id), payment, parts.lines)
        if matched.unmatched or any(line.line_number in parts.lines
                                    for line, _ in matched.services if line):
            return None
        return matched

    def _is_further_part(self, claim: PostedClaim, payment: ClaimPayment) -> bool:
        return self._further_part(claim, payment) is not None

    def _record_part(self, claim: PostedClaim, payment: ClaimPayment, matched: LineMatch,
                     further: bool) -> None:
        """Remember what this payment adjudicated, so a later part of the claim (in this
        835 or a later one) is told from a second payment. A reversal forgets the parts;
        a payment to a claim awaiting one starts them again (kept as it is, and made
        :class:`Parts` only if another CLP of this 835 asks: most claims get one CLP)."""
        parts = self.matcher.parts
        if payment.is_reversal:
            parts.pop(claim.id, None)
            self.first_parts.pop(claim.id, None)
        elif not further:
            parts.pop(claim.id, None)
            self.first_parts[claim.id] = (payment, matched)
        else:
            _add_part(parts[claim.id], payment, matched)

    def _parts(self, claim_id: int) -> Parts | None:
        first = self.first_parts.pop(claim_id, None)
        if first is not None:
            _add_part(self.matcher.parts.setdefault(claim_id, Parts()), *first)
        return self.matcher.parts.get(claim_id)

    def book(self, claim_id: int | None, debit: str, credit: str, amount: Decimal,
             memo: str) -> None:
        """A double entry: ``amount`` debited to one account and credited to another, on
        a claim or (None) at provider level. Nothing is booked for zero."""
        if not amount:
            return
        common = {"tenant_id": self.tenant, "claim_id": claim_id,
                  "remittance_id": self.remittance.id, "entry_date": self.on, "memo": memo}
        self.ledger += [{**common, "account": debit, "amount": amount},
                        {**common, "account": credit, "amount": -amount}]

    def write(self) -> None:
        """Insert what was collected, and update the claims and lines posted to: a few
        multi-row statements, not one per row (a round trip each on PostgreSQL)."""
        session = self.session
        claims = [(c.id, c.status, c.paid, c.adjusted, c.patient_responsibility,
                   c.payer_claim_control_number) for c in self.changed.values()]
        ids = insert_rows_with_ids(session, Payment.__table__, self.payments)
        adjustments = [{"payment_id": ids[index], **row} for index, row in self.adjustments]
        for row in self.edits:
            row.setdefault("code_set", "")
        for model, rows in ((Adjustment, adjustments), (LedgerEntry, self.ledger),
                            (ClaimEvent, self.events), (Edit, self.edits)):
            insert_rows(session, model.__table__, rows)
        update_rows(session, ClaimRow.__table__, claims,
                    ("status", "paid", "adjusted", "patient_responsibility",
                     "payer_claim_control_number"))
        update_rows(session, ServiceLine.__table__, list(self.line_paid.items()), ("paid",))
        void_charges(session, self.tenant, self.voided, self.on)


def _add_part(parts: Parts, payment: ClaimPayment, matched: LineMatch) -> None:
    parts.numbers.add(payment.payer_claim_control_number)
    parts.charge += payment.charge
    lines = {line.line_number for line, _ in matched.services if line}
    parts.lines |= lines
    # Without line detail the payment adjudicated the whole claim.
    parts.whole = parts.whole or not lines
