"""What an 835 adjustment means for the books: its class from its group code and CARC.

A CAS adjustment carries a group code (CAS01: who bears the amount) and a reason code
(CARC: why). Closing the books needs to know which of four things each amount is: a
contractual write-off, the patient's share, a denial someone must work, or information
about an amount another party already accounted for. The reason code alone does not say
it: CO-45 is a write-off, PR-45 is owed by the patient. ``data/carc_classes.csv`` (our own
classification, its header records the source and version) gives each code's class under
the groups CO, PI and OA, and group-specific overrides.

The rules, in order:

1. a group-specific override in the data wins;
2. group PR: the patient's, whatever the code;
3. group CO, PI or OA: the code's class in the data; but a patient-share code (deductible,
   coinsurance, copay) under one of these groups contradicts itself (the group says the
   patient does not owe it), so it is a denial: a person must look;
4. anything else, an unknown code or an unknown group (CR, retired in 5010, or a typo), is
   a denial. Treating an unknown adjustment as a write-off or as the patient's would close
   money nobody checked; as a denial it stays open in a work queue until someone has.

>>> classify('CO', '45')
<AdjustmentClass.CONTRACTUAL: 'contractual'>
>>> classify('PR', '45').value, classify('pr', '2').value
('patient', 'patient')
>>> classify('OA', '23').value, classify('CO', '16').value, classify('CO', 'Z9').value
('informational', 'denial', 'denial')
>>> is_timely_filing('CO', '29'), is_timely_filing('CO', '16')
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from revcycle.codesets.datafile import read_data_file

_DATA = "carc_classes.csv"
_GROUPS = frozenset({"CO", "PI", "OA", "PR"})
TIMELY_FILING_CODE = "29"


class AdjustmentClass(StrEnum):
    """What an adjusted amount is for the books."""

    CONTRACTUAL = "contractual"  # written off under the contract or the law
    PATIENT = "patient"  # the patient owes it
    DENIAL = "denial"  # held back: a person works it (correct, appeal, rebill)
    INFORMATIONAL = "informational"  # accounted for elsewhere (a prior payer)


_Table = dict[str, tuple[AdjustmentClass, dict[str, AdjustmentClass]]]


def parse_rows(rows: Iterable[Mapping[str, str]]) -> _Table:
    """Each code's class and its overrides by group, from the data file's rows.

    Raises ValueError for a repeated code, an unknown class or a malformed override: a
    typo in the file must stop the import, not classify money wrongly."""
    table: _Table = {}
    for row in rows:
        code = row["code"].strip().upper()
        if not code or code in table:
            raise ValueError(f"{_DATA}: an empty or repeated code")
        overrides: dict[str, AdjustmentClass] = {}
        for item in filter(None, (row.get("overrides") or "").split(";")):
            group, sep, value = item.partition("=")
            group = group.strip().upper()
            if not sep or group not in _GROUPS:
                raise ValueError(f"{_DATA}: code {code}: malformed override")
            overrides[group] = AdjustmentClass(value.strip())
        table[code] = (AdjustmentClass(row["class"].strip()), overrides)
    return table


def _load() -> tuple[dict[str, str], _Table]:
    header, rows = read_data_file(_DATA)
    return header, parse_rows(rows)


_HEADER, _TABLE = _load()
SOURCE: str = _HEADER["source"]
VERSION: str = _HEADER["version"].split(" ", 1)[0]


def classify(group_code: str, reason_code: str, table: _Table | None = None) -> AdjustmentClass:
    """The class of an adjustment with CAS01 ``group_code`` and CARC ``reason_code``.

    ``table`` is for tests (:func:`parse_rows`); by default the packaged data is used."""
    group, code = group_code.strip().upper(), reason_code.strip().upper()
    entry = (_TABLE if table is None else table).get(code)
    if entry is not None and group in entry[1]:
        return entry[1][group]
    if group == "PR":
        return AdjustmentClass.PATIENT
    if entry is None or group not in _GROUPS:
        return AdjustmentClass.DENIAL
    if entry[0] is AdjustmentClass.PATIENT:
        return AdjustmentClass.DENIAL  # a patient's share the group says the patient does not owe
    return entry[0]


def is_timely_filing(group_code: str, reason_code: str) -> bool:
    """Whether the adjustment is a timely-filing denial (CARC 29 under CO, PI or OA).

    Tracked apart from other denials: unless the office can prove it filed in time, it is
    a write-off the office caused, which a billing office reports on its own. Under PR the
    payer would be saying the patient owes it, which is not a filing matter."""
    group, code = group_code.strip().upper(), reason_code.strip().upper()
    return code == TIMELY_FILING_CODE and group in _GROUPS and group != "PR"


def classified_codes() -> frozenset[str]:
    """The reason codes the data file classifies."""
    return frozenset(_TABLE)
