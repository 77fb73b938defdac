"""Python's cycle collector, set for a process that works through batches of claims.

A stage holds thousands of claims, their service lines and their database rows at once,
none of them in a reference cycle, and makes millions of short-lived objects around them.
With Python's defaults the collector runs every 700 net allocations, and each older-
generation pass walks every object still alive: a fifth of the time of a 40,000-claim day's
stages called one after another on PostgreSQL (README: Performance).
Claim readers also pause it outright while they read (``claimfiles.collector_paused``).
"""

from __future__ import annotations

import gc
import threading

# Allocations between young-generation passes (Python's default: 700); the two older
# generations keep Python's default ratios, so cycles that do form (exception tracebacks,
# ORM sessions) are still reclaimed.
YOUNG_THRESHOLD = 100_000

_DONE = threading.Event()


def tune_for_batches() -> None:
    """Once per process: move what is loaded so far (modules, settings, code tables) out of
    the collector's sight (``gc.freeze``: it is never garbage) and raise the young
    generation's threshold to ``YOUNG_THRESHOLD``. A forked child inherits both."""
    if _DONE.is_set():
        return
    _DONE.set()
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
