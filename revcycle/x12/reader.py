"""Read any supported X12 file: the parsers for each transaction set, in one place."""

from __future__ import annotations

from collections.abc import Iterator

from revcycle.model.claim import Claim
from revcycle.x12.ack277 import parse_277
from revcycle.x12.ack999 import parse_999
from revcycle.x12.envelope import BodyParser, X12Document, X12Reader
from revcycle.x12.read837 import parse_837
from revcycle.x12.remit835 import parse_835
from revcycle.x12.tokenizer import Source

PARSERS: dict[str, BodyParser] = {
    "837": parse_837,
    "835": parse_835,
    "999": parse_999,
    "277": parse_277,
}


def read(source: Source) -> X12Document:
    """Every interchange, group and transaction set of a file, bodies parsed."""
    return X12Reader(source, PARSERS).read()


def open_reader(source: Source) -> X12Reader:
    """A reader for streaming: iterate ``.items()``; ``.transaction`` is the current set."""
    return X12Reader(source, PARSERS)


def iter_claims(source: Source) -> Iterator[Claim]:
    """Stream the claims of an 837 file without holding them all."""
    yield from X12Reader(source, {"837": parse_837}).items()
