"""The trail is part of every call: a call whose event cannot be written fails and changes
nothing, and every call (a success, a denial, a bad parameter, an unknown action) adds exactly
one event, redacted and chained to the one before it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import TeaException

from ramparts.services.actiontrail.recorder import GENESIS_HASH, event_hash, first_break
from ramparts.testing import RunningServer, start_server
from tests.api.refusals import refused
from tests.api.sdk import SdkClients, make_user
from tests.conftest import PostgresDatabases

PASSWORD = "Trail-Test-Password-42"
# A trigger that makes every event write fail, and what drops it, per store.
FAIL_TRAIL = {
    "sqlite": ["CREATE TRIGGER trail_unwritable BEFORE INSERT ON trail_events "
               "BEGIN SELECT RAISE(ABORT, 'the trail cannot be written'); END"],
    "postgresql": ["CREATE FUNCTION trail_unwritable() RETURNS trigger AS $fail$ BEGIN "
                   "RAISE EXCEPTION 'the trail cannot be written'; END $fail$ LANGUAGE plpgsql",
                   "CREATE TRIGGER trail_unwritable BEFORE INSERT ON trail_events "
                   "FOR EACH ROW EXECUTE FUNCTION trail_unwritable()"],
}
MEND_TRAIL = {
    "sqlite": ["DROP TRIGGER trail_unwritable"],
    "postgresql": ["DROP TRIGGER trail_unwritable ON trail_events",
                   "DROP FUNCTION trail_unwritable()"],
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningServer]:
    """A server of this module's own, whose trail this module counts and breaks."""
    url = None
    if request.param == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    with start_server(tmp_path_factory.mktemp("trail") / "data", database_url=url) as running:
        yield running


@pytest.fixture(scope="module", params=[None, "v2"], ids=["acs3", "rpc-v1"])
def admin(request: pytest.FixtureRequest, server: RunningServer) -> SdkClients:
    return SdkClients.admin(server, request.param)


def rows(server: RunningServer) -> list[dict[str, Any]]:
    with server.runtime.store.transaction() as tx:
        found = tx.query("SELECT seq, event_name, error_code, body, prev_hash, hash "
                         "FROM trail_events ORDER BY seq")
    return [dict(row) for row in found]


def one_event(server: RunningServer, call: Callable[[], object]) -> dict[str, Any]:
    """Run `call` (answered or refused); the one event it added, checked to be chained."""
    before = rows(server)
    with contextlib.suppress(TeaException):
        call()
    after = rows(server)
    assert len(after) == len(before) + 1
    assert after[:-1] == before
    row = after[-1]
    previous = before[-1]["hash"] if before else GENESIS_HASH
    assert row["prev_hash"] == previous
    assert row["hash"] == event_hash(previous, str(row["body"]))
    event: dict[str, Any] = json.loads(row["body"])
    assert (event["eventName"], event["errorCode"]) == (row["event_name"], row["error_code"])
    assert event["acsRegion"] == server.bootstrap.account.region
    assert event["recipientAccountId"] == server.account_id
    return event


def call_unknown(clients: SdkClients, action: str) -> object:
    """An action no product has, signed like any other call."""
    creds = clients.creds
    config = open_api_models.Config(
        access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
        endpoint=clients.server.endpoint, protocol="http", region_id="cn-hangzhou")
    if clients.algorithm is not None:
        config.signature_algorithm = clients.algorithm
    request = open_api_models.Params(
        action=action, version="2015-05-01", protocol="HTTP", method="POST", auth_type="AK",
        style="RPC", pathname="/", req_body_type="formData", body_type="json")
    return OpenApiClient(config).call_api(
        request, open_api_models.OpenApiRequest(query={"UserName": "x"}), RuntimeOptions())


def test_a_call_whose_event_cannot_be_written_fails_and_changes_nothing(
        server: RunningServer, admin: SdkClients, unique: str) -> None:
    name = f"{unique}-unrecorded"
    before = rows(server)
    store = server.runtime.store
    with store.transaction() as tx:
        for sql in FAIL_TRAIL[store.dialect]:
            tx.execute(sql)
    try:
        assert refused(lambda: admin.ram.create_user(ram_models.CreateUserRequest(
            user_name=name))) == (500, "InternalError")
    finally:
        with store.transaction() as tx:
            for sql in MEND_TRAIL[store.dialect]:
                tx.execute(sql)
    assert rows(server) == before
    assert refused(lambda: admin.ram.get_user(ram_models.GetUserRequest(user_name=name))) == (
        404, "EntityNotExist.User")
    with server.runtime.store.transaction() as tx:
        assert tx.query_one("SELECT 1 AS x FROM users WHERE name_key = ?", (name,)) is None
        assert first_break(tx) is None
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))  # works again


def test_a_success_adds_one_event(server: RunningServer, admin: SdkClients,
                                  unique: str) -> None:
    name = f"{unique}-recorded"
    event = one_event(server, lambda: admin.ram.create_user(ram_models.CreateUserRequest(
        user_name=name, display_name="Recorded")))
    assert (event["eventName"], event["errorCode"], event["eventRW"]) == (
        "CreateUser", "", "Write")
    assert event["serviceName"] == "Ram"
    identity = event["userIdentity"]
    assert (identity["type"], identity["userName"], identity["accessKeyId"]) == (
        "ram-user", "admin", admin.creds.access_key_id)
    assert identity["principalId"]
    assert event["requestParameters"]["UserName"] == name
    assert event["requestParameters"]["DisplayName"] == "Recorded"
    assert event["responseElements"]["User"]["UserName"] == name
    assert event["referencedResources"] == {"ACS::RAM::User": [name]}

    read = one_event(server, lambda: admin.ram.get_user(ram_models.GetUserRequest(
        user_name=name)))
    assert (read["eventName"], read["errorCode"], read["eventRW"]) == ("GetUser", "", "Read")


def test_a_denial_adds_one_event(server: RunningServer, admin: SdkClients, unique: str) -> None:
    name = f"{unique}-denied"
    user = make_user(admin, name)
    event = one_event(server, lambda: user.ram.list_users(ram_models.ListUsersRequest()))
    assert (event["eventName"], event["errorCode"], event["eventRW"]) == (
        "ListUsers", "NoPermission", "Read")
    identity = event["userIdentity"]
    assert (identity["type"], identity["userName"], identity["accessKeyId"]) == (
        "ram-user", name, user.creds.access_key_id)
    assert event["errorMessage"].startswith("You are not authorized")
    assert event["responseElements"] is None


def test_a_bad_parameter_adds_one_event(server: RunningServer, admin: SdkClients) -> None:
    event = one_event(server, lambda: admin.ram.create_user(ram_models.CreateUserRequest(
        user_name="bad name")))
    assert (event["eventName"], event["errorCode"], event["eventRW"]) == (
        "CreateUser", "InvalidParameter.UserName.InvalidChars", "Write")
    assert event["userIdentity"]["userName"] == "admin"
    assert event["requestParameters"]["UserName"] == "bad name"


def test_an_unknown_action_adds_one_event(server: RunningServer, admin: SdkClients) -> None:
    event = one_event(server, lambda: call_unknown(admin, "NoSuchAction"))
    assert (event["eventName"], event["errorCode"]) == ("NoSuchAction", "InvalidApi.NotFound")
    assert event["eventRW"] == "Write"
    identity = event["userIdentity"]
    # The signature was never checked: the event attributes the call to no one.
    assert (identity["type"], identity["userName"], identity["accessKeyId"]) == (
        "anonymous", "", "")
    assert event["requestParameters"]["UserName"] == "x"


def test_secrets_are_redacted_in_the_event(server: RunningServer, admin: SdkClients,
                                           unique: str) -> None:
    name = f"{unique}-secretive"
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))
    event = one_event(server, lambda: admin.ram.create_login_profile(
        ram_models.CreateLoginProfileRequest(user_name=name, password=PASSWORD)))
    assert (event["eventName"], event["errorCode"]) == ("CreateLoginProfile", "")
    assert event["requestParameters"]["Password"].startswith("redacted:")
    assert PASSWORD not in json.dumps(event)

    secret: list[str] = []

    def create_key() -> None:
        body = admin.ram.create_access_key(ram_models.CreateAccessKeyRequest(
            user_name=name)).body
        secret.append(body.access_key.access_key_secret)

    keyed = one_event(server, create_key)
    assert keyed["errorCode"] == ""
    assert "AccessKeySecret" not in keyed["responseElements"]["AccessKey"]
    assert keyed["responseElements"]["AccessKey"]["AccessKeyId"]
    assert secret[0] not in json.dumps(keyed)


def test_the_whole_chain_verifies(server: RunningServer, admin: SdkClients) -> None:
    admin.ram.get_user(ram_models.GetUserRequest(user_name="admin"))
    refused(lambda: admin.ram.get_user(ram_models.GetUserRequest(user_name="no-such-user")))
    with server.runtime.store.transaction() as tx:
        assert first_break(tx) is None
    chain = rows(server)
    assert chain
    assert chain[0]["prev_hash"] == GENESIS_HASH
    assert [r["seq"] for r in chain] == list(range(1, len(chain) + 1))

