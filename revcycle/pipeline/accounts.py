"""The ledger's accounts, and which one each adjusted amount of an 835 goes to.

The account names are a contract shared by posting, PLB handling, aging and reporting:

- ``AR``: open A/R with the payer (booked at submission, the claim's charge);
- ``AR_DENIED``: denied by the payer and in work — still receivable until a biller
  writes it off, appeals, or a corrected claim replaces it;
- ``AR_NEXT_PAYER``: owed by the next payer (a crossover, CLP02 19-21, or a secondary);
- ``PATIENT_AR``: the patient's to pay;
- ``CONTRACTUAL``: written off under the contract or the law (CO-45, CO-253 ...);
- ``OTHER_ADJUSTMENT``: accounted for elsewhere (a prior payer's payment, OA-23);
- ``WRITE_OFF``: written off by a biller;
- ``INTEREST_INCOME``, ``FORWARD_BALANCE``, ``PROVIDER_ADJUSTMENT``: provider level (PLB);
- ``COB_TRANSFER``: the other side, on each claim, of the patient's share moving from a
  claim's ``AR_NEXT_PAYER`` to the ``AR`` of the claim for the next payer (debit on the
  prior claim, credit on the new one: it nets to zero over the two,
  :mod:`revcycle.pipeline.cob`).

The payer receivables are the accounts whose names start with ``AR`` (:func:`is_receivable`):
for every claim their sum is charge - paid - adjusted - patient responsibility, where
``adjusted`` is only what left A/R for good (``CONTRACTUAL`` and ``OTHER_ADJUSTMENT``).

An adjustment's account follows its class (:func:`revcycle.codesets.carc_classes.classify`),
not its group code alone: CO-16 is not a write-off but a denial someone must work, and a
denied amount moved to ``CONTRACTUAL`` would vanish from every work list and from A/R.

>>> account_for('CO', '45'), account_for('CO', '16'), account_for('PR', '1')
('CONTRACTUAL', 'AR_DENIED', 'PATIENT_AR')
>>> account_for('PR', '2', crossover=True), account_for('OA', '23'), account_for('CR', '45')
('AR_NEXT_PAYER', 'OTHER_ADJUSTMENT', 'AR_DENIED')
"""

from __future__ import annotations

from functools import lru_cache

from revcycle.codesets.carc_classes import AdjustmentClass, classify

AR = "AR"
AR_DENIED = "AR_DENIED"
AR_NEXT_PAYER = "AR_NEXT_PAYER"
PATIENT_AR = "PATIENT_AR"
CONTRACTUAL = "CONTRACTUAL"
OTHER_ADJUSTMENT = "OTHER_ADJUSTMENT"
WRITE_OFF = "WRITE_OFF"
INTEREST_INCOME = "INTEREST_INCOME"
FORWARD_BALANCE = "FORWARD_BALANCE"
PROVIDER_ADJUSTMENT = "PROVIDER_ADJUSTMENT"
COB_TRANSFER = "COB_TRANSFER"
CASH = "CASH"
# What left A/R for good: the claim row's ``adjusted``.
ADJUSTED = frozenset({CONTRACTUAL, OTHER_ADJUSTMENT})

_BY_CLASS = {AdjustmentClass.CONTRACTUAL: CONTRACTUAL,
             AdjustmentClass.PATIENT: PATIENT_AR,
             AdjustmentClass.DENIAL: AR_DENIED,
             AdjustmentClass.INFORMATIONAL: OTHER_ADJUSTMENT}


def is_receivable(account: str) -> bool:
    """Whether ``account`` is owed by a payer (open, denied in work, or the next payer's)."""
    return account.startswith(AR)


@lru_cache(maxsize=4096)
def adjustment_class(group_code: str, reason_code: str) -> AdjustmentClass:
    """:func:`classify`, remembered: a large 835 repeats a few dozen (group, code) pairs."""
    return classify(group_code, reason_code)


def account_for(group_code: str, reason_code: str, crossover: bool = False) -> str:
    """The account an adjustment with CAS01 ``group_code`` and CARC ``reason_code`` moves
    from ``AR`` to. On a crossover (the payer forwarded the claim to the next payer) the
    patient's share is not the patient's yet: the next payer owes it first."""
    account = _BY_CLASS[adjustment_class(group_code, reason_code)]
    return AR_NEXT_PAYER if crossover and account == PATIENT_AR else account
