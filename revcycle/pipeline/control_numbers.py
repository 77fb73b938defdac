"""X12 control numbers from database sequences, taken inside the caller's transaction:
the number and the outbox row that uses it commit together or not at all.

A number is taken with one ``UPDATE ... RETURNING`` on the sequence's row (the rows are
made by a migration), so two runs taking numbers at once never get the same one: on
PostgreSQL the second waits on the row lock, on SQLite on the database's write lock.
"""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from revcycle.db.models import ControlNumber

LIMIT = 999_999_999  # nine digits; the sequence wraps after it


class DatabaseControlNumbers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _take(self, name: str) -> int:
        following = case((ControlNumber.next_value >= LIMIT, 1),
                         else_=ControlNumber.next_value + 1)
        after = self.session.scalar(
            update(ControlNumber).where(ControlNumber.name == name)
            .values(next_value=following).returning(ControlNumber.next_value))
        if after is None:
            raise LookupError(f"no control number sequence {name!r}: run the migrations")
        return LIMIT if after == 1 else after - 1

    def next_interchange(self) -> int:
        return self._take("interchange")

    def next_group(self) -> int:
        return self._take("group")

    def next_transaction(self) -> int:
        return self._take("transaction")
