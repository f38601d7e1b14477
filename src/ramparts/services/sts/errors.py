"""STS's error codes [doc: AssumeRole; STS error messages]."""

from __future__ import annotations

from ramparts.core.errors import ServiceError

__all__ = ["EntityNotExistRole", "InvalidParameter", "InvalidSecurityToken", "NoPermission"]


class InvalidParameter(ServiceError):
    """`InvalidParameter.<Name>`."""

    code = "InvalidParameter"
    http_status = 400

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message, code=f"InvalidParameter.{name}")


class NoPermission(ServiceError):
    code = "NoPermission"
    http_status = 403


class EntityNotExistRole(ServiceError):
    code = "EntityNotExist.Role"
    http_status = 404


class InvalidSecurityToken(ServiceError):
    """`InvalidSecurityToken.<Reason>`: expired, malformed, or not this key's token."""

    code = "InvalidSecurityToken"
    http_status = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, code=f"InvalidSecurityToken.{reason}")
