"""The SFTP channel: files to a payer's inbound folder, answers from its outbound folder.

asyncssh does the SSH work on a private event loop in a daemon thread, so the channel's
plain synchronous methods work from any thread (Prefect runs tasks in worker threads).
One SSH connection and SFTP session is opened on first use and reused; any failure drops
it and the next call connects again.

An upload is written under a temporary name and renamed when whole, so a partner never
sees half a file under its final name. The final name comes from the delivery alone, so
a retry finds an earlier upload: ``send`` first looks for it (in the upload folder, or
the processed folder a partner moves picked-up files to) and does not send twice. Only
once the rename request has gone out may a failure have delivered the file
(``maybe_delivered``).
"""

from __future__ import annotations

import asyncio
import posixpath
import socket
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from cryptography.utils import CryptographyDeprecationWarning

from revcycle.channels.base import Delivery, Receipt, remote_name
from revcycle.channels.errors import (
    AuthenticationFailed,
    ChannelError,
    HostKeyMismatch,
    PermanentChannelError,
    TransientChannelError,
)
from revcycle.channels.options import SftpOptions
from revcycle.channels.secrets import Secrets

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    import asyncssh

T = TypeVar("T")
PARTNER_TEMP_SUFFIXES = (".part", ".tmp", ".filepart")  # a partner's upload under way


class _RenameSent(Exception):
    """A failure after the rename request went out: the partner may have the file."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class SftpChannel:
    def __init__(self, payer_id: str, label: str, options: SftpOptions,
                 secrets: Secrets) -> None:
        self.payer_id = payer_id
        self.label = label
        self.options = options
        self.secrets = secrets
        self._connect_kwargs: dict[str, Any] | None = None
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._op_lock: asyncio.Lock | None = None

    # The channel interface

    def send(self, delivery: Delivery, data: bytes) -> Receipt:
        name = remote_name(self.options.name_pattern, delivery, self.payer_id)
        return self._call(f"sending {name}", lambda sftp: self._send(sftp, name, data))

    def delivered(self, delivery: Delivery) -> bool:
        name = remote_name(self.options.name_pattern, delivery, self.payer_id)
        found = self._call(f"looking for {name}", lambda sftp: self._find(sftp, name))
        return found is not None

    def collect(self) -> Iterator[tuple[str, bytes]]:
        folder = self.options.download_dir
        names = self._call(f"listing {folder}", lambda sftp: self._files(sftp, folder))
        for name in names:
            path = posixpath.join(folder, name)
            yield name, self._call(f"reading {path}", lambda sftp, p=path: self._read(sftp, p))

    def acknowledge(self, remote_name: str) -> None:
        path = posixpath.join(self.options.download_dir, remote_name)
        self._call(f"acknowledging {path}", lambda sftp: self._acknowledge(sftp, remote_name))

    def check(self) -> list[str]:
        return self._call("checking", self._check)

    def close(self) -> None:
        with self._start_lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            asyncio.run_coroutine_threadsafe(self._drop(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
            self._loop = self._thread = self._op_lock = None

    # The steps, on the channel's loop

    async def _send(self, sftp: asyncssh.SFTPClient, name: str, data: bytes) -> Receipt:
        # No look for the final name first: a fresh interchange cannot be there, and one
        # tried before is looked for by the route (``delivered``) before it is sent again.
        # One round trip less per file.
        final = posixpath.join(self.options.upload_dir, name)
        temp = final + self.options.temp_suffix
        await self._op(self._upload(sftp, temp, data))
        try:
            await self._op(self._move(sftp, temp, final))
        except Exception as exc:
            raise _RenameSent(exc) from None
        return Receipt(self.label, final)

    @staticmethod
    async def _upload(sftp: asyncssh.SFTPClient, path: str, data: bytes) -> None:
        async with sftp.open(path, "wb") as file:
            await file.write(data)

    async def _find(self, sftp: asyncssh.SFTPClient, name: str) -> str | None:
        """The final name's path in the upload or processed folder, or None."""
        for folder in filter(None, (self.options.upload_dir, self.options.processed_dir)):
            path = posixpath.join(folder, name)
            try:
                await self._op(sftp.stat(path))
                return path
            except asyncssh.SFTPNoSuchFile:
                continue
        return None

    async def _files(self, sftp: asyncssh.SFTPClient, folder: str) -> list[str]:
        entries = await self._op(sftp.readdir(folder))
        skip = (*PARTNER_TEMP_SUFFIXES, self.options.temp_suffix)
        return sorted(e.filename for e in entries
                      if e.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
                      and not e.filename.startswith(".") and not e.filename.endswith(skip))

    async def _read(self, sftp: asyncssh.SFTPClient, path: str) -> bytes:
        async def read() -> bytes:
            async with sftp.open(path, "rb") as file:
                return await file.read()

        return await self._op(read())

    async def _acknowledge(self, sftp: asyncssh.SFTPClient, name: str) -> None:
        source = posixpath.join(self.options.download_dir, name)
        try:
            if self.options.acknowledge == "archive":
                target = posixpath.join(self.options.archive_dir, name)
                await self._op(self._move(sftp, source, target))
            else:
                await self._op(sftp.remove(source))
        except asyncssh.SFTPNoSuchFile:
            # Gone already (acknowledged before a crash) is done; a missing folder is not.
            await self._op(sftp.stat(self.options.download_dir))
            if await self._op(sftp.exists(source)):
                raise

    @staticmethod
    async def _move(sftp: asyncssh.SFTPClient, source: str, target: str) -> None:
        """An atomic POSIX rename when the server offers it, else the plain SFTP one."""
        try:
            await sftp.posix_rename(source, target)
        except asyncssh.SFTPOpUnsupported:
            await sftp.rename(source, target)

    async def _check(self, sftp: asyncssh.SFTPClient) -> list[str]:
        assert self._conn is not None
        options = self.options
        key = self._conn.get_server_host_key()
        lines = [f"{self.label}: {options.host}:{options.port} as {options.user}",
                 f"host key {key.get_fingerprint() if key else 'unknown'} (verified)"]
        folders = [("upload_dir", options.upload_dir), ("processed_dir", options.processed_dir),
                   ("download_dir", options.download_dir), ("archive_dir", options.archive_dir)]
        for option, folder in folders:
            if folder:
                entries = await self._op(sftp.readdir(folder))
                count = sum(e.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR for e in entries)
                lines.append(f"{option} {folder}: {count} file{'s' * (count != 1)}")
        return lines

    # Connection and the loop

    async def _op(self, step: Awaitable[T]) -> T:
        return await asyncio.wait_for(step, self.options.timeout_s)

    async def _client(self) -> asyncssh.SFTPClient:
        if self._conn is not None and self._conn.is_closed():  # the partner hung up idle
            await self._drop()
        if self._sftp is None:
            assert self._connect_kwargs is not None
            o = self.options

            async def connect() -> asyncssh.SFTPClient:
                self._conn = await asyncssh.connect(o.host, o.port, username=o.user,
                                                    **self._connect_kwargs)
                return await self._conn.start_sftp_client()

            self._sftp = await asyncio.wait_for(connect(), o.connect_timeout_s)
        return self._sftp

    async def _drop(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()

    async def _guarded(self, what: str, step: Callable[[asyncssh.SFTPClient], Awaitable[T]]
                       ) -> T:
        assert self._op_lock is not None
        async with self._op_lock:
            try:
                return await step(await self._client())
            except Exception as exc:
                await self._drop()
                raise self._error(what, exc) from None

    def _call(self, what: str, step: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        """Run one step on the channel's loop from any thread."""
        if self._connect_kwargs is None:
            self._connect_kwargs = self._login()
        loop = self._started()
        return asyncio.run_coroutine_threadsafe(self._guarded(what, step), loop).result()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, daemon=True,
                                                name=f"sftp-{self.payer_id}-{self.label}")
                self._thread.start()
                self._op_lock = asyncio.Lock()  # binds to the loop on first use
                self._loop = loop
            return self._loop

    # Credentials and host keys (read in the caller's thread: a secret source may block)

    def _login(self) -> dict[str, Any]:
        o = self.options
        kwargs: dict[str, Any] = {"known_hosts": self._known_hosts(), "agent_path": None,
                                  "config": (), "client_keys": None, "password": None}
        if o.password_secret:
            kwargs["password"] = self.secrets.require(o.password_secret, self.payer_id,
                                                      self.label)
        elif o.key_secret:
            key = self.secrets.require(o.key_secret, self.payer_id, self.label)
            kwargs["client_keys"] = [self._key(lambda: asyncssh.import_private_key(key),
                                               f"secret {o.key_secret!r}")]
        else:
            kwargs["client_keys"] = [self._key(lambda: asyncssh.read_private_key(o.key_file),
                                               f"key_file {o.key_file}")]
        return kwargs

    def _known_hosts(self) -> Any:
        o = self.options
        try:
            if o.host_key:
                return ([asyncssh.import_public_key(o.host_key)], [], [])
            return asyncssh.read_known_hosts(o.known_hosts)
        except (OSError, ValueError, asyncssh.KeyImportError) as exc:
            where = "host_key" if o.host_key else f"known_hosts {o.known_hosts}"
            raise self._permanent(f"cannot use {where} ({type(exc).__name__})") from None

    def _key(self, load: Callable[[], asyncssh.SSHKey], where: str) -> asyncssh.SSHKey:
        try:
            return load()
        except (OSError, ValueError, asyncssh.KeyImportError) as exc:
            raise self._permanent(f"cannot use the private key in {where}"
                                  f" ({type(exc).__name__})") from None

    # Errors

    def _permanent(self, what: str) -> PermanentChannelError:
        return PermanentChannelError(self.payer_id, self.label, what)

    def _error(self, what: str, exc: Exception) -> ChannelError:
        """The channel error for a failure ``what`` met; it names the kind of failure,
        never data."""
        maybe = isinstance(exc, _RenameSent)
        if isinstance(exc, _RenameSent):
            exc = exc.cause
        o = self.options
        where = f"{o.host}:{o.port}"
        permanent: tuple[type[ChannelError], str] | None = None
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            permanent = HostKeyMismatch, (f"the host key of {where} is not the one in"
                                          " known_hosts/host_key; nothing sent")
        elif isinstance(exc, asyncssh.PermissionDenied):
            permanent = AuthenticationFailed, f"{where} refused the login of user {o.user}"
        elif isinstance(exc, asyncssh.KeyExchangeFailed):
            permanent = HostKeyMismatch, (f"key exchange with {where} failed (no host key"
                                          " or algorithm in common); nothing sent")
        elif isinstance(exc, asyncssh.SFTPPermissionDenied):
            permanent = PermanentChannelError, f"permission denied {what}"
        elif isinstance(exc, asyncssh.SFTPNoSuchFile):
            permanent = PermanentChannelError, f"no such file or folder {what}"
        elif isinstance(exc, asyncssh.SFTPError) and exc.code in (
                asyncssh.FX_OP_UNSUPPORTED, asyncssh.FX_BAD_MESSAGE):
            permanent = PermanentChannelError, f"the server does not support {what}"
        if permanent is not None:
            kind, text = permanent
            return kind(self.payer_id, self.label, text)
        return TransientChannelError(self.payer_id, self.label,
                                     f"{_kind(exc)} {what} ({where})",
                                     maybe_delivered=maybe)


def _kind(exc: Exception) -> str:
    """A failure's kind in a few words: its type, never its text (a server may echo)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host,"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "connection reset"
    if isinstance(exc, asyncssh.ConnectionLost | asyncssh.SFTPConnectionLost | EOFError):
        return "connection lost"
    if isinstance(exc, asyncssh.SFTPNoConnection):
        return "no connection"
    if isinstance(exc, asyncssh.SFTPError):
        return f"the server failed (SFTP status {exc.code})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return f"{type(exc).__name__}"
