"""Typed X12 errors.

Every error carries where it happened (segment number, byte offset, segment id, element
position, loop) and never the element's value: values can be names, member ids or dates.
"""

from __future__ import annotations


class X12Error(Exception):
    """Base class for everything the X12 readers and writers raise."""

    code = "X12"

    def __init__(
        self,
        message: str,
        *,
        segment_number: int | None = None,
        byte_offset: int | None = None,
        segment_id: str | None = None,
        element: int | None = None,
        loop: str | None = None,
    ) -> None:
        self.reason = message
        self.segment_number = segment_number
        self.byte_offset = byte_offset
        self.segment_id = segment_id
        self.element = element
        self.loop = loop
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.segment_id:
            pos = f"{self.segment_id}{self.element:02d}" if self.element else self.segment_id
            where.append(pos)
        if self.loop:
            where.append(f"loop {self.loop}")
        if self.segment_number is not None:
            where.append(f"segment #{self.segment_number}")
        if self.byte_offset is not None:
            where.append(f"byte {self.byte_offset}")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"[{self.code}] {self.reason}{suffix}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description, safe to store as a quarantine reason."""
        return {
            "error": type(self).__name__,
            "code": self.code,
            "reason": self.reason,
            "segment_number": self.segment_number,
            "byte_offset": self.byte_offset,
            "segment_id": self.segment_id,
            "element": self.element,
            "loop": self.loop,
        }


class X12DelimiterError(X12Error):
    """No usable ISA header: the delimiters cannot be determined."""

    code = "DELIMITERS"


class X12EnvelopeError(X12Error):
    """ISA/GS/ST nesting is broken (a trailer without a header, a missing IEA, ...)."""

    code = "ENVELOPE"


class X12StructureError(X12Error):
    """A loop or segment is missing, repeated too often, unknown or out of order."""

    code = "STRUCTURE"


class X12ElementError(X12Error):
    """A required element is missing, or an element's value has the wrong form."""

    code = "ELEMENT"


class X12UnsupportedError(X12Error):
    """A transaction set or implementation this reader does not handle."""

    code = "UNSUPPORTED"
