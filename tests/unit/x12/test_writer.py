"""Writer primitives: element formatting, SegmentWriter, write_interchange envelopes; and
where write_837 puts the provider taxonomy (checked with pyx12)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12ElementError
from revcycle.x12.tokenizer import ISA_LENGTH, Delimiters, SegmentReader
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import (
    KEPT_COMPONENT,
    KEPT_REPETITION,
    CounterControlNumbers,
    InterchangeHeader,
    Party,
    SegmentWriter,
    d8,
    keep_segment,
    money,
    quantity,
    rd8,
    write_interchange,
)
from tests.x12_validation import pyx12_errors

CREATED = datetime(2024, 2, 3, 4, 5)
HEADER = InterchangeHeader(Party("SENDERID"), Party("RECEIVERID", "30"), usage_indicator="T",
                           created=CREATED)


@pytest.mark.parametrize(("amount", "text"), [
    ("100.00", "100"),
    ("100", "100"),
    ("0.50", "0.5"),
    ("12.34", "12.34"),
    ("-12.30", "-12.3"),
    ("-0.01", "-0.01"),
    ("0", "0"),
    ("0.00", "0"),
    ("-0.00", "0"),
    ("1E+2", "100"),
    ("2.5E+3", "2500"),
    ("1.5E-7", "0.00000015"),
    ("1000000.10", "1000000.1"),
])
def test_money(amount: str, text: str) -> None:
    assert money(Decimal(amount)) == text
    assert quantity(Decimal(amount)) == text
    assert Decimal(text) == Decimal(amount)  # what a reader gets back is the same value


def test_dates() -> None:
    assert d8(date(2024, 1, 5)) == "20240105"
    assert rd8(date(2023, 12, 31), date(2024, 1, 2)) == "20231231-20240102"


# -- SegmentWriter -----------------------------------------------------------------------


def test_add_drops_trailing_empty_elements_only() -> None:
    w = SegmentWriter(Delimiters())
    w.add("NM1", "41", "", "NAME", "", "")
    w.add("REF", "", "")
    w.add("PER", "IC", "", "TE", "5550000000")
    assert w.segments == ["NM1*41**NAME", "REF", "PER*IC**TE*5550000000"]
    w.check()


def test_composite_drops_trailing_empty_components_only() -> None:
    w = SegmentWriter(Delimiters())
    w.add("SV1", w.composite("HC", "99213", "", "", ""), "1")
    w.add("SV1", w.composite("HC", "99213", "", "25"), "100")
    assert w.segments == ["SV1*HC:99213*1", "SV1*HC:99213::25*100"]
    w.check()


def test_an_unused_composite_is_caught_by_check() -> None:
    # Separators are counted when written on purpose; a discarded composite breaks the count,
    # which check() reports rather than risk a miscount hiding a smuggled delimiter.
    w = SegmentWriter(Delimiters())
    w.composite("HC", "99213")
    w.add("SV1", "100")
    with pytest.raises(X12ElementError):
        w.check()


def test_segment_writer_uses_its_delimiters() -> None:
    w = SegmentWriter(Delimiters("|", ">", "\n", "^"))
    w.add("SV1", w.composite("HC", "99213", "25"), "100", "", "")
    assert w.segments == ["SV1|HC>99213>25|100"]
    w.check()


@pytest.mark.parametrize("value", ["A*B", "A:B", "A~B", "A^B", "*", "TRAILING~"])
def test_check_refuses_a_value_with_a_delimiter(value: str) -> None:
    w = SegmentWriter(Delimiters())
    w.add("NM1", "41", "2", value)
    with pytest.raises(X12ElementError):
        w.check()


def test_check_refuses_a_delimiter_inside_a_component() -> None:
    w = SegmentWriter(Delimiters())
    w.add("SV1", w.composite("HC", "992:13"))
    with pytest.raises(X12ElementError):
        w.check()


def test_empty_composite_is_accepted() -> None:
    w = SegmentWriter(Delimiters())
    w.add("SV1", w.composite("HC", "99213"), "100", "UN", "1", "", "", w.composite())
    assert w.segments == ["SV1*HC:99213*100*UN*1"]
    w.check()


def test_kept_segment_is_written_with_the_files_delimiters() -> None:
    read = ["K3", "A:B", "C"]
    kept = keep_segment(read, Delimiters())
    assert kept == ("K3", f"A{KEPT_COMPONENT}B", "C")
    w = SegmentWriter(Delimiters("|", ">", "~", "^"))
    w.add_kept(kept)
    assert w.segments == ["K3|A>B|C"]
    w.check()


def test_kept_segment_with_a_repetition_is_written() -> None:
    kept = keep_segment(["NTE", "ADD", "FIRST^SECOND"], Delimiters())
    assert kept[2] == f"FIRST{KEPT_REPETITION}SECOND"
    w = SegmentWriter(Delimiters())
    w.add_kept(kept)
    assert w.segments == ["NTE*ADD*FIRST^SECOND"]
    w.check()


# -- write_interchange ---------------------------------------------------------------------


def body(notes: int):
    def write(w: SegmentWriter) -> None:
        w.add("BGN", "00", "REF01", "20240203")
        for n in range(notes):
            w.add("NTE", "ADD", f"NOTE {n}", "")
    return write


def lines(text: str, d: Delimiters | None = None) -> list[list[str]]:
    d = d or Delimiters()
    return [seg.strip().split(d.element) for seg in text.split(d.segment) if seg.strip()]


def test_envelope_counts_and_control_numbers() -> None:
    written = write_interchange(HEADER, CounterControlNumbers(7, 42, 90), "837",
                                "005010X222A1", [body(0), body(3), body(1)])
    segs = lines(written.text)
    assert written.interchange_control_number == "000000007"
    assert written.group_control_number == "42"
    assert written.transaction_control_numbers == ["0090", "0091", "0092"]
    isa, gs, *sets, ge, iea = segs
    assert isa[13] == "000000007" and iea == ["IEA", "1", "000000007"]
    assert gs[6] == "42" and ge == ["GE", "3", "42"]
    assert gs[1] == "HC" and gs[8] == "005010X222A1" and gs[4] == "20240203" and gs[5] == "0405"
    assert isa[9] == "240203" and isa[10] == "0405" and isa[15] == "T" and isa[12] == "00501"
    # SE01 counts ST to SE; SE02 repeats ST02.
    starts = [n for n, s in enumerate(sets) if s[0] == "ST"]
    ends = [n for n, s in enumerate(sets) if s[0] == "SE"]
    assert len(starts) == len(ends) == 3
    for start, end, control, notes in zip(starts, ends, ["0090", "0091", "0092"], [0, 3, 1],
                                          strict=True):
        assert sets[start] == ["ST", "837", control, "005010X222A1"]
        assert sets[end] == ["SE", str(end - start + 1), control]
        assert end - start + 1 == notes + 3
    doc = X12Reader(written.text.encode(), {}).read()
    assert doc.defects == []
    assert [t.segment_count for t in doc.transactions()] == [3, 6, 4]


def test_isa_is_fixed_width() -> None:
    header = InterchangeHeader(Party("S"), Party("R", "01"), created=CREATED)
    written = write_interchange(header, CounterControlNumbers(), "835", "005010X221A1",
                                [body(1)])
    isa = written.text[:written.text.index("~") + 1]
    assert len(isa) == ISA_LENGTH
    fields = isa[:-1].split("*")
    assert [len(f) for f in fields[1:]] == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert fields[6] == "S".ljust(15) and fields[7] == "01"
    assert lines(written.text)[1][1] == "HP"


def test_custom_delimiters_round_trip() -> None:
    d = Delimiters("|", ">", "'", "!")
    header = InterchangeHeader(Party("SENDERID"), Party("RECEIVERID"), delimiters=d,
                               created=CREATED)
    written = write_interchange(header, CounterControlNumbers(), "837", "005010X222A1",
                                [body(2)])
    reader = SegmentReader(written.text.encode())
    segs = list(reader)
    assert reader.delimiters == d
    assert ["NTE", "ADD", "NOTE 1"] in segs
    assert segs[0][11] == "!" and segs[0][16] == ">"


def test_no_repetition_separator_writes_u() -> None:
    header = InterchangeHeader(Party("S"), Party("R"), delimiters=Delimiters("*", ":", "~", ""),
                               created=CREATED)
    written = write_interchange(header, CounterControlNumbers(), "837", "005010X222A1",
                                [body(0)])
    assert lines(written.text)[0][11] == "U"


def test_control_numbers_are_unique_across_calls() -> None:
    numbers = CounterControlNumbers()
    first = write_interchange(HEADER, numbers, "837", "005010X222A1", [body(0), body(0)])
    second = write_interchange(HEADER, numbers, "837", "005010X222A1", [body(0)])
    assert first.interchange_control_number == "000000001"
    assert second.interchange_control_number == "000000002"
    assert (first.group_control_number, second.group_control_number) == ("1", "2")
    assert first.transaction_control_numbers + second.transaction_control_numbers == [
        "0001", "0002", "0003"]
    assert lines(second.text)[0][13] == "000000002"


def test_control_number_beyond_nine_digits_raises() -> None:
    with pytest.raises(X12ElementError):
        write_interchange(HEADER, CounterControlNumbers(interchange=10**9), "837",
                          "005010X222A1", [body(0)])
    written = write_interchange(HEADER, CounterControlNumbers(interchange=10**9 - 1), "837",
                                "005010X222A1", [body(0)])
    assert written.interchange_control_number == "999999999"


PIPE = Delimiters("|", "^", "~", ":")


@pytest.mark.parametrize(("delimiters", "value", "located"), [
    (Delimiters(), "A*B", False),
    (Delimiters(), "A:B", False),
    (Delimiters(), "A~B", True),
    (Delimiters(), "A^B", True),
    (PIPE, "A|B", False),
    (PIPE, "A^B", False),
    (PIPE, "A~B", True),
    (PIPE, "A:B", True),
], ids=["star", "colon", "tilde", "caret", "pipe-pipe", "pipe-caret", "pipe-tilde",
        "pipe-colon"])
def test_value_with_a_delimiter_raises_instead_of_writing(
        delimiters: Delimiters, value: str, located: bool) -> None:
    def bad(w: SegmentWriter) -> None:
        w.add("BGN", "00", "REF01")
        w.add("NM1", "IL", "1", value)

    header = InterchangeHeader(Party("S"), Party("R"), delimiters=delimiters, created=CREATED)
    with pytest.raises(X12ElementError) as caught:
        write_interchange(header, CounterControlNumbers(), "837", "005010X222A1", [bad])
    assert value not in str(caught.value)
    if located:  # a smuggled terminator or repetition separator is found in its segment
        assert caught.value.segment_number == 3  # ST, BGN, NM1


def test_trailing_empty_elements_are_dropped_in_the_file() -> None:
    written = write_interchange(HEADER, CounterControlNumbers(), "837", "005010X222A1",
                                [body(1)])
    assert "NTE*ADD*NOTE 0~" in written.text
    assert "**~" not in written.text and "*~" not in written.text


@pytest.mark.parametrize("party", [Party("SEND*ER"), Party("SENDER~"),
                                   Party("SENDER", application_code="APP*1")])
def test_party_with_a_delimiter_raises(party: Party) -> None:
    header = InterchangeHeader(party, Party("R"), created=CREATED)
    with pytest.raises(X12ElementError):
        write_interchange(header, CounterControlNumbers(), "837", "005010X222A1", [body(0)])


def test_party_id_longer_than_fifteen_raises() -> None:
    header = InterchangeHeader(Party("S" * 16), Party("R"), created=CREATED)
    with pytest.raises(X12ElementError):
        write_interchange(header, CounterControlNumbers(), "837", "005010X222A1", [body(0)])


# -- write_837: segments only where the TR3 has them ------------------------------------------


def _claim(claim_type: ClaimType, **providers: Provider) -> Claim:
    address = Address("1 TEST STREET", "TESTTOWN", "NY", "123456789")
    billing = Provider("2", "SYNTHETIC CLINIC", npi="1234567893", tax_id="123456789",
                       tax_id_qualifier="EI", address=address)
    subscriber = Subscriber("SYNTHLAST", "SYNTHFIRST", "MEMBER0001", date(1980, 1, 2), "F",
                            address=address)
    pro = claim_type is ClaimType.PROFESSIONAL
    line = ServiceLine("99213", Decimal(100), Decimal(1), date(2024, 1, 5),
                       diagnosis_pointers=(1,) if pro else (),
                       revenue_code="" if pro else "0450")
    extra = {} if pro else {"statement_from": date(2024, 1, 5), "statement_to": date(2024, 1, 5),
                            "admission_type": "1", "admission_source": "7",
                            "patient_status": "01", "provider_signature": ""}
    return Claim(claim_type, "PCN0001", Decimal(100), "11" if pro else "13", billing,
                 subscriber, Payer("SYNTHETIC PAYER", "P0001"), ("J449",), [line],
                 **extra, **providers)


def _837(claim: Claim) -> str:
    return write_837([claim], HEADER, CounterControlNumbers(),
                     Submitter("SYNTHETIC BILLING", "S0001", "SYNTHETIC CONTACT", "5550000000"),
                     Receiver("SYNTHETIC CLEARINGHOUSE", "R0001")).text


DOCTOR = Provider("1", "SYNTHDOC", "ANNA", npi="1234567893", taxonomy="207Q00000X")
FACILITY = Provider("2", "SYNTHETIC FACILITY", npi="1234567893", taxonomy="261QA1903X",
                    address=Address("2 TEST STREET", "TESTTOWN", "NY", "123456789"))


@pytest.mark.parametrize(("claim_type", "providers"), [
    (ClaimType.PROFESSIONAL, {"rendering_provider": DOCTOR}),
    (ClaimType.INSTITUTIONAL, {"attending_provider": DOCTOR}),
], ids=["837P-2310B", "837I-2310A"])
def test_provider_taxonomy_is_written_where_the_tr3_has_prv(
        claim_type: ClaimType, providers: dict[str, Provider]) -> None:
    text = _837(_claim(claim_type, **providers))
    assert "PRV*" in text.split("CLM*")[1]
    assert pyx12_errors(text) == []


@pytest.mark.parametrize(("claim_type", "providers"), [
    (ClaimType.PROFESSIONAL, {"service_facility": FACILITY}),
    (ClaimType.INSTITUTIONAL, {"rendering_provider": DOCTOR}),
    (ClaimType.INSTITUTIONAL, {"service_facility": FACILITY}),
], ids=["837P-2310C", "837I-2310D", "837I-2310E"])
def test_no_prv_where_the_tr3_has_none(claim_type: ClaimType,
                                       providers: dict[str, Provider]) -> None:
    assert pyx12_errors(_837(_claim(claim_type, **providers))) == []
