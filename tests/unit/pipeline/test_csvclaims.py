"""The claims CSV: what clients without X12 send. Errors name the row and column, never
the value (it may be PHI)."""

from __future__ import annotations

import csv
import io

import pytest

from revcycle.csvclaims import CSV_COLUMNS, CsvClaimError, read_csv_claims, write_csv_claims
from revcycle.model.claim import ClaimType
from revcycle.simulator import generate


@pytest.fixture(scope="module")
def claims() -> list:
    return generate(30, 12).claims


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def test_write_read_write_is_stable(claims: list) -> None:
    data = write_csv_claims(claims)
    back = read_csv_claims(data)
    assert write_csv_claims(back) == data
    assert len(_rows(data)) == 1 + sum(len(c.service_lines) for c in claims)
    # What the CSV carries comes back as it was.
    assert {c.claim_type for c in back} == {ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL}
    for original, read in zip(claims, back, strict=True):
        assert read.patient_control_number == original.patient_control_number
        assert read.claim_type is original.claim_type
        assert read.total_charge == original.total_charge
        assert read.payer.payer_id == original.payer.payer_id
        assert read.billing_provider.npi == original.billing_provider.npi
        assert read.subscriber.member_id == original.subscriber.member_id
        assert read.subscriber.birth_date == original.subscriber.birth_date
        assert read.diagnoses == original.diagnoses
        assert [(ln.line_control_number, ln.procedure_code, ln.revenue_code, ln.charge,
                 ln.units, ln.service_date, ln.modifiers, ln.diagnosis_pointers)
                for ln in read.service_lines] == [
                (ln.line_control_number, ln.procedure_code, ln.revenue_code, ln.charge,
                 ln.units, ln.service_date, ln.modifiers, ln.diagnosis_pointers)
                for ln in original.service_lines]


def test_a_byte_order_mark_is_accepted(claims: list) -> None:
    data = write_csv_claims(claims[:3])
    assert len(read_csv_claims(b"\xef\xbb\xbf" + data)) == 3


# (column, a value that is wrong there, what the error says)
BAD_VALUES = [
    ("total_charge", "SMITHSON", "not a decimal number"),
    ("total_charge", "NaN", "not a decimal number"),
    ("charge", "12,50", "not a decimal number"),
    ("units", "", "required value is empty"),
    ("service_date", "2026-02-30", "not a YYYY-MM-DD date"),
    ("subscriber_birth_date", "03/04/1950", "not a YYYY-MM-DD date"),
    ("subscriber_member_id", "  ", "required value is empty"),
    ("claim_type", "837X", "claim_type must be 837P or 837I"),
    ("diagnosis_pointers", "1 A", "diagnosis pointers must be numbers"),
    # Found by bench/fuzz.py: a superscript is a digit to str.isdigit, not to int().
    ("diagnosis_pointers", "1 \u00b2", "diagnosis pointers must be numbers"),
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD_VALUES,
                         ids=[f"{c}-{r.split()[0]}-{n}" for n, (c, _, r) in enumerate(BAD_VALUES)])
def test_a_bad_value_names_row_and_column_but_not_the_value(claims: list, column: str,
                                                            value: str, reason: str) -> None:
    rows = _rows(write_csv_claims(claims[:4]))
    first_of_second_claim = 2 + len(claims[0].service_lines)  # the header is row 1
    rows[first_of_second_claim - 1][CSV_COLUMNS.index(column)] = value
    with pytest.raises(CsvClaimError) as caught:
        read_csv_claims(_csv(rows))
    error = caught.value
    assert (error.reason, error.row, error.column) == (reason, first_of_second_claim, column)
    text = str(error) + repr(error.to_dict())
    assert f"row {error.row}" in str(error) and column in str(error)
    if value.strip():
        assert value not in text
    assert error.to_dict() == {"error": "CsvClaimError", "code": "CSV", "reason": reason,
                               "row": error.row, "column": column}


@pytest.mark.parametrize("column", ["subscriber_member_id", "total_charge", "diagnoses"])
def test_rows_of_one_claim_must_agree_on_the_claim_columns(claims: list, column: str) -> None:
    """Two claims under one control number (or a half-edited claim) would otherwise bill
    every line under the first row's patient and amounts."""
    claim = next(c for c in claims if len(c.service_lines) >= 2)
    rows = _rows(write_csv_claims([claim]))
    rows[2][CSV_COLUMNS.index(column)] = "DIFFERENT9"
    with pytest.raises(CsvClaimError, match="differs") as caught:
        read_csv_claims(_csv(rows))
    assert (caught.value.row, caught.value.column) == (3, column)
    assert "DIFFERENT9" not in str(caught.value)


def test_a_row_with_the_wrong_number_of_columns(claims: list) -> None:
    rows = _rows(write_csv_claims(claims[:2]))
    rows[1] = rows[1][:-3]
    with pytest.raises(CsvClaimError, match="wrong number of columns") as caught:
        read_csv_claims(_csv(rows))
    assert caught.value.row == 2


@pytest.mark.parametrize("header", [
    list(CSV_COLUMNS[:-1]),  # a column missing
    [*CSV_COLUMNS, "notes"],  # one too many
    [CSV_COLUMNS[1], CSV_COLUMNS[0], *CSV_COLUMNS[2:]],  # reordered
    [c.upper() for c in CSV_COLUMNS],
], ids=["missing", "extra", "reordered", "uppercase"])
def test_a_wrong_header_is_refused(claims: list, header: list[str]) -> None:
    rows = _rows(write_csv_claims(claims[:2]))
    rows[0] = header
    with pytest.raises(CsvClaimError, match="header") as caught:
        read_csv_claims(_csv(rows))
    assert caught.value.row == 1


def test_bytes_that_are_not_utf8_are_read_as_windows_1252_with_a_defect(
        claims: list) -> None:
    claims[0].subscriber.last_name = "M\u00dcLLER"
    data = write_csv_claims(claims[:2]).decode().encode("cp1252")
    defects: list[dict[str, object]] = []
    read = read_csv_claims(data, defects)
    assert read[0].subscriber.last_name == "M\u00dcLLER"
    assert [d["code"] for d in defects] == ["NOT_UTF8"]
    # Not UTF-8 and not the documented claims CSV either: still a typed error.
    with pytest.raises(CsvClaimError, match="columns"):
        read_csv_claims(",".join(CSV_COLUMNS).encode() + b"\n\xff\xfe\x00bad\n")
