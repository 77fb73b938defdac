"""A payer world: simulated payers answering through real servers on a payer's timetable.

:class:`PayerWorld` plays payers on the far side of an :class:`SftpTestServer` (and/or an
:class:`ApiServer`), driven by a clock the caller moves with :meth:`PayerWorld.advance`.
Each day it takes the 837s that arrived since it last looked, adjudicates each with a
:class:`PayerSimulator` as received that day, and leaves the answers in the payer's
mailbox on the day a payer would:

- the **999** the same day;
- the **277CA** one to three days later; about one claim in ten in **two steps**: first
  ``A1`` (received, no payer claim number yet), a few days later a rejection (``A3``/``A7``)
  in a second 277CA; such a claim is never paid;
- the **835** on the payer's weekly payment run (a fixed weekday per payer): per payee
  (billing provider NPI/TIN), every claim adjudicated since the last run whose 277CA is
  out, from whatever submission day, in one ERA file with one ST set per payee. A run
  may also **take back** (CLP02 ``22``) a claim paid in the previous run; a remittance
  that takes back more than it pays is written as a debit (BPR03 ``D``). A few claims
  are **pended**: answered a week after their 277CA by a second 277CA saying ``P1``
  (pending, in process), held three to five weeks, then paid (or denied) with **L6
  interest** (a PLB) for the days past the prompt-pay limit.

A payer's :class:`~revcycle.simulator.mismatch.Mismatches` (all off by default) make its
835s stop matching our claims the ways real ones do: line references dropped, codes
changed (SVC06), patient control numbers truncated or replaced, claims split in two CLPs
(the 277CA says ``A5``), overpayments recovered by a PLB ``WO`` instead of a reversal.
What the delivered files said, claim by claim, is :meth:`PayerWorld.remitted` (and
:meth:`PayerWorld.rejected`): the truth a benchmark scores posting against.

With ``WorldPayer.resubmissions`` on, a **replacement** (CLM05-3 ``7``) or **void**
(``8``) whose REF*F8 names the CLP07 of a decision the payer wrote and has not reversed
is answered in the payment run that takes it: first the reversal (CLP02 ``22``) of that
decision under the original's CLP07, then, for a replacement, the replacement adjudicated
afresh under a new CLP07 (not denied as late when the original was filed on time); a
void gets the reversal alone. A 7 or 8 naming no such claim (unknown, reversed, voided,
or already named by another 7 or 8 waiting for its run) is rejected in the 277CA
(``A7:21`` missing or invalid information with ``A7:35`` claim not found). Off (the
default), 7s and 8s are adjudicated as any claim, as they always were. Secondary and
tertiary claims are paid from their COB loops by the simulator (see
:meth:`~revcycle.simulator.payer.PayerSimulator._adjudicate`).

Claims whose service is older than the payer's timely-filing limit (the payer module's
``timely_filing_days``) on the day they arrive are denied CO-29 by the simulator. The
simulator's own provider-level adjustments are turned off: they are computed per file
and would not balance once claims of several files share a remittance.

Every choice comes from a hash of the payer's seed, never a random stream or the wall
clock, so the same uploads on the same days give the same bytes. Nothing here touches our
database: this is the payer's side. :meth:`PayerWorld.summary` holds counts only, no PHI.
"""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from revcycle.model.acknowledgment import ClaimAckReport, ClaimStatus, EntityStatus, StatusInfo
from revcycle.model.remittance import (
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    balance_problems,
)
from revcycle.simulator.mismatch import (
    PAID_STATUSES,
    can_split,
    mismatched,
    recoupment,
    split_parts,
)
from revcycle.simulator.payer import PayerBehaviour, PayerSimulator, _reversal
from revcycle.simulator.remitted import (
    Accepted,
    Event,
    Paid,
    Recouped,
    Rejected,
    RemittedClaim,
    Truth,
)
from revcycle.simulator.world_payers import (
    Answer,
    HeldPayment,
    Payee,
    PlayedPayer,
    Via,
    WorldPayer,
    draw,
    number,
)
from revcycle.x12.ack277 import parse_277, write_277ca
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.remit835 import parse_835, write_835
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PROMPT_PAY_DAYS = 30  # a clean claim paid later than this earns interest
INTEREST_RATE = Decimal("0.08")  # a year, on the amount paid
RECEIVED_ONLY = ("A1", "19", "PR")  # the payer acknowledges receipt; no decision yet
# The second step's rejection: subscriber not found, or the member id is wrong.
LATE_REJECTIONS = (("A3", "33", "IL"), ("A7", "164", "IL"))
MEMBER_REFUSALS = frozenset({"33", "164"})  # STC01-2: subscriber / member number not found
SPLIT = ("A5", "20")  # acknowledged: the claim was split (its parts paid apart)
PENDING = ("P1", "20")  # pending, in process: the pended claims' second 277CA
_BANK_FIELDS = ("payment_format", "sender_dfi_qualifier", "sender_dfi_id",
                "sender_account_qualifier", "sender_account_number", "originating_company_id",
                "receiver_dfi_qualifier", "receiver_dfi_id", "receiver_account_qualifier",
                "receiver_account_number")

class PayerWorld:
    """Payers answering on their own timetable; see the module docstring.

    ``advance(to)`` plays each day after the last one played up to ``to``; the first
    day played is ``start``.
    """

    def __init__(self, payers: list[WorldPayer], start: date) -> None:
        if len({p.payer_id for p in payers}) != len(payers):
            raise ValueError("each payer is played once")
        self.today = start - timedelta(days=1)  # the last day played
        self.take_backs: list[tuple[str, str]] = []  # (payer id, CLP07) reversed by a run
        self._counts: Counter[tuple[date, str, str]] = Counter()
        self._truth = Truth()
        self._payers = [self._play(p) for p in payers]

    @staticmethod
    def _play(config: WorldPayer) -> PlayedPayer:
        behaviour = replace(config.behaviour or PayerBehaviour(),
                            timely_filing_days=config.timely_filing_days,
                            provider_adjustment_rate=0.0)
        simulator = PayerSimulator((config.name, config.payer_id), config.seed,
                                   behaviour=behaviour)
        first = 1 + number(config, "control-numbers", "") % 800_000_000
        weekday = (config.payment_weekday if config.payment_weekday is not None
                   else number(config, "payment-weekday", "") % 5)
        return PlayedPayer(config, simulator, CounterControlNumbers(first, first), weekday)

    def payment_weekday(self, payer_id: str) -> int:
        """The weekday (0 Monday) of a payer's payment run."""
        return next(p.weekday for p in self._payers if p.config.payer_id == payer_id)

    def advance(self, to: date) -> None:
        """Play every day after the last one played, up to and including ``to``."""
        while self.today < to:
            self.today += timedelta(days=1)
            for payer in self._payers:
                self._intake(payer, self.today)
                if self.today.weekday() == payer.weekday:
                    self._payment_run(payer, self.today)
                self._deliver(payer, self.today)

    def remitted(self) -> dict[tuple[str, str], RemittedClaim]:
        """Per (payer id, our patient control number): what the ERAs delivered to the
        mailbox so far paid that claim of ours (not what waits in the outbox). Claims the
        payer was never sent (a payment for a claim billed elsewhere) are not in it."""
        return self._truth.remitted()

    def rejected(self) -> set[tuple[str, str]]:
        """(payer id, our patient control number) of the claims a delivered 277CA
        rejected, in its first step or its second."""
        return self._truth.rejected()

    def summary(self, payer_id: str | None = None) -> dict[str, dict[str, int]]:
        """Counts per day (ISO date) per kind, for every payer or one; no PHI.

        Kinds: ``837`` files taken, ``unreadable`` 837s (no 999 possible), ``999``,
        ``277CA`` files (``277CA-second`` the second steps, ``pend-277`` the pended
        claims' ``P1`` answers), ``ERA`` files, and claims: ``two-step``, ``pended``,
        ``paid``, ``denied``, ``reversed`` (take-backs), ``replaced`` and ``voided``
        (7s and 8s answered in a run), ``interest`` (L6 adjustments),
        and the mismatches applied (see :mod:`~revcycle.simulator.mismatch`):
        ``missing_line_ref``, ``changed_code``, ``truncated_pcn``, ``renumbered`` (claim
        payments), ``split`` (claims), ``wo_recoupment`` (PLBs).
        """
        days: dict[str, dict[str, int]] = {}
        for (day, payer, kind), count in sorted(self._counts.items()):
            if payer_id in (None, payer):
                kinds = days.setdefault(day.isoformat(), {})
                kinds[kind] = kinds.get(kind, 0) + count
        return days

    def _count(self, day: date, payer: PlayedPayer, kind: str, n: int = 1) -> None:
        if n:
            self._counts[day, payer.config.payer_id, kind] += n

    # -- a day's submissions --------------------------------------------------------

    def _arrivals(self, payer: PlayedPayer) -> list[tuple[Via, str, bytes]]:
        """The 837s at the payer's servers not taken yet, in name order per server."""
        config = payer.config
        found: list[tuple[Via, str, bytes]] = []
        if config.sftp is not None:
            found += [("sftp", name, data)
                      for name, data in config.sftp.received(config.sftp_user).items()]
        if config.api is not None:
            found += [("api", key, data) for key, data in sorted(config.api.received.items())]
        fresh = []
        for via, name, data in found:
            mark = (f"{via}:{name}", hashlib.sha256(data).hexdigest())
            if mark not in payer.taken:
                payer.taken.add(mark)
                fresh.append((via, name, data))
        return fresh

    def _intake(self, payer: PlayedPayer, day: date) -> None:
        for via, _, data in self._arrivals(payer):
            self._count(day, payer, "837")
            named = {p.replaces for p in payer.pending}  # by a 7 or 8 waiting for its run
            originals = ({clp07: received for clp07, (_, _, received)
                          in payer.decided.items() if clp07 not in named}
                         if payer.config.resubmissions else None)
            try:
                response = payer.simulator.respond(data, received=day,
                                                   control_numbers=payer.numbers,
                                                   originals=originals,
                                                   refused=payer.refused)
            except X12Error:
                self._count(day, payer, "unreadable")  # a real gateway would send a TA1
                continue
            icn = _interchange_number(data)
            payer.outbox.append(Answer(day, 0, "999", f"999_{icn}_{day:%Y%m%d}.x12",
                                        response.ack_999, via))
            if response.ack_277ca is None:
                continue
            sha = hashlib.sha256(data).hexdigest()
            acked = day + timedelta(days=1 + number(payer.config, "277-delay", sha) % 3)
            remittances: list[Remittance] = [] if response.remittance_835 is None else (
                X12Reader(response.remittance_835, {"835": parse_835}).read()
                .bodies(Remittance))
            resubmitted = response.resubmitted
            split = _splits(payer.config, remittances) - {
                c.patient_control_number for r in remittances for c in r.claims
                if c.payer_claim_control_number in resubmitted}
            held = self._acknowledge(payer, response.ack_277ca, acked, icn, sha, via, split,
                                     response.members)
            self._hold(payer, remittances, day, acked, held, split, resubmitted)

    def _acknowledge(self, payer: PlayedPayer, data: bytes, day: date, icn: str, sha: str,
                     via: Via, split: set[str], response_members: Mapping[str, str]
                     ) -> set[str]:
        """Schedule the 277CA (and second steps, and the pended claims' P1 answers);
        ``split``: our claims the payer splits (A5, not A2). The payer claim numbers
        never to pay."""
        document = X12Reader(data, {"277": parse_277}).read()
        interchange = document.interchanges[0]
        payer.addressee = Party(interchange.receiver_id, interchange.receiver_qualifier,
                                interchange.groups[0].receiver_code)
        payer.usage_indicator = interchange.usage_indicator
        reports: list[ClaimAckReport] = document.bodies(ClaimAckReport)
        config = payer.config
        # A claim sent again (corrected after a rejection) is not made to wait twice.
        seen_before = set(payer.ours)
        payer.ours.update(c.patient_control_number for r in reports for c in r.claims)
        held: set[str] = set()
        later: list[ClaimAckReport] = []
        second = day + timedelta(days=2 + number(config, "second-step", sha) % 4)
        for report in reports:
            two_step = [c for c in report.claims if c.categories == ("A2",)
                        and c.patient_control_number not in seen_before
                        and draw(config, "two-step", c.patient_control_number)
                        < config.two_step_rate]
            if not two_step:
                continue
            rejected = copy.deepcopy(report)
            keep = {c.patient_control_number for c in two_step}
            rejected.claims = [c for c in rejected.claims if c.patient_control_number in keep]
            for claim in two_step:
                held.add(claim.payer_claim_control_number)
                claim.statuses = [StatusInfo(*RECEIVED_ONLY)]
                claim.payer_claim_control_number = ""
            for claim in rejected.claims:
                pick = number(config, "late-rejection", claim.patient_control_number)
                claim.statuses = [StatusInfo(*LATE_REJECTIONS[pick % len(LATE_REJECTIONS)])]
                claim.action_code, claim.effective_date = "U", second
                claim.payer_claim_control_number = ""
            rejected.created = rejected.process_date = second
            later.append(_recount(rejected))
        for claim in (c for r in reports for c in r.claims):
            if claim.categories == ("A2",) and claim.patient_control_number in split:
                claim.statuses = [StatusInfo(*SPLIT)]
        # Never on the day of the second step (two to five days on): one file name a day.
        pend_day = day + timedelta(days=6 + number(config, "pend-277", sha) % 3)
        pends = _pending_reports(reports, config, pend_day)
        for report in reports:
            report.created = report.process_date = day
            _recount(report)
        self._count(day, payer, "two-step", len(held))
        refused = tuple(Rejected(c.patient_control_number) if c.rejected
                        else Accepted(c.patient_control_number)
                        for r in reports for c in r.claims)
        payer.refused.update({c.patient_control_number: response_members.get(
            c.patient_control_number, "") for r in reports for c in r.claims
            if c.rejected and _member_refusal(c)})
        payer.outbox.append(Answer(day, 1, "277CA", f"277CA_{icn}_{day:%Y%m%d}.x12",
                                    self._write_277(payer, reports, day), via, refused))
        payer.refused.update({c.patient_control_number: response_members.get(
            c.patient_control_number, "") for r in later for c in r.claims
            if _member_refusal(c)})
        if later:
            payer.outbox.append(Answer(
                second, 1, "277CA-second", f"277CA_{icn}_{second:%Y%m%d}.x12",
                self._write_277(payer, later, second), via,
                tuple(Rejected(c.patient_control_number) for r in later for c in r.claims)))
        if pends:
            payer.outbox.append(Answer(pend_day, 1, "pend-277",
                                        f"277CA_{icn}_{pend_day:%Y%m%d}.x12",
                                        self._write_277(payer, pends, pend_day), via))
        return held

    def _write_277(self, payer: PlayedPayer, reports: list[ClaimAckReport], day: date) -> bytes:
        return write_277ca(reports, self._header(payer, day, 7), payer.numbers).text.encode()

    def _header(self, payer: PlayedPayer, day: date, hour: int) -> InterchangeHeader:
        return InterchangeHeader(Party(payer.config.payer_id), payer.addressee,
                                 usage_indicator=payer.usage_indicator,
                                 created=datetime.combine(day, time(hour, 0)))

    def _hold(self, payer: PlayedPayer, remittances: list[Remittance], received: date, due: date,
              held: set[str], split: set[str],
              resubmitted: Mapping[str, str] | None = None) -> None:
        """Keep the simulator's claim payments for the payment run after ``due`` (or some
        weeks later when pended); ``held``: payer claim numbers never to pay; ``split``:
        our claims paid in two parts, the second one run later half the time;
        ``resubmitted``: the accepted replacements and voids (CLP07 -> the original's),
        whose run reverses the original first (a void's, nothing more)."""
        resubmitted = resubmitted or {}
        config = payer.config
        for remittance in remittances:
            payee = (remittance.payee.id, remittance.payee.tax_id)
            known = payer.templates.get(payee)
            if known is None or (known.payment_method == "NON"
                                 and remittance.payment_method != "NON"):
                payer.templates[payee] = remittance  # one that carries bank details
            for claim in remittance.claims:
                clp07 = claim.payer_claim_control_number
                if clp07 in held or clp07[:-2] in held:  # its correction or repeat too
                    continue
                original = resubmitted.get(clp07, "")
                void = claim.frequency_code == "8" and (original or clp07[:-2] in resubmitted)
                if void and (claim.is_reversal or not original):
                    continue  # a void is answered by the original's reversal alone
                if claim.is_reversal:
                    original = ""
                pcn = claim.patient_control_number  # a reversal pends with its claim
                pended = _pended(config, pcn)
                weeks = 3 + number(config, "pend-weeks", pcn) % 3 if pended else 0
                when = due + timedelta(weeks=weeks)
                if pcn in split:
                    first, second = split_parts(claim)
                    later = draw(config, "split-later", pcn) < 0.5
                    payer.pending += [
                        HeldPayment(payee, first, received, when, claim.charge, 1),
                        HeldPayment(payee, second, received, when + timedelta(weeks=later),
                                 claim.charge, 2)]
                else:
                    payer.pending.append(HeldPayment(payee, claim, received, when, claim.charge,
                                                  replaces=original, void=bool(void)))
                self._count(received, payer, "pended", pended and not claim.is_reversal)

    # -- the payment run ------------------------------------------------------------

    def _payment_run(self, payer: PlayedPayer, day: date) -> None:
        """One ERA: per payee, what is due since the last run, and last run's take-backs."""
        due = [p for p in payer.pending if p.due <= day]
        payer.pending = [p for p in payer.pending if p.due > day]
        config = payer.config
        numbered = partial(number, config)
        claims: dict[Payee, list[ClaimPayment]] = {}
        adjustments: dict[Payee, list[ProviderAdjustment]] = {}
        events: list[Event] = []
        for payment in due:
            if payment.replaces:
                self._supersede(payer, payment, day, claims, events)
                if payment.void:
                    continue
            written, applied = payment.claim, ("split",)
            if not payment.part:  # a split part is written as split, nothing else
                written, applied = mismatched(payment.claim, config.mismatches, numbered)
            for kind in applied:
                self._count(day, payer, kind, kind != "split" or payment.part == 1)
            claims.setdefault(payment.payee, []).append(written)
            if payment.claim.patient_control_number in payer.ours:
                events.append(Paid(payment.claim, payment.charge, applied))
            owed = _interest(payment, day)
            if owed is not None:
                adjustments.setdefault(payment.payee, []).append(owed)
                self._count(day, payer, "interest")
        for payee, claim in payer.last_paid:
            payer_number, pcn = claim.payer_claim_control_number, claim.patient_control_number
            if payer_number in payer.superseded:
                continue  # replaced or voided since: reversed already
            if draw(config, "take-back", payer_number) < config.take_back_rate:
                payer.decided.pop(payer_number, None)
                claims.setdefault(payee, []).append(_reversal(claim))
                self.take_backs.append((config.payer_id, payer_number))
                self._count(day, payer, "reversed")
                if pcn in payer.ours:
                    events.append(Paid(_reversal(claim), claim.charge))
            # A payee with no claim in this run gets a set of the PLB alone (a debit).
            elif (draw(config, "wo-recoupment", payer_number)
                  < config.mismatches.wo_recoupment):
                recovered = recoupment(claim, payee[0], day, numbered)
                adjustments.setdefault(payee, []).append(recovered)
                claims.setdefault(payee, [])
                self._count(day, payer, "wo_recoupment")
                if pcn in payer.ours:
                    events.append(Recouped(pcn, recovered.amount))
        payer.last_paid = [(p.payee, p.claim) for p in due if p.claim.paid > 0
                           and p.claim.status_code in PAID_STATUSES and not p.part
                           and not p.void]
        for p in due:  # the decisions a replacement or void may name from now on
            clp07 = p.claim.payer_claim_control_number
            if p.claim.is_reversal:
                payer.decided.pop(clp07, None)
            elif not p.part and not p.void:
                payer.decided[clp07] = (p.payee, p.claim, p.received)
        if not claims:
            return
        remittances = [self._remittance(payer, payee, items, adjustments.get(payee, []), day,
                                        index)
                       for index, (payee, items) in enumerate(claims.items(), 1)]
        data = write_835(remittances, self._header(payer, day, 8), payer.numbers).text.encode()
        via: Via = "sftp" if config.sftp is not None else "api"
        payer.outbox.append(Answer(day, 2, "ERA", f"ERA_{config.payer_id}_{day:%Y%m%d}_1.835",
                                    data, via, tuple(events)))
        new = [p.claim for p in due if not p.claim.is_reversal and not p.void]
        self._count(day, payer, "denied", sum(c.is_denial for c in new))
        self._count(day, payer, "paid", sum(not c.is_denial for c in new))

    def _supersede(self, payer: PlayedPayer, payment: HeldPayment, day: date,
                   claims: dict[Payee, list[ClaimPayment]], events: list[Event]) -> None:
        """A replacement's or void's first CLP: the reversal of the payer's last decision on
        the original (its CLP07), unless a take-back reversed it since the 7 or 8 came."""
        decided = payer.decided.pop(payment.replaces, None)
        self._count(day, payer, "voided" if payment.void else "replaced")
        if decided is None:
            return
        payee, original, _ = decided
        payer.superseded.add(payment.replaces)
        reversal = _reversal(original)
        claims.setdefault(payee, []).append(reversal)
        if original.patient_control_number in payer.ours:
            events.append(Paid(reversal, original.charge))

    def _remittance(self, payer: PlayedPayer, payee: Payee, claims: list[ClaimPayment],
                    adjustments: list[ProviderAdjustment], day: date,
                    sequence: int) -> Remittance:
        """One payee's set: the payer's and payee's details from an earlier 835 of the
        simulator, the totals and the trace number of this run."""
        total = (sum((c.paid for c in claims), ZERO)
                 - sum((a.amount for a in adjustments), ZERO))
        template = payer.templates[payee]
        banked = template.payment_method != "NON"
        remittance = replace(
            template, claims=claims, provider_adjustments=adjustments, total_paid=abs(total),
            credit_debit_flag="D" if total < 0 else "C", handling_code="I" if total else "H",
            payment_method=("NON" if not total else template.payment_method if banked
                            else "CHK"),
            payment_date=day, production_date=day,
            trace_number=f"{day:%y%m%d}{number(payer.config, 'trace', str(day)) % 10**6:06d}"
                         f"{sequence:03d}")
        if not total:
            remittance = replace(remittance, **dict.fromkeys(_BANK_FIELDS, ""))
        problems = balance_problems(remittance)
        if problems:  # the world's own bug: never write an unbalanced 835
            raise ValueError(f"payment run remittance does not balance: {problems}")
        return remittance

    # -- the mailbox ----------------------------------------------------------------

    def _deliver(self, payer: PlayedPayer, day: date) -> None:
        """Leave the answers due today in the payer's mailbox."""
        today = sorted((a for a in payer.outbox if a.day <= day), key=lambda a: a.rank)
        payer.outbox = [a for a in payer.outbox if a.day > day]
        config = payer.config
        for answer in today:
            if answer.via == "sftp":
                assert config.sftp is not None
                config.sftp.put_answer(config.sftp_user, answer.name, answer.data)
            else:
                assert config.api is not None
                config.api.put_answer(answer.name, answer.data)
            self._count(day, payer, answer.kind)
            self._truth.apply(config.payer_id, answer.truth)


def _member_refusal(claim: ClaimStatus) -> bool:
    """Refused because the payer found no such member (33) or member number (164)."""
    return any(s.status_code in MEMBER_REFUSALS for s in claim.statuses)


def _pended(config: WorldPayer, pcn: str) -> bool:
    return draw(config, "pend", pcn) < config.pend_rate


def _splits(config: WorldPayer, remittances: list[Remittance]) -> set[str]:
    """Our claims the payer splits: drawn among those it can split (see
    :func:`~revcycle.simulator.mismatch.can_split`) that have one CLP in the simulator's
    835 (none reversed and corrected, or paid twice)."""
    rate = config.mismatches.split
    if not rate:
        return set()
    clps = Counter(c.patient_control_number for r in remittances for c in r.claims)
    return {c.patient_control_number for r in remittances for c in r.claims
            if clps[c.patient_control_number] == 1 and can_split(c)
            and draw(config, "split", c.patient_control_number) < rate}


def _pending_reports(reports: list[ClaimAckReport], config: WorldPayer,
                     day: date) -> list[ClaimAckReport]:
    """The P1 (pending, in process) answers for the pended claims of ``reports`` that
    were accepted (A2 or A5): their payer claim numbers kept."""
    pends: list[ClaimAckReport] = []
    for report in reports:
        keep = {c.patient_control_number for c in report.claims
                if c.categories in (("A2",), ("A5",))
                and _pended(config, c.patient_control_number)}
        if not keep:
            continue
        pending = copy.deepcopy(report)
        pending.claims = [c for c in pending.claims if c.patient_control_number in keep]
        for claim in pending.claims:
            claim.statuses = [StatusInfo(*PENDING)]
            claim.action_code, claim.effective_date = "WQ", day
        pending.created = pending.process_date = day
        pends.append(_recount(pending))
    return pends


def _interest(payment: HeldPayment, day: date) -> ProviderAdjustment | None:
    """L6 interest (a negative PLB: it adds to the payment) on a claim paid late."""
    claim = payment.claim
    late = (day - payment.received).days - PROMPT_PAY_DAYS
    if late <= 0 or claim.paid <= 0 or claim.status_code not in PAID_STATUSES:
        return None
    amount = max(CENT, (claim.paid * INTEREST_RATE * late / 365).quantize(CENT))
    return ProviderAdjustment(payment.payee[0], date(day.year, 12, 31), "L6", -amount,
                              claim.payer_claim_control_number)


def _recount(report: ClaimAckReport) -> ClaimAckReport:
    """The accepted/rejected quantities and amounts of each level, from its claims."""
    def charges(claims: list[ClaimStatus]) -> Decimal:
        return sum((c.total_charge or ZERO for c in claims), ZERO)

    def fill(level: EntityStatus, claims: list[ClaimStatus]) -> None:
        accepted = [c for c in claims if not c.rejected]
        rejected = [c for c in claims if c.rejected]
        level.accepted_quantity = len(accepted) or None
        level.rejected_quantity = len(rejected) or None
        level.accepted_amount = charges(accepted) if accepted else None
        level.rejected_amount = charges(rejected) if rejected else None
        level.total_charge = charges(claims)

    report.billing_providers = [p for p in report.billing_providers
                                if any(c.billing_provider is p for c in report.claims)]
    for provider in report.billing_providers:
        fill(provider, [c for c in report.claims if c.billing_provider is provider])
    if report.receiver is not None:
        fill(report.receiver, report.claims)
    return report


def _interchange_number(data: bytes) -> str:
    """ISA13 of a file (the ISA is fixed width: its fourth byte is the separator)."""
    elements = data[:106].decode("ascii", "replace").split(data[3:4].decode("ascii", "replace"))
    return elements[13].strip() if len(elements) > 13 else hashlib.sha256(data).hexdigest()[:9]
