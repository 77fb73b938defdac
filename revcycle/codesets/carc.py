"""Claim Adjustment Reason Codes (CARC) and Remittance Advice Remark Codes (RARC).

An 835 says why a claim was paid differently than billed with a CARC (in CAS, after a
group code such as CO or PR) and adds detail with RARCs (in LQ or MOA/MIA). Posting uses
these descriptions to explain a denial to a biller.

The codes are X12 external code lists (maintained by X12, published by the Washington
Publishing Company; CMS maintains the remark codes). ``data/carc_rarc.csv`` lists the
common ones with short descriptions written for this project, not the official texts;
its header records the source and the list update they follow (:data:`CARC_VERSION`).

>>> describe_carc('45')
'The charge is above the fee schedule or contracted amount; the difference is written off.'
>>> describe_rarc('n362')
"The days or units of service are over the payer's maximum."
>>> describe_carc('999') is None
True
"""

from __future__ import annotations

from revcycle.codesets.datafile import read_data_file

_FILE = "carc_rarc.csv"


def _read() -> tuple[str, str, dict[str, str], dict[str, str]]:
    meta, rows = read_data_file(_FILE)
    tables: dict[str, dict[str, str]] = {"CARC": {}, "RARC": {}}
    for row in rows:
        table = tables[row["kind"]]  # a kind other than these two is a typo in the file
        if row["code"] in table:
            raise ValueError(f"{_FILE}: {row['kind']} {row['code']} is listed twice")
        table[row["code"]] = row["description"]
    return meta["source"], meta["version"].split(" ", 1)[0], tables["CARC"], tables["RARC"]


CARC_SOURCE, CARC_VERSION, _CARC, _RARC = _read()
RARC_VERSION = CARC_VERSION  # one file, one list update


def _key(code: str) -> str:
    return code.strip().upper()


def describe_carc(code: str) -> str | None:
    """A short description of a claim adjustment reason code; None when not listed."""
    return _CARC.get(_key(code))


def describe_rarc(code: str) -> str | None:
    """A short description of a remittance advice remark code; None when not listed."""
    return _RARC.get(_key(code))


def carc_codes() -> frozenset[str]:
    """The reason codes listed."""
    return frozenset(_CARC)


def rarc_codes() -> frozenset[str]:
    """The remark codes listed."""
    return frozenset(_RARC)
