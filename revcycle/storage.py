"""The object store: where every file of the pipeline is staged.

Two implementations share one interface, :class:`ObjectStore`: :class:`LocalObjectStore`
(a folder, the default) and :class:`S3ObjectStore` (boto3; AWS S3 or any S3-compatible
server). :func:`store_from_settings` picks one from the ``REVCYCLE_*`` settings.

Keys follow ``<tenant>/<zone>/<yyyy-mm-dd>/<batch>/<file>`` and are built by
:func:`object_key` only; a file name that comes from outside goes through
:func:`safe_name` (or is refused by :func:`object_key`) before it becomes part of a key.

Errors are typed: :class:`ObjectNotFound`, :class:`InvalidKey`, and
:class:`TransientStorageError` for faults worth retrying (network, timeouts, throttling,
5xx). Their messages name the key, never an object's content.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from revcycle.settings import Settings

Zone = Literal["landing", "raw", "quarantine", "outbound", "inbound", "archive", "reports"]
ZONES: tuple[str, ...] = get_args(Zone)

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_CHARS = 200
_TEMPORARY = re.compile(r"\.put-.*\.tmp", re.DOTALL)  # LocalObjectStore's unfinished writes
_MAX_NAME_BYTES = 255  # what most file systems allow for one path component
_MAX_KEY_BYTES = 1024  # S3's limit


def shown_key(key: str) -> str:
    """A key as error messages show it. Below ``<tenant>/landing/`` a provider chose the
    names (a file name may say who the file is about): the date and batch folders are
    shown when they have that form, the rest as one short digest."""
    parts = key.split("/")
    if len(parts) <= 2 or parts[1] != "landing":
        return key
    shown = 2
    for layout in (_DATE, _ID):  # <yyyy-mm-dd>/<batch>/, as the key layout has them
        if shown < len(parts) - 1 and layout.fullmatch(parts[shown]):
            shown += 1
    rest = "/".join(parts[shown:]).encode("utf-8", "surrogateescape")
    return "/".join([*parts[:shown], f"<file {hashlib.sha256(rest).hexdigest()[:12]}>"])


class StorageError(Exception):
    """Base class: an object-store operation failed. ``key`` is the key involved, if any,
    as :func:`shown_key` shows it: the error may be logged, shown or pickled."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = shown_key(key) if isinstance(key, str) else None


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class InvalidKey(StorageError):
    """The key, or a part given to build one, is not acceptable."""


class TransientStorageError(StorageError):
    """A fault that may go away: network, timeout, throttling, server error. Retry it."""


# --- keys -------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class KeyParts:
    tenant: str
    zone: str
    business_date: date
    batch: str
    name: str

    @property
    def key(self) -> str:
        return object_key(self.tenant, self.zone, self.business_date, self.batch, self.name)


def _check_id(value: str, what: str) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidKey(f"{what} must be 1 to 64 letters, digits, '_' or '-'")


def _check_zone(zone: str) -> None:
    if zone not in ZONES:
        raise InvalidKey(f"zone must be one of {', '.join(ZONES)}")


def _check_date(business_date: date) -> None:
    if not isinstance(business_date, date) or isinstance(business_date, datetime):
        raise InvalidKey("business date must be a datetime.date")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def check_name(name: str) -> None:
    """Refuse a file name that could act as a path or hide in a listing.

    The message never repeats the name: it came from outside and may say anything.
    """
    if not isinstance(name, str) or not name:
        raise InvalidKey("file name is empty")
    if len(name) > MAX_NAME_CHARS or len(name.encode()) > _MAX_NAME_BYTES:
        raise InvalidKey(f"file name is longer than {MAX_NAME_CHARS} characters")
    if "/" in name or "\\" in name:
        raise InvalidKey("file name contains a path separator")
    if ".." in name:
        raise InvalidKey("file name contains '..'")
    if name.startswith("."):
        raise InvalidKey("file name starts with a dot")
    if name != name.strip():
        raise InvalidKey("file name starts or ends with white space")
    if _has_control(name):
        raise InvalidKey("file name contains a control or format character")


def safe_name(original: str) -> str:
    """Turn an outside file name into one :func:`object_key` accepts.

    Keeps the last path component, replaces runs of anything but letters, digits, ``.``,
    ``_`` and ``-`` with ``_``, removes leading dots and ``..``, and shortens long names
    keeping their extension. Different names may map to the same safe name.
    """
    base = re.split(r"[/\\]", original)[-1]
    cleaned = re.sub(r"\.{2,}", ".", _UNSAFE.sub("_", base)).lstrip(".")
    if len(cleaned) > MAX_NAME_CHARS:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and stem and len(ext) <= 16:
            cleaned = f"{stem[: MAX_NAME_CHARS - len(ext) - 1]}.{ext}"
        else:
            cleaned = cleaned[:MAX_NAME_CHARS]
    return cleaned or "unnamed"


def object_key(tenant: str, zone: str, business_date: date, batch: str, name: str) -> str:
    """The key of a file: ``<tenant>/<zone>/<yyyy-mm-dd>/<batch>/<name>``, every part checked."""
    _check_id(tenant, "tenant")
    _check_zone(zone)
    _check_date(business_date)
    _check_id(batch, "batch")
    check_name(name)
    return f"{tenant}/{zone}/{business_date.isoformat()}/{batch}/{name}"


def zone_prefix(tenant: str, zone: str, business_date: date | None = None,
                batch: str | None = None) -> str:
    """The prefix to list a tenant's zone, one business date of it, or one batch of that date.

    Always ends with ``/``, so ``acme`` never lists ``acme2``'s objects.
    """
    _check_id(tenant, "tenant")
    _check_zone(zone)
    if business_date is None:
        if batch is not None:
            raise InvalidKey("a batch prefix needs a business date")
        return f"{tenant}/{zone}/"
    _check_date(business_date)
    if batch is None:
        return f"{tenant}/{zone}/{business_date.isoformat()}/"
    _check_id(batch, "batch")
    return f"{tenant}/{zone}/{business_date.isoformat()}/{batch}/"


def parse_key(key: str) -> KeyParts:
    """Split a key built by :func:`object_key` back into its parts; InvalidKey otherwise."""
    parts = key.split("/") if isinstance(key, str) else []
    if len(parts) != 5:
        raise InvalidKey("key does not have the form <tenant>/<zone>/<yyyy-mm-dd>/<batch>/<file>",
                         key=key if isinstance(key, str) else None)
    tenant, zone, day, batch, name = parts
    if not _DATE.fullmatch(day):
        raise InvalidKey("key's date part is not yyyy-mm-dd", key=key)
    try:
        business_date = date.fromisoformat(day)
    except ValueError:
        raise InvalidKey("key's date part is not a calendar date", key=key) from None
    try:
        object_key(tenant, zone, business_date, batch, name)
    except InvalidKey as exc:
        raise InvalidKey(str(exc), key=key) from None
    return KeyParts(tenant, zone, business_date, batch, name)


def check_key(key: str) -> None:
    """What every store asks of any key: relative, ``/``-separated, no empty, dot-led or
    ``..`` segments, no backslash or control characters, at most 1024 bytes."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("key is empty")
    _check_path(key, key.split("/"), "key")


def _check_prefix(prefix: str) -> None:
    """A listing prefix: like a key, but it may be empty or end with ``/`` or a partial
    segment."""
    if not isinstance(prefix, str):
        raise InvalidKey("prefix must be a string")
    segments = prefix.split("/")
    _check_path(prefix, [*segments[:-1], segments[-1] or "x"], "prefix")


def _check_path(text: str, segments: list[str], what: str) -> None:
    if len(text.encode("utf-8", "surrogateescape")) > _MAX_KEY_BYTES:
        raise InvalidKey(f"{what} is longer than {_MAX_KEY_BYTES} bytes", key=text)
    if "\\" in text or _has_control(text):
        raise InvalidKey(f"{what} contains a backslash or a control character", key=text)
    if text and any(not seg or seg.startswith(".") for seg in segments):
        raise InvalidKey(f"{what} is absolute, or has an empty segment or one that starts"
                         " with a dot", key=text)


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
        _check_prefix(prefix)
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
        _check_prefix(prefix)
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
