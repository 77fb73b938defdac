"""The scrub rule interface: findings, rules, rule sets and the context rules run in.

A rule is a small function decorated with :func:`rule`, which gives it an id, a family,
a severity, a message and the place it points at::

    @rule("NPI-01", family="identifiers", severity=Severity.ERROR,
          message="billing provider NPI fails its check digit", field="2010AA NM109")
    def npi_check_digit(claim: Claim, ctx: ScrubContext) -> Iterator[Hit]:
        ...
        yield Hit(field="2310B NM109", message="rendering provider NPI fails its check digit")

The function yields one :class:`Hit` per problem it finds; a hit may name a more precise
field, a service line and a more precise message, and takes the rule's own otherwise.
Calling the decorated rule returns :class:`Finding` objects.

Messages are written for a biller and carry **no PHI**: they say which part of the claim
is wrong ("billing provider NPI", "diagnosis 3", "service line 2") and never quote a
value of the claim (names, ids, dates, codes that identify a person). Findings are stored
in work queues and counted in run reports.

A :class:`RuleSet` is an ordered, immutable selection of rules that a payer module
adjusts to its companion guide with :meth:`RuleSet.without`, :meth:`RuleSet.with_rules`
and :meth:`RuleSet.override`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import ModuleType

from revcycle.codesets import icd10
from revcycle.codesets.reference import NoReferenceData, ReferenceData
from revcycle.model.claim import Claim
from revcycle.x12.charset import DEFAULT_POLICY, CharacterPolicy


class Severity(StrEnum):
    ERROR = "error"  # blocks the claim: it is not sent until it is corrected
    WARNING = "warning"  # flags the claim for a biller's review; it is still sent


class RuleSetError(LookupError):
    """A rule set was asked to drop, change or add a rule in a way that cannot be right."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem on one claim, and where it is."""

    rule_id: str
    family: str
    severity: Severity
    message: str  # for a biller; never quotes a value of the claim
    field: str  # loop and element, e.g. "2010AA NM109", "2300 CLM02", "2400 SV107"
    line_number: int | None = None  # 1-based service line (LX01), None for the claim
    code_set: str = ""  # the code set release checked against, e.g. "ICD-10-CM 2026-04-01"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule function yields: where it found a problem (empty = the rule's own)."""

    field: str = ""
    line_number: int | None = None
    message: str = ""
    code_set: str = ""


@dataclass(slots=True)
class ScrubContext:
    """What the rules know besides the claim.

    ``seen`` holds the duplicate keys (see ``revcycle.scrub.duplicates.duplicate_key``)
    of the tenant's earlier claims that went out to a payer and were not rejected or
    voided: the pipeline loads them from the database. ``passed`` collects the keys of
    the claims of this run that passed the scrub so far (``scrub`` adds them), so a
    second copy within one batch is caught too.

    ``payer_rules`` maps a payer id (2010BB NM109) to the rule set that payer's module
    chose; claims of other payers get the rule set given to ``scrub``.

    ``reference`` answers the rules that need a table operators load (HCPCS, NCCI, MUE);
    a rule whose table is not loaded adds its id to ``not_run`` instead of passing.
    ``timely_filing_days`` holds each payer's filing limit (default: 365 days), and
    ``character_policies`` the characters each payer takes (default: ``DEFAULT_POLICY``).
    """

    as_of: date  # the business date: no date of service may be after it
    icd10: icd10.ICD10Releases = field(default_factory=icd10.releases)
    seen: Collection[str] = frozenset()
    payer_rules: Mapping[str, RuleSet] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)
    reference: ReferenceData = field(default_factory=NoReferenceData)
    timely_filing_days: Mapping[str, int] = field(default_factory=dict)
    character_policies: Mapping[str, CharacterPolicy] = field(default_factory=dict)
    not_run: set[str] = field(default_factory=set)
    # While scrub() runs the rules on a claim: that claim and its duplicate key, computed once.
    current: tuple[Claim, str] | None = None

    def character_policy(self, payer_id: str) -> CharacterPolicy:
        """The characters the payer takes (``DEFAULT_POLICY`` where none is configured)."""
        return self.character_policies.get(payer_id, DEFAULT_POLICY)


RuleCheck = Callable[[Claim, ScrubContext], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A check with its id, family, severity, default message and default field."""

    id: str
    family: str
    severity: Severity
    message: str
    field: str
    check: RuleCheck

    def __call__(self, claim: Claim, ctx: ScrubContext) -> list[Finding]:
        return [
            Finding(self.id, self.family, self.severity, hit.message or self.message,
                    hit.field or self.field, hit.line_number, hit.code_set)
            for hit in self.check(claim, ctx)
        ]


def rule(
    rule_id: str, *, family: str, severity: Severity, message: str, field: str
) -> Callable[[RuleCheck], Rule]:
    """Decorator: make a check function a :class:`Rule`."""
    if not rule_id or not family or not message or not field:
        raise ValueError("a rule needs an id, a family, a message and a field")
    level = Severity(severity)

    def decorate(check: RuleCheck) -> Rule:
        return Rule(rule_id, family, level, message, field, check)

    return decorate


class RuleSet:
    """An ordered, immutable selection of rules, each id once.

    Every method returns a new rule set; the default catalog is never changed in place.
    """

    __slots__ = ("_rules",)

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        chosen: dict[str, Rule] = {}
        for r in rules:
            if r.id in chosen:
                raise RuleSetError(f"rule {r.id} is in the set twice")
            chosen[r.id] = r
        self._rules = chosen

    @classmethod
    def from_modules(cls, *modules: ModuleType) -> RuleSet:
        """Every rule defined in the modules, in the order they are defined."""
        return cls(value for module in modules for value in vars(module).values()
                   if isinstance(value, Rule))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise RuleSetError(f"no rule {rule_id} in this rule set") from None

    def __repr__(self) -> str:
        return f"RuleSet({', '.join(self._rules)})"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._rules)

    def without(self, *rule_ids: str) -> RuleSet:
        """The set without these rules (a companion guide that does not want them)."""
        for rule_id in rule_ids:
            self[rule_id]  # an unknown id is a typo in a payer module: say so
        dropped = set(rule_ids)
        return RuleSet(r for r in self if r.id not in dropped)

    def with_rules(self, *rules: Rule, replace: bool = False) -> RuleSet:
        """The set plus these rules, appended; ``replace=True`` lets one take an id's place.

        Without ``replace``, reusing an id is an error, so a payer's own rule never
        silently shadows a catalog rule that later takes the same id.
        """
        chosen = dict(self._rules)
        for r in rules:
            if r.id in chosen and not replace:
                raise RuleSetError(f"rule {r.id} is already in the set (use replace=True)")
            chosen[r.id] = r
        return RuleSet(chosen.values())

    def override(
        self,
        rule_id: str,
        *,
        severity: Severity | None = None,
        message: str | None = None,
        field: str | None = None,
    ) -> RuleSet:
        """The set with one rule's severity, default message or default field changed."""
        changes: dict[str, object] = {}
        if severity is not None:
            changes["severity"] = Severity(severity)
        if message:
            changes["message"] = message
        if field:
            changes["field"] = field
        if not changes:
            raise RuleSetError(f"override of {rule_id} changes nothing")
        changed = dataclasses.replace(self[rule_id], **changes)
        return RuleSet(changed if r.id == rule_id else r for r in self)

    def run(self, claim: Claim, ctx: ScrubContext) -> list[Finding]:
        """All findings of all rules on one claim, in rule order."""
        findings: list[Finding] = []
        for r in self._rules.values():  # Rule.__call__ inlined: this loop is the hot path
            for hit in r.check(claim, ctx):
                findings.append(Finding(r.id, r.family, r.severity, hit.message or r.message,
                                        hit.field or r.field, hit.line_number, hit.code_set))
        return findings
