"""The scrub quality benchmark runs end to end on a tiny corpus and reports what it promises.

Behaviour only: the figures are not checked against targets (timings depend on the machine,
and a tiny corpus has only a few claims per rule).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from revcycle.model.claim import Claim
from revcycle.scrub import DEFAULT_RULES, Hit, ScrubContext, Severity, rule, scrub
from revcycle.simulator import (
    ALL_DEFECT_TAGS,
    DEFAULT_AS_OF,
    SimulatedReference,
    generate,
)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scrub_quality.py"
FAMILIES = {"balance", "corrections", "dates", "demographics", "diagnoses", "duplicates",
            "identifiers", "place", "procedures", "syntax"}


def _unit(value: object) -> bool:
    return isinstance(value, (int, float)) and 0 <= value <= 1


def test_quick_run_ends_with_one_json_object_of_figures() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "600", "--seed", "7",
                          "--quick"], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert len(lines) > 15  # the tables and the targets come first
    assert any("MET" in line or "MISS" in line for line in lines)
    assert any("SimulatedReference" in line for line in lines)
    figures = json.loads(lines[-1])

    assert figures["claims"] == 600 and figures["seed"] == 7
    assert 30 < figures["defective_claims"] < 100  # about 10%
    for key in ("recall", "precision", "false_positive_rate"):
        assert _unit(figures[key]), key
    for key in ("claims_per_s", "scrub_s", "cold_scrub_s", "cores"):
        assert figures[key] > 0, key
    assert figures["repeat"] == 1 and figures["processes"] == 1
    assert figures["not_run_without_tables"] == ["MUE-01", "NCCI-01", "PROC-02"]
    assert set(figures["families"]) == FAMILIES
    for name, entry in figures["families"].items():
        assert entry["tagged"] > 0 and 0 <= entry["caught"] <= entry["tagged"], name
        assert _unit(entry["recall"]), name
        assert entry["precision"] is None or _unit(entry["precision"]), name
    defects = {k: e for k, e in figures["families"].items() if k != "corrections"}
    assert sum(e["tagged"] for e in defects.values()) == figures["tagged"]
    assert sum(e["tagged"] for k, e in figures["per_rule"].items()
               if not k.startswith("FIX-")) == figures["tagged"]
    assert {k for k in figures["per_rule"] if k.startswith("FIX-")} == {
        "FIX-01", "FIX-02", "FIX-03"}
    assert set(figures["targets_met"]) == {"recall", "false_positive_rate", "claims_per_s"}
    assert all(isinstance(v, bool) for v in figures["targets_met"].values())


def test_claims_must_be_positive() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--claims", "0", "--quick"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2
    assert "--claims must be at least 1" in run.stderr


def _bench_module():
    spec = importlib.util.spec_from_file_location("scrub_quality", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@rule("ZZ-99", family="syntax", severity=Severity.ERROR, message="test rule",
      field="2300 CLM01")
def _every_seventh(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
    if claim.patient_control_number.endswith("7"):
        yield Hit()


def test_the_measure_sees_a_missed_defect_and_a_false_alarm() -> None:
    """The figures can fail: a catalog without BAL-01 misses its defects, and a rule that
    blocks every claim whose number ends in 7 stops clean claims."""
    bench = _bench_module()
    sim = generate(1500, 4, defect_rate=0.2, defects=ALL_DEFECT_TAGS)
    numbers = [c.patient_control_number for c in sim.claims]
    rules = DEFAULT_RULES.without("BAL-01").with_rules(_every_seventh)
    ctx = ScrubContext(as_of=DEFAULT_AS_OF, reference=SimulatedReference())
    figures = bench.evaluate(sim, numbers, scrub(copy.deepcopy(sim.claims), ctx, rules))
    assert figures["families"]["balance"]["recall"] == 0.0
    assert figures["rules"]["BAL-01"]["caught"] == 0 < figures["rules"]["BAL-01"]["tagged"]
    assert figures["false_positive_rules"]["ZZ-99"] > 50
    assert 0.05 < figures["false_positive_rate"] < 0.2  # about one clean claim in ten
    assert figures["families"]["syntax"]["precision"] < 0.7
    assert figures["recall"] < 1.0 and figures["precision"] < 0.9
