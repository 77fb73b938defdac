"""Payer channels: how a submission file reaches a payer, and its answers come back.

One module per kind of channel (``simulator``, ``sftp``, ``https``), one small interface
(``base.PayerChannel``); a payer's channels in priority order make its ``PayerRoute``
(retries, failover and the exactly-once check). ``route_for`` builds a payer's route from
its module's channel list. The network libraries are imported only when a channel of
their kind is built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from revcycle.channels.base import Delivery, PayerChannel, Receipt
from revcycle.channels.errors import ChannelError
from revcycle.channels.options import (
    ChannelSpec,
    CommonOptions,
    HttpsOptions,
    SftpOptions,
    SimulatorOptions,
    parse_options,
)
from revcycle.channels.route import Leg, PayerRoute, RetryPolicy
from revcycle.channels.secrets import Secrets

if TYPE_CHECKING:  # (revcycle.payers imports this package's options)
    from revcycle.payers import PayerDefinition
    from revcycle.storage import ObjectStore

__all__ = ["ChannelError", "ChannelSpec", "Delivery", "PayerChannel", "PayerRoute",
           "Receipt", "RetryPolicy", "Secrets", "build_channel", "route_for"]


def build_channel(payer: PayerDefinition, spec: ChannelSpec, store: ObjectStore,
                  secrets: Secrets | None = None) -> PayerChannel:
    """One channel of a payer from its spec."""
    return _channel(payer, spec.name, parse_options(spec), store, secrets or Secrets())


def route_for(payer: PayerDefinition, store: ObjectStore, secrets: Secrets | None = None,
              sleep: Callable[[float], None] = time.sleep) -> PayerRoute:
    """The payer's channels in its module's order, each with its retry policy."""
    legs = []
    for spec in payer.channels:
        options = parse_options(spec)
        legs.append(Leg(_channel(payer, spec.name, options, store, secrets or Secrets()),
                        RetryPolicy(options.retries, options.retry_delay_s,
                                    options.max_retry_delay_s)))
    return PayerRoute(payer.payer_id, legs, sleep)


def _channel(payer: PayerDefinition, label: str, options: CommonOptions, store: ObjectStore,
             secrets: Secrets) -> PayerChannel:
    if isinstance(options, SimulatorOptions):
        from revcycle.channels.simulator import SimulatorChannel

        return SimulatorChannel(store, payer, seed=options.seed)
    if isinstance(options, SftpOptions):
        from revcycle.channels.sftp import SftpChannel

        return SftpChannel(payer.payer_id, label, options, secrets)
    assert isinstance(options, HttpsOptions)
    from revcycle.channels.https import HttpsChannel

    return HttpsChannel(payer.payer_id, label, options, secrets)
