"""Channel errors. Each message names the payer, the channel and what went wrong (the kind
of network error, the HTTP status), never a file's content nor a server's reply body.

``transient`` says a retry may succeed; ``maybe_delivered`` that the partner may have the
file despite the error (the connection broke after the upload's last step was sent), so
the next attempt asks ``delivered`` first and the payer's next channel is not used until
this one says it does not have the file.
"""

from __future__ import annotations


class ChannelError(Exception):
    transient = False

    def __init__(self, payer_id: str, channel: str, what: str, *,
                 maybe_delivered: bool = False, retry_after: float | None = None) -> None:
        super().__init__(f"payer {payer_id}, channel {channel}: {what}")
        self.payer_id = payer_id
        self.channel = channel
        self.maybe_delivered = maybe_delivered
        self.retry_after = retry_after  # seconds the server asked us to wait (429, 503)


class TransientChannelError(ChannelError):
    """Connection refused or reset, a timeout, a 5xx, 408 or 429: worth a retry."""

    transient = True


class PermanentChannelError(ChannelError):
    """A 4xx other than 408/429, a refused login, a bad option: a person must act."""


class AuthenticationFailed(PermanentChannelError):
    """The partner refused our credentials."""


class HostKeyMismatch(PermanentChannelError):
    """The SFTP server's host key is not the one we know: maybe not the partner at all.
    Never retried, never failed over: nothing is sent until a person checks."""


class SecretMissing(PermanentChannelError):
    """A secret a channel option names is in neither the environment nor a Secret block."""


class ChannelUnavailable(TransientChannelError):
    """Every channel of the payer failed past its retries, and none has the file: the
    submission waits and the next run sends it."""


class DeliveryOutcomeUnknown(TransientChannelError):
    """A channel may have the file but cannot be asked: nothing is sent anywhere else
    until it answers (a later retry asks again)."""
