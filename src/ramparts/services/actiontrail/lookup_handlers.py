"""ActionTrail's event history on the wire: LookupEvents."""

from __future__ import annotations

__all__: list[str] = []
