"""Each transaction set of a file in an interchange of its own.

A payer's file can hold sets for several of our tenants (an 835 with a set per payee).
Each set is handed on as a file a stage reads like any other: its interchange's ISA and
its group's GS as they were, the set's segments, and GE/IEA trailers counting the one
group and the one set. Nothing of the other sets goes with it, so no tenant is handed
another's claims.

The result depends on the file alone: the same file collected twice gives the same bytes,
so a stage that remembers files by their hash applies a set once.
"""

from __future__ import annotations

from revcycle.x12.errors import X12EnvelopeError
from revcycle.x12.tokenizer import SegmentReader


def split_sets(data: bytes) -> list[bytes]:
    """Every transaction set of ``data``, in file order, each in its own interchange.

    Segments end with the file's terminator and a line break. Raises ``X12Error`` when the
    envelopes cannot be followed (read the file first to learn why).
    """
    reader = SegmentReader(data)
    d = reader.delimiters
    isa: list[str] | None = None
    gs: list[str] | None = None
    current: list[list[str]] | None = None
    pieces: list[bytes] = []
    for elements in reader:
        tag = elements[0]
        if tag == "ISA":
            isa = elements
        elif tag == "GS":
            gs = elements
        elif tag == "ST":
            current = [elements]
        elif current is not None:
            current.append(elements)
            if tag == "SE":
                if isa is None or gs is None or len(isa) < 14 or len(gs) < 7:
                    raise reader.error(X12EnvelopeError, "transaction set outside a complete"
                                       " ISA and GS", segment_id="ST")
                segments = [isa, gs, *current, ["GE", "1", gs[6]], ["IEA", "1", isa[13]]]
                text = "".join(d.element.join(s) + d.segment + "\n" for s in segments)
                pieces.append(text.encode("utf-8", "surrogateescape"))
                current = None
    return pieces
