"""Where channel secrets come from: never the payer module's source.

A channel option ending in ``_secret`` names a secret. ``environment_secrets`` reads it
from ``REVCYCLE_SECRET_<NAME>`` (the name upper-cased, anything not a letter or digit
turned into ``_``); the tasks layer adds Prefect Secret blocks behind it. A missing secret
is a ``SecretMissing`` naming the secret, never a value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from revcycle.channels.errors import SecretMissing

SecretLookup = Callable[[str], str | None]  # a secret's value by name, or None


def environment_variable(name: str) -> str:
    return "REVCYCLE_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def environment_secrets(name: str) -> str | None:
    return os.environ.get(environment_variable(name))


class Secrets:
    """Looks a secret up in each source in turn."""

    def __init__(self, sources: Sequence[SecretLookup] = (environment_secrets,)) -> None:
        self.sources = tuple(sources)

    def get(self, name: str) -> str | None:
        for source in self.sources:
            value = source(name)
            if value:
                return value
        return None

    def require(self, name: str, payer_id: str, channel: str) -> str:
        """The secret's value, or ``SecretMissing`` naming it and where it is looked for."""
        value = self.get(name)
        if not value:
            raise SecretMissing(payer_id, channel,
                                f"secret {name!r} is not set (environment variable"
                                f" {environment_variable(name)} or a Secret block)")
        return value
