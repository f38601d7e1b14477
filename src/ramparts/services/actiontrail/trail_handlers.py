"""ActionTrail's trails on the wire: create, update, delete, describe, status, logging.

Stopping a trail's logging and deleting a trail are what an intruder does first, so their
events carry `additionalEventData.severity = "High"` (with `severityReason`): the field is
ActionTrail's own place for service-specific detail, it is inside the hash-chained event body
(a marking that cannot be removed without breaking the chain) and it travels with the event
into every delivered file, where alerting outside the server can see it too.
"""

from __future__ import annotations

from typing import Any

from ramparts.services.actiontrail.product import ACTIONTRAIL
from ramparts.services.actiontrail.trails import Trail, TrailBackend, TrailSettings
from ramparts.services.call import Call

__all__ = ["HIGH_SEVERITY", "TRAIL", "trail_body"]

TRAIL = "ACS::ActionTrail::Trail"
HIGH_SEVERITY = "High"


def _trails(call: Call) -> TrailBackend:
    return TrailBackend(call.tx, call.env, call.context.account_id, call.context.region)


def _trail_resource(call: Call) -> str:
    name = call.params.str("Name") or ""
    return f"acs:actiontrail:{call.context.region}:{call.context.account_id}:trail/{name}"


def _account_resource(call: Call) -> str:
    return f"acs:actiontrail:{call.context.region}:{call.context.account_id}:*"


def _all_resources(call: Call) -> str:
    del call
    return "*"


def _settings(call: Call) -> TrailSettings:
    params = call.params
    return TrailSettings(
        event_rw=params.str("EventRW"), trail_region=params.str("TrailRegion"),
        oss_bucket_name=params.str("OssBucketName"), oss_key_prefix=params.str("OssKeyPrefix"),
        oss_write_role_arn=params.str("OssWriteRoleArn"),
        sls_project_arn=params.str("SlsProjectArn"),
        sls_write_role_arn=params.str("SlsWriteRoleArn"),
        max_compute_project_arn=params.str("MaxComputeProjectArn"),
        max_compute_write_role_arn=params.str("MaxComputeWriteRoleArn"))


def _settings_body(trail: Trail) -> dict[str, Any]:
    return {
        "Name": trail.name, "HomeRegion": trail.home_region, "TrailRegion": trail.trail_region,
        "EventRW": trail.event_rw, "OssBucketName": trail.oss_bucket_name,
        "OssKeyPrefix": trail.oss_key_prefix, "OssWriteRoleArn": trail.oss_write_role_arn,
        "SlsProjectArn": "", "SlsWriteRoleArn": "",
    }


def trail_body(trail: Trail) -> dict[str, Any]:
    """One entry of DescribeTrails' TrailList."""
    body = _settings_body(trail)
    body.update({
        "TrailArn": trail.arn, "Status": trail.status, "IsOrganizationTrail": False,
        "CreateTime": trail.created_at, "UpdateTime": trail.updated_at,
        "StartLoggingTime": trail.start_logging_at or "",
        "StopLoggingTime": trail.stop_logging_at or "",
        "OssBucketLocation": trail.home_region, "Region": trail.home_region,
    })
    return body


def _name(call: Call) -> str:
    return call.params.str("Name", required=True) or ""


@ACTIONTRAIL.action("CreateTrail", resource=_account_resource, rw="Write")
def create_trail(call: Call) -> dict[str, Any]:
    trail = _trails(call).create(_name(call), _settings(call),
                                 organization=bool(call.params.bool("IsOrganizationTrail")))
    call.touched(TRAIL, trail.name)
    return _settings_body(trail)


@ACTIONTRAIL.action("UpdateTrail", resource=_trail_resource, rw="Write")
def update_trail(call: Call) -> dict[str, Any]:
    trail = _trails(call).update(_name(call), _settings(call))
    call.touched(TRAIL, trail.name)
    return _settings_body(trail)


@ACTIONTRAIL.action("DeleteTrail", resource=_trail_resource, rw="Write")
def delete_trail(call: Call) -> dict[str, Any]:
    trail = _trails(call).delete(_name(call))
    call.touched(TRAIL, trail.name)
    call.event_data.update(severity=HIGH_SEVERITY,
                           severityReason="a trail was deleted: its delivery ends")
    return {}


@ACTIONTRAIL.action("DescribeTrails", resource=_all_resources, rw="Read")
def describe_trails(call: Call) -> dict[str, Any]:
    listed = call.params.str("NameList")
    names = [name.strip() for name in listed.split(",") if name.strip()] if listed else None
    return {"TrailList": [trail_body(trail) for trail in _trails(call).listing(names)]}


@ACTIONTRAIL.action("GetTrailStatus", resource=_trail_resource, rw="Read")
def get_trail_status(call: Call) -> dict[str, Any]:
    trail = _trails(call).get(_name(call))
    call.touched(TRAIL, trail.name)
    return {
        "IsLogging": trail.is_logging,
        "StartLoggingTime": trail.start_logging_at or "",
        "StopLoggingTime": trail.stop_logging_at or "",
        "LatestDeliveryTime": trail.latest_delivery_at or "",
        "LatestDeliveryError": trail.latest_delivery_error,
        "OssBucketStatus": not trail.latest_delivery_error,
    }


@ACTIONTRAIL.action("StartLogging", resource=_trail_resource, rw="Write")
def start_logging(call: Call) -> dict[str, Any]:
    trail = _trails(call).start_logging(_name(call))
    call.touched(TRAIL, trail.name)
    return {}


@ACTIONTRAIL.action("StopLogging", resource=_trail_resource, rw="Write")
def stop_logging(call: Call) -> dict[str, Any]:
    trail = _trails(call).stop_logging(_name(call))
    call.touched(TRAIL, trail.name)
    call.event_data.update(severity=HIGH_SEVERITY,
                           severityReason="a trail's logging was stopped: its delivery ends")
    return {}
