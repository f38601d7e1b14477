"""The root of every error type ramparts raises on purpose."""

__all__ = ["RampartsError"]


class RampartsError(Exception):
    """Base class of all errors raised deliberately by ramparts code."""
