"""IMS actions on the wire: the credential report."""

from __future__ import annotations

__all__: list[str] = []
