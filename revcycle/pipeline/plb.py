"""Provider-level adjustments (835 PLB): where each one's money goes, and the PLB queue.

A PLB moves money between the payer and the provider outside any claim payment, so the
remittance's cash (BPR02) is the CLPs' payments minus the PLB amounts. PLB04 is signed as
the TR3 says: **positive** is withheld from this payment (the payer takes money),
**negative** is added to it (the payer pays more). Each PLB is booked against ``CASH``
with that sign, on the account its reason (PLB03-1) calls for:

- ``WO`` overpayment recovery naming a claim (PLB03-2 is its payer claim control number,
  CLP07, as payers write it, or our patient control number): the claim of this tenant and
  payer it names gives the money back. Debit ``AR``, credit ``CASH`` on that claim; its
  ``paid`` goes down by the amount, so what was recovered is that claim's open A/R again,
  to be worked (appealed, or adjusted off once agreed). The claim keeps its status: the
  payer adjudicated it as it did and only took part of the money back; a status for "paid,
  then partly recovered" would add a transition to every status machine consumer for what
  the open A/R and the ``PLB-WO`` edit on the claim (its history, with the amount and the
  remittance's trace number) already say. A negative WO (the payer returns what it
  recovered) books the other way. A WO naming no claim, several, or recovering more than
  the claim was paid here, stays provider-level and is queued.
- ``L6`` interest (negative: paid to us): debit ``CASH``, credit ``INTEREST_INCOME``;
  provider-level, never on the claim it may name (a claim's cash is what it was paid).
- ``FB`` forwarding balance: money owed back to the payer, carried between remittances.
  A **negative** FB is a balance the payer forwards to a later remittance: it did not take
  it now (typically a WO larger than this payment took all of it, and the FB gives back
  the part it could not take), so we hold cash we still owe it: debit ``CASH``, credit
  ``FORWARD_BALANCE``. A **positive** FB withholds now what was forwarded from an earlier
  remittance: debit ``FORWARD_BALANCE``, credit ``CASH``. ``FORWARD_BALANCE``'s balance is
  thus negative (a credit, a liability) by what is still owed, and zero once settled.
- every other reason (and a WO it cannot place): debit ``PROVIDER_ADJUSTMENT``, credit
  ``CASH`` as the PLB says, and queued for a biller, who records what it was
  (:func:`resolve_plb`); a queued PLB's money is already booked, the queue is the work.

Every PLB gets a ``provider_adjustments`` row saying where it went. Queue rows carry our
ids, the payer, the trace number, the reason code, the amount and the 835's key; never the
PLB03-2 reference (it may be a patient's account number): the biller opens the 835.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import File, ProviderLevelAdjustment, Remittance
from revcycle.model.remittance import ProviderAdjustment
from revcycle.pipeline.matching import PostedClaim

if TYPE_CHECKING:
    from revcycle.pipeline.post import Posting

STAGE = "plb"  # the stage of the edits it leaves on claims (not a denial: not "post")
RECOVERY, INTEREST, FORWARDING = "WO", "L6", "FB"
ACCOUNTS = {INTEREST: "INTEREST_INCOME", FORWARDING: "FORWARD_BALANCE"}
PROVIDER_LEVEL = "PROVIDER_ADJUSTMENT"

# PLB03-1 codes a biller meets most (X12 code list, short names), for the queue's reasons.
REASONS = {
    "72": "authorized return", "90": "early payment allowance", "AM": "applied to borrower's"
    " account", "AP": "acceleration of benefits", "B2": "rebate", "B3": "recovery allowance",
    "BD": "bad debt adjustment", "BN": "bonus", "C5": "temporary allowance",
    "CR": "capitation interest", "CS": "adjustment", "CT": "capitation payment",
    "CV": "capital passthru", "E3": "withholding", "FB": "forwarding balance",
    "GO": "graduate medical education passthru", "IP": "incentive premium payment",
    "IR": "internal revenue service withholding", "IS": "interim settlement",
    "J1": "nonreimbursable", "L3": "penalty", "L6": "interest owed", "LE": "levy",
    "LS": "lump sum", "OB": "offset for affiliated providers", "PI": "periodic interim"
    " payment", "PL": "payment final", "RA": "retro-activity adjustment",
    "TL": "third party liability", "WO": "overpayment recovery", "WU": "unspecified recovery",
}
NO_CLAIM = ("Overpayment recovery (WO) whose reference is no claim we sent to this payer"
            " (payer claim number or patient control number): find the claim it recovers.")
SEVERAL = ("Overpayment recovery (WO) whose reference names several of our claims for this"
           " payer: find the one it recovers, then adjust that claim.")
TOO_MUCH = ("Overpayment recovery (WO) larger than what its claim was paid here: check the"
            " claim's payments, then adjust it.")


def book_provider_adjustments(posting: Posting, adjustments: list[ProviderAdjustment]) -> None:
    """Book a remittance's PLBs (see the module docstring) into ``posting``, before its
    ``write``, and record each one. Claims a WO recovers from change in ``posting`` too."""
    rows = []
    for position, plb in enumerate(adjustments):
        claim, why = None, ""
        if plb.reason_code == RECOVERY:
            claim, why = _recovered_claim(posting, plb)
        if claim is not None:
            _recover(posting, claim, plb.amount)
            account = "AR"
        else:
            account = ACCOUNTS.get(plb.reason_code, PROVIDER_LEVEL)
            why = why or ("" if account != PROVIDER_LEVEL else _other_reason(plb.reason_code))
            memo = f"PLB {plb.reason_code}"
            posting.book(None, account, "CASH", plb.amount, memo)
        rows.append({"tenant_id": posting.tenant, "remittance_id": posting.remittance.id,
                     "position": position, "reason_code": plb.reason_code[:5],
                     "reference": plb.reference[:50], "amount": plb.amount,
                     "account": account, "claim_id": claim.id if claim else None,
                     "queued": bool(why), "reason": why, "resolved_by": "",
                     "resolution": ""})
    if rows:
        posting.session.execute(insert(ProviderLevelAdjustment), rows)


def _other_reason(code: str) -> str:
    name = REASONS.get(code)
    what = f"PLB {code} ({name})" if name else f"PLB {code} (not in our list: see the X12 list)"
    return (f"{what}: booked as a provider-level adjustment; record what it is for, or move it"
            " where it belongs.")


def _recovered_claim(posting: Posting, plb: ProviderAdjustment
                     ) -> tuple[PostedClaim | None, str]:
    """The claim a WO recovers from, or None and why it stays provider-level. Its PLB03-2
    is matched to the payer claim control number first, then to our patient control
    number, among this tenant's claims with this payer (as this remittance left them)."""
    reference = plb.reference.strip()
    if not reference:
        return None, NO_CLAIM
    for field in ("payer_claim_control_number", "patient_control_number"):
        named = [c for c in _claims_naming(posting, reference)
                 if getattr(c, field) == reference]
        if len(named) > 1:
            return None, SEVERAL
        if named:
            claim = named[0]
            if plb.amount > claim.paid:
                return None, TOO_MUCH
            return claim, ""
    return None, NO_CLAIM


def _claims_naming(posting: Posting, reference: str) -> list[PostedClaim]:
    """This tenant's claims with this payer whose payer claim control number or patient
    control number is ``reference``: the objects this posting already holds (it may have
    changed them) in place of the stored rows."""
    c = ClaimRow.__table__.c
    rows = posting.session.execute(
        select(*(c[name] for name in PostedClaim.__slots__))
        .where(c.tenant_id == posting.tenant, c.payer_id == posting.payer_id,
               or_(c.payer_claim_control_number == reference,
                   c.patient_control_number == reference))).all()
    held = {**posting.matcher.claims, **posting.changed}
    claims = {row.id: held.get(row.id) or PostedClaim(*row) for row in rows}
    for claim in posting.changed.values():  # numbered by a CLP of this remittance
        if reference in (claim.payer_claim_control_number, claim.patient_control_number):
            claims[claim.id] = claim
    return list(claims.values())


def _recover(posting: Posting, claim: PostedClaim, amount: Decimal) -> None:
    """The payer takes ``amount`` of ``claim``'s payment back (gives it back if negative):
    its A/R is open again by that much, and the claim says so in an edit."""
    posting.book(claim.id, "AR", "CASH", amount, "PLB WO recovery")
    claim.paid -= amount
    posting.changed[claim.id] = claim
    trace = posting.remittance.trace_number
    if amount > 0:
        message = (f"The payer recovered ${amount:,.2f} of this claim's payment by a PLB WO"
                   f" on remittance {trace} ({posting.on:%Y-%m-%d}): that much is open A/R"
                   " again; appeal it, or adjust it off once agreed.")
    else:
        message = (f"The payer returned ${-amount:,.2f} it had recovered from this claim's"
                   f" payment (PLB WO on remittance {trace}, {posting.on:%Y-%m-%d}); if the"
                   " claim is now paid more than it is owed, it is a credit balance to refund.")
    posting.edits.append({"claim_id": claim.id, "line_number": None, "stage": STAGE,
                          "rule_id": "PLB-WO", "severity": "WARNING", "field": "835 PLB",
                          "message": message})


def plb_queue(session: Session, *, tenant: str | None = None, payer: str | None = None,
              include_resolved: bool = False) -> list[dict[str, Any]]:
    """The PLBs posting booked provider-level for a biller to place, oldest first."""
    query = (select(ProviderLevelAdjustment, Remittance, File.key)
             .join(Remittance, Remittance.id == ProviderLevelAdjustment.remittance_id)
             .join(File, File.id == Remittance.file_id)
             .where(ProviderLevelAdjustment.queued.is_(True)))
    if tenant is not None:
        query = query.where(ProviderLevelAdjustment.tenant_id == tenant)
    if payer is not None:
        query = query.where(Remittance.payer_id == payer)
    if not include_resolved:
        query = query.where(ProviderLevelAdjustment.resolved_at.is_(None))
    return [{
        "plb_id": plb.id, "tenant": plb.tenant_id, "payer": remittance.payer_id,
        "trace_number": remittance.trace_number,
        "payment_date": remittance.payment_date.isoformat() if remittance.payment_date
        else None, "reason_code": plb.reason_code, "amount": str(plb.amount),
        "account": plb.account, "reason": plb.reason, "file": key,
        "position": plb.position,
        "resolved_at": plb.resolved_at.isoformat() if plb.resolved_at else None,
        "resolved_by": plb.resolved_by, "resolution": plb.resolution,
    } for plb, remittance, key in session.execute(query.order_by(ProviderLevelAdjustment.id))]


def resolve_plb(session: Session, plb_id: int, resolution: str, by: str,
                at: datetime | None = None, *, tenant: str | None = None) -> dict[str, Any]:
    """Close a queued PLB with what was done about it (the caller commits), as
    :func:`~revcycle.pipeline.queues.resolve_exception` closes an exception. With
    ``tenant``, only a PLB of that tenant."""
    from revcycle.pipeline.queues import MAX_RESOLUTION, QueueError, _biller

    resolution, by = resolution.strip(), _biller(by)
    if not resolution or len(resolution) > MAX_RESOLUTION:
        raise QueueError(f"say what was done, in 1 to {MAX_RESOLUTION} characters")
    plb = session.get(ProviderLevelAdjustment, plb_id)
    if plb is None or not plb.queued or (tenant is not None and plb.tenant_id != tenant):
        raise QueueError(f"PLB {plb_id} is not in the PLB queue")
    if plb.resolved_at is not None:
        raise QueueError(f"PLB {plb_id} was resolved on {plb.resolved_at:%Y-%m-%d} by"
                         f" {plb.resolved_by}")
    plb.resolved_at = at or datetime.now()
    plb.resolved_by, plb.resolution = by, resolution
    session.flush()
    return {"plb_id": plb.id, "resolved_at": plb.resolved_at.isoformat(),
            "resolved_by": by, "resolution": resolution}
