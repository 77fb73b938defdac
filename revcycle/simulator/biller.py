"""A simulated biller working the day's queues, for ``revcycle demo --days``.

A billing vendor earns its fee on the claims that do not go through the first time. This
biller works them each morning before the day's run, with the tools a person has
(``revcycle claims correct|replace``, ``revcycle queue writeoff``), so the run takes the
corrections through quality, scrub and submit with the day's new claims:

- a claim the payer's front end refused because it found no such member (277CA status 33,
  or 164, member number) is corrected with the member id an eligibility check gives
  (synthetic: the id's last character changed); one refused as out of balance (277CA 400,
  scrub BAL-01) gets the sum of its lines as its total. Anything else refused (an invalid
  NPI, a date of service, a 999 syntax error) needs the provider: left, counted.
  A claim is corrected at most twice;
- a denial is worked by its reason: timely filing (CO-29) and duplicate (CO-18) are
  written off (``TIMELY_FILING``, ``DUPLICATE``); any other denial is replaced once
  (frequency 7, the payer decides again); denied again, it is written off
  (``APPEAL_EXHAUSTED``). A secondary claim is never replaced here (its prior claim is).

:meth:`SimulatedBiller.figures` gives what the month came to: the clean-claim rate on first
submission and after rework, and the denied dollars recovered, written off and still in
work. Counts and amounts only: nothing from a claim's content leaves this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.codesets.carc_classes import AdjustmentClass, classify
from revcycle.db.models import Adjustment, ClaimEvent, Edit, LedgerEntry, Money, Payment
from revcycle.db.models import Claim as ClaimRow
from revcycle.pipeline.kpis import FRONT_END_PASSED
from revcycle.pipeline.resubmit import replace
from revcycle.pipeline.versions import CorrectionError, correct, current_claims
from revcycle.pipeline.writeoffs import WriteOffError, write_off
from revcycle.status import Status
from revcycle.storage import ObjectStore

ZERO = Decimal("0.00")
BY = "demo biller"
MAX_CORRECTIONS = 2
MEMBER_NOT_FOUND = (":33", ":164")  # 277CA STC01-2: subscriber id / member number not found
OUT_OF_BALANCE = (":400", "BAL-01")  # 277CA STC01-2 400; scrub's balance rule
WRITTEN_OFF_AT_ONCE = {"29": "TIMELY_FILING", "18": "DUPLICATE"}  # CARC -> write-off reason


@dataclass
class _Denial:
    denied: Decimal  # the claim's denied balance when first worked
    paid: Decimal  # what it had been paid then
    replaced: bool = False


@dataclass
class SimulatedBiller:
    sessions: Callable[[], Session]
    store: ObjectStore
    tenants: Sequence[str]
    counts: Counter[str] = field(default_factory=Counter)
    corrections: Counter[int] = field(default_factory=Counter)
    denials: dict[int, _Denial] = field(default_factory=dict)
    left: set[int] = field(default_factory=set)  # refused claims only the provider can fix

    def work(self, day: date) -> dict[str, int]:
        """Work the refused and denied claims, corrections into ``day``'s batch."""
        before = Counter(self.counts)
        with self.sessions() as session:
            self._refused(session, day)
        with self.sessions() as session:
            self._denied(session, day)
        return dict(self.counts - before)

    def _refused(self, session: Session, day: date) -> None:
        rows = list(session.scalars(select(ClaimRow).where(
            ClaimRow.tenant_id.in_(self.tenants),
            ClaimRow.status.in_((Status.PAYER_REJECTED.value, Status.REJECTED.value)))
            .order_by(ClaimRow.id)))
        rules = _rules(session, [r.id for r in rows])
        for row, claim in current_claims(session, self.store, rows):
            found = rules.get(row.id, set())
            if self.corrections[row.id] >= MAX_CORRECTIONS:
                continue
            changes: dict[str, Any] = {}
            if any(rule.endswith(MEMBER_NOT_FOUND) for rule in found):
                member = claim.subscriber.member_id
                changes["subscriber.member_id"] = member[:-1] + (
                    "1" if member.endswith("0") else "0")
            lines = sum((line.charge for line in claim.service_lines), ZERO)
            # (an earlier version's edit may still be on the claim: fix what is wrong now)
            if any(rule.endswith(OUT_OF_BALANCE) for rule in found) and (
                    claim.total_charge != lines):
                changes["total_charge"] = str(lines)
            if not changes:
                self.left.add(row.id)
                continue
            try:
                correct(session, self.store, row.id, changes, BY, day)
            except CorrectionError:
                session.rollback()
                self.counts["could not correct"] += 1
                continue
            self.corrections[row.id] += 1
            self.counts["corrected"] += 1

    def _denied(self, session: Session, day: date) -> None:
        balances = dict(session.execute(
            select(LedgerEntry.claim_id, func.sum(LedgerEntry.amount, type_=Money()))
            .join(ClaimRow, ClaimRow.id == LedgerEntry.claim_id)
            .where(ClaimRow.tenant_id.in_(self.tenants), LedgerEntry.account == "AR_DENIED",
                   ClaimRow.status.in_((Status.DENIED.value, Status.PARTIALLY_PAID.value)))
            .group_by(LedgerEntry.claim_id)).all())
        denied = {claim_id: amount for claim_id, amount in balances.items() if amount > 0}
        reasons = _denial_reasons(session, list(denied))
        for claim_id in sorted(denied):
            row = session.get_one(ClaimRow, claim_id)
            known = self.denials.setdefault(claim_id, _Denial(denied[claim_id], row.paid))
            codes = reasons.get(claim_id, set())
            at_once = next((WRITTEN_OFF_AT_ONCE[c] for c in sorted(codes)
                            if c in WRITTEN_OFF_AT_ONCE), None)
            if at_once is None and not known.replaced and row.prior_claim_id is None:
                try:
                    replace(session, self.store, claim_id, {}, BY, day)
                except CorrectionError:
                    session.rollback()
                    self.counts["could not replace"] += 1
                    continue
                known.replaced = True
                self.counts["replaced"] += 1
                continue
            reason = at_once or "APPEAL_EXHAUSTED"
            try:
                write_off(session, claim_id, reason, "worked by the demo biller", BY,
                          source="denied", on=day)
                session.commit()
            except WriteOffError:
                session.rollback()
                self.counts["could not write off"] += 1
                continue
            self.counts[f"written off {reason}"] += 1

    def figures(self, session: Session) -> dict[str, Any]:
        """The month's rework: claims sent and the share the payers took on first
        submission (never refused by a 999 or 277CA) and after rework (refused ones taken
        since); denied dollars recovered, written off, still in work."""
        ours = select(ClaimRow.id).where(ClaimRow.tenant_id.in_(self.tenants),
                                         ClaimRow.prior_claim_id.is_(None))
        sent = set(session.scalars(select(ClaimEvent.claim_id).where(
            ClaimEvent.to_status == Status.SUBMITTED.value, ClaimEvent.claim_id.in_(ours))))
        refused_once = set(session.scalars(select(ClaimEvent.claim_id).where(
            ClaimEvent.to_status == Status.PAYER_REJECTED.value,
            ClaimEvent.claim_id.in_(ours))))
        taken = set(session.scalars(select(ClaimRow.id).where(
            ClaimRow.id.in_(ours), ClaimRow.status.in_([s.value for s in FRONT_END_PASSED]))))
        paid_now: dict[int, Decimal] = {}
        for start in range(0, len(self.denials), 500):
            paid_now.update(session.execute(select(ClaimRow.id, ClaimRow.paid).where(
                ClaimRow.id.in_(list(self.denials)[start:start + 500]))).all())
        denied = sum((d.denied for d in self.denials.values()), ZERO)
        recovered = sum((max(ZERO, min(d.denied, paid_now.get(i, ZERO) - d.paid))
                         for i, d in self.denials.items() if d.replaced), ZERO)
        written_off = ZERO
        for start in range(0, len(self.denials), 500):
            written_off += session.scalar(
                select(func.sum(LedgerEntry.amount, type_=Money())).where(
                    LedgerEntry.account == "WRITE_OFF",
                    LedgerEntry.claim_id.in_(list(self.denials)[start:start + 500]))) or ZERO
        return {
            "claims_sent": len(sent),
            "clean_first_submission": _rate(len(sent - refused_once), len(sent)),
            # Refused once and taken since (a corrected claim the payer accepted); one
            # sent again and not answered yet counts as still refused.
            "clean_after_rework": _rate(len(sent - (refused_once - taken)), len(sent)),
            "refused_then_taken": len(refused_once & taken),
            "denied_dollars": str(denied),
            "denied_recovered": str(recovered),
            "denied_recovered_share": _rate(recovered, denied),
            "denied_written_off": str(written_off),
            "denied_in_work": str(max(ZERO, denied - recovered - written_off)),
            "work": dict(sorted({**self.counts, "left for the provider": len(
                self.left - taken)}.items())),
        }


def _rules(session: Session, claim_ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for start in range(0, len(claim_ids), 500):
        for claim_id, rule in session.execute(select(Edit.claim_id, Edit.rule_id).where(
                Edit.claim_id.in_(claim_ids[start:start + 500]))):
            found.setdefault(claim_id, set()).add(rule)
    return found


def _denial_reasons(session: Session, claim_ids: list[int]) -> dict[int, set[str]]:
    """The CARCs of each claim's denial-class adjustments, over its payments."""
    found: dict[int, set[str]] = {}
    for start in range(0, len(claim_ids), 500):
        for claim_id, group, reason in session.execute(
                select(Payment.claim_id, Adjustment.group_code, Adjustment.reason_code)
                .join(Payment, Payment.id == Adjustment.payment_id)
                .where(Payment.claim_id.in_(claim_ids[start:start + 500]),
                       Adjustment.amount > 0)):
            if classify(group, reason) is AdjustmentClass.DENIAL:
                found.setdefault(claim_id, set()).add(reason)
    return found


def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None
