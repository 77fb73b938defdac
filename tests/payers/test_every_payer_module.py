"""Every payer module in ``tasks/payers/``: it loads, and a day of claims reaches the
payer through its channel and is answered. A module added tomorrow is tested here too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from revcycle.payers import PayerDefinition
from revcycle.pipeline.resources import Resources
from tasks.payers import payer_registry
from tests.payers.conftest import billing, submit_a_day

PAYERS = payer_registry().payers


def test_every_payer_module_loads() -> None:
    registry = payer_registry()
    assert not registry.broken, [(b.module, b.problem) for b in registry.broken]
    assert registry.payers


@pytest.mark.parametrize("payer", PAYERS.values(), ids=list(PAYERS))
def test_a_day_reaches_the_payer_and_is_answered(res: Resources,
                                                 payer: PayerDefinition) -> None:
    kinds = {spec.kind for spec in payer.channels}
    if kinds != {"simulator"}:
        pytest.skip(f"{payer.payer_id} uses {sorted(kinds)} channels: its own test file"
                    " sends a day to test servers of those kinds")
    outcome = submit_a_day(res, payer, billing(payer, seed=3))
    assert outcome["sent"]["claims"] == 8 and outcome["sent"]["sent"] >= 1
    assert outcome["acks"]["accepted"] + outcome["acks"]["rejected"] == 8
    assert outcome["posted"]["remittances"] >= 1


def test_the_readmes_example_payer_module_loads_and_a_day_reaches_it(
        res: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a data engineer does first: the README's own example, dropped in as a module."""
    import tasks.payers

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = re.search(r"## Adding a payer.*?```python\n(.*?)```", readme, re.S)
    assert example, "the README's 'Adding a payer' section has a python example"
    (tmp_path / "example_health_plan.py").write_text(example.group(1))
    monkeypatch.setattr(tasks.payers, "__path__", [*tasks.payers.__path__, str(tmp_path)])
    registry = payer_registry()
    assert not registry.broken, [(b.module, b.problem) for b in registry.broken]
    payer = registry.payers["87726"]
    assert set(registry.payers) == {*PAYERS, "87726"}
    outcome = submit_a_day(res, payer, billing(payer, seed=4))
    assert outcome["sent"]["claims"] == 8
    assert outcome["acks"]["accepted"] + outcome["acks"]["rejected"] == 8
