"""RAM's console login profile and password policy actions on the wire."""

from __future__ import annotations

__all__: list[str] = []
