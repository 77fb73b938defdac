"""The reference tables loaded in the database (HCPCS, NCCI PTP, MUE), held in memory.

:class:`DatabaseReferenceData` answers the :class:`~revcycle.codesets.reference.ReferenceData`
questions the scrub rules ask, thousands of times a second: each table a rule asks about
is read once into dictionaries, and every lookup after that is a dictionary lookup. A table
read by one instance is kept per engine and reused by the next instance (the next batch)
as long as the same load is current, so a process reads a release once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle.codesets.loaders import current_loads
from revcycle.db.models import HcpcsCode, MueLimit, NcciEdit

# What callers say for a claim type, and the table's claim type it means.
_CLAIM_TYPES = {
    "837P": "professional", "P": "professional", "PROFESSIONAL": "professional",
    "PRACTITIONER": "professional",
    "837I": "institutional", "I": "institutional", "INSTITUTIONAL": "institutional",
    "OUTPATIENT": "institutional",
    "DME": "dme",
}
_START = date.min.toordinal()
_END = date.max.toordinal()

_Table = tuple[str, str]  # (table, claim type)
_Load = tuple[int, str]  # (load id, sha256 of its file)
_shared: WeakKeyDictionary[Engine, dict[_Table, tuple[_Load, Any]]] = WeakKeyDictionary()
_shared_lock = Lock()


def claim_type_of(value: object) -> str | None:
    """The reference tables' claim type for ``value`` ("837P", ClaimType.INSTITUTIONAL,
    "professional", "dme", ...); None when it means none of them."""
    return _CLAIM_TYPES.get(str(value).strip().upper())


def _hcpcs(session: Session, claim_type: str) -> dict[str, tuple[int, int]]:
    rows = session.execute(select(HcpcsCode.code, HcpcsCode.add_date,
                                  HcpcsCode.termination_date))
    return {code: (added.toordinal() if added else _START,
                   terminated.toordinal() if terminated else _END)
            for code, added, terminated in rows}


def _ncci(session: Session, claim_type: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(column 1, column 2) -> ((first day, first day off, indicator), ...), latest first."""
    pairs: dict[tuple[str, str], tuple[tuple[int, int, str], ...]] = {}
    rows = session.execute(
        select(NcciEdit.column1, NcciEdit.column2, NcciEdit.effective_date,
               NcciEdit.deletion_date, NcciEdit.modifier_indicator)
        .where(NcciEdit.claim_type == claim_type))
    for column1, column2, effective, deleted, indicator in rows:
        edit = (effective.toordinal(), deleted.toordinal() if deleted else _END, indicator)
        key = (column1, column2)
        known = pairs.get(key)
        pairs[key] = (edit,) if known is None else tuple(sorted((*known, edit), reverse=True))
    return pairs


def _mue(session: Session, claim_type: str) -> dict[str, tuple[Decimal, int, int]]:
    rows = session.execute(
        select(MueLimit.code, MueLimit.mue_value, MueLimit.effective_from,
               MueLimit.effective_to).where(MueLimit.claim_type == claim_type))
    return {code: (Decimal(value), start.toordinal() if start else _START,
                   end.toordinal() if end else _END) for code, value, start, end in rows}


_READERS: dict[str, Callable[[Session, str], Any]] = {"hcpcs": _hcpcs, "ncci_ptp": _ncci,
                                                      "mue": _mue}


class DatabaseReferenceData:
    """The ``ReferenceData`` of the tables loaded with ``revcycle codesets load``.

    Which loads are current is read once per instance (one per scrubbed batch), so a load
    during a run takes effect from the next batch. ``ncci_modifier_indicator`` and
    ``loaded`` take an optional claim type beyond the protocol: practitioner and hospital
    outpatient edits are different tables.
    """

    __slots__ = ("_current", "_engine", "_names", "_sessions", "_tables")

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        self._engine = bind if isinstance(bind, Engine) else None
        self._current: dict[_Table, _Load] | None = None
        self._names: frozenset[str] = frozenset()
        self._tables: dict[_Table, Any] = {}

    def _loads(self) -> dict[_Table, _Load]:
        if self._current is None:
            with self._sessions() as session:
                self._current = {key: (load.id, load.sha256)
                                 for key, load in current_loads(session).items() if load.rows}
            self._names = frozenset(table for table, _ in self._current)
        return self._current

    def _table(self, table: str, claim_type: str) -> Any:
        """The table's dictionaries for a claim type; None when nothing is loaded."""
        key = (table, claim_type)
        try:
            return self._tables[key]
        except KeyError:
            pass
        load = self._loads().get(key)
        data = None
        if load is not None:
            shared = self._shared()
            cached = shared.get(key)
            if cached is not None and cached[0] == load:
                data = cached[1]
            else:
                with self._sessions() as session:
                    data = _READERS[table](session, claim_type)
                shared[key] = (load, data)
        self._tables[key] = data
        return data

    def _shared(self) -> dict[_Table, tuple[_Load, Any]]:
        if self._engine is None:
            return {}
        with _shared_lock:
            return _shared.setdefault(self._engine, {})

    def loaded(self, table: str, claim_type: str | None = None) -> bool:
        """Whether ``table`` ("hcpcs", "ncci_ptp", "mue") holds rows (for ``claim_type``,
        when given: NCCI and MUE are loaded per claim type)."""
        current = self._loads()
        if claim_type is None:
            return table in self._names
        kind = "" if table == "hcpcs" else claim_type_of(claim_type)
        return kind is not None and (table, kind) in current

    def hcpcs_active(self, code: str, on: date) -> bool | None:
        """Whether the code is in the HCPCS file and billable on ``on`` (from its add date
        through its termination date); None when no HCPCS file is loaded."""
        codes = self._table("hcpcs", "")
        if codes is None:
            return None
        span = codes.get(code)
        return span is not None and span[0] <= on.toordinal() <= span[1]

    def ncci_modifier_indicator(self, column1: str, column2: str, on: date,
                                claim_type: str = "837P") -> str | None:
        """The modifier indicator of the PTP edit in effect on ``on`` for the pair (from
        its effective date to the day before its deletion date); None when there is none
        or that claim type's edits are not loaded."""
        kind = claim_type_of(claim_type)
        pairs = self._table("ncci_ptp", kind) if kind else None
        if pairs is None:
            return None
        edits = pairs.get((column1, column2))
        if edits is None:
            return None
        day = on.toordinal()
        for start, end, indicator in edits:
            if start <= day < end:
                return indicator
        return None

    def mue_limit(self, code: str, on: date, claim_type: str) -> Decimal | None:
        """The MUE of ``code`` for the claim type's table ("837P" practitioner, "837I"
        outpatient hospital, "dme"); None when the code has none or it is not loaded."""
        kind = claim_type_of(claim_type)
        limits = self._table("mue", kind) if kind else None
        if limits is None:
            return None
        limit = limits.get(code)
        if limit is None or not limit[1] <= on.toordinal() <= limit[2]:
            return None
        return limit[0]
