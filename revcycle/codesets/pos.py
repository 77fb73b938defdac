"""Place of service (CMS): where a professional service was given (837P CLM05-1, SV105).

The code set is a small data file written for this project, ``data/place_of_service.csv``:
each code CMS assigns, the date it took effect when it was added recently, whether it is
a facility setting, and a short name of our own. The file's header records its source
and the version of the set it follows (:data:`SOURCE`, :data:`VERSION`).

>>> is_valid('11', date(2026, 10, 14))
True
>>> is_valid('10', date(2021, 12, 31))  # telehealth at home took effect on 2022-01-01
False
>>> is_valid('30', date(2026, 10, 14))  # unassigned
False
>>> is_facility('21'), is_facility('11')
(True, False)
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from revcycle.codesets.datafile import read_data_file

_DATA = "place_of_service.csv"


class PlaceOfService(NamedTuple):
    code: str
    effective: date  # date.min when the code predates every claim this project reads
    facility: bool
    name: str


def _load() -> tuple[dict[str, str], dict[str, PlaceOfService]]:
    """The header's ``key: value`` lines and the codes, from the packaged file."""
    header, rows = read_data_file(_DATA)
    table: dict[str, PlaceOfService] = {}
    for row in rows:
        code = row["code"]
        if len(code) != 2 or not code.isdigit() or code in table:
            raise ValueError(f"{_DATA}: bad or repeated code on a data row")
        effective = date.fromisoformat(row["effective"]) if row["effective"] else date.min
        table[code] = PlaceOfService(code, effective, row["facility"] == "Y", row["name"])
    return header, table


_HEADER, _CODES = _load()
SOURCE: str = _HEADER["source"]
VERSION: str = _HEADER["version"]  # the date of the last change to the set the file follows
_FACILITY = frozenset(code for code, entry in _CODES.items() if entry.facility)


def is_valid(code: str, on: date) -> bool:
    """Whether ``code`` is a place of service code in effect on date of service ``on``."""
    entry = _CODES.get(code)
    return entry is not None and entry.effective <= on


def is_facility(code: str) -> bool:
    """Whether ``code`` is a facility setting (Medicare's facility rate: hospital, skilled
    nursing facility, ambulatory surgical center, ...), where the service was not at the
    billing provider's own site. Telehealth (02) is paid at that rate but is no facility."""
    return code in _FACILITY


def lookup(code: str) -> PlaceOfService | None:
    """The code's entry (effective date, facility, short name), or None when unassigned."""
    return _CODES.get(code)


def codes() -> tuple[str, ...]:
    """Every assigned code, in order."""
    return tuple(_CODES)
