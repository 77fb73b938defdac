"""ICD-10-CM releases an operator adds, chosen by date of service (synthetic files)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from revcycle.codesets import icd10

# Made-up codes in the code-list layout ("code<spaces>description"); not CMS content.
CODES_2025 = "Z9991   Synthetic billable code one\nZ9992   Synthetic billable code two\n"
CODES_APRIL_2025 = CODES_2025 + "Z9993   Synthetic code added in April\n"
CODES_2027 = "Z9992   Synthetic billable code two\nZ9994   Synthetic code of 2027\n"
TABULAR_2025 = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <chapter><name>1</name>
    <section id="Z99-Z99">
      <diag><name>Z99</name>
        <excludes1><note>synthetic exclusion (Z98.-)</note></excludes1>
        <diag><name>Z99.91</name></diag>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "icd10cm-codes-2025.txt").write_text(CODES_2025)
    (tmp_path / "icd10cm-tabular-2025.xml").write_text(TABULAR_2025)
    (tmp_path / "icd10cm-codes-April-2025.txt").write_text(CODES_APRIL_2025)
    (tmp_path / "icd10cm_codes_2027.txt").write_text(CODES_2027)
    (tmp_path / "README.txt").write_text("not a release file")
    return tmp_path


def test_release_in_effect_on_each_date(folder: Path) -> None:
    releases = icd10.Releases(icd10.default(), icd10.added_releases(folder))
    assert [r.release for r in releases.releases] == [
        "2026-10-01", "2026-04-01", "2025-04-01", "2024-10-01"]
    assert releases.for_date(date(2024, 9, 30)).release == "2026-04-01"  # none: the default
    assert releases.for_date(date(2024, 10, 1)).release == "2024-10-01"
    assert releases.for_date(date(2025, 3, 31)).release == "2024-10-01"
    assert releases.for_date(date(2025, 4, 1)).release == "2025-04-01"
    assert releases.for_date(date(2025, 9, 30)).release == "2025-04-01"
    assert releases.for_date(date(2025, 10, 1)).release == "2026-04-01"  # FY2026: no file
    assert releases.for_date(date(2026, 4, 1)) is icd10.default()
    assert releases.for_date(date(2026, 10, 1)).release == "2026-10-01"
    assert releases.for_date(date(2027, 10, 1)).release == "2026-04-01"  # past every file


def test_each_release_answers_from_its_own_code_list(folder: Path) -> None:
    releases = icd10.Releases(icd10.default(), icd10.added_releases(folder))
    fy2025 = releases.for_date(date(2025, 1, 15))
    april = releases.for_date(date(2025, 6, 1))
    assert fy2025.is_billable("Z9991") and not fy2025.is_billable("Z9993")
    assert april.is_billable("Z9993")
    assert not fy2025.is_billable("E119")  # only what its file lists
    assert releases.is_billable("E119")  # the default answers for the Releases itself
    assert releases.release == icd10.release() == "2026-04-01"
    assert not releases.for_date(date(2027, 1, 1)).is_billable("Z9991")


def test_tabular_xml_gives_excludes1_notes(folder: Path) -> None:
    fy2025, april = icd10.added_releases(folder)[:2]
    assert fy2025.tabular_file is not None and april.tabular_file is None
    assert fy2025.excludes1("Z99") == ["synthetic exclusion (Z98.-)"]
    assert fy2025.excludes1("Z9991") == []  # the notes of the code itself only
    assert april.excludes1("Z99") == []
    packaged = icd10.default().excludes1("E11")  # the packaged release, from its XML
    assert packaged and all(isinstance(note, str) for note in packaged)
    assert icd10.default().excludes1("E11.9") == []  # dotted: not the X12 form


def test_packaged_release_is_one_release_for_every_date() -> None:
    packaged = icd10.default()
    assert packaged.for_date(date(2020, 1, 1)) is packaged
    assert packaged.effective == date(2026, 4, 1)
    assert icd10.releases() is icd10.releases(None)
    assert icd10.releases().releases == (packaged,)


def test_settings_folder_is_read_once(folder: Path) -> None:
    assert icd10.releases(str(folder)) is icd10.releases(str(folder))
    assert len(icd10.releases(str(folder)).releases) == 4


def test_bad_folders_and_files_are_reported_without_codes(tmp_path: Path) -> None:
    with pytest.raises(icd10.ICD10FileError, match="does not exist"):
        icd10.added_releases(tmp_path / "missing")
    (tmp_path / "icd10cm-codes-2025.txt").write_text("Z9991 ok\nZ99.92 dotted code\n")
    (release,) = icd10.added_releases(tmp_path)
    with pytest.raises(icd10.ICD10FileError, match="line 2") as caught:
        release.is_billable("Z9991")
    assert "Z99.92" not in str(caught.value)
    (tmp_path / "icd10cm_codes_2025.txt").write_text("Z9991 ok\n")
    with pytest.raises(icd10.ICD10FileError, match="two codes files"):
        icd10.added_releases(tmp_path)


def test_tabular_without_its_code_list_is_refused(tmp_path: Path) -> None:
    (tmp_path / "icd10cm-tabular-2025.xml").write_text(TABULAR_2025)
    with pytest.raises(icd10.ICD10FileError, match="needs the code list"):
        icd10.added_releases(tmp_path)


def test_a_release_added_later_is_seen(tmp_path: Path) -> None:
    assert icd10.releases(tmp_path).releases == (icd10.default(),)
    (tmp_path / "icd10cm-codes-2027.txt").write_text(CODES_2027)
    added = icd10.releases(tmp_path)
    assert added.for_date(date(2026, 12, 1)).is_billable("Z9994")
