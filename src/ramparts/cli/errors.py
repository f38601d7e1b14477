"""Errors the CLI reports as a one-line message with exit code 2."""

from ramparts.core.errors import RampartsError

__all__ = ["UsageError"]


class UsageError(RampartsError):
    """Bad arguments or unreadable input: the message says what to fix."""
