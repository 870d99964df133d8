"""The one error family of the identity library (after python-stdnum's ``exceptions.py``).

Messages name the rule that was broken and never echo the identifier itself, so they
are safe to put in an OperationOutcome or a log line.
"""

from __future__ import annotations


class ValidationError(ValueError):
    """A value is not a valid identity of its kind. ``rule`` is a short machine code."""

    rule: str = "format"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidLength(ValidationError):
    """The value has the wrong number of characters."""

    rule = "length"


class InvalidFormat(ValidationError):
    """The value has characters or a shape its kind does not allow."""

    rule = "format"


class InvalidChecksum(ValidationError):
    """The check digit does not match."""

    rule = "checksum"


class InvalidComponent(ValidationError):
    """A part of the value breaks its rule: date, birth number, series, parity, letter set."""

    rule = "component"
