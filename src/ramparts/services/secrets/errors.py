"""Secrets Manager error codes beyond KMS's own [catalog kms.yaml: CreateSecret errors]."""

from __future__ import annotations

from ramparts.core.errors import ServiceError

__all__ = ["ResourceExist", "ResourceInDeleteWindow"]


class ResourceExist(ServiceError):
    """A secret of that name, or a version of that id with another value, exists already."""

    code = "Rejected.ResourceExist"
    http_status = 409


class ResourceInDeleteWindow(ServiceError):
    """The secret waits out its recovery window: only DescribeSecret, ListSecrets,
    RestoreSecret and a forced DeleteSecret act on it."""

    code = "Rejected.ResourceInDeleteWindow"
    http_status = 409
