"""SegmentReader: delimiters from the ISA, line breaks, encodings, locations, streaming."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.x12.errors import X12DelimiterError, X12ElementError
from revcycle.x12.tokenizer import BOM, Delimiters, SegmentReader, detect_delimiters

STANDARD = Delimiters("*", ":", "~", "^")


def isa(d: Delimiters = STANDARD, *, version: str = "00501", isa11: str | None = None) -> str:
    """A fixed-width (106 character) ISA written with the delimiters ``d``."""
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDERID".ljust(15), "ZZ",
              "RECEIVERID".ljust(15), "240203", "0405",
              isa11 if isa11 is not None else (d.repetition or "U"), version, "000000001",
              "0", "T", d.component]
    header = d.element.join(fields) + d.segment
    assert len(header) == 106
    return header


BODY = [
    ["GS", "HC", "SENDERID", "RECEIVERID", "20240203", "0405", "1", "X", "005010X222A1"],
    ["ST", "837", "0001", "005010X222A1"],
    ["NM1", "41", "2", "SYNTHETIC SUBMITTER", "", "", "", "", "46", "S0001"],
    ["HI", "ABK{c}J449", "ABF{c}E119"],
    ["SV1", "HC{c}99213{c}25", "100", "UN", "1", "", "", "1{c}2"],
    ["NTE", "ADD", "FIRST{r}SECOND"],
    ["SE", "6", "0001"],
    ["GE", "1", "1"],
    ["IEA", "1", "000000001"],
]


def body(d: Delimiters = STANDARD) -> list[list[str]]:
    """The segments after the ISA, their composites written with ``d``."""
    rep = d.repetition or "^"
    return [[e.format(c=d.component, r=rep) for e in seg] for seg in BODY]


def document(d: Delimiters = STANDARD, newline: str = "", **isa_options: str) -> str:
    lines = [isa(d, **isa_options)] + [d.element.join(seg) + d.segment for seg in body(d)]
    return newline.join(lines) + newline


def segments(data: bytes, chunk_size: int | None = None) -> list[list[str]]:
    reader = SegmentReader(data) if chunk_size is None else SegmentReader(data, chunk_size)
    return list(reader)


def located(data: bytes, chunk_size: int | None = None) -> list[tuple[str, int, int]]:
    """(segment id, segment number, byte offset) of every segment, as the reader reports."""
    reader = SegmentReader(data) if chunk_size is None else SegmentReader(data, chunk_size)
    out = []
    for elements in reader:
        number, offset = reader.location()
        out.append((elements[0], number, offset))
    return out


def true_locations(data: bytes, terminator: bytes = b"~") -> list[tuple[str, int, int]]:
    """The same, computed independently from the raw bytes."""
    out = []
    position = len(BOM) if data.startswith(BOM) else 0
    for piece in data[position:].split(terminator):
        text = piece.lstrip()
        if text.strip():
            start = position + len(piece) - len(text)
            out.append((text.split(b"*")[0].decode(), len(out) + 1, start))
        position += len(piece) + len(terminator)
    return out


# -- delimiters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters("*", ":", "~", "^"),
        Delimiters("~", "^", "_", "!"),
        Delimiters("|", ">", "\n", "^"),
        Delimiters("!", "\\", "'", "{"),
    ],
    ids=["standard", "tilde-caret-underscore", "pipe-newline", "bang-backslash-quote"],
)
def test_delimiters_come_from_the_isa(delimiters: Delimiters) -> None:
    data = document(delimiters).encode()
    reader = SegmentReader(data)
    read = list(reader)
    assert reader.delimiters == delimiters
    assert read[0][0] == "ISA" and len(read[0]) == 17
    assert read[0][16] == delimiters.component
    assert read[1:] == body(delimiters)
    assert reader.defects == []


def test_control_character_delimiters() -> None:
    delimiters = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")
    reader = SegmentReader(document(delimiters).encode())
    assert list(reader)[1:] == body(delimiters)


def test_u_in_isa11_means_no_repetition_separator() -> None:
    data = document(STANDARD, isa11="U").encode()
    reader = SegmentReader(data)
    read = list(reader)
    assert reader.delimiters == Delimiters("*", ":", "~", "")
    assert read[0][11] == "U"
    assert read[1:] == body(STANDARD)


@pytest.mark.parametrize(("element", "component", "segment", "repetition"), [
    ("*", "*", "~", "^"),
    ("*", ":", "~", "~"),
    ("A", ":", "~", "^"),
    ("**", ":", "~", "^"),
])
def test_delimiters_must_be_distinct_single_non_alphanumerics(
        element: str, component: str, segment: str, repetition: str) -> None:
    with pytest.raises(X12DelimiterError):
        Delimiters(element, component, segment, repetition)


# -- line breaks, BOM, compressed ISA --------------------------------------------------------


@pytest.mark.parametrize("newline", ["", "\n", "\r\n", "\r"], ids=["none", "lf", "crlf", "cr"])
def test_line_breaks_after_terminators_are_ignored(newline: str) -> None:
    data = document(STANDARD, newline).encode()
    reader = SegmentReader(data)
    read = list(reader)
    assert read[1:] == body(STANDARD)
    assert read[0][-1] == ":"
    assert reader.defects == []


@pytest.mark.parametrize("newline", ["", "\r\n"])
def test_locations_with_and_without_line_breaks(newline: str) -> None:
    data = document(STANDARD, newline).encode()
    assert located(data) == true_locations(data)


def test_utf8_bom_is_skipped_and_offsets_count_it() -> None:
    plain = document(STANDARD, "\n").encode()
    data = BOM + plain
    assert segments(data) == segments(plain)
    locations = located(data)
    assert locations[0] == ("ISA", 1, 3)
    assert locations == true_locations(data)


def test_leading_whitespace_before_isa_is_skipped() -> None:
    data = b"\r\n  " + document(STANDARD, "\n").encode()
    assert segments(data)[1:] == body(STANDARD)
    assert located(data)[0] == ("ISA", 1, 4)


def test_compressed_4010_isa_is_read_with_a_defect() -> None:
    compressed = "ISA*00**00**ZZ*SENDERID*ZZ*RECEIVERID*240203*0405*U*00401*000000001*0*T*:~"
    rest = "".join("*".join(seg) + "~" for seg in body(STANDARD))
    reader = SegmentReader((compressed + rest).encode())
    read = list(reader)
    assert reader.delimiters == Delimiters("*", ":", "~", "")
    assert read[0][6] == "SENDERID" and read[0][12] == "00401"
    assert read[1:] == body(STANDARD)
    assert [d.code for d in reader.defects] == ["ISA_NOT_FIXED_WIDTH"]
    assert reader.defects[0].segment_number == 1


@pytest.mark.parametrize("damage", ["shorter", "longer"])
def test_damaged_5010_isa_raises(damage: str) -> None:
    header = isa()
    header = header.replace("SENDERID       ", "SENDERID" if damage == "shorter" else
                            "SENDERID          ")
    with pytest.raises(X12DelimiterError) as caught:
        SegmentReader((header + "GS*HC~").encode())
    assert caught.value.segment_number == 1
    assert caught.value.segment_id == "ISA"


@pytest.mark.parametrize("data", [
    b"",
    b"   \n",
    b"GS*HC*SENDERID*RECEIVERID*20240203*0405*1*X*005010X222A1~",
    b"this is not an X12 file at all",
    BOM,
    b"ISA*00*",
    b"ISA",
], ids=["empty", "blank", "starts-with-gs", "prose", "only-bom", "cut-isa", "bare-isa"])
def test_no_isa_raises_delimiter_error(data: bytes) -> None:
    with pytest.raises(X12DelimiterError):
        SegmentReader(data)


def test_alphanumeric_element_separator_raises() -> None:
    with pytest.raises(X12DelimiterError):
        detect_delimiters(isa().replace("*", "X").encode())


# -- locations and errors --------------------------------------------------------------------


MULTIBYTE = document(STANDARD, "\n").replace("SYNTHETIC SUBMITTER", "SYNTHÉTIC SÜBMITTER €")


def test_offsets_after_multibyte_characters() -> None:
    data = MULTIBYTE.encode()
    assert len(data) > len(MULTIBYTE)  # the test needs multi-byte characters before HI
    assert located(data) == true_locations(data)


def test_error_carries_segment_number_and_byte_offset() -> None:
    data = MULTIBYTE.encode()
    reader = SegmentReader(data)
    for elements in reader:
        if elements[0] == "SV1":
            error = reader.error(X12ElementError, "not a decimal number", segment_id="SV1",
                                 element=2, loop="2400")
            break
    expected = next(loc for loc in true_locations(data) if loc[0] == "SV1")
    assert (error.segment_number, error.byte_offset) == expected[1:]
    assert (error.segment_id, error.element, error.loop) == ("SV1", 2, "2400")
    assert "SV102" in str(error) and "loop 2400" in str(error)
    assert data[error.byte_offset:].startswith(b"SV1*")


def test_defect_records_the_current_location() -> None:
    data = MULTIBYTE.encode()
    reader = SegmentReader(data)
    for elements in reader:
        if elements[0] == "NTE":
            reader.defect("SOME_CODE", "a test defect")
    (defect,) = reader.defects
    expected = next(loc for loc in true_locations(data) if loc[0] == "NTE")
    assert (defect.segment_number, defect.byte_offset) == expected[1:]
    assert defect.to_dict()["code"] == "SOME_CODE"


# Small chunk sizes: segments (and the ISA) straddle chunk boundaries everywhere.
STRADDLING = [1, 2, 7, 13, 64, 106, 107, 111, 127, 199, 256]


@pytest.mark.parametrize("chunk_size", STRADDLING)
def test_small_chunks_give_the_same_segments_and_locations(chunk_size: int) -> None:
    data = document(STANDARD, "\r\n").encode()
    assert segments(data, chunk_size) == segments(data)
    assert located(data, chunk_size) == located(data) == true_locations(data)


@pytest.mark.parametrize("chunk_size", STRADDLING)
def test_small_chunks_give_the_same_segments_with_multibyte_text(chunk_size: int) -> None:
    data = MULTIBYTE.encode()
    assert segments(data, chunk_size) == segments(data)


def test_offsets_when_a_chunk_boundary_splits_a_multibyte_character() -> None:
    data = MULTIBYTE.encode()
    truth = true_locations(data)
    wrong = [size for size in range(1, 400) if located(data, size) != truth]
    assert wrong == []


@pytest.mark.parametrize("chunk_size", [7, 64])
def test_chunk_size_smaller_than_the_isa(chunk_size: int) -> None:
    data = document(STANDARD, "\n").encode()
    assert segments(data, chunk_size) == segments(data)


def test_chunks_straddling_line_breaks_and_missing_terminator() -> None:
    data = document(STANDARD, "\r\n").rstrip("\r\n~").encode()
    for chunk_size in STRADDLING:
        reader = SegmentReader(data, chunk_size)
        assert list(reader) == segments(data)
        assert [d.code for d in reader.defects] == ["NO_FINAL_TERMINATOR"]


# Element text: letters, digits, inner spaces and multi-byte characters, never a delimiter.
ELEMENT_TEXT = st.text(st.sampled_from("AZ09 .-ÉüЖ€𝄞"), max_size=12)
SEGMENT = st.tuples(st.sampled_from(["NTE", "REF", "N3", "K3"]),
                    st.lists(ELEMENT_TEXT, min_size=1, max_size=5)).map(
    lambda seg: [seg[0], *[e.strip(" ") for e in seg[1]]])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(SEGMENT, st.sampled_from(["", "\n", "\r\n"])), min_size=1,
                max_size=60), st.integers(1, 300))
def test_any_chunk_size_gives_the_same_segments_and_locations(
        lines: list[tuple[list[str], str]], chunk_size: int) -> None:
    text = isa() + "".join("*".join(seg) + "~" + newline for seg, newline in lines)
    data = text.encode()
    expected = [seg for seg, _ in lines]
    reader = SegmentReader(data, chunk_size)
    read = []
    locations = []
    for elements in reader:
        read.append(elements)
        locations.append((elements[0], *reader.location()))
    assert read[1:] == expected
    assert locations == true_locations(data)
    assert reader.defects == []


def test_trailing_spaces_do_not_depend_on_the_chunk_size() -> None:
    text = isa() + "\n" + "NTE*ADD*A ~" * 600 + "GE*1*1~\nIEA*1*000000001~\n"
    assert segments(text.encode(), 16) == segments(text.encode())


# -- end of file, encodings ------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["", "\n"])
def test_last_segment_without_terminator(newline: str) -> None:
    text = document(STANDARD, newline).rstrip("\n")
    assert text.endswith("~")
    reader = SegmentReader(text[:-1].encode())
    read = list(reader)
    assert read[-1] == ["IEA", "1", "000000001"]
    assert read[1:] == body(STANDARD)
    (defect,) = reader.defects
    assert defect.code == "NO_FINAL_TERMINATOR"
    assert defect.segment_number == len(read)


def test_whitespace_after_the_last_terminator_is_no_defect() -> None:
    reader = SegmentReader((document(STANDARD) + "\r\n\r\n  ").encode())
    assert list(reader)[-1][0] == "IEA"
    assert reader.defects == []


def test_non_utf8_bytes_are_read_as_windows_1252_with_a_defect() -> None:
    text = document(STANDARD, "\n").replace("SYNTHETIC", "SYNTH\xc9TIC \u2019")
    reader = SegmentReader(text.encode("cp1252"))
    read = list(reader)  # no exception
    assert [d.code for d in reader.defects] == ["NOT_UTF8"]
    name = read[3][3]
    assert name == "SYNTH\u00c9TIC \u2019 SUBMITTER"  # 0xC9 and 0x92 as Windows-1252
    "".join(e for s in read for e in s).encode()  # no lone surrogates: no error
    assert read[4:] == body(STANDARD)[3:]


def test_bytes_undefined_in_windows_1252_are_read_as_latin_1() -> None:
    text = document(STANDARD, "\n").replace("SYNTHETIC", "A\x81B")
    read = list(SegmentReader(text.encode("latin-1")))
    assert read[3][3] == "A\x81B SUBMITTER"


def test_offsets_after_non_utf8_bytes_count_bytes() -> None:
    text = document(STANDARD, "\n").replace("SYNTHETIC", "M\xdcLLER \xdc")
    data = text.encode("latin-1")
    reader = SegmentReader(data, 64)  # small chunks: the bytes straddle chunk ends
    names = []
    for elements in reader:
        if elements[0] == "NM1":
            _, offset = reader.location()
            assert data[offset:offset + 4] == b"NM1*"
            names.append(elements[3])
    assert "M\u00dcLLER \u00dc SUBMITTER" in names


def test_non_utf8_defect_is_reported_once() -> None:
    text = document(STANDARD, "\n").replace("SYNTHETIC", "\xff\xfe")
    reader = SegmentReader(text.encode("latin-1"), 110)
    list(reader)
    assert [d.code for d in reader.defects] == ["NOT_UTF8"]


def test_reads_from_a_path_and_a_binary_stream(tmp_path: Path) -> None:
    data = document(STANDARD, "\n").encode()
    path = tmp_path / "file.x12"
    path.write_bytes(data)
    assert segments(path.read_bytes()) == list(SegmentReader(path)) == list(SegmentReader(
        str(path)))
    with path.open("rb") as stream:
        assert list(SegmentReader(stream)) == segments(data)


def test_a_large_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.x12"
    note = "NTE*ADD*" + "SYNTHETIC NOTE TEXT 0123456789 " * 130 + "~\n"
    count = 20_000_000 // len(note)
    with path.open("w") as out:
        out.write(isa() + "\n")
        out.write(note * count)
    size = path.stat().st_size
    assert size >= 19_000_000
    tracemalloc.start()
    try:
        read = 0
        for elements in SegmentReader(path):
            read += 1
            last = elements
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == count + 1
    assert last[0] == "NTE" and last[2].startswith("SYNTHETIC NOTE TEXT")
    assert peak < size / 2, f"peak {peak} bytes for a {size}-byte file"
