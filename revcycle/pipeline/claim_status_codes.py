"""What an 835's CLP02 (claim status code) and a CAS group code mean for posting.

CLP02 codes (005010X221A1):

- ``1``/``2``/``3``: processed as primary/secondary/tertiary. ``2`` or ``3`` (or ``20``/``21``)
  on a claim we sent as primary (its SBR01, ``claims.payer_responsibility``, is ``P``) is a
  coordination-of-benefits problem: the payer thinks another payer is primary. It is
  posted, with a ``POST-COB`` warning for a biller. A claim whose SBR01 we did not record
  (ingested before it was kept) is not checked.
- ``4``: denied.
- ``19``/``20``/``21``: processed as primary/secondary/tertiary and forwarded to another
  payer (a crossover, NM1*TT names it): the patient's share is not the patient's yet, the
  next payer owes it first (see :mod:`revcycle.pipeline.accounts`).
- ``22``: reversal of a previous payment.
- ``23``: not our claim, forwarded to additional payer(s): nothing to post to the claim,
  so it is a posting exception and its money waits in unapplied cash.
- ``25``: predetermination pricing only, no payment: never a payment (no cash, no status
  change); recorded as a payment row with a note and a warning edit on the claim.

The group code ``CR`` (correction and reversals) was retired in 5010: its amounts are
posted as denials (a person must look, see :mod:`revcycle.codesets.carc_classes`) and the
claim gets a ``POST-CR`` error edit.

Edit texts name codes and never a value of the claim.
"""

from __future__ import annotations

from typing import Any

from revcycle.model.remittance import ClaimPayment

CROSSOVER = frozenset({"19", "20", "21"})
NOT_PRIMARY = frozenset({"2", "3", "20", "21"})  # processed as secondary or tertiary
NOT_OURS = "23"
PREDETERMINATION = "25"
RETIRED_GROUP = "CR"
STAGE = "post"

NOT_OURS_EXCEPTION = (
    "The payer says this is not its claim (CLP02 23) and forwarded it to another payer:"
    " check the patient's coverage and bill the right payer; not posted.")
PREDETERMINATION_NOTE = (
    "Predetermination of benefits (CLP02 25): what the payer would pay, not a payment;"
    " recorded, no cash posted and the claim's status unchanged.")


def is_crossover(payment: ClaimPayment) -> bool:
    return payment.status_code in CROSSOVER


def is_predetermination(payment: ClaimPayment) -> bool:
    return payment.status_code == PREDETERMINATION


def crossover_payer(payment: ClaimPayment) -> tuple[str, str]:
    """The id and name of the payer a claim was forwarded to (NM1*TT), "" when absent.
    A payer's id and name are not PHI."""
    carrier = payment.crossover_carrier
    if carrier is None:
        return "", ""
    return carrier.id[:80], carrier.last_name[:60]


def _edit(claim_id: int, rule: str, severity: str, field: str, message: str
          ) -> dict[str, Any]:
    return {"claim_id": claim_id, "line_number": None, "stage": STAGE, "rule_id": rule,
            "severity": severity, "field": field, "message": message}


def status_code_edits(claim_id: int, payment: ClaimPayment, sent_as: str
                      ) -> list[dict[str, Any]]:
    """The edits a posted CLP gets for its CLP02 and its group codes: ``POST-COB`` when a
    claim we sent as primary (``sent_as``, its SBR01) was processed as secondary or
    tertiary, ``POST-CR`` when a CAS uses the retired group code CR."""
    edits = []
    if payment.status_code in NOT_PRIMARY and sent_as == "P":
        edits.append(_edit(
            claim_id, "POST-COB", "WARNING", "835 CLP02",
            f"Sent as primary, but the payer processed it as secondary or tertiary (CLP02"
            f" {payment.status_code}): check coordination of benefits (which payer is"
            " primary) before billing another payer or the patient."))
    groups = [a.group_code for a in payment.adjustments] + [
        a.group_code for s in payment.service_payments for a in s.adjustments]
    if RETIRED_GROUP in groups:
        edits.append(_edit(
            claim_id, "POST-CR", "ERROR", "835 CAS01",
            "The payer used the group code CR, which is not valid in 5010: its amounts are"
            " held as denied until a biller finds out from the payer what they are."))
    return edits


def predetermination_edit(claim_id: int) -> dict[str, Any]:
    return _edit(claim_id, "POST-PREDETERMINATION", "WARNING", "835 CLP02",
                 PREDETERMINATION_NOTE)
