"""The installation identity that cached pipeline steps are keyed on."""

from __future__ import annotations

from pathlib import Path

from revcycle.pipeline.resources import Resources
from revcycle.settings import Settings


def test_a_new_database_at_the_same_place_is_another_installation(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = Resources.from_settings(settings).instance_id
    assert Resources.from_settings(settings).instance_id == first  # the same database
    (tmp_path / "revcycle.db").unlink()  # wiped: yesterday's cached steps must not count
    assert Resources.from_settings(settings).instance_id != first
