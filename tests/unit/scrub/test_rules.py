"""Scrub rules: each rule on a claim that trips it and on the nearest claim that does not,
the simulator's seeded defects, payer rule selection, duplicate keys and PHI-free messages.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from revcycle.codesets.npi import calc_check_digit
from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Patient,
    Payer,
    Provider,
    ServiceLine,
    Subscriber,
)
from revcycle.scrub import (
    DEFAULT_RULES,
    Finding,
    Hit,
    Rule,
    RuleSet,
    RuleSetError,
    ScrubContext,
    Severity,
    balance,
    dates,
    diagnoses,
    duplicate_key,
    duplicates,
    identifiers,
    rule,
    scrub,
)
from revcycle.simulator import DEFAULT_AS_OF, DEFECT_TAGS, generate

AS_OF = date(2026, 11, 2)
DOS = date(2026, 10, 14)


def _npi(first8: str, entity: str = "1") -> str:
    body = entity + first8
    return body + calc_check_digit(body)


def _wrong(npi: str) -> str:
    return npi[:-1] + str((int(npi[-1]) + 1) % 10)


BILLING_NPI = _npi("34567890", "2")
RENDERING_NPI = _npi("11223344")
ATTENDING_NPI = _npi("55667788")
FACILITY_NPI = _npi("99001122")


def _provider(npi: str, entity: str = "1") -> Provider:
    return Provider(entity, "TESTWELL", "ANNA" if entity == "1" else "", npi=npi)


def professional() -> Claim:
    """A clean 837P claim: three diagnoses, three lines pointing at them."""
    lines = [
        ServiceLine("99213", Decimal("140.00"), Decimal("1"), DOS, diagnosis_pointers=(1, 2)),
        ServiceLine("36415", Decimal("15.00"), Decimal("1"), DOS, diagnosis_pointers=(3,)),
        ServiceLine("80053", Decimal("55.00"), Decimal("1"), DOS,
                    diagnosis_pointers=(1, 2, 3)),
    ]
    for number, line in enumerate(lines, 1):
        line.line_control_number = f"PCN0001-{number}"
    return Claim(
        ClaimType.PROFESSIONAL, "PCN0001", Decimal("210.00"), "11",
        Provider("2", "SAMPLEFORD FAMILY MEDICINE", npi=BILLING_NPI, tax_id="271234567",
                 tax_id_qualifier="EI", address=Address("1 DEMO ST", "AUSTIN", "TX", "787011234")),
        Subscriber("MOCKRIDGE", "BETH", "XQB123456789", date(1980, 3, 9), "F"),
        Payer("SAMPLE BLUE PLAN", "SIMB1"),
        ("E119", "I10", "E785"),
        lines,
        rendering_provider=_provider(RENDERING_NPI),
        service_facility=_provider(FACILITY_NPI, "2"),
    )


def institutional() -> Claim:
    """A clean 837I inpatient claim: a three-night stay with an admitting diagnosis."""
    start, end = DOS, DOS + timedelta(days=3)
    lines = [
        ServiceLine("", Decimal("7200.00"), Decimal("3"), start, end - timedelta(days=1),
                    unit_basis="DA", revenue_code="0120"),
        ServiceLine("", Decimal("90.00"), Decimal("2"), start + timedelta(days=1),
                    revenue_code="0300"),
        ServiceLine("", Decimal("120.00"), Decimal("1"), end, revenue_code="0730"),
    ]
    for number, line in enumerate(lines, 1):
        line.line_control_number = f"PCN0002-{number}"
    claim = Claim(
        ClaimType.INSTITUTIONAL, "PCN0002", Decimal("7410.00"), "11",
        Provider("2", "FAKEWORTH GENERAL HOSPITAL", npi=_npi("31415926", "2"),
                 tax_id="741234567", tax_id_qualifier="EI",
                 address=Address("500 SAMPLE WAY", "AUSTIN", "TX", "787015000")),
        Subscriber("DUMMERTON", "CARL", "1EG4TE5MK72", date(1950, 5, 17), "M",
                   claim_filing_indicator="MA"),
        Payer("SIMULATED MEDICARE", "SIMA1"),
        ("J189", "I509", "N390", "E1165"),
        lines,
        attending_provider=_provider(ATTENDING_NPI),
        rendering_provider=_provider(RENDERING_NPI),
        service_facility=_provider(FACILITY_NPI, "2"),
        statement_from=start,
        statement_to=end,
        admission_date=start,
        admitting_diagnosis="R0602",
    )
    claim.provider_signature = ""
    return claim


def ctx(**changes: object) -> ScrubContext:
    return ScrubContext(as_of=AS_OF, **changes)  # type: ignore[arg-type]


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def run(claim: Claim, context: ScrubContext | None = None) -> list[Finding]:
    return DEFAULT_RULES.run(claim, context or ctx())


# ------------------------------------------------------------------ the clean claims


@pytest.mark.parametrize("make", [professional, institutional])
def test_the_nearest_clean_claims_pass_every_rule(make) -> None:
    assert run(make()) == []
    result = scrub([make()], ctx())
    assert result.findings == [[]]
    assert not result.blocked(0)


def test_default_catalog_has_the_first_rules_in_family_order() -> None:
    assert DEFAULT_RULES.ids == ("NPI-01", "ID-01", "ID-02", "ID-03", "ID-04", "ID-05",
                                 "DX-01", "PTR-01",
                                 "DX-02", "DX-03", "DX-04", "DX-05", "DX-06", "DX-07",
                                 "BAL-01", "DT-01", "DT-02", "DT-03", "DT-04",
                                 "DUP-01", "DUP-02",
                                 "SYN-01", "SYN-02", "SYN-03", "SYN-04", "SYN-05", "SYN-06",
                                 "SYN-07",
                                 "DEM-01", "DEM-02",
                                 "PROC-01", "PROC-02", "PROC-03",
                                 "MOD-01", "MOD-02", "MOD-03", "MOD-04", "NCCI-01", "MUE-01",
                                 "POS-01", "POS-02")
    assert {r.id for r in DEFAULT_RULES} >= set(DEFECT_TAGS)
    families = {r.id: r.family for r in DEFAULT_RULES}
    assert families == {"NPI-01": "identifiers", "ID-01": "identifiers",
                        "ID-02": "identifiers", "ID-03": "identifiers", "ID-04": "identifiers",
                        "ID-05": "identifiers",
                        "DX-01": "diagnoses", "PTR-01": "diagnoses",
                        "DX-02": "diagnoses", "DX-03": "diagnoses", "DX-04": "diagnoses",
                        "DX-05": "diagnoses", "DX-06": "diagnoses", "DX-07": "diagnoses",
                        "BAL-01": "balance", "DT-01": "dates", "DT-02": "dates",
                        "DT-03": "dates", "DT-04": "dates",
                        "DUP-01": "duplicates", "DUP-02": "duplicates",
                        "SYN-01": "syntax", "SYN-02": "syntax", "SYN-03": "syntax",
                        "SYN-04": "syntax", "SYN-05": "syntax", "SYN-06": "syntax",
                        "SYN-07": "syntax",
                        "DEM-01": "demographics", "DEM-02": "demographics",
                        "PROC-01": "procedures", "PROC-02": "procedures",
                        "PROC-03": "procedures", "MOD-01": "procedures", "MOD-02": "procedures",
                        "MOD-03": "procedures", "MOD-04": "procedures",
                        "NCCI-01": "procedures", "MUE-01": "procedures",
                        "POS-01": "place", "POS-02": "place"}
    assert {r.id for r in DEFAULT_RULES if r.severity is not Severity.ERROR} == {
        "SYN-02", "DX-02", "DX-03", "DX-07", "DT-04"}


# ------------------------------------------------------------------ NPI-01


@pytest.mark.parametrize(("make", "attribute", "field", "who"), [
    (professional, "billing_provider", "2010AA NM109", "billing provider"),
    (professional, "rendering_provider", "2310B NM109", "rendering provider"),
    (professional, "service_facility", "2310C NM109", "service facility"),
    (institutional, "billing_provider", "2010AA NM109", "billing provider"),
    (institutional, "attending_provider", "2310A NM109", "attending provider"),
    (institutional, "rendering_provider", "2310D NM109", "rendering provider"),
    (institutional, "service_facility", "2310E NM109", "service facility"),
])
def test_npi01_every_provider_npi_passes_its_check_digit(make, attribute, field, who) -> None:
    claim = make()
    provider = getattr(claim, attribute)
    provider.npi = _wrong(provider.npi)
    [finding] = run(claim)
    assert finding == Finding("NPI-01", "identifiers", Severity.ERROR,
                              f"{who} NPI fails its check digit", field, None)


@pytest.mark.parametrize("bad", ["123456789", "12345678901", "3234567891", "12345A7893",
                                 "1234-56789"])
def test_npi01_malformed_npi_is_reported_as_such(bad) -> None:
    claim = professional()
    claim.rendering_provider.npi = bad  # type: ignore[union-attr]
    [finding] = identifiers.npi_check_digit(claim, ctx())
    assert finding.message == "rendering provider NPI is not 10 digits starting with 1 or 2"
    assert finding.field == "2310B NM109"


def test_npi01_nearest_passing_claims() -> None:
    claim = professional()
    claim.rendering_provider.npi = ""  # type: ignore[union-attr]  # missing: another rule
    claim.service_facility = None
    assert identifiers.npi_check_digit(claim, ctx()) == []
    claim.billing_provider.npi = "1234567893"  # a different, valid NPI
    assert identifiers.npi_check_digit(claim, ctx()) == []


def test_npi01_reports_each_bad_npi_once() -> None:
    claim = institutional()
    for p in (claim.billing_provider, claim.attending_provider, claim.rendering_provider):
        p.npi = _wrong(p.npi)  # type: ignore[union-attr]
    fields = [f.field for f in identifiers.npi_check_digit(claim, ctx())]
    assert fields == ["2010AA NM109", "2310D NM109", "2310A NM109"]


# ------------------------------------------------------------------ DX-01


@pytest.mark.parametrize(("index", "code", "field", "what"), [
    (0, "E11", "2300 HI01-2", "principal diagnosis"),  # a category with children
    (1, "I1", "2300 HI02-2", "diagnosis 2"),  # too short
    (2, "M545", "2300 HI03-2", "diagnosis 3"),  # a subcategory with children
    (2, "E78.5", "2300 HI03-2", "diagnosis 3"),  # X12 carries no dot
    (2, "e785", "2300 HI03-2", "diagnosis 3"),
    (2, "A00-A09", "2300 HI03-2", "diagnosis 3"),  # a block, not a code
    (2, "S93401", "2300 HI03-2", "diagnosis 3"),  # needs its seventh character
    (2, "ZZZ99", "2300 HI03-2", "diagnosis 3"),
])
def test_dx01_every_diagnosis_is_billable(index, code, field, what) -> None:
    claim = professional()
    codes = list(claim.diagnoses)
    codes[index] = code
    claim.diagnoses = tuple(codes)
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number) == ("DX-01", field, None)
    assert finding.message == f"{what} is not a billable ICD-10-CM code"


def test_dx01_nearest_passing_codes_are_the_leaves() -> None:
    claim = professional()
    claim.diagnoses = ("E1165", "M5450", "S93401A", "Z23")
    claim.service_lines[2].diagnosis_pointers = (4,)
    assert run(claim) == []


def test_dx01_institutional_fields_and_admitting_diagnosis() -> None:
    claim = institutional()
    claim.diagnoses = ("J18", *claim.diagnoses[1:3], "N39")
    claim.admitting_diagnosis = "R06"
    findings = diagnoses.billable_diagnoses(claim, ctx())
    assert [(f.field, f.message) for f in findings] == [
        ("2300 HI01-2 (ABK)", "principal diagnosis is not a billable ICD-10-CM code"),
        ("2300 HI03-2 (ABF)", "diagnosis 4 is not a billable ICD-10-CM code"),
        ("2300 HI01-2 (ABJ)", "admitting diagnosis is not a billable ICD-10-CM code"),
    ]


def test_dx01_icd9_and_missing_diagnoses_say_so_once() -> None:
    claim = professional()
    claim.icd9 = True
    claim.diagnoses = ("25000", "4019")
    assert [f.message for f in diagnoses.billable_diagnoses(claim, ctx())] == [
        "diagnoses are coded in ICD-9-CM; ICD-10-CM is required"]
    claim.icd9, claim.diagnoses = False, ()
    assert [f.message for f in diagnoses.billable_diagnoses(claim, ctx())] == [
        "the claim has no diagnosis"]


class _Release:
    """Another ICD-10-CM release, plugged in through the adapter protocol."""

    release = "2099-10-01"

    def __init__(self, billable: set[str]) -> None:
        self.billable = billable
        self.asked: list[str] = []
        self.dates: list[date] = []

    def is_billable(self, code: str) -> bool:
        self.asked.append(code)
        return code in self.billable

    def for_date(self, on: date) -> _Release:
        self.dates.append(on)
        return self


def test_dx01_checks_against_the_release_in_the_context_and_records_it() -> None:
    claim = professional()
    release = _Release({"E119", "E785"})  # I10 retired in this imaginary release
    context = ctx(icd10=release)
    [finding] = run(claim, context)
    assert finding.field == "2300 HI02-2"
    assert finding.code_set == "ICD-10-CM 2099-10-01"  # each edit names its release
    assert release.asked == ["E119", "I10", "E785"]
    assert set(release.dates) == {claim.service_date}  # the release in effect on that date
    assert scrub([professional()], ctx(icd10=release)).icd10_release == "2099-10-01"
    assert scrub([professional()], ctx()).icd10_release == "2026-04-01"


# ------------------------------------------------------------------ PTR-01


@pytest.mark.parametrize(("pointers", "message"), [
    ((4,), "has a diagnosis pointer that matches none of the claim's diagnoses"),
    ((1, 0), "has a diagnosis pointer that matches none of the claim's diagnoses"),
    ((), "has no diagnosis pointer"),
    ((1, 2, 3, 1, 2), "has more than four diagnosis pointers"),
])
def test_ptr01_lines_point_inside_the_diagnoses(pointers, message) -> None:
    claim = professional()
    claim.service_lines[1].diagnosis_pointers = pointers
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number) == ("PTR-01", "2400 SV107", 2)
    assert finding.message == f"service line 2 {message}"


def test_ptr01_nearest_passing_pointers() -> None:
    claim = professional()
    claim.diagnoses = (*claim.diagnoses, "Z23")
    claim.service_lines[1].diagnosis_pointers = (4, 3, 2, 1)  # four, up to the last
    assert run(claim) == []


def test_ptr01_pointers_stop_at_twelve_diagnoses() -> None:
    claim = professional()
    claim.diagnoses = ("E119", "I10", "E785", "J069", "K219", "N390", "R51", "R42", "J029",
                       "L309", "B349", "G4700", "H6590")
    claim.service_lines[0].diagnosis_pointers = (13,)
    assert [f.line_number for f in diagnoses.diagnosis_pointers(claim, ctx())] == [1]
    claim.service_lines[0].diagnosis_pointers = (12,)
    assert diagnoses.diagnosis_pointers(claim, ctx()) == []


def test_ptr01_does_not_apply_to_institutional_lines() -> None:
    claim = institutional()  # 837I lines carry no pointers at all
    assert all(not line.diagnosis_pointers for line in claim.service_lines)
    assert diagnoses.diagnosis_pointers(claim, ctx()) == []


# ------------------------------------------------------------------ BAL-01


@pytest.mark.parametrize("delta", [Decimal("0.01"), Decimal("-10.00")])
def test_bal01_total_charge_is_the_sum_of_the_lines(delta) -> None:
    claim = professional()
    claim.total_charge += delta
    [finding] = run(claim)
    assert finding == Finding("BAL-01", "balance", Severity.ERROR,
                              "total claim charge is not the sum of the service line charges",
                              "2300 CLM02", None)


def test_bal01_nearest_passing_totals() -> None:
    claim = institutional()
    claim.total_charge = Decimal("7410")  # same amount, other exponent
    assert balance.total_charge_balances(claim, ctx()) == []
    claim.service_lines[0].charge += Decimal("0.01")
    claim.total_charge += Decimal("0.01")
    assert balance.total_charge_balances(claim, ctx()) == []


# ------------------------------------------------------------------ DT-01, DT-02


def test_dt01_no_line_date_after_the_business_date() -> None:
    claim = professional()
    claim.service_lines[2].service_date = AS_OF + timedelta(days=1)
    [finding] = run(claim)
    assert (finding.rule_id, finding.field, finding.line_number) == ("DT-01", "2400 DTP03", 3)
    assert finding.message == "service line 3 date of service is after the business date"
    claim.service_lines[2].service_date = AS_OF  # today is not the future
    assert run(claim) == []


def test_dt01_statement_period_and_line_range_ends() -> None:
    claim = institutional()
    claim.statement_to = AS_OF + timedelta(days=1)
    claim.service_lines[2].service_date = AS_OF
    assert [(f.rule_id, f.field) for f in run(claim)] == [("DT-01", "2300 DTP03")]
    claim = institutional()
    claim.service_lines[0].service_date_end = AS_OF + timedelta(days=2)
    found = [(f.rule_id, f.line_number) for f in run(claim)]
    assert ("DT-01", 1) in found  # and DT-02: the line now runs past the stay
    claim.service_lines[0].service_date_end = AS_OF
    claim.statement_to = AS_OF
    assert run(claim) == []


def test_dt02_ranges_run_forward() -> None:
    claim = institutional()
    line = claim.service_lines[0]
    line.service_date, line.service_date_end = line.service_date_end, line.service_date
    [finding] = run(claim)
    assert (finding.rule_id, finding.line_number) == ("DT-02", 1)
    assert finding.message == "service line 1 date range ends before it starts"
    line.service_date_end = line.service_date  # a one-day range is fine
    assert run(claim) == []


def test_dt02_statement_period_runs_forward() -> None:
    claim = institutional()
    claim.statement_from, claim.statement_to = claim.statement_to, claim.statement_from
    [finding] = dates.ranges_run_forward(claim, ctx())
    assert (finding.field, finding.line_number) == ("2300 DTP03", None)
    assert finding.message == "statement period ends before it starts"


def test_dt02_institutional_lines_stay_inside_the_statement_period() -> None:
    claim = institutional()
    claim.service_lines[1].service_date = claim.statement_from - timedelta(days=1)
    claim.service_lines[2].service_date = claim.statement_to + timedelta(days=1)
    found = dates.ranges_run_forward(claim, ctx())
    assert [(f.line_number, f.message) for f in found] == [
        (2, "service line 2 date is outside the statement period"),
        (3, "service line 3 date is outside the statement period"),
    ]
    claim.service_lines[1].service_date = claim.statement_from  # both ends are inside
    claim.service_lines[2].service_date = claim.statement_to
    assert dates.ranges_run_forward(claim, ctx()) == []


def test_dt02_professional_lines_have_no_statement_period() -> None:
    claim = professional()
    claim.service_lines[0].service_date = DOS - timedelta(days=30)
    assert run(claim) == []


# ------------------------------------------------------------------ DUP-01 and the key


def test_dup01_second_copy_in_the_batch_is_a_duplicate() -> None:
    first, second = professional(), professional()
    second.patient_control_number = "PCN0099"  # resubmitted under a new number,
    second.total_charge += Decimal("10.00")  # at a new price, with other diagnoses
    second.service_lines[0].charge += Decimal("10.00")
    second.diagnoses = ("E1165", "I10", "E785")
    second.service_lines.reverse()  # and in another order
    result = scrub([first, second], ctx())
    assert result.findings[0] == []
    assert result.findings[1] == [Finding(
        "DUP-01", "duplicates", Severity.ERROR,
        "claim duplicates an earlier claim (same patient, provider, payer, date of service "
        "and procedures)", "2300 CLM", None)]
    assert result.keys[0] == result.keys[1] == duplicate_key(first)


def test_dup01_key_seen_on_an_earlier_day() -> None:
    claim = professional()
    context = ctx(seen={duplicate_key(professional())})
    assert ids(scrub([claim], context)[0]) == ["DUP-01"]
    assert ids(duplicates.no_duplicate(claim, context)) == ["DUP-01"]  # called alone too
    assert scrub([claim], ctx(seen={"0" * 64}))[0] == []


@pytest.mark.parametrize("change", [
    lambda c: setattr(c.service_lines[0], "service_date", DOS - timedelta(days=1)),
    lambda c: setattr(c.service_lines[0], "modifiers", ("25",)),
    lambda c: setattr(c.service_lines[1], "units", Decimal("2")),
    lambda c: setattr(c.service_lines[1], "procedure_code", "36416"),
    lambda c: setattr(c.subscriber, "member_id", "XQB123456780"),
    lambda c: setattr(c.subscriber, "birth_date", date(1980, 3, 10)),
    lambda c: setattr(c.billing_provider, "npi", _npi("87654321")),
    lambda c: setattr(c.rendering_provider, "npi", _npi("87654321")),
    lambda c: setattr(c.payer, "payer_id", "SIMC1"),
    lambda c: setattr(c, "patient", Patient("MOCKRIDGE", "ELLA", "19", date(2015, 1, 2))),
])
def test_dup01_nearest_non_duplicates_differ_in_one_part_of_the_identity(change) -> None:
    other = professional()
    change(other)
    assert duplicate_key(other) != duplicate_key(professional())
    result = scrub([professional(), other], ctx())
    assert result.findings == [[], []]


def test_duplicate_key_ignores_case_spacing_and_unit_notation() -> None:
    claim = professional()
    claim.subscriber.last_name = " mockridge "
    claim.subscriber.member_id = "xqb123456789"
    claim.service_lines[0].units = Decimal("1.000")
    key = duplicate_key(claim)
    assert key == duplicate_key(professional())
    assert re.fullmatch(r"[0-9a-f]{64}", key)


def test_dup01_replacement_is_not_a_duplicate_of_its_original_but_twice_is() -> None:
    original = professional()
    replacement = professional()
    replacement.frequency_code = "7"
    replacement.original_claim_reference = "12345678901234"
    again = copy.deepcopy(replacement)
    result = scrub([original, replacement, again], ctx())
    assert [ids(f) for f in result] == [[], [], ["DUP-01"]]


def test_dup01_blocked_claim_does_not_make_its_correction_a_duplicate() -> None:
    broken, corrected = professional(), professional()
    broken.total_charge += Decimal("1.00")
    result = scrub([broken, corrected], ctx())
    assert [ids(f) for f in result] == [["BAL-01"], []]
    assert result.blocked(0) and not result.blocked(1)
    context = ctx()
    scrub([corrected], context)
    assert context.passed == {duplicate_key(corrected)}
    assert context.current is None


# ------------------------------------------------------------------ the simulator


@pytest.mark.parametrize("seed", [11, 2026])
def test_tagged_defects_trip_exactly_their_rules(seed) -> None:
    sim = generate(2000, seed, defect_rate=0.1)
    result = scrub(sim.claims, ScrubContext(as_of=DEFAULT_AS_OF))
    true_positive = false_positive = false_negative = 0
    mismatches = []
    for claim, findings in zip(sim.claims, result, strict=True):
        tagged = set(sim.defects.get(claim.patient_control_number, ()))
        raised = {f.rule_id for f in findings if f.severity is Severity.ERROR}
        true_positive += len(tagged & raised)
        false_positive += len(raised - tagged)
        false_negative += len(tagged - raised)
        if tagged != raised:
            mismatches.append((claim.patient_control_number, sorted(tagged), sorted(raised)))
    assert mismatches == []
    assert true_positive >= 150  # about 10% of 2000 claims, some with two defects
    assert false_positive == false_negative == 0
    tagged_claims = {pcn for pcn in sim.defects}
    blocked = {c.patient_control_number for i, c in enumerate(sim.claims) if result.blocked(i)}
    assert blocked == tagged_claims
    assert set(result.rule_counts()) == set(DEFECT_TAGS)


def test_every_rule_has_at_least_one_tagged_claim_in_a_batch() -> None:
    sim = generate(2000, 11, defect_rate=0.1)
    counts = {tag: sum(tag in tags for tags in sim.defects.values()) for tag in DEFECT_TAGS}
    assert min(counts.values()) >= 5, counts


def test_institutional_only_batch_is_clean_without_defects() -> None:
    sim = generate(300, 5, ClaimType.INSTITUTIONAL)
    result = scrub(sim.claims, ScrubContext(as_of=DEFAULT_AS_OF))
    assert all(f == [] for f in result)
    assert len(set(result.keys)) == 300


# ------------------------------------------------------------------ no PHI in messages


def _phi(claim: Claim) -> Iterator[str]:
    people = [claim.subscriber, claim.patient]
    for person in people:
        if person is None:
            continue
        yield from (person.last_name, person.first_name, person.middle_name)
        if person.birth_date:
            yield from (person.birth_date.isoformat(), person.birth_date.strftime("%Y%m%d"))
    yield claim.subscriber.member_id
    yield claim.patient_control_number
    for provider in (claim.billing_provider, claim.rendering_provider,
                     claim.attending_provider, claim.service_facility):
        if provider is not None:
            yield from (provider.npi, provider.last_name, provider.first_name, provider.tax_id)
    yield from claim.diagnoses
    for line in claim.service_lines:
        for day in (line.service_date, line.service_date_end):
            if day:
                yield from (day.isoformat(), day.strftime("%Y%m%d"))


def test_messages_and_fields_quote_nothing_of_the_claim() -> None:
    sim = generate(2000, 7, defect_rate=0.3)
    result = scrub(sim.claims, ScrubContext(as_of=DEFAULT_AS_OF))
    checked = 0
    for claim, findings in zip(sim.claims, result, strict=True):
        values = {v.strip() for v in _phi(claim) if v and len(v.strip()) >= 3}
        for finding in findings:
            text = f"{finding.message} {finding.field}"
            assert not [v for v in values if v in text], finding
            checked += 1
    assert checked >= 500
    # DT-04 is the timely-filing warning: no defect is tagged for it, it fires on claims
    # near the limit
    assert set(result.rule_counts()) - {"DT-04"} == set(DEFECT_TAGS)


# ------------------------------------------------------------------ rules and rule sets


@rule("PA-01", family="identifiers", severity=Severity.WARNING,
      message="prior authorization number is missing", field="2300 REF02")
def _prior_auth(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    if not claim.prior_authorization:
        yield Hit()
    if claim.prior_authorization == "LINES":
        for number, _line in enumerate(claim.service_lines, 1):
            yield Hit("2400 REF02", number, f"service line {number} needs its own authorization")


def test_rule_decorator_builds_findings_from_hits() -> None:
    assert isinstance(_prior_auth, Rule)
    assert (_prior_auth.id, _prior_auth.family, _prior_auth.field) == (
        "PA-01", "identifiers", "2300 REF02")
    [finding] = _prior_auth(professional(), ctx())
    assert finding == Finding("PA-01", "identifiers", Severity.WARNING,
                              "prior authorization number is missing", "2300 REF02", None)
    claim = professional()
    claim.prior_authorization = "LINES"
    assert [(f.field, f.line_number, f.message) for f in _prior_auth(claim, ctx())][-1] == (
        "2400 REF02", 3, "service line 3 needs its own authorization")
    claim.prior_authorization = "PA12345678"
    assert _prior_auth(claim, ctx()) == []


def test_rule_decorator_needs_every_attribute() -> None:
    with pytest.raises(ValueError):
        rule("", family="dates", severity=Severity.ERROR, message="m", field="f")
    with pytest.raises(ValueError):
        rule("X-01", family="dates", severity="fatal", message="m",  # type: ignore[arg-type]
             field="f")


def test_payer_module_drops_adds_and_overrides_rules() -> None:
    blue = (DEFAULT_RULES.without("DUP-01")
            .with_rules(_prior_auth)
            .override("BAL-01", severity=Severity.WARNING))
    assert blue.ids == (*(i for i in DEFAULT_RULES.ids if i != "DUP-01"), "PA-01")
    assert blue["BAL-01"].severity is Severity.WARNING
    # The default catalog is untouched.
    assert "DUP-01" in DEFAULT_RULES and "PA-01" not in DEFAULT_RULES
    assert DEFAULT_RULES["BAL-01"].severity is Severity.ERROR

    def claim_for(payer_id: str, pcn: str) -> Claim:
        claim = professional()
        claim.payer.payer_id, claim.patient_control_number = payer_id, pcn
        claim.prior_authorization = "PA12345678"
        claim.total_charge += Decimal("1.00")
        return claim

    blue_claim, other_claim = claim_for("SIMB1", "P1"), claim_for("SIMC1", "P2")
    blue_claim.prior_authorization = ""
    context = ctx(payer_rules={"SIMB1": blue})
    result = scrub([blue_claim, blue_claim, other_claim, other_claim], context)
    # Blue: BAL-01 is a warning, PA-01 applies, DUP-01 does not; the claim is not blocked.
    assert [(f.rule_id, f.severity) for f in result[0]] == [
        ("BAL-01", Severity.WARNING), ("PA-01", Severity.WARNING)]
    assert result[1] == result[0]
    assert not result.blocked(0) and not result.blocked(1)
    # Another payer gets the default catalog: BAL-01 blocks, no PA-01.
    assert ids(result[2]) == ids(result[3]) == ["BAL-01"]
    assert result.blocked(2)
    assert result.rule_counts() == {"BAL-01": 4, "PA-01": 2}


def test_override_changes_message_and_field_too() -> None:
    changed = DEFAULT_RULES.override("BAL-01", message="CLM02 must equal the line total",
                                     field="2300 CLM02 (payer)")
    claim = professional()
    claim.total_charge = Decimal("0.00")
    [finding] = changed.run(claim, ctx())
    assert (finding.message, finding.field) == ("CLM02 must equal the line total",
                                                "2300 CLM02 (payer)")
    assert changed.ids == DEFAULT_RULES.ids


def test_rule_set_mistakes_are_errors() -> None:
    with pytest.raises(RuleSetError):
        DEFAULT_RULES.without("NPI-99")
    with pytest.raises(RuleSetError):
        DEFAULT_RULES.override("NPI-99", severity=Severity.WARNING)
    with pytest.raises(RuleSetError):
        DEFAULT_RULES.override("NPI-01")
    with pytest.raises(RuleSetError):
        DEFAULT_RULES.with_rules(dataclasses.replace(_prior_auth, id="DX-01"))
    with pytest.raises(RuleSetError):
        RuleSet([_prior_auth, _prior_auth])


def test_with_rules_replace_takes_the_place_of_a_catalog_rule() -> None:
    strict = dataclasses.replace(_prior_auth, id="DX-01", severity=Severity.ERROR)
    replaced = DEFAULT_RULES.with_rules(strict, replace=True)
    assert replaced.ids == DEFAULT_RULES.ids
    assert replaced["DX-01"] is strict
    assert ids(replaced.run(professional(), ctx())) == ["DX-01"]
    assert len(replaced) == len(DEFAULT_RULES)


def test_rule_set_from_modules_collects_rules_in_definition_order() -> None:
    collected = RuleSet.from_modules(dates, balance)
    assert collected.ids == ("DT-01", "DT-02", "DT-03", "DT-04", "BAL-01")
    assert list(collected) == [dates.no_future_service, dates.ranges_run_forward,
                               dates.timely_filing, dates.timely_filing_warnings,
                               balance.total_charge_balances]
    assert repr(collected) == "RuleSet(DT-01, DT-02, DT-03, DT-04, BAL-01)"
