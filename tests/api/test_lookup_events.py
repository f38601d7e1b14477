"""ActionTrail LookupEvents through the official SDK: every call, allowed, denied or failed, is
found by event name, by user and by AccessKey; pages follow NextToken and see each event once;
the time window and bad parameters get Alibaba's errors; RAM decides who may look."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from alibabacloud_actiontrail20200706 import models as at_models
from alibabacloud_ram20150501 import models as ram_models

from ramparts.core.clock import format_iso8601
from tests.api.refusals import ISO_SECONDS, refused
from tests.api.sdk import SdkClients, make_user

LOOKUP = {"Effect": "Allow", "Action": "actiontrail:LookupEvents", "Resource": "*"}
READ_USERS = {"Effect": "Allow", "Action": ["ram:GetUser", "ram:ListUsers"], "Resource": "*"}


def attribute(key: str, value: str) -> at_models.LookupEventsRequestLookupAttribute:
    return at_models.LookupEventsRequestLookupAttribute(key=key, value=value)


def lookup(clients: SdkClients, *attributes: tuple[str, str], **fields: Any
           ) -> at_models.LookupEventsResponseBody:
    request = at_models.LookupEventsRequest(
        lookup_attribute=[attribute(k, v) for k, v in attributes] or None, **fields)
    body = clients.actiontrail.lookup_events(request).body
    assert body is not None
    return body


def every_event(clients: SdkClients, *attributes: tuple[str, str], page_size: int = 50,
                **fields: Any) -> list[dict[str, Any]]:
    """All events of a lookup, following NextToken; no page is larger than asked."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        body = lookup(clients, *attributes, max_results=str(page_size), next_token=token,
                      **fields)
        assert isinstance(body.events, list)
        assert len(body.events) <= page_size
        found += body.events
        token = body.next_token
        if token is None:
            return found
        assert len(body.events) == page_size


@dataclass
class Cast:
    """Three users who called the API: one may look the trail up, one only read users, one
    nothing at all (each of its calls denied)."""

    reader: SdkClients
    worker: SdkClients
    denied: SdkClients
    names: dict[str, str]


@pytest.fixture
def cast(admin: SdkClients, unique: str) -> Cast:
    names = {role: f"{unique}-{role}" for role in ("reader", "worker", "denied")}
    reader = make_user(admin, names["reader"], LOOKUP)
    worker = make_user(admin, names["worker"], READ_USERS)
    denied = make_user(admin, names["denied"])
    worker.ram.get_user(ram_models.GetUserRequest(user_name=names["worker"]))
    worker.ram.list_users(ram_models.ListUsersRequest(max_items=1))
    assert refused(lambda: denied.ram.get_user(ram_models.GetUserRequest(
        user_name=names["worker"]))) == (403, "NoPermission")
    reader.sts.get_caller_identity()
    return Cast(reader, worker, denied, names)


def test_each_users_calls_are_found_by_user_and_by_access_key(admin: SdkClients,
                                                              cast: Cast) -> None:
    for role, clients, expected in (
            ("worker", cast.worker, ["ListUsers", "GetUser"]),
            ("denied", cast.denied, ["GetUser"]),
            ("reader", cast.reader, ["GetCallerIdentity"])):
        by_user = every_event(admin, ("User", cast.names[role]))
        by_key = every_event(admin, ("EventAccessKeyId", clients.creds.access_key_id))
        assert [e["eventName"] for e in by_user] == expected, role
        assert by_key == by_user, role
        for event in by_user:
            assert event["userIdentity"]["userName"] == cast.names[role]
            assert event["userIdentity"]["accessKeyId"] == clients.creds.access_key_id
            assert event["userIdentity"]["type"] == "ram-user"
            assert event["recipientAccountId"] == admin.server.account_id


def test_a_denied_call_is_found_with_its_error(admin: SdkClients, cast: Cast) -> None:
    found = every_event(admin, ("EventName", "GetUser"), ("User", cast.names["denied"]))
    assert len(found) == 1
    event = found[0]
    assert event["errorCode"] == "NoPermission"
    assert event["errorMessage"]
    assert event["eventRW"] == "Read"
    assert event["referencedResources"] == {}  # the handler never ran


def test_a_call_is_found_by_event_name_newest_first(admin: SdkClients, cast: Cast) -> None:
    found = every_event(admin, ("EventName", "ListUsers"), ("User", cast.names["worker"]))
    assert len(found) == 1
    event = found[0]
    assert (event["eventName"], event["serviceName"], event["errorCode"]) == (
        "ListUsers", "Ram", "")
    assert event["eventSource"] == "ram.aliyuncs.com"
    recent = lookup(admin, ("EventName", "GetUser"), max_results="50").events
    times = [e["eventTime"] for e in recent]
    assert times == sorted(times, reverse=True)
    assert any(e["userIdentity"]["userName"] == cast.names["worker"] for e in recent)


def test_the_same_call_is_found_by_its_event_id_and_by_its_resource(admin: SdkClients,
                                                                      cast: Cast) -> None:
    (event,) = every_event(admin, ("EventName", "GetUser"), ("User", cast.names["worker"]))
    assert every_event(admin, ("EventId", event["eventId"])) == [event]
    by_resource = every_event(admin, ("ResourceName", cast.names["worker"]),
                              ("ResourceType", "ACS::RAM::User"))
    assert event in by_resource
    assert all(cast.names["worker"] in e["referencedResources"]["ACS::RAM::User"]
               for e in by_resource)


def test_pages_follow_next_token_and_see_each_event_once(admin: SdkClients,
                                                         unique: str) -> None:
    name = f"{unique}-pager"
    clients = make_user(admin, name, READ_USERS)
    for _ in range(7):
        clients.ram.get_user(ram_models.GetUserRequest(user_name=name))
    pages: list[list[dict[str, Any]]] = []
    token: str | None = None
    while True:
        body = lookup(admin, ("User", name), max_results="3", next_token=token)
        pages.append(body.events)
        token = body.next_token
        if token is None:
            break
    assert [len(page) for page in pages] == [3, 3, 1]
    ids = [e["eventId"] for page in pages for e in page]
    assert len(set(ids)) == 7
    forward = every_event(admin, ("User", name), page_size=2, direction="FORWARD")
    assert [e["eventId"] for e in forward] == ids[::-1]


def test_the_window_is_echoed_and_limits_what_is_found(admin: SdkClients, cast: Cast) -> None:
    body = lookup(admin, ("User", cast.names["worker"]))
    assert body.start_time is not None
    assert body.end_time is not None
    start = datetime.fromisoformat(body.start_time)
    end = datetime.fromisoformat(body.end_time)
    assert (end - start) == timedelta(days=7)  # the documented default
    assert body.end_time.endswith("Z")
    assert len(body.events) == 2

    now = datetime.now(UTC)
    earlier = lookup(admin, ("User", cast.names["worker"]),
                     start_time=format_iso8601(now - timedelta(days=3)),
                     end_time=format_iso8601(now - timedelta(days=2)))
    assert earlier.events == []
    assert earlier.start_time == format_iso8601(now - timedelta(days=3))
    around = lookup(admin, ("User", cast.names["worker"]),
                    start_time=format_iso8601(now - timedelta(hours=1)),
                    end_time=format_iso8601(now + timedelta(minutes=5)))
    assert len(around.events) == 2


@pytest.mark.parametrize(("fields", "expected"), [
    ({"start_time": "yesterday"}, "InvalidParameterStartTime"),
    ({"end_time": "2026-02-30T00:00:00Z"}, "InvalidParameterEndTime"),
    ({"start_time": format_iso8601(datetime.now(UTC) - timedelta(days=91))},
     "InvalidParameterStartTime"),
    ({"start_time": format_iso8601(datetime.now(UTC) - timedelta(hours=1)),
      "end_time": format_iso8601(datetime.now(UTC) - timedelta(hours=2))},
     "InvalidParameterCombination"),
    ({"max_results": "51"}, "InvalidQueryParameter"),
    ({"max_results": "-1"}, "InvalidQueryParameter"),
    ({"max_results": "ten"}, "InvalidQueryParameter"),
    ({"direction": "SIDEWAYS"}, "InvalidQueryParameter"),
    ({"next_token": "bm90IGEgdG9rZW4"}, "InvalidQueryParameter"),
    ({"lookup_attribute": [attribute("Colour", "red")]}, "InvalidQueryParameter"),
], ids=["start-format", "end-format", "start-too-old", "end-before-start", "max-51",
        "max-negative", "max-text", "direction", "token", "attribute-key"])
def test_bad_parameters_get_the_documented_errors(admin: SdkClients, fields: dict[str, Any],
                                                  expected: str) -> None:
    request = at_models.LookupEventsRequest(**fields)
    assert refused(lambda: admin.actiontrail.lookup_events(request)) == (400, expected)


def test_a_token_of_one_query_does_not_continue_another(admin: SdkClients,
                                                        cast: Cast) -> None:
    body = lookup(admin, ("User", cast.names["worker"]), max_results="1")
    assert body.next_token
    assert refused(lambda: lookup(admin, ("User", cast.names["denied"]), max_results="1",
                                  next_token=body.next_token)) == (400, "InvalidQueryParameter")


def test_a_user_without_lookup_events_is_denied_and_the_denial_is_found(
        admin: SdkClients, cast: Cast) -> None:
    for clients in (cast.worker, cast.denied):
        assert refused(partial(lookup, clients)) == (403, "NoPermission")
    allowed = lookup(cast.reader, ("User", cast.names["reader"]))
    assert [e["eventName"] for e in allowed.events] == ["GetCallerIdentity"]
    denials = every_event(admin, ("EventName", "LookupEvents"), ("User", cast.names["worker"]))
    assert [e["errorCode"] for e in denials] == ["NoPermission"]


def test_a_lookups_own_event_keeps_its_question_but_not_the_events_found(
        admin: SdkClients, cast: Cast) -> None:
    lookup(cast.reader, ("User", cast.names["worker"]), max_results="5")
    (event,) = every_event(admin, ("EventName", "LookupEvents"),
                           ("User", cast.names["reader"]))
    assert event["serviceName"] == "Actiontrail"
    assert event["eventRW"] == "Read"
    assert event["requestParameters"]["LookupAttribute.1.Value"] == cast.names["worker"]
    assert "Events" not in (event["responseElements"] or {})
    assert event["responseElements"]["StartTime"]


def test_events_are_the_plain_array_the_sdk_model_reads(admin: SdkClients, cast: Cast) -> None:
    body = lookup(admin, ("User", cast.names["worker"]), max_results="1")
    answer = body.to_map()
    assert isinstance(answer["Events"], list)
    assert isinstance(answer["Events"][0], dict)
    assert set(answer) == {"Events", "NextToken", "RequestId", "StartTime", "EndTime"}
    event = answer["Events"][0]
    assert {"eventId", "eventName", "eventTime", "eventRW", "eventType", "userIdentity",
            "sourceIpAddress", "requestParameters", "errorCode"} <= set(event)
    assert re.fullmatch(ISO_SECONDS, event["eventTime"])
