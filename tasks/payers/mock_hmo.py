"""MOCK HMO HEALTH (SIMH1): the payer simulator's HMO."""

from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="SIMH1",
    name="MOCK HMO HEALTH",
    receiver_id="SIMH1",
    timely_filing_days=90,
)
