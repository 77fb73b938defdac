"""Split an X12 stream into segments and elements, a chunk at a time.

The delimiters come from the ISA header: the element separator is its fourth byte, the
component separator is ISA16 and the segment terminator is the character after it; ISA11 is
the repetition separator in 5010 (4010 files, and some 5010 ones, put the standards id ``U``
there instead). Line breaks after terminators, a UTF-8 byte-order mark and compressed
(not fixed-width) ISA headers are tolerated and reported as defects where they break the
standard. A 1 GB file is read in 1 MiB chunks and never held whole.

Files are read as UTF-8. A byte that is not part of a UTF-8 character is read as Windows-1252
(the code page a Latin-1 file written on Windows uses; the five bytes it leaves undefined as
Latin-1), so a surname sent as ``M\xdcLLER`` reads ``MÜLLER``, and a ``NOT_UTF8`` defect
is recorded once. Values are then always text that can be encoded again; whether a payer
takes such a character is the scrub's question (:mod:`revcycle.scrub.characters`).
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from revcycle.x12.charset import AS_WINDOWS_1252
from revcycle.x12.errors import X12DelimiterError, X12Error

BOM = b"\xef\xbb\xbf"
ISA_LENGTH = 106  # fixed width of a conforming ISA, terminator included
CHUNK_SIZE = 1 << 20
HEAD_SIZE = 4096  # read at least this much first, to find the whole ISA
# Only these count as white space around segments: 0x1C-0x1F, which Python also calls
# space, are delimiters in some partners' files.
LINE_WHITESPACE = " \t\r\n"
LINE_WHITESPACE_BYTES = (b" ", b"\t", b"\r", b"\n")
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)

Source = bytes | str | os.PathLike[str] | BinaryIO


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str = "^"  # "" when ISA11 holds a standards id instead

    def __post_init__(self) -> None:
        used = [self.element, self.component, self.segment] + (
            [self.repetition] if self.repetition else []
        )
        if len(set(used)) != len(used) or any(len(d) != 1 or d.isalnum() for d in used):
            raise X12DelimiterError("delimiters must be distinct non-alphanumeric characters")


@dataclass(frozen=True, slots=True)
class Defect:
    """A departure from the standard that does not stop the file from being read."""

    code: str
    message: str
    segment_number: int | None = None
    byte_offset: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "segment_number": self.segment_number,
            "byte_offset": self.byte_offset,
        }


def _open(source: Source) -> tuple[BinaryIO, bool]:
    """The source as a binary stream, and whether we opened it (and must close it)."""
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source), True
    if isinstance(source, str | os.PathLike):
        return Path(source).open("rb"), True
    return source, False


def detect_delimiters(head: bytes) -> tuple[Delimiters, int, list[Defect]]:
    """Delimiters from the start of an interchange, the offset where the ISA starts, defects."""
    defects: list[Defect] = []
    start = len(BOM) if head.startswith(BOM) else 0
    while start < len(head) and head[start : start + 1] in LINE_WHITESPACE_BYTES:
        start += 1
    text = head[start : start + 512].decode("latin-1")
    if not text.startswith("ISA") or len(text) < 4:
        raise X12DelimiterError("no ISA header at the start of the file: cannot find delimiters",
                                segment_number=1, byte_offset=start)
    element = text[3]
    if element.isalnum() or element in LINE_WHITESPACE:
        raise X12DelimiterError("ISA element separator is not a delimiter character",
                                segment_number=1, byte_offset=start, segment_id="ISA")
    # ISA16 follows the 16th element separator; the segment terminator follows ISA16.
    pos = -1
    for _ in range(16):
        pos = text.find(element, pos + 1)
        if pos < 0:
            raise X12DelimiterError("ISA header has fewer than 16 elements",
                                    segment_number=1, byte_offset=start, segment_id="ISA")
    if pos + 2 >= len(text):
        raise X12DelimiterError("ISA header is truncated", segment_number=1,
                                byte_offset=start, segment_id="ISA")
    component = text[pos + 1]
    segment = text[pos + 2]
    isa_length = pos + 3
    if segment in "\r\n":
        # Some writers break lines and then lead each line with the real terminator.
        rest = text[pos + 2 :].lstrip("\r\n")
        if rest and not rest[0].isalnum() and rest[0] not in LINE_WHITESPACE:
            segment = rest[0]
            defects.append(Defect("TERMINATOR_AFTER_NEWLINE",
                                  "segment terminator stands at the start of each line", 1, start))
    elements = text[:pos].split(element)
    if isa_length != ISA_LENGTH:
        if len(elements) > 12 and elements[12] == "00501":
            # 5010 fixes the ISA's width; a short or long one means a damaged header.
            raise X12DelimiterError(f"5010 ISA is {isa_length} characters long, not"
                                    f" {ISA_LENGTH}: the header is damaged",
                                    segment_number=1, byte_offset=start, segment_id="ISA")
        defects.append(Defect("ISA_NOT_FIXED_WIDTH",
                              f"ISA is {isa_length} characters long, not {ISA_LENGTH}", 1, start))
    repetition = elements[11] if len(elements) > 11 else ""
    if len(repetition) != 1 or repetition.isalnum() or repetition in (element, component, segment):
        repetition = ""
    try:
        delimiters = Delimiters(element, component, segment, repetition)
    except X12DelimiterError as exc:
        raise X12DelimiterError(exc.reason, segment_number=1, byte_offset=start,
                                segment_id="ISA") from None
    return delimiters, start, defects


class SegmentReader:
    """Iterates over the segments of a source as lists of elements (element 0 is the id).

    ``location()`` and ``error()`` describe the segment most recently yielded; byte
    offsets are computed only when asked for, so the common path stays a plain split.
    """

    def __init__(self, source: Source, chunk_size: int = CHUNK_SIZE) -> None:
        self._stream, self._owned = _open(source)
        self._chunk_size = chunk_size
        head = self._stream.read(max(chunk_size, HEAD_SIZE))
        self.delimiters, self._start, self.defects = detect_delimiters(head)
        self._head = head
        # Location bookkeeping: segments before the chunk being iterated, the position of
        # the current one in it, and (when blank pieces were dropped) their raw indexes.
        self._count = 0
        self._first = 0
        self._position = -1
        self._raw_index: list[int] | None = None
        self._parts: list[str] = []
        self._base_offset = 0
        self._chunk_text = ""
        self._chunk_is_ascii = True

    def close(self) -> None:
        if self._owned:
            self._stream.close()

    @property
    def segment_number(self) -> int:
        """1-based number of the segment most recently yielded (0 before the first)."""
        return self._first + self._position + 1

    def location(self) -> tuple[int, int]:
        """(segment number, byte offset) of the segment most recently yielded."""
        position = max(self._position, 0)
        index = self._raw_index[position] if self._raw_index else position
        chars = sum(len(p) + 1 for p in self._parts[:index])
        piece = self._parts[index] if index < len(self._parts) else ""
        chars += len(piece) - len(piece.lstrip(LINE_WHITESPACE))
        if not self._chunk_is_ascii:
            chars = len(self._chunk_text[:chars].encode("utf-8", "surrogateescape"))
        return self.segment_number, self._base_offset + chars

    def error(self, cls: type[X12Error], message: str, *, segment_id: str | None = None,
              element: int | None = None, loop: str | None = None) -> X12Error:
        number, offset = self.location()
        return cls(message, segment_number=number, byte_offset=offset,
                   segment_id=segment_id, element=element, loop=loop)

    def defect(self, code: str, message: str) -> None:
        number, offset = self.location()
        self.defects.append(Defect(code, message, number, offset))

    def _chunks(self) -> Iterator[tuple[bytes, int]]:
        """Raw chunks with the byte offset where each starts."""
        offset = self._start
        chunk = self._head[self._start :]
        self._head = b""
        while chunk:
            yield chunk, offset
            offset += len(chunk)
            chunk = self._stream.read(self._chunk_size)

    def __iter__(self) -> Iterator[list[str]]:
        d = self.delimiters
        term, sep = d.segment, d.element
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        carry = ""
        carry_offset = self._start
        bad_bytes_reported = False
        try:
            for raw, offset in self._chunks():
                text = carry + decoder.decode(raw)
                undecoded = not text.isascii() and _UNDECODED.search(text) is not None
                if undecoded and not bad_bytes_reported:
                    bad_bytes_reported = True
                    self.defects.append(Defect("NOT_UTF8", "bytes that are not UTF-8 were read"
                                               " as Windows-1252", self.segment_number + 1,
                                               offset))
                parts = text.split(term)
                carry = parts.pop()
                # One generator level per segment, not two: this loop is the hot path.
                for position, segment in enumerate(self._split(parts, text, carry_offset, sep,
                                                               undecoded)):
                    self._position = position
                    yield segment
                pending = decoder.getstate()[0]  # bytes of a character cut by the chunk end
                carry_offset = (offset + len(raw) - len(pending)
                                - len(carry.encode("utf-8", "surrogateescape")))
            tail = carry + decoder.decode(b"", final=True)
            if tail.strip(LINE_WHITESPACE):
                undecoded = not tail.isascii() and _UNDECODED.search(tail) is not None
                for position, segment in enumerate(self._split([tail], tail, carry_offset, sep,
                                                               undecoded)):
                    self._position = position
                    yield segment
                self.defect("NO_FINAL_TERMINATOR", "the last segment has no terminator")
        finally:
            self.close()

    def _split(self, parts: list[str], text: str, base: int, sep: str,
               undecoded: bool) -> list[list[str]]:
        """The chunk's segments as element lists; records what ``location`` needs (the
        text as decoded, escaped bytes and all, so byte offsets stay exact)."""
        self._parts = parts
        self._chunk_text = text
        self._base_offset = base
        self._chunk_is_ascii = text.isascii()
        # Line breaks (and stray blanks) after terminators are not data.
        pieces = [p.strip(LINE_WHITESPACE) for p in parts]
        if "" in pieces:
            self._raw_index = [i for i, p in enumerate(pieces) if p]
            pieces = [p for p in pieces if p]
        else:
            self._raw_index = None
        if undecoded:
            pieces = [p.translate(AS_WINDOWS_1252) for p in pieces]
        segments = [p.split(sep) for p in pieces]
        self._first = self._count
        self._count += len(segments)
        return segments
