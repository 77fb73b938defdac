"""Crash points: named places in the stages where a test harness can kill the process.

Each dangerous moment of a stage (an object written but its row not committed, a row
committed but the landing file not yet deleted, a file sent but not marked SENT, ...)
calls ``crash_point(name)`` once. It does nothing unless the environment variable
``REVCYCLE_CRASH_AT`` names that point when the process starts; then the process kills
itself with SIGKILL there, as a lost machine would, with no ``finally`` or ``atexit`` run.
``REVCYCLE_CRASH_AT=post.after_file#3`` kills at the third time the point is reached.

The kill harness (``bench/kill_harness.py``) runs the day once per point, re-runs it, and
checks that nothing was lost or done twice. Never set the variable in production.
"""

from __future__ import annotations

import os
import signal

ENV = "REVCYCLE_CRASH_AT"

POINTS = (
    "ingest.after_raw_put",         # the raw copy written, its file row not committed
    "ingest.after_commit",          # the file and claims committed, landing not deleted
    "ingest.after_quarantine_put",  # the quarantined copy written, no reason or row yet
    "quality.after_docs",           # Data Docs published, no claim moved
    "quality.between_moves",        # failed claims moved, passed ones not (uncommitted)
    "scrub.between_moves",          # ready claims moved, rejected ones not (uncommitted)
    "submit.after_outbound_put",    # the 837 in outbound/, its submission not committed
    "submit.after_intent",          # the submission committed PENDING, not claimed
    "submit.after_claim",           # claimed SENDING, not sent
    "submit.after_send",            # delivered to the payer, not marked SENT
    "submit.after_sent",            # marked SENT and charges booked, next file not begun
    "collect.after_store",          # a mailbox file stored and recorded, not acknowledged
    "route.after_file",             # a mailbox file's sets routed, the next file not begun
    "inbound.after_apply",          # an answer file applied and committed, next not begun
    "post.after_remittance",        # one 835 posted in the session, not committed
)


def _target(value: str) -> tuple[str, int]:
    name, _, nth = value.partition("#")
    if name not in POINTS:
        raise ValueError(f"{ENV} names no crash point: {name!r} (see revcycle.crashpoints)")
    return name, int(nth or 1)


_TARGET = _target(os.environ[ENV]) if os.environ.get(ENV) else None
_reached = 0


def crash_point(name: str) -> None:
    """Kill this process here if ``REVCYCLE_CRASH_AT`` names ``name`` (at its n-th pass)."""
    global _reached
    if _TARGET is None or _TARGET[0] != name:
        return
    _reached += 1
    if _reached == _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
