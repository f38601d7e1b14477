"""Shared foundations: errors, time, identifiers and Alibaba Cloud resource names."""

from ramparts.core.clock import Clock, FrozenClock, SystemClock, format_iso8601, parse_iso8601
from ramparts.core.errors import RampartsError, ServiceError
from ramparts.core.identifiers import Arn, parse_arn
from ramparts.core.ids import IdGenerator, RandomIds, SequentialIds

__all__ = [
    "Arn",
    "Clock",
    "FrozenClock",
    "IdGenerator",
    "RampartsError",
    "RandomIds",
    "SequentialIds",
    "ServiceError",
    "SystemClock",
    "format_iso8601",
    "parse_arn",
    "parse_iso8601",
]
