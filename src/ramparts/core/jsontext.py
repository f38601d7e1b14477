"""JSON text in the two forms the service writes: compact, and canonical (keys sorted).

One encoder each, made once: `json.dumps` with options builds a new encoder on every call, a
cost every API call would pay several times.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical", "compact"]

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def compact(value: Any) -> str:
    """Without spaces, in the order given; non-ASCII characters as themselves."""
    return _COMPACT.encode(value)


def canonical(value: Any) -> str:
    """As `compact`, with every object's keys sorted: equal values give equal text."""
    return _CANONICAL.encode(value)
