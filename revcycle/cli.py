"""The ``revcycle`` command line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from revcycle.x12.errors import X12Error

app = typer.Typer(help="revcycle: an open-source revenue-cycle pipeline.", no_args_is_help=True)
x12_app = typer.Typer(help="Work with X12 5010 files.", no_args_is_help=True)
app.add_typer(x12_app, name="x12")


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


@app.command()
def demo(
    claims: int = typer.Option(2000, min=1, help="How many synthetic claims."),
    seed: int = typer.Option(7, help="Seed of the synthetic data."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Synthetic claims through the X12 codec: 837P and 837I written, read back, checked."""
    from revcycle.codec_demo import run_codec_demo
    from revcycle.settings import get_settings

    report = run_codec_demo(get_settings(), claims=claims, seed=seed)
    if as_json:
        print(json.dumps(report))
    else:
        table = Table(title=f"codec demo: {report['claims']} synthetic claims (seed {seed})",
                      title_justify="left")
        for column in ("type", "claims", "lines", "billed", "KiB", "write s", "read s",
                       "round trip"):
            table.add_column(column, justify="left" if column == "type" else "right")
        for f in report["files"]:
            table.add_row(f["type"], str(f["claims"]), str(f["service_lines"]),
                          f"${Decimal(f['billed']):,.2f}", f"{f['bytes'] // 1024:,}",
                          f"{f['write_s']:.3f}", f"{f['read_s']:.3f}",
                          "equal" if f["round_trip_equal"] else "DIFFERS")
        Console().print(table)
        for f in report["files"]:
            Console().print(f"wrote {f['file']}")
    if not report["round_trip_equal"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
