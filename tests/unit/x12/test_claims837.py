"""837P/837I reader and writer: fields in and out, hierarchy, kept segments, limits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12ElementError, X12Error, X12StructureError
from revcycle.x12.read837 import parse_837
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

HEADER = InterchangeHeader(Party("SENDER1"), Party("RECEIVER1"),
                           created=datetime(2026, 11, 2, 9, 15))
SUBMITTER = Submitter("BILLING VENDOR", "SUB1", "OPS DESK", "5555550100")
RECEIVER = Receiver("SIM PAYER", "SIMA1")
ADDRESS = Address("10 ELM ST", "SPRINGFIELD", "IL", "627011234")
BILLING = Provider("2", "ELM CLINIC", npi="1234567893", taxonomy="207Q00000X",
                   tax_id="123456789", tax_id_qualifier="EI", address=ADDRESS)


def _subscriber(member: str = "MBR001") -> Subscriber:
    return Subscriber("TESTER", "ALEX", member, date(1980, 1, 2), "F", address=ADDRESS)


def _claim(pcn: str, *, patient: Patient | None = None, subscriber: Subscriber | None = None,
           lines: int = 2) -> Claim:
    service_lines = [
        ServiceLine("99213", Decimal("80.00"), Decimal("1"), date(2026, 10, 30),
                    modifiers=("25",), diagnosis_pointers=(1, 2), line_control_number=f"{n}A")
        for n in range(1, lines + 1)
    ]
    return Claim(ClaimType.PROFESSIONAL, pcn, Decimal("80.00") * lines, "11", BILLING,
                 subscriber or _subscriber(), Payer("SIM PAYER", "SIMA1"), ("E119", "I10"),
                 service_lines, patient=patient)


def _read(text: str) -> list[Claim]:
    document = X12Reader(text.encode(), {"837": parse_837}).read()
    return [c for body in document.bodies() for c in body.claims]


def test_professional_fields_survive_write_and_read() -> None:
    claim = _claim("PCN1")
    claim.onset_date = date(2026, 10, 1)
    claim.prior_authorization = "AUTH7"
    claim.rendering_provider = Provider("1", "DOC", "PAT", npi="1234567893",
                                        taxonomy="207Q00000X")
    claim.service_facility = Provider("2", "ELM ANNEX", npi="1234567893", address=ADDRESS)
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    (back,) = _read(text)
    assert back == claim
    assert back.service_lines[0].line_control_number == "1A"
    assert back.service_lines[1].diagnosis_pointers == (1, 2)
    assert back.total_charge == Decimal("160")


def test_patient_level_only_for_dependents() -> None:
    subscriber = _subscriber()
    child = Patient("TESTER", "SAM", "19", date(2015, 3, 4), "M", address=ADDRESS)
    claims = [_claim("SELF1", subscriber=subscriber), _claim("KID1", subscriber=subscriber,
                                                             patient=child)]
    text = write_837(claims, HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    hls = [seg.split("*") for seg in text.split("~\n") if seg.startswith("HL*")]
    assert [h[3] for h in hls] == ["20", "22", "22", "23"]
    assert hls[1][4] == "0" and hls[2][4] == "1"  # child code: has a 2000C below it
    assert hls[3][2] == hls[2][1]  # the patient's parent is the second subscriber level
    self_claim, kid_claim = _read(text)
    assert self_claim.patient is None
    assert kid_claim.patient == child
    assert "SBR*P*18*" in text  # subscriber is the patient on the first claim only


def test_replacement_claim_keeps_original_reference() -> None:
    claim = _claim("PCN7")
    claim.frequency_code = "7"
    claim.original_claim_reference = "PAYERCCN123"
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    assert "11:B:7" in text and "REF*F8*PAYERCCN123" in text
    assert _read(text)[0].original_claim_reference == "PAYERCCN123"


def test_institutional_fields_survive_write_and_read() -> None:
    claim = Claim(
        ClaimType.INSTITUTIONAL, "INST1", Decimal("575.25"), "13", BILLING, _subscriber(),
        Payer("SIM PAYER", "SIMA1"), ("R079", "I10", "E119"),
        [ServiceLine("", Decimal("500"), Decimal("1"), date(2026, 10, 30),
                     revenue_code="0450", line_control_number="L1"),
         ServiceLine("80053", Decimal("75.25"), Decimal("1"), date(2026, 10, 31),
                     revenue_code="0300", line_control_number="L2")],
        provider_signature="",
        attending_provider=Provider("1", "DOC", "AMY", npi="1234567893",
                                    taxonomy="207RE0101X"),
        statement_from=date(2026, 10, 30), statement_to=date(2026, 10, 31),
        admission_type="1", admission_source="7", patient_status="01",
        admitting_diagnosis="R079",
    )
    written = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER)
    assert "*005010X223A2~" in written.text
    assert "DTP*434*RD8*20261030-20261031" in written.text
    assert _read(written.text) == [claim]


def test_at_most_5000_claims_per_transaction_set() -> None:
    subscriber = _subscriber()
    claims = [_claim(f"P{n}", subscriber=subscriber, lines=1) for n in range(5001)]
    written = write_837(claims, HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER)
    assert written.text.count("~\nST*837*") == 2
    assert len(written.transaction_control_numbers) == 2
    document = X12Reader(written.text.encode(), {"837": parse_837}).read()
    assert [len(b.claims) for b in document.bodies()] == [5000, 1]
    assert not document.defects  # counts and control numbers are right


def test_smaller_sets_on_request_and_type_mixing_refused() -> None:
    claims = [_claim(f"P{n}") for n in range(5)]
    written = write_837(claims, HEADER, CounterControlNumbers(transaction=41), SUBMITTER,
                        RECEIVER, max_claims_per_set=2)
    assert written.transaction_control_numbers == ["0041", "0042", "0043"]
    institutional = Claim(ClaimType.INSTITUTIONAL, "I1", Decimal(1), "13", BILLING,
                          _subscriber(), Payer("P", "P1"), ("I10",))
    with pytest.raises(X12ElementError):
        write_837([*claims, institutional], HEADER, CounterControlNumbers(), SUBMITTER,
                  RECEIVER)


def test_segments_the_model_does_not_name_are_forwarded(x12_samples: Path) -> None:
    source = x12_samples / "x12/src/tests/resources/837_005010X222A2/demo.cob.example3.A.837"
    (claim,) = X12Reader(source, {"837": parse_837}).read().bodies()[0].claims
    kept = [segment[0] for segment in claim.other_segments]
    assert "SBR" in kept and "OI" in kept  # the other-payer (COB) loop 2320
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    assert "\nSBR*S*01*" in text and "\nOI*" in text
    assert _read(text) == [claim]


def test_stream_yields_the_same_claims_as_a_full_read() -> None:
    claims = [_claim(f"S{n}") for n in range(30)]
    text = write_837(claims, HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER,
                     max_claims_per_set=7).text
    streamed = list(X12Reader(text.encode(), {"837": parse_837}).items())
    assert streamed == _read(text) == claims


@pytest.mark.parametrize(
    ("old", "new", "error", "fragment"),
    [
        ("CLM*PCN1*160**", "CLM*PCN1*1X0**", X12ElementError, "CLM02"),
        ("DTP*472*D8*20261030", "DTP*472*D8*20261399", X12ElementError, "DTP03"),
        ("HI*ABK:E119*ABF:I10~\n", "", X12StructureError, "HI"),
        ("NM1*PR*2*SIM PAYER*****PI*SIMA1~\n", "", X12StructureError, "2010BB"),
        ("SV1*HC:99213:25*80*UN*1***1:2", "SV1*HC:99213:25*80*UN*1***1:Z", X12ElementError,
         "SV107"),
    ],
)
def test_bad_claims_raise_typed_errors_without_values(old: str, new: str,
                                                      error: type[X12Error],
                                                      fragment: str) -> None:
    text = write_837([_claim("PCN1")], HEADER, CounterControlNumbers(), SUBMITTER,
                     RECEIVER).text
    assert old in text
    with pytest.raises(error) as caught:
        _read(text.replace(old, new, 1))
    message = str(caught.value)
    assert fragment in message
    for value in ("TESTER", "MBR001", "19800102", "20261399", "1X0"):
        assert value not in message
    assert caught.value.segment_number and caught.value.byte_offset


def _without(text: str, after: str, *left_out: str) -> str:
    """``text`` without the first of each of ``left_out`` found after ``after``; SE01
    recounted."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    start = next(n for n, s in enumerate(segments) if s.startswith(after))
    for segment in left_out:
        del segments[segments.index(segment, start)]
    st = next(n for n, s in enumerate(segments) if s.startswith("ST*"))
    se = next(n for n, s in enumerate(segments) if s.startswith("SE*"))
    segments[se] = f"SE*{se - st + 1}*{segments[se].split('*')[2]}"
    return "~".join(segments) + "~"


@pytest.mark.parametrize("left_out", [("N3*10 ELM ST",), ("N4*SPRINGFIELD*IL*627011234",),
                                      ("N3*10 ELM ST", "N4*SPRINGFIELD*IL*627011234")],
                         ids=["N4 alone", "N3 alone", "neither"])
def test_payer_address_is_situational_and_read_without_it(left_out: tuple[str, ...]) -> None:
    """2010BB N3 and N4 are situational (X222A1): pyx12 accepts the file, and so do we."""
    payer = Payer("SIM PAYER", "SIMA1", ADDRESS)
    claim = _claim("PCN1")
    claim.payer = payer
    claim.subscriber.address = None
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    damaged = _without(text, "NM1*PR*", *left_out)
    assert pyx12_errors(damaged) == []
    (back,) = _read(damaged)
    address = back.payer.address
    if len(left_out) == 2:
        assert address is None
    else:
        street = "" if left_out[0].startswith("N3") else "10 ELM ST"
        city = "SPRINGFIELD" if left_out[0].startswith("N3") else ""
        assert (address.line1, address.city) == (street, city)
    rewritten = write_837([back], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    assert pyx12_errors(rewritten) == []
    assert _read(rewritten) == [back]


@pytest.mark.parametrize(("after", "loop"), [("NM1*85*", "2010AA"), ("NM1*QC*", "2010CA"),
                                             ("NM1*77*", "2310C")])
def test_n4_without_n3_is_refused_where_the_tr3_requires_n3(after: str, loop: str) -> None:
    claim = _claim("PCN1", patient=Patient("TESTER", "KIM", "19", date(2015, 1, 2), "M",
                                           address=ADDRESS))
    claim.service_facility = Provider("2", "ELM ANNEX", npi="1234567893", address=ADDRESS)
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    damaged = _without(text, after, "N3*10 ELM ST")
    assert pyx12_errors(damaged) != []
    with pytest.raises(X12StructureError, match=f"N3 required.*loop {loop}"):
        _read(damaged)


# -- CLM20 delay reason code ----------------------------------------------------------------


@pytest.mark.parametrize("claim_type", [ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL])
def test_delay_reason_code_survives_write_and_read_and_passes_pyx12(
        claim_type: ClaimType) -> None:
    claim = _claim("LATE1")
    if claim_type is ClaimType.INSTITUTIONAL:
        claim.claim_type, claim.facility_code, claim.provider_signature = claim_type, "13", ""
        claim.statement_from = claim.statement_to = date(2026, 10, 30)
        claim.admission_type, claim.admission_source, claim.patient_status = "1", "7", "01"
        for line in claim.service_lines:
            line.revenue_code, line.diagnosis_pointers, line.modifiers = "0450", (), ()
    claim.delay_reason_code = "7"
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    clm = next(s for s in text.split("~\n") if s.startswith("CLM*")).split("*")
    assert len(clm) == 21 and clm[20] == "7" and not any(clm[10:20])
    assert pyx12_errors(text) == []
    (back,) = _read(text)
    assert back == claim and back.delay_reason_code == "7"
    assert not any(s[0] == "CLM" for s in back.other_segments)  # nothing else was kept


def test_delay_reason_code_and_other_kept_clm_elements_are_apart() -> None:
    claim = _claim("LATE2")
    text = write_837([claim], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    assert _read(text)[0].delay_reason_code == ""  # absent: empty
    clm_at = text.index("CLM*")
    end = text.index("~", clm_at)
    # CLM11 (related causes: an accident) and CLM20 both present in a partner's file
    with_both = text[:end] + "**OA" + "*" * 8 + "*1" + text[end:]
    (back,) = _read(with_both)
    assert back.delay_reason_code == "1"
    assert back.other_segments[0] == ("CLM", "", "OA")  # CLM11 kept, CLM20 not twice
    again = write_837([back], HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    clm = next(s for s in again.split("~\n") if s.startswith("CLM*")).split("*")
    assert (clm[11], clm[20], len(clm)) == ("OA", "1", 21)
    assert _read(again) == [back]
