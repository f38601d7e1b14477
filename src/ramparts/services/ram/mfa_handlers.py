"""RAM's virtual MFA device actions on the wire."""

from __future__ import annotations

__all__: list[str] = []
