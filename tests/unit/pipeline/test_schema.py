"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from revcycle.db import make_engine, upgrade
from revcycle.db.models import Base
from revcycle.pipeline.resources import Resources
from tests.unit.pipeline.conftest import BOTH_DATABASES


@pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)
def test_the_migrated_database_matches_the_models(res: Resources) -> None:
    with res.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_comparison_sees_a_missing_migration(tmp_path: Path) -> None:
    """Not vacuous: a database migrated to 0005 lacks the columns of 0006 (and later)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    upgrade(engine, "0005")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    added = {d[3].name for d in differences if d[0] == "add_column"}
    assert {"resolution", "resolved_at", "resolved_by"} <= added  # 0006's, and later ones
