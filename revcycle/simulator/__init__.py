"""Synthetic, deterministic test data: the claims a provider client drops off.

Nothing here is real: names, member ids and NPIs are made up (NPIs and EINs are only
well formed). The project's own fixtures and benchmarks are built with it.
"""

from revcycle.simulator.providers import (
    ALL_DEFECT_TAGS,
    CORRECTION_TAGS,
    DEFAULT_AS_OF,
    DEFAULT_PAYERS,
    DEFECT_SEVERITY,
    DEFECT_TAGS,
    QUALITY_DEFECT_TAGS,
    REFERENCE_DEFECT_TAGS,
    WARNING_DEFECT_TAGS,
    ClaimFactory,
    PayerProfile,
    SimulatedReference,
    Simulation,
    generate,
    generate_claims,
    profile_for,
)

__all__ = [
    "ALL_DEFECT_TAGS",
    "CORRECTION_TAGS",
    "DEFAULT_AS_OF",
    "DEFAULT_PAYERS",
    "DEFECT_SEVERITY",
    "DEFECT_TAGS",
    "QUALITY_DEFECT_TAGS",
    "REFERENCE_DEFECT_TAGS",
    "WARNING_DEFECT_TAGS",
    "ClaimFactory",
    "PayerProfile",
    "SimulatedReference",
    "Simulation",
    "generate",
    "generate_claims",
    "profile_for",
]
