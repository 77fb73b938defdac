"""Object keys: how every key of the store is built, checked and shown.

Keys follow ``<tenant>/<zone>/<yyyy-mm-dd>/<batch>/<file>`` and are built by
:func:`object_key` only; a file name that comes from outside goes through
:func:`safe_name` (or is refused by :func:`object_key`) before it becomes part of a key.
:func:`shown_key` is how a key appears in messages. :mod:`revcycle.storage` re-exports all
of it; :class:`StorageError` and :class:`InvalidKey` live here because the checks raise them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

Zone = Literal["landing", "raw", "quarantine", "outbound", "inbound", "archive", "reports",
               "mailbox"]
ZONES: tuple[str, ...] = get_args(Zone)

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_CHARS = 200
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


class InvalidKey(StorageError):
    """The key, or a part given to build one, is not acceptable."""


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


def check_prefix(prefix: str) -> None:
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
