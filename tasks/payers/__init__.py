"""One module per payer, each defining ``PAYER`` (a ``revcycle.payers.PayerDefinition``).

Dropping a module in this folder adds the payer: ``load_payers`` finds it. A broken module
disables only its own payer (``payer_registry().broken``); the others load.
"""

from __future__ import annotations

from revcycle.payers import (
    PayerDefinition,
    PayerRegistry,
    load_payer_modules,
    modules_fingerprint,
)


def payer_registry() -> PayerRegistry:
    """Every module of this package: the usable payers and the broken modules."""
    return load_payer_modules(__name__, __path__)


def load_payers() -> dict[str, PayerDefinition]:
    """The usable payers' definitions, by payer id."""
    return payer_registry().payers


def payer_modules_fingerprint() -> str:
    """``payer_registry().fingerprint`` without importing the modules."""
    return modules_fingerprint(__path__)
