"""How figures read to a person: dollars with a currency sign and thousands separators,
counts by name rather than as a dict."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal


def dollars(amount: Decimal | str | int | None) -> str:
    """``$1,234.50``; negative amounts as ``-$12.00``; nothing as ``$0.00``.

    >>> dollars("1234.5"), dollars(Decimal("-12")), dollars(None)
    ('$1,234.50', '-$12.00', '$0.00')
    """
    value = Decimal(0) if amount is None else Decimal(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def percent(rate: float | Decimal | None) -> str:
    """``97.5%``; an undefined rate (nothing to divide by) as ``-``.

    >>> percent(0.975), percent(None)
    ('97.5%', '-')
    """
    return "-" if rate is None else f"{float(rate):.1%}"


def counts(by_name: Mapping[str, int], *, lower: bool = True) -> str:
    """``posted 36, held 2``: the non-zero counts in the mapping's order.

    >>> counts({"POSTED": 36, "HELD": 0, "EXCEPTIONS": 2})
    'posted 36, exceptions 2'
    """
    shown = [(name.lower() if lower else name, n) for name, n in by_name.items() if n]
    return ", ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in shown) or "none"
