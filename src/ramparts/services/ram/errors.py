"""RAM's error codes [doc: Error messages (RAM API reference)], one class per code family."""

from __future__ import annotations

from ramparts.core.errors import ServiceError

__all__ = [
    "CheckAuthenticationCodeFail",
    "DeleteConflict",
    "EntityAlreadyExists",
    "EntityNotExist",
    "InvalidParameter",
    "LimitExceeded",
    "MalformedPolicyDocument",
    "NoPermission",
    "PasswordPolicyError",
]


class EntityNotExist(ServiceError):
    """`EntityNotExist.<Entity>`: the named user, group, role, policy or key does not exist."""

    code = "EntityNotExist"
    http_status = 404

    def __init__(self, entity: str, message: str) -> None:
        super().__init__(message, code=f"EntityNotExist.{entity}")


class EntityAlreadyExists(ServiceError):
    code = "EntityAlreadyExists"
    http_status = 409

    def __init__(self, entity: str, message: str) -> None:
        super().__init__(message, code=f"EntityAlreadyExists.{entity}")


class DeleteConflict(ServiceError):
    """`DeleteConflict.<Entity>.<Dependent>`: the entity still has dependents."""

    code = "DeleteConflict"
    http_status = 409

    def __init__(self, entity: str, message: str) -> None:
        super().__init__(message, code=f"DeleteConflict.{entity}")


class LimitExceeded(ServiceError):
    code = "LimitExceeded"
    http_status = 409

    def __init__(self, entity: str, message: str) -> None:
        super().__init__(message, code=f"LimitExceeded.{entity}")


class InvalidParameter(ServiceError):
    """`InvalidParameter.<Name>.<Problem>`, RAM's parameter errors."""

    code = "InvalidParameter"
    http_status = 400

    def __init__(self, detail: str, message: str) -> None:
        super().__init__(message, code=f"InvalidParameter.{detail}")


class PasswordPolicyError(ServiceError):
    code = "PasswordPolicyViolation"
    http_status = 400


class NoPermission(ServiceError):
    code = "NoPermission"
    http_status = 403


class CheckAuthenticationCodeFail(ServiceError):
    """An MFA code that does not match the device (or was already used)."""

    code = "CheckAuthenticationCodeFail"
    http_status = 403


class MalformedPolicyDocument(ServiceError):
    """A policy, trust policy or new trust policy document that does not validate; the message
    names the first error and its JSON path."""

    code = "MalformedPolicyDocument"
    http_status = 400
