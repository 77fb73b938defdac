"""ICD-10-CM code edits beyond validity: the sex and the ages a code is meant for, and the
Excludes1 notes that make two codes mutually exclusive.

Codes are in X12 form (no dot, upper case); a dotted code is accepted too.

Sex and age
    A short table written by us from the chapter and block titles of the ICD-10-CM
    tabular and the age groups of the CMS Medicare Code Editor (newborn: 0; pediatric:
    0-17; maternity: 12-55; adult: 15-124). It is deliberately modest: only code ranges
    whose titles name the sex or the age (pregnancy, female and male genital organs,
    perinatal conditions, newborn, child and adult examinations) - not the MCE's full
    lists. A code is looked up by its longest listed prefix, then by its category
    (first three characters) in the listed category ranges.

Excludes1
    Read from the classification that ``simple-icd-10-cm`` has loaded (the packaged
    release, see :func:`revcycle.codesets.icd10.release`): the notes of the code and of
    each of its ancestors (subcategories, category, block, chapter), since a note applies
    to everything below where it stands. A note names codes, categories (``E08.-``) and
    ranges (``O10-O11``) in parentheses; a listed code or category covers its
    descendants. Items narrowed by words (``... with 7th character D``) are skipped: an
    edit that blocks a claim must not guess.

    A release an operator added with its tabular XML (``icd10.CodeListRelease``) has
    notes of its own: :func:`exclusive_pairs` reads those (on the code and on each code it
    starts with: its subcategories and category; the XML's block notes are not read).

>>> sex_of("O0900"), sex_of("N400"), sex_of("E119")
('F', 'M', None)
>>> ages_of("P0710"), ages_of("Z00121"), ages_of("Z00110"), ages_of("E119")
((0, 0), (0, 17), (0, 0), None)
>>> mutually_exclusive("E119", "E109")
True
"""

from __future__ import annotations

import re
import string
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from types import ModuleType
from typing import Literal, NamedTuple, TypeVar

from revcycle.codesets.icd10 import SimpleICD10CM

Sex = Literal["F", "M"]
_T = TypeVar("_T")

SOURCE = ("written by the revcycle project from the ICD-10-CM tabular's chapter and block "
          "titles and the CMS Medicare Code Editor's age groups")
VERSION = "2026-04"

_NEWBORN = (0, 0)
_CHILD = (0, 17)
_MATERNITY = (12, 55)
_ADULT = (15, 124)

# Category ranges, first and last category (3 characters, compared as text: "O9A" sorts
# after "O99"), sorted and not overlapping.
_SEX_CATEGORIES: tuple[tuple[str, str, Sex], ...] = (
    ("C51", "C58", "F"),  # malignant neoplasms of female genital organs
    ("C60", "C63", "M"),  # malignant neoplasms of male genital organs
    ("D06", "D06", "F"),  # carcinoma in situ of cervix uteri
    ("D25", "D28", "F"),  # benign neoplasms of uterus, ovary, other female genital organs
    ("D29", "D29", "M"),  # benign neoplasm of male genital organs
    ("D39", "D39", "F"),  # neoplasm of uncertain behavior of female genital organs
    ("D40", "D40", "M"),  # neoplasm of uncertain behavior of male genital organs
    ("N40", "N53", "M"),  # diseases of male genital organs
    ("N70", "N98", "F"),  # diseases of female pelvic organs and genital tract
    ("O00", "O9A", "F"),  # pregnancy, childbirth and the puerperium
    ("R86", "R86", "M"),  # abnormal findings in specimens from male genital organs
    ("R87", "R87", "F"),  # abnormal findings in specimens from female genital organs
    ("Z33", "Z34", "F"),  # pregnant state; supervision of normal pregnancy
    ("Z36", "Z37", "F"),  # antenatal screening; outcome of delivery
    ("Z39", "Z3A", "F"),  # postpartum care; weeks of gestation (Z38, liveborn, is not)
)
# Subcategories with a sex of their own, by prefix.
_SEX_PREFIXES: dict[str, Sex] = {
    "D070": "F", "D071": "F", "D072": "F", "D073": "F",  # in situ: female genital organs
    "D074": "M", "D075": "M", "D076": "M",  # in situ: male genital organs
    "Z0141": "F",  # gynecological examination
    "Z124": "F",  # screening for neoplasm of cervix
    "Z125": "M",  # screening for neoplasm of prostate
}
_AGE_CATEGORIES: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("O00", "O9A", _MATERNITY),  # pregnancy, childbirth and the puerperium
    ("P00", "P96", _NEWBORN),  # conditions originating in the perinatal period
    ("Z33", "Z34", _MATERNITY),
    ("Z36", "Z37", _MATERNITY),
    ("Z38", "Z38", _NEWBORN),  # liveborn infants by place of birth
    ("Z39", "Z3A", _MATERNITY),
)
_AGE_PREFIXES: dict[str, tuple[int, int]] = {
    "Z000": _ADULT,  # general adult medical examination
    "Z001": _CHILD,  # routine child health examination
    "Z0011": _NEWBORN,  # newborn health examination
}


def _category_lookup(category: str, table: tuple[tuple[str, str, _T], ...],
                     firsts: list[str]) -> _T | None:
    at = bisect_right(firsts, category) - 1
    if at >= 0 and category <= table[at][1]:
        return table[at][2]
    return None


_SEX_FIRSTS = [row[0] for row in _SEX_CATEGORIES]
_AGE_FIRSTS = [row[0] for row in _AGE_CATEGORIES]
_LONGEST_PREFIX = max(len(p) for p in (*_SEX_PREFIXES, *_AGE_PREFIXES))


def _x12(code: str) -> str:
    return code.replace(".", "").upper()


@lru_cache(maxsize=16384)
def sex_of(code: str) -> Sex | None:
    """The sex a code is meant for ("F" or "M"), or None when it is for anyone."""
    code = _x12(code)
    for length in range(min(len(code), _LONGEST_PREFIX), 3, -1):
        found = _SEX_PREFIXES.get(code[:length])
        if found is not None:
            return found
    return _category_lookup(code[:3], _SEX_CATEGORIES, _SEX_FIRSTS)


@lru_cache(maxsize=16384)
def ages_of(code: str) -> tuple[int, int] | None:
    """The youngest and oldest age in years (inclusive) a code is meant for, or None."""
    code = _x12(code)
    for length in range(min(len(code), _LONGEST_PREFIX), 3, -1):
        found = _AGE_PREFIXES.get(code[:length])
        if found is not None:
            return found
    return _category_lookup(code[:3], _AGE_CATEGORIES, _AGE_FIRSTS)


# ------------------------------------------------------------------ Excludes1

_PARENTHESES = re.compile(r"\(([^()]*)\)")
# A code, category or subcategory as the notes write it: E08, O24.4, M1A.0, S72.001.
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
# One item: a code ("P70.2"), a code and its descendants ("E08.-", "O24.4-") or a range
# ("O10-O11", "K50.0-K50.9-").
_ITEM = re.compile(rf"({_CODE})\.?-?(?:({_CODE})\.?-?)?")

_library: ModuleType | None = None


def _classification() -> ModuleType:
    global _library
    if _library is None:
        with warnings.catch_warnings():  # its loader uses importlib's legacy resources API
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm
        _library = simple_icd_10_cm
    return _library


def parse_excludes1(note: str) -> list[tuple[str, str]]:
    """The codes an Excludes1 note names, as (first, last) prefixes in X12 form.

    ``"gestational diabetes (O24.4-)"`` gives ``[("O244", "O244")]``; a range
    ``"(O10-O11, O13-O16)"`` gives ``[("O10", "O11"), ("O13", "O16")]``. Text that is not
    a plain code, category or range (words, qualified items) gives nothing.
    """
    found: list[tuple[str, str]] = []
    for group in _PARENTHESES.findall(note):
        for item in group.split(","):
            match = _ITEM.fullmatch(item.strip())
            if match is None:
                continue
            first = match.group(1).replace(".", "")
            last = (match.group(2) or match.group(1)).replace(".", "")
            found.append((first, last))
    return found


@lru_cache(maxsize=16384)
def excludes1(code: str) -> tuple[tuple[str, str], ...]:
    """The (first, last) prefix ranges the Excludes1 notes of ``code`` and its ancestors
    name; empty for a code the classification does not hold."""
    library = _classification()
    code = _x12(code)
    if not (3 <= len(code) <= 7 and code.isascii() and code.isalnum()
            and library.is_valid_item(code)):
        return ()
    ranges: list[tuple[str, str]] = []
    for item in (code, *library.get_ancestors(code)):
        for note in library.get_excludes1(item):
            ranges.extend(parse_excludes1(note))
    return tuple(dict.fromkeys(ranges))


def _covered(code: str, ranges: tuple[tuple[str, str], ...]) -> bool:
    return any(code[:len(first)] >= first and code[:len(last)] <= last
               for first, last in ranges)


@lru_cache(maxsize=65536)
def mutually_exclusive(a: str, b: str) -> bool:
    """Whether one of two codes is in the other's Excludes1 notes (packaged release)."""
    return _covered(b, excludes1(a)) or _covered(a, excludes1(b))


# Every category the code syntax allows (a letter, a digit, a digit or letter), sorted:
# what a range of the notes spans, so a claim's codes are compared only when one's notes
# reach the other's category.
_CATEGORIES = tuple(sorted(letter + digit + last for letter in string.ascii_uppercase
                           for digit in string.digits
                           for last in string.digits + string.ascii_uppercase))


class _Notes(NamedTuple):
    """A code's Excludes1 ranges, arranged so that most codes of a claim are cleared by a
    set lookup: whole categories, the narrower ranges, every category either reaches."""

    full: frozenset[str]  # categories named whole ("E08.-", "O10-O11")
    partial: tuple[tuple[str, str], ...]  # narrower ranges ("O24.4-", "P70.2")
    categories: frozenset[str]  # the categories of both


def _spanned(first: str, last: str) -> tuple[str, ...]:
    return _CATEGORIES[bisect_left(_CATEGORIES, first[:3]):bisect_right(_CATEGORIES, last[:3])]


def _notes(ranges: tuple[tuple[str, str], ...]) -> _Notes:
    full: set[str] = set()
    partial: list[tuple[str, str]] = []
    reached: set[str] = set()
    for first, last in ranges:
        spanned = _spanned(first, last)
        reached.update(spanned)
        if len(first) == len(last) == 3:
            full.update(spanned)
        else:
            partial.append((first, last))
    return _Notes(frozenset(full), tuple(partial), frozenset(reached))


@lru_cache(maxsize=16384)
def _packaged_notes(code: str) -> _Notes:
    return _notes(excludes1(code))


@lru_cache(maxsize=65536)
def _release_notes(release: object, code: str) -> _Notes:
    notes = release.excludes1  # type: ignore[attr-defined]
    ranges: list[tuple[str, str]] = []
    for length in range(3, len(code) + 1):
        for note in notes(code[:length]):
            ranges.extend(parse_excludes1(note))
    return _notes(tuple(dict.fromkeys(ranges)))


@lru_cache(maxsize=64)
def _notes_of(release: object) -> Callable[[str], _Notes]:
    own = (not isinstance(release, SimpleICD10CM)
           and callable(getattr(release, "excludes1", None))
           and getattr(release, "tabular_file", True) is not None)
    return partial(_release_notes, release) if own else _packaged_notes


def exclusive_pairs(codes: Sequence[str], release: object = None) -> list[tuple[int, int]]:
    """The (earlier, later) indexes of the codes that are mutually exclusive, ordered by
    the later index, then the earlier; a code repeated is no pair.

    ``release`` is the ICD-10-CM release to read the notes of (the one in effect on the
    date of service, from ``icd10.Releases.for_date``). A release with Excludes1 notes of
    its own (an added release with its tabular XML) answers from them; any other (None,
    the packaged release, an added code list without its XML, an object without
    ``excludes1``) from the packaged classification, which holds the block and chapter
    notes too.
    """
    if len(codes) < 2:
        return []
    notes_of = _notes_of(release)
    categories = [code[:3] for code in codes]
    present = set(categories)
    found: set[tuple[int, int]] = set()
    for index, code in enumerate(codes):
        notes = notes_of(code)
        if notes.categories.isdisjoint(present):
            continue
        for other_index, other in enumerate(codes):
            category = categories[other_index]
            if other != code and category in notes.categories and (
                    category in notes.full or _covered(other, notes.partial)):
                found.add((min(index, other_index), max(index, other_index)))
    if not found:
        return []
    return sorted(found, key=lambda pair: (pair[1], pair[0]))
