"""``revcycle payers``: the payer modules, their channels and their limits.

``check`` connects each of a payer's channels the way the submit step would (same options,
same secrets), lists the folders or asks the API, and sends nothing. ``limits`` writes each
payer module's ``concurrency`` as a Prefect tag concurrency limit on ``payer:<id>``, the tag
every submit step carries.
"""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from revcycle.channels import ChannelError, build_channel
from revcycle.channels.options import ChannelOptionsError
from revcycle.payers import PayerDefinition, payer_tag

payers_app = typer.Typer(help="Payer modules: their channels, checks and limits.",
                         no_args_is_help=True)


@payers_app.command("list")
def list_payers() -> None:
    """Every payer module: its channels in priority order, ISA15 and concurrency; a broken
    module with its problem."""
    from revcycle.settings import get_settings
    from tasks.payers import payer_registry

    registry = payer_registry()
    table = Table("payer", "name", "channels (in order)", "ISA15", "concurrency", "status")
    usage = get_settings().usage_indicator
    for payer_id, payer in sorted(registry.payers.items()):
        table.add_row(payer_id, payer.name, ", ".join(_channel_text(payer)),
                      payer.usage_indicator or f"{usage} (setting)", str(payer.concurrency),
                      "ok")
    for broken in registry.broken:
        table.add_row(broken.payer_id or "?", f"module {broken.module}", "", "", "",
                      f"[red]disabled[/red]: {broken.problem}")
    Console().print(table)


def _channel_text(payer: PayerDefinition) -> list[str]:
    return [spec.name if spec.name == spec.kind else f"{spec.name} ({spec.kind})"
            for spec in payer.channels]


@payers_app.command("check")
def check(payer_id: str = typer.Argument(..., help="The payer's id (revcycle payers list)."),
          channel: str = typer.Option("", help="Check only the channel of this label.")
          ) -> None:
    """Connect each of the payer's channels and look (folders, the API), sending nothing.
    Exit 1 if any channel cannot be reached or is refused."""
    from revcycle.pipeline.resources import get_resources
    from tasks.channels import channel_secrets
    from tasks.payers import payer_registry

    registry = payer_registry()
    payer = registry.payers.get(payer_id)
    if payer is None:
        why = registry.disabled().get(payer_id, "no payer module defines it")
        typer.echo(f"revcycle: payer {payer_id}: {why}", err=True)
        raise typer.Exit(1)
    specs = [s for s in payer.channels if not channel or s.name == channel]
    if not specs:
        typer.echo(f"revcycle: payer {payer_id} has no channel labelled {channel!r}", err=True)
        raise typer.Exit(1)
    console, failed = Console(), 0
    for number, spec in enumerate(specs, 1):
        console.print(f"[bold]{payer_id} channel {number}: {spec.name}[/bold] ({spec.kind})")
        try:
            reached = build_channel(payer, spec, get_resources().store, channel_secrets())
            try:
                for line in reached.check():
                    console.print(f"  {line}")
            finally:
                reached.close()
        except (ChannelError, ChannelOptionsError) as exc:
            failed += 1
            console.print(f"  [red]failed[/red]: {exc}")
    if failed:
        raise typer.Exit(1)


@payers_app.command("limits")
def limits() -> None:
    """Set each payer's tag concurrency limit (``payer:<id>``) on the Prefect server to the
    module's ``concurrency``: how many of its submit steps run at once, across every run
    and worker."""
    from flows.cli import _orchestration_settings
    from tasks.payers import load_payers

    _orchestration_settings()
    payers = load_payers()
    applied = asyncio.run(_apply_limits({payer_tag(p): d.concurrency
                                         for p, d in payers.items()}))
    table = Table("tag", "limit")
    for tag, limit in sorted(applied.items()):
        table.add_row(tag, str(limit))
    Console().print(table)


async def _apply_limits(wanted: dict[str, int]) -> dict[str, int]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        for tag, limit in wanted.items():
            await client.create_concurrency_limit(tag=tag, concurrency_limit=limit)
        return {tag: (await client.read_concurrency_limit_by_tag(tag)).concurrency_limit
                for tag in wanted}
