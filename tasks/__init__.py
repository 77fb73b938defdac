"""Prefect tasks: thin wrappers that add retries, caching, logging and artifacts around
the stage functions in ``revcycle.pipeline``. Parameters and results are ids, object keys
and counts only: never PHI."""
