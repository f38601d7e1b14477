"""The error codes LookupEvents answers with [doc: LookupEvents (2020-07-06), error codes]."""

from __future__ import annotations

from ramparts.core.errors import ServiceError

__all__ = [
    "InvalidParameterCombination",
    "InvalidParameterEndTime",
    "InvalidParameterStartTime",
    "InvalidQueryParameter",
]

# Codes and statuses as the LookupEvents reference lists them; the messages say what was wrong
# and how to fix it.


class InvalidQueryParameter(ServiceError):
    """A query parameter that cannot be used: a LookupAttribute, MaxResults, Direction or
    NextToken."""

    code = "InvalidQueryParameter"
    http_status = 400


class InvalidParameterStartTime(ServiceError):
    code = "InvalidParameterStartTime"
    http_status = 400


class InvalidParameterEndTime(ServiceError):
    code = "InvalidParameterEndTime"
    http_status = 400


class InvalidParameterCombination(ServiceError):
    """The end of the time range is not later than its start."""

    code = "InvalidParameterCombination"
    http_status = 400
