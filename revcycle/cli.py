"""The ``revcycle`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from revcycle.x12.errors import X12Error

app = typer.Typer(help="revcycle: an open-source revenue-cycle pipeline.", no_args_is_help=True)
x12_app = typer.Typer(help="Work with X12 5010 files.", no_args_is_help=True)
app.add_typer(x12_app, name="x12")
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision.")) -> None:
    """Apply the migrations (every start does this too)."""
    from revcycle.db import make_engine, upgrade
    from revcycle.settings import get_settings

    engine = make_engine(get_settings().database_url_or_default())
    upgrade(engine, revision)
    print(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")


_COUNT_LABELS = (("claims", "claims"), ("service_lines", "lines"), ("claim_payments", "CLPs"),
                 ("provider_adjustments", "PLBs"), ("acknowledged_sets", "acked sets"),
                 ("claim_statuses", "claim statuses"))


def _counts(summary: object) -> str:
    shown = [f"{label} {getattr(summary, name)}" for name, label in _COUNT_LABELS
             if getattr(summary, name)]
    return ", ".join(shown) or "-"


@x12_app.command("inspect")
def x12_inspect(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Envelopes, transaction sets, counts and defects of an X12 file (no claim content)."""
    from revcycle.x12.inspect import inspect_file

    console = Console()
    try:
        summary = inspect_file(file)
    except X12Error as exc:
        if as_json:
            print(json.dumps({"readable": False, **exc.to_dict()}))
        else:
            console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", markup=True,
                          highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"readable": True, **summary.to_dict()}))
        return
    table = Table(title=f"{file.name}", title_justify="left")
    for column in ("ISA13", "GS06", "ST", "ST02", "version", "segments", "counts"):
        table.add_column(column)
    for interchange in summary.interchanges:
        for group in interchange.groups:
            for s in group.sets:
                table.add_row(interchange.control_number, group.control_number, s.set_id,
                              s.control_number, s.version or group.version, str(s.segments),
                              _counts(s))
    console.print(table)
    if summary.defects:
        defects = Table(title="defects", title_justify="left")
        for column in ("code", "segment #", "byte", "what"):
            defects.add_column(column)
        for d in summary.defects:
            defects.add_row(*(("" if d[k] is None else str(d[k]))
                              for k in ("code", "segment_number", "byte_offset", "message")))
        console.print(defects)
    else:
        console.print("no defects")


if __name__ == "__main__":
    app()
