"""Shared fixtures: where the public X12 corpus lives, and how a missing one is treated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("REVCYCLE_X12_SAMPLES", REPO.parent / "shared" / "x12-samples"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(available: bool, reason: str) -> None:
    """Skip a test whose service is missing, except in CI, where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def x12_samples() -> Path:
    """The folder of public 5010 fixtures (../shared/x12-samples), used in place."""
    require_service(SAMPLES.is_dir() and (SAMPLES / "INDEX.tsv").is_file(),
                    f"public X12 corpus not found at {SAMPLES}")
    return SAMPLES
