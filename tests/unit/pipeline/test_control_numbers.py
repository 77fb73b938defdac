"""Control numbers from the database: in order, wrapping after nine digits, and never the
same one twice, even to two runs taking numbers at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, update

from revcycle.db.models import ControlNumber
from revcycle.pipeline.control_numbers import LIMIT, DatabaseControlNumbers
from revcycle.pipeline.resources import Resources
from tests.unit.pipeline.conftest import BOTH_DATABASES

pytestmark = pytest.mark.parametrize("res", BOTH_DATABASES, indirect=True)


def test_numbers_come_in_order_per_sequence_and_wrap(res: Resources) -> None:
    with res.sessions() as session:
        numbers = DatabaseControlNumbers(session)
        assert [numbers.next_interchange() for _ in range(3)] == [1, 2, 3]
        assert (numbers.next_group(), numbers.next_transaction()) == (1, 1)
        session.execute(update(ControlNumber).where(ControlNumber.name == "group")
                        .values(next_value=LIMIT))
        assert [numbers.next_group() for _ in range(2)] == [LIMIT, 1]
        session.rollback()  # taken inside the caller's transaction: gone with it
        assert DatabaseControlNumbers(session).next_interchange() == 1


def test_a_missing_sequence_is_a_clear_error(res: Resources) -> None:
    with res.sessions() as session:
        session.execute(delete(ControlNumber).where(ControlNumber.name == "transaction"))
        with pytest.raises(LookupError, match="run the migrations"):
            DatabaseControlNumbers(session).next_transaction()


def test_two_runs_taking_numbers_at_once_never_share_one(res: Resources) -> None:
    def take(count: int) -> list[int]:
        taken = []
        for _ in range(count):
            with res.sessions() as session:
                taken.append(DatabaseControlNumbers(session).next_interchange())
                session.commit()
        return taken

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(take, 40) for _ in range(2)]
        numbers = [n for run in runs for n in run.result()]
    assert sorted(numbers) == list(range(1, 81))
