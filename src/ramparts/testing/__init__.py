"""Public helpers for tests: a ramparts server on a free port, and SDK clients signed for it."""

from ramparts.testing.server import RunningServer, start_server

__all__ = ["RunningServer", "start_server"]
