"""Payer modules: a broken one disables its own payer only, and says what is wrong."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

from revcycle.payers import PayerRegistry, load_payer_modules, modules_fingerprint
from tasks.payers import payer_registry

GOOD = '''from revcycle.payers import PayerDefinition
PAYER = PayerDefinition(payer_id="{pid}", name="PLAN {pid}", receiver_id="{pid}")
'''
_packages = count()


@pytest.fixture
def package(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An empty payer package of the test's own (a fresh name: imports are cached)."""
    name = f"payers_under_test_{next(_packages)}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    yield name, folder
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def _load(package: tuple[str, Path], **modules: str) -> PayerRegistry:
    name, folder = package
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source)
    return load_payer_modules(name, [str(folder)])


def test_every_broken_module_is_named_and_the_good_ones_load(package) -> None:
    registry = _load(
        package,
        acme=GOOD.format(pid="ACME1"),
        typo="from revcycle.channels import ChannelSpec\n" + GOOD.format(pid="TYPO1").replace(
            'receiver_id="TYPO1"', 'receiver_id="TYPO1", channels=(ChannelSpec("sftpp"),)'),
        half_written="from revcycle.payers import PayerDefinition\nPAYER = PayerDefinition(\n",
        no_payer="NAME = 'forgot the definition'\n",
        twin=GOOD.format(pid="ACME1"),
        too_big=GOOD.format(pid="BIG1").replace('receiver_id="BIG1"',
                                                'receiver_id="BIG1", max_claims_per_file=9999'),
    )
    # Two modules for ACME1: neither is trusted, so none of the payers loaded.
    assert registry.payers == {}
    broken = {b.module: b for b in registry.broken}
    assert sorted(broken) == ["acme", "half_written", "no_payer", "too_big", "twin", "typo"]
    assert "field payer_id: ACME1 is defined by module twin too" in broken["acme"].problem
    assert broken["typo"].payer_id == "TYPO1"
    assert "field channels[0].kind: unknown channel 'sftpp'" in broken["typo"].problem
    assert broken["half_written"].problem == "does not import: SyntaxError at line 2"
    assert "defines no PAYER" in broken["no_payer"].problem
    assert "field payer_id: ACME1 is defined by module acme too" in broken["twin"].problem
    assert "ValueError" in broken["too_big"].problem
    # Claims of a payer whose id is known wait with the reason; the modules that did not
    # import at all are named for the claims of unknown payers.
    assert registry.disabled() == {"TYPO1": "payer module typo is disabled: field"
                                            " channels[0].kind: unknown channel 'sftpp'"
                                            " (known: https, sftp, simulator)",
                                   "ACME1": "payer module twin is disabled: field payer_id:"
                                            " ACME1 is defined by module acme too"}
    assert sorted(registry.unknown_broken()) == ["half_written", "no_payer", "too_big"]


def test_the_fingerprint_changes_when_a_module_is_fixed(package) -> None:
    name, folder = package
    first = _load(package, acme=GOOD.format(pid="ACME1"), typo="PAYER = (\n")
    assert sorted(first.payers) == ["ACME1"] and first.unknown_broken() == ("typo",)
    (folder / "typo.py").write_text(GOOD.format(pid="TYPO1"))
    second = load_payer_modules(name, [str(folder)])
    assert sorted(second.payers) == ["ACME1", "TYPO1"] and not second.broken
    assert first.fingerprint != second.fingerprint
    assert load_payer_modules(name, [str(folder)]).fingerprint == second.fingerprint
    # The cache keys read it from the files alone, without importing the modules.
    assert modules_fingerprint([str(folder)]) == second.fingerprint


def test_the_projects_own_payer_modules_all_load() -> None:
    registry = payer_registry()
    assert not registry.broken, registry.broken
    assert {"SIMA1", "SIMB1", "SIMC1", "SIMD1", "SIMH1"} <= set(registry.payers)
