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
    for column in ("ISA13", "GS06", "ST", "ST02", "version", "segments", "claims", "lines",
                   "CLPs", "PLBs", "acked sets", "claim statuses"):
        table.add_column(column, justify="right" if column[0].islower() else "left")
    for interchange in summary.interchanges:
        for group in interchange.groups:
            for s in group.sets:
                table.add_row(interchange.control_number, group.control_number, s.set_id,
                              s.control_number, s.version or group.version, str(s.segments),
                              str(s.claims), str(s.service_lines), str(s.claim_payments),
                              str(s.provider_adjustments), str(s.acknowledged_sets),
                              str(s.claim_statuses))
    console.print(table)
    if summary.defects:
        defects = Table(title="defects", title_justify="left")
        for column in ("code", "segment #", "byte", "what"):
            defects.add_column(column)
        for d in summary.defects:
            defects.add_row(str(d["code"]), str(d["segment_number"] or ""),
                            str(d["byte_offset"] or ""), str(d["message"]))
        console.print(defects)
    else:
        console.print("no defects")


if __name__ == "__main__":
    app()
