"""Synthetic, deterministic test data: the claims a provider client drops off.

Nothing here is real: names, member ids and NPIs are made up (NPIs and EINs are only
well formed). The project's own fixtures and benchmarks are built with it.
"""

from revcycle.simulator.providers import (
    DEFAULT_AS_OF,
    DEFAULT_PAYERS,
    DEFECT_TAGS,
    ClaimFactory,
    PayerProfile,
    Simulation,
    generate,
    generate_claims,
)

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_PAYERS",
    "DEFECT_TAGS",
    "ClaimFactory",
    "PayerProfile",
    "Simulation",
    "generate",
    "generate_claims",
]
