"""A payer's clearinghouse API, for tests, benchmarks and the demo's payer world.

A plain ASGI app served by uvicorn in a background thread on 127.0.0.1 (a free port),
speaking the generic contract ``revcycle.channels.https`` expects:

- ``POST {submit_path}``: the file, raw X12 or ``{"fileName", "x12"}`` JSON, with the
  interchange control number in the idempotency header. 201 ``{"id", "status"}`` the
  first time. A key already used is an idempotent replay: **409** with the first
  submission's id, and the file is not stored again (the channel reads 409 as
  "already delivered"; an API that answers 200 with the original reply works too).
- ``GET {status_path}``: 200 when the key was received, 404 if not.
- ``GET {answers_path}``: ``{"answers": [{"id", "name"}]}``; ``GET {answer_path}`` one
  answer's bytes; ``DELETE {answer_path}`` acknowledges (removes) it.

Every request needs the token (bearer or API-key header; 401 without it); a submission
without the idempotency header is a 400. What arrived is counted here, at the receiving
side: ``posts`` counts every complete submission per key (replays included), ``received``
keeps the first body per key. Fault knobs act on the next requests: ``fail_next`` answers
an error before the API looks at the request (a gateway's 503, a 429, or any status with a
chosen body); ``stall_after_receive`` stores the file and then waits past the client's
timeout before answering; ``down``/``up`` stop and restart the server on the same port.
With ``tls=True`` it serves HTTPS with a throwaway CA (``ca_file``), and with
``require_client_cert=True`` asks for a client certificate that CA signed
(``client_cert()`` mints one).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import uvicorn

from revcycle.simulator.tls import CertFiles, TestAuthority

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class _Fault:
    remaining: int
    status: int = 503
    retry_after: str | None = None
    body: bytes = b""
    seconds: float = 0.0


def _route(template: str) -> re.Pattern[str]:
    """A path template ("/claims/{key}") as a regular expression with named groups."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                      for i, part in enumerate(parts))
    return re.compile(pattern + "$")


class ApiServer:
    """The clearinghouse API (see the module docstring); ``start()`` gives its base URL."""

    def __init__(self, *, token: str = "test-token",
                 auth: Literal["bearer", "api-key", "none"] = "bearer",
                 api_key_header: str = "X-API-Key",
                 idempotency_header: str = "Idempotency-Key",
                 submit_path: str = "/claims", status_path: str = "/claims/{key}",
                 answers_path: str = "/answers", answer_path: str = "/answers/{id}",
                 tls: bool = False, require_client_cert: bool = False) -> None:
        self.token, self.auth = token, auth
        self.api_key_header = api_key_header.lower()
        self.idempotency_header = idempotency_header.lower()
        self._paths = {"submit": _route(submit_path), "status": _route(status_path),
                       "answers": _route(answers_path), "answer": _route(answer_path)}
        self.posts: Counter[str] = Counter()  # complete submissions per key, replays too
        self.received: dict[str, bytes] = {}  # the first body per key
        self.file_names: dict[str, str] = {}  # the JSON body's fileName per key
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.answers: dict[str, tuple[str, bytes]] = {}  # answer id -> (name, bytes)
        self._ids: dict[str, str] = {}  # key -> submission id
        self._faults: list[_Fault] = []
        self._stalls: list[_Fault] = []
        self._lock = threading.Lock()
        self._answer_number = 0
        self._directory = Path(tempfile.mkdtemp(prefix="revcycle-api-"))
        self.authority: TestAuthority | None = None
        self._server_cert: CertFiles | None = None
        if tls or require_client_cert:
            self.authority = TestAuthority(self._directory)
            self._server_cert = self.authority.server_cert("127.0.0.1")
        self.require_client_cert = require_client_cert
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        scheme = "https" if self.authority else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        """The throwaway CA that signed the server certificate (TLS only)."""
        if self.authority is None:
            raise RuntimeError("this server does not use TLS")
        return str(self.authority.ca_file)

    def client_cert(self, name: str = "revcycle-client") -> CertFiles:
        """A client certificate this server's CA signed, for mutual TLS."""
        if self.authority is None:
            raise RuntimeError("this server does not use TLS")
        return self.authority.client_cert(name)

    def start(self) -> str:
        """Serve on a free port (the first time) and return the base URL."""
        self.up()
        return self.base_url

    def up(self) -> None:
        """Serve again on the same port after ``down()`` (the payer is back)."""
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: a reply's head and body leave at once instead
        # of waiting ~40 ms for the client's delayed ACK (Nagle's algorithm).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        tls: dict[str, Any] = {}
        if self._server_cert is not None:
            tls = {"ssl_certfile": str(self._server_cert.cert),
                   "ssl_keyfile": str(self._server_cert.key)}
            if self.require_client_cert:
                tls |= {"ssl_ca_certs": self.ca_file, "ssl_cert_reqs": ssl.CERT_REQUIRED}
        config = uvicorn.Config(self, lifespan="off", log_config=None, log_level="warning",
                                access_log=False, timeout_keep_alive=30, **tls)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name=f"api-server-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def down(self) -> None:
        """Stop serving, keeping the port and what was received (a payer outage)."""
        if self._server is None:
            return
        self._server.should_exit = self._server.force_exit = True
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def stop(self) -> None:
        """Stop serving and remove the TLS files."""
        self.down()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- knobs -----------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, retry_after: str | float | None = None,
                  body: bytes = b"") -> None:
        """Answer the next ``n`` requests with ``status`` (and ``Retry-After``, and
        ``body``) before the API sees them: nothing they carry is stored or counted."""
        with self._lock:
            self._faults.append(_Fault(n, status, None if retry_after is None
                                       else str(retry_after), body))

    def stall_after_receive(self, n: int = 1, seconds: float = 1.0) -> None:
        """For the next ``n`` submissions, store the file, then wait ``seconds`` before
        answering: the client times out after the server has the file."""
        with self._lock:
            self._stalls.append(_Fault(n, seconds=seconds))

    def put_answer(self, name: str, data: bytes) -> str:
        """Leave an answer (a 999, 277CA, 835) for the client to collect; its id."""
        with self._lock:
            self._answer_number += 1
            answer_id = f"ans-{self._answer_number:06d}"
            self.answers[answer_id] = (name, data)
        return answer_id

    def _take(self, queue: list[_Fault]) -> _Fault | None:
        with self._lock:
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    # -- the ASGI app ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        self.requests.append((method, path))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        fault = self._take(self._faults)
        if fault is not None:
            extra = {"retry-after": fault.retry_after} if fault.retry_after else {}
            await _reply(send, fault.status, fault.body or _error("injected failure"),
                         extra)
            return
        if not self._authorized(headers):
            await _reply(send, 401, _error("unauthorized"), {"www-authenticate": "Bearer"})
            return
        for name, pattern in self._paths.items():
            match = pattern.match(path)
            if match:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                await self._handle(name, method, params, headers, receive, send)
                return
        await _reply(send, 404, _error("no such path"))

    def _authorized(self, headers: dict[str, str]) -> bool:
        if self.auth == "bearer":
            return headers.get("authorization") == f"Bearer {self.token}"
        if self.auth == "api-key":
            return headers.get(self.api_key_header) == self.token
        return True

    async def _handle(self, name: str, method: str, params: dict[str, str],
                      headers: dict[str, str], receive: Receive, send: Send) -> None:
        if (name, method) == ("submit", "POST"):
            await self._submit(headers, receive, send)
        elif (name, method) == ("status", "GET"):
            key = params["key"]
            if key in self._ids:
                await _reply(send, 200, _json({"id": self._ids[key], "status": "received"}))
            else:
                await _reply(send, 404, _error("unknown key"))
        elif (name, method) == ("answers", "GET"):
            listing = [{"id": i, "name": n} for i, (n, _) in list(self.answers.items())]
            await _reply(send, 200, _json({"answers": listing}))
        elif name == "answer" and method in ("GET", "DELETE"):
            answer = self.answers.get(params["id"])
            if answer is None:
                await _reply(send, 404, _error("unknown answer"))
            elif method == "GET":
                await _reply(send, 200, answer[1], content_type="application/edi-x12")
            else:
                self.answers.pop(params["id"], None)
                await _reply(send, 204, b"")
        else:
            await _reply(send, 405, _error("method not allowed"))

    async def _submit(self, headers: dict[str, str], receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if body is None:
            return  # the client went away mid-upload: nothing complete arrived
        key = headers.get(self.idempotency_header, "")
        if not key:
            await _reply(send, 400, _error(f"missing {self.idempotency_header} header"))
            return
        data, file_name = body, ""
        if headers.get("content-type", "").startswith("application/json"):
            try:
                wrapper = json.loads(body)
                data, file_name = wrapper["x12"].encode(), str(wrapper.get("fileName", ""))
            except (ValueError, KeyError, TypeError, AttributeError):
                await _reply(send, 400, _error("the body must be {\"fileName\", \"x12\"}"))
                return
        with self._lock:
            self.posts[key] += 1
            replay = key in self._ids
            if not replay:
                self._ids[key] = f"sub-{len(self._ids) + 1:06d}"
                self.received[key] = data
                if file_name:
                    self.file_names[key] = file_name
        stall = self._take(self._stalls)
        if stall is not None:
            await asyncio.sleep(stall.seconds)
        reply = {"id": self._ids[key], "status": "duplicate" if replay else "received"}
        await _reply(send, 409 if replay else 201, _json(reply))


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _error(message: str) -> bytes:
    return _json({"error": message})


async def _reply(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None,
                 content_type: str = "application/json") -> None:
    fields = {"content-type": content_type, "content-length": str(len(body)),
              **(headers or {})}
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in fields.items()]})
    await send({"type": "http.response.body", "body": body})
