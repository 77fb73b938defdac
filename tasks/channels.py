"""Payer channels as the tasks build them: secrets from the environment first, then from
Prefect Secret blocks (a team's server keeps them; ``prefect block create secret``)."""

from __future__ import annotations

import dataclasses

from revcycle.channels import ChannelSpec, PayerRoute, Secrets, route_for
from revcycle.channels.secrets import environment_secrets
from revcycle.payers import PayerDefinition
from revcycle.settings import PayerWorldAddress, get_settings
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
    return route_for(in_payer_world(payer, get_settings().payer_world), store,
                     channel_secrets())


def in_payer_world(payer: PayerDefinition,
                   world: PayerWorldAddress | None) -> PayerDefinition:
    """The payer as a payer world serves it: a payer whose only channel is the simulator
    gets the world's SFTP server instead (user: its payer id lower-cased), so its answers
    come days and weeks later, as a real payer's do. Any other payer, or no world: as is."""
    if world is None or not payer.simulated:
        return payer
    sftp = ChannelSpec("sftp", {"host": world.host, "port": world.port,
                                "user": payer.payer_id.lower(), "host_key": world.host_key,
                                "password_secret": world.password_secret, "retries": 2,
                                "retry_delay_s": 0.5, "connect_timeout_s": 10.0},
                       label="payer-world")
    return dataclasses.replace(payer, channels=(sftp,))
