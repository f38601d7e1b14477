"""The root of every error type ramparts raises on purpose, and Alibaba-coded service errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = ["RampartsError", "ServiceError"]


class RampartsError(Exception):
    """Base class of all errors raised deliberately by ramparts code."""


class ServiceError(RampartsError):
    """An error the API answers with: an Alibaba error Code, an HTTP status and a message.

    Each Alibaba Code is one subclass that sets `code` and `http_status`; the envelope renders
    every one of them in the same place. A few codes are families whose last part names a
    parameter (`MissingUserName`, `InvalidParameter.RoleArn`); their classes take the code.
    """

    code: ClassVar[str] = "InternalError"
    http_status: ClassVar[int] = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = code or self.code
        self.detail = dict(detail) if detail is not None else None

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"
