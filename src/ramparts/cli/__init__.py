"""The `ramparts` command line."""

from ramparts.cli.main import main

__all__ = ["main"]
