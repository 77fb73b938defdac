"""SYN-07: a value holding one of our 837 delimiters is rejected at scrub, naming its field
(loop, segment, element) and never the value; every text value of a claim is checked."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Patient,
    Provider,
    Receiver,
    Submitter,
)
from revcycle.scrub import DEFAULT_RULES, ScrubContext, Severity, scrub
from revcycle.simulator import DEFAULT_AS_OF, generate_claims
from revcycle.x12.errors import X12ElementError
from revcycle.x12.fields837 import values_with
from revcycle.x12.tokenizer import Delimiters
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

SYN_07 = DEFAULT_RULES["SYN-07"]
_POOL = {claim_type: generate_claims(200, 43, claim_type) for claim_type in ClaimType}


def _full(claim_type: ClaimType) -> Claim:
    """A clean claim with every optional part present (patient, providers, addresses)."""
    claim = copy.deepcopy(next(c for c in _POOL[claim_type] if c.patient is not None))
    address = Address("1 MAIN ST", "SPRINGFIELD", "IL", "62701", "SUITE 2")
    person = Provider("1", "DOE", "JAN", npi="1234567893", taxonomy="207Q00000X",
                      address=address)
    claim.rendering_provider = copy.deepcopy(person)
    claim.attending_provider = copy.deepcopy(person)
    claim.service_facility = copy.deepcopy(person)
    claim.billing_provider.address = copy.deepcopy(address)
    claim.subscriber.address = copy.deepcopy(address)
    claim.payer.address = copy.deepcopy(address)
    assert claim.patient is not None
    claim.patient.address = copy.deepcopy(address)
    claim.service_lines[0].modifiers = ("25",)
    claim.other_segments = (("NTE", "ADD", "NOTE"),)
    return claim


def _text_fields(owner: Any, path: str) -> Iterator[tuple[str, Any, str]]:
    """(path, owner, attribute) of every str attribute reachable from ``owner``."""
    for f in dataclasses.fields(owner):
        value = getattr(owner, f.name)
        if isinstance(value, str) and f.name != "claim_type":
            yield f"{path}.{f.name}", owner, f.name
        elif dataclasses.is_dataclass(value):
            yield from _text_fields(value, f"{path}.{f.name}")
        elif isinstance(value, list):
            for number, item in enumerate(value, 1):
                yield from _text_fields(item, f"{path}.{f.name}[{number}]")


def _writes(claim: Claim) -> bool:
    try:
        write_837([claim], InterchangeHeader(Party("A"), Party("B")), CounterControlNumbers(),
                  Submitter("BILLING", "B1"), Receiver("PAYER", "P1"))
    except X12ElementError:
        return False
    return True


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_every_value_the_writer_writes_is_checked(claim_type: ClaimType) -> None:
    """The writer is the oracle: a value with a delimiter that it refuses is found, in
    one place; one it writes (a value the 837 of this type does not carry) need not be."""
    full = _full(claim_type)
    assert _writes(full)
    paths = [path for path, _, _ in _text_fields(full, "claim")]
    unwritten = []
    for path in paths:
        claim = _full(claim_type)
        owner, attribute = next((o, a) for p, o, a in _text_fields(claim, "claim") if p == path)
        setattr(owner, attribute, "A*B")
        found = [place.field for place, _ in values_with(claim)]
        if _writes(claim):
            unwritten.append(path)
        else:
            assert len(found) == 1, path
    assert len(paths) - len(unwritten) > 50


@pytest.mark.parametrize(("mutate", "field", "line"), [
    (lambda c: setattr(c.subscriber, "last_name", "SMITH*JONES~X"), "2010BA NM103", None),
    (lambda c: setattr(c.billing_provider.address, "line1", "12 ELM ST:APT 3"),
     "2010AA N301", None),
    (lambda c: setattr(c, "patient_control_number", "PCN^1"), "2300 CLM01", None),
    (lambda c: setattr(c, "diagnoses", (*c.diagnoses, "E11:9")),
     None, None),
    (lambda c: setattr(c.service_lines[-1], "modifiers", ("2*5",)), "2400 SV101-3", -1),
    (lambda c: setattr(c.service_lines[0], "line_control_number", "L~1"), "2400 REF02 (6R)",
     1),
    (lambda c: setattr(c, "other_segments", (("NTE", "ADD", "SEE:CHART"),)), "2300 NTE02",
     None),
    (lambda c: setattr(c.subscriber, "other_segments", (("REF", "SY", "1\x1f2*3"),)),
     "2010BA REF02", None),
])
def test_a_delimiter_in_a_value_is_an_error_naming_the_field_not_the_value(
        mutate: Any, field: str | None, line: int | None) -> None:
    claim = copy.deepcopy(next(c for c in _POOL[ClaimType.PROFESSIONAL]
                               if len(c.diagnoses) < 12))
    mutate(claim)
    [finding] = SYN_07(claim, ScrubContext(as_of=DEFAULT_AS_OF))
    assert finding.severity is Severity.ERROR and finding.family == "syntax"
    expected = field or f"2300 HI{len(claim.diagnoses):02d}-2"
    assert finding.field == expected
    assert finding.line_number == (len(claim.service_lines) if line == -1 else line)
    for secret in ("SMITH", "JONES", "ELM", "PCN", "E11", "CHART", "L~1", "2*5", "1\x1f2"):
        assert secret not in finding.message
    assert finding.message.startswith(expected)


def test_a_kept_segment_s_own_component_markers_are_no_delimiters() -> None:
    claim = copy.deepcopy(_POOL[ClaimType.PROFESSIONAL][0])
    claim.other_segments = (("K3", "A\x1fB", "C\x1eD"),)
    assert SYN_07(claim, ScrubContext(as_of=DEFAULT_AS_OF)) == []


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_clean_claims_pass_and_what_passes_is_written(claim_type: ClaimType) -> None:
    claims = _POOL[claim_type]
    assert all(SYN_07(c, ScrubContext(as_of=DEFAULT_AS_OF)) == [] for c in claims)
    full = _full(claim_type)
    assert SYN_07(full, ScrubContext(as_of=DEFAULT_AS_OF)) == []
    written = write_837([full], InterchangeHeader(Party("A"), Party("B")),
                        CounterControlNumbers(), Submitter("BILLING", "B1"),
                        Receiver("PAYER", "P1"))
    assert written.text.count("~") == written.text.count("~\n")


def test_the_delimiters_of_a_partner_file_are_not_ours() -> None:
    """A claim read from a file using '>' as component separator may hold ':' legally
    there; checked against that file's delimiters it passes, against ours it does not."""
    claim = copy.deepcopy(_POOL[ClaimType.PROFESSIONAL][0])
    claim.subscriber.first_name = "ANN:MARIE"
    assert list(values_with(claim, Delimiters(component=">"))) == []
    assert [p.field for p, _ in values_with(claim)] == ["2010BA NM104"]


def test_a_claim_with_delimiters_is_rejected_by_the_default_rules() -> None:
    claim = copy.deepcopy(_POOL[ClaimType.INSTITUTIONAL][0])
    claim.patient = claim.patient or Patient("DOE", "JO", "19")
    claim.patient.last_name = "O*NEIL"
    result = scrub([claim], ScrubContext(as_of=DEFAULT_AS_OF))
    assert result.blocked(0)
    assert [f.field for f in result[0] if f.rule_id == "SYN-07"] == ["2010CA NM103"]
