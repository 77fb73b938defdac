"""The 835 codec: the public corpus, round trips, synthetic remittances pyx12 accepts,
strict values, and the balancing rules."""

from __future__ import annotations

import contextlib
import csv
import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.model.claim import Address
from revcycle.model.remittance import (
    Adjustment,
    ClaimPayment,
    Contact,
    Entity,
    ProviderAdjustment,
    Remittance,
    RemittancePayee,
    RemittancePayer,
    ServicePayment,
    balance_problems,
)
from revcycle.x12.envelope import X12Document, X12Reader
from revcycle.x12.errors import (
    X12DelimiterError,
    X12ElementError,
    X12EnvelopeError,
    X12Error,
    X12StructureError,
)
from revcycle.x12.remit835 import parse_835, write_835
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

PARSERS = {"835": parse_835}
HEADER = InterchangeHeader(Party("SENDER01"), Party("RECEIVER01"), usage_indicator="T",
                           created=datetime(2024, 3, 5, 10, 30))
CENT = Decimal("0.01")


def read(source: bytes | str | Path) -> X12Document:
    if isinstance(source, str):
        source = source.encode()
    return X12Reader(source, PARSERS).read()


def remittances(source: bytes | str | Path) -> list[Remittance]:
    return read(source).bodies(Remittance)


def write(items: list[Remittance]) -> str:
    return write_835(items, HEADER, CounterControlNumbers()).text


# --------------------------------------------------------------------- synthetic builder


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def _paid_line(rng: random.Random, n: int) -> ServicePayment:
    """A line priced at an allowed amount, with deductible, coinsurance and copay."""
    charge = _money(rng, 5_000, 40_000)
    allowed = (charge * Decimal(rng.randint(50, 90)) / 100).quantize(CENT)
    deductible = _money(rng, 0, int(allowed * 30))
    coinsurance = ((allowed - deductible) * Decimal("0.2")).quantize(CENT)
    copay = Decimal(rng.choice((0, 10, 25)))
    adjustments = [Adjustment("CO", "45", charge - allowed)]
    adjustments += [Adjustment("PR", code, amount)
                    for code, amount in (("1", deductible), ("2", coinsurance), ("3", copay))
                    if amount]
    paid = allowed - deductible - coinsurance - copay
    return ServicePayment(
        procedure_code=rng.choice(("99213", "99214", "80053", "93000", "71046")),
        charge=charge, paid=paid,
        modifiers=rng.choice(((), ("25",), ("59", "RT"))),
        units_paid=Decimal(1), service_date=date(2024, 1, 10) + timedelta(days=n),
        adjustments=adjustments, line_control_number=f"LN{n:04d}", allowed_amount=allowed)


def _claim(lines: list[ServicePayment], number: str, status: str = "1",
           **extra: object) -> ClaimPayment:
    charge = sum((ln.charge for ln in lines), Decimal(0))
    paid = sum((ln.paid for ln in lines), Decimal(0))
    responsibility = sum((a.amount for ln in lines for a in ln.adjustments
                          if a.group_code == "PR"), Decimal(0))
    fields: dict = {
        "patient_control_number": f"PCN{number}", "status_code": status, "charge": charge,
        "paid": paid, "patient_responsibility": responsibility,
        "claim_filing_indicator": "12", "payer_claim_control_number": f"PY{number}0000",
        "facility_code": "11", "frequency_code": "1",
        "patient": Entity("1", "TESTPATIENT", "ALPHA", id_qualifier="MI", id=f"XZ{number}"),
        "service_provider": Entity("1", "TESTDOCTOR", "BETA", id_qualifier="XX",
                                   id="1234567893"),
        "service_payments": lines, "statement_from": date(2024, 1, 10),
        "statement_to": date(2024, 1, 31), "received_date": date(2024, 2, 2),
    }
    fields.update(extra)
    return ClaimPayment(**fields)


def _negated(claim: ClaimPayment) -> ClaimPayment:
    """The reversal (CLP02 22) of a claim payment: every amount negated."""
    def lines() -> list[ServicePayment]:
        return [replace(ln, charge=-ln.charge, paid=-ln.paid,
                        allowed_amount=-ln.allowed_amount if ln.allowed_amount else None,
                        adjustments=[replace(a, amount=-a.amount) for a in ln.adjustments])
                for ln in claim.service_payments]
    return replace(claim, status_code="22", charge=-claim.charge, paid=-claim.paid,
                   patient_responsibility=-(claim.patient_responsibility or 0),
                   frequency_code="8", service_payments=lines(),
                   adjustments=[replace(a, amount=-a.amount) for a in claim.adjustments])


def build_remittance(seed: int) -> Remittance:
    """A balanced remittance: paid claims, a denial, a reversal and its correction, a claim
    without lines, and provider adjustments (WO recovery, L6 interest, FB balance)."""
    rng = random.Random(seed)
    claims: list[ClaimPayment] = []
    for k in range(rng.randint(2, 4)):
        claims.append(_claim([_paid_line(rng, i) for i in range(rng.randint(1, 3))],
                             f"{seed}{k:03d}"))
    denied_lines = [ServicePayment("99215", charge, Decimal(0), units_paid=Decimal(1),
                                   service_date=date(2024, 1, 12),
                                   adjustments=[Adjustment("CO", "50", charge)],
                                   line_control_number=f"DN{i}", remark_codes=("N130", "M15"))
                    for i, charge in enumerate((_money(rng, 9_000, 20_000), Decimal("45.5")))]
    claims.append(_claim(denied_lines, f"{seed}900", status="4", patient_responsibility=0,
                         other_segments=(("MOA", "", "", "MA01"), ("REF", "1L", "GRP1001"))))
    original = _claim([_paid_line(rng, 7)], f"{seed}700")
    claims.append(_negated(original))
    claims.append(replace(_claim([_paid_line(rng, 8)], f"{seed}700"), frequency_code="7"))
    charge = _money(rng, 100_000, 300_000)
    claim_level = [Adjustment("CO", "45", (charge * Decimal("0.3")).quantize(CENT)),
                   Adjustment("PR", "2", Decimal("120.00"))]
    claims.append(_claim([], f"{seed}800", facility_code="21",
                         adjustments=claim_level,
                         charge=charge, paid=charge - sum(a.amount for a in claim_level),
                         patient_responsibility=Decimal("120.00"),
                         insured=Entity("1", "TESTINSURED", "GAMMA", id_qualifier="MI",
                                        id=f"XZ{seed}800")))
    fiscal_end = date(2024, 12, 31)
    plb = [ProviderAdjustment("1234567893", fiscal_end, "WO", _money(rng, 1_000, 5_000),
                              f"PY{seed}0000"),
           ProviderAdjustment("1234567893", fiscal_end, "L6", -_money(rng, 10, 900),
                              f"PY{seed}0001"),
           ProviderAdjustment("1234567893", fiscal_end, "FB", _money(rng, 100, 900), "FB01")]
    total = sum((c.paid for c in claims), Decimal(0)) - sum(p.amount for p in plb)
    ach = seed % 2 == 0
    return Remittance(
        handling_code="I", total_paid=total, credit_debit_flag="C",
        payment_method="ACH" if ach else "CHK", payment_date=date(2024, 3, 1),
        trace_number=f"TRACE{seed:06d}", originator_id="1512345678",
        payer=RemittancePayer(
            "TEST HEALTH PLAN", address=Address("PO BOX 1000", "ANYTOWN", "MN", "55400"),
            payer_identifier="99999",
            contacts=[Contact("CX", "CLAIMS", (("TE", "8005550100"),)),
                      Contact("BL", "EDI SUPPORT", (("TE", "8005550199"),
                                                    ("EM", "edi@example.org"))),
                      Contact("IC", "", (("UR", "www.example.org"),))]),
        payee=RemittancePayee("TEST CLINIC", "XX", "1234567893",
                              Address("1 MAIN ST", "ANYTOWN", "MN", "55401", "SUITE 2"),
                              tax_id="999999999"),
        payment_format="CCP" if ach else "",
        sender_dfi_qualifier="01" if ach else "", sender_dfi_id="011000015" if ach else "",
        sender_account_qualifier="DA" if ach else "",
        sender_account_number="123456" if ach else "",
        originating_company_id="1512345678" if ach else "",
        receiver_dfi_qualifier="01" if ach else "",
        receiver_dfi_id="011000028" if ach else "",
        receiver_account_qualifier="DA" if ach else "",
        receiver_account_number="654321" if ach else "",
        production_date=date(2024, 2, 28), claims=claims, provider_adjustments=plb)


SEEDS = range(6)


# ------------------------------------------------------------------------ pyx12 support


def test_pyx12_errors_accepts_a_valid_file_and_catches_broken_ones() -> None:
    text = write([build_remittance(1)])
    assert pyx12_errors(text) == []
    without_technical_contact = "\n".join(
        line for line in text.split("\n") if not line.startswith("PER*BL"))
    assert any("PER" in e for e in pyx12_errors(without_technical_contact))
    bad_code = text.replace("NM1*QC*1*TESTPATIENT*ALPHA****MI*", "NM1*QC*1*TESTPATIENT*ALPHA"
                            "****ZQ*", 1)
    assert any("NM108" in e for e in pyx12_errors(bad_code))
    assert pyx12_errors("not an interchange")


# --------------------------------------------------------------------- synthetic files


@pytest.mark.parametrize("seed", SEEDS)
def test_synthetic_remittance_is_valid_balanced_and_round_trips(seed: int) -> None:
    remit = build_remittance(seed)
    assert balance_problems(remit) == []
    text = write([remit])
    assert pyx12_errors(text) == []
    document = read(text)
    assert document.defects == []
    assert document.bodies(Remittance) == [remit]


def test_synthetic_remittance_holds_each_case() -> None:
    remit = build_remittance(3)
    statuses = [c.status_code for c in remit.claims]
    reversal = statuses.index("22")
    assert remit.claims[reversal].is_reversal
    assert statuses[reversal + 1] == "1"  # the correction follows the reversal
    assert (remit.claims[reversal].patient_control_number
            == remit.claims[reversal + 1].patient_control_number)
    denial = next(c for c in remit.claims if c.is_denial)
    assert all(ln.remark_codes == ("N130", "M15") for ln in denial.service_payments)
    assert any(not c.service_payments and c.adjustments for c in remit.claims)
    groups = {(a.group_code, a.reason_code) for c in remit.claims for ln in c.service_payments
              for a in ln.adjustments}
    assert {("CO", "45"), ("PR", "1"), ("PR", "2")} <= groups
    assert [p.reason_code for p in remit.provider_adjustments] == ["WO", "L6", "FB"]
    text = write([remit])
    assert "LQ*HE*N130~" in text and "PLB*1234567893*20241231*WO:PY30000*" in text
    assert "CLP*PCN3700*22*-" in text


def test_several_remittances_make_several_transaction_sets() -> None:
    items = [build_remittance(seed) for seed in (4, 5)]
    written = write_835(items, HEADER, CounterControlNumbers(transaction=7))
    assert written.transaction_control_numbers == ["0007", "0008"]
    assert "ST*835*0007~" in written.text  # X221A1 does not use ST03
    assert pyx12_errors(written.text) == []
    assert remittances(written.text) == items


def test_cas_and_plb_are_split_and_grouped_at_six() -> None:
    remit = build_remittance(0)
    line = remit.claims[0].service_payments[0]
    line.adjustments = [Adjustment("CO", str(n), Decimal(1)) for n in range(1, 9)]
    line.adjustments.append(Adjustment("PR", "1", Decimal("2.5"), Decimal(2)))
    line.paid = line.charge - sum(a.amount for a in line.adjustments)
    remit.provider_adjustments = [
        ProviderAdjustment("1234567893", date(2024, 12, 31), "WO", Decimal(1), f"R{n}")
        for n in range(7)]
    text = write([remit])
    assert "CAS*CO*1*1**2*1**3*1**4*1**5*1**6*1~CAS*CO*7*1**8*1~CAS*PR*1*2.5*2~" in (
        text.replace("\n", ""))
    assert text.count("PLB*") == 2
    back = remittances(text)[0]
    assert back.claims[0].service_payments[0].adjustments == line.adjustments
    assert back.provider_adjustments == remit.provider_adjustments


def test_kept_segments_go_back_to_their_place() -> None:
    remit = build_remittance(2)
    claim = next(c for c in remit.claims if c.is_denial)
    text = write([remit])
    lines = text.split("~\n")
    clp = lines.index(next(s for s in lines if s.startswith(f"CLP*{claim.patient_control_number}"
                                                               "*4*")))
    order = [s.split("*")[0] + "*" + s.split("*")[1] for s in lines[clp:clp + 9]]
    assert order == ["CLP*PCN2900", "NM1*QC", "NM1*82", "MOA*", "REF*1L", "DTM*232",
                     "DTM*233", "DTM*050", "SVC*HC:99215"]


def test_unknown_segments_are_kept_with_a_defect_and_written_back() -> None:
    text = write([build_remittance(1)])
    text = text.replace("AMT*B6*", "ZZZ*SEEN~\nAMT*B6*", 1)
    document = read(text)
    assert [d.code for d in document.defects] == ["SEGMENT_KEPT", "SE01_COUNT"]
    remit = document.bodies(Remittance)[0]
    kept = [s for c in remit.claims for ln in c.service_payments for s in ln.other_segments]
    assert kept == [("ZZZ", "SEEN")]
    assert remittances(write([remit])) == [remit]


def test_items_streams_claim_payments() -> None:
    remit = build_remittance(4)
    items = list(X12Reader(write([remit]).encode(), PARSERS).items())
    assert items == remit.claims


# ------------------------------------------------------------------ strict values


def _with_element(tag: str, position: int, value: str, seed: int = 1) -> str:
    """A synthetic file with one element of the first ``tag`` segment replaced."""
    segments = write([build_remittance(seed)]).split("~\n")
    index = next(i for i, s in enumerate(segments) if s.startswith(tag + "*"))
    elements = segments[index].split("*")
    elements += [""] * (position + 1 - len(elements))
    elements[position] = value
    segments[index] = "*".join(elements)
    return "~\n".join(segments)


def _element_error(text: str) -> X12ElementError:
    with pytest.raises(X12ElementError) as caught:
        read(text)
    return caught.value


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1E5", "12,5", "1.2.3",
                                   " 5", "+5", "-", ".", "\u0661\u0662", "12_5", "0x10"])
def test_bad_decimal_is_an_element_error_without_the_value(value: str) -> None:
    error = _element_error(_with_element("CLP", 3, value))
    assert (error.segment_id, error.element, error.loop) == ("CLP", 3, "2100")
    assert value not in error.reason


@pytest.mark.parametrize(("tag", "position", "value"), [
    ("CLP", 4, ""), ("SVC", 2, ""), ("SVC", 3, "1e2"), ("CAS", 3, "X"), ("CAS", 1, ""),
    ("AMT", 2, "A"), ("PLB", 4, ""), ("PLB", 4, "Inf"), ("BPR", 2, "NaN"), ("CLP", 1, ""),
])
def test_missing_or_bad_values_are_element_errors(tag: str, position: int, value: str) -> None:
    error = _element_error(_with_element(tag, position, value))
    assert (error.segment_id, error.element) == (tag, position)


@pytest.mark.parametrize(("tag", "position", "value"), [
    ("DTM", 2, "20241310"), ("DTM", 2, "2024011"), ("DTM", 2, ""), ("PLB", 2, "20240231"),
])
def test_bad_date_is_an_element_error_without_the_value(
        tag: str, position: int, value: str) -> None:
    error = _element_error(_with_element(tag, position, value))
    assert (error.segment_id, error.element) == (tag, position)
    assert not value or value not in str(error)


def test_bad_payment_date_is_a_defect_not_a_lost_remittance() -> None:
    text = _with_element("BPR", 16, "20002316")
    document = X12Reader(text.encode(), {"835": parse_835}).read()
    (remittance,) = document.bodies(Remittance)
    assert remittance.payment_date is None
    assert [d.code for d in document.defects] == ["BPR16_DATE"]
    assert "20002316" not in str(document.defects)


def test_segments_out_of_any_place_are_structure_errors() -> None:
    text = write([build_remittance(1)])
    head, _, tail = text.partition("LX*1~\n")
    with pytest.raises(X12StructureError):  # a service line before any claim
        read(head + "LX*1~\nSVC*HC:99213*10*10~\n" + tail)
    plb_at = text.index("PLB*")
    with pytest.raises(X12StructureError):  # a claim after the provider adjustments
        read(text[:plb_at] + "PLB*1234567893*20241231*WO*1~\nCLP*X*1*1*1~\n" + text[plb_at:])
    with pytest.raises(X12EnvelopeError):  # the transaction set is cut off before SE
        read(text[: text.index("SE*")] + text[text.index("GE*"):])
    with pytest.raises(X12StructureError):
        read(text.replace("BPR*", "BPX*", 1))


def test_no_other_exception_escapes_on_damaged_input() -> None:
    text = write([build_remittance(5)])
    segments = text.split("~\n")
    rng = random.Random(5)
    for _ in range(300):
        damaged = list(segments)
        index = rng.randrange(3, len(damaged) - 4)  # inside the transaction set
        elements = damaged[index].split("*")
        elements[rng.randrange(len(elements))] = rng.choice(("", "X", "-", "1.", "99999999"))
        damaged[index] = "*".join(elements)
        with contextlib.suppress(X12Error):  # anything else escaping fails the test
            read("~\n".join(damaged))


# ---------------------------------------------------------------------------- balancing


def test_balance_problems_names_positions_not_values() -> None:
    remit = build_remittance(2)
    assert balance_problems(remit) == []
    remit.claims[1].service_payments[0].paid += Decimal("0.01")
    remit.claims[2].adjustments.append(Adjustment("OA", "23", Decimal("1.00")))
    remit.total_paid += Decimal(5)
    problems = balance_problems(remit)
    assert [p.split(":")[0] for p in problems] == [
        "claims[1].service_payments[0]", "claims[2]", "transaction"]
    amounts = {str(remit.total_paid), str(remit.claims[2].charge),
               str(remit.claims[1].service_payments[0].paid)}
    assert not any(amount in p for amount in amounts for p in problems)


def test_balance_of_a_debit_and_of_a_claim_without_lines() -> None:
    claim = ClaimPayment("PCN1", "22", Decimal("-100"), Decimal("-80"),
                         adjustments=[Adjustment("CO", "45", Decimal("-20"))])
    remit = Remittance("I", Decimal(80), "D", "ACH", date(2024, 1, 1), "T1", "1512345678",
                       claims=[claim])
    assert balance_problems(remit) == []
    remit.credit_debit_flag = "C"
    assert balance_problems(remit) == ["transaction: BPR02 does not equal the sum of CLP04"
                                       " minus the sum of PLB amounts"]


# ---------------------------------------------------------------------- public corpus


def _index(samples: Path) -> list[dict[str, str]]:
    with (samples / "INDEX.tsv").open(newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["ST01"] == "835"]


# Files INDEX.tsv lists as valid or used by their project's tests, that we refuse, and why.
REFUSED = {
    # No ISA/GS envelope (the file starts at ST): there are no delimiters to read it by.
    "tests/test_edi_835_files/blue_cross_nc_sample.txt": (X12DelimiterError, None, None),
}


def _path(samples: Path, row: dict[str, str]) -> Path:
    folder = {"azoner/pyx12": "pyx12", "LinuxForHealth/x12": "x12",
              "keironstoddart/edi-835-parser": "edi-835-parser",
              "slott56/TigerShark": "TigerShark"}[row["repo"]]
    return samples / folder / row["original_path"]


def test_every_835_in_the_corpus_reads_or_is_refused_for_its_reason(x12_samples: Path) -> None:
    rows = _index(x12_samples)
    assert len(rows) >= 12
    read_count = 0
    for row in rows:
        path = _path(x12_samples, row)
        refused = REFUSED.get(row["original_path"])
        if refused:
            with pytest.raises(refused[0]) as caught:
                read(path)
            assert (caught.value.segment_id, caught.value.element) == refused[1:]
            continue
        document = read(path)
        items = document.bodies(Remittance)
        assert len(items) == int(row["n_ST"]), path
        assert sum(len(r.claims) for r in items) == int(row["n_CLP"]), path
        read_count += 1
    assert read_count == len(rows) - len(REFUSED)


def test_every_readable_835_round_trips(x12_samples: Path) -> None:
    for row in _index(x12_samples):
        if row["original_path"] in REFUSED:
            continue
        items = remittances(_path(x12_samples, row))
        assert remittances(write(items)) == items, row["original_path"]


def test_valid_corpus_835s_written_back_pass_pyx12(x12_samples: Path) -> None:
    for name in ("pyx12/pyx12/tests/835_mult_loops.txt",
                 "edi-835-parser/tests/test_edi_835_files/emedny_sample.txt"):
        assert pyx12_errors((x12_samples / name).read_text()) == []
        assert pyx12_errors(write(remittances(x12_samples / name))) == [], name


def test_medicare_part_a_keeps_plb_cas_and_provider_summaries(x12_samples: Path) -> None:
    path = x12_samples / "x12/src/tests/resources/835_005010X221A1/medicare-part-a.835"
    remit = remittances(path)[0]
    assert remit.total_paid == Decimal("150000.00") and remit.payment_method == "ACH"
    assert remit.receiver_account_number == "98765" and remit.payment_date == date(2002, 9, 13)
    assert remit.payer.payer_identifier == "999"
    assert remit.provider_adjustments == [
        ProviderAdjustment("6543210903", date(2002, 12, 31), "CV", Decimal("-1.27"), "CP")]
    assert [c.adjustments for c in remit.claims] == [
        [Adjustment("CO", "45", Decimal("73348.57"))],
        [Adjustment("CO", "45", Decimal("3019.67"))]]
    assert [c.header_number for c in remit.claims] == ["110212", "130212"]
    assert [s[0] for s in remit.provider_summaries["110212"]] == ["TS3", "TS2"]
    assert [s[0] for s in remit.claims[0].other_segments] == ["MIA", "QTY"]
    assert remit.claims[0].drg_code == "" and remit.claims[0].frequency_code == "1"
    assert balance_problems(remit) == []


def test_secondary_payment_keeps_every_cas_triple(x12_samples: Path) -> None:
    path = x12_samples / "x12/src/tests/resources/835_005010X221A1/secondary-payment.835"
    first, second = remittances(path)[0].claims
    assert first.adjustments == [Adjustment("OA", "23", Decimal("9411.64"))]
    assert first.service_payments == [] and first.coverage_amount == Decimal("912.00")
    assert second.service_payments[1].adjustments == [
        Adjustment("PR", "1", Decimal("150.00")), Adjustment("PR", "2", Decimal("70.00")),
        Adjustment("CO", "42", Decimal("85.00"))]
    assert second.service_payments[1].revenue_code == "220"
    assert second.service_payments[1].allowed_amount == Decimal("500.00")


def test_united_healthcare_sample(x12_samples: Path) -> None:
    path = (x12_samples / "edi-835-parser/tests/test_edi_835_files"
            / "united_healthcare_legacy_sample.txt")
    remit = remittances(path)[0]
    assert remit.payer.id_qualifier == "XV" and remit.payee.tax_id == "333333333"
    assert [c.function_code for c in remit.payer.contacts] == ["CX", "BL"]
    assert remit.payer.technical_contact == Contact(
        "BL", "", (("UR", "WWW.UNITEDHEALTHCAREONLINE.COM/B2C/CONTACTUS.DO"),))
    line = remit.claims[1].service_payments[2]
    assert line.procedure_code == "B4154" and line.units_paid == Decimal(178)
    assert line.adjustments == [Adjustment("PR", "2", Decimal("5.13")),
                                Adjustment("PR", "1", Decimal(110)),
                                Adjustment("CO", "45", Decimal("184.32"))]
    assert line.line_control_number == "123456789014"
    assert remit.claims[0].received_date == date(2021, 1, 14)
    assert [s[:2] for s in remit.claims[0].other_segments] == [("REF", "1L"), ("REF", "CE")]


def test_emedny_sample_remarks_and_corrected_names(x12_samples: Path) -> None:
    path = x12_samples / "edi-835-parser/tests/test_edi_835_files/emedny_sample.txt"
    remit = remittances(path)[0]
    assert [c.status_code for c in remit.claims] == ["1", "2", "2"]
    assert all(c.corrected_patient is not None for c in remit.claims)
    assert [ln.remark_codes for ln in remit.claims[2].service_payments] == [
        (), (), ("N206",), ("N206",)]
    assert remit.claims[0].service_payments[0].modifiers == ("RB",)
    assert balance_problems(remit) == []


def test_4010_remittance_reads_with_its_delimiters(x12_samples: Path) -> None:
    document = read(x12_samples / "TigerShark/tests/835-example.txt")
    assert "NOT_5010" in {d.code for d in document.defects}
    remit = document.bodies(Remittance)[0]
    assert remit.provider_adjustments == [ProviderAdjustment(
        "743238060", date(2012, 12, 31), "WO", Decimal("-361.19"),
        "12104411559120820 001GAL295513")]
    second = remit.claims[1]
    assert second.adjustments == [Adjustment("PR", "1", Decimal("145.00"))]
    assert second.insured is not None and second.insured.id_qualifier == "MI"
    assert second.service_payments[0].remark_codes == ("N220", "M68")
    assert balance_problems(remit) == ["transaction: BPR02 does not equal the sum of CLP04"
                                       " minus the sum of PLB amounts"]
