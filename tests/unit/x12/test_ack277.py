"""277CA reader and writer: the corpus, verdicts, round trips, pyx12, malformed input."""

from __future__ import annotations

import copy
import random
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.model.acknowledgment import (
    ClaimAckReport,
    ClaimStatus,
    Entity,
    EntityStatus,
    LineStatus,
    StatusInfo,
)
from revcycle.x12.ack277 import parse_277, write_277ca
from revcycle.x12.ack999 import parse_999
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import (
    X12ElementError,
    X12Error,
    X12StructureError,
    X12UnsupportedError,
)
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.unit.x12.test_ack999 import corpus_files
from tests.x12_validation import pyx12_errors

PARSERS = {"999": parse_999, "277": parse_277}
HEADER = InterchangeHeader(Party("PAYERSIM"), Party("BILLER1"), created=datetime(2026, 11, 4, 7))
FOLDER = "x12-parser/src/test/resources/277_5010/"
REJECTED = FOLDER + "x12_277CA_rejected.txt"
ACCEPTED = FOLDER + "x12_277CA_accepted.txt"
X212 = FOLDER + "x12_277_x212.txt"
X212_DEPENDENT = "x12/src/tests/resources/277_005010X212/claim-level-status.277"
DAY = date(2026, 11, 3)


def _read(source: str | bytes | Path) -> list[ClaimAckReport]:
    if isinstance(source, str):
        source = source.encode()
    return X12Reader(source, PARSERS).read().bodies(ClaimAckReport)


def _write(reports: list[ClaimAckReport]) -> str:
    return write_277ca(reports, HEADER, CounterControlNumbers()).text


# --- the public corpus ----------------------------------------------------------------


def test_every_readable_277_in_the_corpus_reads(x12_samples: Path) -> None:
    files = corpus_files(x12_samples, "277")
    assert len(files) >= 8
    for path, sets in files:
        reports = _read(path)
        assert len(reports) == sets, path.name
        for report in reports:
            assert report.source is not None and report.receiver is not None
            assert all(claim.statuses for claim in report.claims)


def test_rejected_277ca_gives_a_rejected_claim(x12_samples: Path) -> None:
    (report,) = _read(x12_samples / REJECTED)
    assert (report.structure_code, report.transaction_type) == ("0085", "TH")
    assert report.source is not None and report.source.id == "141797357"
    assert (report.source_trace, report.received_date, report.process_date) == (
        "000001120", date(2011, 3, 11), date(2011, 3, 11))
    receiver = report.receiver
    assert receiver is not None
    assert receiver.statuses == [StatusInfo("A1", "20")]
    assert (receiver.accepted_quantity, receiver.accepted_amount) == (1, Decimal("199.14"))
    (claim,) = report.claims
    assert claim.statuses == [StatusInfo("A7", "562", "85")]  # '|' component separator
    assert claim.rejected and not claim.accepted
    assert (claim.effective_date, claim.action_code, claim.total_charge) == (
        date(2011, 3, 11), "WQ", Decimal("199.14"))
    assert (claim.payer_claim_control_number, claim.bill_type) == ("1107000000001120", "731")
    assert (claim.service_date, claim.service_date_end) == (date(2009, 3, 11), None)
    assert claim.billing_provider is report.billing_providers[0]
    assert claim.billing_provider_id == "123456789"
    assert claim.provider_statuses == []
    assert claim.patient is not None and claim.patient.entity_code == "QC"


def test_accepted_277ca_gives_an_accepted_claim(x12_samples: Path) -> None:
    (report,) = _read(x12_samples / ACCEPTED)
    (claim,) = report.claims
    assert claim.statuses == [StatusInfo("A2", "20")]
    assert claim.accepted and not claim.rejected
    assert claim.patient_control_number == "5781"
    assert claim.payer_claim_control_number == "1107000000014420"
    assert claim.billing_provider_id == "1234567890"


def test_277_x212_claim_statuses_are_read(x12_samples: Path) -> None:
    (report,) = _read(x12_samples / X212)
    # Eight 2000A loops repeating one payer and receiver make one report.
    assert len(report.claims) == 8 and len(report.billing_providers) == 8
    first = report.claims[0]
    assert first.categories == ("A1",) and first.accepted
    assert first.statuses[0].message == "PAYER ACKNOWLEDGED RECEIPT OF THE CLAIM"
    assert first.clearinghouse_trace == "12345"
    assert first.other_segments == (("REF", "EJ", "12345"),)
    assert first.patient is not None and first.patient.entity_code == "IL"


def test_277_x212_dependent_claim_keeps_its_subscriber(x12_samples: Path) -> None:
    (report,) = _read(x12_samples / X212_DEPENDENT)
    claim = report.claims[-1]
    assert claim.patient is not None and claim.patient.entity_code == "QC"
    assert claim.subscriber is not None and claim.subscriber.entity_code == "IL"
    assert not claim.accepted and not claim.rejected  # F2: finalized, not an ack
    (line,) = claim.line_statuses
    assert (line.procedure_code, line.charge, line.paid, line.units) == (
        "99203", Decimal("150.00"), Decimal("0.00"), Decimal("1.00"))
    assert line.statuses == [StatusInfo("F2", "88", "QC")]


def test_corpus_277cas_survive_write_and_read(x12_samples: Path) -> None:
    for name in (REJECTED, ACCEPTED):
        reports = _read(x12_samples / name)
        assert _read(_write(reports)) == reports, name


# --- synthetic 277CAs through pyx12 ---------------------------------------------------


def _claim(rng: random.Random, number: int, provider: EntityStatus) -> ClaimStatus:
    rejected = rng.random() < 0.4
    if rejected:
        statuses = [StatusInfo("A7", "562", "85"), StatusInfo("A7", "21", "85")]
        if rng.random() < 0.5:
            statuses.append(StatusInfo("A3", "33", "QC", segment=1,
                                       message="SUBSCRIBER ID INVALID"))
    else:
        statuses = [StatusInfo(rng.choice(["A1", "A2"]), rng.choice(["19", "20"]))]
    lines = [
        LineStatus(
            procedure_code=rng.choice(["99213", "99214", "87880"]),
            charge=Decimal(rng.randint(40, 300)) + Decimal("0.25"),
            statuses=[StatusInfo("A7", "453", "85")] if rejected else [StatusInfo("A2", "20")],
            modifiers=rng.choice([(), ("25",), ("59", "GT")]),
            units=Decimal(rng.randint(1, 3)),
            effective_date=DAY,
            action_code="U",
            line_control_number=f"L{number}-{n}",
            service_date=date(2026, 10, rng.randint(1, 30)),
        )
        for n in range(rng.randint(0, 3))
    ]
    start = date(2026, 10, rng.randint(1, 20))
    return ClaimStatus(
        patient_control_number=f"PCN{number:05d}",
        statuses=statuses,
        effective_date=DAY,
        action_code="U" if rejected else "WQ",
        total_charge=sum((line.charge for line in lines), Decimal("100.00")),
        payer_claim_control_number="" if rejected else f"PAYER{number:08d}",
        clearinghouse_trace=rng.choice(["", f"CH{number}"]),
        bill_type=rng.choice(["", "131"]),
        service_date=start,
        service_date_end=rng.choice([None, date(2026, 10, 25)]),
        patient=Entity("QC", f"PATIENT{number}", "1", first_name="TEST",
                       id_qualifier="MI", id=f"M{number:07d}"),
        billing_provider=provider,
        line_statuses=lines,
    )


def _report(rng: random.Random, providers: int) -> ClaimAckReport:
    report = ClaimAckReport(
        reference=f"BATCH{rng.randint(1, 9999)}", created=DAY, time="0700",
        source=Entity("PR", "SIM PAYER", "2", id_qualifier="PI", id="SIMA1"),
        source_trace="ICN0001", received_date=DAY, process_date=DAY,
    )
    number = 0
    for index in range(providers):
        provider = EntityStatus(
            Entity("85", f"CLINIC {index}", "2", id_qualifier="XX", id=f"17000000{index:02d}"),
            trace=f"PROVTRACE{index}", statuses=[StatusInfo("A1", "20")], action_code="WQ",
            secondary_id_qualifier=rng.choice(["", "TJ"]), secondary_id="",
        )
        if provider.secondary_id_qualifier:
            provider.secondary_id = "123456789"
        report.billing_providers.append(provider)
        for _ in range(rng.randint(1, 4)):
            number += 1
            report.add(_claim(rng, number, provider))
        mine = [c for c in report.claims if c.billing_provider is provider]
        provider.total_charge = sum((c.total_charge or Decimal(0) for c in mine), Decimal(0))
        provider.accepted_quantity = sum(1 for c in mine if c.accepted)
        provider.rejected_quantity = len(mine) - provider.accepted_quantity
        provider.accepted_amount = sum((c.total_charge or Decimal(0) for c in mine
                                        if c.accepted), Decimal(0))
    accepted = [c for c in report.claims if c.accepted]
    report.receiver = EntityStatus(
        Entity("41", "BILLING VENDOR", "2", id_qualifier="46", id="ETIN01"),
        trace="BATCH-TRACE", statuses=[StatusInfo("A1", "19")], effective_date=DAY,
        action_code="WQ",
        total_charge=sum((c.total_charge or Decimal(0) for c in report.claims), Decimal(0)),
        accepted_quantity=len(accepted), rejected_quantity=len(report.claims) - len(accepted),
        accepted_amount=sum((c.total_charge or Decimal(0) for c in accepted), Decimal(0)),
        rejected_amount=Decimal("0"),
    )
    return report


@pytest.mark.parametrize("seed", range(6))
def test_synthetic_277cas_pass_pyx12(seed: int) -> None:
    rng = random.Random(seed)
    reports = [_report(rng, providers=rng.randint(2, 3)), _report(rng, providers=1)]
    claims = [c for r in reports for c in r.claims]
    assert any(c.rejected for c in claims) and any(c.accepted for c in claims)
    assert any(c.line_statuses for c in claims)
    text = _write(reports)
    assert pyx12_errors(text) == []
    assert _read(text) == reports


def test_statuses_keep_their_stc_grouping_and_message() -> None:
    report = _report(random.Random(7), providers=1)
    claim = report.claims[0]
    claim.statuses = [StatusInfo("A3", "21", "85"), StatusInfo("A7", "562", "85"),
                      StatusInfo("A7", "453", "QC", segment=1, message="CHECK NPI")]
    claim.action_code = "U"
    text = _write([report])
    assert "STC*A3:21:85*20261103*U*" in text
    assert "*A7:562:85~" in text and "CHECK NPI~" in text
    (read,) = _read(text)
    assert read.claims[0].statuses == claim.statuses
    assert read.claims[0].rejected


def test_items_stream_claims_with_their_provider() -> None:
    report = _report(random.Random(3), providers=2)
    items = list(X12Reader(_write([report]).encode(), {"277": parse_277}).items())
    assert [c.patient_control_number for c in items] == [
        c.patient_control_number for c in report.claims]
    assert [c.billing_provider_id for c in items] == [
        c.billing_provider_id for c in report.claims]


# --- malformed input and refused output ----------------------------------------------


@pytest.mark.parametrize(("old", "new", "error", "where"), [
    ("STC*A7|562|85*20110311", "STC*A7|562|85*20111311", X12ElementError, "STC02"),
    ("STC*A7|562|85*20110311", "STC*A7*20110311", X12ElementError, "STC01"),
    ("STC*A7|562|85*20110311*WQ*199.14", "STC*A7|562|85*20110311*WQ*1X9", X12ElementError,
     "STC04"),
    ("TRN*2*3920394930203", "TRN*2", X12ElementError, "TRN02"),
    ("DTP*472*D8*20090311", "DTP*472*D8*2009031", X12ElementError, "DTP03"),
    ("DTP*472*D8*20090311", "DTP*472*XX*20090311", X12ElementError, "DTP02"),
    ("DTP*472*D8*20090311", "DTP*472*RD8*20090311", X12ElementError, "DTP03"),
    ("DTP*050*D8*20110311", "DTP*050*D8*2011", X12ElementError, "DTP03"),
    ("BHT*0085*08*3920394930203*20110311", "BHT*0085*08*3920394930203*2011", X12ElementError,
     "BHT04"),
    ("QTY*90*1", "QTY*90*1.5", X12ElementError, "QTY02"),
    ("NM1*85*2*PROVLNAME*****XX*123456789~", "", X12StructureError, "2100C"),
    ("NM1*QC*1*CLILNAME*CLIFNAME*CLIMI***MI*XX99999X~", "", X12StructureError, "2100D"),
    ("HL*4*3*PT", "HL*4*3*ZZ", X12StructureError, "HL03"),
    ("HL*3*2*19*1", "HL*3*2*PT", X12StructureError, "HL03"),
    ("NM1*QC*1*CLILNAME", "NM1*QC*1*", X12ElementError, "NM103"),
    ("BHT*0085*08*3920394930203*20110311*051225*TH~", "", X12StructureError, "BHT"),
])
def test_malformed_277_raises_typed_errors(x12_samples: Path, old: str, new: str,
                                          error: type[X12Error], where: str) -> None:
    text = (x12_samples / REJECTED).read_text()
    assert old in text
    with pytest.raises(error) as caught:
        _read(text.replace(old, new, 1))
    message = str(caught.value)
    assert where in message
    for value in ("3920394930203", "CLILNAME", "XX99999X", "20090311", "199.14"):
        assert value not in message


def test_a_second_different_payer_in_one_set_is_refused(x12_samples: Path) -> None:
    text = (x12_samples / REJECTED).read_text()
    body_start, body_end = text.index("HL*1**20*1"), text.index("SE*")
    second = text[body_start:body_end].replace("HL*1**20*1", "HL*5**20*1").replace(
        "FI*141797357", "FI*999999999")
    with pytest.raises(X12UnsupportedError):
        _read(text[:body_end] + second + text[body_end:])
    same = text[body_start:body_end].replace("HL*1**20*1", "HL*5**20*1")
    (report,) = _read(text[:body_end] + same + text[body_end:])
    assert len(report.claims) == 2 and report.source is not None


def test_writer_refuses_what_a_277ca_cannot_carry() -> None:
    base = _report(random.Random(11), providers=2)
    cases = []
    paid = copy.deepcopy(base)
    paid.claims[0].line_statuses.append(LineStatus("99213", Decimal(10), [StatusInfo("A2", "20")],
                                                   paid=Decimal(5), effective_date=DAY,
                                                   action_code="U"))
    cases.append((paid, X12ElementError))
    stranger = copy.deepcopy(base)
    stranger.claims[0].billing_provider = EntityStatus(Entity("85", "ELSEWHERE", "2", id="1"))
    cases.append((stranger, X12StructureError))
    crowded = copy.deepcopy(base)
    crowded.claims[0].statuses = [StatusInfo("A7", "21")] * 4
    cases.append((crowded, X12ElementError))
    empty_provider = copy.deepcopy(base)
    empty_provider.billing_providers.append(EntityStatus(Entity("85", "IDLE", "2", "", "",
                                                                "", "", "XX", "1")))
    cases.append((empty_provider, X12StructureError))
    dependent = copy.deepcopy(base)
    dependent.claims[0].subscriber = Entity("IL", "SUBSCRIBER", "1", id="M1")
    cases.append((dependent, X12ElementError))
    undated = copy.deepcopy(base)
    undated.claims[0].effective_date = None
    cases.append((undated, X12ElementError))
    for report, error in cases:
        with pytest.raises(error):
            _write([report])


def test_damaged_277s_raise_only_x12_errors(x12_samples: Path) -> None:
    """Random cuts and swaps in real files: either read, or fail with a typed error."""
    originals = [path.read_text() for path, _ in corpus_files(x12_samples, "277")]
    rng = random.Random(277)
    read = refused = 0
    for _ in range(600):
        text = list(rng.choice(originals))
        start = text.index("ST*") if "ST*" in text else 0
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(start, len(text))
            if rng.random() < 0.5:
                del text[at]
            else:
                text[at] = rng.choice("*:~|X0A9- ")
        try:
            _read("".join(text))
            read += 1
        except X12Error:  # anything else (IndexError, ValueError, ...) fails the test
            refused += 1
    assert read and refused
