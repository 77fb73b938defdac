"""What the stage tasks retry, and that database errors reach Prefect without PHI."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from revcycle.storage import TransientStorageError
from tasks.policy import (
    StageDatabaseError,
    TransientDatabaseError,
    phi_safe_errors,
    transient_only,
)


class _FailedState:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def result(self) -> None:
        raise self.error


def _raise_inside(error: Exception) -> Exception:
    with pytest.raises(StageDatabaseError) as caught, phi_safe_errors():
        raise error
    return caught.value


def test_database_errors_lose_their_parameters() -> None:
    error = _raise_inside(IntegrityError("INSERT INTO claims ...", {"name": "SECRETNAME"},
                                         Exception("duplicate key SECRETNAME")))
    assert type(error) is StageDatabaseError
    assert "SECRETNAME" not in str(error)
    assert error.__suppress_context__  # the original is not printed with the traceback


def test_unreachable_database_is_transient() -> None:
    error = _raise_inside(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert isinstance(error, TransientDatabaseError)
    assert transient_only(None, None, _FailedState(error))


@pytest.mark.parametrize(("error", "retried"), [
    (TransientStorageError("throttled", key="t/raw/2026-11-02/b/x"), True),
    (TransientDatabaseError("database error"), True),
    (ConnectionError("reset"), True),
    (StageDatabaseError("database error"), False),
    (ValueError("bad data"), False),
])
def test_only_transient_failures_are_retried(error: Exception, retried: bool) -> None:
    assert transient_only(None, None, _FailedState(error)) is retried
