"""A real SFTP server on 127.0.0.1, for tests, benchmarks and the demo's payer world.

Built on asyncssh's server API, it runs in a background thread with its own event loop.
Each user is chrooted to a folder holding ``inbound/`` (where we upload), ``outbound/``
(the payer's answers) and ``archive/``. It counts at the receiving side: every file that
appears under a final (non-temporary) name in a user's ``inbound/``, by a rename or by a
write closed under that name, adds one to ``arrivals[name]``; that is how tests prove a
file arrived exactly once. Fault knobs break the next n operations: a connection dropped
in the middle of an upload, a rename done whose reply never leaves, a request left
unanswered for a while; ``down()``/``up()`` make the whole server unreachable and back on
the same port.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import warnings
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    import asyncssh

FOLDERS = ("inbound", "outbound", "archive")
TEMP_SUFFIXES = (".part", ".tmp", ".filepart")  # names a partner treats as unfinished


def generate_client_key(directory: Path, name: str = "id_ed25519") -> tuple[Path, str]:
    """A new ed25519 key pair for a client: the private key file and the public key line
    (what ``add_user(public_key=...)`` takes)."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = Path(directory) / name
    key.write_private_key(str(path))
    path.chmod(0o600)
    return path, key.export_public_key().decode().strip()


def is_final_name(name: str) -> bool:
    """Whether a partner would take a file of this name as whole (not an upload under way)."""
    return not name.startswith(".") and not name.endswith(TEMP_SUFFIXES)


class _Users(asyncssh.SSHServer):
    """Authentication against the test server's users; counts connections and logins."""

    def __init__(self, world: SftpTestServer) -> None:
        self.world = world
        self.user = ""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.world.connections += 1
        self.world._open.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.world._open = {c for c in self.world._open if not c.is_closed()}

    def begin_auth(self, username: str) -> bool:
        self.user = username
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        expected = self.world._passwords.get(username)
        return expected is not None and password == expected

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return key.public_data in self.world._keys.get(username, set())

    def auth_completed(self) -> None:
        self.world.logins += 1


class _ChrootedSftp(asyncssh.SFTPServer):
    """One user's SFTP session, chrooted to the user's folder, with counting and faults."""

    def __init__(self, chan: asyncssh.SSHServerChannel, world: SftpTestServer) -> None:
        self.world = world
        user = chan.get_extra_info("username")
        self.home = (world.root / user).resolve()
        super().__init__(chan, chroot=str(self.home).encode())
        self.writing: dict[int, str] = {}  # id of an open file -> its local path

    def _drop(self) -> None:
        self.channel.get_extra_info("connection").abort()

    def _arrived(self, local: bytes | str) -> None:
        path = Path(local.decode() if isinstance(local, bytes) else local)
        if path.parent == self.home / "inbound" and is_final_name(path.name):
            self.world.arrivals[path.name] += 1

    async def _stall(self) -> None:
        seconds = self.world._take("stall")
        if seconds:
            await asyncio.sleep(seconds)

    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        await self._stall()
        file_obj = super().open(path, pflags, attrs)
        if pflags & asyncssh.FXF_WRITE:
            self.writing[id(file_obj)] = self.map_path(path).decode()
        return file_obj

    async def write(self, file_obj: object, offset: int, data: bytes) -> int:
        await self._stall()
        if id(file_obj) in self.writing and self.world._take("drop_upload"):
            super().write(file_obj, offset, data[: len(data) // 2])
            self._drop()
            raise asyncssh.SFTPConnectionLost("dropped during upload (test fault)")
        return super().write(file_obj, offset, data)

    async def close(self, file_obj: object) -> None:
        super().close(file_obj)
        local = self.writing.pop(id(file_obj), None)
        if local is not None:
            self._arrived(local)

    async def _renamed(self, newpath: bytes) -> None:
        self._arrived(self.map_path(newpath))
        if self.world._take("drop_after_rename"):
            self._drop()
            raise asyncssh.SFTPConnectionLost("dropped after rename (test fault)")

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._stall()
        super().rename(oldpath, newpath)
        await self._renamed(newpath)

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._stall()
        super().posix_rename(oldpath, newpath)
        await self._renamed(newpath)

    async def stat(self, path: bytes) -> Any:
        await self._stall()
        return super().stat(path)

    async def lstat(self, path: bytes) -> Any:
        await self._stall()
        return super().lstat(path)

    async def remove(self, path: bytes) -> None:
        await self._stall()
        super().remove(path)


class SftpTestServer:
    """A real SFTP server for tests; see the module docstring."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1") -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="sftp-world-")
        self.root = Path(root or self._tmp.name)  # type: ignore[union-attr]
        self.host = host
        self.port = 0
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.arrivals: Counter[str] = Counter()
        self.connections = 0
        self.logins = 0
        self._passwords: dict[str, str] = {}
        self._keys: dict[str, set[bytes]] = {}
        self._faults: dict[str, tuple[int, float]] = {}
        self._open: set[asyncssh.SSHServerConnection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: asyncssh.SSHAcceptor | None = None

    # Users and their files

    def add_user(self, name: str, password: str | None = None,
                 public_key: str | None = None) -> Path:
        """A user who logs in with the password and/or the public key line; returns the
        user's folder (its chroot)."""
        home = self.root / name
        for folder in FOLDERS:
            (home / folder).mkdir(parents=True, exist_ok=True)
        if password is not None:
            self._passwords[name] = password
        if public_key is not None:
            key = asyncssh.import_public_key(public_key)
            self._keys.setdefault(name, set()).add(key.public_data)
        return home

    def folder(self, user: str, name: str = "inbound") -> Path:
        return self.root / user / name

    def received(self, user: str) -> dict[str, bytes]:
        """The files in a user's inbound under a final name, by name."""
        return {p.name: p.read_bytes() for p in sorted(self.folder(user).iterdir())
                if p.is_file() and is_final_name(p.name)}

    def put_answer(self, user: str, name: str, data: bytes) -> Path:
        """Leave a payer's answer file in the user's outbound folder."""
        path = self.folder(user, "outbound") / name
        path.write_bytes(data)
        return path

    # Host key

    @property
    def host_key_line(self) -> str:
        """The server's public host key, as ``SftpOptions.host_key`` takes it."""
        return self.host_key.export_public_key().decode().strip()

    def write_known_hosts(self, path: Path) -> Path:
        """A known_hosts file naming this server (started: the line carries the port)."""
        path = Path(path)
        path.write_text(f"[{self.host}]:{self.port} {self.host_key_line}\n")
        return path

    # Faults: each applies to the next n operations of its kind

    def drop_during_upload(self, n: int = 1) -> None:
        self._faults["drop_upload"] = (n, 0.0)

    def drop_after_rename(self, n: int = 1) -> None:
        self._faults["drop_after_rename"] = (n, 0.0)

    def stall(self, n: int = 1, seconds: float = 5.0) -> None:
        self._faults["stall"] = (n, seconds)

    def _take(self, fault: str) -> float:
        """Use one of a fault's remaining operations: its seconds (or 1.0), else 0."""
        left, seconds = self._faults.get(fault, (0, 0.0))
        if left <= 0:
            return 0.0
        self._faults[fault] = (left - 1, seconds)
        return seconds or 1.0

    # Running

    def start(self) -> int:
        """Listen on a free port (the same one again after ``stop``/``down``); returns it."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever,
                                            name="sftp-test-server", daemon=True)
            self._thread.start()
        self.up()
        return self.port

    def up(self) -> None:
        """Listen again (after ``down``) on the same port."""
        if self._listener is None:
            self._listener = self._call(self._listen())
            self.port = self._listener.get_port()

    def down(self) -> None:
        """A payer outage: stop listening and drop every open connection."""
        if self._listener is not None:
            self._call(self._close(self._listener))
            self._listener = None

    def stop(self) -> None:
        """Stop the server and its thread (the port is kept for a later ``start``)."""
        if self._loop is None:
            return
        self.down()
        self._call(self._cancel_pending())
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = None

    def close(self) -> None:
        """Stop, and remove the folders it made itself."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> SftpTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None, "the server is not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            self.host, self.port, server_host_keys=[self.host_key],
            server_factory=lambda: _Users(self),
            sftp_factory=lambda chan: _ChrootedSftp(chan, self),
            allow_scp=False, reuse_address=True)

    async def _close(self, listener: asyncssh.SSHAcceptor) -> None:
        listener.close()
        await listener.wait_closed()
        for conn in list(self._open):
            conn.abort()
        self._open.clear()

    async def _cancel_pending(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
