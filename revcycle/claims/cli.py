"""``revcycle claims``: correct a refused claim, re-check refused claims, show a claim's
versions. What is printed names claim ids, field paths, counts and who, never a value:
the values stay in the database (``claim_versions``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer

from revcycle.status import CORRECTABLE, Status

claims_app = typer.Typer(help="Work a claim: correct a refused one, re-check refused claims"
                              " after reference data changed; each is a new version of the"
                              " claim, and the claim re-enters at quality.",
                         no_args_is_help=True)

DATE_HELP = ("The business day whose batch the claim goes into (its run takes it through"
             " quality, scrub and submit); default today.")


def _day(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        _fail("--date takes YYYY-MM-DD")


def _fail(message: str) -> NoReturn:
    from revcycle.cli import _fail as fail

    fail(message)


@claims_app.command("correct")
def claims_correct(
    claim_id: int = typer.Argument(..., help="The claim's id (as the work queues show it)."),
    sets: list[str] | None = typer.Option(
        None, "--set", help="PATH=VALUE, e.g. subscriber.member_id=... or"
        " service_lines[1].procedure_code=99214 (lines count from 1; amounts as 125.00,"
        " dates as YYYY-MM-DD, lists comma-separated). Repeat."),
    patch: Path | None = typer.Option(None, "--patch", help="A JSON file: an object of"
                                      " field path -> value (applied before --set)."),
    by: str = typer.Option(..., "--by", help="Who makes the correction (recorded)."),
    day: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Correct a REJECTED, DQ_FAILED or PAYER_REJECTED claim: a new version, back to
    RECEIVED. Prints the fields changed, never their values."""
    from revcycle.pipeline.versions import correct

    _change(claim_id, correct, sets, patch, by, day, "")


@claims_app.command("replace")
def claims_replace(
    claim_id: int = typer.Argument(..., help="The claim's id (as the work queues show it)."),
    sets: list[str] | None = typer.Option(None, "--set", help="PATH=VALUE, as for"
                                          " `claims correct`. Repeat."),
    patch: Path | None = typer.Option(None, "--patch", help="A JSON file: an object of"
                                      " field path -> value (applied before --set)."),
    by: str = typer.Option(..., "--by", help="Who makes the replacement (recorded)."),
    day: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Replace a claim the payer adjudicated (PAID, PARTIALLY_PAID, DENIED, REVERSED): a new
    version with frequency 7 and REF*F8 = the payer's claim number (CLP07), corrected by
    --set/--patch, back to RECEIVED and sent with the day's claims. Refused, with the
    reason, when the payer gave no claim number."""
    from revcycle.pipeline.resubmit import replace

    _change(claim_id, replace, sets, patch, by, day, "replacement (7) ")


@claims_app.command("void")
def claims_void(
    claim_id: int = typer.Argument(..., help="The claim's id (as the work queues show it)."),
    by: str = typer.Option(..., "--by", help="Who voids the claim (recorded)."),
    day: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Void a claim the payer adjudicated: a new version with frequency 8 and REF*F8, sent
    with the day's claims; when the payer's reversal posts, the claim is VOIDED and its
    charge leaves the books."""
    from revcycle.pipeline.resubmit import void

    def voiding(session: Any, store: Any, claim: int, _changes: Any, who: str,
                business_date: date) -> Any:
        return void(session, store, claim, who, business_date)

    _change(claim_id, voiding, None, None, by, day, "void (8) ", changes_needed=False)


def _change(claim_id: int, action: Callable[..., Any], sets: list[str] | None,
            patch: Path | None, by: str, day: str | None, kind: str,
            changes_needed: bool = True) -> None:
    """Run a correction, replacement or void and print what it did (field paths, never
    values)."""
    from revcycle.pipeline.resources import get_resources
    from revcycle.pipeline.versions import CorrectionError, parse_changes

    patched = _read_patch(patch) if patch else None
    res = get_resources()
    try:
        changes = (parse_changes(sets or [], patched)
                   if changes_needed and (sets or patched or not kind) else {})
        with res.sessions() as session:
            done = action(session, res.store, claim_id, changes, by, _day(day))
    except CorrectionError as exc:
        _fail(str(exc))
    fields = ", ".join(f"{c['path']} ({c['change']})" for c in done.changes) or "-"
    print(f"claim {claim_id}: {kind}version {done.version} by {by.strip()}, back to"
          f" RECEIVED in batch {done.batch_id}; changed: {fields}")


def _read_patch(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read --patch file: {exc.strerror}")
    except ValueError as exc:
        # The position, not the text: the file holds claim values.
        _fail(f"--patch is not JSON (line {getattr(exc, 'lineno', '?')})")
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        _fail("--patch must hold one JSON object: field path -> value")
    return data


@claims_app.command("recheck")
def claims_recheck(
    status: str = typer.Option(..., "--status", help="REJECTED, DQ_FAILED or"
                               " PAYER_REJECTED."),
    edit: str | None = typer.Option(None, "--edit", help="Only claims with this edit"
                                    " (rule id, e.g. PAYER-01)."),
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's claims."),
    by: str = typer.Option(..., "--by", help="Who asks for the re-check (recorded)."),
    day: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Send every claim of a refused status (with an edit) back to RECEIVED, unchanged, as
    a new version: the next run checks it again (after a payer module was added, a code
    set loaded, ...). Prints counts only."""
    from revcycle.pipeline.resources import get_resources
    from revcycle.pipeline.versions import CorrectionError, recheck

    allowed = sorted(CORRECTABLE)
    if status.upper() not in allowed:
        _fail(f"--status takes {', '.join(allowed)}")
    res = get_resources()
    try:
        with res.sessions() as session:
            result = recheck(session, res.store, tenant, Status(status.upper()), by,
                             _day(day), edit=edit)
    except CorrectionError as exc:
        _fail(str(exc))
    print(f"{result['rechecked']} of {result['found']} {status.upper()} claim(s)"
          f"{f' with {edit}' if edit else ''} back to RECEIVED for re-checking")


@claims_app.command("versions")
def claims_versions(claim_id: int = typer.Argument(..., help="The claim's id.")) -> None:
    """A claim's versions: who, when, from what, and the fields each changed (no values)."""
    from revcycle.pipeline.resources import get_resources
    from revcycle.pipeline.versions import versions_of

    with get_resources().sessions() as session:
        found = versions_of(session, claim_id)
    if not found:
        print(f"claim {claim_id}: no corrections (its provider's file is its only version)")
        return
    for v in found:
        fields = ", ".join(f"{c['path']} ({c['change']})" for c in v.diff) or "-"
        print(f"v{v.version}  {v.changed_at:%Y-%m-%d %H:%M}  {v.source:<13}"
              f"  {v.changed_by or '-'}  {v.batch_id}  {fields}")
