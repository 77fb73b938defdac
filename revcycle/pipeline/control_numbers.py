"""X12 control numbers from database sequences, taken inside the caller's transaction:
the number and the outbox row that uses it commit together or not at all."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db.models import ControlNumber

LIMIT = 999_999_999  # nine digits; the sequence wraps after it


class DatabaseControlNumbers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _take(self, name: str) -> int:
        row = self.session.scalar(
            select(ControlNumber).where(ControlNumber.name == name).with_for_update())
        if row is None:
            row = ControlNumber(name=name, next_value=1)
            self.session.add(row)
        value = row.next_value
        row.next_value = 1 if value >= LIMIT else value + 1
        self.session.flush()
        return value

    def next_interchange(self) -> int:
        return self._take("interchange")

    def next_group(self) -> int:
        return self._take("group")

    def next_transaction(self) -> int:
        return self._take("transaction")
