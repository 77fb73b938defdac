"""One module per payer, each defining ``PAYER`` (a ``revcycle.payers.PayerDefinition``).

Dropping a module in this folder adds the payer: ``load_payers`` finds it.
"""

from __future__ import annotations

import importlib
import pkgutil

from revcycle.payers import PayerDefinition


def load_payers() -> dict[str, PayerDefinition]:
    """Every payer module's definition, by payer id."""
    payers: dict[str, PayerDefinition] = {}
    for module in pkgutil.iter_modules(__path__):
        definition = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PAYER", None)
        if not isinstance(definition, PayerDefinition):
            raise TypeError(f"payer module {module.name} defines no PAYER")
        if definition.payer_id in payers:
            raise ValueError(f"payer id {definition.payer_id} is defined twice")
        payers[definition.payer_id] = definition
    return payers
