"""Payer modules: a broken one disables its own payer only, and says what is wrong."""

from __future__ import annotations

import os
import subprocess
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
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def operators_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An operator's payer modules folder, named by REVCYCLE_PAYER_MODULES_DIR."""
    import tasks.payers
    from revcycle.settings import get_settings

    folder = tmp_path / "our-payers"
    folder.mkdir()
    monkeypatch.setattr(tasks.payers, "__path__", list(tasks.payers.__path__))
    monkeypatch.setenv("REVCYCLE_PAYER_MODULES_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()
    sys.modules.pop("tasks.payers.ops_plan", None)


def test_the_operators_folder_adds_its_payers_beside_the_packaged_ones(
        operators_folder: Path) -> None:
    packaged = payer_registry()
    assert "OPS01" not in packaged.payers
    (operators_folder / "ops_plan.py").write_text(GOOD.format(pid="OPS01"))

    registry = payer_registry()

    assert not registry.broken, registry.broken
    assert set(registry.payers) == {*packaged.payers, "OPS01"}
    assert registry.fingerprint != packaged.fingerprint


def test_a_module_named_like_a_packaged_one_disables_both(operators_folder: Path) -> None:
    """Python would import the packaged sample_blue and never see the operator's: which
    one is meant is for a person to say."""
    packaged = payer_registry()
    assert "SIMB1" in packaged.payers
    (operators_folder / "sample_blue.py").write_text(GOOD.format(pid="OPS02"))

    registry = payer_registry()

    assert [(b.module, b.problem) for b in registry.broken] == [
        ("sample_blue", "is a module name in two payer folders: rename one")]
    assert set(registry.payers) == set(packaged.payers) - {"SIMB1"}


def test_a_fresh_process_finds_the_operators_payers(tmp_path: Path) -> None:
    """What a Dask worker does: imports the payer package anew, the setting in its
    environment."""
    (tmp_path / "ops_plan.py").write_text(GOOD.format(pid="OPS03"))
    run = subprocess.run(
        [sys.executable, "-c",
         "from tasks.payers import load_payers; print(sorted(load_payers()))"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
        env={**os.environ, "REVCYCLE_PAYER_MODULES_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "'OPS03'" in run.stdout and "'SIMB1'" in run.stdout
