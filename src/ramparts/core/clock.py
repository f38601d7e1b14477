"""Time, injected: the system clock for serving; frozen and shifted clocks for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

__all__ = [
    "Clock", "FrozenClock", "ShiftedClock", "SystemClock", "format_iso8601", "parse_iso8601",
]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start time")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class ShiftedClock:
    """The system's time moved by an offset that tests set: a server that lives days ahead
    (a key's rotation falls due) while clients still sign requests with the real time."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def format_iso8601(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the form Alibaba's APIs and SDKs use."""
    return _whole_second(int(moment.timestamp() // 1))


@lru_cache(maxsize=64)
def _whole_second(second: int) -> str:
    """A call formats the same second several times, and so do the calls around it."""
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso8601(text: str) -> datetime:
    """Parse `YYYY-MM-DDTHH:MM:SSZ` (or any ISO 8601 with an offset) to an aware datetime."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
