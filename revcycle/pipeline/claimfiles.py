"""What a provider drops off: recognise the format, read the claims, find them again.

Claims are read from their raw file whenever a stage needs their full content; the
database keeps the file and the claim's ordinal in it. Files are read as streams: a claim
file is never held whole in memory, only the claims a caller keeps.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

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
    """The claims of a file with its defects; raises ``UnreadableClaimFile``.

    The cycle collector is paused meanwhile, as ``X12Reader.read`` does."""
    found = ClaimFile([])
    with collector_paused():
        found.claims = list(stream_claim_file(data, fmt, found))
    return found


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while claims are read: reading builds hundreds of
    thousands of objects in no reference cycle, and each automatic pass would walk the
    ones still alive (a third of the time or more). A caller that runs other code inside
    (database inserts) calls ``gc.collect(0)`` now and then: with the collector paused
    every new object stays young, so that pass finds every cycle made since."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def stream_claim_file(source: bytes | BinaryIO, fmt: str, found: ClaimFile
                      ) -> Iterator[Claim]:
    """Yield the claims of a file as they are read, an X12 file a chunk at a time (a CSV
    is read whole: claims CSVs are small). Once the last is yielded, ``found`` holds the
    file's defects and control numbers (not its claims). Raises ``UnreadableClaimFile``,
    possibly after some claims: a file is readable only once read to its end."""
    count = 0
    try:
        if fmt == CSV:
            data = source if isinstance(source, bytes) else source.read()
            for claim in read_csv_claims(data, found.defects):
                count += 1
                yield claim
            return
        reader = X12Reader(source, {"837": _parse_5010_837})
        for claim in reader.items():
            count += 1
            yield claim
        document = reader.document
        others = sorted({t.set_id for t in document.transactions()} - {"837"})
    except X12Error as exc:
        raise UnreadableClaimFile(exc.to_dict()) from None
    except CsvClaimError as exc:
        raise UnreadableClaimFile(exc.to_dict()) from None
    if others:
        raise UnreadableClaimFile({"error": "NotAClaimFile", "code": "SET",
                                   "reason": f"holds transaction sets {', '.join(others)},"
                                             " not claims (837)"})
    if not count:
        raise UnreadableClaimFile({"error": "NoClaims", "code": "EMPTY",
                                   "reason": "the file holds no claims"})
    found.defects = [d.to_dict() for d in document.defects]
    found.interchange_control_numbers = [i.control_number for i in document.interchanges]


def load_claims(store: ObjectStore, files: dict[int, File],
                rows: Sequence[ClaimRow]) -> list[tuple[ClaimRow, Claim]]:
    """Rebuild the claims of ``rows`` from their raw files, each file streamed once from
    the store and only the claims asked for kept (the read stops after the last of them).
    The cycle collector is paused meanwhile (:func:`collector_paused`)."""
    wanted: dict[int, dict[int, list[ClaimRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        wanted[row.file_id][row.ordinal].append(row)
    loaded: dict[int, Claim] = {}
    with collector_paused():
        for file_id, by_ordinal in wanted.items():
            file = files[file_id]
            last = max(by_ordinal)
            with store.open(file.key) as source:
                claims = stream_claim_file(source, file.format, ClaimFile([]))
                for ordinal, claim in enumerate(claims):
                    for row in by_ordinal.get(ordinal, ()):
                        loaded[row.id] = claim
                    if ordinal == last:
                        claims.close()
                        break
    return [(row, loaded[row.id]) for row in rows]
