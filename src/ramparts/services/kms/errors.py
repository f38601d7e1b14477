"""KMS error codes [catalog kms.yaml: product_errors and each action's errors]."""

from __future__ import annotations

from ramparts.core.errors import ServiceError

__all__ = [
    "AliasAlreadyExists",
    "AliasNotFound",
    "InvalidCiphertext",
    "InvalidParameter",
    "KeyDisabled",
    "KeyNotFound",
    "KeyPendingDeletion",
    "KeyVersionNotFound",
    "LimitExceeded",
    "ResourceNotFound",
    "StateModifiedFailed",
    "UnsupportedOperation",
]


class KeyNotFound(ServiceError):
    code = "Forbidden.KeyNotFound"
    http_status = 404


class KeyVersionNotFound(ServiceError):
    code = "Forbidden.KeyVersionNotFound"
    http_status = 404


class AliasNotFound(ServiceError):
    code = "Forbidden.AliasNotFound"
    http_status = 404


class ResourceNotFound(ServiceError):
    code = "Forbidden.ResourceNotFound"
    http_status = 404


class AliasAlreadyExists(ServiceError):
    code = "AliasAlreadyExists"
    http_status = 400


class KeyDisabled(ServiceError):
    code = "Rejected.Disabled"
    http_status = 400


class KeyPendingDeletion(ServiceError):
    code = "Rejected.PendingDeletion"
    http_status = 400


class StateModifiedFailed(ServiceError):
    code = "Rejected.StateModifiedFailed"
    http_status = 400


class LimitExceeded(ServiceError):
    code = "Rejected.LimitExceeded"
    http_status = 400


class UnsupportedOperation(ServiceError):
    code = "UnsupportedOperation"
    http_status = 400


class InvalidParameter(ServiceError):
    code = "InvalidParameter"
    http_status = 400


class InvalidCiphertext(ServiceError):
    """A CiphertextBlob that is not one of this service's, was altered, or does not open with
    the EncryptionContext given: one answer for all, so that none tells them apart."""

    code = "InvalidParameter"
    http_status = 400

    def __init__(self) -> None:
        super().__init__('The specified parameter "CiphertextBlob" is not valid: it was not '
                         "produced by this service, was altered, or does not match the "
                         "EncryptionContext given.")
