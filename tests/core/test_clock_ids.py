"""Injected time and identifiers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from ramparts.core import FrozenClock, RandomIds, SequentialIds, format_iso8601, parse_iso8601


def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(datetime(2026, 11, 28, 7, 13, 48, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(minutes=16))
    assert format_iso8601(clock.now()) == "2026-11-28T07:29:48Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        FrozenClock(datetime(2026, 1, 1))


def test_iso8601_round_trip() -> None:
    moment = parse_iso8601("2026-11-28T07:13:48Z")
    assert moment.tzinfo is not None
    assert format_iso8601(moment) == "2026-11-28T07:13:48Z"


def test_random_ids_have_alibaba_shapes() -> None:
    ids = RandomIds()
    assert re.fullmatch(r"LTAI[A-Za-z0-9]{20}", ids.access_key_id())
    assert re.fullmatch(r"STS\.[A-Za-z0-9]{25}", ids.sts_access_key_id())
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}",
                        ids.request_id())
    assert re.fullmatch(r"[1-9][0-9]{15}", ids.numeric(16))
    assert ids.token(30) != ids.token(30)


def test_sequential_ids_are_predictable() -> None:
    ids = SequentialIds()
    assert ids.access_key_id() == "LTAI00000000000000000001"
    assert ids.request_id().endswith("000000000002")
