"""The domain model: claims, remittances and acknowledgments, free of X12 syntax."""

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimBatch,
    ClaimType,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)

__all__ = [
    "Address",
    "Claim",
    "ClaimBatch",
    "ClaimType",
    "Patient",
    "Payer",
    "Provider",
    "Receiver",
    "ServiceLine",
    "Submitter",
    "Subscriber",
]
