"""Auto-corrections (FIX-01..03): applied in place, each recorded as a warning that quotes
nothing; run by the scrub before the rules and by the submit stage before the 837 is written.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from revcycle.model.claim import Address, ClaimBatch, ClaimType, Provider
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.scrub import Finding, ScrubContext, Severity, duplicate_key, scrub
from revcycle.scrub.corrections import autocorrect
from revcycle.settings import Settings
from revcycle.simulator import DEFAULT_AS_OF, generate_claims
from revcycle.x12.envelope import X12Reader
from revcycle.x12.read837 import parse_837
from tests.unit.pipeline.conftest import PAYERS, RecordingChannel, factory, ready_batch
from tests.unit.scrub.test_syntax_identifiers import INST, PRO, clean


def _fix(rule_id: str, message: str, field: str, line: int | None = None) -> Finding:
    return Finding(rule_id, "corrections", Severity.WARNING, message, field, line)


def _several_lines(claim) -> bool:
    return len(claim.service_lines) >= 2 and claim.rendering_provider is not None


# ------------------------------------------------------------------ nothing to correct


@pytest.mark.parametrize("claim_type", [PRO, INST])
def test_clean_claims_are_left_as_they_are(claim_type) -> None:
    claims = generate_claims(300, 8, claim_type)
    before = copy.deepcopy(claims)
    assert [f for claim in claims for f in autocorrect(claim)] == []
    assert claims == before


# ------------------------------------------------------------------ FIX-01


def test_fix01_codes_typed_in_lower_case_are_upper_cased() -> None:
    claim = clean(PRO, _several_lines)
    expected = copy.deepcopy(claim)
    expected.service_lines[1].modifiers = ("25", "RT")
    claim.service_lines[1].modifiers = ("25", "rt")
    claim.service_lines[0].procedure_code = expected.service_lines[0].procedure_code = "J3301"
    claim.service_lines[0].procedure_code = "j3301"
    claim.diagnoses = tuple(code.lower() for code in claim.diagnoses)
    claim.rendering_provider.taxonomy = claim.rendering_provider.taxonomy.lower()  # type: ignore[union-attr]
    claim.billing_provider.taxonomy = claim.billing_provider.taxonomy.lower()
    found = autocorrect(claim)
    assert claim == expected
    assert found == [
        _fix("FIX-01", "diagnosis codes were upper-cased", "2300 HI"),
        _fix("FIX-01", "service line 1 procedure code was upper-cased", "2400 SV101-2", 1),
        _fix("FIX-01", "service line 2 modifiers were upper-cased", "2400 SV101-3", 2),
        _fix("FIX-01", "billing provider taxonomy code was upper-cased", "2000A PRV03"),
        _fix("FIX-01", "rendering provider taxonomy code was upper-cased", "2310B PRV03"),
    ]
    assert autocorrect(claim) == []  # once corrected, nothing more to do


def test_fix01_institutional_fields() -> None:
    claim = clean(INST, lambda c: any(ln.procedure_code[:1].isalpha()
                                      for ln in c.service_lines))
    number, line = next((n, ln) for n, ln in enumerate(claim.service_lines, 1)
                        if ln.procedure_code[:1].isalpha())
    line.procedure_code = line.procedure_code.lower()
    claim.admitting_diagnosis = "r0602"
    claim.attending_provider.taxonomy = claim.attending_provider.taxonomy.lower()  # type: ignore[union-attr]
    found = autocorrect(claim)
    assert [(f.field, f.line_number) for f in found] == [
        ("2300 HI01-2 (ABJ)", None), ("2400 SV202-2", number), ("2310A PRV03", None)]
    assert line.procedure_code.isupper() and claim.admitting_diagnosis == "R0602"


# ------------------------------------------------------------------ FIX-02


@pytest.mark.parametrize(("typed", "compact"), [
    ("12-3456789", "123456789"), (" 123456789 ", "123456789"), ("12 345 6789", "123456789"),
    ("12.3456789", "123456789"), ("12-345678", "12345678"),  # still wrong: ID-01's business
])
def test_fix02_tax_id_punctuation_removed(typed, compact) -> None:
    claim = clean(INST)
    claim.billing_provider.tax_id = typed
    assert autocorrect(claim) == [
        _fix("FIX-02", "billing provider tax id: spaces and punctuation were removed",
             "2010AA REF02")]
    assert claim.billing_provider.tax_id == compact


@pytest.mark.parametrize(("attribute", "field", "who"), [
    ("billing_provider", "2010AA NM109", "billing provider"),
    ("rendering_provider", "2310B NM109", "rendering provider"),
])
def test_fix02_npi_punctuation_removed(attribute, field, who) -> None:
    claim = clean(PRO, _several_lines)
    provider = getattr(claim, attribute)
    npi = provider.npi
    provider.npi = f"{npi[:4]}-{npi[4:7]} {npi[7:]}"
    assert autocorrect(claim) == [
        _fix("FIX-02", f"{who} NPI: spaces and punctuation were removed", field)]
    assert provider.npi == npi


def test_fix02_service_facility_on_837i() -> None:
    claim = clean(INST)
    claim.service_facility = Provider("2", "SAMPLE CLINIC", npi="1234-567-893")
    [finding] = autocorrect(claim)
    assert (finding.field, claim.service_facility.npi) == ("2310E NM109", "1234567893")


@pytest.mark.parametrize("typed", ["12-345678A", "--", "N/A", "12345678Z"])
def test_fix02_nearest_uncorrected_values_are_not_only_digits(typed) -> None:
    claim = clean(PRO)
    claim.billing_provider.tax_id = claim.billing_provider.npi = typed
    assert autocorrect(claim) == []
    assert claim.billing_provider.tax_id == claim.billing_provider.npi == typed


# ------------------------------------------------------------------ FIX-03


@pytest.mark.parametrize(("typed", "compact"), [
    ("62701-1234", "627011234"), ("62701 1234", "627011234"), ("62701-", "62701"),
    (" 62701", "62701"),
])
def test_fix03_billing_zip_written_as_digits(typed, compact) -> None:
    claim = clean(PRO)
    claim.billing_provider.address.postal_code = typed  # type: ignore[union-attr]
    assert autocorrect(claim) == [
        _fix("FIX-03", "billing provider ZIP code was rewritten as digits only", "2010AA N403")]
    assert claim.billing_provider.address.postal_code == compact  # type: ignore[union-attr]


def test_fix03_every_address_of_the_claim() -> None:
    claim = clean(PRO, lambda c: c.patient is not None and c.patient.address is not None)
    claim.service_facility = Provider("2", "SAMPLE CLINIC", npi="1234567893",
                                      address=Address("1 DEMO ST", "AUSTIN", "TX", "78701-0001"))
    for address in (claim.subscriber.address, claim.patient.address, claim.payer.address):  # type: ignore[union-attr]
        address.postal_code = address.postal_code[:5] + "-0002"  # type: ignore[union-attr]
    found = autocorrect(claim)
    assert [(f.rule_id, f.field, f.message) for f in found] == [
        ("FIX-03", "2310C N403", "service facility ZIP code was rewritten as digits only"),
        ("FIX-03", "2010BA N403", "subscriber ZIP code was rewritten as digits only"),
        ("FIX-03", "2010CA N403", "patient ZIP code was rewritten as digits only"),
        ("FIX-03", "2010BB N403", "payer ZIP code was rewritten as digits only"),
    ]
    assert claim.payer.address.postal_code.endswith("0002")  # type: ignore[union-attr]
    assert claim.service_facility.address.postal_code == "787010001"  # type: ignore[union-attr]


@pytest.mark.parametrize("typed", ["6270", "62701-12", "6270A-1234", "CANADA", "--"])
def test_fix03_nearest_uncorrected_zips_are_not_five_or_nine_digits(typed) -> None:
    claim = clean(PRO)
    claim.billing_provider.address.postal_code = typed  # type: ignore[union-attr]
    assert autocorrect(claim) == []
    assert claim.billing_provider.address.postal_code == typed  # type: ignore[union-attr]


# ------------------------------------------------------------------ in the scrub


def _hcpcs_line(claim) -> bool:
    return any(line.procedure_code[:1].isalpha() for line in claim.service_lines)


def test_scrub_corrects_first_and_checks_the_corrected_claim() -> None:
    original = clean(PRO, _hcpcs_line)
    claim = copy.deepcopy(original)
    claim.billing_provider.tax_id = claim.billing_provider.tax_id[:2] + "-" + (
        claim.billing_provider.tax_id[2:])
    postal = claim.billing_provider.address.postal_code  # type: ignore[union-attr]
    claim.billing_provider.address.postal_code = f"{postal[:5]}-{postal[5:]}"  # type: ignore[union-attr]
    claim.diagnoses = tuple(code.lower() for code in claim.diagnoses)
    for line in claim.service_lines:
        line.procedure_code = line.procedure_code.lower()

    result = scrub([claim], ScrubContext(as_of=DEFAULT_AS_OF))

    # ID-01, ID-04 and DX-01 see the corrected values: only the corrections are reported,
    # first, as warnings; the claim is not blocked and goes out corrected.
    coded = sum(line.procedure_code[:1].isalpha() for line in claim.service_lines)
    assert [(f.rule_id, f.severity) for f in result[0]] == [
        ("FIX-01", Severity.WARNING)] * (1 + coded) + [
        ("FIX-02", Severity.WARNING), ("FIX-03", Severity.WARNING)]
    assert not result.blocked(0)
    assert claim == original
    assert result.keys == [duplicate_key(original)]


def test_correction_messages_quote_nothing_of_the_claim() -> None:
    claim = clean(PRO, lambda c: _several_lines(c) and _hcpcs_line(c))
    line = next(ln for ln in claim.service_lines if ln.procedure_code[:1].isalpha())
    values = [claim.billing_provider.tax_id, claim.billing_provider.npi,
              claim.rendering_provider.npi,  # type: ignore[union-attr]
              claim.billing_provider.address.postal_code,  # type: ignore[union-attr]
              line.procedure_code, *claim.diagnoses]
    claim.billing_provider.tax_id = "-".join(claim.billing_provider.tax_id)
    claim.billing_provider.npi = " ".join(claim.billing_provider.npi)
    claim.rendering_provider.npi = ".".join(claim.rendering_provider.npi)  # type: ignore[union-attr]
    claim.billing_provider.address.postal_code = "-".join(values[3])  # type: ignore[union-attr]
    line.procedure_code = line.procedure_code.lower()
    claim.diagnoses = tuple(code.lower() for code in claim.diagnoses)
    found = autocorrect(claim)
    assert len(found) == 6
    for finding in found:
        text = f"{finding.message} {finding.field}".upper()
        assert not [v for v in values if len(v) >= 3 and v.upper() in text], finding


# ------------------------------------------------------------------ in the submit stage


@pytest.fixture
def res(tmp_path: Path) -> Iterator[Resources]:
    resources = Resources.from_settings(Settings(home=tmp_path / "home"))
    yield resources
    resources.engine.dispose()


def test_submit_sends_the_corrected_claims(res: Resources) -> None:
    f = factory("fixco", seed=5, payers=["SIMB1"])
    claims = f.claims(4, ClaimType.PROFESSIONAL)
    expected = copy.deepcopy(claims)
    typed = claims[0]
    typed.billing_provider.tax_id = typed.billing_provider.tax_id[:2] + "-" + (
        typed.billing_provider.tax_id[2:])
    postal = typed.billing_provider.address.postal_code  # type: ignore[union-attr]
    typed.billing_provider.address.postal_code = f"{postal[:5]}-{postal[5:]}"  # type: ignore[union-attr]
    typed.diagnoses = tuple(code.lower() for code in typed.diagnoses)
    batch = ready_batch(res, "fixco", claims, f.submitter)
    channel = RecordingChannel()

    submit(res, batch, PAYERS["SIMB1"], channel)

    [(_, data)] = channel.deliveries
    [body] = X12Reader(data, {"837": parse_837}).read().bodies(ClaimBatch)
    sent = {c.patient_control_number: c for c in body.claims}
    first = sent[typed.patient_control_number]
    assert first.billing_provider.tax_id == expected[0].billing_provider.tax_id
    assert first.billing_provider.address == expected[0].billing_provider.address
    assert first.diagnoses == expected[0].diagnoses
    assert len(sent) == len(claims)
