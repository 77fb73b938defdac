"""The channels a payer module may list, and the options each takes.

A payer module names its channels in priority order (``PayerDefinition.channels``), each a
``ChannelSpec(kind, options)``. The options are checked when the module loads: an unknown
kind, an unknown option (a typo), a missing one or a value of the wrong type is an error
naming the field, and disables that payer only. Secrets are never options: an option
ending in ``_secret`` holds the *name* of a secret (an environment variable
``REVCYCLE_SECRET_<NAME>`` or a Prefect Secret block), resolved when the channel connects.
This module imports no network library: loading payer modules stays cheap.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from revcycle.channels.base import DEFAULT_NAME_PATTERN, pattern_problem

OptionValue = str | int | float | bool


@dataclass(frozen=True)
class ChannelSpec:
    """One entry of a payer's channel list: its kind and options."""

    kind: str
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    label: str = ""  # how logs and receipts name it; default: the kind

    @property
    def name(self) -> str:
        return self.label or self.kind


@dataclass(frozen=True)
class CommonOptions:
    retries: int = 3  # transient failures retried on this channel before the next one
    retry_delay_s: float = 2.0  # first backoff; doubled each time, with jitter
    max_retry_delay_s: float = 60.0
    connect_timeout_s: float = 15.0
    timeout_s: float = 60.0  # one operation (an upload, a request)

    def problems(self) -> list[str]:
        bad = [name for name in ("retry_delay_s", "max_retry_delay_s", "connect_timeout_s",
                                 "timeout_s") if getattr(self, name) < 0]
        if self.retries < 0:
            bad.append("retries")
        return [f"{name} must not be negative" for name in bad]


@dataclass(frozen=True)
class SimulatorOptions(CommonOptions):
    seed: int = 0


@dataclass(frozen=True)
class SftpOptions(CommonOptions):
    host: str = ""
    user: str = ""
    port: int = 22
    # Exactly one way to log in: a key file on this machine, a private key held as a
    # secret, or a password held as a secret.
    key_file: str = ""
    key_secret: str = ""
    password_secret: str = ""
    # The server's host key must be known: a known_hosts file, or the key itself
    # ("ssh-ed25519 AAAA..."). There is no option to turn checking off.
    known_hosts: str = ""
    host_key: str = ""
    upload_dir: str = "inbound"  # where the partner picks up our files
    # Where the partner moves a file it has picked up, if it does: ``delivered`` looks
    # there too. (A partner that deletes picked-up files cannot be asked; its 999 is then
    # the proof.)
    processed_dir: str = ""
    download_dir: str = "outbound"  # where the partner leaves its answers
    archive_dir: str = ""  # acknowledge=archive moves collected files here
    acknowledge: Literal["delete", "archive"] = "delete"
    name_pattern: str = DEFAULT_NAME_PATTERN
    temp_suffix: str = ".part"  # an upload's name until its rename; partners skip it

    def problems(self) -> list[str]:
        found = super().problems()
        found += [f"{name} is required" for name in ("host", "user")
                  if not getattr(self, name)]
        logins = [n for n in ("key_file", "key_secret", "password_secret") if getattr(self, n)]
        if len(logins) != 1:
            found.append("give exactly one of key_file, key_secret, password_secret")
        if not (self.known_hosts or self.host_key):
            found.append("known_hosts or host_key is required (host keys are always checked)")
        if self.acknowledge == "archive" and not self.archive_dir:
            found.append("archive_dir is required with acknowledge='archive'")
        if not self.temp_suffix:
            found.append("temp_suffix must not be empty (uploads are renamed when whole)")
        problem = pattern_problem(self.name_pattern)
        if problem:
            found.append(f"name_pattern {problem}")
        return found


@dataclass(frozen=True)
class HttpsOptions(CommonOptions):
    base_url: str = ""
    submit_path: str = "/claims"  # POST the file here
    status_path: str = "/claims/{key}"  # GET: 200 when the partner has the key, 404 if not
    answers_path: str = "/answers"  # GET: the list of answers waiting
    answer_path: str = "/answers/{id}"  # GET one answer's bytes; DELETE acknowledges it
    body: Literal["x12", "json"] = "x12"  # raw X12, or {"fileName", "x12"} JSON
    auth: Literal["bearer", "api-key", "none"] = "bearer"
    token_secret: str = ""  # the bearer token or API key, by secret name
    api_key_header: str = "X-API-Key"
    idempotency_header: str = "Idempotency-Key"
    name_pattern: str = DEFAULT_NAME_PATTERN
    ca_file: str = ""  # the partner's CA bundle; empty: the system's trust store
    client_cert: str = ""  # PEM files of our client certificate, when the partner asks
    client_key: str = ""

    def problems(self) -> list[str]:
        found = super().problems()
        if not self.base_url:
            found.append("base_url is required")
        elif not self.base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            found.append("base_url must be https:// (plain http only to this machine)")
        if self.auth != "none" and not self.token_secret:
            found.append(f"token_secret is required with auth={self.auth!r}")
        if bool(self.client_cert) != bool(self.client_key):
            found.append("client_cert and client_key go together")
        for name in ("status_path", "answer_path"):
            placeholder = "{key}" if name == "status_path" else "{id}"
            if placeholder not in getattr(self, name):
                found.append(f"{name} must contain {placeholder}")
        problem = pattern_problem(self.name_pattern)
        if problem:
            found.append(f"name_pattern {problem}")
        return found


CHANNEL_KINDS: dict[str, type[CommonOptions]] = {
    "simulator": SimulatorOptions, "sftp": SftpOptions, "https": HttpsOptions}


class ChannelOptionsError(ValueError):
    """A channel entry that cannot be used; the message names the field."""


def parse_options(spec: ChannelSpec, where: str = "channels") -> CommonOptions:
    """The spec's options, typed and checked; ``where`` prefixes the field names."""
    kind = CHANNEL_KINDS.get(spec.kind)
    if kind is None:
        raise ChannelOptionsError(f"field {where}.kind: unknown channel {spec.kind!r}"
                                  f" (known: {', '.join(sorted(CHANNEL_KINDS))})")
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(spec.options) - set(fields))
    if unknown:
        raise ChannelOptionsError(f"field {where}.options: {spec.kind} has no option"
                                  f" {unknown[0]!r}")
    hints = typing.get_type_hints(kind)
    values = {name: _typed(name, value, hints[name], where)
              for name, value in spec.options.items()}
    options = kind(**values)
    problems = options.problems()
    if problems:
        raise ChannelOptionsError(f"field {where}.options: {spec.kind} {problems[0]}")
    return options


def _typed(name: str, value: Any, hint: Any, where: str) -> Any:
    expected = hint
    if typing.get_origin(hint) is Literal:
        if value not in typing.get_args(hint):
            raise ChannelOptionsError(f"field {where}.options.{name}: must be one of"
                                      f" {list(typing.get_args(hint))}")
        return value
    if isinstance(hint, types.UnionType):
        expected = typing.get_args(hint)[0]
    ok = ((isinstance(value, expected) and not (expected is int and isinstance(value, bool)))
          or (expected is float and isinstance(value, int) and not isinstance(value, bool)))
    if not ok:
        raise ChannelOptionsError(f"field {where}.options.{name}: must be"
                                  f" {expected.__name__}, not {type(value).__name__}")
    return float(value) if expected is float else value
