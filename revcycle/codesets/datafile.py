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
