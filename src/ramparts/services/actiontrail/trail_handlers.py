"""ActionTrail's trails on the wire: create, update, delete, describe, status, logging."""

from __future__ import annotations

__all__: list[str] = []
