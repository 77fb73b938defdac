"""pyx12 as an independent TR3 validator for what our writers produce.

``pyx12_errors`` runs pyx12's validation (the map its index picks for the file's GS01/GS08)
and returns every error pyx12 finds, as the lines its error handler logs: one per
interchange, group, transaction, segment or element error, e.g.
``Line:11 SEG:3 - Mandatory segment "Payer Technical Contact Information" (PER) missing``.
The log is used rather than the 999 or JSON output because only the log carries every
error (the JSON visitor, for one, drops element errors of the ST segment).
An empty list means pyx12 accepts the file.

``pyx12_walk`` also returns, for each segment, the map node it matched with the TR3 usage
(R, S or N) of that segment and of its loop: what the situational-omission property test
(tests/unit/x12/test_situational.py) leaves out.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import pyx12.params
import pyx12.x12n_document


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class SegmentUsage:
    """Where pyx12's map puts one segment of a file, and the TR3 usage there."""

    path: str  # the map path, e.g. /ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2010BB/N3
    usage: str  # the segment's: R, S or N
    loop: str  # the enclosing loop's map path
    loop_usage: str
    starts_loop: bool  # the first segment of a repeat of ``loop``


def pyx12_errors(x12_text: str) -> list[str]:
    """Every error pyx12 finds in ``x12_text`` (an empty list when the file is valid)."""
    return pyx12_walk(x12_text)[0]


def pyx12_walk(x12_text: str) -> tuple[list[str], list[SegmentUsage]]:
    """Every error pyx12 finds in ``x12_text``, and the map node of each of its segments in
    file order (ISA to IEA), from one validation."""
    params = pyx12.params.ParamsBase()  # no config files: the same result on every machine
    logger = logging.getLogger("pyx12")
    saved = logger.level, logger.propagate, logger.disabled
    collector = _Collector()
    usage: list[SegmentUsage] = []

    def visit(segment: object, source: object, node: object, valid: bool) -> None:
        loop = node.get_parent()
        usage.append(SegmentUsage(node.get_path(), node.usage, loop.get_path(), loop.usage,
                                  node.is_first_seg_in_loop()))

    logger.addHandler(collector)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    logger.disabled = False
    try:
        valid = pyx12.x12n_document.x12n_document(
            params, io.StringIO(x12_text), fd_997=None, fd_html=None, callback=visit)
    except Exception as exc:  # pyx12 raises EngineError and others on unusable input
        return [*collector.messages, f"pyx12 stopped: {type(exc).__name__}: {exc}"], usage
    finally:
        logger.removeHandler(collector)
        logger.level, logger.propagate, logger.disabled = saved
    errors = collector.messages
    if not valid and not errors:
        errors.append("pyx12 judged the document invalid without naming an error")
    return errors, usage
