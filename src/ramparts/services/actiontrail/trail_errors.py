"""ActionTrail's trail error codes [catalog actiontrail.yaml: product_errors]."""

from __future__ import annotations

from ramparts.core.errors import ServiceError
from ramparts.services.actiontrail.lookup_errors import InvalidQueryParameter

__all__ = [
    "BucketDoesNotExist",
    "InvalidDeliveryConfiguration",
    "InvalidPrefix",
    "InvalidQueryParameter",
    "InvalidTrailName",
    "MaximumNumberOfTrailsExceeded",
    "NotAllowCreateOrganizationTrail",
    "RepeatOssBucket",
    "SlsProjectDoesNotExist",
    "TrailAlreadyExists",
    "TrailNotFound",
]


class InvalidDeliveryConfiguration(ServiceError):
    code = "InvalidDeliveryConfigurationException"
    http_status = 400


class InvalidPrefix(ServiceError):
    code = "InvalidPrefixException"
    http_status = 400


class InvalidTrailName(ServiceError):
    code = "InvalidTrailNameException"
    http_status = 400


class NotAllowCreateOrganizationTrail(ServiceError):
    code = "NotAllowCreateOrganizationTrail"
    http_status = 400


class RepeatOssBucket(ServiceError):
    code = "RepeatOssBucket"
    http_status = 400


class SlsProjectDoesNotExist(ServiceError):
    code = "SlsProjectDoesNotExistException"
    http_status = 400


class TrailAlreadyExists(ServiceError):
    code = "TrailAlreadyExistsException"
    http_status = 400


class MaximumNumberOfTrailsExceeded(ServiceError):
    code = "MaximumNumberOfTrailsExceededException"
    http_status = 403


class BucketDoesNotExist(ServiceError):
    code = "BucketDoesNotExistException"
    http_status = 404


class TrailNotFound(ServiceError):
    code = "TrailNotFoundException"
    http_status = 404
