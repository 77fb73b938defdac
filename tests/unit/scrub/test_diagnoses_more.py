"""Diagnosis rules DX-02..DX-07: for each, a claim that trips it and the nearest claim that
does not, built from the simulator's clean claims by changing one field; and clean
simulated claims raise no error and no age or sex warning.

The helpers here (``clean``, ``ctx``, ``MINE``) serve the procedure and duplicate-line
tests too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from revcycle.codesets import icd10
from revcycle.model.claim import Claim, ClaimType, Patient
from revcycle.scrub import DEFAULT_RULES, Finding, RuleSet, ScrubContext, Severity, scrub
from revcycle.scrub import diagnoses as dx
from revcycle.simulator import DEFAULT_AS_OF, generate_claims
from tests.unit.codesets.test_icd10_edits import added_release

PRO, INST = ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL
# The rules of this work, in catalog order (module order in DEFAULT_RULES, then definition).
MY_IDS = ("DX-02", "DX-03", "DX-04", "DX-05", "DX-06", "DX-07", "DUP-02",
          "PROC-01", "PROC-02", "PROC-03", "MOD-01", "MOD-02", "MOD-03", "MOD-04",
          "NCCI-01", "MUE-01")
MINE = RuleSet(r for r in DEFAULT_RULES if r.id in MY_IDS)
_POOL = {claim_type: generate_claims(300, 29, claim_type) for claim_type in ClaimType}


def ctx(**changes: object) -> ScrubContext:
    return ScrubContext(as_of=DEFAULT_AS_OF, **changes)  # type: ignore[arg-type]


def clean(claim_type: ClaimType = PRO, where: Callable[[Claim], bool] = lambda c: True) -> Claim:
    """A copy of a simulated claim of the type that satisfies ``where`` and on which none
    of these rules finds anything."""
    return copy.deepcopy(next(c for c in _POOL[claim_type]
                              if where(c) and MINE.run(c, ctx()) == []))


def age(claim: Claim) -> int:
    born, on = (claim.patient or claim.subscriber).birth_date, claim.service_date
    assert born is not None and on is not None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def years_before(day: date, years: int) -> date:
    if (day.month, day.day) == (2, 29):
        day -= timedelta(days=1)
    return day.replace(year=day.year - years)


def _self_adult(claim: Claim) -> bool:
    return claim.patient is None and age(claim) >= 30 and len(claim.diagnoses) >= 2


def _child(claim: Claim) -> bool:
    return claim.patient is not None and age(claim) < 12


def test_these_rules_are_in_the_catalog_with_their_families_and_severities() -> None:
    assert MINE.ids == MY_IDS
    families = {r.id: r.family for r in MINE}
    assert {i for i, f in families.items() if f == "diagnoses"} == {
        "DX-02", "DX-03", "DX-04", "DX-05", "DX-06", "DX-07"}
    assert families["DUP-02"] == "duplicates"
    assert {families[i] for i in MY_IDS[7:]} == {"procedures"}
    assert [r.id for r in MINE if r.severity is Severity.WARNING] == ["DX-02", "DX-03",
                                                                      "DX-07"]


# ------------------------------------------------------------------ DX-02 age


def test_dx02_child_examination_for_an_adult() -> None:
    claim = clean(PRO, _self_adult)
    claim.diagnoses = (claim.diagnoses[0], "Z00121", *claim.diagnoses[2:])
    [finding] = dx.diagnosis_fits_age(claim, ctx())
    assert finding == Finding("DX-02", "diagnoses", Severity.WARNING,
                              "diagnosis 2 does not fit the patient's age", "2300 HI02-2")


def test_dx02_nearest_child_examination_for_a_child_uses_the_patient_loop() -> None:
    claim = clean(PRO, _child)
    claim.subscriber.birth_date = years_before(claim.service_date, 40)  # type: ignore[arg-type]
    claim.diagnoses = ("Z00121", *claim.diagnoses[1:])
    assert dx.diagnosis_fits_age(claim, ctx()) == []
    # The same code for the adult subscriber, once the patient loop is gone, is flagged.
    claim.patient = None
    assert [f.message for f in dx.diagnosis_fits_age(claim, ctx())] == [
        "principal diagnosis does not fit the patient's age"]


@pytest.mark.parametrize(("years", "days", "flagged"), [
    (1, 0, True),  # first birthday on the date of service: age 1
    (1, -1, False),  # the day before: still 0
    (0, 0, False),  # born that day
])
def test_dx02_perinatal_code_on_either_side_of_the_first_birthday(years, days, flagged) -> None:
    claim = clean(PRO, _child)
    first = claim.service_date
    assert first is not None
    claim.patient.birth_date = years_before(first, years) - timedelta(days=days)  # type: ignore[union-attr]
    claim.diagnoses = ("P590", *claim.diagnoses[1:])
    assert bool(dx.diagnosis_fits_age(claim, ctx())) is flagged


@pytest.mark.parametrize(("years", "flagged"), [(11, True), (12, False), (55, False),
                                                (56, True)])
def test_dx02_maternity_ages(years, flagged) -> None:
    claim = clean(PRO, lambda c: c.patient is None and c.subscriber.sex == "F")
    claim.subscriber.birth_date = years_before(claim.service_date, years)  # type: ignore[arg-type]
    claim.diagnoses = ("O0900", *claim.diagnoses[1:])
    assert bool(dx.diagnosis_fits_age(claim, ctx())) is flagged


def test_dx02_admitting_diagnosis_of_an_837i() -> None:
    claim = clean(INST, lambda c: bool(c.admitting_diagnosis) and age(c) >= 18)
    claim.admitting_diagnosis = "Z3800"  # a liveborn infant
    [finding] = dx.diagnosis_fits_age(claim, ctx())
    assert (finding.field, finding.message) == (
        "2300 HI01-2 (ABJ)", "admitting diagnosis does not fit the patient's age")
    claim.admitting_diagnosis = "R0602"
    assert dx.diagnosis_fits_age(claim, ctx()) == []


def test_dx02_without_a_birth_date_there_is_nothing_to_check() -> None:
    claim = clean(PRO, _self_adult)
    claim.diagnoses = ("Z00121", *claim.diagnoses[1:])
    assert dx.diagnosis_fits_age(claim, ctx())
    claim.subscriber.birth_date = None
    assert dx.diagnosis_fits_age(claim, ctx()) == []


def test_dx02_a_payer_raises_it_to_an_error() -> None:
    claim = clean(PRO, _self_adult)
    claim.diagnoses = (claim.diagnoses[0], "Z00121", *claim.diagnoses[2:])
    strict = MINE.override("DX-02", severity=Severity.ERROR)
    context = ctx(payer_rules={claim.payer.payer_id: strict})
    result = scrub([claim], context)
    assert [(f.rule_id, f.severity) for f in result[0]] == [("DX-02", Severity.ERROR)]
    assert result.blocked(0)
    # The default catalog only warns.
    warned = scrub([copy.deepcopy(claim)], ctx(), MINE)
    assert [(f.rule_id, f.severity) for f in warned[0]] == [("DX-02", Severity.WARNING)]
    assert not warned.blocked(0)


# ------------------------------------------------------------------ DX-03 sex


@pytest.mark.parametrize(("sex", "flagged"), [("F", True), ("M", False), ("U", False),
                                              ("", False)])
def test_dx03_male_code_for_each_sex(sex, flagged) -> None:
    claim = clean(PRO, _self_adult)
    claim.subscriber.sex = sex
    claim.diagnoses = (claim.diagnoses[0], "N400", *claim.diagnoses[2:])
    findings = dx.diagnosis_fits_sex(claim, ctx())
    assert findings == ([Finding("DX-03", "diagnoses", Severity.WARNING,
                                 "diagnosis 2 does not fit the patient's sex", "2300 HI02-2")]
                        if flagged else [])


def test_dx03_the_patient_loop_sex_counts_not_the_subscriber() -> None:
    claim = clean(PRO, lambda c: c.patient is not None)
    patient = claim.patient
    assert isinstance(patient, Patient)
    claim.subscriber.sex, patient.sex = "F", "M"
    claim.diagnoses = ("N400", *claim.diagnoses[1:])
    assert dx.diagnosis_fits_sex(claim, ctx()) == []
    claim.subscriber.sex, patient.sex = "M", "F"
    assert [f.field for f in dx.diagnosis_fits_sex(claim, ctx())] == ["2300 HI01-2"]


def test_dx03_pregnancy_code_for_a_man_on_an_837i() -> None:
    claim = clean(INST, lambda c: (c.patient or c.subscriber).sex == "M")
    claim.diagnoses = (*claim.diagnoses, "Z3A20")
    [finding] = dx.diagnosis_fits_sex(claim, ctx())
    n = len(claim.diagnoses)
    assert finding.message == f"diagnosis {n} does not fit the patient's sex"
    assert finding.field == f"2300 HI{n - 1:02d}-2 (ABF)"
    claim.diagnoses = (*claim.diagnoses[:-1], "Z3800")  # liveborn: either sex
    assert dx.diagnosis_fits_sex(claim, ctx()) == []


def test_dx03_admitting_diagnosis() -> None:
    claim = clean(INST, lambda c: bool(c.admitting_diagnosis)
                  and (c.patient or c.subscriber).sex == "F")
    claim.admitting_diagnosis = "N400"
    [finding] = dx.diagnosis_fits_sex(claim, ctx())
    assert finding.field == "2300 HI01-2 (ABJ)"


# ------------------------------------------------------------------ DX-04 external cause


@pytest.mark.parametrize("code", ["W010XXA", "X58XXXA", "Y92009", "V0300XA"])
def test_dx04_external_cause_first(code) -> None:
    claim = clean(PRO, lambda c: len(c.diagnoses) >= 2)
    claim.diagnoses = (code, *claim.diagnoses)
    assert dx.external_cause_not_first(claim, ctx()) == [Finding(
        "DX-04", "diagnoses", Severity.ERROR,
        "an external-cause code (V00-Y99) cannot be the principal diagnosis", "2300 HI01-2")]


def test_dx04_nearest_external_cause_second() -> None:
    claim = clean(PRO, lambda c: len(c.diagnoses) >= 2)
    claim.diagnoses = (claim.diagnoses[0], "W010XXA", *claim.diagnoses[1:])
    assert dx.external_cause_not_first(claim, ctx()) == []


def test_dx04_on_an_837i_points_at_the_principal_diagnosis() -> None:
    claim = clean(INST)
    claim.diagnoses = ("W010XXA", *claim.diagnoses[1:])
    [finding] = dx.external_cause_not_first(claim, ctx())
    assert finding.field == "2300 HI01-2 (ABK)"


def test_dx04_icd9_v_codes_are_not_external_causes() -> None:
    claim = clean(PRO)
    claim.diagnoses, claim.icd9 = ("V700",), True  # ICD-9 V70.0: a general examination
    assert dx.external_cause_not_first(claim, ctx()) == []


# ------------------------------------------------------------------ DX-05 Excludes1


@pytest.mark.parametrize("pair", [("E119", "R7303"), ("R7303", "E1165"),
                                  ("Z87891", "F17210"), ("M5450", "S39012A")])
def test_dx05_excludes1_pair(pair) -> None:
    claim = clean(PRO, lambda c: len(c.diagnoses) == 1)
    claim.diagnoses = (*pair,)
    assert dx.no_excludes1_pair(claim, ctx()) == [Finding(
        "DX-05", "diagnoses", Severity.ERROR,
        "principal diagnosis and diagnosis 2 are mutually exclusive (ICD-10-CM Excludes1)",
        "2300 HI02-2")]


def test_dx05_nearest_pair_that_may_go_together() -> None:
    claim = clean(PRO, lambda c: len(c.diagnoses) == 1)
    claim.diagnoses = ("E119", "E785")
    assert dx.no_excludes1_pair(claim, ctx()) == []


def test_dx05_points_at_the_later_code_of_each_pair() -> None:
    claim = clean(INST)
    claim.diagnoses = ("J189", "E1165", "I509", "R7303", "Z87891", "F17210")
    assert [(f.field, f.message) for f in dx.no_excludes1_pair(claim, ctx())] == [
        ("2300 HI03-2 (ABF)",
         "diagnosis 2 and diagnosis 4 are mutually exclusive (ICD-10-CM Excludes1)"),
        ("2300 HI05-2 (ABF)",
         "diagnosis 5 and diagnosis 6 are mutually exclusive (ICD-10-CM Excludes1)"),
    ]


def test_dx05_skips_icd9_claims_and_repeated_codes() -> None:
    claim = clean(PRO)
    claim.diagnoses = ("E119", "E119")  # a repeat is no Excludes1 pair
    assert dx.no_excludes1_pair(claim, ctx()) == []
    claim.diagnoses, claim.icd9 = ("E119", "R7303"), True
    assert dx.no_excludes1_pair(claim, ctx()) == []


def test_dx05_checks_the_release_in_effect_on_the_date_of_service(tmp_path: Path) -> None:
    """An added release (FY2027, from 2026-10-01) whose made-up tabular note says E11
    excludes I10; the packaged release says no such thing."""
    releases = icd10.Releases(icd10.default(), [added_release(tmp_path)])
    claim = clean(PRO, lambda c: len(c.diagnoses) == 1)
    claim.diagnoses = ("E119", "I10")
    for line in claim.service_lines:
        line.service_date = date(2026, 10, 14)
    [finding] = dx.no_excludes1_pair(claim, ctx(icd10=releases))
    assert finding.field == "2300 HI02-2"
    assert dx.no_excludes1_pair(claim, ctx()) == []  # the packaged release alone
    for line in claim.service_lines:
        line.service_date = date(2026, 9, 30)  # before the added release: the packaged one
    assert dx.no_excludes1_pair(claim, ctx(icd10=releases)) == []


# ------------------------------------------------------------------ DX-06 twelve diagnoses

_THIRTEEN = ("E119", "I10", "E785", "J449", "K219", "G4700", "M7918", "D649", "E039",
             "N390", "R42", "J301", "L309")


def test_dx06_thirteen_diagnoses_on_an_837p() -> None:
    claim = clean(PRO)
    claim.diagnoses = _THIRTEEN
    assert dx.at_most_twelve_diagnoses(claim, ctx()) == [Finding(
        "DX-06", "diagnoses", Severity.ERROR,
        "the claim has more than 12 diagnoses; an 837P carries at most 12", "2300 HI")]


def test_dx06_nearest_twelve_and_837i() -> None:
    claim = clean(PRO)
    claim.diagnoses = _THIRTEEN[:12]
    assert dx.at_most_twelve_diagnoses(claim, ctx()) == []
    claim = clean(INST)
    claim.diagnoses = _THIRTEEN  # an 837I holds 25
    assert dx.at_most_twelve_diagnoses(claim, ctx()) == []


# ------------------------------------------------------------------ DX-07 pointers


def _pointed_twice(claim: Claim) -> bool:
    """Two diagnoses or more, each pointed to, and a line that points at 2 and more."""
    return len(claim.diagnoses) >= 2 and any(
        len(line.diagnosis_pointers) >= 2 and 2 in line.diagnosis_pointers
        for line in claim.service_lines)


def test_dx07_a_diagnosis_no_line_points_to() -> None:
    claim = clean(PRO, _pointed_twice)
    for line in claim.service_lines:
        line.diagnosis_pointers = tuple(p for p in line.diagnosis_pointers if p != 2) or (1,)
    assert dx.every_diagnosis_pointed_to(claim, ctx()) == [Finding(
        "DX-07", "diagnoses", Severity.WARNING,
        "diagnosis 2 is not pointed to by any service line", "2300 HI02-2")]


def test_dx07_nearest_every_diagnosis_pointed_to() -> None:
    claim = clean(PRO, _pointed_twice)
    assert dx.every_diagnosis_pointed_to(claim, ctx()) == []
    # A pointer past the diagnoses is PTR-01's business, not a crash here.
    claim.service_lines[0].diagnosis_pointers = (*claim.service_lines[0].diagnosis_pointers,
                                                 99)
    assert dx.every_diagnosis_pointed_to(claim, ctx()) == []


def test_dx07_is_for_837p_only() -> None:
    claim = clean(INST)
    claim.diagnoses = (*claim.diagnoses, "R42")  # 837I lines have no pointers
    assert dx.every_diagnosis_pointed_to(claim, ctx()) == []


# ------------------------------------------------------------------ clean claims

_DX_RULES = RuleSet(r for r in MINE if r.id.startswith("DX-"))


@pytest.mark.parametrize("seed", [3, 17, 2026])
@pytest.mark.parametrize("claim_type", [None, PRO, INST])
def test_clean_simulated_claims_raise_no_diagnosis_finding(seed, claim_type) -> None:
    """False-positive guard over 2,000 clean claims: no error, no age or sex warning, and
    (the simulator points every diagnosis) no unpointed one either."""
    claims = generate_claims(2000, seed, claim_type)
    context = ctx()
    findings = [f for claim in claims for f in _DX_RULES.run(claim, context)]
    assert findings == []
    if claim_type is None:
        assert {c.claim_type for c in claims} == {PRO, INST}
        assert sum(len(c.diagnoses) > 1 for c in claims) > 500  # pairs to check were there
