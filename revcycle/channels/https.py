"""The HTTPS channel: a clearinghouse's REST API.

The contract (paths and header names come from ``HttpsOptions``, so a real clearinghouse
is reached by configuration, not code):

- ``POST {submit_path}`` sends the file, raw X12 (``application/edi-x12``) or, with
  ``body="json"``, ``{"fileName": <remote name>, "x12": <text>}``, with the interchange
  control number in the idempotency header. 200/201/202 ``{"id", "status"}`` is a
  receipt; 409 (the key was used before) means the partner already has the file.
- ``GET {status_path}`` (``{key}`` = control number): 200 has it, 404 does not.
- ``GET {answers_path}`` lists ``{"answers": [{"id", "name"}]}``; ``GET {answer_path}``
  fetches one; ``DELETE {answer_path}`` acknowledges it.

Errors say whether the partner may have the file: a failure before the request left
(connection refused, connect timeout, a 408/429/503 the API answered without taking the
file) is retried freely; a failure after it may have arrived (a read or write timeout or
error, the server closing mid-reply, a 500/502/504) makes the route ask ``delivered``
before sending again. Messages name the status or the exception's type, never a body.
"""

from __future__ import annotations

import email.utils
import http
import json
import ssl
import time
from collections.abc import Iterator
from typing import NoReturn, TypeVar
from urllib.parse import quote

import httpx

from revcycle.channels.base import Delivery, Receipt, remote_name
from revcycle.channels.errors import (
    AuthenticationFailed,
    ChannelError,
    PermanentChannelError,
    TransientChannelError,
)
from revcycle.channels.options import HttpsOptions
from revcycle.channels.secrets import Secrets

E = TypeVar("E", bound=BaseException)

ACCEPTED = (200, 201, 202)
# The API answered without taking the request: safe to send again.
RETRY_NOT_TAKEN = (408, 429, 503)
# The request cannot have reached the API. Any other transport error (a read or write
# timeout or error, the server closing before its reply) may have come after it arrived.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)


class HttpsChannel:
    """One payer's clearinghouse API (see the module docstring). One client, kept
    alive across requests, made on first use (when the token is resolved)."""

    def __init__(self, payer_id: str, label: str, options: HttpsOptions,
                 secrets: Secrets) -> None:
        self.payer_id = payer_id
        self.label = label
        self.options = options
        self.secrets = secrets
        self._client: httpx.Client | None = None

    # -- sending ---------------------------------------------------------------------

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        key = delivery.interchange_control_number
        name = remote_name(self.options.name_pattern, delivery, self.payer_id)
        headers = {self.options.idempotency_header: key}
        if self.options.body == "json":
            body = json.dumps({"fileName": name, "x12": data.decode("utf-8")}).encode()
            headers["Content-Type"] = "application/json"
        else:
            body = data
            headers["Content-Type"] = "application/edi-x12"
        response = self._request("POST", self.options.submit_path, content=body,
                                 headers=headers)
        if response.status_code == 409:
            return Receipt(self.label, _reply_id(response) or name, already_delivered=True)
        if response.status_code not in ACCEPTED:
            self._fail(response)
        return Receipt(self.label, _reply_id(response) or name)

    def delivered(self, delivery: Delivery) -> bool:
        path = self.options.status_path.replace(
            "{key}", quote(delivery.interchange_control_number, safe=""))
        response = self._request("GET", path)
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            self._fail(response)
        return True

    # -- receiving -------------------------------------------------------------------

    def collect(self) -> Iterator[tuple[str, bytes]]:
        """Each waiting answer as (answer id, bytes); ``acknowledge`` takes the id."""
        for answer_id, _name in self._waiting():
            response = self._request("GET", self._answer_path(answer_id))
            if response.status_code == 404:
                continue  # acknowledged elsewhere since the listing
            if response.status_code != 200:
                self._fail(response)
            yield answer_id, response.content

    def acknowledge(self, remote_name: str) -> None:
        response = self._request("DELETE", self._answer_path(remote_name))
        if response.status_code not in (200, 202, 204, 404):  # 404: already gone
            self._fail(response)

    def check(self) -> list[str]:
        """List the waiting answers: proves the address, TLS and credentials; sends
        nothing."""
        waiting = self._waiting()
        return [f"{self.label}: {self.options.base_url} answered; credentials accepted;"
                f" {len(waiting)} answer(s) waiting"]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _waiting(self) -> list[tuple[str, str]]:
        response = self._request("GET", self.options.answers_path)
        if response.status_code != 200:
            self._fail(response)
        try:
            answers = response.json()["answers"]
            return [(str(a["id"]), str(a.get("name", ""))) for a in answers]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise PermanentChannelError(
                self.payer_id, self.label,
                f"GET {self.options.answers_path}: the reply is not"
                ' {"answers": [{"id", "name"}]}') from None

    def _answer_path(self, answer_id: str) -> str:
        return self.options.answer_path.replace("{id}", quote(answer_id, safe=""))

    # -- HTTP ------------------------------------------------------------------------

    def _request(self, method: str, path: str, content: bytes | None = None,
                 headers: dict[str, str] | None = None) -> httpx.Response:
        client = self._connect()
        what = f"{method} {path}"
        try:
            return client.request(method, path, content=content, headers=headers)
        except httpx.RequestError as exc:
            raise self._transport_error(what, exc) from None

    def _transport_error(self, what: str, exc: httpx.RequestError) -> ChannelError:
        kind = type(exc).__name__
        verify = _cause(exc, ssl.SSLCertVerificationError)
        if isinstance(exc, httpx.UnsupportedProtocol):
            return PermanentChannelError(self.payer_id, self.label, f"{what}: {kind}")
        if verify is not None:
            # Not retried: the server is not the partner we trust until a person checks.
            return PermanentChannelError(
                self.payer_id, self.label,
                f"{what}: TLS certificate verification failed"
                f" ({verify.verify_message}); check ca_file")
        if isinstance(exc, NOT_SENT):
            return TransientChannelError(self.payer_id, self.label,
                                         f"{what}: {kind}, the request was not sent")
        return TransientChannelError(self.payer_id, self.label,
                                     f"{what}: {kind}, the request may have arrived",
                                     maybe_delivered=True)

    def _fail(self, response: httpx.Response) -> NoReturn:
        """Raise the error for an unexpected status; never quotes the reply body."""
        status = response.status_code
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "unknown status"
        what = f"{response.request.method} {response.request.url.path}: HTTP {status} {phrase}"
        if status in RETRY_NOT_TAKEN:
            raise TransientChannelError(self.payer_id, self.label, what,
                                        retry_after=retry_after(response))
        if status >= 500:  # 500, 502, 504 and the rest
            raise TransientChannelError(self.payer_id, self.label,
                                        f"{what}, the request may have arrived",
                                        maybe_delivered=True, retry_after=retry_after(response))
        if status in (401, 403):
            raise AuthenticationFailed(self.payer_id, self.label,
                                       f"{what}; check token_secret and auth")
        raise PermanentChannelError(self.payer_id, self.label, what)

    def _connect(self) -> httpx.Client:
        if self._client is None:
            options = self.options
            self._client = httpx.Client(
                base_url=options.base_url.rstrip("/"), headers=self._auth_headers(),
                timeout=httpx.Timeout(options.timeout_s, connect=options.connect_timeout_s),
                verify=self._tls_context(), follow_redirects=False)
        return self._client

    def _auth_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "revcycle"}
        if self.options.auth == "none":
            return headers
        token = self.secrets.require(self.options.token_secret, self.payer_id, self.label)
        if self.options.auth == "bearer":
            headers["Authorization"] = f"Bearer {token}"
        else:
            headers[self.options.api_key_header] = token
        return headers

    def _tls_context(self) -> ssl.SSLContext:
        options = self.options
        try:
            context = ssl.create_default_context(cafile=options.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise PermanentChannelError(self.payer_id, self.label,
                                        f"cannot load ca_file ({type(exc).__name__})") from None
        if options.client_cert:
            try:
                context.load_cert_chain(options.client_cert, options.client_key)
            except (OSError, ssl.SSLError) as exc:
                raise PermanentChannelError(
                    self.payer_id, self.label,
                    f"cannot load client_cert/client_key ({type(exc).__name__})") from None
        return context


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (it may be seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reply_id(response: httpx.Response) -> str:
    """The submission id of a JSON reply, or "" when it has none."""
    try:
        reply = response.json()
    except ValueError:
        return ""
    return str(reply.get("id") or "") if isinstance(reply, dict) else ""


def _cause(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of ``kind`` among ``exc``'s causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
