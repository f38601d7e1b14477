"""Trails through the official ActionTrail SDK: create, describe, update, status, logging,
delete; delivery to the bucket directory; the high-severity stop event; documented errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_actiontrail20200706 import models as at_models
from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient
from alibabacloud_ram20150501 import models as ram_models
from Tea.exceptions import TeaException

from ramparts.services.actiontrail.layout import read_log_file
from ramparts.services.actiontrail.signing_keys import public_key_of
from ramparts.services.actiontrail.verify import verify_trail
from ramparts.testing import RunningServer
from tests.api.sdk import SdkClients, error_of, make_user

DELIVERY_TIMEOUT = 20.0  # seconds; the test servers deliver every 0.2 s


def trail_client(clients: SdkClients) -> ActionTrailClient:
    return clients.actiontrail


def bucket_of(server: RunningServer, bucket: str) -> Path:
    return server.data_dir / "delivery" / bucket


@contextmanager
def trail(at: ActionTrailClient, name: str, **settings: Any) -> Iterator[str]:
    """A trail that is deleted again when the block ends (the account may hold only five)."""
    settings.setdefault("oss_bucket_name", f"{name}-bucket")
    at.create_trail(at_models.CreateTrailRequest(name=name, **settings))
    try:
        yield name
    finally:
        if at.describe_trails(at_models.DescribeTrailsRequest(name_list=name)).body.trail_list:
            at.delete_trail(at_models.DeleteTrailRequest(name=name))


def refused(call: Any) -> tuple[int, str]:
    with pytest.raises(TeaException) as caught:
        call()
    return error_of(caught.value)


def delivered_events(bucket: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    # In delivery order: names sort by their second only, and one second can hold two files.
    for path in sorted(bucket.rglob("Actiontrail_*.gz"), key=lambda p: p.stat().st_mtime_ns):
        events.extend(read_log_file(path.read_bytes()))
    return events


def wait_for_event(bucket: Path, event_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        events = delivered_events(bucket) if bucket.is_dir() else []
        if any(event["eventId"] == event_id for event in events):
            return events
        time.sleep(0.1)
    raise AssertionError(f"event {event_id} was not delivered to {bucket}")


def wait_for_status(at: ActionTrailClient, name: str,
                    done: Callable[[at_models.GetTrailStatusResponseBody], bool]
                    ) -> at_models.GetTrailStatusResponseBody:
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        status = at.get_trail_status(at_models.GetTrailStatusRequest(name=name)).body
        if done(status):
            return status
        assert time.monotonic() < deadline, f"the trail's status never got there: {status}"
        time.sleep(0.1)


def stored_event(server: RunningServer, event_id: str) -> dict[str, Any]:
    with server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT body FROM trail_events WHERE event_id = ?", (event_id,))
    assert row is not None, event_id
    return dict(json.loads(row["body"]))


def test_a_trail_is_created_described_updated_and_deleted(admin: SdkClients,
                                                          unique: str) -> None:
    at = trail_client(admin)
    name = f"{unique}-lifecycle"
    created = at.create_trail(at_models.CreateTrailRequest(
        name=name, oss_bucket_name=f"{unique}-audit", oss_key_prefix="audit-logs",
        event_rw="All")).body
    assert (created.name, created.oss_bucket_name, created.oss_key_prefix) == \
        (name, f"{unique}-audit", "audit-logs")
    assert (created.event_rw, created.trail_region, created.home_region) == \
        ("All", "All", "cn-hangzhou")

    listed = at.describe_trails(at_models.DescribeTrailsRequest(name_list=name)).body.trail_list
    assert [t.name for t in listed] == [name]
    described = listed[0]
    assert described.status == "Fresh"
    assert described.trail_arn == \
        f"acs:actiontrail:cn-hangzhou:{admin.server.account_id}:trail/{name}"
    assert described.create_time.endswith("Z")
    status = at.get_trail_status(at_models.GetTrailStatusRequest(name=name)).body
    assert status.is_logging is False

    updated = at.update_trail(at_models.UpdateTrailRequest(name=name, event_rw="Read")).body
    assert (updated.event_rw, updated.oss_bucket_name) == ("Read", f"{unique}-audit")
    at.delete_trail(at_models.DeleteTrailRequest(name=name))
    assert at.describe_trails(at_models.DescribeTrailsRequest(name_list=name)).body \
        .trail_list == []
    assert refused(lambda: at.get_trail_status(at_models.GetTrailStatusRequest(name=name))) \
        == (404, "TrailNotFoundException")


def test_documented_errors(admin: SdkClients, unique: str) -> None:
    at = trail_client(admin)

    def create(**settings: Any) -> tuple[int, str]:
        return refused(lambda: at.create_trail(at_models.CreateTrailRequest(**settings)))

    good = f"{unique}-errors"
    assert create(name="Bad Name", oss_bucket_name="b-1") == (400, "InvalidTrailNameException")
    assert create(name="short", oss_bucket_name="b-1") == (400, "InvalidTrailNameException")
    assert create(name=good) == (400, "InvalidDeliveryConfigurationException")
    assert create(name=good, oss_bucket_name="../escape") == (404, "BucketDoesNotExistException")
    assert create(name=good, oss_bucket_name="b-1", oss_key_prefix="../../x") == \
        (400, "InvalidPrefixException")
    assert create(name=good, sls_project_arn="acs:log:cn-hangzhou::project/p") == \
        (400, "SlsProjectDoesNotExistException")
    assert create(name=good, oss_bucket_name="b-1", is_organization_trail=True) == \
        (400, "NotAllowCreateOrganizationTrail")
    assert create(name=good, oss_bucket_name="b-1", event_rw="Sometimes") == \
        (400, "InvalidQueryParameter")
    with trail(at, good, oss_bucket_name=f"{unique}-shared"):
        assert create(name=good, oss_bucket_name="b-1") == (400, "TrailAlreadyExistsException")
        assert create(name=f"{good}-2", oss_bucket_name=f"{unique}-shared") == \
            (400, "RepeatOssBucket")
    missing = f"{unique}-missing"
    assert refused(lambda: at.start_logging(at_models.StartLoggingRequest(name=missing))) == \
        (404, "TrailNotFoundException")
    assert refused(lambda: at.stop_logging(at_models.StopLoggingRequest(name=missing))) == \
        (404, "TrailNotFoundException")


def test_an_account_holds_at_most_five_trails(admin: SdkClients, unique: str) -> None:
    at = trail_client(admin)
    existing = len(at.describe_trails(at_models.DescribeTrailsRequest()).body.trail_list)
    names = [f"{unique}-many-{n}" for n in range(5 - existing)]
    try:
        for name in names:
            at.create_trail(at_models.CreateTrailRequest(name=name,
                                                         oss_bucket_name=f"{name}-b"))
        assert refused(lambda: at.create_trail(at_models.CreateTrailRequest(
            name=f"{unique}-one-too-many", oss_bucket_name=f"{unique}-x"))) == \
            (403, "MaximumNumberOfTrailsExceededException")
    finally:
        for name in names:
            at.delete_trail(at_models.DeleteTrailRequest(name=name))


def test_trails_need_their_ram_actions(admin: SdkClients, unique: str) -> None:
    reader = make_user(admin, f"{unique}-reader", {
        "Effect": "Allow", "Action": ["actiontrail:DescribeTrails", "actiontrail:GetTrail*"],
        "Resource": "*"})
    at = trail_client(reader)
    at.describe_trails(at_models.DescribeTrailsRequest())
    with trail(trail_client(admin), f"{unique}-guarded"):
        assert refused(lambda: at.stop_logging(at_models.StopLoggingRequest(
            name=f"{unique}-guarded")))[0] == 403
        assert refused(lambda: at.delete_trail(at_models.DeleteTrailRequest(
            name=f"{unique}-guarded")))[0] == 403


def test_a_logging_trail_delivers_its_events_and_its_own_stop(admin: SdkClients,
                                                              unique: str) -> None:
    server = admin.server
    at = trail_client(admin)
    name, bucket = f"{unique}-delivers", f"{unique}-delivered"
    with trail(at, name, oss_bucket_name=bucket, event_rw="All"):
        started = at.start_logging(at_models.StartLoggingRequest(name=name)).body.request_id
        status = at.get_trail_status(at_models.GetTrailStatusRequest(name=name)).body
        assert status.is_logging is True
        assert status.start_logging_time
        made = [admin.ram.create_user(ram_models.CreateUserRequest(
            user_name=f"{unique}-d{n}")).body.request_id for n in range(3)]
        stopped = at.stop_logging(at_models.StopLoggingRequest(name=name)).body.request_id

        stop_event = stored_event(server, stopped)
        assert stop_event["eventName"] == "StopLogging"
        assert stop_event["serviceName"] == "Actiontrail"
        assert stop_event["additionalEventData"]["severity"] == "High"
        assert stop_event["referencedResources"] == {"ACS::ActionTrail::Trail": [name]}

        events = wait_for_event(bucket_of(server, bucket), stopped)
        ids = [event["eventId"] for event in events]
        assert len(ids) == len(set(ids)), "no event is delivered twice"
        assert {started, *made, stopped} <= set(ids)
        assert ids.index(started) < ids.index(made[0]) < ids.index(stopped)
        delivered_stop = next(e for e in events if e["eventId"] == stopped)
        assert delivered_stop == stop_event

        status = wait_for_status(at, name, lambda s: bool(s.latest_delivery_time))
        assert status.is_logging is False
        assert status.stop_logging_time
        assert status.latest_delivery_error == ""
        assert status.oss_bucket_status is True
        # Nothing after the stop is delivered.
        after = admin.ram.get_user(ram_models.GetUserRequest(user_name=f"{unique}-d0")).body
        time.sleep(1.0)
        assert after.request_id not in {e["eventId"] for e in
                                        delivered_events(bucket_of(server, bucket))}

        logs = sorted(p.relative_to(bucket_of(server, bucket)).as_posix()
                      for p in bucket_of(server, bucket).rglob("*.gz"))
        assert logs
        assert all(p.startswith("AliyunLogs/Actiontrail/cn-hangzhou/") for p in logs)
        assert all(p.split("/")[-1].startswith("Actiontrail_cn-hangzhou_") for p in logs)
        digests = list(bucket_of(server, bucket).rglob("Actiontrail-Digest_*.json"))
        assert digests
        with server.runtime.store.transaction() as tx:
            pem = public_key_of(tx, server.account_id)
            report = verify_trail(tx, bucket_of(server, bucket), pem)
        assert report.clean, report.to_dict()
        assert report.digests == len(digests)
        assert report.delivered_events == len(events)


def test_a_write_trail_delivers_only_write_events_under_its_prefix(admin: SdkClients,
                                                                   unique: str) -> None:
    server = admin.server
    at = trail_client(admin)
    name, bucket = f"{unique}-writes", f"{unique}-writes"
    with trail(at, name, oss_bucket_name=bucket, oss_key_prefix="org/audit"):
        at.start_logging(at_models.StartLoggingRequest(name=name))
        read = admin.ram.get_user(ram_models.GetUserRequest(user_name="admin")).body.request_id
        wrote = admin.ram.create_user(ram_models.CreateUserRequest(
            user_name=f"{unique}-w")).body.request_id
        events = wait_for_event(bucket_of(server, bucket), wrote)
        assert read not in {event["eventId"] for event in events}
        assert {event["eventRW"] for event in events} == {"Write"}
        assert all(p.relative_to(bucket_of(server, bucket)).as_posix()
                   .startswith("org/audit/AliyunLogs/") for p in
                   bucket_of(server, bucket).rglob("*.*"))


def test_an_unavailable_destination_is_reported_and_retried(admin: SdkClients,
                                                            unique: str) -> None:
    server = admin.server
    at = trail_client(admin)
    name, bucket = f"{unique}-blocked", f"{unique}-blocked"
    blocker = bucket_of(server, bucket)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the bucket directory should be\n")
    with trail(at, name, oss_bucket_name=bucket):
        at.start_logging(at_models.StartLoggingRequest(name=name))
        wrote = admin.ram.create_user(ram_models.CreateUserRequest(
            user_name=f"{unique}-b")).body.request_id
        status = wait_for_status(at, name, lambda s: bool(s.latest_delivery_error))
        assert "write oss failed" in status.latest_delivery_error
        assert status.oss_bucket_status is False
        blocker.unlink()
        wait_for_event(blocker, wrote)
        status = wait_for_status(at, name, lambda s: not s.latest_delivery_error)
        assert status.oss_bucket_status is True


def test_deleting_a_logging_trail_delivers_its_delete_event_last(admin: SdkClients,
                                                                 unique: str) -> None:
    server = admin.server
    at = trail_client(admin)
    name, bucket = f"{unique}-deleted", f"{unique}-deleted"
    at.create_trail(at_models.CreateTrailRequest(name=name, oss_bucket_name=bucket))
    at.start_logging(at_models.StartLoggingRequest(name=name))
    deleted = at.delete_trail(at_models.DeleteTrailRequest(name=name)).body.request_id
    assert stored_event(server, deleted)["additionalEventData"]["severity"] == "High"
    events = wait_for_event(bucket_of(server, bucket), deleted)
    assert events[-1]["eventId"] == deleted
    assert events[-1]["eventName"] == "DeleteTrail"
    # The name is free again; the old trail's files still verify.
    with trail(at, name, oss_bucket_name=f"{bucket}-2"):
        pass
    with server.runtime.store.transaction() as tx:
        report = verify_trail(tx, bucket_of(server, bucket), public_key_of(tx, server.account_id))
    assert report.clean, report.to_dict()
