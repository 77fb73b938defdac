"""Scrub quality benchmark: how many seeded defects the rule catalog catches, how many clean
claims it stops by mistake, and how many claims a second it scrubs.

Builds a corpus with the simulator (``revcycle.simulator``): about 10% of the claims carry a
seeded defect, named by the rule that should catch it (every tag of ``ALL_DEFECT_TAGS``, one
family after another: syntax, identifiers, demographics, dates, diagnoses, procedures, place,
duplicates, balance), and as many of the rest carry correctable formatting (``FIX-01`` to
``FIX-03``). It scrubs them with the full ``DEFAULT_RULES`` and ``SimulatedReference`` - the
simulator's small made-up HCPCS, NCCI and MUE tables, in memory - so that the rules needing
CMS tables (``PROC-02``, ``NCCI-01``, ``MUE-01``) run too; no CMS file is loaded.

- A tagged defect is *caught* when its claim has a finding of the tagged rule at the tag's
  severity (``DEFECT_SEVERITY``: ERROR, or WARNING for ``SYN-02``, ``DX-02``, ``DX-03``,
  ``DX-07`` and the corrections). Recall = caught / tagged; the overall figures are those
  of the defects, the corrections have their own row.
- A *false positive* is an ERROR finding (one per claim and rule) on a claim without an
  ERROR tag. Precision = caught / (caught + false positives); the false positive rate is the
  share of those claims (clean, warning-only or corrected) that get an ERROR.
- Findings of other rules on tagged claims, and warnings on untagged claims, are counted
  apart ("stray"): they stop no clean claim, but show where a defect trips more than its rule.
- Throughput: ``scrub`` over the whole corpus in this one process (one core), auto-
  corrections included, best of three ``time.perf_counter`` runs on fresh copies of the
  claims, after the quality run has warmed the code-set caches.

It prints the tables and the targets with MET or MISS, and, as its last line, one JSON
object with every figure.

Run: ``python bench/scrub_quality.py [--claims N] [--seed S] [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

from revcycle.model.claim import Claim
from revcycle.scrub import DEFAULT_RULES, ScrubContext, Severity, scrub
from revcycle.scrub.engine import ScrubResult
from revcycle.simulator import (
    ALL_DEFECT_TAGS,
    CORRECTION_TAGS,
    DEFECT_SEVERITY,
    ClaimFactory,
    SimulatedReference,
    Simulation,
)

DEFECT_RATE = 0.1
CORRECTIONS = "corrections"  # the family of FIX-01 to FIX-03 (auto-corrections, no rules)
TARGET_RECALL = 0.99
TARGET_FPR = 0.005
TARGET_CLAIMS_PER_S = 5000.0  # per core; this benchmark runs on one


def family_of(tag: str) -> str:
    return CORRECTIONS if tag in CORRECTION_TAGS else DEFAULT_RULES[tag].family


def corpus(claims: int, seed: int) -> tuple[ClaimFactory, Simulation]:
    factory = ClaimFactory(seed, "BENCH")
    return factory, factory.generate(claims, defect_rate=DEFECT_RATE, defects=ALL_DEFECT_TAGS,
                                     corrections=True)


def context(factory: ClaimFactory) -> ScrubContext:
    return ScrubContext(as_of=factory.as_of, reference=SimulatedReference())


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def evaluate(sim: Simulation, numbers: Sequence[str], result: ScrubResult) -> dict[str, Any]:
    """Recall, precision and false positives, per family, per tag and overall."""
    tagged: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()  # per rule: ERROR findings on claims without an ERROR tag
    stray: Counter[str] = Counter()  # per rule: other findings that tag did not ask for
    family: dict[str, str] = {}  # rule id -> family, as its findings say
    clean = flagged = 0
    for number, findings in zip(numbers, result, strict=True):
        tags = sim.defects.get(number, ())
        raised = {(f.rule_id, f.severity) for f in findings}
        family.update((f.rule_id, f.family) for f in findings)
        for tag in tags:
            tagged[tag] += 1
            level = Severity.ERROR if DEFECT_SEVERITY[tag] == "ERROR" else Severity.WARNING
            caught[tag] += (tag, level) in raised
        errors = {rule for rule, level in raised if level is Severity.ERROR}
        unblocked = not any(DEFECT_SEVERITY[t] == "ERROR" for t in tags)
        if unblocked:
            clean += 1
            flagged += bool(errors)
            false_pos.update(errors)
        stray.update(f"{rule} ({level.value})" for rule, level in raised
                     if rule not in tags and not (unblocked and level is Severity.ERROR))
    families: dict[str, dict[str, Any]] = {}
    for tag in tagged:
        entry = families.setdefault(family_of(tag), {"tagged": 0, "caught": 0,
                                                     "false_positives": 0})
        entry["tagged"] += tagged[tag]
        entry["caught"] += caught[tag]
    for rule, count in false_pos.items():
        entry = families.setdefault(family[rule], {"tagged": 0, "caught": 0,
                                                   "false_positives": 0})
        entry["false_positives"] += count
    for entry in families.values():
        entry["recall"] = _ratio(entry["caught"], entry["tagged"])
        entry["precision"] = _ratio(entry["caught"], entry["caught"] + entry["false_positives"])
    # Overall: the seeded defects; the corrections are reported in their own row only.
    defects = [e for name, e in families.items() if name != CORRECTIONS]
    total_tagged = sum(e["tagged"] for e in defects)
    total_caught = sum(e["caught"] for e in defects)
    total_fp = sum(false_pos.values())
    return {
        "tagged": total_tagged,
        "caught": total_caught,
        "recall": _ratio(total_caught, total_tagged),
        "precision": _ratio(total_caught, total_caught + total_fp),
        "false_positives": total_fp,
        "clean_claims": clean,
        "clean_claims_flagged": flagged,
        "false_positive_rate": _ratio(flagged, clean) or 0.0,
        "families": dict(sorted(families.items())),
        "rules": {tag: {"tagged": tagged[tag], "caught": caught[tag],
                        "recall": _ratio(caught[tag], tagged[tag])}
                  for tag in sorted(tagged, key=lambda t: (family_of(t), t))},
        "false_positive_rules": dict(false_pos.most_common()),
        "stray_findings": dict(stray.most_common()),
    }


def throughput(factory: ClaimFactory, claims: list[Claim], repeat: int) -> float:
    """The best time of ``repeat`` scrubs of fresh copies of ``claims`` (scrub corrects
    claims in place, so each run starts from the same input)."""
    best = float("inf")
    for _ in range(repeat):
        batch = copy.deepcopy(claims)
        ctx = context(factory)
        start = time.perf_counter()
        scrub(batch, ctx)
        best = min(best, time.perf_counter() - start)
    return best


def not_run_without_tables(factory: ClaimFactory, claims: list[Claim]) -> list[str]:
    """The rules that say they did not run when no reference table is loaded."""
    ctx = ScrubContext(as_of=factory.as_of)
    scrub(copy.deepcopy(claims[:200]), ctx)
    return sorted(ctx.not_run)


def _figure(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def run(claims: int, seed: int, quick: bool) -> dict[str, Any]:
    repeat = 1 if quick else 3
    start = time.perf_counter()
    factory, sim = corpus(claims, seed)
    pristine = copy.deepcopy(sim.claims)
    build_s = time.perf_counter() - start
    numbers = [c.patient_control_number for c in sim.claims]

    start = time.perf_counter()
    result = scrub(sim.claims, context(factory))  # the quality run (cold: loads code sets)
    cold_s = time.perf_counter() - start
    quality = evaluate(sim, numbers, result)
    best_s = throughput(factory, pristine, repeat)
    not_run = not_run_without_tables(factory, pristine)

    defective = sum(1 for tags in sim.defects.values() if set(tags) - set(CORRECTION_TAGS))
    corrected = len(sim.defects) - defective
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    f: dict[str, Any] = {
        "claims": claims, "seed": seed, "defect_rate": DEFECT_RATE,
        "defective_claims": defective, "corrected_claims": corrected,
        "rules": len(DEFAULT_RULES), "reference": "synthetic (SimulatedReference)",
        "not_run_without_tables": not_run,
        **{k: quality[k] for k in ("recall", "precision", "false_positive_rate", "tagged",
                                   "caught", "false_positives", "clean_claims",
                                   "clean_claims_flagged")},
        "claims_per_s": claims / best_s, "scrub_s": best_s, "cold_scrub_s": cold_s,
        "repeat": repeat, "processes": 1, "cores": os.cpu_count() or 1, "usable_cores": usable,
        "build_corpus_s": build_s,
        "families": quality["families"], "per_rule": quality["rules"],
        "false_positive_rules": quality["false_positive_rules"],
        "stray_findings": quality["stray_findings"],
    }
    met = {
        "recall": (f["recall"] or 0.0) >= TARGET_RECALL,
        "false_positive_rate": f["false_positive_rate"] <= TARGET_FPR,
        "claims_per_s": f["claims_per_s"] >= TARGET_CLAIMS_PER_S,
    }
    f["targets_met"] = met
    f["python"] = platform.python_version()

    print(f"revcycle scrub quality benchmark: {claims:,} claims (seed {seed}), {defective:,} with"
          f" a seeded defect ({defective / claims:.1%}), {corrected:,} with correctable"
          f" formatting; {len(DEFAULT_RULES)} rules (DEFAULT_RULES) plus the auto-corrections."
          f" Corpus built in {build_s:.1f} s.")
    print("Reference tables: SimulatedReference, the simulator's made-up in-memory HCPCS, NCCI"
          " and MUE tables (no CMS file is loaded); without tables, these rules report that"
          f" they did not run: {', '.join(not_run) or 'none'}.")
    print()
    print(f"{'family':<14}{'tagged':>8}{'caught':>8}{'recall':>9}{'false pos':>11}"
          f"{'precision':>11}")
    for name, entry in f["families"].items():
        print(f"{name:<14}{entry['tagged']:>8,}{entry['caught']:>8,}"
              f"{_figure(entry['recall']):>9}{entry['false_positives']:>11,}"
              f"{_figure(entry['precision']):>11}")
    print(f"{'all defects':<14}{f['tagged']:>8,}{f['caught']:>8,}{_figure(f['recall']):>9}"
          f"{f['false_positives']:>11,}{_figure(f['precision']):>11}   (corrections aside)")
    print()
    cells = [f"{tag} {e['caught']}/{e['tagged']}" for tag, e in f["per_rule"].items()]
    print("caught/tagged per rule:")
    for at in range(0, len(cells), 6):
        print("  " + "   ".join(f"{c:<16}" for c in cells[at:at + 6]).rstrip())
    missed = [tag for tag, e in f["per_rule"].items() if e["caught"] < e["tagged"]]
    print(f"rules that missed a tagged claim: {', '.join(missed) or 'none'}")
    print(f"ERROR findings on claims without an ERROR tag: "
          f"{_counts(f['false_positive_rules']) or 'none'}")
    print(f"stray findings (a rule the claim was not tagged for, any severity): "
          f"{_counts(f['stray_findings']) or 'none'}")
    print(f"false positive rate: {f['clean_claims_flagged']:,} of {f['clean_claims']:,} claims"
          f" without an ERROR tag got an ERROR = {f['false_positive_rate']:.4%}")
    print()
    print(f"throughput: {f['claims_per_s']:,.0f} claims/s ({best_s:.3f} s for {claims:,} claims,"
          f" best of {repeat}; the first, cold run took {cold_s:.3f} s), one process on a"
          f" machine with {f['cores']} cores ({usable} usable)")
    print("targets:")
    rows = (("recall", f"recall >= {TARGET_RECALL}", _figure(f["recall"])),
            ("false_positive_rate", f"false positive rate <= {TARGET_FPR}",
             _figure(f["false_positive_rate"])),
            ("claims_per_s", f"claims/s per core >= {TARGET_CLAIMS_PER_S:,.0f}",
             f"{f['claims_per_s']:,.0f}"))
    for key, label, value in rows:
        print(f"  {label:<34}{value:>12}  {'MET' if met[key] else 'MISS'}")
    return f


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{rule} x{count}" for rule, count in counts.items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=None,
                        help="claims in the corpus (default 20000, 2000 with --quick)")
    parser.add_argument("--seed", type=int, default=2026, help="the simulator's seed")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: 2000 claims, one timing run")
    args = parser.parse_args(argv)
    count = args.claims if args.claims is not None else (2000 if args.quick else 20000)
    if count < 1:
        parser.error("--claims must be at least 1")
    warnings.simplefilter("ignore", DeprecationWarning)  # simple-icd-10-cm's resource loader
    figures = run(count, args.seed, args.quick)
    print(json.dumps(figures, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
