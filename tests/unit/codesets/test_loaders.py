"""Loaders of the CMS reference files (HCPCS, NCCI PTP, MUE) and the in-memory lookups.

Every file here is synthetic and made in the test, in the CMS layouts: made-up codes
(Z9991..., not assigned by CMS) and CPT tracking-code-range codes, never a descriptor.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle.codesets.loaders import CodeSetFileError, current_loads, load_file
from revcycle.codesets.tables import DatabaseReferenceData, claim_type_of
from revcycle.db import make_engine, session_factory, upgrade
from revcycle.db.models import CodeSetLoad, HcpcsCode, MueLimit, NcciEdit


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- synthetic files in the CMS layouts ---------------------------------------------


def hcpcs_record(code: str, *, record_id: str = "3", sequence: str = "00100",
                 added: str = "20200101", effective: str = "20200101", terminated: str = "",
                 action: str = "A", length: int = 320) -> bytes:
    """One fixed-width record of the HCPCS alpha-numeric file (positions 1-based)."""
    record = bytearray(b" " * 320)

    def put(position: int, value: str) -> None:
        record[position - 1:position - 1 + len(value)] = value.encode("latin-1")

    put(1, code)
    put(6, sequence)
    put(11, record_id)
    put(12, "SYNTHETIC TEST ITEM")  # long description (not stored)
    put(92, "SYNTHETIC")  # short description (not stored)
    put(269, added)
    put(277, effective)
    put(285, terminated)
    put(293, action)
    return bytes(record[:length]).rstrip() if length < 320 else bytes(record)


def hcpcs_file(path: Path, *records: bytes) -> Path:
    path.write_bytes(b"\r\n".join(records) + b"\r\n")
    return path


PTP_PREAMBLE = ("Synthetic test file in the NCCI PTP layout; no CMS or AMA content.\n"
                "\n")
PTP_HEADER = ("Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
              "Deletion Date\tModifier\tPTP Edit Rationale\n"
              "\t\t\t\t*=no data\t0=not allowed\t\n"
              "\t\t\t\t\t1=allowed\t\n"
              "\t\t\t\t\t9=not applicable\t\n")


def ptp_file(path: Path, *rows: str) -> Path:
    path.write_text(PTP_PREAMBLE + PTP_HEADER + "".join(r + "\n" for r in rows),
                    encoding="latin-1")
    return path


MUE_PREAMBLE = ('"Synthetic test table in the MUE layout,\nno CMS or AMA content."\n'
                "\n")


def mue_file(path: Path, setting: str, *rows: str) -> Path:
    header = (f"HCPCS/CPT Code,{setting} Services MUE Values,MUE Adjudication Indicator,"
              "MUE Rationale\n")
    path.write_text(MUE_PREAMBLE + header + "".join(r + "\n" for r in rows),
                    encoding="latin-1")
    return path


# --- HCPCS ---------------------------------------------------------------------------


def test_hcpcs_file_loads_codes_and_dates(tmp_path: Path, sessions) -> None:
    path = hcpcs_file(
        tmp_path / "HCPC2026_JAN_ANWEB.txt",
        hcpcs_record("Z9991", added="20200101"),
        hcpcs_record("Z9991", record_id="4", sequence="00200"),  # description continued
        hcpcs_record("Z9992", added="20230401", terminated="20251231", action="D"),
        hcpcs_record("   ZX", record_id="7"),  # a modifier record
        hcpcs_record("   ZX", record_id="8", sequence="00200"),
        hcpcs_record("Z9993", added="20260101", effective="", action=""),
        b"\x1a",  # a DOS end-of-file mark
    )
    result = load_file(sessions, "hcpcs", path)
    assert (result.table, result.claim_type, result.rows, result.loaded) == ("hcpcs", "", 3,
                                                                             True)
    assert result.release == "HCPC2026_JAN_ANWEB"
    with sessions() as session:
        rows = {r.code: r for r in session.scalars(select(HcpcsCode))}
        (load,) = current_loads(session).values()
    assert sorted(rows) == ["Z9991", "Z9992", "Z9993"]
    assert rows["Z9992"].add_date == date(2023, 4, 1)
    assert rows["Z9992"].termination_date == date(2025, 12, 31)
    assert rows["Z9992"].action_code == "D"
    assert rows["Z9993"].action_effective_date is None
    assert rows["Z9991"].termination_date is None
    assert (load.table_name, load.rows, load.file_name) == ("hcpcs", 3, path.name)
    assert load.sha256 == result.sha256 and len(load.sha256) == 64


def test_hcpcs_active_from_add_date_through_termination_date(tmp_path: Path,
                                                             sessions) -> None:
    reference = DatabaseReferenceData(sessions)
    assert not reference.loaded("hcpcs")
    assert reference.hcpcs_active("Z9992", date(2024, 1, 1)) is None  # nothing loaded
    load_file(sessions, "hcpcs", hcpcs_file(
        tmp_path / "hcpcs.txt",
        hcpcs_record("Z9992", added="20230401", terminated="20251231", action="D")))
    reference = DatabaseReferenceData(sessions)
    assert reference.loaded("hcpcs") and reference.loaded("hcpcs", "837P")
    assert reference.hcpcs_active("Z9992", date(2023, 4, 1))
    assert reference.hcpcs_active("Z9992", date(2025, 12, 31))  # the last billable day
    assert reference.hcpcs_active("Z9992", date(2023, 3, 31)) is False
    assert reference.hcpcs_active("Z9992", date(2026, 1, 1)) is False
    assert reference.hcpcs_active("Z9999", date(2024, 1, 1)) is False  # not in the file


def test_same_file_loads_once(tmp_path: Path, sessions) -> None:
    path = hcpcs_file(tmp_path / "hcpcs.txt", hcpcs_record("Z9991"))
    first = load_file(sessions, "hcpcs", path, release="2026Q1")
    again = load_file(sessions, "hcpcs", path, release="other label")
    assert first.loaded and not again.loaded
    assert again.release == "2026Q1" and again.rows == 1
    assert count(sessions, CodeSetLoad) == 1
    assert count(sessions, HcpcsCode) == 1


def test_a_new_release_replaces_the_previous_one(tmp_path: Path, sessions) -> None:
    load_file(sessions, "hcpcs", hcpcs_file(tmp_path / "q1.txt", hcpcs_record("Z9991"),
                                            hcpcs_record("Z9992")))
    result = load_file(sessions, "hcpcs", hcpcs_file(tmp_path / "q2.txt",
                                                     hcpcs_record("Z9993")))
    assert result.loaded and result.release == "q2"
    with sessions() as session:
        assert list(session.scalars(select(HcpcsCode.code))) == ["Z9993"]
        (load,) = current_loads(session).values()
        assert load.release == "q2"
    assert count(sessions, CodeSetLoad) == 2  # the history stays
    reference = DatabaseReferenceData(sessions)
    assert reference.hcpcs_active("Z9991", date(2026, 1, 1)) is False
    assert reference.hcpcs_active("Z9993", date(2026, 1, 1))


@pytest.mark.parametrize(("record", "line", "column"), [
    (hcpcs_record("Z9992", added="2023AB01"), 2, "code added date (269-276)"),
    (hcpcs_record("Z9992", terminated="20251331"), 2, "termination date (285-292)"),
    (hcpcs_record("Z9992", added=""), 2, "code added date (269-276)"),
    (hcpcs_record("Z9992", record_id="5"), 2, "record id (11)"),
    (hcpcs_record("Z9992", sequence="0010X"), 2, "sequence number (6-10)"),
    (hcpcs_record("Z9992", sequence="0010\u00b2"), 2, "sequence number (6-10)"),  # a "digit"
    (hcpcs_record("Z99-2"), 2, "HCPCS code (1-5)"),
    (hcpcs_record("Z9992", length=200), 2, "code added date (269-276)"),  # truncated
    (hcpcs_record("Z9992", action="Q"), 2, "action code (293)"),
    (hcpcs_record("Z9992", added="20250101", terminated="20241231"), 2,
     "termination date (285-292)"),
    (hcpcs_record("Z9991"), 2, "HCPCS code (1-5)"),  # a second record 3 for one code
])
def test_malformed_hcpcs_file_is_rejected_whole(tmp_path: Path, sessions, record, line,
                                                column) -> None:
    load_file(sessions, "hcpcs", hcpcs_file(tmp_path / "good.txt", hcpcs_record("Z9990")))
    bad = hcpcs_file(tmp_path / "bad.txt", hcpcs_record("Z9991"), record)
    with pytest.raises(CodeSetFileError) as caught:
        load_file(sessions, "hcpcs", bad)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"bad.txt, line {line}, column {column}: ")
    for value in ("2023AB01", "20251331", "Z9992", "Z99-2", "0010X"):
        assert value not in str(caught.value)
    with sessions() as session:  # the transaction rolled back: the good release stays
        assert list(session.scalars(select(HcpcsCode.code))) == ["Z9990"]
    assert count(sessions, CodeSetLoad) == 1


def test_hcpcs_file_without_code_records_is_rejected(tmp_path: Path, sessions) -> None:
    path = hcpcs_file(tmp_path / "modifiers.txt", hcpcs_record("   ZX", record_id="7"))
    with pytest.raises(CodeSetFileError, match="no procedure code record"):
        load_file(sessions, "hcpcs", path)
    with pytest.raises(CodeSetFileError, match="no claim type"):
        load_file(sessions, "hcpcs", hcpcs_file(tmp_path / "h.txt", hcpcs_record("Z9991")),
                  claim_type="professional")
    assert count(sessions, CodeSetLoad) == 0


# --- NCCI PTP ------------------------------------------------------------------------


def test_ptp_file_loads_edits_with_their_dates(tmp_path: Path, sessions) -> None:
    path = ptp_file(
        tmp_path / "ccipra-v9991r0-f1.txt",
        "0001F\t0002F\t\t20200101\t*\t1\tsynthetic rationale",
        "0001F\t0003F\t*\t\t*\t0\tsynthetic rationale",  # before 1996, no date given
        "0001F\t0004F\t\t20200101\t20240101\t1\tsynthetic rationale",
        "0001F\t0004F\t\t20240101\t*\t0\tsynthetic rationale",  # the pair, changed later
        "Z9991\t0001F\t\t20250101\t20250101\t9\tdeleted the day it took effect",
    )
    result = load_file(sessions, "ncci_ptp", path)
    assert (result.claim_type, result.rows, result.loaded) == ("professional", 5, True)
    with sessions() as session:
        prior = session.scalars(select(NcciEdit).where(NcciEdit.column2 == "0003F")).one()
    assert prior.prior_1996 and prior.effective_date == date(1996, 1, 1)
    assert prior.deletion_date is None

    reference = DatabaseReferenceData(sessions)
    assert reference.loaded("ncci_ptp") and reference.loaded("ncci_ptp", "837P")
    assert not reference.loaded("ncci_ptp", "837I")
    indicator = reference.ncci_modifier_indicator
    assert indicator("0001F", "0002F", date(2019, 12, 31)) is None  # not yet in effect
    assert indicator("0001F", "0002F", date(2020, 1, 1)) == "1"
    assert indicator("0002F", "0001F", date(2020, 1, 1)) is None  # the order matters
    assert indicator("0001F", "0003F", date(2000, 6, 1)) == "0"
    assert indicator("0001F", "0004F", date(2023, 12, 31)) == "1"
    assert indicator("0001F", "0004F", date(2024, 1, 1)) == "0"  # deleted; the new one
    assert indicator("Z9991", "0001F", date(2025, 1, 1)) is None  # never applied
    assert indicator("0001F", "0002F", date(2020, 1, 1), claim_type="837I") is None


def test_ptp_claim_type_comes_from_the_name_or_the_option(tmp_path: Path, sessions) -> None:
    row = "0001F\t0002F\t\t20200101\t*\t0\tsynthetic"
    unnamed = ptp_file(tmp_path / "edits.txt", row)
    with pytest.raises(CodeSetFileError, match="--claim-type"):
        load_file(sessions, "ncci_ptp", unnamed)
    with pytest.raises(CodeSetFileError, match="for professional claims, not institutional"):
        load_file(sessions, "ncci_ptp", ptp_file(tmp_path / "ccipra-x.txt", row),
                  claim_type="institutional")
    with pytest.raises(CodeSetFileError, match="must be one of"):
        load_file(sessions, "ncci_ptp", unnamed, claim_type="dme")
    hospital = load_file(sessions, "ncci_ptp", unnamed, claim_type="institutional")
    practitioner = load_file(sessions, "ncci_ptp", ptp_file(tmp_path / "ccipra-y.txt",
                                                             row.replace("\t0\t", "\t1\t")))
    assert (hospital.claim_type, practitioner.claim_type) == ("institutional",
                                                              "professional")
    reference = DatabaseReferenceData(sessions)  # one claim type does not replace another
    on = date(2021, 1, 1)
    assert reference.ncci_modifier_indicator("0001F", "0002F", on, claim_type="837I") == "0"
    assert reference.ncci_modifier_indicator("0001F", "0002F", on) == "1"


@pytest.mark.parametrize(("row", "column"), [
    ("0001F\t0002F\t\t20200101\t*\t2\tx", "Modifier"),
    ("0001F\t0002F\t\t20200101\t*\t\tx", "Modifier"),
    ("0001F\t0002F\t\t2020-01-01\t*\t1\tx", "Effective Date"),
    ("0001F\t0002F\t\t\t*\t1\tx", "Effective Date"),  # no date and not before 1996
    ("0001F\t0002F\t\t20200101\tnone\t1\tx", "Deletion Date"),
    ("0001F\t0002F\t\t20200101\t20191231\t1\tx", "Deletion Date"),
    ("0001F\t0002F\tY\t20200101\t*\t1\tx", "*=in existence prior to 1996"),
    ("0001\t0002F\t\t20200101\t*\t1\tx", "Column 1"),
    ("0001F\t\t\t20200101\t*\t1\tx", "Column 2"),
    ("0001F\t0002F\t\t20200101", "Deletion Date"),
])
def test_malformed_ptp_row_is_rejected(tmp_path: Path, sessions, row, column) -> None:
    path = ptp_file(tmp_path / "ccioph-v1.txt", "0001F\t0003F\t\t20200101\t*\t1\tok", row)
    with pytest.raises(CodeSetFileError) as caught:
        load_file(sessions, "ncci_ptp", path)
    assert caught.value.column == column
    assert caught.value.line == PTP_PREAMBLE.count("\n") + PTP_HEADER.count("\n") + 2
    assert "2020-01-01" not in str(caught.value) and "0001F" not in str(caught.value)
    assert count(sessions, NcciEdit) == 0 and count(sessions, CodeSetLoad) == 0


def test_ptp_file_without_its_header_is_rejected(tmp_path: Path, sessions) -> None:
    path = tmp_path / "ccipra-noheader.txt"
    path.write_text("0001F\t0002F\t\t20200101\t*\t1\tx\n")
    with pytest.raises(CodeSetFileError, match="no header row"):
        load_file(sessions, "ncci_ptp", path)
    path.write_text("Column 1\tColumn 2\tEffective Date\tDeletion Date\tModifier\n"
                    "0001F\t0002F\t20200101\t*\t1\n")
    with pytest.raises(CodeSetFileError, match="not those of the NCCI PTP layout") as caught:
        load_file(sessions, "ncci_ptp", path)
    assert (caught.value.line, caught.value.column) == (1, "header")
    with pytest.raises(CodeSetFileError, match="no edit rows"):
        load_file(sessions, "ncci_ptp", ptp_file(tmp_path / "ccipra-empty.txt"))


# --- MUE -----------------------------------------------------------------------------


def test_mue_tables_load_per_claim_type(tmp_path: Path, sessions) -> None:
    practitioner = mue_file(tmp_path / "MCR_MUE_Practitioner.csv", "Practitioner",
                            "0001F,1,2 Date of Service Edit: Policy,Code Descriptor",
                            "Z9991,4,3 Date of Service Edit: Clinical,Clinical: Data",
                            '"Z9992","10","1 Line Edit","Anatomic Consideration"')
    hospital = mue_file(tmp_path / "MCR_MUE_Outpatient.csv", "Outpatient Hospital",
                        "Z9991,6,3 Date of Service Edit: Clinical,Clinical: Data")
    dme = mue_file(tmp_path / "MCR_MUE_DME.csv", "DME Supplier",
                   "Z9991,2,1 Line Edit,Nature of Equipment")
    results = [load_file(sessions, "mue", p) for p in (practitioner, hospital, dme)]
    assert [(r.claim_type, r.rows) for r in results] == [("professional", 3),
                                                         ("institutional", 1), ("dme", 1)]
    with sessions() as session:
        row = session.scalars(select(MueLimit).where(MueLimit.code == "Z9992")).one()
    assert (row.mue_value, row.adjudication_indicator, row.rationale) == (
        10, "1", "Anatomic Consideration")

    reference = DatabaseReferenceData(sessions)
    on = date(2026, 7, 1)
    assert reference.mue_limit("Z9991", on, "837P") == Decimal(4)
    assert reference.mue_limit("Z9991", on, "837I") == Decimal(6)
    assert reference.mue_limit("Z9991", on, "dme") == Decimal(2)
    assert reference.mue_limit("Z9999", on, "837P") is None
    assert reference.mue_limit("Z9991", on, "unknown") is None
    assert isinstance(reference.mue_limit("0001F", on, "837P"), Decimal)


def test_mue_effective_range(tmp_path: Path, sessions) -> None:
    path = mue_file(tmp_path / "mue.csv", "Practitioner", "Z9991,3,1 Line Edit,x")
    load_file(sessions, "mue", path, effective_from=date(2026, 7, 1),
              effective_to=date(2026, 9, 30))
    reference = DatabaseReferenceData(sessions)
    assert reference.mue_limit("Z9991", date(2026, 7, 1), "837P") == 3
    assert reference.mue_limit("Z9991", date(2026, 9, 30), "837P") == 3
    assert reference.mue_limit("Z9991", date(2026, 6, 30), "837P") is None
    assert reference.mue_limit("Z9991", date(2026, 10, 1), "837P") is None
    with pytest.raises(CodeSetFileError, match="ends before it starts"):
        load_file(sessions, "mue", mue_file(tmp_path / "m2.csv", "Practitioner",
                                            "Z9992,3,1 Line Edit,x"),
                  effective_from=date(2026, 7, 1), effective_to=date(2026, 6, 30))


@pytest.mark.parametrize(("row", "column"), [
    ("Z9991,four,1 Line Edit,x", "Practitioner Services MUE Values"),
    ("Z9991,-1,1 Line Edit,x", "Practitioner Services MUE Values"),
    ("Z9991,4,Line Edit,x", "MUE Adjudication Indicator"),
    ("Z9991,4,12 Line Edit,x", "MUE Adjudication Indicator"),
    ("Z9991,4", "MUE Adjudication Indicator"),
    ("Z999,4,1 Line Edit,x", "HCPCS/CPT Code"),
    ("Z9990,4,1 Line Edit,x", "HCPCS/CPT Code"),  # the code's second row
])
def test_malformed_mue_row_is_rejected(tmp_path: Path, sessions, row, column) -> None:
    path = mue_file(tmp_path / "mue.csv", "Practitioner", "Z9990,1,1 Line Edit,x", row)
    with pytest.raises(CodeSetFileError) as caught:
        load_file(sessions, "mue", path)
    assert caught.value.column == column
    assert caught.value.line == MUE_PREAMBLE.count("\n") + 3  # header, one good row, it
    assert "four" not in str(caught.value) and "Z999," not in str(caught.value)
    assert count(sessions, MueLimit) == 0


def test_mue_header_must_name_the_columns_and_the_setting(tmp_path: Path, sessions) -> None:
    path = tmp_path / "mue.csv"
    path.write_text("HCPCS/CPT Code,Units,Indicator\nZ9991,1,1\n")
    with pytest.raises(CodeSetFileError, match="no column named like") as caught:
        load_file(sessions, "mue", path)
    assert caught.value.line == 1
    unnamed = mue_file(tmp_path / "m2.csv", "Other", "Z9991,1,1 Line Edit,x")
    with pytest.raises(CodeSetFileError, match="--claim-type"):
        load_file(sessions, "mue", unnamed)
    assert load_file(sessions, "mue", unnamed, claim_type="dme").claim_type == "dme"
    with pytest.raises(CodeSetFileError, match="for professional claims, not dme"):
        load_file(sessions, "mue", mue_file(tmp_path / "m3.csv", "Practitioner",
                                            "Z9991,1,1 Line Edit,x"), claim_type="dme")


# --- the in-memory tables -------------------------------------------------------------


def test_a_table_is_read_once_per_release(tmp_path: Path, sessions) -> None:
    load_file(sessions, "mue", mue_file(tmp_path / "a.csv", "Practitioner",
                                        "Z9991,3,1 Line Edit,x"))
    first, second = DatabaseReferenceData(sessions), DatabaseReferenceData(sessions)
    assert first.mue_limit("Z9991", date(2026, 1, 1), "837P") == 3
    assert second._table("mue", "professional") is first._table("mue", "professional")
    load_file(sessions, "mue", mue_file(tmp_path / "b.csv", "Practitioner",
                                        "Z9991,5,1 Line Edit,x"))
    assert second.mue_limit("Z9991", date(2026, 1, 1), "837P") == 3  # its batch's release
    third = DatabaseReferenceData(sessions)
    assert third.mue_limit("Z9991", date(2026, 1, 1), "837P") == 5
    assert third._table("mue", "professional") is not first._table("mue", "professional")


@pytest.mark.parametrize(("value", "expected"), [
    ("837P", "professional"), ("837I", "institutional"), ("professional", "professional"),
    (" dme ", "dme"), ("837D", None), ("", None),
])
def test_claim_type_names(value, expected) -> None:
    assert claim_type_of(value) == expected
