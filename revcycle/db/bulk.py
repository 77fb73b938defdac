"""Many rows in or changed at once: a few statements, not one per row.

On PostgreSQL a statement per row costs a round trip, so rows go in with COPY (no SQL
parsed per row) and updates are one UPDATE joining the new values, sent as one array per
column and unnested (no scratch table: no catalog rows made and dropped per call).
Elsewhere (SQLite) one executemany does the same work in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

CHUNK = 500  # rows per statement where each row is a set of bound parameters


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: ColumnElement[Any],
          values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``. On PostgreSQL one array parameter (``= ANY``), so a long
    list is not a long statement for the driver to parse and the server to plan."""
    if not _on_postgresql(session):
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table``; every row has the same keys. A column no row names
    gets the model's Python-side default (a value, or a callable called once for all the
    rows), as an INSERT would; COPY alone would leave it NULL."""
    if not rows:
        return
    if not _on_postgresql(session):
        session.execute(table.insert(), rows)
        return
    given = list(rows[0])
    defaults = _python_defaults(table, given)
    fill = list(defaults.values())
    names = ", ".join([*given, *defaults])
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([*(row[name] for name in given), *fill])


def _python_defaults(table: Table, given: list[str]) -> dict[str, Any]:
    """The Python-side defaults (a value or a context-free callable) of the columns of
    ``table`` not in ``given``, the primary key aside."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.primary_key or column.name in given or default is None:
            continue
        if getattr(default, "is_scalar", False):
            defaults[column.name] = default.arg  # type: ignore[attr-defined]
        elif getattr(default, "is_callable", False):
            defaults[column.name] = default.arg(None)  # type: ignore[attr-defined]
    return defaults


def insert_rows_with_ids(session: Session, table: Table,
                         rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` like :func:`insert_rows` and return their new ids, in order. On
    PostgreSQL the ids are drawn from the table's sequence in one query and the rows go in
    with COPY; elsewhere one INSERT ... RETURNING per chunk."""
    if not rows:
        return []
    if not _on_postgresql(session):
        ids: list[int] = []
        for start in range(0, len(rows), CHUNK):
            ids += session.scalars(table.insert().returning(
                table.c.id, sort_by_parameter_order=True), rows[start:start + CHUNK])
        return ids
    ids = list(session.scalars(text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)}))
    insert_rows(session, table,
                [{"id": new_id, **row} for new_id, row in zip(ids, rows, strict=True)])
    return ids


def update_rows(session: Session, table: Table, rows: Sequence[tuple[Any, ...]],
                columns: tuple[str, ...]) -> None:
    """Set ``columns`` of the rows with these ids (each row: id, then the values in the
    order of ``columns``). The column names come from the caller's code, never from data;
    a table with ``updated_at`` gets it set too."""
    if not rows:
        return
    if not _on_postgresql(session):
        values = {name: bindparam(f"new_{name}") for name in columns}
        statement = update(table).where(table.c.id == bindparam("row_id")).values(values)
        session.execute(statement, [
            {"row_id": row[0], **{f"new_{name}": value
                                  for name, value in zip(columns, row[1:], strict=True)}}
            for row in rows])
        return
    connection = session.connection()
    dialect = connection.dialect
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]"
                       for name in ("id", *columns))
    sets = [f"{name} = changed.{name}" for name in columns]
    if "updated_at" in table.c:
        sets.append("updated_at = now()")
    cursor = connection.connection.driver_connection.cursor()
    with cursor:
        cursor.execute(f"UPDATE {table.name} SET {', '.join(sets)}"
                       f" FROM unnest({arrays}) AS changed(id, {', '.join(columns)})"
                       f" WHERE {table.name}.id = changed.id",
                       [list(values) for values in zip(*rows, strict=True)])
