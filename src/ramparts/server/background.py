"""Background work of a server: a thread that runs one step again and again until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

__all__ = [
    "DEFAULT_DELIVERY_INTERVAL", "DEFAULT_INDEXING_INTERVAL", "DEFAULT_SCHEDULER_INTERVAL",
    "BackgroundLoop", "lease_for",
]

log = logging.getLogger("ramparts.background")
# ActionTrail aggregates about five minutes of events per OSS file; a local server delivers
# every minute by default (`serve --trail-delivery-interval`).
DEFAULT_DELIVERY_INTERVAL = 60.0
# The trail indexer looks for new events this often when it has caught up; LookupEvents finds
# the events it has not indexed yet all the same, by checking them one by one.
DEFAULT_INDEXING_INTERVAL = 0.1
# How often scheduled work (KMS key rotations and deletions) is looked for.
DEFAULT_SCHEDULER_INTERVAL = 30.0
MIN_LEASE_SECONDS = 5.0


def lease_for(interval: float) -> timedelta:
    """How long a replica holds a delivery before another may take it over."""
    return timedelta(seconds=max(MIN_LEASE_SECONDS, 3 * interval))


class BackgroundLoop:
    """Runs `step` on a thread of its own until `stop`: again at once while it reports more
    work to do, else after `interval` seconds. A failed step is logged and tried again after
    the interval."""

    def __init__(self, name: str, step: Callable[[], bool], interval: float) -> None:
        if interval <= 0:
            raise ValueError("the interval must be positive")
        self.name, self.step, self.interval = name, step, interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundLoop:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"ramparts-{self.name}",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        more = False
        while not self._stopping.wait(0 if more else self.interval):
            try:
                more = self.step()
            except Exception:  # a defect must not end the work for good
                log.exception("a %s step failed", self.name)
                more = False

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the step under way (if any) and stop."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
