"""``revcycle demo --days``: business days in a row, the simulator's payers answering from
a payer world over real SFTP, days and weeks later."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.integration.conftest import configure

# A patient's or subscriber's last name on an 837 we sent (NM1*QC / NM1*IL, a person).
LAST_NAME = re.compile(rb"NM1\*(?:QC|IL)\*1\*([A-Z][A-Z' -]+)\*")


@pytest.mark.usefixtures("prefect_server")
def test_two_days_on_the_payer_world_are_answered_over_sftp_and_paid(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app
    from revcycle.db import models
    from revcycle.pipeline.resources import get_resources

    home = tmp_path / "home"
    configure(monkeypatch, home)
    monkeypatch.delenv("REVCYCLE_PAYER_WORLD", raising=False)
    result = CliRunner().invoke(app, ["demo", "--days", "2", "--claims", "60",
                                      "--tenants", "2", "--settle-weeks", "2"])
    out = result.output
    assert result.exit_code == 0, out[-3000:]
    for day in ("2026-11-02", "2026-11-03"):
        assert re.search(rf"^{day}  dropped +60  steps +\d+ ok 0 failed", out, re.M), out
    assert "No new claims from here on" in out
    assert re.search(r"^2026-11-17  dropped +0 .* open A/R \$[\d,]+\.\d\d$", out, re.M)
    assert "A/R as of 2026-11-17" in out and "days since submission" in out
    assert "patient responsibility" in out
    assert re.search(r"^closing checks: all \d+ passed", out, re.M), out[-3000:]
    # The demo biller worked the refusals and denials: what it came to is printed.
    assert "rework (the demo biller worked every refusal and denial)" in out
    assert re.search(r"clean on first submission +│ +\d+\.\d%", out), out[-3000:]
    assert re.search(r"claims corrected +│ +[1-9]\d*", out), out[-3000:]
    assert "REVCYCLE_PAYER_WORLD" not in os.environ  # the world's setting is gone with it

    with get_resources().sessions() as session:
        files = session.scalars(select(models.MailboxFile)).all()
        first_day = Counter(session.scalars(select(models.Claim.status).where(
            models.Claim.batch_id.endswith("20261102"))))
    assert files and {f.status for f in files} == {"ROUTED"}
    assert first_day["PAID"] > 0, first_day
    assert first_day["SUBMITTED"] == 0, first_day  # every claim sent was answered
    assert list((home / "payer-world" / "sima1" / "inbound").iterdir())  # uploaded there

    names = {m.group(1).decode() for path in (home / "payer-world").glob("*/inbound/*.837")
             for m in LAST_NAME.finditer(path.read_bytes())}
    assert len(names) > 10
    shown = [n for n in names if re.search(rf"\b{re.escape(n)}\b", out, re.I)]
    assert not shown, shown  # no patient's name in what the command printed
