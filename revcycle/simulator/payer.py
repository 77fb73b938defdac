"""A simulated payer: what a payer's EDI gateway and claim system send back for an 837.

:class:`PayerSimulator` reads a submitted 837 the way a payer's translator does and answers
with the three files a biller gets back:

- a **999** (005010X231A1): one AK2/IK5 per transaction set. A set the project reader
  cannot read is rejected (IK5 ``R``) with an IK3/IK4 naming the segment and element
  where reading failed, and reading goes on with the next set. When the envelope itself is
  broken (a set or group without its trailer) nothing in the interchange is taken in:
  every set is rejected. A file with no readable functional group cannot be acknowledged
  at all (a real gateway would send a TA1): its ``X12Error`` is raised.
- a **277CA** (005010X214) for the claims of accepted sets: each claim accepted into
  adjudication (``A2:20``, with a payer claim control number in REF*1K) or rejected with
  a real claim status code: invalid NPI (``A7:562``), claim out of balance (``A7:400``),
  dates of service after receipt (``A7:187``), subscriber not found (``A3:33``) for
  member ids matching :attr:`PayerBehaviour.unknown_member_pattern` or for a small share
  of claims.
- an **835** (005010X221A1) for the accepted claims, one remittance per payee (billing
  provider): each line priced from a :class:`FeeSchedule` (CO-45 for the excess), the
  patient's share by plan rules (PR-1 deductible, PR-3 copay, PR-2 coinsurance), whole
  claims denied (CLP02 ``4``, CO with a real CARC and RARCs), some lines denied as bundled,
  exact duplicates of a claim earlier in the same file denied CO-18, late claims CO-29.
  And the hard cases a poster must handle (see :class:`PayerBehaviour`): payments reversed
  (CLP02 ``22``, every amount negated, same CLP07) and re-paid as a corrected claim (a new
  CLP07, a higher allowed amount) later in the same 835; provider-level adjustments (PLB
  ``WO`` overpayment recovery, ``L6`` interest, ``FB`` forward balance); institutional
  claims adjudicated at claim level only (claim CAS, no SVC); claims processed as
  secondary (CLP02 ``2``, the primary payer's payment as OA-23); a claim paid twice; and
  a payment for a claim the biller never sent. A secondary or tertiary claim (SBR01 S/T)
  with other-payer loops is paid from the amounts they carry (per line what the last prior
  payer left to the patient, less a share drawn to stay the patient's as PR-2; the prior
  payments as OA-23, the prior cuts as CO-45), or denied CO-22 when none of them carries
  a paid amount (AMT*D); one without such loops is paid on an estimate as before.
  Every remittance is checked with ``balance_problems`` before it is written.

Every decision is drawn from a hash of the seed, the payer and the claim's patient control
number, never from a random stream, so a claim gets the same answer whatever else is in
the file, and the same inputs always give the same bytes. Nothing here touches storage.
The response's counts carry no PHI; the files do (they are payer files).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from revcycle.codesets import npi
from revcycle.model.acknowledgment import (
    ClaimAckReport,
    ClaimStatus,
    ElementError,
    EntityStatus,
    FunctionalAck,
    SegmentError,
    StatusInfo,
    TransactionSetAck,
)
from revcycle.model.acknowledgment import Entity as AckEntity
from revcycle.model.claim import (
    Address,
    Claim,
    ClaimBatch,
    ClaimType,
    CobAdjustment,
    Provider,
    ServiceLine,
)
from revcycle.model.remittance import (
    REVERSAL,
    Adjustment,
    ClaimPayment,
    Contact,
    Entity,
    ProviderAdjustment,
    Remittance,
    RemittancePayee,
    RemittancePayer,
    ServicePayment,
    balance_problems,
)
from revcycle.simulator.providers import PayerProfile
from revcycle.x12.ack277 import write_277ca
from revcycle.x12.ack999 import MAX_LOOP_ID, write_999
from revcycle.x12.envelope import (
    ENVELOPE_TAGS,
    BodyContext,
    Interchange,
    TransactionSet,
    X12Document,
    X12Reader,
)
from revcycle.x12.errors import (
    X12ElementError,
    X12EnvelopeError,
    X12Error,
    X12StructureError,
    X12UnsupportedError,
)
from revcycle.x12.read837 import parse_837
from revcycle.x12.remit835 import write_835
from revcycle.x12.writer import ControlNumbers, InterchangeHeader, Party

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# SBR09 (claim filing indicator) -> CLP06. The 835 has no code for commercial (CI), Blue
# Cross (BL), FEP (FI) or other non-federal (11) plans: they are reported as PPO, other
# federal program and mutually defined, as payers commonly do.
CLAIM_FILING_CODES_835: dict[str, str] = {
    **{code: code for code in ("12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM",
                               "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ")},
    "CI": "12", "BL": "12", "FI": "OF", "11": "ZZ",
}
# SBR01 (payer responsibility sequence) -> CLP02 when the claim is processed.
_PROCESSED_AS = {"P": "1", "S": "2", "T": "3"}
RESUBMISSIONS = ("7", "8")  # CLM05-3: replacement, void (REF*F8 names the original)
PROVIDER_ADJUSTMENT_KINDS = ("WO", "L6", "FB")
PRIOR_PAYER = ("OA", "23")  # CARC 23: the impact of prior payer(s) adjudication
CONTRACTUAL = ("CO", "45")  # CARC 45: charge exceeds the fee schedule / contracted amount
COB_SHARE = 0.5  # secondary claims on which the plan's coinsurance stays the patient's
# A replacement (7) or void (8) whose REF*F8 names no claim the payer decided (or one
# already reversed): rejected, missing or invalid information (21), claim not found (35).
UNKNOWN_ORIGINAL = (("A7", "21"), ("A7", "35"))

DEFAULT_PAYER_ADDRESS = Address("PO BOX 1000", "SPRINGFIELD", "IL", "62701")
DEFAULT_PAYER_CONTACT = Contact("BL", "EDI SUPPORT", (("TE", "8005550100"),))
_EIN_PREFIX = "00"  # the IRS assigns no EIN starting 00: a payer tax id that is surely fake

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Denial:
    """A reason to pay nothing: a CARC with its group code and the RARCs that go with it."""

    reason_code: str  # CARC, e.g. "50" not medically necessary
    remark_codes: tuple[str, ...] = ()  # RARCs (LQ*HE), e.g. ("N115",)
    group_code: str = "CO"
    weight: int = 1  # how often it is chosen among its peers


DEFAULT_DENIALS: tuple[Denial, ...] = (
    Denial("50", ("N115",), weight=3),  # not medically necessary (per an LCD)
    Denial("16", ("M51",), weight=3),  # billing error: invalid procedure code
    Denial("96", ("N130",), weight=2),  # non-covered charge (see plan benefits)
    Denial("197", weight=2),  # precertification / authorization absent
)
DEFAULT_LINE_DENIALS: tuple[Denial, ...] = (
    Denial("97", ("M15",), weight=2),  # bundled into another service's payment
    Denial("234", ("N20",)),  # not paid separately with another service that day
)
DUPLICATE = Denial("18")  # exact duplicate claim/service
# A secondary or tertiary claim without the prior payer's payment (no 2320 AMT*D): this
# care may be covered by another payer per coordination of benefits.
COB_MISSING = Denial("22")
TIMELY_FILING = Denial("29")  # the time limit for filing has expired


@dataclass(frozen=True, slots=True)
class PlanRules:
    """What the member pays: deductible, then copay, then coinsurance on the rest."""

    deductible: Decimal = ZERO  # the most a claim can meet (an unmet annual deductible)
    deductible_share: float = 0.0  # share of claims that fall (partly) in the deductible
    coinsurance: Decimal = ZERO  # rate, e.g. 0.20
    copay: Decimal = ZERO  # per professional claim, on its first E/M line (99xxx)

    def __post_init__(self) -> None:
        if (self.deductible < 0 or self.copay < 0 or not 0 <= self.coinsurance <= 1
                or not 0.0 <= self.deductible_share <= 1.0):
            raise ValueError("amounts must not be negative, shares and rates between 0 and 1")


COMMERCIAL_PLAN = PlanRules(Decimal("1500.00"), 0.25, Decimal("0.20"), Decimal("25.00"))
DEFAULT_PLANS: dict[str, PlanRules] = {
    "MB": PlanRules(Decimal("257.00"), 0.2, Decimal("0.20")),  # Medicare Part B
    "MA": PlanRules(Decimal("1676.00"), 0.2),  # Medicare Part A
    "MC": PlanRules(copay=Decimal("4.00")),  # Medicaid: a nominal copay
    "HM": PlanRules(copay=Decimal("20.00")),  # HMO: copays only
}


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Allowed amounts per unit by procedure (HCPCS/CPT) or revenue code.

    A line is priced by its procedure code, else by its revenue code, else at
    ``default_percent`` of its charge; the allowed amount never exceeds the charge.
    """

    procedures: Mapping[str, Decimal]
    revenue_codes: Mapping[str, Decimal] = field(default_factory=dict)
    default_percent: Decimal = Decimal("0.60")

    def __post_init__(self) -> None:
        if self.default_percent < 0 or any(
                rate < 0 for table in (self.procedures, self.revenue_codes)
                for rate in table.values()):
            raise ValueError("fee schedule amounts must not be negative")

    def allowed(self, line: ServiceLine) -> Decimal:
        rate = self.procedures.get(line.procedure_code) if line.procedure_code else None
        if rate is None and line.revenue_code:
            rate = self.revenue_codes.get(line.revenue_code)
        amount = line.charge * self.default_percent if rate is None else rate * line.units
        return min(line.charge, amount.quantize(CENT, ROUND_HALF_UP))


def _table(text: str) -> dict[str, Decimal]:
    return {code: Decimal(amount) for code, amount in
            (pair.split("=") for pair in text.split())}


# Made-up per-unit amounts in the range payers allow for these codes.
DEFAULT_FEE_SCHEDULE = FeeSchedule(
    _table("""
        99202=72.10 99203=109.50 99204=165.30 99212=56.40 99213=89.90 99214=126.20
        99215=177.80 99391=104.00 99392=110.50 99393=110.00 99394=119.40 99395=121.20
        99396=131.70 99397=142.60 99221=104.10 99222=140.80 99223=205.60 99231=62.30
        99232=95.00 99283=72.40 99284=124.90 99285=182.30 36415=3.00 80053=10.56
        80061=13.39 85025=7.77 83036=9.71 84443=16.80 81002=3.48 87880=12.45 82947=3.93
        71046=31.20 73030=30.80 73610=31.50 72100=36.40 70450=114.90 74177=249.30
        76700=112.60 93000=16.10 93005=8.40 96372=14.70 90471=17.30 90686=19.90
        20610=61.20 97110=29.80 97140=27.60 J1100=0.12 J3301=1.63 J1885=0.48 J0696=0.90
        G0439=131.10 G0008=30.90 G2211=16.00 G0463=121.30
    """),
    _table("0120=1850.00 0250=9.50 0270=12.00 0300=24.00 0320=88.00 0410=44.00"
           " 0450=480.00 0730=58.00"),
)


@dataclass(frozen=True, slots=True)
class PayerBehaviour:
    """How often the payer rejects, denies and cuts, and how it pays."""

    rejection_rate: float = 0.03  # claims rejected in the 277CA as subscriber not found
    unknown_member_pattern: str | None = None  # regex: member ids always "not found"
    denial_rate: float = 0.05  # accepted claims denied whole
    partial_rate: float = 0.08  # accepted claims (2+ lines) with one line denied
    denials: tuple[Denial, ...] = DEFAULT_DENIALS
    line_denials: tuple[Denial, ...] = DEFAULT_LINE_DENIALS
    timely_filing_days: int = 365  # a claim whose first service is older is denied CO-29
    payment_lag_days: int = 0  # BPR16 = received + this
    payment_method: str = "ACH"  # "ACH" (EFT, CCP format) or "CHK"
    plans: Mapping[str, PlanRules] = field(default_factory=lambda: dict(DEFAULT_PLANS))
    default_plan: PlanRules = COMMERCIAL_PLAN  # for filing indicators not in ``plans``
    # The hard cases. Rates of 0 turn each off and leave every other answer as it was.
    # Paid claims whose payment is reversed (CLP02 22) and re-paid corrected, later in the
    # same 835 (only claims the correction pays more: a line cut by CO-45 to re-price).
    reversal_rate: float = 0.01
    # Remittances paying something that carry a PLB of one of ``provider_adjustments``:
    # WO recovers an earlier overpayment (PLB03-2: that claim's control number), L6 pays
    # interest on a claim of the remittance, FB is a recovery larger than the payment:
    # WO takes it all and FB carries the rest forward (BPR02 0).
    provider_adjustment_rate: float = 0.1
    provider_adjustments: tuple[str, ...] = PROVIDER_ADJUSTMENT_KINDS
    # 837I claims adjudicated at claim level: their CAS on the CLP, no SVC loop.
    unlined_rate: float = 0.1
    # Claims processed as secondary (CLP02 2) though the 837 says primary; claims whose
    # SBR01 is S or T always are. The primary payer's payment shows as OA-23, and this
    # payer pays the patient's deductible and coinsurance left by it (copays stay PR-3).
    secondary_rate: float = 0.03
    # Paid claims paid a second time later in the same 835 (a new CLP07, no reversal of
    # the first): the payer's error, which a poster must flag rather than post.
    duplicate_payment_rate: float = 0.002
    # Paid claims followed later in the 835 by a payment for a claim the biller never sent
    # (billed on paper or through another clearinghouse): same amounts, a patient control
    # number unknown to the biller. A poster must queue it, not guess.
    unknown_claim_rate: float = 0.002

    def __post_init__(self) -> None:
        for name in ("rejection_rate", "denial_rate", "partial_rate", "reversal_rate",
                     "provider_adjustment_rate", "unlined_rate", "secondary_rate",
                     "duplicate_payment_rate", "unknown_claim_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not self.denials or not self.line_denials:
            raise ValueError("denials and line_denials need at least one reason each")
        if not self.provider_adjustments or not set(self.provider_adjustments) <= set(
                PROVIDER_ADJUSTMENT_KINDS):
            raise ValueError("provider_adjustments are some of WO, L6 and FB")
        if self.payment_method not in ("ACH", "CHK"):
            raise ValueError("payment_method is ACH or CHK")
        if self.timely_filing_days < 1 or self.payment_lag_days < 0:
            raise ValueError("timely_filing_days must be positive, payment_lag_days not"
                             " negative")
        if self.unknown_member_pattern is not None:
            try:
                re.compile(self.unknown_member_pattern)
            except re.error:
                raise ValueError("unknown_member_pattern is not a regular expression") from None


# --------------------------------------------------------------------------- the response


@dataclass(frozen=True, slots=True)
class PayerResponse:
    """The payer's three files and what they say, in counts (no PHI in the counts)."""

    ack_999: bytes
    ack_277ca: bytes | None  # None when the 999 took no set in
    remittance_835: bytes | None  # None when no claim was accepted
    sets_accepted: int = 0
    sets_rejected: int = 0
    claims_accepted: int = 0  # 277CA A2
    claims_rejected: int = 0  # 277CA A3/A7
    claims_paid: int = 0  # 835 CLP02 1/2/3 (a claim all in deductible pays 0 but counts)
    claims_denied: int = 0  # 835 CLP02 4
    claims_with_denied_lines: int = 0
    claims_reversed: int = 0  # paid, reversed (CLP02 22) and paid again corrected
    duplicate_payments: int = 0  # second CLPs paying a claim already paid in the 835
    unknown_claims: int = 0  # CLPs for claims not in the 837 (never sent by the biller)
    provider_adjustments: int = 0  # PLB adjustments (WO, L6, FB)
    billed_total: Decimal = ZERO  # CLP03 over the 835 (reversals and corrections included)
    paid_total: Decimal = ZERO  # BPR02 over the 835
    # Accepted replacements (7) and voids (8), when the payer was told which claims it
    # decided (``respond(originals=...)``): their CLP07 -> the CLP07 their REF*F8 names.
    resubmitted: Mapping[str, str] = field(default_factory=dict)
    # The subscriber id each claim of the 837 named, by patient control number: the world
    # remembers the ids it refused (not found) to take a corrected one when sent again.
    members: Mapping[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, int | str]:
        """The counts as plain values, fit for logs, task results and artifacts."""
        return {
            "sets_accepted": self.sets_accepted, "sets_rejected": self.sets_rejected,
            "claims_accepted": self.claims_accepted, "claims_rejected": self.claims_rejected,
            "claims_paid": self.claims_paid, "claims_denied": self.claims_denied,
            "claims_with_denied_lines": self.claims_with_denied_lines,
            "claims_reversed": self.claims_reversed,
            "duplicate_payments": self.duplicate_payments,
            "unknown_claims": self.unknown_claims,
            "provider_adjustments": self.provider_adjustments,
            "billed_total": str(self.billed_total), "paid_total": str(self.paid_total),
        }


# --------------------------------------------------------------------------- reading the 837


class _Tracked:
    """The segment stream of one set, remembering how many were read and the last one."""

    __slots__ = ("count", "last", "segments")

    def __init__(self, segments: Iterator[list[str]]) -> None:
        self.segments = segments
        self.count = 0
        self.last: list[str] | None = None

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        self.last = next(self.segments)
        self.count += 1
        return self.last


def _element_code(reason: str) -> str:
    """IK403 for an element error; the reason never holds the value, only what is wrong."""
    if "missing" in reason:
        return "1"  # mandatory data element missing
    if "date" in reason:
        return "8"  # invalid date
    if "number" in reason:
        return "6"  # invalid character in data element
    return "7"  # invalid code value


def _valid_tag(tag: str) -> bool:
    return 2 <= len(tag) <= 3 and tag.isascii() and tag.isalnum() and tag.isupper()


def _rejection(transaction: TransactionSet, exc: X12Error, start: int,
               tracked: _Tracked) -> TransactionSetAck:
    """IK5 R for a set whose reading raised ``exc``, with an IK3 (and IK4) where it failed."""
    ack = TransactionSetAck(transaction.set_id, transaction.control_number,
                            transaction.implementation_reference, "R")
    if isinstance(exc, X12UnsupportedError):
        ack.error_codes = ("1",)  # transaction set not supported
        return ack
    ack.error_codes = ("5",)  # one or more segments in error
    tag = exc.segment_id or (tracked.last[0] if tracked.last else "")
    if not _valid_tag(tag):
        return ack
    position = (exc.segment_number - start + 1 if exc.segment_number is not None
                else tracked.count + 1)
    loop = (exc.loop or "")[:MAX_LOOP_ID]
    segment = SegmentError(tag, position, loop if loop.isdigit() else "")
    if isinstance(exc, X12ElementError):
        segment.error_code = "8"  # segment has data element errors
        if exc.element:
            segment.element_errors.append(ElementError(exc.element, _element_code(exc.reason)))
    elif isinstance(exc, X12StructureError) and "missing" in exc.reason:
        segment.error_code = "3"  # mandatory segment missing
    else:
        segment.error_code = "2"  # unexpected segment
    ack.segment_errors.append(segment)
    return ack


class _Intake:
    """The payer's translator: an 837 body parser that rejects an unreadable set and
    skips to its SE, so the sets after it are still read."""

    def __init__(self) -> None:
        self.starts: dict[int, int] = {}  # id(transaction) -> segment number of its ST
        self.rejected: dict[int, TransactionSetAck] = {}
        self.open: TransactionSet | None = None  # the set being read, until its SE

    def parse(self, ctx: BodyContext) -> Iterator[Claim]:
        transaction = ctx.transaction
        start = ctx.reader.segment_number
        self.starts[id(transaction)] = start
        self.open = transaction
        tracked = _Tracked(ctx.segments)
        inner = BodyContext(ctx.reader, tracked, transaction, ctx.group)
        try:
            yield from parse_837(inner)
        except X12EnvelopeError:
            raise  # the set has no SE: the interchange cannot be trusted
        except X12Error as exc:
            self.rejected[id(transaction)] = _rejection(transaction, exc, start, tracked)
            inner.trailer = self._skip_to_se(ctx, tracked)
        ctx.trailer = inner.trailer
        if ctx.trailer is not None:
            self.open = None

    @staticmethod
    def _skip_to_se(ctx: BodyContext, tracked: _Tracked) -> list[str] | None:
        last = tracked.last
        if last is not None and last[0] in ENVELOPE_TAGS:
            if last[0] == "SE":
                return last
            raise ctx.reader.error(X12EnvelopeError, "transaction set ends without an SE"
                                   " trailer", segment_id=last[0])
        for elements in tracked:
            if elements[0] == "SE":
                return elements
            if elements[0] in ENVELOPE_TAGS:
                raise ctx.reader.error(X12EnvelopeError, "transaction set ends without an SE"
                                       " trailer", segment_id=elements[0])
        return None


@dataclass(slots=True)
class _Received:
    """What the translator made of a submission."""

    interchange: Interchange
    groups: list[FunctionalAck]
    batches: list[ClaimBatch]  # the bodies of the accepted sets


_SET_DEFECTS = {"SE02_CONTROL": "3", "SE01_COUNT": "4"}  # reader defect -> IK502


def _receive(data: bytes) -> _Received:
    intake = _Intake()
    reader = X12Reader(data, {"837": intake.parse})
    broken = False
    try:
        document = reader.read()
    except X12Error:
        document = reader.document
        if not any(i.groups for i in document.interchanges):
            raise  # nothing to address a 999 to
        broken = True
    acks = []
    batches = []
    for group in (g for i in document.interchanges for g in i.groups):
        set_acks = []
        for transaction in group.transactions:
            ack = intake.rejected.get(id(transaction))
            if ack is None:
                ack = TransactionSetAck(transaction.set_id, transaction.control_number,
                                        transaction.implementation_reference, "A")
                if broken:
                    ack.status = "R"
                    if transaction is intake.open:
                        ack.error_codes = ("2",)  # transaction set trailer missing
                elif id(transaction) not in intake.starts:  # not an 837: not read
                    ack.status, ack.error_codes = "R", ("1",)  # set not supported
                else:
                    _note_envelope_defects(ack, document, transaction,
                                           intake.starts[id(transaction)])
                    batches.append(transaction.body)
            set_acks.append(ack)
        acks.append(FunctionalAck.for_sets(group.functional_id, group.control_number,
                                           group.version, set_acks))
    return _Received(document.interchanges[0], acks, batches)


def _note_envelope_defects(ack: TransactionSetAck, document: X12Document,
                           transaction: TransactionSet, start: int) -> None:
    """IK5 E for a set read whole whose SE count or control number was wrong."""
    end = start + transaction.segment_count - 1
    codes = sorted({_SET_DEFECTS[d.code] for d in document.defects
                    if d.code in _SET_DEFECTS and d.segment_number is not None
                    and start <= d.segment_number <= end})
    if codes:
        ack.status, ack.error_codes = "E", tuple(codes)


# --------------------------------------------------------------------------- adjudication


@dataclass(slots=True)
class _Verdict:
    """The 277CA decision on one claim."""

    claim: Claim
    statuses: list[StatusInfo]
    payer_claim_control_number: str = ""

    @property
    def accepted(self) -> bool:
        return bool(self.payer_claim_control_number)


def _claim_dates(claim: Claim) -> tuple[date | None, date | None]:
    if claim.statement_from is not None:
        return claim.statement_from, claim.statement_to
    starts = [ln.service_date for ln in claim.service_lines if ln.service_date]
    ends = [ln.service_date_end or ln.service_date for ln in claim.service_lines
            if ln.service_date]
    if not starts:
        return None, None
    first, last = min(starts), max(ends)
    return first, (last if last != first else None)


def _last_date(claim: Claim) -> date | None:
    first, last = _claim_dates(claim)
    return last or first


def _duplicate_key(claim: Claim) -> tuple[object, ...]:
    lines = tuple((ln.procedure_code, ln.modifiers, ln.revenue_code, ln.service_date,
                   ln.service_date_end, ln.charge, ln.units) for ln in claim.service_lines)
    return (claim.claim_type, claim.subscriber.member_id, claim.billing_provider.npi,
            claim.patient.first_name if claim.patient else "", claim.statement_from,
            claim.statement_to, lines)


def _person_name(provider: Provider) -> tuple[str, str, str]:
    """(NM102, last or organization name, first name)."""
    return provider.entity_type or "2", provider.last_name, provider.first_name


class PayerSimulator:
    """One payer answering submissions: deterministic for its seed, stateless between calls."""

    def __init__(self, payer: PayerProfile | tuple[str, str], seed: int,
                 fee_schedule: FeeSchedule = DEFAULT_FEE_SCHEDULE,
                 behaviour: PayerBehaviour | None = None) -> None:
        if isinstance(payer, PayerProfile):
            model = payer.payer()
            self.name, self.payer_id = model.name, model.payer_id
            self.address = model.address or DEFAULT_PAYER_ADDRESS
        else:
            self.name, self.payer_id = payer
            self.address = DEFAULT_PAYER_ADDRESS
        if not self.name or not self.payer_id:
            raise ValueError("a payer needs a name and a payer id")
        self.seed = seed
        self.fee_schedule = fee_schedule
        self.behaviour = behaviour or PayerBehaviour()
        pattern = self.behaviour.unknown_member_pattern
        self._unknown_members = re.compile(pattern) if pattern else None
        self._salt = f"{seed}|{self.payer_id}|"
        self.tax_id = _EIN_PREFIX + str(self._number("ein", "", 7)).zfill(7)

    # -- deterministic draws ---------------------------------------------------------

    def _digest(self, purpose: str, key: str) -> int:
        text = f"{self._salt}{purpose}|{key}".encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")

    def _draw(self, purpose: str, key: str) -> float:
        """A number in [0, 1) fixed by the seed, the payer, the purpose and the key."""
        return self._digest(purpose, key) / 2.0**64

    def _number(self, purpose: str, key: str, digits: int) -> int:
        return self._digest(purpose, key) % 10**digits

    def _pick(self, reasons: tuple[Denial, ...], purpose: str, key: str) -> Denial:
        target = self._draw(purpose, key) * sum(r.weight for r in reasons)
        for reason in reasons:
            target -= reason.weight
            if target < 0:
                return reason
        return reasons[-1]


    # -- the whole answer --------------------------------------------------------------

    def respond(self, submission_837: bytes, *, received: date,
                control_numbers: ControlNumbers,
                originals: Mapping[str, date] | None = None,
                refused: Mapping[str, str] | None = None) -> PayerResponse:
        """The 999, 277CA and 835 for one submitted 837 file, received on ``received``.

        ``control_numbers`` numbers the payer's own interchanges (the 999, then the 277CA,
        then the 835). Raises ``X12Error`` only when the file has no readable functional
        group to acknowledge.

        ``originals``: the payer claim control numbers (CLP07) of the claims this payer
        decided and has not reversed, with the day each was received. Given, a
        replacement (7) or void (8) whose REF*F8 is not one of them is rejected (A7:21,
        A7:35); the others are accepted and listed in ``PayerResponse.resubmitted`` (the
        caller, which keeps the decisions, reverses the original), and a replacement of a
        claim filed on time is never denied as late. Not given (the default), 7 and 8 are
        adjudicated as any claim.

        ``refused``: claims this payer refused because it found no such member, by patient
        control number, with the subscriber id it refused; sent again with another id, the
        claim is not refused for its member again (a biller corrected it).
        """
        intake = _receive(submission_837)
        source = intake.interchange
        submitter = Party(source.sender_id, source.sender_qualifier,
                          source.groups[0].sender_code if source.groups else "")
        me = Party(self.payer_id)

        def header(hour: int, day: date = received) -> InterchangeHeader:
            return InterchangeHeader(me, submitter, usage_indicator=source.usage_indicator,
                                     created=datetime.combine(day, time(hour, 0)))

        ack_999 = write_999(intake.groups, header(6), control_numbers).text.encode()
        sets_accepted = sum(g.sets_accepted for g in intake.groups)
        sets_rejected = sum(g.sets_received for g in intake.groups) - sets_accepted
        if not intake.batches:
            return PayerResponse(ack_999, None, None, sets_accepted, sets_rejected)

        isa = source.control_number
        members = {c.patient_control_number: c.subscriber.member_id
                   for b in intake.batches for c in b.claims}
        reports, verdicts = self._acknowledge(intake.batches, received, isa, originals,
                                              refused)
        ack_277ca = write_277ca(reports, header(7), control_numbers).text.encode()
        accepted = [v for v in verdicts if v.accepted]
        counts = {"sets_accepted": sets_accepted, "sets_rejected": sets_rejected,
                  "claims_accepted": len(accepted),
                  "claims_rejected": len(verdicts) - len(accepted)}
        if not accepted:
            return PayerResponse(ack_999, ack_277ca, None, **counts, members=members)

        paid_on = received + timedelta(days=self.behaviour.payment_lag_days)
        remittances, hard_cases = self._remit(accepted, received, paid_on, isa,
                                              originals or {})
        for remittance in remittances:
            problems = balance_problems(remittance)
            if problems:  # the simulator's own bug: never write an unbalanced 835
                raise ValueError(f"simulated remittance does not balance: {problems}")
        remittance_835 = write_835(remittances, header(8, paid_on),
                                   control_numbers).text.encode()
        payments = [c for r in remittances for c in r.claims]
        denied = sum(1 for c in payments if c.is_denial)
        reversed_, extra = hard_cases["reversed"], (hard_cases["duplicate_payments"]
                                                    + hard_cases["unknown_claims"])
        return PayerResponse(
            ack_999, ack_277ca, remittance_835, **counts,
            claims_paid=len(payments) - denied - 2 * reversed_ - extra, claims_denied=denied,
            claims_with_denied_lines=hard_cases["with_denied_lines"],
            claims_reversed=reversed_, duplicate_payments=hard_cases["duplicate_payments"],
            unknown_claims=hard_cases["unknown_claims"],
            provider_adjustments=sum(len(r.provider_adjustments) for r in remittances),
            billed_total=sum((c.charge for c in payments), ZERO),
            paid_total=sum((r.total_paid for r in remittances), ZERO),
            resubmitted={v.payer_claim_control_number: v.claim.original_claim_reference
                         for v in accepted if originals is not None
                         and v.claim.frequency_code in RESUBMISSIONS},
            members=members)

    # -- 277CA ---------------------------------------------------------------------------

    def _rejection_status(self, claim: Claim, received: date,
                          originals: Mapping[str, date] | None,
                          refused: Mapping[str, str] | None = None,
                          ) -> list[StatusInfo] | None:
        """Why the claim is not taken into adjudication (None when it is)."""
        providers = ((claim.billing_provider, "85"), (claim.rendering_provider, "82"),
                     (claim.attending_provider, "71"), (claim.service_facility, "77"))
        for provider, entity in providers:
            if provider is not None and provider.npi and not npi.is_valid(provider.npi):
                return [StatusInfo("A7", "562", entity)]  # entity's NPI
        if claim.total_charge != sum((ln.charge for ln in claim.service_lines), ZERO):
            return [StatusInfo("A7", "400")]  # claim is out of balance
        last = _last_date(claim)
        if last is not None and last > received:
            return [StatusInfo("A7", "187")]  # date(s) of service
        if (originals is not None and claim.frequency_code in RESUBMISSIONS
                and claim.original_claim_reference not in originals):
            return [StatusInfo(*status) for status in UNKNOWN_ORIGINAL]
        member = claim.subscriber.member_id
        was_refused = (refused or {}).get(claim.patient_control_number)
        corrected = was_refused is not None and was_refused != member
        if ((self._unknown_members is not None and self._unknown_members.fullmatch(member))
                or (not corrected and self._draw("member", claim.patient_control_number)
                    < self.behaviour.rejection_rate)):
            return [StatusInfo("A3", "33", "IL")]  # subscriber and subscriber id not found
        return None

    def _acknowledge(self, batches: list[ClaimBatch], received: date, isa: str,
                     originals: Mapping[str, date] | None = None,
                     refused: Mapping[str, str] | None = None,
                     ) -> tuple[list[ClaimAckReport], list[_Verdict]]:
        """One 277CA report per accepted 837 set, its claims under their billing provider.

        A claim ``originals`` names is taken by the first replacement or void accepted for
        it: a second one naming it is rejected."""
        originals = None if originals is None else dict(originals)
        reports: list[ClaimAckReport] = []
        verdicts: list[_Verdict] = []
        prefix = f"{received:%y%j}{self._number('icn', isa, 4):04d}{isa}"
        for index, batch in enumerate(batches, 1):
            reference = f"{self._number('batch', isa, 4):04d}{isa}{index:03d}"
            report = ClaimAckReport(
                reference, received, "0700",
                source=AckEntity("PR", self.name, id_qualifier="PI", id=self.payer_id),
                source_trace=reference, received_date=received, process_date=received)
            providers: dict[tuple[str, str, str], EntityStatus] = {}
            for claim in batch.claims:
                rejection = self._rejection_status(claim, received, originals, refused)
                verdict = _Verdict(claim, rejection or [StatusInfo("A2", "20")])
                if rejection is None:
                    verdict.payer_claim_control_number = f"{prefix}{len(verdicts) + 1:06d}"
                    if originals is not None and claim.frequency_code in RESUBMISSIONS:
                        originals.pop(claim.original_claim_reference)
                verdicts.append(verdict)
                report.add(self._claim_status(verdict, received, providers, report))
            _totals(report, batch, received)
            reports.append(report)
        return reports, verdicts

    @staticmethod
    def _claim_status(verdict: _Verdict, received: date,
                      providers: dict[tuple[str, str, str], EntityStatus],
                      report: ClaimAckReport) -> ClaimStatus:
        claim = verdict.claim
        billing = claim.billing_provider
        key = (billing.npi, billing.last_name, billing.tax_id)
        provider = providers.get(key)
        if provider is None:
            entity_type, name, first = _person_name(billing)
            provider = EntityStatus(
                AckEntity("85", name, entity_type, first, id_qualifier="XX", id=billing.npi),
                trace="0", secondary_id_qualifier="TJ" if billing.tax_id else "",
                secondary_id=billing.tax_id)
            providers[key] = provider
            report.billing_providers.append(provider)
        person = claim.patient or claim.subscriber
        start, end = _claim_dates(claim)
        return ClaimStatus(
            claim.patient_control_number, verdict.statuses, received,
            "WQ" if verdict.accepted else "U", claim.total_charge,
            payer_claim_control_number=verdict.payer_claim_control_number,
            bill_type=(claim.facility_code + claim.frequency_code
                       if claim.claim_type is ClaimType.INSTITUTIONAL else ""),
            service_date=start, service_date_end=end,
            patient=AckEntity("QC", person.last_name, "1", person.first_name,
                              person.middle_name, name_suffix=person.name_suffix,
                              id_qualifier="MI", id=claim.subscriber.member_id),
            billing_provider=provider)

    # -- 835 -----------------------------------------------------------------------------

    def _remit(self, accepted: list[_Verdict], received: date, paid_on: date,
               isa: str, originals: Mapping[str, date]
               ) -> tuple[list[Remittance], Counter[str]]:
        """One remittance per payee, and counts of the hard cases in them: paid claims
        with a line denied, payments reversed and corrected, duplicate payments and
        payments for unknown claims (those three after the payee's other claims)."""
        payees: dict[tuple[str, str, str], list[ClaimPayment]] = {}
        later: dict[tuple[str, str, str], list[ClaimPayment]] = {}
        providers: dict[tuple[str, str, str], Provider] = {}
        seen: set[tuple[object, ...]] = set()
        counts: Counter[str] = Counter()
        behaviour = self.behaviour
        for verdict in accepted:
            claim = verdict.claim
            key = _duplicate_key(claim)
            duplicate = key in seen
            icn = verdict.payer_claim_control_number
            filed = (originals.get(claim.original_claim_reference)
                     if claim.frequency_code == "7" else None)
            payment, line_denied = self._adjudicate(claim, icn, received, duplicate=duplicate,
                                                    filed=filed)
            seen.add(key)
            counts["with_denied_lines"] += line_denied
            billing = claim.billing_provider
            payee = (billing.npi, billing.last_name, billing.tax_id)
            providers.setdefault(payee, billing)
            payees.setdefault(payee, []).append(payment)
            if payment.is_denial:
                continue
            pcn = claim.patient_control_number
            extra = later.setdefault(payee, [])
            if self._draw("reversal", pcn) < behaviour.reversal_rate:
                corrected, _ = self._adjudicate(claim, icn + "01", received,
                                                duplicate=duplicate, corrected=True,
                                                filed=filed)
                if corrected.paid != payment.paid:
                    extra += (_reversal(payment), corrected)
                    counts["reversed"] += 1
                    continue
            if payment.paid and self._draw("paid-twice", pcn) < behaviour.duplicate_payment_rate:
                extra.append(replace(payment, payer_claim_control_number=icn + "02"))
                counts["duplicate_payments"] += 1
            if self._draw("not-ours", pcn) < behaviour.unknown_claim_rate:
                extra.append(replace(
                    payment, payer_claim_control_number=icn + "03",
                    patient_control_number=f"PAPER{self._number('not-ours', pcn, 12):012d}"))
                counts["unknown_claims"] += 1
        remittances = [self._remittance(providers[payee], claims + later.get(payee, []),
                                        paid_on, isa,
                                        f"{paid_on:%y%m%d}{self._number('trace', isa, 4):04d}"
                                        f"{isa}{number:03d}")
                       for number, (payee, claims) in enumerate(payees.items(), 1)]
        return remittances, counts

    def _provider_adjustments(self, payee: Provider, claims: list[ClaimPayment],
                              paid_on: date, isa: str) -> list[ProviderAdjustment]:
        """The PLB of one remittance (none, or a WO, an L6 or a WO with its FB)."""
        total = sum((c.paid for c in claims), ZERO)
        key = f"{isa}|{payee.npi}|{payee.tax_id}"
        behaviour = self.behaviour
        if total <= 0 or self._draw("plb", key) >= behaviour.provider_adjustment_rate:
            return []
        kinds = behaviour.provider_adjustments
        kind = kinds[self._number("plb-kind", key, 6) % len(kinds)]
        period_end = date(paid_on.year, 12, 31)
        share = Decimal(5 + self._number("plb-share", key, 6) % 36) / 100  # 5% to 40%
        if kind == "L6":  # interest on one paid claim, paid with this remittance
            paid = [c for c in claims if c.paid > 0 and not c.is_reversal]
            claim = paid[self._number("plb-claim", key, 6) % len(paid)]
            interest = max(CENT, (claim.paid * Decimal("0.01")).quantize(CENT, ROUND_HALF_UP))
            return [ProviderAdjustment(payee.npi, period_end, "L6", -interest,
                                       claim.payer_claim_control_number)]
        earlier = paid_on - timedelta(days=30 + self._number("plb-days", key, 3) % 60)
        reference = f"{earlier:%y%j}{self._number('plb-icn', key, 13):013d}"
        if kind == "WO":  # part of this payment withheld against an earlier overpayment
            recovered = max(CENT, (total * share).quantize(CENT, ROUND_HALF_UP))
            return [ProviderAdjustment(payee.npi, period_end, "WO", recovered, reference)]
        forward = max(CENT, (total * share).quantize(CENT, ROUND_HALF_UP))
        return [ProviderAdjustment(payee.npi, period_end, "WO", total + forward, reference),
                ProviderAdjustment(payee.npi, period_end, "FB", -forward, reference)]

    def _remittance(self, payee: Provider, claims: list[ClaimPayment], paid_on: date,
                    isa: str, trace: str) -> Remittance:
        adjustments = self._provider_adjustments(payee, claims, paid_on, isa)
        total = sum((c.paid for c in claims), ZERO) - sum((p.amount for p in adjustments),
                                                          ZERO)
        originator = "1" + self.tax_id
        remittance = Remittance(
            handling_code="I" if total else "H", total_paid=total, credit_debit_flag="C",
            payment_method="NON" if not total else self.behaviour.payment_method,
            payment_date=paid_on, trace_number=trace, originator_id=originator,
            payer=RemittancePayer(self.name, address=self.address,
                                  payer_identifier=self.payer_id,
                                  contacts=[Contact(DEFAULT_PAYER_CONTACT.function_code,
                                                    DEFAULT_PAYER_CONTACT.name,
                                                    DEFAULT_PAYER_CONTACT.numbers)]),
            payee=RemittancePayee(payee.last_name if payee.entity_type != "1"
                                  else f"{payee.first_name} {payee.last_name}".strip(),
                                  "XX", payee.npi, payee.address, payee.tax_id),
            production_date=paid_on, claims=claims, provider_adjustments=adjustments)
        if total and self.behaviour.payment_method == "ACH":
            remittance.payment_format = "CCP"
            remittance.sender_dfi_qualifier = remittance.receiver_dfi_qualifier = "01"
            remittance.sender_account_qualifier = remittance.receiver_account_qualifier = "DA"
            remittance.sender_dfi_id = _routing_number(self._number("bank", "", 8))
            remittance.sender_account_number = str(self._number("account", "", 10))
            remittance.originating_company_id = originator
            remittance.receiver_dfi_id = _routing_number(self._number("bank", payee.npi, 8))
            remittance.receiver_account_number = str(self._number("account", payee.npi, 10))
        return remittance

    def _adjudicate(self, claim: Claim, payer_claim_control_number: str, received: date,
                    *, duplicate: bool, corrected: bool = False,
                    filed: date | None = None) -> tuple[ClaimPayment, bool]:
        """The claim's CLP loop, and whether a line (not the whole claim) was denied.

        ``corrected``: the payer's second look after a reversal, which allows more on
        every line it cut by its fee schedule. ``filed``: for a replacement, the day the
        claim it replaces was received (filed on time then, it is not late now).

        A secondary or tertiary claim (SBR01 S or T) that carries other-payer loops
        (2320) is paid from the amounts they report (see :meth:`_cob_lines`), or denied
        CO-22 when no prior payer's payment (AMT*D) is among them.
        """
        behaviour = self.behaviour
        key = claim.patient_control_number
        # A replacement (7) is decided afresh: its denial draws are its own.
        decision = (f"{key}|{claim.original_claim_reference}"
                    if claim.frequency_code in RESUBMISSIONS else key)
        lines = claim.service_lines
        first, end = _claim_dates(claim)
        cob = bool(claim.other_payers) and claim.subscriber.payer_responsibility in ("S", "T")
        denial: Denial | None = None
        if duplicate:
            denial = DUPLICATE
        elif first is not None and (min(received, filed or received) - first).days > (
                behaviour.timely_filing_days):
            denial = TIMELY_FILING
        elif cob and not any(o.paid_amount is not None for o in claim.other_payers):
            denial = COB_MISSING
        elif self._draw("denial", decision) < behaviour.denial_rate:
            denial = self._pick(behaviour.denials, "denial-reason", decision)
        cut_line, cut = -1, denial
        if denial is None and len(lines) > 1 and self._draw("partial", decision) < (
                behaviour.partial_rate):
            cut_line = 1 + self._number("partial-line", decision, 6) % (len(lines) - 1)
            cut = self._pick(behaviour.line_denials, "partial-reason", decision)
        plan = behaviour.plans.get(claim.subscriber.claim_filing_indicator,
                                   behaviour.default_plan)
        share = _PatientShare(plan, self._deductible(plan, key),
                              claim.claim_type is ClaimType.PROFESSIONAL)
        subscriber = claim.subscriber
        sequence = subscriber.payer_responsibility
        if sequence not in ("S", "T") and self._draw("secondary", key) < (
                behaviour.secondary_rate):
            sequence = "S"
        secondary = sequence in ("S", "T")
        priors = self._cob_lines(claim) if cob and denial is None else []
        rate = (plan.coinsurance if priors and self._draw("cob-share", key) < COB_SHARE
                else ZERO)
        services = []
        for number, line in enumerate(lines):
            if denial is not None or number == cut_line:
                assert cut is not None
                services.append(_denied_line(line, cut))
            elif priors:
                services.append(_cob_line(line, *priors[number], rate))
            else:
                services.append(self._priced_line(line, share, secondary=secondary,
                                                  corrected=corrected))
        responsibility = sum((a.amount for s in services for a in s.adjustments
                              if a.group_code == "PR"), ZERO)
        person = claim.patient or claim.subscriber
        rendering = claim.rendering_provider
        institutional = claim.claim_type is ClaimType.INSTITUTIONAL
        claim_adjustments: list[Adjustment] = []
        if institutional and self._draw("unlined", key) < behaviour.unlined_rate:
            claim_adjustments = _claim_level(services)
            services = []
        payment = ClaimPayment(
            patient_control_number=key,
            status_code="4" if denial else _PROCESSED_AS.get(sequence, "1"),
            charge=claim.total_charge,
            paid=claim.total_charge - sum((a.amount for a in claim_adjustments), ZERO)
            if claim_adjustments else sum((s.paid for s in services), ZERO),
            patient_responsibility=responsibility or None,
            claim_filing_indicator=CLAIM_FILING_CODES_835.get(
                subscriber.claim_filing_indicator, "ZZ"),
            payer_claim_control_number=payer_claim_control_number,
            facility_code=claim.facility_code,
            frequency_code=claim.frequency_code,
            patient=Entity("1", person.last_name, person.first_name, person.middle_name,
                           person.name_suffix, "MI", subscriber.member_id),
            insured=(Entity("1", subscriber.last_name, subscriber.first_name,
                            subscriber.middle_name, subscriber.name_suffix, "MI",
                            subscriber.member_id) if claim.patient is not None else None),
            service_provider=(Entity(*_person_name(rendering), id_qualifier="XX",
                                     id=rendering.npi)
                              if rendering is not None and rendering.npi else None),
            adjustments=claim_adjustments,
            service_payments=services,
            statement_from=first if institutional else None,
            statement_to=(end or first) if institutional else None,
            received_date=received,
        )
        return payment, denial is None and cut_line >= 0

    @staticmethod
    def _cob_lines(claim: Claim) -> list[tuple[Decimal, Decimal]]:
        """Per service line: what the prior payers paid for it, and what the last of them
        left to the patient (its PR adjustments).

        From the line's 2430 loops when it has some; the lines without share, in
        proportion to their charges, what the 2320 loops say at claim level: the AMT*D
        paid amounts less the paid amounts of the 2430 loops, and the PR adjustments of
        the last prior payer's 2320 CAS.
        """
        paid_by = [o for o in claim.other_payers if o.paid_amount is not None]
        result: list[tuple[Decimal, Decimal] | None] = []
        line_paid = ZERO
        for line in claim.service_lines:
            if not line.adjudications:
                result.append(None)
                continue
            paid = sum((a.paid for a in line.adjudications), ZERO)
            line_paid += paid
            result.append((paid, _patient_part(line.adjudications[-1].adjustments)))
        rest = [i for i, r in enumerate(result) if r is None]
        if rest:
            lines = claim.service_lines
            total = sum((lines[i].charge for i in rest), ZERO)
            paid = sum((o.paid_amount or ZERO for o in paid_by), ZERO) - line_paid
            left = _patient_part(paid_by[-1].adjustments) if paid_by else ZERO
            for position, i in enumerate(rest):
                if position == len(rest) - 1:
                    result[i] = (paid, left)
                    continue
                part = lines[i].charge / total if total else ZERO
                share = ((paid * part).quantize(CENT, ROUND_HALF_UP),
                         (left * part).quantize(CENT, ROUND_HALF_UP))
                result[i] = share
                paid, left = paid - share[0], left - share[1]
        return [r for r in result if r is not None]

    def _deductible(self, plan: PlanRules, key: str) -> Decimal:
        """The unmet deductible this claim meets: 1% to 100% of the plan's, or nothing."""
        if plan.deductible <= 0 or self._draw("deductible", key) >= plan.deductible_share:
            return ZERO
        part = Decimal(1 + self._number("deductible-part", key, 6) % 100) / 100
        return (plan.deductible * part).quantize(CENT, ROUND_HALF_UP)

    def _priced_line(self, line: ServiceLine, share: _PatientShare, *, secondary: bool,
                     corrected: bool) -> ServicePayment:
        """A paid line: CO-45 for the excess over the allowed amount, the patient's share.

        As secondary payer it shows what the primary paid as OA-23 and pays what the
        primary left to the patient, but the copay.
        """
        allowed = self.fee_schedule.allowed(line)
        if corrected:
            allowed += ((line.charge - allowed) / 2).quantize(CENT, ROUND_HALF_UP)
        adjustments = []
        if line.charge > allowed:
            adjustments.append(Adjustment("CO", "45", line.charge - allowed))
        owed = share.take(line, allowed)
        left = sum((amount for _, amount in owed), ZERO)
        if secondary:
            copay = sum((amount for reason, amount in owed if reason == "3"), ZERO)
            if allowed > left:
                adjustments.append(Adjustment(*PRIOR_PAYER, allowed - left))
            if copay:
                adjustments.append(Adjustment("PR", "3", copay))
            return _service(line, left - copay, adjustments, allowed=allowed)
        adjustments += [Adjustment("PR", reason, amount) for reason, amount in owed if amount]
        return _service(line, allowed - left, adjustments, allowed=allowed)


class _PatientShare:
    """The plan's deductible and copay, consumed line by line across one claim."""

    __slots__ = ("coinsurance", "copay", "deductible")

    def __init__(self, plan: PlanRules, deductible: Decimal, professional: bool) -> None:
        self.deductible = deductible
        self.copay = plan.copay if professional else ZERO
        self.coinsurance = plan.coinsurance

    def take(self, line: ServiceLine, allowed: Decimal) -> list[tuple[str, Decimal]]:
        """(CARC, amount) for deductible (1), copay (3) and coinsurance (2) on one line."""
        deductible = min(self.deductible, allowed)
        self.deductible -= deductible
        rest = allowed - deductible
        copay = ZERO
        if self.copay and line.procedure_code.startswith("99"):  # the first E/M line
            copay = min(self.copay, rest)
            self.copay = ZERO
        rest -= copay
        coinsurance = (rest * self.coinsurance).quantize(CENT, ROUND_HALF_UP)
        return [("1", deductible), ("3", copay), ("2", coinsurance)]


# --------------------------------------------------------------------------- helpers


def _sum_charges(claims: list[ClaimStatus]) -> Decimal:
    return sum((c.total_charge or ZERO for c in claims), ZERO)


def _totals(report: ClaimAckReport, batch: ClaimBatch, received: date) -> None:
    """QTY/AMT of accepted and rejected claims at the provider and receiver levels."""
    def fill(level: EntityStatus, claims: list[ClaimStatus]) -> None:
        accepted = [c for c in claims if c.accepted]
        rejected = [c for c in claims if not c.accepted]
        level.accepted_quantity = len(accepted) or None
        level.rejected_quantity = len(rejected) or None
        level.accepted_amount = _sum_charges(accepted) if accepted else None
        level.rejected_amount = _sum_charges(rejected) if rejected else None

    for provider in report.billing_providers:
        claims = [c for c in report.claims if c.billing_provider is provider]
        provider.statuses = [StatusInfo("A1", "19", "PR")]  # the provider's claims received
        provider.action_code = "WQ"
        provider.total_charge = _sum_charges(claims)
        fill(provider, claims)
    submitter = batch.submitter
    receiver = EntityStatus(
        AckEntity("41", submitter.name, submitter.entity_type or "2", submitter.first_name,
                  id_qualifier="46", id=submitter.id),
        trace=batch.reference, statuses=[StatusInfo("A1", "19", "PR")],
        effective_date=received, action_code="WQ", total_charge=_sum_charges(report.claims))
    fill(receiver, report.claims)
    report.receiver = receiver


def _service(line: ServiceLine, paid: Decimal, adjustments: list[Adjustment], *,
             allowed: Decimal | None = None, remarks: tuple[str, ...] = ()) -> ServicePayment:
    """The 2110 loop of one billed line: SVC01 is the procedure, or the revenue code alone."""
    if line.procedure_code:
        qualifier, code, revenue = line.procedure_qualifier, line.procedure_code, (
            line.revenue_code)
    else:
        qualifier, code, revenue = "NU", line.revenue_code, ""
    return ServicePayment(
        procedure_code=code, charge=line.charge, paid=paid, procedure_qualifier=qualifier,
        modifiers=line.modifiers, revenue_code=revenue,
        units_paid=line.units if line.units != 1 else None,
        service_date=line.service_date, service_date_end=line.service_date_end,
        adjustments=adjustments, line_control_number=line.line_control_number,
        allowed_amount=allowed, remark_codes=remarks)


def _claim_level(services: list[ServicePayment]) -> list[Adjustment]:
    """The lines' adjustments summed by group and reason, as claim-level CAS."""
    totals: dict[tuple[str, str], Decimal] = {}
    for service in services:
        for a in service.adjustments:
            totals[a.group_code, a.reason_code] = totals.get(
                (a.group_code, a.reason_code), ZERO) + a.amount
    return [Adjustment(group, reason, amount) for (group, reason), amount in totals.items()
            if amount]


def _reversal(payment: ClaimPayment) -> ClaimPayment:
    """CLP02 22: the payment taken back, every amount negated, under the same CLP07."""
    def negated(adjustments: list[Adjustment]) -> list[Adjustment]:
        return [Adjustment(a.group_code, a.reason_code, -a.amount, a.quantity)
                for a in adjustments]

    return replace(
        payment, status_code=REVERSAL, charge=-payment.charge, paid=-payment.paid,
        patient_responsibility=(-payment.patient_responsibility
                                if payment.patient_responsibility else None),
        adjustments=negated(payment.adjustments),
        service_payments=[replace(s, charge=-s.charge, paid=-s.paid,
                                  adjustments=negated(s.adjustments),
                                  allowed_amount=(-s.allowed_amount if s.allowed_amount
                                                  else s.allowed_amount))
                          for s in payment.service_payments])


def _patient_part(adjustments: list[CobAdjustment]) -> Decimal:
    return sum((a.amount for a in adjustments if a.group_code == "PR"), ZERO)


def _cob_line(line: ServiceLine, prior_paid: Decimal, left: Decimal,
              rate: Decimal) -> ServicePayment:
    """A line paid as secondary (or tertiary) from what the prior payers reported: their
    payment as OA-23, what they did not pay nor leave to the patient as CO-45 (their
    contractual cut), and of what they left to the patient, ``rate`` stays the patient's
    (PR-2) and the rest is paid. The amounts are kept within the charge, so the line
    balances whatever the prior payers reported."""
    charge = line.charge
    prior = min(max(prior_paid, ZERO), max(charge, ZERO))
    left = min(max(left, ZERO), charge - prior)
    patient = (left * rate).quantize(CENT, ROUND_HALF_UP)
    adjustments = [Adjustment(group, reason, amount) for (group, reason), amount in (
        (CONTRACTUAL, charge - prior - left), (PRIOR_PAYER, prior), (("PR", "2"), patient))
        if amount]
    return _service(line, left - patient, adjustments, allowed=prior + left)


def _denied_line(line: ServiceLine, denial: Denial) -> ServicePayment:
    adjustments = ([Adjustment(denial.group_code, denial.reason_code, line.charge)]
                   if line.charge else [])
    return _service(line, ZERO, adjustments, remarks=denial.remark_codes)


def _routing_number(eight_digits: int) -> str:
    """A nine-digit ABA routing number with a valid check digit (weights 3, 7, 1)."""
    digits = [int(d) for d in f"{eight_digits:08d}"]
    weighted = sum(d * (3, 7, 1)[i % 3] for i, d in enumerate(digits))
    return f"{eight_digits:08d}{-weighted % 10}"
