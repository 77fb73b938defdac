"""A claim (:class:`revcycle.model.claim.Claim`) as JSON and back, without loss; a typed
change at a field path; and the field-level diff of two versions.

The JSON is driven by the dataclasses' own type hints, so a field added to the model is
carried without a change here: ``Decimal`` as a string (exact), ``date`` as ISO text,
tuples as lists, a nested dataclass as an object, ``None`` as null. Decoding checks each
value against the field's type, so a stored version that no longer fits the model fails
loudly rather than yielding a claim with a wrong type inside.

Field paths name a field the way a biller reads the claim: ``subscriber.member_id``,
``payer.payer_id``, ``service_lines[2].procedure_code``. A list index is the line number
(``service_lines[1]`` is the first line, LX*1), not a zero-based offset. Errors and diffs
name paths and kinds of change, never values: values are PHI and stay in the database.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any

from revcycle.model.claim import Claim

_STEP = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?:\[(?P<index>\d+)\])?$")


class ContentError(ValueError):
    """A stored or supplied value that does not fit the claim model. The message names
    the field path and the type expected, never the value."""


class PathError(ContentError):
    """A field path that does not exist on the claim."""


# --- to and from JSON -----------------------------------------------------------------------

def to_json(value: Any) -> Any:
    """``value`` (a claim, or any part of one) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    raise ContentError(f"a {type(value).__name__} cannot be stored in a claim version")


def claim_to_json(claim: Claim) -> dict[str, Any]:
    return to_json(claim)


def claim_from_json(data: dict[str, Any]) -> Claim:
    return from_json(Claim, data, "")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(kind: Any, data: Any, path: str) -> Any:
    """``data`` decoded as a value of type ``kind``; ``path`` names it in errors."""
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return from_json(inner, data, path)
    if origin is tuple:
        item, *rest = typing.get_args(kind)
        _expect(isinstance(data, list | tuple), path, "a list")
        if rest == [Ellipsis]:
            return tuple(from_json(item, v, f"{path}[{n}]") for n, v in enumerate(data, 1))
        return tuple(from_json(t, v, path) for t, v in zip(typing.get_args(kind), data,
                                                          strict=True))
    if origin is list:
        (item,) = typing.get_args(kind)
        _expect(isinstance(data, list), path, "a list")
        return [from_json(item, v, f"{path}[{n}]") for n, v in enumerate(data, 1)]
    if dataclasses.is_dataclass(kind):
        _expect(isinstance(data, dict), path, "an object")
        hints = _hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise PathError(f"{_join(path, unknown[0])}: no such field")
        missing = [f.name for f in dataclasses.fields(kind) if f.name not in data
                   and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise ContentError(f"{_join(path, missing[0])}: missing (the field is required)")
        return kind(**{name: from_json(hints[name], value, _join(path, name))
                       for name, value in data.items()})
    return _scalar(kind, data, path)


def _scalar(kind: Any, data: Any, path: str) -> Any:
    if kind is bool:
        _expect(isinstance(data, bool), path, "true or false")
        return data
    if kind is int:
        _expect(isinstance(data, int) and not isinstance(data, bool), path, "a whole number")
        return data
    if kind is str:
        _expect(isinstance(data, str), path, "text")
        return data
    if kind is Decimal:
        _expect(isinstance(data, str | int) and not isinstance(data, bool), path,
                "an amount such as 125.00")
        try:
            found = Decimal(str(data))
        except InvalidOperation:
            raise ContentError(f"{path}: expected an amount such as 125.00") from None
        _expect(found.is_finite(), path, "an amount such as 125.00")
        return found
    if kind is date:
        _expect(isinstance(data, str), path, "a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(data)
        except ValueError:
            raise ContentError(f"{path}: expected a date as YYYY-MM-DD") from None
    if isinstance(kind, type) and issubclass(kind, Enum):
        allowed = [m.value for m in kind]
        _expect(data in allowed, path, f"one of {', '.join(allowed)}")
        return kind(data)
    raise ContentError(f"{path}: the claim model has a field of a kind not stored ({kind})")


def _expect(ok: bool, path: str, what: str) -> None:
    if not ok:
        raise ContentError(f"{path or 'the claim'}: expected {what}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- changing a field -----------------------------------------------------------------------

def parse_text(kind: Any, text: str, path: str) -> Any:
    """A value typed on the command line (``--set PATH=TEXT``) as JSON data of ``kind``:
    amounts and dates as written, whole numbers and true/false parsed, a list as
    comma-separated items (``diagnoses=E119,I10``), an empty text as null where allowed."""
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        if text == "" and type(None) in typing.get_args(kind):
            return None
        (inner,) = [o for o in typing.get_args(kind) if o is not type(None)]
        return parse_text(inner, text, path)
    if origin is tuple and typing.get_args(kind)[1:] == (Ellipsis,):
        item = typing.get_args(kind)[0]
        if typing.get_origin(item) is not None:
            raise ContentError(f"{path}: set it with --patch (a JSON list), not as text")
        return [parse_text(item, part.strip(), path) for part in text.split(",")
                if part.strip()]
    if kind is int:
        if not re.fullmatch(r"-?\d+", text):
            raise ContentError(f"{path}: expected a whole number")
        return int(text)
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise ContentError(f"{path}: expected true or false")
        return text.lower() == "true"
    if dataclasses.is_dataclass(kind) or origin is list:
        raise ContentError(f"{path}: a group of fields; set its fields one by one, or use"
                           " --patch")
    return text


def field_type(path: str) -> Any:
    """The type of the field at ``path`` (raises ``PathError``)."""
    kind: Any = Claim
    for step in _steps(path):
        kind = _unwrap(kind)
        if not dataclasses.is_dataclass(kind) or step[0] not in _hints(kind):
            raise PathError(f"{path}: no such field")
        kind = _hints(kind)[step[0]]
        if step[1] is not None:
            kind = _unwrap(kind)
            origin = typing.get_origin(kind)
            if origin not in (list, tuple):
                raise PathError(f"{path}: {step[0]} is not a list")
            kind = typing.get_args(kind)[0]
    return kind


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the field at ``path`` in a claim's JSON data to ``value`` (JSON data, checked
    later by decoding the whole claim). A missing group (no patient, no line 4) is a
    ``PathError``: a correction changes fields, it does not invent loops."""
    field_type(path)
    steps = _steps(path)
    target: Any = data
    walked = ""
    for n, (name, index) in enumerate(steps):
        last = n == len(steps) - 1
        walked = _join(walked, name)
        if index is None:
            if last:
                target[name] = value
                return
            target = target[name]
        else:
            items = target[name]
            walked += f"[{index}]"
            if items is None or not 1 <= index <= len(items):
                raise PathError(f"{walked}: the claim has no such item")
            if last:
                items[index - 1] = value
                return
            target = items[index - 1]
        if target is None:
            raise PathError(f"{walked}: the claim has none (a correction changes fields;"
                            " it does not add a loop)")


def _steps(path: str) -> list[tuple[str, int | None]]:
    steps = []
    for part in path.split("."):
        found = _STEP.match(part)
        if found is None:
            raise PathError(f"{path}: not a field path (e.g. subscriber.member_id,"
                            " service_lines[1].procedure_code)")
        index = found["index"]
        steps.append((found["name"], int(index) if index is not None else None))
    return steps


def _unwrap(kind: Any) -> Any:
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        (inner,) = [o for o in typing.get_args(kind) if o is not type(None)]
        return inner
    return kind


# --- diff -----------------------------------------------------------------------------------

def diff(old: Any, new: Any, path: str = "") -> list[dict[str, str]]:
    """The fields that differ between two claims' JSON data: ``{"path", "change"}`` with
    change ``changed``, ``added`` or ``removed``; never the values. Lists of objects (the
    service lines) are compared item by item; lists of text (diagnoses, modifiers, raw
    segments) as one field."""
    if old == new:
        return []
    if old is None:
        return [{"path": path, "change": "added"}]
    if new is None:
        return [{"path": path, "change": "removed"}]
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for name in [*old, *(k for k in new if k not in old)]:
            found += diff(old.get(name), new.get(name), _join(path, name))
        return found
    if (isinstance(old, list) and isinstance(new, list)
            and any(isinstance(v, dict) for v in [*old, *new])):
        found = []
        for n in range(max(len(old), len(new))):
            before = old[n] if n < len(old) else None
            after = new[n] if n < len(new) else None
            found += diff(before, after, f"{path}[{n + 1}]")
        return found
    return [{"path": path, "change": "changed"}]
