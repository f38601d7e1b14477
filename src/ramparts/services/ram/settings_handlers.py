"""RAM's account-wide settings on the wire: security preference and account alias."""

from __future__ import annotations

__all__: list[str] = []
