"""ICD-10-CM (diagnoses, United States): which codes a claim may carry.

A claim may carry only *billable* codes: the leaves of the classification (``E119``),
never a category or subcategory that has children (``E11``, ``M545``). X12 carries the
codes without their dot, in upper case, so that is the only form accepted here.

The code set changes every October (and sometimes in April), so an adapter says which
release it checks against. :class:`SimpleICD10CM` is the release shipped with the
``simple-icd-10-cm`` package; another release plugs in as any object with a ``release``
and an ``is_billable`` (the :class:`ICD10` protocol).

>>> is_billable('E119')
True
>>> is_billable('E11')
False
>>> is_billable('E11.9')
False
>>> is_billable('S93401A')
True
>>> release()
'2026-04-01'
"""

from __future__ import annotations

import re
import warnings
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Protocol

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DATA_FILE = re.compile(r"icd10c-tabular-([A-Za-z]+)-(\d{1,2})-(\d{4})\.xml")


class ICD10(Protocol):
    """An ICD-10-CM release: what a scrub rule needs from it."""

    @property
    def release(self) -> str:
        """The release checked against, as the ISO date it took effect (``2026-04-01``)."""
        ...

    def is_billable(self, code: str) -> bool:
        """Whether ``code`` (X12 form: no dot, upper case) is a billable code."""
        ...


def _packaged_release() -> str:
    """The release of the data files that ``simple-icd-10-cm`` ships, read off their names
    (the package version if they ever stop saying it).

    Found without importing the package, which would parse its classification.
    """
    spec = find_spec("simple_icd_10_cm")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("simple-icd-10-cm is not installed")
    for entry in (Path(spec.origin).parent / "data").iterdir():
        match = _DATA_FILE.fullmatch(entry.name)
        if match and match.group(1) in _MONTHS:
            month = _MONTHS.index(match.group(1)) + 1
            return f"{match.group(3)}-{month:02d}-{int(match.group(2)):02d}"
    return "simple-icd-10-cm " + metadata.version("simple_icd_10_cm")


class SimpleICD10CM:
    """The release packaged with ``simple-icd-10-cm``, answers cached.

    The package parses its classification (about two seconds) on first import, so the
    import waits for the first lookup. A batch asks about the same few hundred codes
    over and over: each answer is kept.
    """

    __slots__ = ("_answers", "_library", "release")

    def __init__(self) -> None:
        self.release = _packaged_release()
        self._answers: dict[str, bool] = {}
        self._library: ModuleType | None = None

    def is_billable(self, code: str) -> bool:
        answer = self._answers.get(code)
        if answer is None:
            answer = self._answers[code] = self._lookup(code)
        return answer

    def _lookup(self, code: str) -> bool:
        # The library accepts dotted codes and block names ("A00-A09"); X12 carries neither.
        if not (3 <= len(code) <= 7 and code.isascii() and code.isalnum() and code.isupper()):
            return False
        if self._library is None:
            with warnings.catch_warnings():  # its loader uses importlib's legacy resources API
                warnings.simplefilter("ignore", DeprecationWarning)
                import simple_icd_10_cm
            self._library = simple_icd_10_cm
        library = self._library
        return library.is_valid_item(code) and library.is_leaf(code)


_default: SimpleICD10CM | None = None


def default() -> SimpleICD10CM:
    """The packaged release, one shared instance (and one shared cache) per process."""
    global _default
    if _default is None:
        _default = SimpleICD10CM()
    return _default


def is_billable(code: str) -> bool:
    """Whether ``code`` is billable in the packaged release (see :func:`default`)."""
    return default().is_billable(code)


def release() -> str:
    """The packaged release, as the ISO date it took effect."""
    return default().release
