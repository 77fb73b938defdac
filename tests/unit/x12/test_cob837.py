"""The other-payer loops (2320, 2330A, 2330B, 2430) as model objects: written in TR3 order,
valid for pyx12, and read back into the model -- or kept as segments when unusual."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimBatch,
    ClaimType,
    CobAdjustment,
    LineAdjudication,
    OtherPayer,
    OtherSubscriber,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.reader import read
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import KEPT_COMPONENT, CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

ADDRESS = Address("1 TEST STREET", "TESTTOWN", "NY", "123456789")
PAID_ON = date(2024, 2, 1)


def _claim(claim_type: ClaimType) -> Claim:
    pro = claim_type is ClaimType.PROFESSIONAL
    billing = Provider("2", "SYNTHETIC CLINIC", npi="1234567893", tax_id="123456789",
                       tax_id_qualifier="EI", address=ADDRESS)
    subscriber = Subscriber("SYNTHLAST", "SYNTHFIRST", "MEMBER0002", date(1980, 1, 2), "F",
                            address=ADDRESS, payer_responsibility="S")
    lines = []
    for number, (code, charge) in enumerate((("99213", "100"), ("36415", "20.5")), 1):
        adjudication = LineAdjudication(
            "P0001", Decimal(charge) - Decimal("30.25"), code, Decimal(1), PAID_ON,
            modifiers=("25",) if number == 1 else (),
            revenue_code="" if pro else "0450",
            adjustments=[CobAdjustment("CO", "45", Decimal("20")),
                         CobAdjustment("PR", "2", Decimal("10.25"))],
            remaining_liability=Decimal("10.25"))
        lines.append(ServiceLine(
            code, Decimal(charge), Decimal(1), date(2024, 1, 5),
            diagnosis_pointers=(1,) if pro else (), revenue_code="" if pro else "0450",
            line_control_number=f"LINE{number}", adjudications=[adjudication],
            # 2440 (form identification) kept, after the 2430 in TR3 order
            other_segments=(("LQ", "UT", "01.02"), ("FRM", "1", "Y")) if number == 2 and pro
            else ()))
    other = OtherPayer(
        "P", "18", OtherSubscriber("SYNTHLAST", "MEMBER0001", "SYNTHFIRST", address=ADDRESS,
                                   other_segments=(("REF", "SY", "123456789"),)),
        Payer("SYNTHETIC PRIMARY", "P0001", ADDRESS, (("REF", "2U", "P0001X"),)),
        group_number="GRP01", claim_filing_indicator="CI",
        adjustments=[CobAdjustment("OA", "23", Decimal("0"), Decimal(1))],
        paid_amount=Decimal("60"), remaining_liability=Decimal("20.5"),
        adjudication_date=PAID_ON,
        other_segments=(("MOA", "", "", "MA01"),) if pro else (
            ("MIA", "0", "", "", "", "MA01"),))
    extra = {} if pro else {"statement_from": date(2024, 1, 5), "statement_to": date(2024, 1, 5),
                            "admission_type": "1", "admission_source": "7",
                            "patient_status": "01", "provider_signature": ""}
    return Claim(claim_type, "PCN0001", Decimal("120.5"), "11" if pro else "13", billing,
                 subscriber, Payer("SYNTHETIC SECONDARY", "P0002"), ("J449",), lines,
                 other_payers=[other], **extra)


def _text(claims: list[Claim]) -> str:
    header = InterchangeHeader(Party("S0001"), Party("R0001"), created=datetime(2024, 3, 1, 9))
    return write_837(claims, header, CounterControlNumbers(),
                     Submitter("SYNTHETIC BILLING", "S0001", "SYNTHETIC CONTACT", "5550000000"),
                     Receiver("SYNTHETIC CLEARINGHOUSE", "R0001")).text


def _reread(text: str) -> list[Claim]:
    return [c for b in read(text.encode()).bodies(ClaimBatch) for c in b.claims]


@pytest.mark.parametrize("claim_type", list(ClaimType), ids=lambda t: t.value)
def test_other_payer_loops_round_trip_and_pass_pyx12(claim_type: ClaimType) -> None:
    claim = _claim(claim_type)
    text = _text([claim])
    assert pyx12_errors(text) == []
    assert _reread(text) == [claim]
    tags = [s.strip().split("*")[0] for s in text.split("CLM*", 1)[1].split("~") if s.strip()]
    cob = tags[tags.index("SBR"):tags.index("LX")]
    expected = ["SBR", "CAS", "AMT", "AMT", "OI", "MOA" if claim_type.value == "837P" else "MIA",
                "NM1", "N3", "N4", "REF", "NM1", "N3", "N4", "DTP", "REF"]
    assert cob == expected
    line = tags[tags.index("LX"):tags.index("LX", tags.index("LX") + 1)]
    assert line[-5:] == ["SVD", "CAS", "CAS", "DTP", "AMT"]


def test_two_other_payers_and_adjustments_beyond_six_reasons() -> None:
    claim = _claim(ClaimType.PROFESSIONAL)
    many = [CobAdjustment("CO", str(reason), Decimal("0.5")) for reason in range(1, 9)]
    first = dataclasses.replace(claim.other_payers[0], adjustments=many,
                                paid_amount=Decimal("56"))
    later = dataclasses.replace(first, responsibility="T", adjustments=[], paid_amount=None,
                                remaining_liability=None, adjudication_date=None,
                                payer=Payer("SYNTHETIC TERTIARY", "P0003"))
    claim.other_payers = [first, later]
    text = _text([claim])
    assert pyx12_errors(text) == []
    assert _reread(text) == [claim]
    assert text.count("CAS*CO*") == 2 + 2  # eight reasons in two CAS, and one per line


def _mutated(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(("old", "new"), [
    ("OI***Y***Y", "OI**X*Y***Y"),  # OI02 is not held by the model
    ("NM1*PR*2*SYNTHETIC PRIMARY*****PI*", "NM1*PR*2*SYNTHETIC PRIMARY*****XV*"),  # XV id
    ("SVD*P0001*69.75*HC:99213:25**1", "SVD*P0001*69.75*HC:99213:25:::: DESC**1"),
], ids=["OI02", "2330B-XV", "SVD03-7"])
def test_unusual_loops_stay_kept_and_are_written_back_as_read(old: str, new: str) -> None:
    text = _mutated(_text([_claim(ClaimType.PROFESSIONAL)]), old, new)
    (claim,) = _reread(text)
    if old.startswith("SVD"):
        assert not claim.service_lines[0].adjudications
        assert any(s[0] == "SVD" and KEPT_COMPONENT in s[3] for s in
                   claim.service_lines[0].other_segments)
        assert claim.service_lines[1].adjudications  # its neighbour is still read
    else:
        assert claim.other_payers == []
        assert any(s[0] == "SBR" for s in claim.other_segments)
    assert _reread(_text([claim])) == [claim]
    assert new.split("*", 1)[1].replace(":", KEPT_COMPONENT) in "*".join(
        e for s in (*claim.other_segments, *claim.service_lines[0].other_segments) for e in s)


def test_cob_segments_give_every_value_written_for_the_character_check() -> None:
    from revcycle.x12.cob837 import cob_segments

    claim = _claim(ClaimType.PROFESSIONAL)
    claim.other_payers[0].subscriber.last_name = "SYNTHÉ"
    found = list(cob_segments(claim))
    assert [(loop, line) for _, loop, line in found] == [("2320", None), ("2430", 1),
                                                        ("2430", 2)]
    values = [e for segments, _, _ in found for s in segments for e in s]
    assert "SYNTHÉ" in values and "MEMBER0001" in values and "P0001X" in values
    assert "20240201" in values
