"""Procedure code modifiers (CPT Level I and HCPCS Level II): which a service line may carry.

The list is a small data file written for this project, ``data/modifiers.csv``: each
modifier in common use, its kind (CPT or HCPCS) and a short description of our own (CPT's
descriptors are AMA content and are not shipped). The file's header records its source
and version (:data:`SOURCE`, :data:`VERSION`). Modifiers are two characters, upper case,
as X12 carries them (SV101-3 to SV101-6, SV202-3 to SV202-6).

>>> is_valid('25'), is_valid('LT'), is_valid('XS')
(True, True, True)
>>> is_valid('lt'), is_valid('00'), is_valid('LTX')
(False, False, False)
>>> describe('TC')
'Technical component only'
"""

from __future__ import annotations

from typing import NamedTuple

from revcycle.codesets.datafile import read_data_file

_DATA = "modifiers.csv"
_KINDS = ("CPT", "HCPCS")


class Modifier(NamedTuple):
    code: str
    kind: str  # "CPT" (Level I) or "HCPCS" (Level II)
    description: str  # our own words, not the official descriptor


def _load() -> tuple[dict[str, str], dict[str, Modifier]]:
    """The header's ``key: value`` lines and the modifiers, from the packaged file."""
    header, rows = read_data_file(_DATA)
    table: dict[str, Modifier] = {}
    for row in rows:
        code = row["modifier"]
        well_formed = (len(code) == 2 and code.isascii() and code.isalnum()
                       and (code.isupper() or code.isdigit()))
        if not well_formed or code in table or row["kind"] not in _KINDS or not row["description"]:
            raise ValueError(f"{_DATA}: bad or repeated modifier on a data row")
        table[code] = Modifier(code, row["kind"], row["description"])
    return header, table


_HEADER, _MODIFIERS = _load()
SOURCE: str = _HEADER["source"]
VERSION: str = _HEADER["version"]
VALID: frozenset[str] = frozenset(_MODIFIERS)
"""Every listed modifier: for rules that test many lines, a set is the fastest lookup."""


def is_valid(modifier: str) -> bool:
    """Whether ``modifier`` (two characters, upper case) is in the list."""
    return modifier in VALID


def lookup(modifier: str) -> Modifier | None:
    """The modifier's entry (kind, our description), or None when not listed."""
    return _MODIFIERS.get(modifier)


def describe(modifier: str) -> str:
    """Our short description of a listed modifier ("" when not listed)."""
    entry = _MODIFIERS.get(modifier)
    return entry.description if entry else ""
