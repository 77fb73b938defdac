"""The scrub stage: rules a claim must pass before it is sent, and the engine that runs them.

``rules`` defines the interface (findings, rules, rule sets, the context); one module per
family holds the rules (``identifiers``, ``diagnoses``, ``balance``, ``dates``,
``duplicates``); ``engine`` runs a rule set over a batch.
"""

from revcycle.scrub.duplicates import duplicate_key
from revcycle.scrub.engine import DEFAULT_RULES, ScrubResult, scrub
from revcycle.scrub.rules import (
    Finding,
    Hit,
    Rule,
    RuleSet,
    RuleSetError,
    ScrubContext,
    Severity,
    rule,
)

__all__ = [
    "DEFAULT_RULES",
    "Finding",
    "Hit",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "ScrubContext",
    "ScrubResult",
    "Severity",
    "duplicate_key",
    "rule",
    "scrub",
]
