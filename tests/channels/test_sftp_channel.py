"""The SFTP channel against a real SFTP server on 127.0.0.1 (revcycle.simulator.sftp_server).

Every fault test counts at the receiving side: the server's ``arrivals`` says how many
times each file appeared under its final name, so "exactly once" is checked where it
matters, not inferred from what the client believes.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from revcycle.channels import build_channel
from revcycle.channels.base import Delivery
from revcycle.channels.errors import (
    AuthenticationFailed,
    ChannelError,
    ChannelUnavailable,
    HostKeyMismatch,
    PermanentChannelError,
    SecretMissing,
    TransientChannelError,
)
from revcycle.channels.options import ChannelSpec, SftpOptions
from revcycle.channels.route import Leg, PayerRoute, RetryPolicy
from revcycle.channels.secrets import Secrets, environment_variable
from revcycle.channels.sftp import SftpChannel
from revcycle.payers import PayerDefinition, definition_problems
from revcycle.simulator.sftp_server import SftpTestServer, generate_client_key

USER, PASSWORD, SECRET = "acme", "not-a-real-password", "acme_sftp"
PAYER = "P1"
DATA = b"ISA*00*~NM1*IL*1*DOE*JANE****MI*XQ00000001~SE*3*0001~"  # synthetic patient


def delivery(icn: int = 1) -> Delivery:
    return Delivery("tenant1", date(2026, 3, 4), "batch7", f"{icn:09d}")


@pytest.fixture
def server() -> Iterator[SftpTestServer]:
    with SftpTestServer() as world:
        world.add_user(USER, password=PASSWORD)
        yield world


@pytest.fixture
def make(server: SftpTestServer) -> Iterator:
    """Builds channels to the server (closed after the test); options override defaults."""
    made: list[SftpChannel] = []

    def build(secrets: Secrets | None = None, **overrides: object) -> SftpChannel:
        values: dict[str, object] = {
            "host": server.host, "port": server.port, "user": USER,
            "password_secret": SECRET, "host_key": server.host_key_line,
            "connect_timeout_s": 2.0, "timeout_s": 2.0, **overrides}
        channel = SftpChannel(PAYER, "sftp", SftpOptions(**values),  # type: ignore[arg-type]
                              secrets or Secrets([{SECRET: PASSWORD}.get]))
        made.append(channel)
        return channel

    yield build
    for channel in made:
        channel.close()


def route(channel: SftpChannel, delays: list[float], retries: int = 3) -> PayerRoute:
    return PayerRoute(PAYER, [Leg(channel, RetryPolicy(retries, 0.01, 0.01))],
                      sleep=delays.append)


def test_a_send_arrives_once_under_the_payer_name_pattern(server, make) -> None:
    channel = make(name_pattern="{payer}_{tenant}_{icn}.x12")
    receipt = channel.send(delivery(), DATA)
    name = f"{PAYER}_tenant1_000000001.x12"
    assert receipt.remote_name == f"inbound/{name}" and not receipt.already_delivered
    assert server.arrivals == {name: 1}  # the temporary name never counted
    assert server.received(USER) == {name: DATA}
    assert sorted(p.name for p in server.folder(USER).iterdir()) == [name]  # no temp left

    # Tried before (a crash, a lost reply): the route asks first and sends nothing.
    again = route(channel, []).deliver(delivery(), DATA, recheck=True)
    assert again.already_delivered and again.attempts == 0
    assert server.arrivals == {name: 1}
    assert server.connections == 1  # one connection reused


def test_a_file_the_partner_moved_to_processed_is_already_delivered(server, make) -> None:
    channel = make(processed_dir="archive")
    (server.folder(USER, "archive") / f"{PAYER}_000000001.837").write_bytes(DATA)
    assert channel.delivered(delivery())
    assert route(channel, []).deliver(delivery(), DATA, recheck=True).already_delivered
    assert not channel.delivered(delivery(2))
    assert server.arrivals == {}


def test_connection_dropped_mid_upload_is_retried_and_arrives_once(server, make) -> None:
    server.drop_during_upload(1)
    delays: list[float] = []
    receipt = route(make(), delays).deliver(delivery(), DATA * 2000)
    assert receipt.attempts == 2 and not receipt.already_delivered
    assert len(delays) == 1
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}
    assert server.received(USER)[f"{PAYER}_000000001.837"] == DATA * 2000
    assert server.connections == 2  # the dropped one, then a new one


def test_rename_done_but_reply_lost_asks_delivered_and_does_not_resend(server, make) -> None:
    server.drop_after_rename(1)
    channel = make()
    with pytest.raises(TransientChannelError) as raised:
        channel.send(delivery(), DATA)
    assert raised.value.maybe_delivered
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}

    server.drop_after_rename(1)
    delays: list[float] = []
    receipt = route(channel, delays).deliver(delivery(2), DATA)
    assert receipt.already_delivered and receipt.attempts == 1
    assert server.arrivals == {f"{PAYER}_000000001.837": 1, f"{PAYER}_000000002.837": 1}


def test_a_failure_before_the_rename_is_not_maybe_delivered(server, make) -> None:
    server.drop_during_upload(1)
    with pytest.raises(TransientChannelError) as raised:
        make().send(delivery(), DATA)
    assert not raised.value.maybe_delivered
    assert server.arrivals == {}


def test_server_down_is_unavailable_after_retries_then_sends_when_up(server, make) -> None:
    channel = make()
    server.down()
    delays: list[float] = []
    with pytest.raises(ChannelUnavailable) as raised:
        route(channel, delays, retries=2).deliver(delivery(), DATA)
    assert "connection refused" in str(raised.value)
    assert len(delays) == 2 and server.arrivals == {} and server.connections == 0

    server.up()
    assert route(channel, delays).deliver(delivery(), DATA).attempts == 1
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}


def test_an_outage_drops_open_connections_and_the_channel_reconnects(server, make) -> None:
    channel = make()
    channel.send(delivery(1), DATA)
    server.down()
    server.up()
    channel.send(delivery(2), DATA)
    assert server.connections == 2 and sum(server.arrivals.values()) == 2


def test_a_wrong_host_key_is_refused_at_once(server, make, tmp_path) -> None:
    _, other_key = generate_client_key(tmp_path)
    delays: list[float] = []
    with pytest.raises(HostKeyMismatch) as raised:
        route(make(host_key=other_key), delays).deliver(delivery(), DATA)
    message = str(raised.value)
    assert f"payer {PAYER}" in message and "channel sftp" in message
    assert not raised.value.transient
    assert delays == [] and server.connections == 1 and server.logins == 0
    assert server.arrivals == {}


def test_known_hosts_file(server, make, tmp_path) -> None:
    known = server.write_known_hosts(tmp_path / "known_hosts")
    assert make(host_key="", known_hosts=str(known)).send(delivery(), DATA).remote_name
    other = tmp_path / "other_hosts"
    other.write_text(f"[{server.host}]:{server.port + 1} {server.host_key_line}\n")
    with pytest.raises(HostKeyMismatch):
        make(host_key="", known_hosts=str(other)).send(delivery(2), DATA)
    with pytest.raises(PermanentChannelError, match="known_hosts"):
        make(host_key="", known_hosts=str(tmp_path / "missing")).send(delivery(3), DATA)
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}


def test_a_wrong_password_is_refused_without_retry(server, make) -> None:
    delays: list[float] = []
    channel = make(secrets=Secrets([{SECRET: "wrong"}.get]))
    with pytest.raises(AuthenticationFailed, match=f"user {USER}"):
        route(channel, delays).deliver(delivery(), DATA)
    assert delays == [] and server.logins == 0 and server.arrivals == {}


def test_key_file_and_key_secret_logins(server, make, tmp_path) -> None:
    key_file, public = generate_client_key(tmp_path)
    server.add_user("keyed", public_key=public)
    by_file = make(user="keyed", password_secret="", key_file=str(key_file))
    assert by_file.send(delivery(1), DATA).remote_name
    by_secret = make(user="keyed", password_secret="", key_secret="keyed_key",
                     secrets=Secrets([{"keyed_key": key_file.read_text()}.get]))
    assert by_secret.send(delivery(2), DATA).remote_name
    assert server.logins == 2 and sum(server.arrivals.values()) == 2
    with pytest.raises(AuthenticationFailed):  # a key the server does not know
        make(user=USER, password_secret="", key_file=str(key_file)).send(delivery(3), DATA)


def test_password_from_the_environment(server, make, monkeypatch) -> None:
    monkeypatch.setenv(environment_variable(SECRET), PASSWORD)
    assert make(secrets=Secrets()).send(delivery(), DATA).remote_name
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}


def test_a_missing_secret_names_it_and_its_variable(server, make, monkeypatch) -> None:
    monkeypatch.delenv(environment_variable(SECRET), raising=False)
    with pytest.raises(SecretMissing) as raised:
        make(secrets=Secrets()).send(delivery(), DATA)
    assert SECRET in str(raised.value)
    assert environment_variable(SECRET) in str(raised.value)
    assert server.connections == 0


def test_a_stalled_server_times_out_near_the_configured_timeout(server, make) -> None:
    server.stall(1, 3.0)
    channel = make(timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(TransientChannelError, match="timed out"):
        channel.send(delivery(), DATA)
    assert 0.25 < time.monotonic() - started < 1.5
    assert channel.send(delivery(), DATA).attempts == 1  # a new connection, not stalled
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}


def test_a_server_that_never_speaks_times_out_on_connect(make) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        channel = make(port=silent.getsockname()[1], connect_timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(TransientChannelError, match="timed out"):
            channel.delivered(delivery())
        assert time.monotonic() - started < 1.5


def test_collect_skips_unfinished_and_hidden_files_and_delete_acknowledges(server, make) -> None:
    for name in ("b.277", "a.999", ".hidden", "c.part", "d.tmp", "e.filepart", "f.999.upl"):
        server.put_answer(USER, name, name.encode())
    (server.folder(USER, "outbound") / "sub").mkdir()
    channel = make(temp_suffix=".upl")
    assert list(channel.collect()) == [("a.999", b"a.999"), ("b.277", b"b.277")]
    channel.acknowledge("a.999")
    channel.acknowledge("a.999")  # already gone: done, not an error
    assert not (server.folder(USER, "outbound") / "a.999").exists()
    assert [name for name, _ in channel.collect()] == ["b.277"]


def test_archive_acknowledge_moves_into_the_archive_folder(server, make) -> None:
    server.put_answer(USER, "a.999", b"999")
    channel = make(acknowledge="archive", archive_dir="archive")
    channel.acknowledge("a.999")
    assert (server.folder(USER, "archive") / "a.999").read_bytes() == b"999"
    assert list(channel.collect()) == []

    server.put_answer(USER, "b.999", b"999")
    missing = make(acknowledge="archive", archive_dir="no-such-folder")
    with pytest.raises(PermanentChannelError, match="no such file or folder"):
        missing.acknowledge("b.999")
    assert (server.folder(USER, "outbound") / "b.999").exists()


def test_check_names_the_folders_and_sends_nothing(server, make) -> None:
    make().send(delivery(), DATA)
    server.put_answer(USER, "a.999", b"999")
    lines = make(processed_dir="archive").check()
    text = "\n".join(lines)
    assert f"{server.host}:{server.port}" in text and USER in text
    assert "SHA256:" in text
    assert "upload_dir inbound: 1 file" in text and "download_dir outbound: 1 file" in text
    assert "processed_dir archive: 0 files" in text
    assert server.arrivals == {f"{PAYER}_000000001.837": 1}
    with pytest.raises(PermanentChannelError):
        make(upload_dir="nowhere").check()


def test_one_connection_serves_sends_from_many_threads(server, make) -> None:
    channel = make()
    with ThreadPoolExecutor(4) as pool:
        receipts = list(pool.map(lambda n: channel.send(delivery(n), DATA), range(1, 9)))
    assert all(not r.already_delivered for r in receipts)
    assert server.arrivals == {f"{PAYER}_{n:09d}.837": 1 for n in range(1, 9)}
    assert server.connections == 1


def test_close_stops_the_loop_thread(make) -> None:
    channel = make()
    channel.check()
    names = {t.name for t in threading.enumerate()}
    assert f"sftp-{PAYER}-sftp" in names
    channel.close()
    assert f"sftp-{PAYER}-sftp" not in {t.name for t in threading.enumerate()}


def test_no_error_or_log_line_carries_file_content(server, make, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ChannelError] = []
    faults = [lambda: server.drop_during_upload(1), lambda: server.drop_after_rename(1),
              lambda: server.stall(1, 2.0), server.down]
    channel = make(timeout_s=0.3)
    for number, fault in enumerate(faults, start=1):
        fault()
        try:
            channel.send(delivery(number), DATA)
        except ChannelError as exc:
            errors.append(exc)
    server.up()
    try:
        make(secrets=Secrets([{SECRET: "wrong"}.get])).send(delivery(9), DATA)
    except ChannelError as exc:
        errors.append(exc)
    assert len(errors) == 5
    texts = [str(e) for e in errors] + [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if "DOE" in t or "JANE" in t]
    assert all(e.__cause__ is None and e.__suppress_context__ for e in errors)  # no chain


def test_build_channel_makes_an_sftp_channel(server) -> None:
    payer = PayerDefinition(PAYER, "Acme Health", "ACME", channels=(ChannelSpec("sftp", {
        "host": server.host, "port": server.port, "user": USER, "password_secret": SECRET,
        "host_key": server.host_key_line}),))
    channel = build_channel(payer, payer.channels[0], store=None,  # type: ignore[arg-type]
                            secrets=Secrets([{SECRET: PASSWORD}.get]))
    try:
        assert isinstance(channel, SftpChannel) and channel.label == "sftp"
        assert channel.send(delivery(), DATA).remote_name == f"inbound/{PAYER}_000000001.837"
    finally:
        channel.close()


def test_a_payer_module_missing_the_host_is_reported_naming_the_channel() -> None:
    spec = ChannelSpec("sftp", {"user": USER, "password_secret": SECRET,
                                "host_key": "ssh-ed25519 AAAA"})
    payer = PayerDefinition(PAYER, "Acme Health", "ACME", channels=(spec,))
    problems = definition_problems(payer)
    assert len(problems) == 1
    assert "channels[0]" in problems[0] and "host is required" in problems[0]
    assert definition_problems(dataclasses.replace(payer, channels=(ChannelSpec(
        "sftp", {**spec.options, "host": "sftp.example"}),))) == []


def test_the_server_counts_a_direct_write_under_a_final_name(server, make) -> None:
    """Partners may also see a file written straight under its final name; the server
    counts that too, so a channel that skipped the rename could not hide it."""
    channel = make()
    channel.check()

    async def direct(sftp) -> None:
        async with sftp.open("inbound/direct.837", "wb") as file:
            await file.write(b"x")
        async with sftp.open("inbound/direct.837.part", "wb") as file:
            await file.write(b"x")

    channel._call("writing directly", direct)
    assert server.arrivals == {"direct.837": 1}
