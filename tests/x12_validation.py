"""pyx12 as an independent TR3 validator for what our writers produce.

``pyx12_errors`` runs pyx12's validation (the map its index picks for the file's GS01/GS08)
and returns every error pyx12 finds, as the lines its error handler logs: one per
interchange, group, transaction, segment or element error, e.g.
``Line:11 SEG:3 - Mandatory segment "Payer Technical Contact Information" (PER) missing``.
The log is used rather than the 999 or JSON output because only the log carries every
error (the JSON visitor, for one, drops element errors of the ST segment).
An empty list means pyx12 accepts the file.
"""

from __future__ import annotations

import io
import logging

import pyx12.params
import pyx12.x12n_document


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(x12_text: str) -> list[str]:
    """Every error pyx12 finds in ``x12_text`` (an empty list when the file is valid)."""
    params = pyx12.params.ParamsBase()  # no config files: the same result on every machine
    logger = logging.getLogger("pyx12")
    saved = logger.level, logger.propagate, logger.disabled
    collector = _Collector()
    logger.addHandler(collector)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    logger.disabled = False
    try:
        valid = pyx12.x12n_document.x12n_document(
            params, io.StringIO(x12_text), fd_997=None, fd_html=None)
    except Exception as exc:  # pyx12 raises EngineError and others on unusable input
        return [*collector.messages, f"pyx12 stopped: {type(exc).__name__}: {exc}"]
    finally:
        logger.removeHandler(collector)
        logger.level, logger.propagate, logger.disabled = saved
    errors = collector.messages
    if not valid and not errors:
        errors.append("pyx12 judged the document invalid without naming an error")
    return errors
