"""Claim status category codes and claim status codes: what a 277CA's STC01 says.

A 277CA answers each claim with STC01, a composite: the category (STC01-1, code source
507: accepted A2, rejected A7, pending P1, ...) and the status (STC01-2, code source 508:
which field or fact the category is about, e.g. 562 the NPI, 400 out of balance).
``data/claim_status.csv`` lists the categories and the common status codes with short
descriptions written for this project, not the official texts; its header records the
source and the date they were checked (:data:`SOURCE`, :data:`VERSION`).

Unlike :func:`revcycle.codesets.carc.describe_carc`, these never return None: an
acknowledgment is shown to a person as it is read, so an unknown code is described as
unknown (payers do send codes newer than our list).

>>> describe_claim_status_category('a7')
'Rejected because information is invalid; the status codes say what.'
>>> describe_claim_status('562')
"The entity's National Provider Identifier (NPI)."
>>> describe_claim_status('99999')
'unknown code 99999: not in our list of claim status codes'
"""

from __future__ import annotations

from revcycle.codesets.datafile import code_key, read_code_tables, unknown_code

_FILE = "claim_status.csv"

_HEADER, _TABLES = read_code_tables(_FILE, ("category", "status"))
SOURCE: str = _HEADER["source"]
VERSION: str = _HEADER["version"].split(" ", 1)[0]
_CATEGORIES, _STATUSES = _TABLES["category"], _TABLES["status"]


def describe_claim_status_category(code: str) -> str:
    """A short description of a claim status category code (STC01-1, e.g. A2, A7, P1)."""
    return _CATEGORIES.get(code_key(code)) or unknown_code(code,
                                                           "claim status category codes")


def describe_claim_status(code: str) -> str:
    """A short description of a claim status code (STC01-2, e.g. 20, 562, 400)."""
    return _STATUSES.get(code_key(code)) or unknown_code(code, "claim status codes")


def claim_status_category_codes() -> frozenset[str]:
    """The category codes listed."""
    return frozenset(_CATEGORIES)


def claim_status_codes() -> frozenset[str]:
    """The status codes listed."""
    return frozenset(_STATUSES)
