"""What every stage task shares: its run name, which failures are retried, what a failure
says in the log, and the cache key that lets a re-run skip finished work and only that."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from revcycle.channels.errors import ChannelError, TransientChannelError
from revcycle.payers import PayerModuleError
from revcycle.pipeline.audit import record
from revcycle.pipeline.batches import TenantError, batch_fingerprint, tenant_of
from revcycle.pipeline.resources import Resources, get_resources
from revcycle.storage import StorageError, TransientStorageError
from revcycle.x12.errors import X12Error

_REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


class StageDatabaseError(RuntimeError):
    """A database error inside a stage. SQLAlchemy's own messages quote the statement's
    parameters, which can hold claim data; this one names only the kind of error."""


class TransientDatabaseError(StageDatabaseError):
    """The database could not be reached or gave up on the statement: worth a retry."""


class StageFailed(RuntimeError):
    """An unexpected error inside a stage. Its message names the stage, the error's type
    and where it was raised; the original message is withheld, since it may quote claim
    data (a name, a member id, a raw segment)."""


RETRIES = 3
RETRY_DELAYS = [2, 10, 30]  # seconds, with jitter
RETRY_JITTER = 0.5
TRANSIENT = (TransientStorageError, TransientDatabaseError, TransientChannelError,
             ConnectionError, TimeoutError)
# Errors whose messages are written to carry no claim values: they reach Prefect as they are.
OWN_WORDS = (StageDatabaseError, StageFailed, X12Error, PayerModuleError, StorageError,
             TenantError, ChannelError)

# When each step's own work ran: (stage, start, end) by ``time.perf_counter``. What a run's
# wall time holds beyond these spans is orchestration (bench/daily_bench.py reads them).
# Bounded, so a long-lived worker does not grow it.
STAGE_SPANS: deque[tuple[str, float, float]] = deque(maxlen=100_000)


@contextmanager
def phi_safe_errors() -> Iterator[None]:
    """Replace database errors by ones whose message and traceback carry no parameters."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise _without_parameters(exc) from None


def in_stage(run_name: str, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(*args, **kwargs)`` as the step ``run_name``. A failure is logged first in
    words (what failed, what to do next), then raised as an error that carries no claim
    values: database errors without their parameters, storage errors without the key (a
    landing key ends in the provider's file name), anything unexpected as a
    ``StageFailed`` with its type and line only. Transient errors keep their type, so they
    are retried. The error is raised outside the handler, so the original (whose message
    may quote a claim) is not even chained to it. The work's span goes to ``STAGE_SPANS``."""
    start = time.perf_counter()
    try:
        return work(*args, **kwargs)
    except Exception as exc:  # every error leaves here in our words
        failure = _in_our_words(run_name, _without_parameters(exc))
    finally:
        STAGE_SPANS.append((run_name.split(" · ")[0], start, time.perf_counter()))
    # Nor what one of our own errors was raised from: on Dask workers (distributed installs
    # tblib's pickling) a failed step's exception is pickled with its whole chain.
    failure.__cause__ = failure.__context__ = None
    raise failure


def _without_parameters(exc: Exception) -> Exception:
    """A database error as one that names only its kind (see ``phi_safe_errors``)."""
    if isinstance(exc, DatabaseUnavailable | DBAPIError):
        kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        transient = isinstance(exc, DatabaseUnavailable) or exc.connection_invalidated
        error = TransientDatabaseError if transient else StageDatabaseError
        return error(f"database error ({kind}); parameters withheld")
    if isinstance(exc, SQLAlchemyError):
        return StageDatabaseError(f"database error ({type(exc).__name__}); parameters"
                                  " withheld")
    return exc


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:  # called outside a flow or task run
        return logging.getLogger("revcycle.tasks")


def _in_our_words(run_name: str, exc: Exception) -> Exception:
    logger = _logger()
    if isinstance(exc, ChannelError) and exc.transient:
        logger.warning("%s: %s. The step is retried up to %d times; the files wait (PENDING)"
                       " until the payer can be reached. Check the connection with"
                       " `revcycle payers check %s`.", run_name, exc, RETRIES, exc.payer_id)
    elif isinstance(exc, TRANSIENT):
        logger.warning("%s: %s could not reach a service (%s); it is retried up to %d"
                       " times. If it keeps failing, check the database, the object store"
                       " and the network, then Retry the flow run.", run_name,
                       run_name.split(" · ")[0], type(exc).__name__, RETRIES)
    else:
        logger.error("%s failed: %s. Nothing else is held up: the other tenants and payers"
                     " went on. %s", run_name, _summary(exc), _next_step(exc))
    if isinstance(exc, StorageError):
        return type(exc)(str(exc))  # the message shows the key safely; drop the key itself
    if isinstance(exc, OWN_WORDS):
        return exc
    if isinstance(exc, TRANSIENT):
        return type(exc)(f"{type(exc).__name__} at {_where(exc.__traceback__)}")
    return StageFailed(f"{run_name}: {type(exc).__name__} at {_where(exc.__traceback__)};"
                       " message withheld (it may quote claim data)")


def _summary(exc: Exception) -> str:
    if isinstance(exc, OWN_WORDS):
        return f"{type(exc).__name__}: {exc}"
    return (f"{type(exc).__name__} at {_where(exc.__traceback__)} (its message is withheld:"
            " it may quote claim data)")


def _next_step(exc: Exception) -> str:
    if isinstance(exc, PayerModuleError):
        return "Fix the payer module named, then Retry the flow run."
    if isinstance(exc, StageDatabaseError):
        return "Check the database (its log has the statement), then Retry the flow run."
    if isinstance(exc, StorageError):
        return "Check the object store and the key shown, then Retry the flow run."
    if isinstance(exc, ChannelError):
        return (f"Nothing was sent on that channel. Fix what is named (credentials, host key,"
                f" the payer module's options), check it with `revcycle payers check"
                f" {exc.payer_id}`, then Retry the flow run.")
    return ("This is a defect or an input the stage does not handle yet: report it with this"
            " run's id (the traceback below names the code, never the data); Retry once"
            " it is fixed.")


def _where(tb: TracebackType | None) -> str:
    """``file:line`` of the innermost frame: code, never data."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return "an unknown place"
    path = Path(last.tb_frame.f_code.co_filename)
    shown = path.relative_to(_REPO) if path.is_relative_to(_REPO) else path.name
    return f"{shown}:{last.tb_lineno}"


def transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Retry network, storage and database outages; bad data fails at once."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


def audited(res: Resources, stage: str, batch_id: str,
            result: dict[str, Any]) -> dict[str, Any]:
    """Append to the audit trail that this flow run (else this process) touched the batch
    (the result's payer's part of it, if any) in ``stage``, with the result's counts;
    returns the result."""
    with phi_safe_errors():
        record(res, stage, batch_id, result, run_id=str(flow_run.id or ""),
               payer=str(result.get("payer", "")))
    return result


# --- run names ----------------------------------------------------------------------------

def run_name(stage: str, parameters: dict[str, Any]) -> str:
    """``submit · northside · SIMA1``: the stage, the tenant, the payer (ids, never PHI)."""
    if "tenant" in parameters:
        subject = [str(parameters["tenant"])]
    elif "batch_id" in parameters:
        subject = [tenant_of(str(parameters["batch_id"]))]
    else:
        subject = [str(parameters[n]) for n in ("module", "business_date") if n in parameters]
    if "payer_id" in parameters:
        subject.append(str(parameters["payer_id"]))
    return " · ".join([stage, *subject])


def _namer(stage: str) -> Callable[..., str]:
    def name(parameters: dict[str, Any]) -> str:
        return run_name(stage, parameters)
    return name


# --- caching ------------------------------------------------------------------------------

def cache_key(stage: str, *names: str,
              work: Callable[[dict[str, Any]], str] | None = None
              ) -> Callable[[Any, dict[str, Any]], str]:
    """Cache key on the stage and the batch (and payer): a finished step for the same batch
    is not redone, in a retried run or in a new one. The installation (database and store)
    is part of the key, so two installations on one machine never share a cached step, and
    so is ``work``: what the step would work on now (new claims in the batch, a payer module
    added or fixed), so that caching never hides work that is due."""

    def key(_context: Any, parameters: dict[str, Any]) -> str:
        parts = [stage, *(str(parameters[name]) for name in names)]
        if work is not None:
            parts.append(work(parameters))
        return "-".join([*parts, get_resources().instance_id])

    return key


def stage_task_options(stage: str, *key_parameters: str,
                       work: Callable[[dict[str, Any]], str] | None = None,
                       across_runs: bool = True) -> dict[str, Any]:
    """Options of a stage task. ``across_runs=False``: cached only within one flow run (a
    dashboard Retry), for stages that read what arrives between runs (landing, answers)."""
    options: dict[str, Any] = {
        "name": stage,
        "task_run_name": _namer(stage),
        "retries": RETRIES,
        "retry_delay_seconds": RETRY_DELAYS,
        "retry_jitter_factor": RETRY_JITTER,
        "retry_condition_fn": transient_only,
        "persist_result": True,
    }
    if across_runs:
        options["cache_key_fn"] = cache_key(stage, *key_parameters, work=work)
    return options


def batch_work(parameters: dict[str, Any]) -> str:
    """What a stage would work on in a batch (a payer's part of it)."""
    with get_resources().sessions() as session:
        return batch_fingerprint(session, str(parameters["batch_id"]),
                                 parameters.get("payer_id"))


def batch_and_payer_work(parameters: dict[str, Any]) -> str:
    """``batch_work``, and the payer modules as they are now (one added or fixed since)."""
    from tasks.payers import payer_modules_fingerprint

    return f"{batch_work(parameters)}.{payer_modules_fingerprint()}"
