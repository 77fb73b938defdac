"""SIMULATED MEDICAID (SIMD1): the payer simulator's state Medicaid plan."""

from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="SIMD1",
    name="SIMULATED MEDICAID",
    receiver_id="SIMD1",
    timely_filing_days=180,
)
