"""Crash points: each is called once in the stages, does nothing unless named, and kills
the process with SIGKILL at the pass the variable names."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from revcycle.crashpoints import ENV, POINTS

REPO = Path(__file__).resolve().parents[2]


def _call(crash_at: str | None, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if crash_at is not None:
        env[ENV] = crash_at
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60, check=False, cwd=REPO)


def test_every_point_is_called_exactly_once_in_the_code() -> None:
    calls = Counter(name for path in (REPO / "revcycle").rglob("*.py")
                    for name in re.findall(r'crash_point\("([^"]+)"\)', path.read_text()))
    assert calls == Counter(dict.fromkeys(POINTS, 1))


def test_the_named_point_kills_at_the_named_pass_and_no_other() -> None:
    code = ("from revcycle.crashpoints import crash_point\n"
            "crash_point('submit.after_claim')\n"
            "for n in range(3):\n"
            "    print(n, flush=True)\n"
            "    crash_point('submit.after_send')\n")
    killed = _call("submit.after_send#2", code)
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout.split() == ["0", "1"]
    assert _call("submit.after_send", code).stdout.split() == ["0"]
    finished = _call(None, code)
    assert (finished.returncode, finished.stdout.split()) == (0, ["0", "1", "2"])


def test_a_name_that_is_no_point_is_refused_at_start() -> None:
    refused = _call("submit.after_sned", "import revcycle.crashpoints")
    assert refused.returncode == 1
    assert "ValueError" in refused.stderr and "names no crash point" in refused.stderr
