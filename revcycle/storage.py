"""The object store: where every file of the pipeline is staged.

Two implementations share one interface, :class:`ObjectStore`: :class:`LocalObjectStore`
(a folder, the default) and :class:`S3ObjectStore` (boto3; AWS S3 or any S3-compatible
server). :func:`store_from_settings` picks one from the ``REVCYCLE_*`` settings.

Keys follow ``<tenant>/<zone>/<yyyy-mm-dd>/<batch>/<file>`` and are built by
:func:`object_key` only (:mod:`revcycle.keys`, re-exported here); a file name that comes
from outside goes through :func:`safe_name` (or is refused by :func:`object_key`) before it
becomes part of a key.

Errors are typed: :class:`ObjectNotFound`, :class:`InvalidKey`, and
:class:`TransientStorageError` for faults worth retrying (network, timeouts, throttling,
5xx). Their messages name the key, never an object's content.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from revcycle.keys import (
    MAX_NAME_CHARS,
    ZONES,
    InvalidKey,
    KeyParts,
    StorageError,
    Zone,
    check_key,
    check_name,
    check_prefix,
    object_key,
    parse_key,
    safe_name,
    shown_key,
    zone_prefix,
)

if TYPE_CHECKING:
    from revcycle.settings import Settings

__all__ = ["MAX_NAME_CHARS", "ZONES", "InvalidKey", "KeyParts", "LocalObjectStore",
           "ObjectNotFound", "ObjectStore", "S3ObjectStore", "StorageError",
           "TransientStorageError", "Zone", "check_key", "check_name", "object_key",
           "parse_key", "safe_name", "shown_key", "store_from_settings", "zone_prefix"]

STREAM_CHUNK = 1 << 20  # bytes read or written at a time when streaming an object
_TEMPORARY = re.compile(r"\.put-.*\.tmp", re.DOTALL)  # LocalObjectStore's unfinished writes


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class TransientStorageError(StorageError):
    """A fault that may go away: network, timeout, throttling, server error. Retry it."""


# --- the interface ----------------------------------------------------------------------


class ObjectStore(ABC):
    """Bytes under keys. ``put`` is atomic: a reader sees the old object or the new one."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound when there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Sorted full keys that start with ``prefix`` (a plain string prefix, as on S3),
        including keys written by others that this store refuses to address: read and
        remove those with ``get_listed`` and ``delete_listed``."""

    @abstractmethod
    def get_listed(self, key: str) -> bytes:
        """The bytes of a key as ``list`` gave it, even one that ``get`` refuses (a
        provider's file name with a tab, a leading dot, ...)."""

    @abstractmethod
    def delete_listed(self, key: str) -> None:
        """Remove an object under a key as ``list`` gave it."""

    def open(self, key: str) -> IO[bytes]:
        """A binary file object over the object, to read a chunk at a time and close;
        ObjectNotFound when there is none."""
        check_key(key)
        return self.open_listed(key)

    def open_listed(self, key: str) -> IO[bytes]:
        """A binary file object over the object of a key as ``list`` gave it, to read a
        chunk at a time and close; ObjectNotFound when there is none. (This default reads
        the object whole: the stores below stream.)"""
        return io.BytesIO(self.get_listed(key))

    def put_stream(self, key: str, source: IO[bytes]) -> None:
        """``put`` the rest of a binary file object, as atomically. (This default reads it
        whole: the stores below stream.)"""
        self.put(key, source.read())

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is not an error."""

    @abstractmethod
    def copy(self, src_key: str, dst_key: str) -> None:
        """Copy an object (ObjectNotFound if ``src_key`` has none); replaces ``dst_key``."""

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where the object is, for reports: ``file:///...`` or ``s3://bucket/key``."""

    def sha256(self, key: str) -> str:
        """Hex SHA-256 of the object's bytes."""
        return hashlib.sha256(self.get(key)).hexdigest()

    def presigned_url(self, key: str, expires_s: int, content_type: str | None = None
                      ) -> str | None:
        """A URL that reads the object without credentials until ``expires_s`` seconds from
        now (served as ``content_type``), or None where the store has none (a folder)."""
        check_key(key)
        return None


# --- local folder -----------------------------------------------------------------------


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root``: key ``a/b/c`` is ``root/a/b/c``.

    Writes go to a temporary file named ``.put-*.tmp`` in the target folder, are flushed
    to disk and renamed over the target. Those are never listed, so an interrupted write is
    invisible; any other file is, dot-named or not. A key cannot also be the folder of
    other keys (S3 allows that; the key layout never needs it).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        check_key(key)
        path = self.root.joinpath(*key.split("/")).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidKey("key resolves outside the store's root", key=key)
        return path

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            if action != "write":
                raise ObjectNotFound(f"no object under key {shown_key(key)!r}",
                                     key=key) from None
            raise StorageError(f"local write of key {shown_key(key)!r} failed:"
                               f" {type(exc).__name__}", key=key) from exc
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise StorageError(f"local {action} of key {shown_key(key)!r} failed: {reason}",
                               key=key) from exc

    def _write_atomic(self, key: str, write: Callable[[IO[bytes]], object]) -> None:
        path = self._path(key)
        with self._errors("write", key):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    write(out)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def put(self, key: str, data: bytes) -> None:
        self._write_atomic(key, lambda out: out.write(data))

    def get(self, key: str) -> bytes:
        path = self._path(key)
        with self._errors("read", key):
            return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        base = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not base.resolve().is_relative_to(self.root):
            raise InvalidKey("prefix resolves outside the store's root", key=prefix)
        keys = []
        for dirpath, _, filenames in os.walk(base):
            for name in filenames:
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if not _TEMPORARY.fullmatch(name) and key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def _listed_path(self, key: str) -> Path:
        segments = key.split("/") if isinstance(key, str) else [""]
        path = self.root.joinpath(*segments)
        if any(s in ("", ".", "..") for s in segments) or not path.resolve().is_relative_to(
                self.root):
            raise InvalidKey("key is not one this store lists", key=key)
        return path

    def get_listed(self, key: str) -> bytes:
        path = self._listed_path(key)
        with self._errors("read", key):
            return path.read_bytes()

    def open_listed(self, key: str) -> IO[bytes]:
        path = self._listed_path(key)
        with self._errors("read", key):
            return path.open("rb")

    def put_stream(self, key: str, source: IO[bytes]) -> None:
        self._write_atomic(key, lambda out: shutil.copyfileobj(source, out, STREAM_CHUNK))

    def delete_listed(self, key: str) -> None:
        path = self._listed_path(key)
        with suppress(ObjectNotFound), self._errors("delete", key):
            path.unlink()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with suppress(ObjectNotFound), self._errors("delete", key):
            path.unlink()

    def copy(self, src_key: str, dst_key: str) -> None:
        src = self._path(src_key)
        self._path(dst_key)
        with self._errors("copy", src_key), src.open("rb") as source:
            self._write_atomic(dst_key, lambda out: shutil.copyfileobj(source, out))

    def size(self, key: str) -> int:
        path = self._path(key)
        with self._errors("stat", key):
            if not path.is_file():
                raise FileNotFoundError
            return path.stat().st_size

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


# --- S3 ---------------------------------------------------------------------------------

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_TRANSIENT_CODES = frozenset({
    "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling",
    "ThrottlingException", "RequestThrottled", "TooManyRequestsException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "OperationAborted",
})
SSE_MODES = ("AES256", "aws:kms")
MAX_PRESIGNED_S = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live

# One boto3 session for the process: building a client from a fresh session reloads the
# service model (~0.4 s); from a warm one it takes ~20 ms. Sessions are not thread-safe, so
# clients are made under a lock; the clients themselves are.
_boto_lock = threading.Lock()
_boto_session: Any = None


def _s3_client(**kwargs: Any) -> Any:
    global _boto_session
    import boto3

    with _boto_lock:
        if _boto_session is None:
            _boto_session = boto3.session.Session()
        return _boto_session.client("s3", **kwargs)


class S3ObjectStore(ObjectStore):
    """Objects in an S3 bucket, through boto3 (AWS S3 or an S3-compatible server).

    Credentials come from boto3's usual chain (environment, profile, instance role).
    botocore retries transient faults itself (standard mode, ``max_attempts`` tries in all);
    what still fails after that is a :class:`TransientStorageError` for the caller to retry
    later. ``server_side_encryption`` (``"AES256"`` or ``"aws:kms"``, with an optional
    ``kms_key_id``) is requested on every write, copies included; with ``aws:kms``,
    ``tenant_kms_key_ids`` (tenant -> key id) encrypts each tenant's objects (the key's
    first segment) under the tenant's own key. With ``endpoint_url``
    (an S3-compatible server) requests use path-style addressing and send checksums only
    where the API requires them, which such servers accept. A copy is one ``CopyObject``
    call, so objects are at most 5 GB.
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, server_side_encryption: str | None = None,
                 kms_key_id: str | None = None,
                 tenant_kms_key_ids: Mapping[str, str] | None = None, client: Any = None,
                 create_bucket: bool = False, max_attempts: int = 4,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0) -> None:
        if not bucket:
            raise StorageError("an S3 store needs a bucket name")
        if server_side_encryption not in (None, *SSE_MODES):
            raise StorageError(f"server-side encryption must be one of {', '.join(SSE_MODES)}")
        if (kms_key_id or tenant_kms_key_ids) and server_side_encryption != "aws:kms":
            raise StorageError("a KMS key id needs server-side encryption 'aws:kms'")
        self._tenant_kms = dict(tenant_kms_key_ids or {})
        self.bucket = bucket
        self._sse: dict[str, str] = {}
        if server_side_encryption:
            self._sse["ServerSideEncryption"] = server_side_encryption
        if kms_key_id:
            self._sse["SSEKMSKeyId"] = kms_key_id
        self._client = client if client is not None else self._make_client(
            endpoint_url, region, max_attempts, connect_timeout, read_timeout)
        self._region = region
        if create_bucket:
            self._create_bucket()

    @staticmethod
    def _make_client(endpoint_url: str | None, region: str | None, max_attempts: int,
                     connect_timeout: float, read_timeout: float) -> Any:
        from botocore.config import Config

        options: dict[str, Any] = {
            "retries": {"mode": "standard", "total_max_attempts": max_attempts},
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "signature_version": "s3v4",  # presigned URLs too (botocore presigns SigV2 else)
        }
        if endpoint_url:
            options.update(s3={"addressing_style": "path"},
                           request_checksum_calculation="when_required",
                           response_checksum_validation="when_required")
        return _s3_client(endpoint_url=endpoint_url or None, region_name=region or None,
                          config=Config(**options))

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.bucket!r})"

    def _create_bucket(self) -> None:
        from botocore.exceptions import ClientError

        args: dict[str, Any] = {"Bucket": self.bucket}
        if self._region and self._region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        with self._errors("create bucket", ""):
            try:
                self._client.create_bucket(**args)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ChecksumError,
            ClientError,
            HTTPClientError,
            IncompleteReadError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        shown = f" of key {shown_key(key)!r}" if key else ""
        where = f"S3 {action}{shown} in bucket {self.bucket!r}"
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in _NOT_FOUND_CODES:
                raise ObjectNotFound(f"{where}: no such object", key=key) from exc
            error = (TransientStorageError
                     if code in _TRANSIENT_CODES or status == 429 or status >= 500
                     else StorageError)
            raise error(f"{where} failed: {code or 'error'} (HTTP {status})", key=key) from exc
        except (HTTPClientError, BotoConnectionError, IncompleteReadError, ChecksumError) as exc:
            raise TransientStorageError(f"{where} failed: {type(exc).__name__}",
                                        key=key) from exc
        except BotoCoreError as exc:
            raise StorageError(f"{where} failed: {type(exc).__name__}", key=key) from exc

    def put(self, key: str, data: bytes) -> None:
        check_key(key)
        with self._errors("put", key):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                    **self._sse_for(key))

    def _sse_for(self, key: str) -> dict[str, str]:
        """The encryption asked for writing ``key``: its tenant's KMS key if it has one."""
        tenant_key = self._tenant_kms.get(key.split("/", 1)[0])
        return {**self._sse, "SSEKMSKeyId": tenant_key} if tenant_key else self._sse

    def get(self, key: str) -> bytes:
        check_key(key)
        return self.get_listed(key)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        keys: list[str] = []
        with self._errors("list", prefix):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                keys.extend(item["Key"] for item in page.get("Contents", ()))
        return sorted(keys)

    def delete(self, key: str) -> None:
        check_key(key)
        self.delete_listed(key)

    def get_listed(self, key: str) -> bytes:
        if not isinstance(key, str) or not key:
            raise InvalidKey("key is empty")
        with self._errors("get", key):
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def open_listed(self, key: str) -> IO[bytes]:
        if not isinstance(key, str) or not key:
            raise InvalidKey("key is empty")
        with self._errors("get", key):
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return io.BufferedReader(_S3Body(self, key, body), STREAM_CHUNK)

    def put_stream(self, key: str, source: IO[bytes]) -> None:
        """One PutObject whose body botocore reads from ``source`` a chunk at a time (so
        an object is at most 5 GB, as for ``copy``)."""
        check_key(key)
        with self._errors("put", key):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=source, **self._sse)

    def delete_listed(self, key: str) -> None:
        if not isinstance(key, str) or not key:
            raise InvalidKey("key is empty")
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def copy(self, src_key: str, dst_key: str) -> None:
        check_key(src_key)
        check_key(dst_key)
        with self._errors("copy", src_key):
            self._client.copy_object(Bucket=self.bucket, Key=dst_key,
                                     CopySource={"Bucket": self.bucket, "Key": src_key},
                                     **self._sse_for(dst_key))

    def size(self, key: str) -> int:
        check_key(key)
        with self._errors("head", key):
            return int(self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def uri(self, key: str) -> str:
        check_key(key)
        return f"s3://{self.bucket}/{key}"

    def presigned_url(self, key: str, expires_s: int, content_type: str | None = None
                      ) -> str:
        """A SigV4 presigned GetObject URL (signed locally: no request is made). It stops
        working at ``expires_s`` (1 s to 7 days) or when the signing credentials do."""
        check_key(key)
        if not 1 <= expires_s <= MAX_PRESIGNED_S:
            raise StorageError(f"a presigned URL lives 1 to {MAX_PRESIGNED_S} seconds", key=key)
        params = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        with self._errors("presign", key):
            return str(self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_s))


class _S3Body(io.RawIOBase):
    """An S3 object's streaming body whose read faults are the store's typed errors."""

    def __init__(self, store: S3ObjectStore, key: str, body: Any) -> None:
        self._store, self._key, self._body = store, key, body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._store._errors("get", self._key):
            data = self._body.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def store_from_settings(settings: Settings | None = None) -> ObjectStore:
    """The store the settings choose: a folder (default ``<home>/store``) or an S3 bucket."""
    if settings is None:
        from revcycle.settings import get_settings

        settings = get_settings()
    if settings.store == "s3":
        if not settings.s3_bucket:
            raise StorageError("REVCYCLE_STORE=s3 needs REVCYCLE_S3_BUCKET")
        return S3ObjectStore(
            settings.s3_bucket, endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None, server_side_encryption=settings.s3_sse or None,
            kms_key_id=settings.s3_kms_key_id or None,
            tenant_kms_key_ids=settings.s3_tenant_kms_keys,
            create_bucket=settings.s3_create_bucket,
            max_attempts=settings.s3_max_attempts)
    return LocalObjectStore(Path(settings.store_root) if settings.store_root
                            else settings.home / "store")
