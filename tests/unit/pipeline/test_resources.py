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


def test_threads_building_resources_at_once_all_get_them(tmp_path: Path) -> None:
    """A Dask worker's first tasks each build the process's resources (and migrate) at the
    same moment; Alembic's module-global context must not be torn down under another."""
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(home=tmp_path)
    with ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda _: Resources.from_settings(settings).instance_id,
                              range(4)))
    assert len(set(built)) == 1
