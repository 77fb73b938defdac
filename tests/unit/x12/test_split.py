"""Splitting a file into one interchange per transaction set."""

from __future__ import annotations

from datetime import datetime

import pytest

from revcycle.model.acknowledgment import FunctionalAck, TransactionSetAck
from revcycle.x12.ack999 import parse_999, write_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.split import split_sets
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

HEADER = InterchangeHeader(Party("PAYERSIM"), Party("BILLER1"), created=datetime(2026, 11, 3, 8))


def _ack(group: str) -> FunctionalAck:
    return FunctionalAck.for_sets("HC", group, "005010X222A1",
                                  [TransactionSetAck("837", "0001", "005010X222A1", "A")])


def test_each_set_gets_the_envelopes_it_came_in_and_trailers_that_count_it() -> None:
    data = write_999([_ack("41"), _ack("42"), _ack("43")], HEADER,
                     CounterControlNumbers(interchange=9, group=5)).text.encode()

    pieces = split_sets(data)

    assert len(pieces) == 3
    for piece, group in zip(pieces, ("41", "42", "43"), strict=True):
        document = X12Reader(piece, {"999": parse_999}).read()
        assert not document.defects  # SE01, GE01 and IEA01 count what is there
        [interchange] = document.interchanges
        [envelope] = interchange.groups
        assert (interchange.control_number, envelope.control_number) == ("000000009", "5")
        assert [a.group_control_number for a in document.bodies(FunctionalAck)] == [group]
    assert split_sets(data) == pieces  # the same file always gives the same bytes


def test_a_one_set_file_comes_back_as_one_piece_of_the_same_content() -> None:
    data = write_999([_ack("41")], HEADER, CounterControlNumbers()).text.encode()

    assert split_sets(data) == [data]


def test_a_file_without_an_isa_cannot_be_split() -> None:
    with pytest.raises(X12Error):
        split_sets(b"ST*999*0001~SE*2*0001~")
