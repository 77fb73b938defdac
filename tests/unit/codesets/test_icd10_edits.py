"""ICD-10-CM edits: the sex and ages a code is meant for, and Excludes1 pairs."""

from __future__ import annotations

import doctest
import itertools
import random
from datetime import date
from pathlib import Path

import pytest

from revcycle.codesets import icd10, icd10_edits
from revcycle.codesets.icd10_edits import (
    ages_of,
    excludes1,
    exclusive_pairs,
    mutually_exclusive,
    parse_excludes1,
    sex_of,
)


def test_doctests_run_and_pass() -> None:
    result = doctest.testmod(icd10_edits)
    assert result.attempted >= 3
    assert result.failed == 0


def test_source_and_version_are_recorded() -> None:
    assert "Medicare Code Editor" in icd10_edits.SOURCE
    assert icd10_edits.VERSION


@pytest.mark.parametrize(("code", "sex"), [
    ("O0900", "F"), ("O80", "F"), ("O9A111", "F"),  # pregnancy, O00-O9A (O9A sorts last)
    ("Z3A20", "F"), ("Z390", "F"), ("Z331", "F"), ("Z370", "F"),
    ("N920", "F"), ("N951", "F"), ("N70", "F"), ("N98", "F"),
    ("C56", "F"), ("D250", "F"), ("D070", "F"), ("Z01411", "F"), ("Z124", "F"),
    ("N400", "M"), ("N521", "M"), ("N53", "M"), ("C61", "M"), ("D074", "M"), ("Z125", "M"),
    ("R860", "M"), ("D29", "M"),
])
def test_sex_specific_codes(code, sex) -> None:
    assert sex_of(code) == sex


@pytest.mark.parametrize("code", [
    "E119", "Z23", "C50911",  # breast cancer is not sex-specific
    "Z3800",  # liveborn infant: between Z37 and Z39, but for either sex
    "N39", "N54", "N69", "N99",  # just outside the genital ranges
    "C59", "C64", "O", "",  # not a category
    "Z1231",  # screening mammogram
])
def test_codes_for_either_sex(code) -> None:
    assert sex_of(code) is None


@pytest.mark.parametrize(("code", "ages"), [
    ("P0710", (0, 0)), ("P590", (0, 0)), ("P96", (0, 0)),  # perinatal: newborns
    ("Z3800", (0, 0)), ("Z00110", (0, 0)),  # liveborn; newborn examination
    ("Z00121", (0, 17)), ("Z00129", (0, 17)),  # child examination
    ("Z0000", (15, 124)), ("Z0001", (15, 124)),  # adult examination
    ("O0900", (12, 55)), ("O9A111", (12, 55)), ("Z3A20", (12, 55)),  # maternity
])
def test_age_specific_codes(code, ages) -> None:
    assert ages_of(code) == ages


@pytest.mark.parametrize("code", ["E119", "P97", "Q000", "Z002", "Z23", "N400"])
def test_codes_for_any_age(code) -> None:
    assert ages_of(code) is None


def test_dotted_and_lower_case_codes_are_looked_up_as_x12() -> None:
    assert sex_of("o09.00") == "F"
    assert ages_of("Z00.121") == (0, 17)


def test_every_listed_range_is_in_order_and_does_not_overlap() -> None:
    for table in (icd10_edits._SEX_CATEGORIES, icd10_edits._AGE_CATEGORIES):
        for first, last, _ in table:
            assert len(first) == len(last) == 3 and first <= last
        for (_, last, _), (first, _, _) in itertools.pairwise(table):
            assert last < first  # bisect needs sorted, disjoint ranges


# ------------------------------------------------------------------ Excludes1


@pytest.mark.parametrize(("note", "ranges"), [
    ("gestational diabetes (O24.4-)", [("O244", "O244")]),
    ("diabetes mellitus due to underlying condition (E08.-)", [("E08", "E08")]),
    ("neonatal diabetes mellitus (P70.2)", [("P702", "P702")]),
    ("hypertensive disease complicating pregnancy (O10-O11, O13-O16)",
     [("O10", "O11"), ("O13", "O16")]),
    ("dermatitis (L23-L25, L27.-)", [("L23", "L25"), ("L27", "L27")]),
    ("ulcerative colitis (K51.0-K51.9-)", [("K510", "K519")]),
    ("allergic rhinitis with asthma (bronchial) (J45.909)", [("J45909", "J45909")]),
    ("sequelae (V01-V09 with 5th character 9)", []),  # narrowed by words: skipped
    ("urinary tract infection of specified site, such as:", []),
    ("current injury - see injury of spine by body region", []),
])
def test_parse_excludes1_notes(note, ranges) -> None:
    assert parse_excludes1(note) == ranges


def test_excludes1_collects_the_notes_of_the_code_and_its_ancestors() -> None:
    ranges = excludes1("E1165")
    assert ("E10", "E10") in ranges  # E11's note: type 1 diabetes (E10.-)
    assert ("P70", "P74") in ranges  # chapter 4's note: transitory newborn disorders
    assert excludes1("E11.65") == ranges
    assert excludes1("ZZZ99") == excludes1("E11-") == excludes1("") == ()


@pytest.mark.parametrize(("a", "b"), [
    ("E119", "E109"),  # E11 excludes type 1 (E10.-)
    ("E1165", "R7303"),  # R73 excludes diabetes mellitus (E08-E13): a range of categories
    ("Z87891", "F17210"),  # history of nicotine dependence excludes current (F17.2-)
    ("J301", "J45909"),  # J30 excludes allergic rhinitis with asthma (J45.909)
    ("M5450", "S39012A"),  # M54.5 excludes low back strain (S39.012): a descendant
])
def test_mutually_exclusive_pairs_in_either_order(a, b) -> None:
    assert icd10.is_billable(a) and icd10.is_billable(b)
    assert mutually_exclusive(a, b)
    assert mutually_exclusive(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("E119", "E785"), ("E119", "I10"), ("J189", "I509"), ("F17210", "Z23"),
    ("M5450", "S39011A"),  # strain of the abdominal wall muscle is not the low back
    ("E119", "ZZZ99"),
])
def test_codes_that_may_go_together(a, b) -> None:
    assert not mutually_exclusive(a, b)
    assert not mutually_exclusive(b, a)


# ------------------------------------------------------------------ an added release

# A synthetic tabular in the CMS layout whose only note is made up: E11 excludes I10.
TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <chapter><name>4</name>
    <section id="E08-E13">
      <diag><name>E11</name>
        <excludes1><note>synthetic exclusion (I10)</note></excludes1>
        <diag><name>E11.9</name></diag>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


def added_release(folder: Path, tabular: bool = True) -> icd10.CodeListRelease:
    codes = folder / "icd10cm-codes-2027.txt"
    codes.write_text("E119    Synthetic one\nI10     Synthetic two\nR7303   Synthetic three\n")
    xml = None
    if tabular:
        xml = folder / "icd10cm-tabular-2027.xml"
        xml.write_text(TABULAR)
    return icd10.CodeListRelease(codes, date(2026, 10, 1), xml)


def test_an_added_release_answers_from_its_own_notes(tmp_path: Path) -> None:
    release = added_release(tmp_path)
    assert exclusive_pairs(["E119", "I10"], release) == [(0, 1)]  # the note is on E11
    assert exclusive_pairs(["I10", "E785", "E119"], release) == [(0, 2)]
    # The packaged notes do not count for this release.
    assert exclusive_pairs(["E119", "R7303", "E785"], release) == []


def test_releases_without_notes_of_their_own_use_the_packaged_classification(
        tmp_path: Path) -> None:
    for release in (None, icd10.default(), added_release(tmp_path, tabular=False), object()):
        assert exclusive_pairs(["E119", "R7303", "I10"], release) == [(0, 1)]


def test_exclusive_pairs_are_ordered_by_the_later_code() -> None:
    codes = ["E1165", "Z87891", "I509", "R7303", "F17210", "E1165"]
    assert exclusive_pairs(codes) == [(0, 3), (1, 4), (3, 5)]
    assert exclusive_pairs(["E119"]) == exclusive_pairs([]) == []
    assert exclusive_pairs(["E119", "E119"]) == []  # a repeat is no pair
    # The category filter never hides a pair that the pairwise check finds.
    pool = ["E119", "E1165", "R7303", "Z87891", "F17210", "J301", "J45909", "T7840XA",
            "M5450", "S39012A", "I10", "E785", "O0900", "P0710", "Z3800", "N400"]
    expected = [(i, j) for j in range(len(pool)) for i in range(j)
                if mutually_exclusive(pool[i], pool[j])]
    assert exclusive_pairs(pool) == expected
    assert len(expected) >= 6


def test_exclusive_pairs_agree_with_the_pairwise_check_on_sampled_codes() -> None:
    """The category filter of exclusive_pairs against mutually_exclusive, pair by pair, on
    codes drawn from the classification and, for each, a code its notes name."""
    library = icd10_edits._classification()
    billable = [c for c in library.get_all_codes(with_dots=False)
                if len(c) >= 3 and icd10.is_billable(c)]
    rng = random.Random(7)
    codes: list[str] = []
    for code in rng.sample(billable, 120):
        codes.append(code)
        ranges = excludes1(code)
        if ranges:
            first = rng.choice(ranges)[0]
            named = next((c for c in billable if c.startswith(first)), None)
            if named:
                codes.append(named)
    expected = [(i, j) for j in range(len(codes)) for i in range(j)
                if codes[i] != codes[j] and mutually_exclusive(codes[i], codes[j])]
    assert exclusive_pairs(codes) == expected
    assert len(expected) >= 20
