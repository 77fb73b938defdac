"""What a provider drops off: recognise the format, read the claims, find them again.

Claims are read from their raw file whenever a stage needs their full content; the
database keeps the file and the claim's ordinal in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from revcycle.csvclaims import CSV_HEADER_START, CsvClaimError, read_csv_claims
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import File
from revcycle.model.claim import Claim
from revcycle.storage import ObjectStore
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.read837 import parse_837

X12 = "X12-837"
CSV = "CSV"
BOM = b"\xef\xbb\xbf"


class UnreadableClaimFile(Exception):
    """A landing file that cannot become claims; ``reason`` is safe to store and show."""

    def __init__(self, reason: dict[str, object]) -> None:
        super().__init__(str(reason.get("reason", "unreadable")))
        self.reason = reason


def detect_format(data: bytes) -> str:
    head = data[:4096].removeprefix(BOM).lstrip()
    if head.startswith(b"ISA"):
        return X12
    if head.startswith(CSV_HEADER_START.encode()):
        return CSV
    raise UnreadableClaimFile({"error": "UnknownFormat", "code": "FORMAT",
                               "reason": "neither an X12 interchange nor a claims CSV with"
                                         " the documented header"})


def read_claims(data: bytes, fmt: str) -> list[Claim]:
    """The claims of a file, in order; raises ``UnreadableClaimFile``."""
    try:
        if fmt == CSV:
            return read_csv_claims(data)
        document = X12Reader(data, {"837": parse_837}).read()
        claims = [c for body in document.bodies() for c in body.claims]
        others = sorted({t.set_id for t in document.transactions()} - {"837"})
    except X12Error as exc:
        raise UnreadableClaimFile(exc.to_dict()) from None
    except CsvClaimError as exc:
        raise UnreadableClaimFile(exc.to_dict()) from None
    if others:
        raise UnreadableClaimFile({"error": "NotAClaimFile", "code": "SET",
                                   "reason": f"holds transaction sets {', '.join(others)},"
                                             " not claims (837)"})
    if not claims:
        raise UnreadableClaimFile({"error": "NoClaims", "code": "EMPTY",
                                   "reason": "the file holds no claims"})
    return claims


def load_claims(store: ObjectStore, files: dict[int, File],
                rows: Sequence[ClaimRow]) -> list[tuple[ClaimRow, Claim]]:
    """Rebuild the claims of ``rows`` from their raw files, each file read once."""
    wanted: dict[int, list[ClaimRow]] = defaultdict(list)
    for row in rows:
        wanted[row.file_id].append(row)
    loaded: dict[int, Claim] = {}
    for file_id, file_rows in wanted.items():
        file = files[file_id]
        claims = read_claims(store.get(file.key), file.format)
        for row in file_rows:
            loaded[row.id] = claims[row.ordinal]
    return [(row, loaded[row.id]) for row in rows]

