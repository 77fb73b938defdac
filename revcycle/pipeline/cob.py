"""Claims for the next payer (coordination of benefits), made when the prior payer's 835 posts.

Which claims: a claim whose content names a payer after its own (a 2320 loop with SBR01
S or T that has not adjudicated it, :func:`revcycle.claims.derived.next_payer`) has that
payer's id in ``claims.next_payer_id``, recorded when the claim is ingested, corrected or
made here. Posting reads the column with the claims it matches, so it knows which claims
to bill onward without reading any claim's content; only the claims a remittance put a
patient share in ``AR_NEXT_PAYER`` for (:data:`BILLED_ONWARD`: processed as primary,
secondary or tertiary; or forwarded, CLP02 19-21) have their content read, here.

What is made, in the posting transaction (after the remittance's CLPs, before its rows are
written), so a crash leaves neither the posting nor the claim, and a rerun finds the
remittance posted: nothing twice. A query skips a prior claim that already has its claim
for the next payer, and ``claims.prior_claim_id`` is unique (0022) besides.

- Billed by us: :func:`revcycle.claims.derived.secondary_claim` builds the claim (SBR01 S,
  or T for a tertiary, the prior payer's decision in 2320/2430) from the claim's current
  content and the CLP. It becomes a claims row RECEIVED in the batch of the posting day
  (``prior_claim_id`` = the prior claim; its PCN, file and ordinal; the next payer, whose
  payers row is made if missing), its service lines, and its content as version 1
  (source ``secondary``, by ``posting``): that day's quality, scrub and submit take it, or
  the next day's (``versions.adopt_waiting`` takes RECEIVED claims with a version), and the
  837 writer writes the version. A refusal (``DerivedClaimError``: the 835's amounts do
  not balance, a line has no payment ...) makes no claim: the prior claim gets a
  :data:`RULE` edit naming the rule, and the share stays in its ``AR_NEXT_PAYER``, in work.
- Forwarded by the payer (a crossover, CLP02 19/20/21): nothing is sent, the payer sent
  it. When NM1*TT names a payer we know (a payers row with its id), the claim it forwarded
  is recorded as a claims row SUBMITTED for that payer (so its 835, CLP01 our PCN, matches
  it), with the content as forwarded when it can be built; otherwise the share stays on
  the prior claim with a :data:`RULE` edit saying it waits for that payer's 835.

The share moves as a double entry on each claim: prior claim ``COB_TRANSFER`` debit,
``AR_NEXT_PAYER`` credit (memo :data:`TO_NEXT`); new claim ``AR`` debit, ``COB_TRANSFER``
credit (memo :data:`FROM_PRIOR`). How its 835 posts is in :mod:`revcycle.pipeline.post`.
Edits and results carry ids, counts, codes and rule names, never a claim's values.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from revcycle.claims.content import claim_to_json
from revcycle.claims.derived import (
    DerivedClaimError,
    next_parties,
    next_payer,
    next_payer_id,
    secondary_claim,
)
from revcycle.db.models import Batch, ClaimVersion, LedgerEntry, Money, Payer, ServiceLine
from revcycle.db.models import Claim as ClaimRow
from revcycle.model.claim import Claim
from revcycle.model.claim import Payer as PayerParty
from revcycle.model.remittance import ClaimPayment
from revcycle.pipeline.accounts import AR, AR_NEXT_PAYER, COB_TRANSFER
from revcycle.pipeline.claim_status_codes import CROSSOVER, crossover_payer
from revcycle.pipeline.matching import PostedClaim
from revcycle.pipeline.versions import current_claims
from revcycle.status import Status
from revcycle.storage import ObjectStore

if TYPE_CHECKING:
    from revcycle.pipeline.post import Posting

STAGE = "post"
SOURCE = "secondary"  # claim_versions.source of a claim made here
MADE_BY = "posting"
RULE = "POST-NEXT-PAYER"
TRANSFER = COB_TRANSFER  # each claim's other side of the share that moves
TO_NEXT = "to next payer"
FROM_PRIOR = "from prior payer"
# CLP02 on which the patient's share is the next payer's (a crossover's is too).
BILLED_ONWARD = frozenset({"1", "2", "3", "22"})
# A crossover forwarded after processing as primary/secondary/tertiary: the next SBR01.
_FORWARDED_TO = {"19": "S", "20": "T", "21": "A"}
_PROCESSED_AS = {"19": "1", "20": "2", "21": "3"}


@dataclass(slots=True)
class Onward:
    """A claim whose patient share a remittance put in ``AR_NEXT_PAYER``, its CLP, and
    how much."""

    claim: PostedClaim
    payment: ClaimPayment
    amount: Decimal


def moved_in(session: Session, claim_ids: Sequence[int]) -> dict[int, Decimal]:
    """What moved in to each claim for the next payer (its basis): its ``AR`` entries from
    the prior claim."""
    found: dict[int, Decimal] = {}
    ids = list(claim_ids)
    for start in range(0, len(ids), 500):
        found.update(session.execute(
            select(LedgerEntry.claim_id, func.sum(LedgerEntry.amount, type_=Money()))
            .where(LedgerEntry.claim_id.in_(ids[start:start + 500]),
                   LedgerEntry.account == AR, LedgerEntry.memo == FROM_PRIOR)
            .group_by(LedgerEntry.claim_id)).all())
    return found


def bill_next_payers(posting: Posting, store: ObjectStore, batch: Batch) -> None:
    """The claims for the next payer of the claims ``posting`` put a share in
    ``AR_NEXT_PAYER`` for (see the module docstring); rows for the claims, lines and
    versions are inserted, the ledger entries, events and edits added to ``posting``."""
    if not posting.onward:
        return
    session = posting.session
    ids = sorted(posting.onward)
    made = set(session.scalars(select(ClaimRow.prior_claim_id).where(
        ClaimRow.prior_claim_id.in_(ids))))
    ids = [i for i in ids if i not in made]
    if not ids:
        return
    rows = list(session.scalars(select(ClaimRow).where(ClaimRow.id.in_(ids))
                                .order_by(ClaimRow.id)))
    known = set(session.scalars(select(Payer.id).where(Payer.id.in_(
        {crossover_payer(posting.onward[i].payment)[0] for i in ids} - {""}))))
    made_claims: list[_Made] = []
    for row, claim in current_claims(session, store, rows):
        onward = posting.onward[row.id]
        code = onward.payment.status_code
        try:
            if code in CROSSOVER:
                made_claims.append(_forwarded(posting, row, claim, onward, known))
            else:
                made_claims.append(_billed(posting, row, claim, onward))
        except _Waits as waits:
            posting.edits.append(_edit(row.id, waits.field, waits.message))
            posting.outcome["next_payer_waiting"] += 1
    if made_claims:
        _insert(posting, batch, made_claims)
        posting.outcome["next_payer_claims"] += len(made_claims)


@dataclass(slots=True)
class _Made:
    prior: ClaimRow
    content: Claim  # as billed (or forwarded); the prior's when it could not be built
    versioned: bool  # whether ``content`` is recorded as the claim's version 1
    payer: PayerParty
    responsibility: str
    status: Status
    amount: Decimal


class _Waits(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _billed(posting: Posting, row: ClaimRow, claim: Claim, onward: Onward) -> _Made:
    other = next_payer(claim)
    if other is None:
        raise _Waits("2320 SBR01", "No claim was made for the next payer: the claim's"
                     " content no longer names a payer after this one (a 2320 loop with"
                     " SBR01 S or T). The patient's share stays owed by the next payer"
                     " (AR_NEXT_PAYER) until a biller bills or moves it.")
    subscriber, patient = next_parties(claim, other)
    try:
        made = secondary_claim(claim, onward.payment, _prior_payer(claim, posting),
                               copy.deepcopy(other.payer), subscriber,
                               adjudication_date=posting.on,
                               responsibility=other.responsibility)
    except DerivedClaimError as exc:
        raise _Waits("835 CLP", f"No claim was made for the next payer: {exc.reason}."
                     " The patient's share stays owed by the next payer (AR_NEXT_PAYER)"
                     " until a biller bills it.") from None
    made = dataclasses.replace(made, patient=patient)
    return _Made(row, made, True, made.payer, other.responsibility, Status.RECEIVED,
                 onward.amount)


def _forwarded(posting: Posting, row: ClaimRow, claim: Claim, onward: Onward,
               known: set[str]) -> _Made:
    payment = onward.payment
    carrier, name = crossover_payer(payment)
    if carrier not in known:
        who = f"crossover payer {carrier}" if carrier else "a crossover payer it did not name"
        raise _Waits("835 NM1*TT", f"The payer forwarded the claim (CLP02"
                     f" {payment.status_code}) to {who}, which is not a payer we know: the"
                     " patient's share stays owed by the next payer (AR_NEXT_PAYER) and"
                     " waits for that payer's 835.")
    responsibility = _FORWARDED_TO[payment.status_code]
    payer = PayerParty(name, carrier)
    others = [o for o in claim.other_payers if o.payer.payer_id == carrier]
    content, versioned = claim, False
    if responsibility in ("S", "T"):
        if others:
            subscriber, patient = next_parties(claim, others[0])
            subscriber.payer_responsibility = responsibility
        else:
            subscriber, patient = dataclasses.replace(
                claim.subscriber, payer_responsibility=responsibility), claim.patient
        processed = dataclasses.replace(payment,
                                        status_code=_PROCESSED_AS[payment.status_code])
        try:
            content = dataclasses.replace(secondary_claim(
                claim, processed, _prior_payer(claim, posting), payer, subscriber,
                adjudication_date=posting.on, responsibility=responsibility),
                patient=patient)
            versioned = True
        except DerivedClaimError:
            pass  # recorded all the same: the payer has it, and its 835 will come
    return _Made(row, content, versioned, payer, responsibility, Status.SUBMITTED,
                 onward.amount)


def _prior_payer(claim: Claim, posting: Posting) -> PayerParty:
    payer = copy.deepcopy(claim.payer)
    payer.payer_id = payer.payer_id or posting.payer_id
    return payer


def _insert(posting: Posting, batch: Batch, made: list[_Made]) -> None:
    session = posting.session
    _payer_rows(session, {m.payer.payer_id: m.payer.name or m.payer.payer_id for m in made})
    values = [{
        "tenant_id": m.prior.tenant_id, "batch_id": batch.id, "file_id": m.prior.file_id,
        "ordinal": m.prior.ordinal, "payer_id": m.payer.payer_id,
        "claim_type": m.prior.claim_type,
        "patient_control_number": m.prior.patient_control_number,
        "frequency_code": "1", "billing_npi": m.prior.billing_npi,
        "service_date": m.prior.service_date, "total_charge": m.prior.total_charge,
        "status": m.status.value, "payer_responsibility": m.responsibility,
        "prior_claim_id": m.prior.id,
        "next_payer_id": next_payer_id(m.content) if m.versioned else "",
        "submission_id": None,
    } for m in made]
    ids = list(session.scalars(insert(ClaimRow).returning(
        ClaimRow.id, sort_by_parameter_order=True), values))
    session.execute(insert(ServiceLine), [{
        "claim_id": claim_id, "line_number": number, "procedure_code": line.procedure_code,
        "revenue_code": line.revenue_code, "modifiers": " ".join(line.modifiers),
        "charge": line.charge, "units": line.units, "service_date": line.service_date,
        "line_control_number": line.line_control_number,
    } for claim_id, m in zip(ids, made, strict=True)
        for number, line in enumerate(m.content.service_lines, 1)])
    versions = [{"claim_id": claim_id, "version": 1, "content": claim_to_json(m.content),
                 "source": SOURCE, "changed_by": MADE_BY, "changed_at": datetime.now(),
                 "diff": [], "batch_id": batch.id}
                for claim_id, m in zip(ids, made, strict=True) if m.versioned]
    if versions:
        session.execute(insert(ClaimVersion), versions)
    common = {"tenant_id": batch.tenant_id, "remittance_id": posting.remittance.id,
              "entry_date": posting.on}
    for claim_id, m in zip(ids, made, strict=True):
        posting.events.append({"claim_id": claim_id, "from_status": None,
                               "to_status": m.status.value, "stage": STAGE})
        posting.ledger += [
            {**common, "claim_id": m.prior.id, "account": TRANSFER, "amount": m.amount,
             "memo": TO_NEXT},
            {**common, "claim_id": m.prior.id, "account": AR_NEXT_PAYER,
             "amount": -m.amount, "memo": TO_NEXT},
            {**common, "claim_id": claim_id, "account": AR, "amount": m.amount,
             "memo": FROM_PRIOR},
            {**common, "claim_id": claim_id, "account": TRANSFER, "amount": -m.amount,
             "memo": FROM_PRIOR}]


def _payer_rows(session: Session, payers: dict[str, str]) -> None:
    """The payers' rows, in the posting's transaction; one another run added first stays."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Payer)
    session.execute(statement.on_conflict_do_nothing(),
                    [{"id": pid, "name": name[:200], "channel": ""}
                     for pid, name in sorted(payers.items())])


def _edit(claim_id: int, field: str, message: str) -> dict[str, Any]:
    return {"claim_id": claim_id, "line_number": None, "stage": STAGE, "rule_id": RULE,
            "severity": "ERROR", "field": field, "message": message}
