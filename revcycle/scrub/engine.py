"""Run the rules over a batch of claims: the scrub stage's logic, without the pipeline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from revcycle.model.claim import Claim
from revcycle.scrub import (
    balance,
    dates,
    demographics,
    diagnoses,
    duplicates,
    identifiers,
    places,
    procedures,
    syntax,
)
from revcycle.scrub.corrections import autocorrect
from revcycle.scrub.rules import Finding, RuleSet, ScrubContext, Severity

DEFAULT_RULES = RuleSet.from_modules(
    identifiers,
    diagnoses,
    balance,
    dates,
    duplicates,
    syntax,
    demographics,
    procedures,
    places,
)
"""The catalog every payer starts from: each rule of the family modules, in their order."""


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """Findings per claim, in the order of the claims, and each claim's duplicate key.

    Indexing and iterating give the findings, as a ``list[list[Finding]]`` would. The
    pipeline stores the keys of the claims that passed, for tomorrow's ``ctx.seen``, and
    the code-set release the diagnoses were checked against.
    """

    findings: list[list[Finding]]
    keys: list[str]
    icd10_release: str

    def __len__(self) -> int:
        return len(self.findings)

    def __getitem__(self, index: int) -> list[Finding]:
        return self.findings[index]

    def __iter__(self) -> Iterator[list[Finding]]:
        return iter(self.findings)

    def blocked(self, index: int) -> bool:
        """Whether claim ``index`` has an ERROR finding (it goes to REJECTED, not READY)."""
        return any(f.severity is Severity.ERROR for f in self.findings[index])

    def rule_counts(self) -> Counter[str]:
        """How many findings each rule raised: counts for the run report (no PHI)."""
        return Counter(f.rule_id for claim in self.findings for f in claim)


def scrub(
    claims: Sequence[Claim], ctx: ScrubContext, rules: RuleSet = DEFAULT_RULES
) -> ScrubResult:
    """Correct each claim (:func:`~revcycle.scrub.corrections.autocorrect`, in place), then
    run its rule set (its payer's from ``ctx.payer_rules``, else ``rules``).

    Claims are scrubbed in order; a claim that passes (no ERROR) adds its duplicate key
    to ``ctx.passed``, so a later copy in the same batch is a duplicate. A blocked claim
    does not: it is not billed, and its corrected copy is no duplicate.
    """
    payer_rules = ctx.payer_rules
    findings: list[list[Finding]] = []
    keys: list[str] = []
    try:
        for claim in claims:
            # First: the rules check the corrected claim.
            fixed = autocorrect(claim, ctx.character_policy(claim.payer.payer_id))
            key = duplicates.duplicate_key(claim)
            ctx.current = (claim, key)
            found = fixed + payer_rules.get(claim.payer.payer_id, rules).run(claim, ctx)
            if not any(f.severity is Severity.ERROR for f in found):
                ctx.passed.add(key)
            findings.append(found)
            keys.append(key)
    finally:
        ctx.current = None
    return ScrubResult(findings, keys, ctx.icd10.release)
