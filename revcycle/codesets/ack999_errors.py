"""999 error codes: why a payer's 999 refused a segment (IK304) or an element (IK403).

A 999 that rejects a transaction set names each segment in error in an IK3 (IK304: what
is wrong with the segment) and each element in error in an IK4 under it (IK403: what is
wrong with the element). ``data/ack999_errors.csv`` lists every code the 999 TR3
(005010X231A1) gives these two elements, with short descriptions written for this
project, not the official texts (:data:`SOURCE`, :data:`VERSION`).

An unknown code is described as unknown, never an exception: the acknowledgment must
still be shown.

>>> describe_segment_error('3')
'A required segment is missing.'
>>> describe_element_error('i12')
'The value does not match the pattern the implementation guide requires.'
>>> describe_element_error('11')
'unknown code 11: not in our list of 999 element error codes (IK403)'
"""

from __future__ import annotations

from revcycle.codesets.datafile import code_key, read_code_tables, unknown_code

_FILE = "ack999_errors.csv"

_HEADER, _TABLES = read_code_tables(_FILE, ("IK304", "IK403"))
SOURCE: str = _HEADER["source"]
VERSION: str = _HEADER["version"].split(" ", 1)[0]
_SEGMENT, _ELEMENT = _TABLES["IK304"], _TABLES["IK403"]


def describe_segment_error(code: str) -> str:
    """A short description of an implementation segment syntax error code (IK304)."""
    return _SEGMENT.get(code_key(code)) or unknown_code(
        code, "999 segment error codes (IK304)")


def describe_element_error(code: str) -> str:
    """A short description of an implementation data element syntax error code (IK403)."""
    return _ELEMENT.get(code_key(code)) or unknown_code(
        code, "999 element error codes (IK403)")


def segment_error_codes() -> frozenset[str]:
    """The IK304 codes listed."""
    return frozenset(_SEGMENT)


def element_error_codes() -> frozenset[str]:
    """The IK403 codes listed."""
    return frozenset(_ELEMENT)
