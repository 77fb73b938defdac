"""What every stage task shares: which failures are retried, and the (stage, batch) cache key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from revcycle.pipeline.resources import get_resources
from revcycle.storage import TransientStorageError


class StageDatabaseError(RuntimeError):
    """A database error inside a stage. SQLAlchemy's own messages quote the statement's
    parameters, which can hold claim data; this one names only the kind of error."""


class TransientDatabaseError(StageDatabaseError):
    """The database could not be reached or gave up on the statement: worth a retry."""


@contextmanager
def phi_safe_errors() -> Iterator[None]:
    """Replace database errors by ones whose message and traceback carry no parameters."""
    try:
        yield
    except (DatabaseUnavailable, DBAPIError) as exc:
        kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        transient = isinstance(exc, DatabaseUnavailable) or exc.connection_invalidated
        error = TransientDatabaseError if transient else StageDatabaseError
        raise error(f"database error ({kind}); parameters withheld") from None
    except SQLAlchemyError as exc:
        raise StageDatabaseError(f"database error ({type(exc).__name__}); parameters"
                                 " withheld") from None


RETRIES = 3
RETRY_DELAYS = [2, 10, 30]  # seconds, with jitter
RETRY_JITTER = 0.5
TRANSIENT = (TransientStorageError, TransientDatabaseError, ConnectionError, TimeoutError)


def transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry network, storage and database outages; bad data fails at once."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


def cache_key(stage: str, *names: str) -> Callable[[Any, dict[str, Any]], str]:
    """Cache key on the stage and the batch (and payer): a finished step for the same batch
    is not redone, in a retried run or in a new one. The installation (database and store)
    is part of the key, so two installations on one machine never share a cached step."""

    def key(_context: Any, parameters: dict[str, Any]) -> str:
        parts = [stage, *(str(parameters[name]) for name in names)]
        return "-".join([*parts, get_resources().instance_id])

    return key


def stage_task_options(stage: str, *key_parameters: str) -> dict[str, Any]:
    return {
        "name": stage,
        "retries": RETRIES,
        "retry_delay_seconds": RETRY_DELAYS,
        "retry_jitter_factor": RETRY_JITTER,
        "retry_condition_fn": transient_only,
        "persist_result": True,
        "cache_key_fn": cache_key(stage, *key_parameters),
    }
