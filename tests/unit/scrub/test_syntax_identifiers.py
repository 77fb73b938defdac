"""Syntax (SYN-01..06) and identifier (ID-01..04) rules: for each, a claim that trips it and
the nearest claim that does not, built from the simulator's clean claims by changing one
field; and the simulator's clean claims trip none of these rules (nor the other new rules
of this family set, nor an auto-correction).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal

import pytest

from revcycle.model.claim import Address, Claim, ClaimType
from revcycle.scrub import (
    DEFAULT_RULES,
    Finding,
    RuleSet,
    ScrubContext,
    Severity,
    identifiers,
    syntax,
)
from revcycle.scrub.corrections import autocorrect
from revcycle.simulator import DEFAULT_AS_OF, generate_claims

PRO, INST = ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL
# Every rule of the syntax, identifier (new), demographic, timely-filing and place families.
# In catalog order: the modules' order in DEFAULT_RULES, then their definition order.
NEW_IDS = ("ID-01", "ID-02", "ID-03", "ID-04", "ID-05", "DT-03", "DT-04", "SYN-01", "SYN-02",
           "SYN-03", "SYN-04", "SYN-05", "SYN-06", "DEM-01", "DEM-02", "POS-01", "POS-02")
RULES = RuleSet(r for r in DEFAULT_RULES if r.id in NEW_IDS)
_POOL = {claim_type: generate_claims(300, 41, claim_type) for claim_type in ClaimType}


def clean(claim_type: ClaimType = PRO, where: Callable[[Claim], bool] = lambda c: True) -> Claim:
    """A copy of a clean simulated claim of the type that satisfies ``where``."""
    return copy.deepcopy(next(c for c in _POOL[claim_type] if where(c)))


def ctx() -> ScrubContext:
    return ScrubContext(as_of=DEFAULT_AS_OF)


def run(claim: Claim) -> list[Finding]:
    return RULES.run(claim, ctx())


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def _several_lines(claim: Claim) -> bool:
    return len(claim.service_lines) >= 3


# ------------------------------------------------------------------ the clean claims


def test_these_rules_are_in_the_catalog_with_their_families_and_severities() -> None:
    assert RULES.ids == NEW_IDS
    families = {r.id: r.family for r in RULES}
    assert {i for i, f in families.items() if f == "syntax"} == {
        "SYN-01", "SYN-02", "SYN-03", "SYN-04", "SYN-05", "SYN-06"}
    assert {i for i, f in families.items() if f == "identifiers"} == {
        "ID-01", "ID-02", "ID-03", "ID-04", "ID-05"}
    assert [r.id for r in RULES if r.severity is Severity.WARNING] == ["DT-04", "SYN-02"]


@pytest.mark.parametrize("seed", [3, 17, 2026])
@pytest.mark.parametrize("claim_type", [None, PRO, INST])
def test_clean_simulated_claims_raise_nothing_here(seed, claim_type) -> None:
    """False-positive guard: 2,000 clean claims, no finding and nothing to correct."""
    claims = generate_claims(2000, seed, claim_type)
    context = ctx()
    findings = [f for claim in claims for f in autocorrect(claim) + RULES.run(claim, context)]
    assert findings == []
    if claim_type is None:  # both types are there
        assert {c.claim_type for c in claims} == {PRO, INST}


# ------------------------------------------------------------------ SYN-01, SYN-02


@pytest.mark.parametrize(("length", "expected", "severity"), [
    (21, "SYN-01", Severity.ERROR),
    (38, "SYN-01", Severity.ERROR),
    (20, "SYN-02", Severity.WARNING),
    (18, "SYN-02", Severity.WARNING),
])
def test_syn01_syn02_control_number_length(length, expected, severity) -> None:
    claim = clean()
    claim.patient_control_number = (claim.patient_control_number * 3)[:length]
    [finding] = run(claim)
    assert (finding.rule_id, finding.severity, finding.field) == (expected, severity,
                                                                  "2300 CLM01")
    assert finding.line_number is None


@pytest.mark.parametrize("length", [17, 1])
def test_syn01_syn02_nearest_passing_lengths(length) -> None:
    claim = clean()
    claim.patient_control_number = (claim.patient_control_number * 3)[:length]
    assert run(claim) == []


# ------------------------------------------------------------------ SYN-03


@pytest.mark.parametrize(("frequency", "reference"), [("7", ""), ("8", ""), ("7", "   ")])
def test_syn03_replacement_or_void_names_its_original(frequency, reference) -> None:
    claim = clean(INST)
    claim.frequency_code, claim.original_claim_reference = frequency, reference
    [finding] = run(claim)
    assert finding == Finding(
        "SYN-03", "syntax", Severity.ERROR,
        "replacement or void claim (frequency 7 or 8) has no original claim reference "
        "(REF*F8)", "2300 REF02 (F8)", None)


@pytest.mark.parametrize(("frequency", "reference"), [("7", "20261234567890"),
                                                      ("8", "20261234567890"), ("1", "")])
def test_syn03_nearest_passing_claims(frequency, reference) -> None:
    claim = clean(INST)
    claim.frequency_code, claim.original_claim_reference = frequency, reference
    assert run(claim) == []


# ------------------------------------------------------------------ SYN-04, SYN-05


@pytest.mark.parametrize(("claim_type", "field"), [(PRO, "2400 SV102"), (INST, "2400 SV203")])
@pytest.mark.parametrize("charge", [Decimal("0"), Decimal("0.00"), Decimal("-15.00")])
def test_syn04_line_charge_is_positive(claim_type, field, charge) -> None:
    claim = clean(claim_type, _several_lines)
    claim.total_charge += charge - claim.service_lines[1].charge  # keep BAL-01 out of it
    claim.service_lines[1].charge = charge
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number) == ("SYN-04", field, 2)
    assert finding.message == "service line 2 charge is zero or negative"


def test_syn04_nearest_passing_charge_is_one_cent() -> None:
    claim = clean(PRO, _several_lines)
    claim.service_lines[1].charge = Decimal("0.01")
    assert syntax.positive_line_charges(claim, ctx()) == []


@pytest.mark.parametrize(("claim_type", "field"), [(PRO, "2400 SV104"), (INST, "2400 SV205")])
@pytest.mark.parametrize("units", [Decimal("0"), Decimal("-1")])
def test_syn05_line_units_are_positive(claim_type, field, units) -> None:
    claim = clean(claim_type, _several_lines)
    claim.service_lines[2].units = units
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number) == ("SYN-05", field, 3)
    assert finding.message == "service line 3 units are zero or negative"


def test_syn05_nearest_passing_units_are_a_fraction() -> None:
    claim = clean(PRO, _several_lines)
    claim.service_lines[2].units = Decimal("0.5")  # half an hour of anesthesia, say
    assert run(claim) == []


# ------------------------------------------------------------------ ID-05


@pytest.mark.parametrize("member_id", ["", "   "])
@pytest.mark.parametrize("claim_type", [PRO, INST])
def test_id05_a_claim_without_the_subscribers_member_id(claim_type, member_id) -> None:
    claim = clean(claim_type)
    claim.subscriber.member_id = member_id
    findings = run(claim)
    assert [(f.rule_id, f.field, f.severity) for f in findings] == [
        ("ID-05", "2010BA NM109", Severity.ERROR)]
    assert findings[0].message == "subscriber member id is missing"


# ------------------------------------------------------------------ SYN-06


@pytest.mark.parametrize("claim_type", [PRO, INST])
def test_syn06_missing_line_control_number(claim_type) -> None:
    claim = clean(claim_type, _several_lines)
    claim.service_lines[0].line_control_number = ""
    claim.service_lines[2].line_control_number = "  "
    findings = run(claim)
    assert [(f.rule_id, f.line_number, f.field) for f in findings] == [
        ("SYN-06", 1, "2400 REF02 (6R)"), ("SYN-06", 3, "2400 REF02 (6R)")]
    assert findings[0].message == "service line 1 has no line control number (REF*6R)"


@pytest.mark.parametrize("copy_as", [str, str.lower, lambda v: f" {v} "])
def test_syn06_line_control_number_repeated(copy_as) -> None:
    claim = clean(PRO, _several_lines)
    lines = claim.service_lines
    lines[2].line_control_number = copy_as(lines[0].line_control_number)
    [finding] = run(claim)
    assert (finding.rule_id, finding.line_number) == ("SYN-06", 3)
    assert finding.message == (
        "service line 3 repeats the line control number of an earlier line")


def test_syn06_nearest_passing_numbers_differ_in_one_character() -> None:
    claim = clean(PRO, _several_lines)
    first = claim.service_lines[0].line_control_number
    claim.service_lines[2].line_control_number = first + "X"
    assert run(claim) == []


# ------------------------------------------------------------------ ID-01


@pytest.mark.parametrize(("tax_id", "message"), [
    ("", "billing provider tax id is missing"),
    ("12345678", "billing provider tax id is not nine digits"),
    ("1234567890", "billing provider tax id is not nine digits"),
    ("12-3456789", "billing provider tax id is not nine digits"),  # FIX-02 corrects it first
    ("12345678A", "billing provider tax id is not nine digits"),
    ("١٢٣٤٥٦٧٨٩", "billing provider tax id is not nine digits"),  # digits, not ASCII
])
@pytest.mark.parametrize("claim_type", [PRO, INST])
def test_id01_billing_tax_id_is_nine_digits(tax_id, message, claim_type) -> None:
    claim = clean(claim_type)
    claim.billing_provider.tax_id = tax_id
    [finding] = run(claim)
    assert finding == Finding("ID-01", "identifiers", Severity.ERROR, message,
                              "2010AA REF02", None)


def test_id01_nearest_passing_tax_ids() -> None:
    claim = clean()
    claim.billing_provider.tax_id, claim.billing_provider.tax_id_qualifier = "123456789", "SY"
    assert run(claim) == []
    claim.billing_provider.tax_id = "12-3456789"
    assert ids(autocorrect(claim)) == ["FIX-02"]  # as scrub() does before the rules
    assert run(claim) == []


# ------------------------------------------------------------------ ID-02


@pytest.mark.parametrize("taxonomy", ["207Q0000X", "207Q000000X", "207Q00000Y", "2A7Q00000X",
                                      "207Q-0000X", "207q00000X"])
def test_id02_billing_taxonomy_has_the_nucc_form(taxonomy) -> None:
    claim = clean()
    claim.billing_provider.taxonomy = taxonomy
    [finding] = run(claim)
    assert finding == Finding("ID-02", "identifiers", Severity.ERROR,
                              "billing provider taxonomy code is not a valid taxonomy code",
                              "2000A PRV03", None)


@pytest.mark.parametrize(("claim_type", "attribute", "field", "who"), [
    (PRO, "rendering_provider", "2310B PRV03", "rendering provider"),
    (INST, "attending_provider", "2310A PRV03", "attending provider"),
    (INST, "billing_provider", "2000A PRV03", "billing provider"),
])
def test_id02_every_taxonomy_the_claim_sends(claim_type, attribute, field, who) -> None:
    claim = clean(claim_type)
    getattr(claim, attribute).taxonomy = "TAXONOMY"
    [finding] = run(claim)
    assert (finding.rule_id, finding.field) == ("ID-02", field)
    assert finding.message == f"{who} taxonomy code is not a valid taxonomy code"


@pytest.mark.parametrize("taxonomy", ["", "2085R0202X", "363LF0000X", "261QP2300X"])
def test_id02_nearest_passing_taxonomies(taxonomy) -> None:
    claim = clean()
    claim.billing_provider.taxonomy = taxonomy
    claim.rendering_provider.taxonomy = taxonomy  # type: ignore[union-attr]
    assert run(claim) == []


# ------------------------------------------------------------------ ID-03


@pytest.mark.parametrize("line1", [
    "PO BOX 1234", "P.O. BOX 1234", "P O BOX 1234", "POBOX 1234", "Po Box 55",
    "POST OFFICE BOX 77", "P.O. DRAWER 9", "POB 4410", "P.O.B. 4410", "LOCKBOX 2231",
    "CALLER BOX 18", "BOX 1420", "BOX #3", "1 MAIN ST PO BOX 4",
])
def test_id03_billing_address_is_not_a_po_box(line1) -> None:
    claim = clean()
    claim.billing_provider.address.line1 = line1  # type: ignore[union-attr]
    [finding] = run(claim)
    assert finding == Finding(
        "ID-03", "identifiers", Severity.ERROR,
        "billing provider address is a post office box (it belongs in the pay-to address, "
        "2010AB)", "2010AA N301", None)


def test_id03_second_address_line_points_at_n302() -> None:
    claim = clean(INST)
    claim.billing_provider.address.line2 = "PO BOX 12"  # type: ignore[union-attr]
    [finding] = run(claim)
    assert (finding.rule_id, finding.field) == ("ID-03", "2010AA N302")


@pytest.mark.parametrize("line1", [
    "1200 BOXWOOD LN", "45 POST RD", "10 POPLAR ST", "77 BOX ELDER DR", "9 SPOBO WAY",
    "3 POST OAK BLVD", "12 APOLLO CT", "400 POBLANO PL",
])
def test_id03_nearest_passing_street_addresses(line1) -> None:
    claim = clean()
    claim.billing_provider.address.line1 = line1  # type: ignore[union-attr]
    assert run(claim) == []


def test_id03_other_addresses_are_not_this_rules_business() -> None:
    claim = clean(PRO, lambda c: c.patient is None)
    claim.subscriber.address.line1 = "PO BOX 88"  # type: ignore[union-attr]
    claim.payer.address.line1 = "PO BOX 14079"  # type: ignore[union-attr]
    assert identifiers.billing_street_address(claim, ctx()) == []


# ------------------------------------------------------------------ ID-04


@pytest.mark.parametrize(("postal_code", "message"), [
    ("62701", "billing provider ZIP code is not nine digits (ZIP+4)"),
    ("62701-1234", "billing provider ZIP code is not nine digits (ZIP+4)"),  # FIX-03 first
    ("6270112", "billing provider ZIP code is not nine digits (ZIP+4)"),
    ("62701123A", "billing provider ZIP code is not nine digits (ZIP+4)"),
    ("", "billing provider ZIP code is missing"),
])
def test_id04_billing_zip_has_nine_digits(postal_code, message) -> None:
    claim = clean()
    claim.billing_provider.address.postal_code = postal_code  # type: ignore[union-attr]
    [finding] = run(claim)
    assert finding == Finding("ID-04", "identifiers", Severity.ERROR, message, "2010AA N403",
                              None)


def test_id04_billing_provider_without_an_address() -> None:
    claim = clean(INST)
    claim.billing_provider.address = None
    assert [(f.rule_id, f.message) for f in run(claim)] == [
        ("ID-04", "billing provider ZIP code is missing")]


def test_id04_nearest_passing_zip_codes() -> None:
    claim = clean()
    claim.billing_provider.address = Address("1 DEMO ST", "AUSTIN", "TX", "787011234")
    assert run(claim) == []
    claim.billing_provider.address.postal_code = "78701-1234"
    assert ids(autocorrect(claim)) == ["FIX-03"]
    assert run(claim) == []
    claim.subscriber.address.postal_code = "78701"  # type: ignore[union-attr]
    assert run(claim) == []  # a member's five-digit ZIP is fine
