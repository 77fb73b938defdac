"""The payer's character set (FIX-04, CHAR-01): names and addresses transliterated, every
other value outside the set an error naming its place, and nothing quoted."""

from __future__ import annotations

import copy

import pytest

from revcycle.model.claim import Address, OtherPayer, OtherSubscriber, Patient, Payer
from revcycle.payers import PayerDefinition
from revcycle.scrub import ScrubContext, Severity, scrub
from revcycle.scrub.characters import check_characters
from revcycle.scrub.corrections import autocorrect
from revcycle.simulator import DEFAULT_AS_OF, generate_claims
from revcycle.x12.charset import DEFAULT_POLICY, CharacterPolicy
from tests.unit.scrub.test_syntax_identifiers import INST, PRO, clean

BASIC = CharacterPolicy("basic")
STRICT = CharacterPolicy("basic+lowercase", transliterate=False)


@pytest.mark.parametrize("claim_type", [PRO, INST])
def test_clean_claims_are_inside_every_policy_the_simulator_uses(claim_type) -> None:
    claims = generate_claims(200, 4, claim_type)
    before = copy.deepcopy(claims)
    assert [f for c in claims for f in check_characters(c, DEFAULT_POLICY)] == []
    assert claims == before


@pytest.mark.parametrize(("value", "policy", "expected"), [
    ("M\u00dcLLER", DEFAULT_POLICY, "MULLER"),
    ("Jos\u00e9 Stra\u00dfe", DEFAULT_POLICY, "Jose Strasse"),
    ("Jos\u00e9 Stra\u00dfe", BASIC, "JOSE STRASSE"),
    ("O\u2019BRIEN \u2013 \u00c6BY", DEFAULT_POLICY, "O'BRIEN - AEBY"),
    ("\u674e", DEFAULT_POLICY, None),  # no spelling in the set
    ("A#1", BASIC, None),  # '#' is not in the basic set
])
def test_transliteration(value: str, policy: CharacterPolicy, expected: str | None) -> None:
    assert policy.transliterate_value(value) == expected


def test_names_and_addresses_are_transliterated_with_a_warning_naming_the_field() -> None:
    claim = clean(PRO)
    claim.subscriber.last_name = "M\u00dcLLER"
    claim.subscriber.address = Address("12 RUE DU CH\u00c2TEAU", "N\u00ceMES", "IL", "62701")
    claim.patient = Patient("M\u00dcLLER", "Z\u00d6E", "19")

    found = autocorrect(claim)

    assert [(f.rule_id, f.severity, f.field) for f in found] == [
        ("FIX-04", Severity.WARNING, field) for field in
        ("2010BA NM103", "2010BA N301", "2010BA N401", "2010CA NM103", "2010CA NM104")]
    assert (claim.subscriber.last_name, claim.subscriber.address.line1,
            claim.patient.first_name) == ("MULLER", "12 RUE DU CHATEAU", "ZOE")
    assert not any("\u00dc" in f.message or "MULLER" in f.message for f in found)
    assert autocorrect(claim) == []  # what is corrected stays corrected


def test_ids_codes_and_kept_segments_are_errors_never_rewritten() -> None:
    claim = clean(INST)
    claim.patient_control_number += "\u00dc"
    claim.subscriber.member_id = "XQ\u00c9123"
    claim.service_lines[0].line_control_number = "L\u00e91"
    claim.other_segments = (("NTE", "ADD", "CAF\u00c9"),)
    before = copy.deepcopy(claim)

    found = autocorrect(claim)

    assert {(f.rule_id, f.severity, f.field, f.line_number) for f in found} == {
        ("CHAR-01", Severity.ERROR, "2300 CLM01", None),
        ("CHAR-01", Severity.ERROR, "2010BA NM109", None),
        ("CHAR-01", Severity.ERROR, "2400 REF02 (6R)", 1),
        ("CHAR-01", Severity.ERROR, "2300 NTE02", None)}
    assert claim == before


def test_values_of_another_payers_loops_are_checked_too() -> None:
    """The 2320/2330 loops a provider sends are modeled now (``Claim.other_payers``), not
    kept as raw segments: the check still sees every value the 837 writer will write."""
    claim = clean(PRO)
    claim.other_payers = [OtherPayer("P", "18", OtherSubscriber("ROE", "XQ\u00c9123"),
                                     Payer("OTHER HEALTH", "OTHR1"))]

    found = autocorrect(claim)

    assert [(f.rule_id, f.severity, f.field) for f in found] == [
        ("CHAR-01", Severity.ERROR, "2320 NM109")]  # the 2320 group's 2330A NM1


def test_a_payer_that_takes_no_transliteration_gets_errors_and_a_basic_one_upper_case(
        ) -> None:
    claim = clean(PRO)
    claim.subscriber.last_name = "M\u00fcller"
    strict, basic = copy.deepcopy(claim), copy.deepcopy(claim)
    assert [(f.rule_id, f.field) for f in autocorrect(strict, STRICT)] == [
        ("CHAR-01", "2010BA NM103")]
    assert strict.subscriber.last_name == "M\u00fcller"
    assert [(f.rule_id, f.field) for f in autocorrect(basic, BASIC)] == [
        ("FIX-04", "2010BA NM103")]
    assert basic.subscriber.last_name == "MULLER"


def test_the_scrub_uses_each_payers_policy() -> None:
    claim = clean(PRO)
    claim.subscriber.first_name = "Ren\u00e9e"
    ctx = ScrubContext(as_of=DEFAULT_AS_OF,
                       character_policies={claim.payer.payer_id: STRICT})
    [found] = scrub([claim], ctx)
    assert ("CHAR-01", "2010BA NM104") in [(f.rule_id, f.field) for f in found]


def test_a_payer_module_names_a_known_character_set() -> None:
    payer = PayerDefinition("P1", "PAYER", "R1", character_set="basic", transliterate=False)
    assert payer.character_policy == CharacterPolicy("basic", False)
    with pytest.raises(ValueError, match="character_set"):
        PayerDefinition("P1", "PAYER", "R1", character_set="latin-1")
