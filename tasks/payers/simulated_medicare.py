"""SIMULATED MEDICARE (SIMA1): the payer simulator's Medicare-like plan."""

from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="SIMA1",
    name="SIMULATED MEDICARE",
    receiver_id="SIMA1",
    timely_filing_days=365,  # Medicare: one calendar year from the date of service
)
