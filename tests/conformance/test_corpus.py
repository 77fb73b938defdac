"""Conformance: every public fixture in ../shared/x12-samples reads as its project says.

Files their projects treat as valid (or as parsing) read without a fatal error; files
marked INVALID or DAMAGED raise a typed ``X12Error``, and where INDEX.tsv names the
defect and our checks cover it, the error names it too.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from revcycle.x12.errors import (
    X12DelimiterError,
    X12ElementError,
    X12EnvelopeError,
    X12Error,
    X12StructureError,
)
from revcycle.x12.reader import read
from tests.conftest import SAMPLES

SUPPORTED = {"837", "835", "277", "999"}

# file name -> (error type, text every expected error message contains)
EXPECTED_ERRORS: dict[str, tuple[type[X12Error], tuple[str, ...]]] = {
    "x12_bad_first_line.txt": (X12DelimiterError, ("ISA",)),
    "x12_no_isa_line.txt": (X12DelimiterError, ("no ISA",)),
    "x12_bad_segment_identifier.txt": (X12StructureError, ("segment identifier",)),
    "x12_bad_valid_code.txt": (X12StructureError, ("2010AA", "required")),
    "x12_loop_errors1_exceeds_max_1_parent.txt": (X12StructureError, ("2010AA", "maximum")),
    "x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt": (
        X12StructureError, ("2010AA", "maximum")),
    "x12_loop_errors3_missing_loops.txt": (X12StructureError, ("2010AA", "required")),
    "x12_missing_elements.txt": (X12ElementError, ("NM102", "1000B")),
    "x12_missing_required_loop_in_one_repeat.txt": (X12StructureError, ("2010BA", "required")),
    "x12_missing_required_loops_mult_repeats.txt": (X12StructureError, ("2400",)),
    "x12_segment_errors.txt": (X12StructureError, ("N3", "2010AA", "required")),
    "x12_segments_out_of_order.txt": (X12StructureError, ("N4", "2010AA", "out of order")),
    "837I-Examples.txt": (X12EnvelopeError, ("SE",)),
    # No ISA/GS envelope at all: not an interchange, so there are no delimiters to trust.
    "blue_cross_nc_sample.txt": (X12DelimiterError, ("no ISA",)),
}


def _rows() -> list[dict[str, str]]:
    index = SAMPLES / "INDEX.tsv"
    if not index.is_file():
        return []
    with index.open(newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["ST01"] in SUPPORTED]


def _path(row: dict[str, str]) -> Path:
    folder = {"azoner/pyx12": "pyx12", "LinuxForHealth/x12": "x12",
              "keironstoddart/edi-835-parser": "edi-835-parser",
              "imsweb/x12-parser": "x12-parser", "slott56/TigerShark": "TigerShark"}[row["repo"]]
    return SAMPLES / folder / row["original_path"]


ROWS = _rows()


def test_corpus_is_present_and_indexed(x12_samples: Path) -> None:
    assert len(ROWS) >= 80, "INDEX.tsv lists fewer supported fixtures than expected"
    missing = [str(_path(r)) for r in ROWS if not _path(r).is_file()]
    assert not missing


@pytest.mark.conformance
@pytest.mark.parametrize("row", ROWS, ids=[Path(r["original_path"]).name for r in ROWS])
def test_fixture_reads_as_its_project_says(row: dict[str, str], x12_samples: Path) -> None:
    path = _path(row)
    name = path.name
    status = row["repo_test_status"]
    marked_bad = status.startswith(("INVALID", "DAMAGED"))
    if name in EXPECTED_ERRORS or marked_bad:
        error_type, fragments = EXPECTED_ERRORS[name]
        with pytest.raises(error_type) as caught:
            read(path)
        for fragment in fragments:
            assert fragment in str(caught.value)
        assert caught.value.segment_number is not None
        return
    document = read(path)
    transactions = list(document.transactions())
    assert len(transactions) == int(row["n_ST"])
    assert all(t.body is not None for t in transactions)
    claims = sum(len(t.body.claims) for t in transactions if t.set_id in ("837", "835"))
    expected = int(row["n_CLM"]) if row["ST01"] == "837" else int(row["n_CLP"])
    assert claims == expected
    if row["SE01_counts_ok"] == "NO":
        assert any(d.code == "SE01_COUNT" for d in document.defects)
