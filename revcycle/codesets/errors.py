"""Typed errors for code and identifier validation.

The message says what is wrong with a value, never what the value is: a member id or
a tax id is sensitive, and these messages end up in logs and work queues.
"""

from __future__ import annotations


class InvalidCode(ValueError):
    """Base class: the value is not a valid code or identifier."""

    message = "The code is not valid."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class InvalidFormat(InvalidCode):
    """The value has characters or a shape that the standard does not allow."""

    message = "The code has an invalid format."


class InvalidChecksum(InvalidCode):
    """The value's check digit does not match the rest of it."""

    message = "The code's checksum or check digit is invalid."


class InvalidLength(InvalidCode):
    """The value has the wrong number of characters."""

    message = "The code has an invalid length."


class InvalidComponent(InvalidCode):
    """A part of the value (a prefix, a range) is not one the standard assigns."""

    message = "One of the parts of the code is invalid or unknown."
