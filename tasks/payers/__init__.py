"""One module per payer, each defining ``PAYER`` (a ``revcycle.payers.PayerDefinition``).

Dropping a module in this folder, or in the operator's folder (``REVCYCLE_PAYER_MODULES_DIR``),
adds the payer: ``load_payers`` finds it. A broken module disables only its own payer
(``payer_registry().broken``); the others load.
"""

from __future__ import annotations

from revcycle.payers import (
    PayerDefinition,
    PayerRegistry,
    load_payer_modules,
    modules_fingerprint,
)
from revcycle.settings import get_settings


def payer_registry() -> PayerRegistry:
    """Every module of this package: the usable payers and the broken modules."""
    return load_payer_modules(__name__, _paths())


def load_payers() -> dict[str, PayerDefinition]:
    """The usable payers' definitions, by payer id."""
    return payer_registry().payers


def payer_modules_fingerprint() -> str:
    """``payer_registry().fingerprint`` without importing the modules."""
    return modules_fingerprint(_paths())


def _paths() -> list[str]:
    """This package's folder and the operator's payer modules folder, which joins the
    package's search path so that its modules import as ``tasks.payers.<name>`` in whatever
    process asks (a Dask worker reads the same setting)."""
    extra = get_settings().payer_modules_dir
    if extra and extra not in __path__:
        __path__.append(extra)
    return list(__path__)
