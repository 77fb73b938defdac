"""Channel benchmark: what the outbox and the exactly-once checks cost on the wire.

Sends ``--files`` files of ``--kib`` KiB over SFTP and over HTTPS to the project's own
servers on 127.0.0.1 (``revcycle.simulator.sftp_server`` and ``api_server``), each in a
process of its own, twice per channel:

- **plain**: the floor, the library alone: one asyncssh connection writing each file
  (open, write, close), one httpx client POSTing each file with its key;
- **revcycle**: the real submit path: a submission per file recorded PENDING in the outbox
  (SQLite), then ``submit()`` claims each (PENDING -> SENDING), sends it through the
  payer's route (SFTP: a temporary name, then the rename; HTTPS: the idempotency key
  header, the status mapping) and marks it SENT.

The servers count what arrives; a file that arrived twice is reported. Prints a table
and, as its last line, one JSON object with ``sftp_vs_plain`` and ``https_vs_plain`` (our
time / the plain loop's time), ``files_sent`` and ``files_received_twice``.
Run: ``python bench/channel_bench.py [--files N] [--kib K]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

import httpx

from revcycle.channels import ChannelSpec, route_for
from revcycle.db.models import Submission
from revcycle.payers import PayerDefinition
from revcycle.pipeline.batches import ensure_batch, ensure_payer
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.submit import submit
from revcycle.settings import Settings
from revcycle.storage import object_key

with warnings.catch_warnings():
    from cryptography.utils import CryptographyDeprecationWarning

    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    import asyncssh

USER, PASSWORD, TOKEN = "bench", "bench-password", "bench-token"
TENANT, DAY = "benchclinic", date(2026, 12, 7)
# The servers, each in its own process: they print how to reach them, then wait for a
# line on stdin and answer it with what arrived (JSON), then stop.
SFTP_SERVER = f"""
import json, sys
from revcycle.simulator.sftp_server import SftpTestServer
with SftpTestServer() as server:
    server.add_user({USER!r}, password={PASSWORD!r})
    print(server.port, server.host_key_line, flush=True)
    sys.stdin.readline()
    print(json.dumps(dict(server.arrivals)), flush=True)
"""
API_SERVER = f"""
import json, sys
from revcycle.simulator.api_server import ApiServer
server = ApiServer(token={TOKEN!r})
print(server.start(), flush=True)
sys.stdin.readline()
print(json.dumps(dict(server.posts)), flush=True)
server.stop()
"""


class Server:
    def __init__(self, source: str) -> None:
        root = str(Path(__file__).resolve().parents[1])
        self.process = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-c", source], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": root})
        assert self.process.stdout is not None
        self.hello = self.process.stdout.readline().split()

    def arrivals(self) -> dict[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        counts = json.loads(self.process.stdout.readline())
        self.process.wait(30)
        return counts


def _files(count: int, kib: int) -> list[bytes]:
    """Synthetic X12-shaped bodies, ``kib`` KiB each, all different."""
    line = b"SV1*HC:99213*125*UN*1***1~DTP*472*D8*20261201~"
    body = (line * (kib * 1024 // len(line) + 1))[:kib * 1024 - 40]
    return [b"ISA*00*%09d~" % n + body + b"IEA*1*%09d~" % n for n in range(count)]


async def _plain_sftp(port: int, host_key: str, files: list[bytes]) -> float:
    known = asyncssh.import_known_hosts(f"[127.0.0.1]:{port} {host_key}")
    async with asyncssh.connect("127.0.0.1", port, username=USER, password=PASSWORD,
                                known_hosts=known) as conn, conn.start_sftp_client() as sftp:
        start = time.perf_counter()
        for number, data in enumerate(files):
            async with sftp.open(f"inbound/plain_{number:09d}.837", "wb") as remote:
                await remote.write(data)
        return time.perf_counter() - start


def _plain_https(base_url: str, files: list[bytes]) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/edi-x12"}
    with httpx.Client(base_url=base_url, headers=headers) as client:
        start = time.perf_counter()
        for number, data in enumerate(files):
            client.post("/claims", content=data,
                        headers={"Idempotency-Key": f"plain-{number}"}).raise_for_status()
        return time.perf_counter() - start


def _outbox(home: Path, files: list[bytes], payer: PayerDefinition, first: int
            ) -> tuple[Resources, str]:
    """A fresh installation whose outbox holds one PENDING submission per file."""
    res = Resources.from_settings(Settings(home=home))
    with res.sessions() as session:
        batch = ensure_batch(session, TENANT, DAY).id
        ensure_payer(session, payer.payer_id, payer.name)
        for number, data in enumerate(files, first):
            icn = f"{number:09d}"
            key = object_key(TENANT, "outbound", DAY, batch, f"{payer.payer_id}-{icn}-837.x12")
            res.store.put(key, data)
            session.add(Submission(
                tenant_id=TENANT, batch_id=batch, payer_id=payer.payer_id, claim_type="837P",
                interchange_control_number=icn, group_control_number=icn,
                transaction_control_numbers={}, key=key, claim_count=0,
                total_charge=Decimal(0), status="PENDING"))
        session.commit()
    return res, batch


def _revcycle(home: Path, files: list[bytes], payer: PayerDefinition, first: int) -> float:
    res, batch = _outbox(home, files, payer, first)
    route = route_for(payer, res.store)
    try:
        start = time.perf_counter()
        result = submit(res, batch, payer, route, run_id="bench")
        elapsed = time.perf_counter() - start
    finally:
        route.close()
        res.engine.dispose()
    assert result["sent"] == len(files), result
    return elapsed


def _measure(name: str, plain: Callable[[], float], ours: Callable[[], float],
             files: list[bytes]) -> dict[str, Any]:
    plain_s, ours_s = plain(), ours()
    mb = sum(map(len, files)) / 1e6
    return {"channel": name, "plain_s": plain_s, "ours_s": ours_s,
            "plain_files_s": len(files) / plain_s, "ours_files_s": len(files) / ours_s,
            "plain_mb_s": mb / plain_s, "ours_mb_s": mb / ours_s, "ratio": ours_s / plain_s}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--kib", type=int, default=50)
    args = parser.parse_args(argv)
    if args.files < 1 or args.kib < 1:
        parser.error("--files and --kib must be positive")
    files = _files(args.files, args.kib)
    os.environ["REVCYCLE_SECRET_BENCH_SFTP"] = PASSWORD
    os.environ["REVCYCLE_SECRET_BENCH_API"] = TOKEN
    sftp, api = Server(SFTP_SERVER), Server(API_SERVER)
    port, host_key = int(sftp.hello[0]), " ".join(sftp.hello[1:])
    base_url = api.hello[0]
    sftp_payer = PayerDefinition("BENCH1", "BENCH SFTP", "BENCH1", channels=(ChannelSpec(
        "sftp", {"host": "127.0.0.1", "port": port, "user": USER, "host_key": host_key,
                 "password_secret": "bench-sftp"}),))
    https_payer = PayerDefinition("BENCH2", "BENCH API", "BENCH2", channels=(ChannelSpec(
        "https", {"base_url": base_url, "token_secret": "bench-api"}),))
    rows = []
    with tempfile.TemporaryDirectory(prefix="channel-bench-") as tmp:
        rows.append(_measure(
            "sftp", lambda: asyncio.run(_plain_sftp(port, host_key, files)),
            lambda: _revcycle(Path(tmp, "sftp"), files, sftp_payer, 1), files))
        rows.append(_measure(
            "https", lambda: _plain_https(base_url, files),
            lambda: _revcycle(Path(tmp, "https"), files, https_payer, 1), files))
    arrived = {"sftp": sftp.arrivals(), "https": api.arrivals()}
    twice = sum(times > 1 for counts in arrived.values() for times in counts.values())
    ours_arrived = (sum(1 for n in arrived["sftp"] if n.startswith("BENCH1_"))
                    + sum(1 for k in arrived["https"] if not k.startswith("plain-")))
    print(f"{args.files:,} files of {args.kib} KiB to servers on 127.0.0.1 (own processes)")
    print(f"{'channel':8} {'loop':9} {'seconds':>8} {'files/s':>8} {'MB/s':>7}")
    for row in rows:
        for loop in ("plain", "ours"):
            print(f"{row['channel']:8} {'revcycle' if loop == 'ours' else 'plain':9}"
                  f" {row[f'{loop}_s']:8.2f} {row[f'{loop}_files_s']:8.0f}"
                  f" {row[f'{loop}_mb_s']:7.1f}")
        print(f"{'':8} {'ratio':9} {row['ratio']:8.2f}x (target <= 1.5x)")
    print(f"arrived at the servers: {ours_arrived:,} of revcycle's {2 * args.files:,} files;"
          f" received twice: {twice}")
    figures = {"files": args.files, "kib": args.kib,
               "sftp_vs_plain": round(rows[0]["ratio"], 3),
               "https_vs_plain": round(rows[1]["ratio"], 3),
               "sftp_files_s": round(rows[0]["ours_files_s"], 1),
               "https_files_s": round(rows[1]["ours_files_s"], 1),
               "files_sent": ours_arrived, "files_received_twice": twice}
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
