"""What a provider drops off: recognise the format, read the claims, find them again.

Claims are read from their raw file whenever a stage needs their full content; the
database keeps the file and the claim's ordinal in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from revcycle.csvclaims import CSV_HEADER_START, CsvClaimError, read_csv_claims
from revcycle.db.models import Claim as ClaimRow
from revcycle.db.models import File
from revcycle.model.claim import Claim
from revcycle.storage import ObjectStore
from revcycle.x12.envelope import BodyContext, X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.read837 import parse_837

X12 = "X12-837"
CSV = "CSV"
BOM = b"\xef\xbb\xbf"
SUPPORTED_VERSION = "00501"  # GS08 of 837P 005010X222A1 and 837I 005010X223A2


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


@dataclass(slots=True)
class ClaimFile:
    """What a provider's file holds: its claims in order, the defects it was read despite
    (codes and places, never values), and its interchange control numbers (ISA13)."""

    claims: list[Claim]
    defects: list[dict[str, Any]] = field(default_factory=list)
    interchange_control_numbers: list[str] = field(default_factory=list)


def _version_reason(version: str) -> str:
    # GS08 is echoed only when it has the form of a version: it came from outside.
    shown = version[:6] if version[:6].isdigit() else "other than 005010"
    return f"X12 version {shown} is not supported; send 005010X222A1/X223A2"


def _parse_5010_837(ctx: BodyContext) -> Iterator[Claim]:
    """The 5010 reader, for 5010 groups only: a 4010 file read as 5010 would earn
    misleading edits (or lose data) instead of the reason it is refused."""
    if not ctx.group.version.startswith(SUPPORTED_VERSION):
        raise UnreadableClaimFile({"error": "UnsupportedVersion", "code": "VERSION",
                                   "reason": _version_reason(ctx.group.version)})
    return parse_837(ctx)


def read_claims(data: bytes, fmt: str) -> list[Claim]:
    """The claims of a file, in order; raises ``UnreadableClaimFile``."""
    return read_claim_file(data, fmt).claims


def read_claim_file(data: bytes, fmt: str) -> ClaimFile:
    """The claims of a file with its defects; raises ``UnreadableClaimFile``."""
    defects: list[dict[str, Any]] = []
    try:
        if fmt == CSV:
            return ClaimFile(read_csv_claims(data, defects), defects)
        document = X12Reader(data, {"837": _parse_5010_837}).read()
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
    return ClaimFile(claims, [d.to_dict() for d in document.defects],
                     [i.control_number for i in document.interchanges])


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

