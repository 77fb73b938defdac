"""The HTTPS channel against a real HTTP(S) server (revcycle.simulator.api_server).

Every fault test counts at the receiving side: ``server.posts[key]`` is how many complete
submissions the API took for a key, ``server.received`` what it stored.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from revcycle.channels.base import Delivery, Receipt
from revcycle.channels.errors import (
    AuthenticationFailed,
    ChannelError,
    ChannelUnavailable,
    PermanentChannelError,
    SecretMissing,
    TransientChannelError,
)
from revcycle.channels.https import HttpsChannel, retry_after
from revcycle.channels.options import ChannelSpec, HttpsOptions, parse_options
from revcycle.channels.route import Leg, PayerRoute, RetryPolicy
from revcycle.channels.secrets import Secrets
from revcycle.payers import PayerDefinition, definition_problems
from revcycle.simulator.api_server import ApiServer

PAYER = "P1"
TOKEN = "synthetic-token-123"
DATA = b"ISA*00*          *00*          *ZZ*SUBMITTER*ZZ*RECEIVER*~IEA*1*000000123~"
FAKE_PATIENT = "DOE*JANE"  # synthetic; must never reach an exception message

MakeChannel = Callable[..., HttpsChannel]


def delivery(icn: str = "000000123") -> Delivery:
    return Delivery("acme", date(2026, 1, 5), "batch-1", icn)


@pytest.fixture
def server() -> Iterator[ApiServer]:
    with ApiServer(token=TOKEN) as api:
        yield api


@pytest.fixture
def make_channel() -> Iterator[MakeChannel]:
    """Channels built from checked options (as a payer module's would be); closed after."""
    made: list[HttpsChannel] = []

    def make(api: ApiServer, token: str = TOKEN, **options: Any) -> HttpsChannel:
        values = {"base_url": api.base_url, "token_secret": "clearinghouse-token",
                  "timeout_s": 0.5, "connect_timeout_s": 0.5, **options}
        parsed = parse_options(ChannelSpec("https", values))
        assert isinstance(parsed, HttpsOptions)
        channel = HttpsChannel(PAYER, "https", parsed,
                               Secrets([{"clearinghouse-token": token}.get]))
        made.append(channel)
        return channel

    yield make
    for channel in made:
        channel.close()


class Route:
    """A one-channel route whose sleeps are recorded, not slept."""

    def __init__(self, channel: HttpsChannel, retries: int = 3) -> None:
        self.delays: list[float] = []
        self.route = PayerRoute(PAYER, [Leg(channel, RetryPolicy(retries, 0.5, 30.0))],
                                sleep=self.delays.append)

    def deliver(self, icn: str = "000000123", data: bytes = DATA) -> Receipt:
        return self.route.deliver(delivery(icn), data)


# -- arriving -------------------------------------------------------------------------


def test_x12_body_arrives_with_the_control_number_as_idempotency_key(
        server: ApiServer, make_channel: MakeChannel) -> None:
    receipt = make_channel(server).send(delivery(), DATA)
    assert receipt.channel == "https" and receipt.remote_name == "sub-000001"
    assert not receipt.already_delivered
    assert server.posts == {"000000123": 1}
    assert server.received == {"000000123": DATA}
    assert server.file_names == {}  # raw X12, no JSON wrapper


def test_json_body_carries_the_remote_name(server: ApiServer,
                                           make_channel: MakeChannel) -> None:
    make_channel(server, body="json").send(delivery(), DATA)
    assert server.posts == {"000000123": 1}
    assert server.received["000000123"] == DATA
    assert server.file_names["000000123"] == "P1_000000123.837"


def test_api_key_auth_and_partner_paths_and_headers() -> None:
    api = ApiServer(token=TOKEN, auth="api-key", api_key_header="X-Partner-Key",
                    idempotency_header="X-Request-Id", submit_path="/v2/edi/submissions",
                    status_path="/v2/edi/submissions/{key}", answers_path="/v2/reports",
                    answer_path="/v2/reports/{id}")
    with api:
        channel = HttpsChannel(PAYER, "https", HttpsOptions(
            base_url=api.base_url + "/", auth="api-key", api_key_header="X-Partner-Key",
            token_secret="key", idempotency_header="X-Request-Id",
            submit_path="/v2/edi/submissions", status_path="/v2/edi/submissions/{key}",
            answers_path="/v2/reports", answer_path="/v2/reports/{id}", timeout_s=0.5),
            Secrets([{"key": TOKEN}.get]))
        try:
            channel.send(delivery(), DATA)
            assert channel.delivered(delivery())
            assert not channel.delivered(delivery("000000999"))
            api.put_answer("999.x12", b"ISA*999~")
            assert list(channel.collect()) == [("ans-000001", b"ISA*999~")]
        finally:
            channel.close()
        assert api.received == {"000000123": DATA}


def test_a_key_sent_again_is_already_delivered_and_not_stored_twice(
        server: ApiServer, make_channel: MakeChannel) -> None:
    channel = make_channel(server)
    channel.send(delivery(), DATA)
    again = channel.send(delivery(), DATA)
    assert again.already_delivered and again.remote_name == "sub-000001"
    assert server.posts["000000123"] == 2  # the replay reached the API (409)...
    assert list(server.received) == ["000000123"]  # ...and was not stored again
    recheck = PayerRoute(PAYER, [Leg(channel, RetryPolicy(0))]).deliver(
        delivery(), DATA, recheck=True)
    assert recheck.already_delivered and server.posts["000000123"] == 2


# -- transient faults -----------------------------------------------------------------


def test_503_then_success_arrives_once_after_a_backoff(server: ApiServer,
                                                       make_channel: MakeChannel) -> None:
    server.fail_next(1, status=503)
    route = Route(make_channel(server))
    receipt = route.deliver()
    assert receipt.attempts == 2 and len(route.delays) == 1
    assert server.posts["000000123"] == 1 and server.received == {"000000123": DATA}
    assert ("GET", "/claims/000000123") not in server.requests  # 503: not taken, not asked


def test_429_retry_after_is_honoured(server: ApiServer, make_channel: MakeChannel) -> None:
    server.fail_next(1, status=429, retry_after=2)
    route = Route(make_channel(server))
    route.deliver()
    assert route.delays and route.delays[0] >= 2
    assert server.posts["000000123"] == 1


def test_retry_after_as_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    response = httpx.Response(503, headers={"Retry-After": later})
    assert 25 <= (retry_after(response) or 0) <= 31
    assert retry_after(httpx.Response(503, headers={"Retry-After": "soon"})) is None
    assert retry_after(httpx.Response(503)) is None


def test_timeout_after_the_server_stored_the_file_is_not_sent_again(
        server: ApiServer, make_channel: MakeChannel) -> None:
    server.stall_after_receive(1, seconds=2.0)
    route = Route(make_channel(server, timeout_s=0.2))
    receipt = route.deliver()
    assert receipt.already_delivered  # the route asked, and the API had it
    assert ("GET", "/claims/000000123") in server.requests
    assert server.posts["000000123"] == 1 and server.received == {"000000123": DATA}


def test_500_may_have_arrived_so_the_route_asks_before_sending_again(
        server: ApiServer, make_channel: MakeChannel) -> None:
    server.fail_next(1, status=500)
    route = Route(make_channel(server))
    route.deliver()
    methods = [method for method, _ in server.requests]
    assert methods == ["POST", "GET", "POST"]  # asked (404), then sent
    assert server.posts["000000123"] == 1


def test_server_down_is_unavailable_then_sends_when_it_is_back(
        server: ApiServer, make_channel: MakeChannel) -> None:
    route = Route(make_channel(server), retries=2)
    server.down()
    with pytest.raises(ChannelUnavailable):
        route.deliver()
    assert len(route.delays) == 2 and server.requests == [] and server.received == {}
    server.up()
    route.deliver()
    assert server.posts["000000123"] == 1 and server.received == {"000000123": DATA}


def test_connection_refused_is_transient_and_not_delivered(
        server: ApiServer, make_channel: MakeChannel) -> None:
    channel = make_channel(server)
    server.down()
    with pytest.raises(TransientChannelError) as caught:
        channel.send(delivery(), DATA)
    assert not caught.value.maybe_delivered
    assert "ConnectError" in str(caught.value) and "payer P1, channel https" in str(caught.value)


# -- permanent faults -----------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_permanent_and_sent_once(status: int, server: ApiServer,
                                                   make_channel: MakeChannel) -> None:
    server.fail_next(1, status=status)
    route = Route(make_channel(server))
    with pytest.raises(PermanentChannelError) as caught:
        route.deliver()
    assert f"HTTP {status}" in str(caught.value)
    assert len(server.requests) == 1 and route.delays == []


def test_wrong_token_is_authentication_failed(server: ApiServer,
                                              make_channel: MakeChannel) -> None:
    route = Route(make_channel(server, token="not-the-token"))
    with pytest.raises(AuthenticationFailed) as caught:
        route.deliver()
    assert "HTTP 401" in str(caught.value) and "not-the-token" not in str(caught.value)
    assert len(server.requests) == 1 and server.posts == {}


def test_missing_secret_names_the_secret_and_its_variable(server: ApiServer) -> None:
    options = HttpsOptions(base_url=server.base_url, token_secret="acme-clearinghouse")
    channel = HttpsChannel(PAYER, "https", options, Secrets([lambda name: None]))
    with pytest.raises(SecretMissing) as caught:
        channel.send(delivery(), DATA)
    assert "acme-clearinghouse" in str(caught.value)
    assert "REVCYCLE_SECRET_ACME_CLEARINGHOUSE" in str(caught.value)
    assert server.requests == []


def test_error_bodies_never_reach_exception_messages(server: ApiServer,
                                                     make_channel: MakeChannel) -> None:
    body = f'{{"error": "NM1*IL*1*{FAKE_PATIENT}****MI*XYZ123456 rejected"}}'.encode()
    channel = make_channel(server)
    seen: list[str] = []
    for status in (422, 401, 500, 503):
        server.fail_next(1, status=status, body=body)
        with pytest.raises(ChannelError) as caught:
            channel.send(delivery(), DATA)
        seen.append(str(caught.value))
    server.fail_next(4, status=503, body=body)
    with pytest.raises(ChannelUnavailable) as caught:
        Route(channel).deliver()
    seen.append(str(caught.value))
    assert not [message for message in seen if "DOE" in message or "XYZ" in message]


# -- TLS ------------------------------------------------------------------------------


@pytest.fixture
def tls_server() -> Iterator[ApiServer]:
    with ApiServer(token=TOKEN, tls=True) as api:
        yield api


def test_tls_with_the_partner_ca_file(tls_server: ApiServer,
                                      make_channel: MakeChannel) -> None:
    assert tls_server.base_url.startswith("https://127.0.0.1:")
    make_channel(tls_server, ca_file=tls_server.ca_file).send(delivery(), DATA)
    assert tls_server.posts["000000123"] == 1


def test_tls_untrusted_by_the_system_store_is_permanent_and_not_retried(
        tls_server: ApiServer, make_channel: MakeChannel) -> None:
    route = Route(make_channel(tls_server))
    with pytest.raises(PermanentChannelError) as caught:
        route.deliver()
    assert "certificate verification failed" in str(caught.value)
    assert route.delays == [] and tls_server.requests == []


def test_mutual_tls_needs_the_client_certificate(make_channel: MakeChannel) -> None:
    with ApiServer(token=TOKEN, tls=True, require_client_cert=True) as api:
        without = make_channel(api, ca_file=api.ca_file)
        # Under TLS 1.3 the server checks the client after the client's handshake is done
        # and just closes: to the client that looks like any dropped reply.
        with pytest.raises(TransientChannelError) as caught:
            without.send(delivery(), DATA)
        assert caught.value.maybe_delivered
        assert api.requests == [] and api.posts == {}
        cert = api.client_cert()
        with_cert = make_channel(api, ca_file=api.ca_file, client_cert=str(cert.cert),
                                 client_key=str(cert.key))
        with_cert.send(delivery(), DATA)
        assert api.posts["000000123"] == 1


# -- answers --------------------------------------------------------------------------


def test_collect_acknowledge_and_check(server: ApiServer, make_channel: MakeChannel) -> None:
    first = server.put_answer("P1_000000123.999", b"ISA*999~")
    second = server.put_answer("P1_000000123.277", b"ISA*277~")
    channel = make_channel(server)
    assert "2 answer(s) waiting" in channel.check()[0]
    collected = list(channel.collect())
    assert collected == [(first, b"ISA*999~"), (second, b"ISA*277~")]
    for answer_id, _ in collected:
        channel.acknowledge(answer_id)
    assert server.answers == {}
    assert "0 answer(s) waiting" in channel.check()[0]
    assert server.posts == {} and "POST" not in {method for method, _ in server.requests}


# -- the payer module -----------------------------------------------------------------


def test_definition_problems_name_the_channel_without_base_url() -> None:
    definition = PayerDefinition(
        "P1", "Synthetic Health Plan", "RECEIVER",
        channels=(ChannelSpec("https", {"token_secret": "clearinghouse-token"}),))
    problems = definition_problems(definition)
    assert len(problems) == 1
    assert "channels[0]" in problems[0] and "base_url" in problems[0]
