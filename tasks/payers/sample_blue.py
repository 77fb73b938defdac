"""SAMPLE BLUE PLAN (SIMB1): the payer simulator's Blue plan."""

from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="SIMB1",
    name="SAMPLE BLUE PLAN",
    receiver_id="SIMB1",
    timely_filing_days=180,
)
