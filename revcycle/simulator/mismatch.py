"""What real payers do to an 835 that makes it hard to match to the claims a biller sent.

A payer world (:mod:`revcycle.simulator.world`) writes its payment runs through these
transforms when its :class:`Mismatches` rates are not zero (all are zero by default, and
then nothing here changes a byte). Each names one way a real remittance stops matching
the 837 exactly:

- ``missing_line_ref``: per claim payment with service lines, every SVC loses its REF*6R
  (the 837's line item control number), so lines match by procedure, date and charge only;
- ``changed_code``: per service line, the payer pays under another procedure code and
  sends ours in SVC06; on half of those lines (a second draw) the REF*6R is dropped too,
  so the SVC06 is the only link left;
- ``truncated_pcn``: per claim payment, CLP01 is our patient control number cut by three
  characters (six at least are kept; a number of six or fewer is left whole);
- ``renumbered``: per claim payment, CLP01 is a number the payer made (``P`` and ten
  digits), not ours; CLP07 is still the payer claim number the 277CA gave;
- ``split``: per claim at adjudication (2+ lines, line-level adjustments only, processed
  not denied), the payer splits the claim in two CLPs under our CLP01 and CLP07s
  ``<base>1`` and ``<base>2``, the lines divided first half / second half;
- ``wo_recoupment``: per paid claim, in the payment run after it was paid, part of the
  payment is recovered with a PLB ``WO`` naming its CLP07, not with a CLP02 22 reversal.

Reversals (CLP02 22) are never changed, so a take-back always names the claim exactly.
Every choice comes from ``number(purpose, key)``, the world's hash of the payer's seed,
so the same claims give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from revcycle.model.remittance import (
    ClaimPayment,
    ProcedureCode,
    ProviderAdjustment,
    ServicePayment,
)
from revcycle.simulator.payer import DEFAULT_FEE_SCHEDULE

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PAID_STATUSES = frozenset({"1", "2", "3"})  # CLP02: processed as primary/secondary/tertiary
KINDS = ("missing_line_ref", "changed_code", "truncated_pcn", "split", "renumbered",
         "wo_recoupment")
MIN_KEPT = 6  # a truncated patient control number keeps at least this many characters
CUT = 3  # characters a truncating payer drops from the end
# Codes a payer pays under instead of the billed one: the fee schedule's HCPCS/CPT codes.
SUBSTITUTES = tuple(sorted(DEFAULT_FEE_SCHEDULE.procedures))

Number = Callable[[str, str], int]  # (purpose, key) -> a 64-bit number fixed by the seed


@dataclass(frozen=True)
class Mismatches:
    """How often a payer world's 835s stop matching our claims exactly, by kind (see the
    module docstring). Every rate is 0 by default: the 835 names every claim and line as
    the 837 did."""

    missing_line_ref: float = 0.0  # per CLP with SVCs
    changed_code: float = 0.0  # per SVC
    truncated_pcn: float = 0.0  # per CLP
    split: float = 0.0  # per claim at adjudication
    renumbered: float = 0.0  # per CLP
    wo_recoupment: float = 0.0  # per paid claim, in the next payment run

    def __post_init__(self) -> None:
        for name in KINDS:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    @classmethod
    def realistic(cls) -> Mismatches:
        """Rates in the range a billing office sees across its commercial payers."""
        return cls(missing_line_ref=0.05, changed_code=0.03, truncated_pcn=0.02, split=0.02,
                   renumbered=0.02, wo_recoupment=0.01)

    def scaled(self, factor: float) -> Mismatches:
        """Every rate times ``factor`` (at most 1), for a harder world."""
        if factor < 0:
            raise ValueError("factor must not be negative")
        return Mismatches(**{f.name: min(1.0, getattr(self, f.name) * factor)
                             for f in fields(self)})


def draw(number: Number, purpose: str, key: str) -> float:
    """A number in [0, 1) fixed by the seed, the purpose and the key."""
    return number(purpose, key) / 2.0**64


# -- split ----------------------------------------------------------------------------


def can_split(claim: ClaimPayment) -> bool:
    """A payer splits only a processed claim of two lines or more adjusted line by line
    (no claim-level CAS): each part then balances on its own lines."""
    return (claim.status_code in PAID_STATUSES and len(claim.service_payments) >= 2
            and not claim.adjustments)


def split_parts(claim: ClaimPayment) -> tuple[ClaimPayment, ClaimPayment]:
    """The claim as two CLPs: our CLP01, CLP07 + ``1`` / ``2``, the first half of the
    lines (the larger half when odd) and the rest; CLP03/04/05 the sums of each part's
    lines, so each balances as the whole did."""
    half = (len(claim.service_payments) + 1) // 2
    return (_part(claim, claim.service_payments[:half], "1"),
            _part(claim, claim.service_payments[half:], "2"))


def _part(claim: ClaimPayment, services: list[ServicePayment], suffix: str) -> ClaimPayment:
    patient = sum((a.amount for s in services for a in s.adjustments if a.group_code == "PR"),
                  ZERO)
    return replace(claim, charge=sum((s.charge for s in services), ZERO),
                   paid=sum((s.paid for s in services), ZERO),
                   patient_responsibility=patient or None,
                   payer_claim_control_number=claim.payer_claim_control_number + suffix,
                   service_payments=list(services), adjustments=[])


# -- the per-claim and per-line mismatches ----------------------------------------------


def mismatched(claim: ClaimPayment, rates: Mismatches,
               number: Number) -> tuple[ClaimPayment, tuple[str, ...]]:
    """The claim payment as the payer writes it (a copy; ``claim`` is left as it is) and
    the kinds applied to it. Reversals come back unchanged."""
    if claim.is_reversal:
        return claim, ()
    key = claim.payer_claim_control_number
    applied: list[str] = []
    services = list(claim.service_payments)
    if services and draw(number, "missing-line-ref", key) < rates.missing_line_ref:
        services = [replace(s, line_control_number="") for s in services]
        applied.append("missing_line_ref")
    changed = False
    for index, service in enumerate(services):
        line_key = f"{key}|{index}"
        if (service.procedure_qualifier != "HC" or not service.procedure_code
                or draw(number, "changed-code", line_key) >= rates.changed_code):
            continue
        changed = True
        services[index] = replace(
            service, procedure_code=_substitute(service.procedure_code, number, line_key),
            modifiers=(), procedure_description="",
            original_procedure=ProcedureCode("HC", service.procedure_code, service.modifiers),
            line_control_number=("" if draw(number, "changed-code-ref", line_key) < 0.5
                                 else service.line_control_number))
    if changed:
        applied.append("changed_code")
    pcn = claim.patient_control_number
    if draw(number, "renumbered", key) < rates.renumbered:
        pcn = f"P{number('renumbered-pcn', key) % 10**10:010d}"
        applied.append("renumbered")
    elif (len(pcn) > MIN_KEPT
          and draw(number, "truncated-pcn", key) < rates.truncated_pcn):
        pcn = pcn[:max(MIN_KEPT, len(pcn) - CUT)]
        applied.append("truncated_pcn")
    if not applied:
        return claim, ()
    return replace(claim, patient_control_number=pcn, service_payments=services), tuple(
        applied)


def _substitute(code: str, number: Number, key: str) -> str:
    """Another code of the fee schedule than ``code``, fixed by the key."""
    pick = number("changed-code-to", key) % len(SUBSTITUTES)
    if SUBSTITUTES[pick] == code:
        pick = (pick + 1) % len(SUBSTITUTES)
    return SUBSTITUTES[pick]


# -- recoupment -------------------------------------------------------------------------


def recoupment(claim: ClaimPayment, provider_id: str, day: date,
               number: Number) -> ProviderAdjustment:
    """A PLB WO recovering 10% to 50% (at least a cent) of what ``claim`` was paid,
    naming its CLP07: positive, it reduces this run's payment."""
    key = claim.payer_claim_control_number
    share = Decimal(10 + number("wo-share", key) % 41) / 100
    amount = max(CENT, (claim.paid * share).quantize(CENT, ROUND_HALF_UP))
    return ProviderAdjustment(provider_id, date(day.year, 12, 31), "WO", amount, key)
