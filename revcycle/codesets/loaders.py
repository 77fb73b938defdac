"""Load the CMS reference files into the database: HCPCS Level II, NCCI PTP edits, MUEs.

Operators download these files from CMS (they carry AMA CPT content, so the project never
ships them) and load them with ``revcycle codesets load``. What each loader reads:

* **HCPCS** (``hcpcs``): the alpha-numeric HCPCS file (``HCPC<YYYY>_<MON>_ANWEB*.txt``),
  fixed-width records of 320 bytes as CMS's record layout describes them. Only the first
  record of a procedure code (record id ``3``) carries its dates; description lines
  (``4``) and modifier records (``7``, ``8``) are skipped. Kept: the code (1-5), the add
  date (269-276), the action effective date (277-284), the termination date (285-292,
  the last day the code may be billed) and the action code (293). Descriptions are not.
* **NCCI PTP** (``ncci_ptp``): the practitioner (``ccipra-*``) or hospital outpatient
  (``ccioph-*``) edit file: tab-delimited text, a preamble, a header row starting
  ``Column 1, Column 2`` (continued on lines whose first columns are blank), then one
  edit a row: column 1 code, column 2 code, ``*`` when in existence before 1996, the
  effective date (YYYYMMDD), the deletion date (YYYYMMDD, ``*`` for none: the first day
  the edit no longer applies), the modifier indicator (0 not allowed, 1 allowed, 9 not
  applicable) and a rationale (not stored).
* **MUE** (``mue``): the practitioner, outpatient hospital or DME supplier table: CSV, a
  preamble, a header row ``HCPCS/CPT Code, <setting> Services MUE Values, MUE
  Adjudication Indicator, MUE Rationale`` (columns found by name; the setting in the
  values column tells the claim type), then one code a row; the indicator's digit (1 line
  edit, 2 and 3 date-of-service edits) is kept.

A load is one transaction: it records the file (name, sha256, release label, rows) in
``code_set_loads`` and replaces the table's rows for that claim type. Loading the file
that is already current (same sha256) does nothing. A malformed file is rejected whole
with a :class:`CodeSetFileError` that names the line and column, never a value.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle.db.models import CodeSetLoad, HcpcsCode, MueLimit, NcciEdit

TABLES = ("hcpcs", "ncci_ptp", "mue")
CLAIM_TYPES = {"hcpcs": ("",), "ncci_ptp": ("professional", "institutional"),
               "mue": ("professional", "institutional", "dme")}
_MODELS: dict[str, Any] = {"hcpcs": HcpcsCode, "ncci_ptp": NcciEdit, "mue": MueLimit}
_HEADER_SEARCH = 40  # lines of preamble searched for the header row
_CHUNK = 20_000  # rows per INSERT round trip
_NCCI_START = date(1996, 1, 1)  # the edits "in existence prior to 1996" date from here


class CodeSetFileError(ValueError):
    """A reference file does not have the layout its loader reads.

    Says where (file name, line, column) and what is wrong, never the value found.
    """

    def __init__(self, file_name: str, problem: str, line: int | None = None,
                 column: str | None = None) -> None:
        self.file_name = file_name
        self.problem = problem
        self.line = line
        self.column = column
        where = "".join((f", line {line}" if line is not None else "",
                         f", column {column}" if column else ""))
        super().__init__(f"{file_name}{where}: {problem}")


class HcpcsRecord(NamedTuple):
    code: str
    add_date: date
    action_effective_date: date | None
    termination_date: date | None
    action_code: str


class PtpEdit(NamedTuple):
    column1: str
    column2: str
    effective_date: date
    deletion_date: date | None
    modifier_indicator: str
    prior_1996: bool


class MueRecord(NamedTuple):
    code: str
    mue_value: int
    adjudication_indicator: str
    rationale: str


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load did (``loaded`` is False when the file was already the current one)."""

    table: str
    claim_type: str
    release: str
    file_name: str
    sha256: str
    rows: int
    loaded: bool


# --- small field checks --------------------------------------------------------------


def _is_code(value: str) -> bool:
    """A five-character procedure code: CPT (digits, or 4 digits + F/T/U) or Level II."""
    return len(value) == 5 and value.isascii() and value.isalnum() and value == value.upper()


def _date8(value: str) -> date | None:
    """A YYYYMMDD date; None for blank. Raises ValueError for anything else."""
    if not value.strip():
        return None
    if len(value) != 8 or not (value.isascii() and value.isdigit()):
        raise ValueError
    return date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _cell(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].strip()
    return value


def _lines(data: bytes) -> Iterator[tuple[int, str]]:
    """Numbered lines (1-based) of a file, streamed: a PTP file has millions."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="latin-1", newline=None)
    for number, line in enumerate(text, 1):
        yield number, line.rstrip("\n")


# --- HCPCS ---------------------------------------------------------------------------

# (name in CMS's record layout, first byte, last byte), 1-based and inclusive.
_Field = tuple[str, int, int]
_HCPCS_CODE: _Field = ("HCPCS code (1-5)", 1, 5)
_HCPCS_SEQUENCE: _Field = ("sequence number (6-10)", 6, 10)
_HCPCS_RECORD_ID: _Field = ("record id (11)", 11, 11)
_HCPCS_ADDED: _Field = ("code added date (269-276)", 269, 276)
_HCPCS_ACTION_EFFECTIVE: _Field = ("action effective date (277-284)", 277, 284)
_HCPCS_TERMINATION: _Field = ("termination date (285-292)", 285, 292)
_HCPCS_ACTION: _Field = ("action code (293)", 293, 293)
_HCPCS_ACTION_CODES = frozenset("ABCDFNPRST")


def read_hcpcs(data: bytes, file_name: str) -> Iterator[HcpcsRecord]:
    """The procedure codes of a HCPCS alpha-numeric file, with their dates.

    Positions are byte positions, so the file is read as bytes (descriptions may hold
    characters of any encoding; the fields kept are ASCII).
    """
    seen: set[str] = set()

    def fail(number: int, spec: _Field, problem: str) -> NoReturn:
        raise CodeSetFileError(file_name, problem, number, spec[0])

    def field(raw: bytes, spec: _Field) -> str:
        return raw[spec[1] - 1:spec[2]].decode("latin-1")

    for number, raw in enumerate(data.splitlines(), 1):
        if not raw.strip(b" \t\x1a"):  # blank, or a DOS end-of-file mark
            continue
        record_id = field(raw, _HCPCS_RECORD_ID)
        if record_id not in ("3", "4", "7", "8"):
            fail(number, _HCPCS_RECORD_ID, "not 3, 4 (procedure) or 7, 8 (modifier)")
        sequence = field(raw, _HCPCS_SEQUENCE)
        if len(sequence) != 5 or not (sequence.isascii() and sequence.isdigit()):
            fail(number, _HCPCS_SEQUENCE, "not five digits")
        if record_id != "3":
            continue  # description continuation lines and modifiers carry no code dates
        code = field(raw, _HCPCS_CODE)
        if not _is_code(code):
            fail(number, _HCPCS_CODE, "not a five-character code")
        if code in seen:
            fail(number, _HCPCS_CODE, "a second first record (record id 3) for the same code")
        if len(raw) < _HCPCS_ADDED[2]:
            fail(number, _HCPCS_ADDED, "the record ends before this field (records have"
                                       " 320 bytes)")
        dates: list[date | None] = []
        for spec in (_HCPCS_ADDED, _HCPCS_ACTION_EFFECTIVE, _HCPCS_TERMINATION):
            try:
                dates.append(_date8(field(raw, spec)))
            except ValueError:
                fail(number, spec, "not a date (YYYYMMDD)")
        added, action_effective, terminated = dates
        if added is None:
            fail(number, _HCPCS_ADDED, "missing")
        if terminated is not None and terminated < added:
            fail(number, _HCPCS_TERMINATION, "before the code added date")
        action = field(raw, _HCPCS_ACTION).strip()
        if action and action not in _HCPCS_ACTION_CODES:
            fail(number, _HCPCS_ACTION, "not a HCPCS action code")
        seen.add(code)
        yield HcpcsRecord(code, added, action_effective, terminated, action)
    if not seen:
        raise CodeSetFileError(file_name, "no procedure code record (record id 3)")


# --- NCCI PTP ------------------------------------------------------------------------

_PTP_COLUMNS = ("Column 1", "Column 2", "*=in existence prior to 1996", "Effective Date",
                "Deletion Date", "Modifier")
# What each header cell must mention (lower case) for the columns to be in CMS's order.
_PTP_HEADER = ("column", "column", "1996", "effective", "deletion", "modifier")


def _is_ptp_header(fields: list[str]) -> bool:
    return len(fields) > 1 and fields[0].replace(" ", "").lower() == "column1" and \
        fields[1].replace(" ", "").lower() == "column2"


def read_ncci_ptp(data: bytes, file_name: str) -> Iterator[PtpEdit]:
    """The edits of an NCCI PTP text file (practitioner or hospital outpatient)."""

    def fail(number: int, column: int, problem: str) -> NoReturn:
        raise CodeSetFileError(file_name, problem, number, _PTP_COLUMNS[column])

    no_header = CodeSetFileError(file_name, "no header row (Column 1, Column 2, ...) in"
                                 f" the first {_HEADER_SEARCH} lines")
    lines = _lines(data)
    for number, line in lines:
        fields = [_cell(f) for f in line.split("\t")]
        if _is_ptp_header(fields):
            header = [f.lower() for f in fields]
            if len(header) < len(_PTP_HEADER) or any(
                    word not in cell for word, cell in zip(_PTP_HEADER, header, strict=False)):
                raise CodeSetFileError(file_name, "the columns are not those of the NCCI PTP"
                                       " layout", number, "header")
            break
        if number >= _HEADER_SEARCH:
            raise no_header
    else:
        raise no_header
    dates: dict[str, date | None] = {}  # a file has a few hundred distinct dates

    def day(value: str) -> date | None:
        if value in dates:
            return dates[value]
        parsed = dates[value] = _date8(value)
        return parsed

    count = 0
    in_header = True  # header text may continue on lines whose first columns are blank
    for number, line in lines:
        if not line.strip():
            continue
        fields = [_cell(f) for f in line.split("\t", 6)[:6]]
        if in_header and not fields[0] and (len(fields) < 2 or not fields[1]):
            continue
        in_header = False
        if len(fields) < len(_PTP_COLUMNS):
            fail(number, len(fields), "missing (too few tab-separated columns)")
        column1, column2, prior, effective, deletion, indicator = fields
        if not _is_code(column1):
            fail(number, 0, "not a five-character code")
        if not _is_code(column2):
            fail(number, 1, "not a five-character code")
        if prior not in ("", "*"):
            fail(number, 2, "neither '*' nor blank")
        try:
            effective_date = day(effective)
        except ValueError:
            fail(number, 3, "not a date (YYYYMMDD)")
        if effective_date is None:
            if prior != "*":
                fail(number, 3, "missing")
            effective_date = _NCCI_START
        try:
            deletion_date = None if deletion == "*" else day(deletion)
        except ValueError:
            fail(number, 4, "neither a date (YYYYMMDD) nor '*'")
        if deletion_date is not None and deletion_date < effective_date:
            fail(number, 4, "before the effective date")
        if indicator not in ("0", "1", "9"):
            fail(number, 5, "not 0, 1 or 9")
        count += 1
        yield PtpEdit(column1, column2, effective_date, deletion_date, indicator, prior == "*")
    if not count:
        raise CodeSetFileError(file_name, "no edit rows after the header")


def ncci_claim_type(file_name: str) -> str | None:
    """The claim type a CMS PTP file name says (practitioner or hospital outpatient)."""
    name = file_name.lower()
    if name.startswith("ccipra"):
        return "professional"
    if name.startswith("ccioph"):
        return "institutional"
    return None


# --- MUE -----------------------------------------------------------------------------

_MUE_SETTINGS = (("practitioner", "professional"), ("outpatient hospital", "institutional"),
                 ("dme", "dme"))
_RATIONALE_LENGTH = 100


def read_mue(data: bytes, file_name: str) -> tuple[str | None, Iterator[MueRecord]]:
    """The claim type the header names (None if it names none) and the MUE rows.

    The header is read at once (so the claim type is known before a row is); the rows
    are checked as they are read.
    """
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="latin-1", newline=""))
    header: list[str] = []
    while not header:
        fields = next(reader, None)
        if fields is None or reader.line_num > _HEADER_SEARCH:
            raise CodeSetFileError(file_name, "no header row (HCPCS/CPT Code, ... MUE"
                                   f" Values, ...) in the first {_HEADER_SEARCH} lines")
        first = _cell(fields[0]).lower() if fields else ""
        if "hcpcs" in first and "code" in first:
            header = [_cell(f) for f in fields]
    header_line = reader.line_num
    names = [h.lower() for h in header]

    def column(word: str) -> int | None:
        return next((i for i, name in enumerate(names) if word in name), None)

    value_at, indicator_at = column("mue value"), column("adjudication indicator")
    rationale_at = column("rationale")
    if value_at is None or indicator_at is None:
        raise CodeSetFileError(file_name, "no column named like 'MUE Values' or"
                               " 'MUE Adjudication Indicator'", header_line, "header")
    claim_type = next((kind for word, kind in _MUE_SETTINGS if word in names[value_at]), None)
    return claim_type, _mue_rows(reader, file_name, header, value_at, indicator_at,
                                 rationale_at)


def _mue_rows(reader: Any, file_name: str, header: list[str], value_at: int,
              indicator_at: int, rationale_at: int | None) -> Iterator[MueRecord]:
    code_at = 0
    needed = max(code_at, value_at, indicator_at) + 1
    seen: set[str] = set()

    def fail(at: int, problem: str) -> NoReturn:
        raise CodeSetFileError(file_name, problem, reader.line_num, header[at])

    for raw in reader:
        fields = [_cell(f) for f in raw]
        if not any(fields):
            continue
        if len(fields) < needed:
            fail(min(i for i in (code_at, value_at, indicator_at) if i >= len(fields)),
                 "missing")
        code, value, indicator = fields[code_at], fields[value_at], fields[indicator_at]
        if not _is_code(code):
            fail(code_at, "not a five-character code")
        if not (value.isascii() and value.isdigit()):
            fail(value_at, "not a whole number of units")
        if indicator[:1] not in ("1", "2", "3") or indicator[1:2].isdigit():
            fail(indicator_at, "does not start with the indicator 1, 2 or 3")
        if code in seen:
            fail(code_at, "a second row for the same code")
        seen.add(code)
        rationale = fields[rationale_at] if rationale_at is not None and \
            rationale_at < len(fields) else ""
        yield MueRecord(code, int(value), indicator[0], rationale[:_RATIONALE_LENGTH])
    if not seen:
        raise CodeSetFileError(file_name, "no MUE rows after the header")


# --- loading -------------------------------------------------------------------------


def current_loads(session: Session) -> dict[tuple[str, str], CodeSetLoad]:
    """The load each (table, claim type) holds now: the latest one."""
    current: dict[tuple[str, str], CodeSetLoad] = {}
    for load in session.scalars(select(CodeSetLoad).order_by(CodeSetLoad.id)):
        current[(load.table_name, load.claim_type)] = load
    return current


def _claim_type(table: str, given: str | None, found: str | None, file_name: str) -> str:
    if table == "hcpcs":
        if given:
            raise CodeSetFileError(file_name, "the HCPCS file has no claim type")
        return ""
    if given and given not in CLAIM_TYPES[table]:
        raise CodeSetFileError(file_name, "claim type must be one of"
                                          f" {', '.join(CLAIM_TYPES[table])}")
    if given and found and given != found:
        raise CodeSetFileError(file_name, f"the file is for {found} claims, not {given}")
    chosen = given or found
    if not chosen:
        raise CodeSetFileError(file_name, "the claim type cannot be told from the file:"
                                          " give it (--claim-type)")
    return chosen


def _rows(table: str, data: bytes, name: str, claim_type: str | None,
          effective: tuple[date | None, date | None]) -> tuple[str, Iterator[dict[str, Any]]]:
    """The claim type and the rows to insert (checked as they are read)."""
    if table == "hcpcs":
        kind = _claim_type(table, claim_type, None, name)
        return kind, ({"code": r.code, "add_date": r.add_date,
                       "action_effective_date": r.action_effective_date,
                       "termination_date": r.termination_date, "action_code": r.action_code}
                      for r in read_hcpcs(data, name))
    if table == "ncci_ptp":
        kind = _claim_type(table, claim_type, ncci_claim_type(name), name)
        return kind, ({"claim_type": kind, "column1": e.column1, "column2": e.column2,
                       "effective_date": e.effective_date, "deletion_date": e.deletion_date,
                       "modifier_indicator": e.modifier_indicator, "prior_1996": e.prior_1996}
                      for e in read_ncci_ptp(data, name))
    found, records = read_mue(data, name)
    kind = _claim_type(table, claim_type, found, name)
    start, end = effective
    if start and end and end < start:
        raise CodeSetFileError(name, "the effective range ends before it starts")
    return kind, ({"claim_type": kind, "code": r.code, "mue_value": r.mue_value,
                   "adjudication_indicator": r.adjudication_indicator,
                   "rationale": r.rationale, "effective_from": start, "effective_to": end}
                  for r in records)


def load_file(
    sessions: sessionmaker[Session],
    table: str,
    path: Path,
    *,
    claim_type: str | None = None,
    release: str | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> LoadResult:
    """Load a CMS file into ``table`` ("hcpcs", "ncci_ptp", "mue"), replacing the rows of
    its claim type; a no-op when that file (by sha256) is already the current one.

    ``claim_type`` (professional, institutional; dme for MUE) is needed for an NCCI file
    whose name does not say it; an MUE table's header says it. ``release`` labels the load
    (default: the file name without extension). ``effective_from``/``effective_to`` bound
    the days an MUE release applies (default: every day). The file is checked while it is
    inserted, in one transaction: a malformed line rolls the whole load back.
    """
    if table not in TABLES:
        raise ValueError(f"unknown reference table {table!r}")
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodeSetFileError(name, f"cannot be read ({type(exc).__name__})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    label = (release or path.stem).strip()[:80]
    with sessions() as session:
        for (t, kind), load in current_loads(session).items():
            if t == table and load.sha256 == sha256 and claim_type in (None, kind):
                return LoadResult(table, kind, load.release, load.file_name, sha256,
                                  load.rows, loaded=False)
    kind, rows = _rows(table, data, name, claim_type, (effective_from, effective_to))
    model = _MODELS[table]
    count = 0
    with sessions() as session, session.begin():
        load = CodeSetLoad(table_name=table, claim_type=kind, file_name=name[:255],
                           sha256=sha256, release=label, rows=0)
        session.add(load)
        session.flush()
        if table == "hcpcs":
            session.execute(delete(model))
        else:
            session.execute(delete(model).where(model.claim_type == kind))
        while chunk := list(islice(rows, _CHUNK)):
            for row in chunk:
                row["load_id"] = load.id
            session.execute(insert(model), chunk)
            count += len(chunk)
        load.rows = count
    return LoadResult(table, kind, label, name, sha256, count, loaded=True)
