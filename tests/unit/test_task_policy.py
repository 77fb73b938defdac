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


def _through_stage_errors(error: Exception) -> Exception:
    from tasks.policy import in_stage

    def fail() -> None:
        raise error

    with pytest.raises(Exception) as caught:
        in_stage("scrub · northside", fail)
    return caught.value


def test_an_unexpected_error_keeps_its_type_and_place_but_not_its_message(
        caplog: pytest.LogCaptureFixture) -> None:
    # What a Latin-1 name in a provider's file used to raise inside scrub: the message
    # quotes the claim's duplicate key (member id, name, birth date).
    value = "XQB123456789|MÜLLER|19700101"
    original = UnicodeEncodeError("ascii", value, 17, 18, "ordinal not in range(128)")
    with caplog.at_level("ERROR"):
        error = _through_stage_errors(original)
    from tasks.policy import StageFailed

    assert type(error) is StageFailed
    text = str(error)
    assert "UnicodeEncodeError" in text and "scrub · northside" in text
    assert "tests/unit/test_task_policy.py:" in text  # where it was raised: code, not data
    assert "MÜLLER" not in text and "XQB123456789" not in text
    assert error.__context__ is None and error.__cause__ is None  # nothing chained
    logged = caplog.text
    assert "scrub · northside failed: UnicodeEncodeError" in logged
    assert "Retry" in logged and "MÜLLER" not in logged


def test_a_storage_error_loses_the_key_that_names_the_provider_file() -> None:
    from revcycle.storage import InvalidKey

    key = "t1/landing/2026-11-02/drop/SMITH JOHN 1970-01-01.x12"
    error = _through_stage_errors(InvalidKey("bad name in <file 0123456789ab>", key=key))
    assert type(error) is InvalidKey and error.key is None
    assert "SMITH" not in str(error)


def test_transient_errors_stay_transient_so_they_are_retried() -> None:
    error = _through_stage_errors(TransientStorageError("throttled", key="t/raw/x"))
    assert transient_only(None, None, _FailedState(error))
    error = _through_stage_errors(ConnectionResetError("peer reset"))
    assert isinstance(error, ConnectionError)
    assert transient_only(None, None, _FailedState(error))


def test_database_errors_through_stage_errors_lose_their_parameters() -> None:
    error = _through_stage_errors(IntegrityError("INSERT ...", {"name": "SECRETNAME"},
                                                 Exception("duplicate key SECRETNAME")))
    assert type(error) is StageDatabaseError and "SECRETNAME" not in str(error)


@pytest.mark.parametrize(("stage", "parameters", "name"), [
    ("ingest", {"tenant": "riverbend", "business_date": "2026-11-02"}, "ingest · riverbend"),
    ("quality", {"batch_id": "north-side-20261102"}, "quality · north-side"),
    ("submit", {"batch_id": "northside-20261102", "payer_id": "SIMA1"},
     "submit · northside · SIMA1"),
    ("report", {"business_date": "2026-11-02", "tenants": ["a", "b"]}, "report · 2026-11-02"),
    ("payer module", {"module": "acme", "problem": "..."}, "payer module · acme"),
])
def test_run_names_say_what_the_step_is(stage: str, parameters: dict, name: str) -> None:
    from tasks.policy import run_name

    assert run_name(stage, parameters) == name


def test_our_own_error_leaves_a_stage_without_what_it_was_raised_from() -> None:
    """On Dask workers a failed step's exception is pickled with its whole chain (tblib):
    the original (which may quote a claim) must not ride along."""
    from revcycle.x12.errors import X12Error

    def fail() -> None:
        try:
            raise ValueError("MEMBER XQB123456789 ROE JANE")
        except ValueError as exc:
            raise X12Error("segment 12: bad element") from exc

    from tasks.policy import in_stage

    with pytest.raises(X12Error) as caught:
        in_stage("ingest · northside", fail)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
