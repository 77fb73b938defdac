"""TESTCARE COMMERCIAL (SIMC1): the payer simulator's commercial plan."""

from revcycle.payers import PayerDefinition

PAYER = PayerDefinition(
    payer_id="SIMC1",
    name="TESTCARE COMMERCIAL",
    receiver_id="SIMC1",
    timely_filing_days=90,
)
