"""TESTCARE COMMERCIAL (tasks/payers/testcare_commercial.py).

The template for a payer's own tests: copy this file as ``tests/payers/test_<module>.py``
and test what the payer's companion guide says, each rule with a claim that passes and
one that does not. (``test_every_payer_module.py`` already checks that every module loads
and that a day reaches its payer.)
"""

from __future__ import annotations

from datetime import timedelta

from revcycle.pipeline.resources import Resources
from tests.payers.conftest import billing, edits_on, payer_module, submit_a_day

PAYER = payer_module("testcare_commercial")


def test_the_module_says_who_the_payer_is() -> None:
    assert (PAYER.payer_id, PAYER.receiver_id) == ("SIMC1", "SIMC1")
    assert [spec.kind for spec in PAYER.channels] == ["simulator"]


def test_claims_are_filed_within_90_days_of_service() -> None:
    claims = billing(PAYER, seed=5).claims(4)
    first = min(c.service_date for c in claims)
    in_time = edits_on(PAYER, claims, as_of=first + timedelta(days=90))
    too_late = edits_on(PAYER, claims, as_of=max(c.service_date for c in claims)
                        + timedelta(days=91))
    assert not any("DT-03" in rules for rules in in_time)
    assert all("DT-03" in rules for rules in too_late)


def test_a_day_of_its_claims_is_sent_and_answered(res: Resources) -> None:
    outcome = submit_a_day(res, PAYER, billing(PAYER, seed=9), claims=6)
    assert outcome["sent"]["claims"] == 6
    assert outcome["acks"]["accepted"] + outcome["acks"]["rejected"] == 6
