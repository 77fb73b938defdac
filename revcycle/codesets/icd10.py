"""ICD-10-CM (diagnoses, United States): which codes a claim may carry.

A claim may carry only *billable* codes: the leaves of the classification (``E119``),
never a category or subcategory that has children (``E11``, ``M545``). X12 carries the
codes without their dot, in upper case, so that is the only form accepted here.

The code set changes every October (and sometimes in April), so an adapter says which
release it checks against. :class:`SimpleICD10CM` is the release shipped with the
``simple-icd-10-cm`` package; another release plugs in as any object with a ``release``
and an ``is_billable`` (the :class:`ICD10` protocol).

A claim is checked against the release in effect on its date of service. An operator adds
a CMS release by dropping its code list (``icd10cm-codes-2027.txt``, "code description"
per line; ``icd10cm-codes-April-2027.txt`` for an April update) and, optionally, its
tabular XML (``icd10cm-tabular-2027.xml``) into a folder (setting ``REVCYCLE_ICD10_DIR``).
:func:`releases` returns a :class:`Releases`: the packaged release for ``is_billable`` and
``release``, and :meth:`Releases.for_date` for the release in effect on a date. A fiscal
year's release takes effect on October 1 and lasts until September 30; an April update
replaces it from April 1.

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
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Protocol

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DATA_FILE = re.compile(r"icd10c-tabular-([A-Za-z]+)-(\d{1,2})-(\d{4})\.xml")
# CMS's names for a release's files: the fiscal year, with "April" for the April update.
_CMS_FILE = re.compile(r"icd10cm[-_](codes|tabular)[-_](?:(april)[-_])?(\d{4})\.(txt|xml)",
                       re.IGNORECASE)
_KINDS = {"codes": "txt", "tabular": "xml"}


class ICD10FileError(ValueError):
    """A release file an operator added cannot be used (the message names the file and
    line, never a code)."""


class ICD10(Protocol):
    """An ICD-10-CM release: what a scrub rule needs from it."""

    @property
    def release(self) -> str:
        """The release checked against, as the ISO date it took effect (``2026-04-01``)."""
        ...

    def is_billable(self, code: str) -> bool:
        """Whether ``code`` (X12 form: no dot, upper case) is a billable code."""
        ...


class ICD10Releases(ICD10, Protocol):
    """Several releases: ``release``/``is_billable`` answer for the default one."""

    def for_date(self, on: date) -> ICD10:
        """The release in effect on ``on`` (a date of service)."""
        ...


def coverage(effective: date) -> tuple[date, date]:
    """The days a release that took effect on ``effective`` is in effect: until the end
    of its fiscal year (September 30), unless a later release replaces it.

    >>> coverage(date(2026, 4, 1))
    (datetime.date(2026, 4, 1), datetime.date(2026, 9, 30))
    >>> coverage(date(2025, 10, 1))
    (datetime.date(2025, 10, 1), datetime.date(2026, 9, 30))
    """
    year = effective.year + 1 if effective.month >= 10 else effective.year
    return effective, date(year, 9, 30)


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

    @property
    def effective(self) -> date | None:
        """The day the release took effect; None when the package does not say."""
        try:
            return date.fromisoformat(self.release)
        except ValueError:
            return None

    def is_billable(self, code: str) -> bool:
        answer = self._answers.get(code)
        if answer is None:
            answer = self._answers[code] = self._lookup(code)
        return answer

    def excludes1(self, code: str) -> list[str]:
        """The Excludes1 notes written on ``code`` itself (not those of its ancestors)."""
        if not _is_x12_code(code):
            return []
        library = self._load()
        return library.get_excludes1(code) if library.is_valid_item(code) else []

    def for_date(self, on: date) -> SimpleICD10CM:
        """One release for every date (see :class:`Releases` for several)."""
        return self

    def _load(self) -> ModuleType:
        if self._library is None:
            with warnings.catch_warnings():  # its loader uses importlib's legacy resources API
                warnings.simplefilter("ignore", DeprecationWarning)
                import simple_icd_10_cm
            self._library = simple_icd_10_cm
        return self._library

    def _lookup(self, code: str) -> bool:
        # The library accepts dotted codes and block names ("A00-A09"); X12 carries neither.
        if not _is_x12_code(code):
            return False
        library = self._load()
        return library.is_valid_item(code) and library.is_leaf(code)


def _is_x12_code(code: str) -> bool:
    return 3 <= len(code) <= 7 and code.isascii() and code.isalnum() and code.isupper()


class CodeListRelease:
    """A CMS release an operator added: its code list (the billable codes) and, when
    given, its tabular XML (the Excludes1 notes). Files are read on first use."""

    __slots__ = ("_codes", "_excludes1", "codes_file", "effective", "expires", "release",
                 "tabular_file")

    def __init__(self, codes_file: Path, effective: date,
                 tabular_file: Path | None = None) -> None:
        self.codes_file = codes_file
        self.tabular_file = tabular_file
        self.effective, self.expires = coverage(effective)
        self.release = effective.isoformat()
        self._codes: frozenset[str] | None = None
        self._excludes1: dict[str, list[str]] | None = None

    def __repr__(self) -> str:
        return f"CodeListRelease({self.release}, {self.codes_file.name})"

    def is_billable(self, code: str) -> bool:
        if self._codes is None:
            self._codes = _read_code_list(self.codes_file)
        return code in self._codes

    def excludes1(self, code: str) -> list[str]:
        """The Excludes1 notes written on ``code`` itself; none without the tabular XML."""
        if self.tabular_file is None:
            return []
        if self._excludes1 is None:
            self._excludes1 = _read_excludes1(self.tabular_file)
        return list(self._excludes1.get(code, ()))

    def for_date(self, on: date) -> CodeListRelease:
        return self


def _read_code_list(path: Path) -> frozenset[str]:
    """The codes of a CMS code-list file: one per line, first on the line, without dot."""
    codes: set[str] = set()
    with path.open(encoding="latin-1") as lines:
        for number, line in enumerate(lines, 1):
            code = line.split(None, 1)[0] if line.strip() else ""
            if not code:
                continue
            if not _is_x12_code(code):
                raise ICD10FileError(f"{path.name}: line {number}: the first field is not an"
                                     " ICD-10-CM code (3 to 7 letters and digits, no dot)")
            codes.add(code)
    if not codes:
        raise ICD10FileError(f"{path.name}: the code list has no codes")
    return frozenset(codes)


def _read_excludes1(path: Path) -> dict[str, list[str]]:
    """Each code's own Excludes1 notes, from a CMS tabular XML (``diag`` elements)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ICD10FileError(f"{path.name}: not well-formed XML (line {exc.position[0]})"
                             ) from None
    notes: dict[str, list[str]] = {}
    for diag in root.iter("diag"):
        name = (diag.findtext("name") or "").replace(".", "").strip()
        found = [note.text.strip() for note in diag.findall("excludes1/note") if note.text]
        if name and found:
            notes[name] = found
    return notes


class Releases:
    """The default release plus the ones an operator added, chosen by date of service.

    ``release`` and ``is_billable`` answer for the default (so a ``Releases`` is an
    :class:`ICD10` too); :meth:`for_date` gives the release in effect on a date: the one
    that took effect last on or before it, while its fiscal year lasts. A date no release
    covers gets the default, whose ``release`` then says what it was checked against.
    """

    __slots__ = ("_chosen", "_dated", "default")

    def __init__(self, default: ICD10, added: Iterable[CodeListRelease] = ()) -> None:
        self.default = default
        dated: list[tuple[date, date, ICD10]] = [(r.effective, r.expires, r) for r in added]
        effective = getattr(default, "effective", None)
        if effective is not None and all(d[0] != effective for d in dated):
            dated.append((*coverage(effective), default))  # an added file of that date wins
        if len({d[0] for d in dated}) != len(dated):
            raise ICD10FileError("two added releases take effect on the same date")
        self._dated = sorted(dated, key=lambda d: d[0], reverse=True)
        self._chosen: dict[date, ICD10] = {}

    def __repr__(self) -> str:
        return f"Releases({', '.join(r.release for *_, r in self._dated)})"

    @property
    def release(self) -> str:
        return self.default.release

    @property
    def releases(self) -> tuple[ICD10, ...]:
        """Every release known, latest first."""
        return tuple(r for *_, r in self._dated)

    def is_billable(self, code: str) -> bool:
        return self.default.is_billable(code)

    def for_date(self, on: date) -> ICD10:
        chosen = self._chosen.get(on)
        if chosen is None:
            chosen = next((r for start, end, r in self._dated if start <= on <= end),
                          self.default)
            self._chosen[on] = chosen
        return chosen


def added_releases(folder: Path) -> list[CodeListRelease]:
    """The releases whose CMS files are in ``folder`` (other files are ignored)."""
    if not folder.is_dir():
        raise ICD10FileError(f"the ICD-10-CM release folder {folder} does not exist")
    found: dict[date, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        match = _CMS_FILE.fullmatch(path.name)
        if match is None or _KINDS[match.group(1).lower()] != match.group(4).lower():
            continue
        year = int(match.group(3))
        effective = date(year, 4, 1) if match.group(2) else date(year - 1, 10, 1)
        files = found.setdefault(effective, {})
        kind = match.group(1).lower()
        if kind in files:
            raise ICD10FileError(f"{folder}: two {kind} files for the release of"
                                 f" {effective.isoformat()}")
        files[kind] = path
    added = []
    for effective, files in sorted(found.items()):
        if "codes" not in files:
            raise ICD10FileError(f"{files['tabular'].name}: a tabular XML needs the code list"
                                 " of its release beside it")
        added.append(CodeListRelease(files["codes"], effective, files.get("tabular")))
    return added


def releases(folder: str | Path | None = None) -> Releases:
    """The packaged release plus those in ``folder``: one shared object per folder (so a
    file is read once per process) until a file is added to or removed from it."""
    if not folder:
        return _releases("", 0)
    path = Path(folder).resolve()
    try:
        changed = path.stat().st_mtime_ns
    except OSError:
        changed = 0  # added_releases says the folder is missing
    return _releases(str(path), changed)


@lru_cache(maxsize=4)
def _releases(folder: str, changed: int) -> Releases:
    return Releases(default(), added_releases(Path(folder)) if folder else ())


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
