"""Procedure rules PROC-01..03, MOD-01..04, NCCI-01 and MUE-01: for each, a claim that
trips it and the nearest claim that does not, built from the simulator's clean claims by
changing one field. The rules that need a CMS table ask a fake ``ReferenceData`` here and,
without the table, say they did not run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest

from revcycle.codesets.reference import NoReferenceData, ReferenceData
from revcycle.model.claim import Claim, ServiceLine
from revcycle.scrub import Finding, Severity, scrub
from revcycle.scrub import procedures as proc
from revcycle.simulator import generate_claims
from tests.unit.scrub.test_diagnoses_more import INST, MINE, PRO, clean, ctx

TABLES = frozenset({"hcpcs", "ncci_ptp", "mue"})


@dataclass
class FakeReference:
    """The tables a test needs, and every question asked of them."""

    tables: frozenset[str] = TABLES
    inactive: frozenset[str] = frozenset()  # HCPCS codes not active on any date
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)  # (col 1, col 2) -> MI
    limits: dict[str, Decimal] = field(default_factory=dict)
    asked: list[tuple[object, ...]] = field(default_factory=list)

    def loaded(self, table: str, claim_type: str | None = None) -> bool:
        return table in self.tables

    def hcpcs_active(self, code: str, on: date) -> bool | None:
        self.asked.append(("hcpcs", code, on))
        return code not in self.inactive

    def ncci_modifier_indicator(self, column1: str, column2: str, on: date,
                                claim_type: str = "837P") -> str | None:
        self.asked.append(("ncci", column1, column2, on, claim_type))
        return self.pairs.get((column1, column2))

    def mue_limit(self, code: str, on: date, claim_type: str) -> Decimal | None:
        self.asked.append(("mue", code, on, claim_type))
        return self.limits.get(code)


def test_the_fake_is_a_reference_data() -> None:
    reference: ReferenceData = FakeReference()  # the protocol, checked by mypy and here
    assert reference.loaded("mue") and not NoReferenceData().loaded("mue")


def _line(claim: Claim, code: str, *modifiers: str, units: str = "1",
          on: date | None = None) -> ServiceLine:
    """A copy of the claim's first line with another code, modifiers, units or date."""
    first = claim.service_lines[0]
    return dataclasses.replace(first, procedure_code=code, modifiers=modifiers,
                               units=Decimal(units), service_date=on or first.service_date,
                               service_date_end=None)


def _one_line(claim: Claim) -> bool:
    return len(claim.service_lines) == 1 and not claim.service_lines[0].modifiers


def _coded_837i(claim: Claim) -> bool:
    return all(line.procedure_code for line in claim.service_lines)


def _revenue_only_837i(claim: Claim) -> bool:
    return any(not line.procedure_code for line in claim.service_lines)


# ------------------------------------------------------------------ PROC-01


@pytest.mark.parametrize("code", ["9921", "992133", "A123", "AB123", "1234X", "J1100A",
                                  "99 13", "-9921"])
def test_proc01_code_of_neither_shape(code) -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].procedure_code = code
    assert proc.procedure_code_format(claim, ctx()) == [Finding(
        "PROC-01", "procedures", Severity.ERROR,
        "service line 1 procedure code is neither a CPT nor a HCPCS Level II code",
        "2400 SV101-2", 1)]


@pytest.mark.parametrize("code", ["99213", "0001U", "1234F", "0042T", "J1100", "G2211",
                                  "A0425"])
def test_proc01_nearest_cpt_and_hcpcs_codes(code) -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].procedure_code = code
    assert proc.procedure_code_format(claim, ctx()) == []


def test_proc01_837p_line_without_a_code() -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].procedure_code = ""
    [finding] = proc.procedure_code_format(claim, ctx())
    assert (finding.message, finding.line_number) == ("service line 1 has no procedure code", 1)


def test_proc01_837i_revenue_only_lines_and_other_qualifiers_pass() -> None:
    claim = clean(INST, _revenue_only_837i)
    assert proc.procedure_code_format(claim, ctx()) == []
    claim = clean(INST, _coded_837i)
    claim.service_lines[0].procedure_code = "9921"
    [finding] = proc.procedure_code_format(claim, ctx())
    assert finding.field == "2400 SV202-2"
    claim.service_lines[0].procedure_qualifier = "IV"  # a HIEC code: another code set
    assert proc.procedure_code_format(claim, ctx()) == []


# ------------------------------------------------------------------ PROC-02


def _has_hcpcs(claim: Claim) -> bool:
    return any(line.procedure_code[:1].isalpha() for line in claim.service_lines)


def test_proc02_hcpcs_code_not_active() -> None:
    claim = clean(PRO, _has_hcpcs)
    number, line = next((n, ln) for n, ln in enumerate(claim.service_lines, 1)
                        if ln.procedure_code[:1].isalpha())
    reference = FakeReference(inactive=frozenset({line.procedure_code}))
    context = ctx(reference=reference)
    assert proc.hcpcs_active(claim, context) == [Finding(
        "PROC-02", "procedures", Severity.ERROR,
        f"service line {number} HCPCS code is not active on its date of service",
        "2400 SV101-2", number)]
    # Only HCPCS Level II codes are asked about, each with its own line's date.
    assert {a[1] for a in reference.asked} == {
        ln.procedure_code for ln in claim.service_lines if ln.procedure_code[:1].isalpha()}
    assert ("hcpcs", line.procedure_code, line.service_date) in reference.asked
    assert context.not_run == set()


def test_proc02_nearest_active_code() -> None:
    claim = clean(PRO, _has_hcpcs)
    context = ctx(reference=FakeReference())
    assert proc.hcpcs_active(claim, context) == []
    assert context.not_run == set()


def test_proc02_837i_line_without_a_date_takes_the_claim_date() -> None:
    claim = clean(INST, lambda c: _coded_837i(c) and _has_hcpcs(c))
    line = next(ln for ln in claim.service_lines if ln.procedure_code[:1].isalpha())
    line.service_date = None
    reference = FakeReference(inactive=frozenset({line.procedure_code}))
    [finding] = proc.hcpcs_active(claim, ctx(reference=reference))
    assert finding.field == "2400 SV202-2"
    assert ("hcpcs", line.procedure_code, claim.service_date) in reference.asked


# ------------------------------------------------------------------ not loaded: not run


@pytest.mark.parametrize(("rule", "table"), [
    (proc.hcpcs_active, "hcpcs"), (proc.ncci_procedure_pairs, "ncci_ptp"),
    (proc.mue_units, "mue"),
])
def test_without_its_table_a_rule_says_it_did_not_run(rule, table) -> None:
    claim = clean(PRO, lambda c: len(c.service_lines) >= 2 and _has_hcpcs(c))
    reference = FakeReference(tables=TABLES - {table}, inactive=frozenset({"J1100", "J3301"}),
                              limits={ln.procedure_code: Decimal(0)
                                      for ln in claim.service_lines})
    context = ctx(reference=reference)
    assert rule(claim, context) == []
    assert context.not_run == {rule.id}
    assert reference.asked == []  # nothing asked of a table that is not there


def test_scrub_reports_the_rules_that_did_not_run() -> None:
    claims = generate_claims(50, 5)
    context = ctx()  # NoReferenceData: nothing loaded
    result = scrub(claims, context, MINE)
    assert context.not_run == {"PROC-02", "NCCI-01", "MUE-01"}
    assert all(f == [] for f in result)
    loaded = ctx(reference=FakeReference())
    scrub(claims, loaded, MINE)
    assert loaded.not_run == set()


# ------------------------------------------------------------------ PROC-03


def test_proc03_addon_without_its_primary() -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines.append(_line(claim, "11045"))
    assert proc.addon_with_primary(claim, ctx()) == [Finding(
        "PROC-03", "procedures", Severity.ERROR,
        "service line 2 is an add-on code billed without any of its primary procedures",
        "2400 SV101-2", 2)]


def test_proc03_nearest_addon_with_its_primary() -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].procedure_code = "11042"
    claim.service_lines.append(_line(claim, "11045"))
    assert proc.addon_with_primary(claim, ctx()) == []


def test_proc03_simulated_g2211_goes_with_an_office_visit() -> None:
    claim = clean(PRO, lambda c: any(ln.procedure_code == "G2211" for ln in c.service_lines))
    assert proc.addon_with_primary(claim, ctx()) == []
    for line in claim.service_lines:
        if line.procedure_code.startswith("992"):
            line.procedure_code = "99221"  # an inpatient visit is no G2211 primary
    [finding] = proc.addon_with_primary(claim, ctx())
    assert finding.rule_id == "PROC-03"


# ------------------------------------------------------------------ MOD-01..04


def test_mod01_unknown_modifier() -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].modifiers = ("25", "ZZ")
    assert proc.modifiers_known(claim, ctx()) == [Finding(
        "MOD-01", "procedures", Severity.ERROR,
        "service line 1 modifier 2 is not a recognized CPT or HCPCS modifier",
        "2400 SV101-4", 1)]


@pytest.mark.parametrize("modifiers", [("25",), ("25", "GT"), ("26", "LT", "XS", "KX")])
def test_mod01_nearest_known_modifiers(modifiers) -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].modifiers = modifiers
    assert proc.modifiers_known(claim, ctx()) == []


def test_mod_rules_on_an_837i_line_point_at_sv202() -> None:
    claim = clean(INST, _coded_837i)
    line, n = claim.service_lines[-1], len(claim.service_lines)
    line.modifiers = ("00",)
    [finding] = proc.modifiers_known(claim, ctx())
    assert (finding.field, finding.line_number) == ("2400 SV202-3", n)
    line.modifiers = ("26", "TC", "LT", "GA", "KX")
    assert [(f.field, f.line_number) for f in proc.at_most_four_modifiers(claim, ctx())
            + proc.modifiers_consistent(claim, ctx())] == [("2400 SV202-3", n)] * 2
    line.modifiers = ("LT", "LT")
    [finding] = proc.modifiers_not_repeated(claim, ctx())
    assert (finding.field, finding.line_number) == ("2400 SV202-4", n)


def test_mod02_five_modifiers() -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].modifiers = ("26", "LT", "XS", "KX", "GA")
    assert proc.at_most_four_modifiers(claim, ctx()) == [Finding(
        "MOD-02", "procedures", Severity.ERROR, "service line 1 has more than four modifiers",
        "2400 SV101-3", 1)]
    claim.service_lines[0].modifiers = ("26", "LT", "XS", "KX")
    assert proc.at_most_four_modifiers(claim, ctx()) == []


def test_mod03_a_modifier_twice() -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].modifiers = ("LT", "59", "LT")
    assert proc.modifiers_not_repeated(claim, ctx()) == [Finding(
        "MOD-03", "procedures", Severity.ERROR,
        "service line 1 modifier 3 repeats an earlier modifier", "2400 SV101-5", 1)]
    claim.service_lines[0].modifiers = ("LT", "59", "GA")
    assert proc.modifiers_not_repeated(claim, ctx()) == []


@pytest.mark.parametrize(("modifiers", "what"), [
    (("26", "TC"), "professional and technical component together"),
    (("TC", "LT", "26"), "professional and technical component together"),
    (("59", "XS"), "distinct-service modifier with a more specific one that replaces it"),
    (("XU", "59"), "distinct-service modifier with a more specific one that replaces it"),
    (("50", "RT"), "bilateral with a single side"),
    (("LT", "50"), "bilateral with a single side"),
])
def test_mod04_conflicting_modifiers(modifiers, what) -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].modifiers = modifiers
    assert proc.modifiers_consistent(claim, ctx()) == [Finding(
        "MOD-04", "procedures", Severity.ERROR,
        f"service line 1 has conflicting modifiers ({what})", "2400 SV101-3", 1)]


@pytest.mark.parametrize("modifiers", [("26",), ("TC",), ("26", "LT"), ("59",), ("XS",),
                                       ("XS", "XU"), ("50",), ("LT",), ("RT", "59")])
def test_mod04_nearest_consistent_modifiers(modifiers) -> None:
    claim = clean(PRO, _one_line)
    claim.service_lines[0].modifiers = modifiers
    assert proc.modifiers_consistent(claim, ctx()) == []


# ------------------------------------------------------------------ NCCI-01


def _ncci_claim(*modifiers1: str, modifiers2: tuple[str, ...] = (),
                later: int = 0) -> Claim:
    """A one-line claim as 20610 (column 1) plus a 99213 line (column 2)."""
    claim = clean(PRO, _one_line)
    first = claim.service_lines[0]
    first.procedure_code, first.modifiers = "20610", modifiers1
    assert first.service_date is not None
    claim.service_lines.append(_line(claim, "99213", *modifiers2,
                                     on=first.service_date + timedelta(days=later)))
    return claim


def _ncci(claim: Claim, indicator: str) -> list[Finding]:
    reference = FakeReference(pairs={("20610", "99213"): indicator})
    return proc.ncci_procedure_pairs(claim, ctx(reference=reference))


def test_ncci01_indicator_0_is_never_bypassed() -> None:
    assert _ncci(_ncci_claim(modifiers2=("59",)), "0") == [Finding(
        "NCCI-01", "procedures", Severity.ERROR,
        "service line 2 is bundled with service line 1 on the same date "
        "(NCCI edit; no modifier allows both)", "2400 SV101-2", 2)]


def test_ncci01_indicator_1_without_a_bypass_modifier() -> None:
    [finding] = _ncci(_ncci_claim(), "1")
    assert finding.message == ("service line 2 is bundled with service line 1 on the same "
                               "date (NCCI edit; no modifier shows they were distinct)")
    assert finding.line_number == 2
    # The modifier belongs on the column-2 line: on column 1 it bypasses nothing.
    assert len(_ncci(_ncci_claim("59"), "1")) == 1


@pytest.mark.parametrize("modifier", ["25", "59", "XE", "XS", "XU", "XP", "79", "91"])
def test_ncci01_nearest_indicator_1_with_a_bypass_modifier(modifier) -> None:
    assert _ncci(_ncci_claim(modifiers2=(modifier,)), "1") == []


def test_ncci01_anatomic_modifiers_bypass_only_on_different_sites() -> None:
    assert _ncci(_ncci_claim("LT", modifiers2=("RT",)), "1") == []
    assert _ncci(_ncci_claim("F1", modifiers2=("F2",)), "1") == []
    assert len(_ncci(_ncci_claim("RT", modifiers2=("RT",)), "1")) == 1  # the same side


def test_ncci01_deleted_edits_other_dates_and_unpaired_codes_pass() -> None:
    assert _ncci(_ncci_claim(), "9") == []
    assert _ncci(_ncci_claim(later=1), "0") == []
    claim = _ncci_claim()
    reference = FakeReference(pairs={("99213", "20610"): "0"})  # the other direction
    [finding] = proc.ncci_procedure_pairs(claim, ctx(reference=reference))
    assert finding.line_number == 1
    assert proc.ncci_procedure_pairs(claim, ctx(reference=FakeReference())) == []


def test_ncci01_asks_each_ordered_pair_of_a_date_once_with_its_date() -> None:
    claim = _ncci_claim()
    reference = FakeReference()
    proc.ncci_procedure_pairs(claim, ctx(reference=reference))
    on = claim.service_lines[0].service_date
    assert sorted(reference.asked) == [("ncci", "20610", "99213", on, "837P"),
                                       ("ncci", "99213", "20610", on, "837P")]


def test_ncci01_and_mue01_ask_for_the_claims_own_table() -> None:
    """An 837I is checked against the hospital outpatient edits, never the practitioner
    ones: a table loaded for 837P only leaves the 837I rules not run."""

    class ProfessionalOnly(FakeReference):
        def loaded(self, table: str, claim_type: str | None = None) -> bool:
            return claim_type == "837P"

    claim = clean(INST, _coded_837i)
    context = ctx(reference=ProfessionalOnly())
    assert proc.ncci_procedure_pairs(claim, context) == []
    assert proc.mue_units(claim, context) == []
    assert context.not_run >= {"NCCI-01", "MUE-01"}


# ------------------------------------------------------------------ MUE-01


def _mue_claim(units1: str, units2: str, later: int = 0) -> Claim:
    claim = clean(PRO, _one_line)
    first = claim.service_lines[0]
    first.procedure_code, first.units = "97110", Decimal(units1)
    assert first.service_date is not None
    claim.service_lines.append(_line(claim, "97110", "GP", units=units2,
                                     on=first.service_date + timedelta(days=later)))
    return claim


def _mue(claim: Claim, limit: str = "4") -> list[Finding]:
    reference = FakeReference(limits={"97110": Decimal(limit)})
    return proc.mue_units(claim, ctx(reference=reference))


def test_mue01_units_of_one_code_on_one_date_summed_over_lines() -> None:
    assert _mue(_mue_claim("3", "2")) == [Finding(
        "MUE-01", "procedures", Severity.ERROR,
        "service line 1: the units of its procedure on one date exceed the medically "
        "unlikely edit (MUE)", "2400 SV104", 1)]


@pytest.mark.parametrize(("units1", "units2", "later"), [("2", "2", 0), ("4", "4", 1),
                                                         ("1.5", "2.5", 0)])
def test_mue01_nearest_within_the_limit(units1, units2, later) -> None:
    assert _mue(_mue_claim(units1, units2, later)) == []


def test_mue01_a_line_over_several_days_and_the_837i_table() -> None:
    claim = clean(PRO, _one_line)
    line = claim.service_lines[0]
    assert line.service_date is not None
    line.procedure_code, line.units = "97110", Decimal("12")
    line.service_date_end = line.service_date + timedelta(days=2)  # three days
    assert _mue(claim) == []
    line.units = Decimal("13")
    assert len(_mue(claim)) == 1
    claim = clean(INST, _coded_837i)
    reference = FakeReference(limits={claim.service_lines[0].procedure_code: Decimal(0)})
    [finding] = proc.mue_units(claim, ctx(reference=reference))
    assert finding.field == "2400 SV205"
    assert {a[3] for a in reference.asked} == {"837I"}


def test_mue01_unknown_limit_passes() -> None:
    assert proc.mue_units(_mue_claim("30", "30"), ctx(reference=FakeReference())) == []


# ------------------------------------------------------------------ clean claims


@pytest.mark.parametrize("seed", [3, 17, 2026])
@pytest.mark.parametrize("claim_type", [None, PRO, INST])
def test_clean_simulated_claims_raise_no_procedure_finding(seed, claim_type) -> None:
    """False-positive guard over 2,000 clean claims, with every table loaded (and
    answering that codes are active, pairs unedited, limits unknown)."""
    claims = generate_claims(2000, seed, claim_type)
    reference = FakeReference()
    context = ctx(reference=reference)
    rules = MINE.without(*(r.id for r in MINE if r.id.startswith("DX-")))
    assert [f for claim in claims for f in rules.run(claim, context)] == []
    assert context.not_run == set()
    assert {a[0] for a in reference.asked} == {"hcpcs", "ncci", "mue"}
    lines = [line for claim in claims for line in claim.service_lines if line.procedure_code]
    assert len(lines) > 2000  # codes and modifiers were there to check
    assert sum(bool(line.modifiers) for line in lines) > 100


# ------------------------------------------------------------------ no PHI in messages


def _values(claim: Claim) -> set[str]:
    """What a message must not quote: names, ids, dates and every code of the claim."""
    people = [p for p in (claim.subscriber, claim.patient) if p is not None]
    values = {claim.subscriber.member_id, claim.patient_control_number, *claim.diagnoses}
    for person in people:
        values |= {person.last_name, person.first_name}
        if person.birth_date:
            values |= {person.birth_date.isoformat(), person.birth_date.strftime("%Y%m%d")}
    for line in claim.service_lines:
        values |= {line.procedure_code, *(m for m in line.modifiers if not m.isdigit())}
        if line.service_date:
            values |= {line.service_date.isoformat(), line.service_date.strftime("%Y%m%d")}
    return {v for v in values if len(v) >= 2}


def test_messages_and_fields_quote_nothing_of_the_claim() -> None:
    reference = FakeReference(inactive=frozenset({"J1100", "J3301", "G2211", "J0696"}))
    checked: set[str] = set()
    for claim_type in (PRO, INST):
        for claim in generate_claims(40, 13, claim_type):
            claim.diagnoses = ("W010XXA", "E119", "R7303", "Z00121", "N400", "O0900",
                               "Z87891", "F17210", "J301", "J45909", "M5450", "S39012A", "R42")
            first = claim.service_lines[0]
            first.modifiers = ("26", "TC", "26", "ZZ", "QQ")
            claim.service_lines += [dataclasses.replace(first, procedure_code="11045"),
                                    dataclasses.replace(first, procedure_code="9921"),
                                    dataclasses.replace(first)]
            for line in claim.service_lines:
                reference.pairs[("11045", line.procedure_code)] = "0"
                reference.limits[line.procedure_code] = Decimal(0)
            values = _values(claim)
            for finding in MINE.run(claim, ctx(reference=reference)):
                text = f"{finding.message} {finding.field}"
                assert not [v for v in values if v in text], finding
                checked.add(finding.rule_id)
    assert checked == set(MINE.ids)  # every rule spoke at least once
