"""What a payer's tests need: its module as the pipeline loads it, clean claims billed to
it, its own scrub rules, and a day submitted through its own channel.

A new payer module gets a test file here, ``tests/payers/test_<module>.py``: copy
``test_testcare_commercial.py`` and change what the payer's companion guide changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from revcycle.channels import route_for
from revcycle.model.claim import Claim
from revcycle.payers import PayerDefinition
from revcycle.pipeline.acks import apply_acknowledgments
from revcycle.pipeline.post import post_remittances
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.scrub import DEFAULT_RULES, ScrubContext, scrub
from revcycle.simulator import ClaimFactory, profile_for
from tasks.payers import payer_registry
from tests.unit.pipeline.conftest import DAY, ready_batch, res  # noqa: F401  (fixture)


def payer_module(module: str) -> PayerDefinition:
    """The payer of ``tasks/payers/<module>.py``, loaded as the pipeline loads it."""
    registry = payer_registry()
    broken = [b.problem for b in registry.broken if b.module == module]
    assert not broken, f"payer module {module}: {broken}"
    definition = importlib.import_module(f"tasks.payers.{module}").PAYER
    assert registry.payers[definition.payer_id] is definition
    return definition


def billing(payer: PayerDefinition, seed: int = 1) -> ClaimFactory:
    """A simulated provider client whose claims all go to ``payer``."""
    return ClaimFactory(seed, "PAYERTST", as_of=DAY,
                        payers=[profile_for(payer.payer_id, payer.name)])


def edits_on(payer: PayerDefinition, claims: Sequence[Claim], as_of: date) -> list[set[str]]:
    """The rule ids each claim earns under the payer's own rules and filing limit."""
    ctx = ScrubContext(as_of=as_of,
                       payer_rules={payer.payer_id: payer.scrub_rules(DEFAULT_RULES)},
                       timely_filing_days={payer.payer_id: payer.timely_filing_days})
    outcome = scrub(list(claims), ctx)
    return [{finding.rule_id for finding in outcome[i]} for i in range(len(claims))]


def submit_a_day(res: Resources, payer: PayerDefinition,  # noqa: F811
                 factory: ClaimFactory, claims: int = 8) -> dict[str, Any]:
    """Ready claims submitted to the payer through its channel, and what came back."""
    batch = ready_batch(res, "payertest", factory.claims(claims), factory.submitter)
    sent = submit(res, batch, payer, route_for(payer, res.store))
    acks = apply_acknowledgments(res, batch, payer.payer_id)
    posted = post_remittances(res, batch, payer.payer_id)
    return {"sent": sent, "acks": acks, "posted": posted}
