"""The delivery runner: a thread that delivers every logging trail's events each interval."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from ramparts.services.actiontrail.delivery import TrailDelivery

__all__ = ["DEFAULT_DELIVERY_INTERVAL", "DeliveryRunner", "lease_for"]

log = logging.getLogger("ramparts.delivery")
# ActionTrail aggregates about five minutes of events per OSS file; a local server delivers
# every minute by default (`serve --trail-delivery-interval`).
DEFAULT_DELIVERY_INTERVAL = 60.0
MIN_LEASE_SECONDS = 5.0


def lease_for(interval: float) -> timedelta:
    """How long a replica holds a delivery before another may take it over."""
    return timedelta(seconds=max(MIN_LEASE_SECONDS, 3 * interval))


class DeliveryRunner:
    """Runs `delivery.run_once()` every `interval` seconds until `stop`; a failed pass is
    logged and the next one tries again."""

    def __init__(self, delivery: TrailDelivery, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the delivery interval must be positive")
        self.delivery, self.interval = delivery, interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DeliveryRunner:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ramparts-trail-delivery",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.delivery.run_once()
            except Exception:  # a defect must not end delivery for good
                log.exception("a trail delivery pass failed")

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the pass under way (if any) and stop."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
