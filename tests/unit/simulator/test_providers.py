"""The claim simulator: deterministic, clean where it says so, broken exactly where it says so."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import simple_icd_10_cm as icd

from revcycle.codesets import icd10_edits, npi
from revcycle.csvclaims import read_csv_claims, write_csv_claims
from revcycle.model.claim import Claim, ClaimType, Provider, Receiver
from revcycle.quality import run_quality
from revcycle.scrub import DEFAULT_RULES, ScrubContext, scrub
from revcycle.scrub.corrections import autocorrect
from revcycle.simulator import (
    ALL_DEFECT_TAGS,
    CORRECTION_TAGS,
    DEFAULT_AS_OF,
    DEFECT_SEVERITY,
    DEFECT_TAGS,
    QUALITY_DEFECT_TAGS,
    REFERENCE_DEFECT_TAGS,
    WARNING_DEFECT_TAGS,
    ClaimFactory,
    SimulatedReference,
    Simulation,
    generate,
    generate_claims,
)
from revcycle.x12.envelope import X12Reader
from revcycle.x12.read837 import parse_837
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

AS_OF = DEFAULT_AS_OF
SUITES = Path(__file__).resolve().parents[3] / "expectations"
NAME = re.compile(r"[A-Z]+(?:[ -][A-Z]+)*")
PROCEDURE = re.compile(r"\d{5}|[A-Z]\d{4}")
MODIFIERS = {"25", "59", "LT", "RT", "26", "TC", "GT", "95"}
PLACES = {"02", "10", "11", "21", "22", "23"}


@pytest.fixture(scope="module")
def claims() -> list[Claim]:
    return generate_claims(3000, seed=11)


def _strings(value: object, path: str = "claim"):
    """Every string held anywhere in a claim, with where it is."""
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _providers(claim: Claim) -> list[Provider]:
    return [p for p in (claim.billing_provider, claim.rendering_provider,
                        claim.attending_provider, claim.service_facility) if p is not None]


def _dates(claim: Claim) -> list[date]:
    found = [claim.statement_from, claim.statement_to, claim.admission_date, claim.onset_date]
    for line in claim.service_lines:
        found += [line.service_date, line.service_date_end]
    return [d for d in found if d is not None]


def _patient_key(claim: Claim) -> tuple:
    who = claim.patient or claim.subscriber
    return (claim.subscriber.member_id, who.last_name, who.first_name, who.birth_date)


def _signature(claim: Claim) -> tuple:
    """What makes two claims the same bill, whatever their control numbers."""
    return (claim.claim_type, _patient_key(claim), claim.billing_provider.npi,
            claim.diagnoses, claim.total_charge,
            tuple((ln.procedure_code, ln.revenue_code, ln.modifiers, ln.charge, ln.units,
                   ln.service_date) for ln in claim.service_lines))


# ------------------------------------------------------------------ determinism


def test_same_seed_same_claims() -> None:
    assert generate_claims(200, seed=7) == generate_claims(200, seed=7)
    first = ClaimFactory(7, "north clinic")
    second = ClaimFactory(7, "north clinic")
    assert first.claims(50) + first.claims(50) == second.claims(100)


def test_different_seeds_and_tenants_differ() -> None:
    a, b = generate_claims(50, seed=1), generate_claims(50, seed=2)
    assert a != b
    assert {c.billing_provider.npi for c in a}.isdisjoint({c.billing_provider.npi for c in b})
    assert {c.patient_control_number for c in a}.isdisjoint(
        {c.patient_control_number for c in b})
    other = generate_claims(50, seed=1, tenant="acme-health")
    assert all(c.patient_control_number.startswith("ACMEHE") for c in other)
    assert all(c.patient_control_number.startswith("SIMULA") for c in a)


def test_dates_follow_the_business_date_and_nothing_else() -> None:
    later = AS_OF + timedelta(days=10)
    base = generate_claims(300, seed=4)
    moved = generate_claims(300, seed=4, as_of=datetime(later.year, later.month, later.day, 9))
    for a, b in zip(base, moved, strict=True):
        assert [d + timedelta(days=10) for d in _dates(a)] == _dates(b)
        assert a.subscriber.birth_date + timedelta(days=10) == b.subscriber.birth_date
        assert a.total_charge == b.total_charge


# ------------------------------------------------------------------ clean claims


def test_every_npi_is_valid_and_providers_are_well_formed(claims: list[Claim]) -> None:
    for claim in claims:
        for provider in _providers(claim):
            assert npi.is_valid(provider.npi)
        billing = claim.billing_provider
        assert billing.entity_type == "2"
        assert billing.tax_id_qualifier == "EI" and re.fullmatch(r"\d{9}", billing.tax_id)
        assert re.fullmatch(r"[0-9]{3}[0-9A-Z]{6}X", billing.taxonomy)
        assert billing.address is not None
        assert re.fullmatch(r"\d{9}", billing.address.postal_code)
        assert "BOX" not in billing.address.line1 + billing.address.line2
        person = claim.rendering_provider or claim.attending_provider
        assert person is not None and person.entity_type == "1" and person.first_name
        if claim.service_facility is not None:
            assert claim.service_facility.entity_type == "2"
            assert claim.service_facility.address is not None


def test_total_charge_is_the_sum_of_the_lines(claims: list[Claim]) -> None:
    for claim in claims:
        assert claim.total_charge == sum(ln.charge for ln in claim.service_lines)
        for line in claim.service_lines:
            assert line.charge > 0 and line.charge.as_tuple().exponent == -2
            assert line.units > 0 and line.units == line.units.to_integral_value()


def test_diagnoses_are_billable_and_pointers_point_at_them(claims: list[Claim]) -> None:
    for claim in claims:
        assert 1 <= len(claim.diagnoses) <= 12
        assert len(set(claim.diagnoses)) == len(claim.diagnoses)
        for code in (*claim.diagnoses, *filter(None, [claim.admitting_diagnosis])):
            assert "." not in code
            assert icd.is_valid_item(code) and icd.is_leaf(code), code
        for line in claim.service_lines:
            if claim.claim_type is ClaimType.PROFESSIONAL:
                pointers = line.diagnosis_pointers
                assert 1 <= len(pointers) <= 4 and len(set(pointers)) == len(pointers)
                assert all(1 <= p <= len(claim.diagnoses) for p in pointers)
            else:
                assert line.diagnosis_pointers == ()
        if claim.claim_type is ClaimType.PROFESSIONAL:  # every diagnosis is pointed at
            pointed = {p for line in claim.service_lines for p in line.diagnosis_pointers}
            assert pointed == set(range(1, len(claim.diagnoses) + 1))


def test_no_two_diagnoses_of_a_claim_exclude_each_other(claims: list[Claim]) -> None:
    """Judged by the ICD-10-CM Excludes1 notes themselves, not the simulator's table."""
    pairs = Counter()
    for claim in claims:
        codes = claim.diagnoses
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                assert not icd10_edits.mutually_exclusive(a, b), (a, b)
                pairs[a[:1] + b[:1]] += 1
    assert sum(pairs.values()) > 10000  # many pairs were looked at


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_diagnoses_and_visits_fit_the_patients_age_and_sex(claims: list[Claim]) -> None:
    checked = Counter()
    for claim in claims:
        who = claim.patient or claim.subscriber
        ages = {_age(who.birth_date, d) for d in _dates(claim)}
        for code in claim.diagnoses:
            if code in ("Z00121", "Z00129"):
                assert max(ages) < 18
            elif code in ("Z0000", "Z0001", "I10", "E119"):
                assert min(ages) >= 18
            elif code == "N400":
                assert who.sex == "M"
            else:
                continue
            checked[code] += 1
        for line in claim.service_lines:
            if line.procedure_code.startswith("9939"):  # preventive visits by age band
                band = {"99391": (0, 0), "99392": (1, 4), "99393": (5, 11), "99394": (12, 17),
                        "99395": (18, 39), "99396": (40, 64), "99397": (65, 200)}
                low, high = band[line.procedure_code]
                assert low <= min(ages) and max(ages) <= high
                checked["preventive"] += 1
        if claim.payer.payer_id == "SIMA1":
            assert min(ages) >= 65
    assert len(checked) >= 6


def test_control_numbers_are_unique(claims: list[Claim]) -> None:
    numbers = [c.patient_control_number for c in claims]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) <= 20 and n.isalnum() for n in numbers)
    lines = [ln.line_control_number for c in claims for ln in c.service_lines]
    assert all(lines) and len(set(lines)) == len(lines)


def test_dates_of_service_are_past_and_after_birth(claims: list[Claim]) -> None:
    for claim in claims:
        born = (claim.patient or claim.subscriber).birth_date
        for day in _dates(claim):
            assert born < day < AS_OF
        assert AS_OF - timedelta(days=90) <= claim.service_date


def test_no_patient_has_two_claims_of_a_type_on_one_day(claims: list[Claim]) -> None:
    seen = Counter((_patient_key(c), c.claim_type, d) for c in claims
                   for d in {ln.service_date for ln in c.service_lines})
    assert max(seen.values()) == 1
    signatures = [_signature(c) for c in claims]
    assert len(set(signatures)) == len(signatures)


def test_professional_lines_are_coded_plausibly(claims: list[Claim]) -> None:
    pro = [c for c in claims if c.claim_type is ClaimType.PROFESSIONAL]
    assert len(pro) > 2000
    for claim in pro:
        assert claim.facility_code in PLACES
        assert 1 <= len(claim.service_lines) <= 6
        assert claim.rendering_provider is not None
        codes = [ln.procedure_code for ln in claim.service_lines]
        for line in claim.service_lines:
            mods = set(line.modifiers)
            assert PROCEDURE.fullmatch(line.procedure_code)
            assert line.procedure_qualifier == "HC" and line.unit_basis == "UN"
            assert mods <= MODIFIERS and len(mods) == len(line.modifiers)
            assert not {"26", "TC"} <= mods and not {"LT", "RT"} <= mods
            if mods & {"95", "GT"}:
                assert claim.facility_code in ("02", "10")
            if "25" in mods:  # a separately identifiable visit next to a procedure
                assert line.procedure_code.startswith("99") and len(codes) > 1
            if "26" in mods:
                assert claim.facility_code in ("21", "22", "23")
        if claim.frequency_code == "7":
            assert claim.original_claim_reference.isdigit()
        else:
            assert claim.frequency_code == "1" and not claim.original_claim_reference
    modifiers = Counter(m for c in pro for ln in c.service_lines for m in ln.modifiers)
    assert set(modifiers) == MODIFIERS  # every modifier gets used somewhere
    assert any(c.frequency_code == "7" for c in pro)


def test_institutional_claims_cover_their_lines(claims: list[Claim]) -> None:
    inst = [c for c in claims if c.claim_type is ClaimType.INSTITUTIONAL]
    assert len(inst) > 300
    kinds = Counter(c.facility_code for c in inst)
    assert set(kinds) == {"11", "13"}
    for claim in inst:
        assert claim.statement_from is not None and claim.statement_to is not None
        assert claim.statement_from <= claim.statement_to
        assert claim.attending_provider is not None and claim.rendering_provider is None
        assert claim.admission_type and claim.patient_status
        codes = {ln.procedure_code for ln in claim.service_lines}
        for line in claim.service_lines:
            assert re.fullmatch(r"\d{4}", line.revenue_code)
            if line.procedure_code in ("73030", "73610"):  # x-rays say which side
                assert len(set(line.modifiers) & {"LT", "RT"}) == 1
            elif line.procedure_code == "97140" and "97110" in codes:
                assert line.modifiers == ("59",)
            else:
                assert line.modifiers == ()
            assert line.unit_basis in ("UN", "DA")
            assert line.procedure_code == "" or PROCEDURE.fullmatch(line.procedure_code)
            end = line.service_date_end or line.service_date
            assert claim.statement_from <= line.service_date <= end <= claim.statement_to
        if claim.facility_code == "11":
            assert claim.admission_date == claim.statement_from
            assert claim.admitting_diagnosis and claim.admission_source
            assert claim.statement_to > claim.statement_from
        else:
            assert claim.admission_date is None and not claim.admitting_diagnosis


def test_payers_and_members_are_consistent(claims: list[Claim]) -> None:
    filing = {("SIMA1", "837P"): "MB", ("SIMA1", "837I"): "MA", ("SIMD1", "837P"): "MC"}
    dependents = Counter()
    for claim in claims:
        key = (claim.payer.payer_id, claim.claim_type.value)
        if key in filing:
            assert claim.subscriber.claim_filing_indicator == filing[key]
        if claim.payer.payer_id in ("SIMA1", "SIMD1"):
            assert claim.patient is None  # Medicare and Medicaid members are the patient
        if claim.payer.payer_id == "SIMA1":
            assert re.fullmatch(r"[1-9][A-Z][0-9A-Z]\d[A-Z][0-9A-Z]\d[A-Z]{2}\d{2}",
                                claim.subscriber.member_id)
        if claim.patient is not None:
            dependents[claim.patient.relationship] += 1
            if claim.patient.relationship == "19":  # a child is at least 16 years younger
                assert _age(claim.subscriber.birth_date, claim.patient.birth_date) >= 16
            assert claim.patient.address is not None and claim.patient.birth_date
        else:
            assert claim.subscriber.address is not None and claim.subscriber.birth_date
        assert claim.subscriber.sex in ("F", "M")
    assert set(dependents) == {"01", "19"}
    assert 0 < sum(dependents.values()) < len(claims) / 4  # most patients are the subscriber
    assert len({c.payer.payer_id for c in claims}) == 5


def test_strings_are_x12_safe_and_names_are_plain(claims: list[Claim]) -> None:
    name_fields = ("last_name", "first_name", "middle_name", "name_suffix")
    for claim in claims:
        for path, value in _strings(claim):
            assert not set(value) & set("*:~^|>"), path
            assert value == value.strip() and value.isascii(), path
            if path.rsplit(".", 1)[-1] in name_fields and value:
                assert NAME.fullmatch(value), (path, value)


def test_claim_type_can_be_fixed() -> None:
    assert {c.claim_type for c in generate_claims(100, 3, ClaimType.INSTITUTIONAL)} == {
        ClaimType.INSTITUTIONAL}
    assert {c.claim_type for c in generate_claims(100, 3, ClaimType.PROFESSIONAL)} == {
        ClaimType.PROFESSIONAL}


def test_batches_group_claims_by_type_and_payer() -> None:
    factory = ClaimFactory(5)
    claims = factory.claims(400)
    batches = factory.batches(claims)
    assert sum(len(b.claims) for b in batches) == len(claims)
    keys = [(b.claim_type, b.receiver.id) for b in batches]
    assert len(set(keys)) == len(keys)
    for batch in batches:
        assert all(c.claim_type is batch.claim_type for c in batch.claims)
        assert all(c.payer.payer_id == batch.receiver.id for c in batch.claims)
        assert batch.created == AS_OF and batch.submitter.name
    assert len({b.reference for b in batches}) == len(batches)


@pytest.mark.parametrize("kwargs", [
    {"n": -1}, {"defect_rate": 1.5}, {"defects": ("NOPE-01",)}, {"defects": ("FIX-01",)},
    {"filing_limit_days": 30},
])
def test_bad_arguments_are_refused(kwargs: dict) -> None:
    args = {"n": 5, "seed": 1, **kwargs}
    with pytest.raises(ValueError):
        generate(**args)


def test_tenant_needs_a_letter_or_digit() -> None:
    with pytest.raises(ValueError):
        ClaimFactory(1, "---")


# ------------------------------------------------------------------ the 837 round trip


def test_simulated_claims_make_valid_837s_that_read_back_equal() -> None:
    factory = ClaimFactory(21, "roundtrip")
    header = InterchangeHeader(Party("SENDER1"), Party("RECEIVER1"),
                               created=datetime(2026, 11, 2, 9, 15))
    clearinghouse = Receiver("SIM CLEARINGHOUSE", "SIMCH1")  # one file per type, all payers
    for claim_type in ClaimType:
        claims = factory.claims(60, claim_type)
        assert len({c.payer.payer_id for c in claims}) > 1
        written = write_837(claims, header, CounterControlNumbers(), factory.submitter,
                            clearinghouse)
        assert pyx12_errors(written.text) == []
        document = X12Reader(written.text.encode(), {"837": parse_837}).read()
        assert [c for body in document.bodies() for c in body.claims] == claims


# ------------------------------------------------------------------ seeded defects

ORIGINAL = ("NPI-01", "DX-01", "BAL-01", "DT-01", "PTR-01", "DUP-01")


def _fired(claim: Claim, earlier: set[tuple]) -> set[str]:
    """The rules a claim trips, judged independently of how the simulator broke it."""
    fired = set()
    if not all(npi.is_valid(p.npi) for p in _providers(claim)):
        fired.add("NPI-01")
    if not all(icd.is_valid_item(c) and icd.is_leaf(c) for c in claim.diagnoses):
        fired.add("DX-01")
    if claim.total_charge != sum(ln.charge for ln in claim.service_lines):
        fired.add("BAL-01")
    if any(day > AS_OF for day in _dates(claim)):
        fired.add("DT-01")
    if any(p > len(claim.diagnoses) for ln in claim.service_lines
           for p in ln.diagnosis_pointers):
        fired.add("PTR-01")
    if _signature(claim) in earlier:
        fired.add("DUP-01")
    return fired


def test_each_original_defect_trips_exactly_its_rule() -> None:
    claims, defects = generate(2000, seed=13, defect_rate=0.25, defects=ORIGINAL)
    assert 300 < len(defects) < 700
    assert set(Counter(t for tags in defects.values() for t in tags)) == set(ORIGINAL)
    assert any(len(tags) == 2 for tags in defects.values())
    earlier: set[tuple] = set()
    for claim, clean in zip(claims, generate_claims(2000, seed=13), strict=True):
        tags = defects.get(claim.patient_control_number, ())
        assert _fired(claim, earlier) == set(tags), claim.patient_control_number
        if "PTR-01" in tags:
            assert claim.claim_type is ClaimType.PROFESSIONAL
        if "DT-01" in tags:  # moved with its birth dates: the patient's age is unchanged
            moved = claim.service_date - clean.service_date
            assert moved.days > 0
            for person, was in ((claim.subscriber, clean.subscriber),
                                (claim.patient, clean.patient)):
                if person is not None and was is not None:
                    assert person.birth_date - was.birth_date == moved
                    assert person.birth_date < AS_OF
        earlier.add(_signature(claim))
    numbers = [c.patient_control_number for c in claims]
    assert len(set(numbers)) == len(numbers)


def _judged(sim: Simulation, reference: object) -> list[tuple[str, set[str], set[str]]]:
    """(control number, tags, rules fired) of each claim whose findings are not exactly
    its tags at their severities."""
    ctx = ScrubContext(as_of=AS_OF, reference=reference)
    numbers = [c.patient_control_number for c in sim.claims]
    result = scrub(copy.deepcopy(sim.claims), ctx)
    wrong = []
    for number, findings in zip(numbers, result, strict=True):
        tags = set(sim.defects.get(number, ()))
        fired = {f.rule_id for f in findings}
        levels = {(f.rule_id, f.severity.value.upper()) for f in findings}
        if fired != tags or any((t, DEFECT_SEVERITY[t]) not in levels for t in tags):
            wrong.append((number, tags, fired))
    return wrong


@pytest.mark.parametrize("seed, claim_type", [(21, None), (22, ClaimType.PROFESSIONAL),
                                              (23, ClaimType.INSTITUTIONAL)])
def test_every_tag_trips_exactly_its_rule_at_its_severity(seed, claim_type) -> None:
    """Against the scrub catalog with the simulator's reference tables: each tagged claim
    gets findings of its tags' rules and no other (warnings included), and the claims
    without a tag get no finding at all."""
    sim = generate(2500, seed, claim_type, defect_rate=0.3, defects=ALL_DEFECT_TAGS,
                   corrections=True)
    assert _judged(sim, SimulatedReference()) == []
    seen = {t for tags in sim.defects.values() for t in tags}
    if claim_type is None:
        assert seen == set(ALL_DEFECT_TAGS) | set(CORRECTION_TAGS)
    elif claim_type is ClaimType.INSTITUTIONAL:  # the 837P-only defects never land here
        assert seen & {"PTR-01", "DEM-02", "DX-06", "DX-07", "POS-01", "POS-02"} == {"DEM-02"}
    assert any(len(set(tags) - set(CORRECTION_TAGS)) == 2 for tags in sim.defects.values())


def test_reference_defects_are_caught_only_with_the_tables() -> None:
    sim = generate(600, 5, defect_rate=0.4, defects=REFERENCE_DEFECT_TAGS)
    assert {t for tags in sim.defects.values() for t in tags} == set(REFERENCE_DEFECT_TAGS)
    assert _judged(sim, SimulatedReference()) == []
    ctx = ScrubContext(as_of=AS_OF)  # nothing loaded: the rules say they did not run
    result = scrub(copy.deepcopy(sim.claims), ctx)
    assert not any(result)
    assert ctx.not_run == set(REFERENCE_DEFECT_TAGS)


def test_simulated_reference_tables() -> None:
    tables = SimulatedReference()
    assert all(tables.loaded(t) for t in ("hcpcs", "ncci_ptp", "mue"))
    assert not tables.loaded("icd10")
    assert tables.hcpcs_active("J1100", AS_OF) is True
    assert tables.hcpcs_active("G0202", AS_OF) is False
    assert tables.hcpcs_active("G0202", date(2017, 6, 1)) is True
    assert tables.hcpcs_active("Q9999", AS_OF) is False  # not in the table: not active
    assert tables.ncci_modifier_indicator("99213", "36000", AS_OF) == "1"
    assert tables.ncci_modifier_indicator("99213", "36410", AS_OF) == "0"
    assert tables.ncci_modifier_indicator("36000", "99213", AS_OF) is None
    assert tables.mue_limit("J1100", AS_OF, "837P") == Decimal(20)
    assert tables.mue_limit("99213", AS_OF, "837I") is None


def test_severities_are_the_catalogs() -> None:
    assert set(DEFECT_SEVERITY) == set(ALL_DEFECT_TAGS) | set(CORRECTION_TAGS)
    assert len(set(ALL_DEFECT_TAGS)) == len(ALL_DEFECT_TAGS)
    for tag in ALL_DEFECT_TAGS:
        assert DEFECT_SEVERITY[tag] == DEFAULT_RULES[tag].severity.value.upper(), tag
    assert {t for t, level in DEFECT_SEVERITY.items() if level == "WARNING"} == (
        set(WARNING_DEFECT_TAGS) | set(CORRECTION_TAGS))
    # The default draws errors only, and none that a loaded table must judge.
    assert all(DEFECT_SEVERITY[t] == "ERROR" for t in DEFECT_TAGS)
    assert not set(DEFECT_TAGS) & (set(QUALITY_DEFECT_TAGS) | set(REFERENCE_DEFECT_TAGS))


def test_default_defects_travel_in_837_and_csv_and_pass_the_quality_suites() -> None:
    """What the pipeline relies on: a default defect reaches the scrub stage intact."""
    factory = ClaimFactory(31, "travel")
    claims, defects = factory.generate(600, defect_rate=0.5)
    assert len({t for tags in defects.values() for t in tags}) == len(DEFECT_TAGS)
    header = InterchangeHeader(Party("SENDER1"), Party("RECEIVER1"),
                               created=datetime(2026, 11, 2, 9, 15))
    for claim_type in ClaimType:
        group = [c for c in claims if c.claim_type is claim_type]
        written = write_837(group, header, CounterControlNumbers(), factory.submitter,
                            Receiver("SIM CLEARINGHOUSE", "SIMCH1"))
        document = X12Reader(written.text.encode(), {"837": parse_837}).read()
        assert [c for body in document.bodies() for c in body.claims] == group
    pro = [c for c in claims if c.claim_type is ClaimType.PROFESSIONAL]
    result = scrub(read_csv_claims(write_csv_claims(pro)), ScrubContext(as_of=AS_OF))
    for claim, findings in zip(pro, result, strict=True):  # the CSV keeps every defect
        tags = set(defects.get(claim.patient_control_number, ()))
        # DUP-01 aside: the CSV has no service facility columns, so the original of a copy
        # may be blocked (POS-02) and its copy is then no duplicate.
        assert tags - {"DUP-01"} <= {f.rule_id for f in findings}
    outcome = run_quality(list(enumerate(claims)), SUITES)
    assert outcome.failed == {}


def test_quality_defects_are_stopped_by_the_quality_suites() -> None:
    claims, defects = generate(500, 32, defect_rate=0.5, defects=QUALITY_DEFECT_TAGS)
    failed = run_quality(list(enumerate(claims)), SUITES).failed
    for index, claim in enumerate(claims):
        tags = defects.get(claim.patient_control_number, ())
        person = claim.patient or claim.subscriber
        old = person.birth_date is not None and person.birth_date < claim.service_date
        if tags and not (tags == ("DEM-01",) and old):  # more than 120 years passes
            assert index in failed, tags
        elif not tags:
            assert index not in failed


def test_dealing_gives_each_tag_its_share() -> None:
    _, defects = generate(2000, 11, defect_rate=0.1)
    counts = Counter(t for tags in defects.values() for t in tags)
    assert set(counts) == set(DEFECT_TAGS)
    assert min(counts.values()) >= 5 and max(counts.values()) <= 15, counts


def test_defects_leave_the_clean_claims_as_they_were() -> None:
    clean = generate(500, seed=8).claims
    mixed, defects = generate(500, seed=8, defect_rate=0.3, defects=ALL_DEFECT_TAGS)
    assert defects
    for before, after in zip(clean, mixed, strict=True):
        if after.patient_control_number not in defects:
            assert before == after
    assert generate(500, seed=8, defect_rate=0.3, defects=ALL_DEFECT_TAGS) == (mixed, defects)


def test_corrections_are_undone_by_autocorrect_and_change_no_defect() -> None:
    plain = generate(800, 9, defect_rate=0.3, defects=ALL_DEFECT_TAGS)
    claims, tags = generate(800, 9, defect_rate=0.3, defects=ALL_DEFECT_TAGS, corrections=True)
    corrected = {pcn: t for pcn, t in tags.items() if set(t) <= set(CORRECTION_TAGS)}
    assert {pcn: t for pcn, t in tags.items() if pcn not in corrected} == plain.defects
    assert 120 < len(corrected) < 220  # about 30% of the 560 or so claims left clean
    assert {t for t_ in corrected.values() for t in t_} == set(CORRECTION_TAGS)
    for claim, before in zip(claims, plain.claims, strict=True):
        fixes = corrected.get(claim.patient_control_number)
        if fixes is None:
            assert claim == before
            continue
        assert claim != before
        fixed = copy.deepcopy(claim)
        assert {f.rule_id for f in autocorrect(fixed)} == set(fixes)
        assert fixed == before


def test_filing_limit_is_a_parameter() -> None:
    claims, defects = generate(400, 10, defect_rate=0.5, defects=("DT-03",),
                               filing_limit_days=180)
    assert len(defects) > 100
    for claim, clean in zip(claims, generate_claims(400, 10), strict=True):
        days = (AS_OF - claim.service_date).days
        if claim.patient_control_number not in defects:
            assert claim == clean and days <= 90
            continue
        assert 180 < days <= 300
        moved = claim.service_date - clean.service_date  # birth dates too: same ages
        assert claim.subscriber.birth_date - clean.subscriber.birth_date == moved
        assert _dates(claim) == [d + moved for d in _dates(clean)]
    with pytest.raises(ValueError):
        generate(10, 10, defect_rate=0.5, filing_limit_days=60)  # clean claims would be late


def test_defects_can_be_restricted() -> None:
    _, defects = generate(400, seed=9, defect_rate=0.5, defects=("BAL-01", "PTR-01"))
    assert set(t for tags in defects.values() for t in tags) == {"BAL-01", "PTR-01"}
    claims, defects = generate(300, 9, ClaimType.INSTITUTIONAL, defect_rate=0.5,
                               defects=("PTR-01",))
    assert defects == {}  # an 837I has no diagnosis pointers to break
    assert len(claims) == 300
    assert generate(50, 9, defect_rate=0.0).defects == {}
    assert generate(50, 9, defect_rate=0.5, defects=()).defects == {}


def test_defect_money_stays_exact() -> None:
    claims, defects = generate(600, seed=3, defect_rate=0.5,
                               defects=("BAL-01", "SYN-04", "NCCI-01", "DUP-02"))
    broken = [c for c in claims if c.patient_control_number in defects]
    assert broken
    for claim in broken:
        assert isinstance(claim.total_charge, Decimal) and claim.total_charge > 0
        assert claim.total_charge.as_tuple().exponent == -2
        for line in claim.service_lines:
            assert line.charge.as_tuple().exponent == -2
