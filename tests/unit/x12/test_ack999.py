"""999 reader and writer: the corpus, rejection detail, round trips, pyx12, malformed input."""

from __future__ import annotations

import csv
import random
from datetime import datetime
from pathlib import Path

import pytest

from revcycle.model.acknowledgment import (
    Context,
    ElementError,
    FunctionalAck,
    SegmentError,
    TransactionSetAck,
)
from revcycle.x12.ack277 import parse_277
from revcycle.x12.ack999 import parse_999, write_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12ElementError, X12Error, X12StructureError
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

PARSERS = {"999": parse_999, "277": parse_277}
HEADER = InterchangeHeader(Party("PAYERSIM"), Party("BILLER1"), created=datetime(2026, 11, 3, 8))
REJECTED = "x12-parser/src/test/resources/837_5010/x12_999_rejected.txt"
ACCEPTED = "x12-parser/src/test/resources/837_5010/x12_999_accepted.txt"


def corpus_files(samples: Path, set_id: str) -> list[tuple[Path, int]]:
    """Files of one set id that INDEX.tsv does not mark invalid, with their ST count."""
    found = []
    with (samples / "INDEX.tsv").open(newline="") as index:
        for row in csv.DictReader(index, delimiter="\t"):
            status = row["repo_test_status"]
            if row["ST01"] != set_id or "INVALID" in status or "DAMAGED" in status:
                continue
            folder = row["repo"].split("/")[1]
            found.append((samples / folder / row["original_path"], int(row["n_ST"])))
    return found


def _read(source: str | bytes | Path) -> list[FunctionalAck]:
    if isinstance(source, str):
        source = source.encode()
    return X12Reader(source, PARSERS).read().bodies(FunctionalAck)


def _write(groups: list[FunctionalAck]) -> str:
    return write_999(groups, HEADER, CounterControlNumbers()).text


def _body(*segments: str) -> str:
    """A 999 interchange around ``segments`` (the ST … SE body), SE01 counted."""
    body = ["ST*999*0001*005010X231A1", *segments]
    body.append(f"SE*{len(body) + 1}*0001")
    return "~".join([
        "ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*BILLER1        *261103*0800*^"
        "*00501*000000001*0*P*:",
        "GS*FA*PAYERSIM*BILLER1*20261103*0800*1*X*005010X231A1",
        *body, "GE*1*1", "IEA*1*000000001"]) + "~"


# --- the public corpus ----------------------------------------------------------------


def test_every_readable_999_in_the_corpus_reads(x12_samples: Path) -> None:
    files = corpus_files(x12_samples, "999")
    assert len(files) >= 4
    for path, sets in files:
        groups = _read(path)
        assert len(groups) == sets, path.name
        for group in groups:
            assert group.status in {"A", "E", "P", "R"}
            assert group.set_acks and all(ack.status for ack in group.set_acks)


def test_rejected_999_gives_its_error_detail(x12_samples: Path) -> None:
    (group,) = _read(x12_samples / REJECTED)
    assert (group.functional_id, group.group_control_number, group.version) == (
        "HC", "28", "005010X223A2")
    assert (group.status, group.sets_included, group.sets_received, group.sets_accepted) == (
        "R", 1, 1, 0)
    assert not group.accepted
    (ack,) = group.set_acks
    assert (ack.set_id, ack.control_number, ack.implementation_reference) == ("837", "0028", "")
    assert ack.status == "R" and not ack.accepted
    assert ack.error_codes == ("5",)
    assert ack.segment_errors == [SegmentError("NM", 17, "", "1")]


def test_accepted_999(x12_samples: Path) -> None:
    (group,) = _read(x12_samples / ACCEPTED)
    assert group.accepted and group.status == "A"
    (ack,) = group.set_acks
    assert ack.accepted and ack.segment_errors == []
    assert (ack.set_id, ack.control_number) == ("837", "0001")


def test_corpus_999s_survive_write_and_read(x12_samples: Path) -> None:
    for path, _ in corpus_files(x12_samples, "999"):
        groups = _read(path)
        assert _read(_write(groups)) == groups, path.name


# --- synthetic 999s through pyx12 -----------------------------------------------------


def _element_error(rng: random.Random) -> ElementError:
    return ElementError(
        element_position=rng.randint(1, 9),
        error_code=rng.choice(["1", "2", "4", "5", "7", "8", "I12"]),
        data_element_reference=rng.choice(["", "66", "1028"]),
        component_position=rng.choice([None, 1, 2]),
        bad_data=rng.choice(["", "BADVALUE"]),
        contexts=rng.choice([(), (Context("SITUATIONAL TRIGGER", segment_id="CLM",
                                          segment_position=12, loop_id="2300",
                                          element_position=5, component_position=1),)]),
    )


def _rejected_set(rng: random.Random, number: int) -> TransactionSetAck:
    segment_errors = [
        SegmentError(
            segment_id=rng.choice(["NM1", "CLM", "SV1", "REF"]),
            segment_position=rng.randint(3, 200),
            loop_id=rng.choice(["2010", "2300", "2400", ""]),
            error_code=rng.choice(["8", "3", "5"]),
            contexts=rng.choice([(), (Context("CLM01", reference=f"PCN{number}"),)]),
            element_errors=[_element_error(rng) for _ in range(rng.randint(0, 3))],
        )
        for _ in range(rng.randint(1, 3))
    ]
    return TransactionSetAck("837", f"{number:04d}", "005010X222A1", "R",
                             error_codes=("5",), segment_errors=segment_errors)


def _accepted_set(number: int, status: str = "A") -> TransactionSetAck:
    return TransactionSetAck("837", f"{number:04d}", "005010X222A1", status)


@pytest.mark.parametrize("seed", range(6))
def test_synthetic_999s_pass_pyx12(seed: int) -> None:
    rng = random.Random(seed)
    accepted = FunctionalAck.for_sets("HC", str(100 + seed), "005010X222A1",
                                      [_accepted_set(n) for n in range(1, rng.randint(2, 4))])
    rejected = FunctionalAck.for_sets("HC", str(200 + seed), "005010X222A1",
                                      [_rejected_set(rng, n) for n in range(1, 3)])
    partial = FunctionalAck.for_sets("HC", str(300 + seed), "005010X222A1",
                                     [_accepted_set(1), _accepted_set(2, "E"),
                                      _rejected_set(rng, 3)])
    assert (accepted.status, rejected.status, partial.status) == ("A", "R", "P")
    assert (partial.sets_received, partial.sets_accepted) == (3, 2)
    text = _write([accepted, rejected, partial])
    assert pyx12_errors(text) == []
    assert _read(text) == [accepted, rejected, partial]


def test_for_sets_summarizes_the_group() -> None:
    with_errors = FunctionalAck.for_sets("HC", "1", "005010X222A1",
                                         [_accepted_set(1), _accepted_set(2, "E")])
    assert (with_errors.status, with_errors.sets_accepted) == ("E", 2)
    assert with_errors.accepted


def test_element_error_position_and_hidden_bad_data() -> None:
    error = ElementError(5, "7", component_position=1, bad_data="SECRET-VALUE")
    assert error.position == "5:1"
    assert ElementError(2, "1").position == "2"
    assert ElementError(3, "1", repeat_position=2).position == "3::2"
    assert "SECRET-VALUE" not in repr(error)
    assert "SECRET-VALUE" not in repr(Context("CLM01", reference="SECRET-VALUE"))


def test_ik4_and_ctx_are_read_with_the_file_component_separator() -> None:
    text = _body("AK1*HC*7*005010X222A1", "AK2*837*0001*005010X222A1", "IK3*CLM*22*2300*8",
                 "CTX*CLM01:PCN9", "IK4*5:3*1331*7*ZZ", "CTX*SITUATIONAL TRIGGER*CLM*22*2300*5:1",
                 "IK5*R*5", "AK9*R*1*1*0")
    (group,) = _read(text)
    (segment,) = group.set_acks[0].segment_errors
    assert segment.contexts == (Context("CLM01", "PCN9"),)
    (element,) = segment.element_errors
    assert (element.element_position, element.component_position) == (5, 3)
    assert (element.data_element_reference, element.error_code, element.bad_data) == (
        "1331", "7", "ZZ")
    assert element.contexts == (Context("SITUATIONAL TRIGGER", segment_id="CLM",
                                        segment_position=22, loop_id="2300",
                                        element_position=5, component_position=1),)


def test_items_stream_set_acks() -> None:
    text = _write([FunctionalAck.for_sets("HC", "9", "005010X222A1",
                                          [_accepted_set(1), _accepted_set(2)])])
    items = list(X12Reader(text.encode(), {"999": parse_999}).items())
    assert [ack.control_number for ack in items] == ["0001", "0002"]


# --- malformed input and refused output ----------------------------------------------


@pytest.mark.parametrize(("segments", "error", "where"), [
    (["AK1*HC*7", "AK2*837*0001", "IK3*NM1*X**8", "IK5*R", "AK9*R*1*1*0"],
     X12ElementError, "IK302"),
    (["AK1*HC*7", "AK2*837*0001", "IK3*NM1*4**8", "IK4*A*66*7*SECRETDATA", "IK5*R",
      "AK9*R*1*1*0"], X12ElementError, "IK401"),
    (["AK1*HC*7", "AK2*837*0001", "IK3*NM1*4**8", "IK4*2", "IK5*R", "AK9*R*1*1*0"],
     X12ElementError, "IK403"),
    (["AK1*HC*7", "AK2*837*0001", "AK9*R*1*1*0"], X12StructureError, "AK9"),
    (["AK1*HC*7", "AK2*837*0001", "IK5*A"], X12StructureError, "SE"),
    (["AK1*HC*7", "AK2*837*0001", "IK5*A", "AK9*A*1*1"], X12ElementError, "AK904"),
    (["AK1*HC", "AK9*A*0*0*0"], X12ElementError, "AK102"),
    (["AK2*837*0001", "IK5*A", "AK9*A*1*1*1"], X12StructureError, "AK2"),
    (["AK1*HC*7", "AK2*837", "IK5*A", "AK9*A*1*1*1"], X12ElementError, "AK202"),
    (["AK1*HC*7", "AK2*837*0001", "IK5", "AK9*A*1*1*1"], X12ElementError, "IK501"),
    (["AK1*HC*7", "AK2*837*0001", "IK4*2**1", "IK5*R", "AK9*R*1*1*0"],
     X12StructureError, "IK4"),
])
def test_malformed_999_raises_typed_errors(segments: list[str], error: type[X12Error],
                                          where: str) -> None:
    with pytest.raises(error) as caught:
        _read(_body(*segments))
    assert where in str(caught.value)
    assert "SECRETDATA" not in str(caught.value)


def test_writer_refuses_what_pyx12_would_reject() -> None:
    bad_status = FunctionalAck("HC", "1", "005010X222A1", "A", 1, 1, 1,
                               set_acks=[_accepted_set(1, "Q")])
    with pytest.raises(X12ElementError):
        _write([bad_status])
    too_many = FunctionalAck("HC", "1", "005010X222A1", "R", 1, 1, 0,
                             set_acks=[TransactionSetAck("837", "0001", "", "R",
                                                         error_codes=tuple("123456"))])
    with pytest.raises(X12ElementError):
        _write([too_many])
    with pytest.raises(X12ElementError):
        _write([FunctionalAck("HC", "1", status="")])
    long_loop = TransactionSetAck("837", "0001", "", "R", segment_errors=[
        SegmentError("NM1", 5, "2010AA", "8")])
    with pytest.raises(X12ElementError, match="four characters"):
        _write([FunctionalAck.for_sets("HC", "1", "005010X222A1", [long_loop])])


def test_damaged_999s_raise_only_x12_errors(x12_samples: Path) -> None:
    """Random cuts and swaps in real files: either read, or fail with a typed error."""
    originals = [path.read_text() for path, _ in corpus_files(x12_samples, "999")]
    rng = random.Random(999)
    read = refused = 0
    for _ in range(400):
        text = list(rng.choice(originals))
        start = text.index("ST*") if "ST*" in text else 0
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(start, len(text))
            if rng.random() < 0.5:
                del text[at]
            else:
                text[at] = rng.choice("*:~|X0A9 ")
        try:
            _read("".join(text))
            read += 1
        except X12Error:  # anything else (IndexError, ValueError, ...) fails the test
            refused += 1
    assert read and refused
