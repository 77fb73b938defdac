"""The small code-set files packaged in ``revcycle/codesets/data/``: CSV rows after a
header of ``# key: value`` lines that record the source and version of the list."""

from __future__ import annotations

import csv
from importlib.resources import files


def read_data_file(name: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The header's ``key: value`` pairs (first wins) and the rows, by column name."""
    text = files("revcycle.codesets").joinpath("data", name).read_text(encoding="utf-8")
    header: dict[str, str] = {}
    rows: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header.setdefault(key.strip(), value.strip())
        elif line.strip():
            rows.append(line)
    return header, list(csv.DictReader(rows))


def read_code_tables(name: str, kinds: tuple[str, ...]) -> tuple[dict[str, str],
                                                                 dict[str, dict[str, str]]]:
    """The header and, per kind, code -> description, from a file of ``kind,code,description``
    rows. A kind not in ``kinds``, an empty description or a code listed twice under one kind
    is a typo in the file and raises ValueError."""
    header, rows = read_data_file(name)
    tables: dict[str, dict[str, str]] = {kind: {} for kind in kinds}
    for row in rows:
        table = tables.get(row["kind"])
        code = row["code"].strip().upper()
        if table is None or not code or not row["description"] or code in table:
            raise ValueError(f"{name}: an unknown kind, an empty field or a repeated code")
        table[code] = row["description"]
    return header, tables


def code_key(code: str) -> str:
    """A code as the tables hold it: without surrounding blanks, upper case."""
    return code.strip().upper()


def unknown_code(code: str, list_name: str) -> str:
    """The description of a code a list does not hold: says so, and shows the code only
    when it looks like one (a few letters and digits), never arbitrary text from a file."""
    key = code_key(code)
    shown = key if key and len(key) <= 5 and key.isascii() and key.isalnum() else "(not a code)"
    return f"unknown code {shown}: not in our list of {list_name}"
