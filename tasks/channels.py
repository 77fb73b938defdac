"""Payer channels as the tasks build them: secrets from the environment first, then from
Prefect Secret blocks (a team's server keeps them; ``prefect block create secret``)."""

from __future__ import annotations

from revcycle.channels import PayerRoute, Secrets, route_for
from revcycle.channels.secrets import environment_secrets
from revcycle.payers import PayerDefinition
from revcycle.storage import ObjectStore


def secret_block(name: str) -> str | None:
    """A Prefect Secret block's value, or None when there is no block of that name."""
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()
    except ValueError:  # no block of that name
        return None
    return value if isinstance(value, str) else None


def channel_secrets() -> Secrets:
    return Secrets([environment_secrets, secret_block])


def payer_route(payer: PayerDefinition, store: ObjectStore) -> PayerRoute:
    return route_for(payer, store, channel_secrets())
