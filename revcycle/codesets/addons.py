"""Add-on procedure codes: work done in addition to a primary procedure, never billed alone.

A small data file written for this project, ``data/addon_codes.csv``, maps selected
add-on codes (CPT and HCPCS Level II) to the primary codes each may accompany. Codes
only: no descriptors (CPT's are AMA content). The header records the source and the
version (:data:`SOURCE`, :data:`VERSION`).

>>> is_addon('11045'), is_addon('11042')
(True, False)
>>> sorted(primaries('64480'))
['64479']
>>> '99213' in primaries('G2211')
True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from revcycle.codesets.datafile import read_data_file

_DATA = "addon_codes.csv"
_NONE: frozenset[str] = frozenset()


def _is_code(code: str) -> bool:
    return len(code) == 5 and code.isascii() and code.isalnum() and code == code.upper()


def _expand(text: str) -> frozenset[str]:
    """``"99202-99205 99215"`` as the codes it stands for."""
    codes: set[str] = set()
    for item in text.split():
        first, _, last = item.partition("-")
        last = last or first
        if not (_is_code(first) and _is_code(last)):
            raise ValueError(f"{_DATA}: a primary is not a five-character code")
        if first == last:
            codes.add(first)
        elif first.isdigit() and last.isdigit() and first < last:
            codes.update(f"{n:05d}" for n in range(int(first), int(last) + 1))
        else:
            raise ValueError(f"{_DATA}: a range of primaries is not two numeric codes")
    return frozenset(codes)


def _load() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    header, rows = read_data_file(_DATA)
    table: dict[str, frozenset[str]] = {}
    for row in rows:
        code = row["addon"]
        if not _is_code(code) or code in table:
            raise ValueError(f"{_DATA}: bad or repeated add-on code on a data row")
        table[code] = _expand(row["primaries"])
        if not table[code] or code in table[code]:
            raise ValueError(f"{_DATA}: an add-on code needs primaries other than itself")
    return header, table


_HEADER, _TABLE = _load()
SOURCE: str = _HEADER["source"]
VERSION: str = _HEADER["version"]
ADDONS: Mapping[str, frozenset[str]] = MappingProxyType(_TABLE)
"""Add-on code -> the primary codes it may accompany (read-only)."""


def is_addon(code: str) -> bool:
    """Whether ``code`` is a listed add-on code."""
    return code in ADDONS


def primaries(code: str) -> frozenset[str]:
    """The primary codes an add-on code may accompany (empty when it is no listed add-on)."""
    return ADDONS.get(code, _NONE)
