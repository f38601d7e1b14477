"""The IMS credential report through the official IMS SDK: the `<root>` row, user rows with
password, MFA and AccessKey columns, paging, and the four-hour regeneration rule.

Each test gets a server of its own: a report, once generated, is kept for four hours, so a
shared server would answer the report an earlier test generated."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alibabacloud_ims20190815 import models as ims_models
from alibabacloud_ims20190815.client import Client as ImsClient
from alibabacloud_ram20150501 import models as ram_models
from Tea.exceptions import TeaException

from ramparts.crypto import totp
from ramparts.services.ram.credential_report import COLUMNS
from ramparts.testing import RunningServer, start_server
from tests.api.sdk import SdkClients, error_of, make_user
from tests.conftest import PostgresDatabases

PASSWORD = "Correct-Horse-7-Battery"
TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    url = None
    if request.param == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    with start_server(tmp_path / "data", database_url=url) as running:
        yield running


def ims(clients: SdkClients) -> ImsClient:
    return clients.ims


def report(clients: SdkClients, **request: str) -> tuple[list[dict[str, str]], str, bool, str]:
    """(rows, GeneratedTime, IsTruncated, NextToken) of one GetCredentialReport call."""
    body = ims(clients).get_credential_report(
        ims_models.GetCredentialReportRequest(**request)).body
    content = base64.b64decode(body.content).decode("utf-8")
    assert content.splitlines()[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(content)))
    return rows, str(body.generated_time), str(body.is_truncated).lower() == "true", \
        str(body.next_token or "")


def is_time(value: str) -> bool:
    try:
        datetime.strptime(value, TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return False
    return True


def test_get_before_any_report_is_refused(fresh: RunningServer) -> None:
    admin = SdkClients.admin(fresh)
    with pytest.raises(TeaException) as caught:
        ims(admin).get_credential_report(ims_models.GetCredentialReportRequest())
    assert error_of(caught.value) == (404, "EntityNotExist.CredentialReport")


def test_report_rows(fresh: RunningServer) -> None:
    admin = SdkClients.admin(fresh)
    alice = make_user(admin, "alice")
    alice.sts.get_caller_identity()  # the key's last use
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name="alice", password=PASSWORD))
    device = admin.ram.create_virtual_mfadevice(ram_models.CreateVirtualMFADeviceRequest(
        virtual_mfadevice_name="alice-phone")).body.virtual_mfadevice
    seed = base64.b32decode(device.base_32string_seed + "=" * (-len(device.base_32string_seed)
                                                               % 8))
    now = datetime.now(UTC)
    admin.ram.bind_mfadevice(ram_models.BindMFADeviceRequest(
        serial_number=device.serial_number, user_name="alice",
        authentication_code_1=totp.totp(seed, now - timedelta(seconds=totp.STEP_SECONDS)),
        authentication_code_2=totp.totp(seed, now)))

    rpc = SdkClients.admin(fresh, "v2")
    state = ims(rpc).generate_credential_report().body.state
    assert state == "COMPLETED"
    rows, generated, truncated, token = report(admin)
    assert is_time(generated)
    assert (truncated, token) == (False, "")
    by_user = {row["user"]: row for row in rows}
    assert rows[0]["user"] == "<root>"
    root = rows[0]
    assert (root["password_exist"], root["password_active"], root["mfa_active"],
            root["access_key_1_exist"], root["access_key_2_exist"]) \
        == ("TRUE", "N/A", "FALSE", "FALSE", "FALSE")
    assert is_time(root["user_creation_time"])
    domain = "ramparts-test.onaliyun.com"
    assert set(by_user) == {"<root>", f"admin@{domain}", f"alice@{domain}"}
    row = by_user[f"alice@{domain}"]
    assert (row["password_exist"], row["password_active"], row["password_next_rotation"],
            row["mfa_active"], row["access_key_1_exist"], row["access_key_1_active"],
            row["access_key_2_exist"], row["access_key_2_last_used"]) \
        == ("TRUE", "TRUE", "-", "TRUE", "TRUE", "TRUE", "FALSE", "N/A")
    assert row["user_last_logon"] == "-"
    for column in ("user_creation_time", "password_last_changed", "access_key_1_last_rotated",
                   "access_key_1_last_used"):
        assert is_time(row[column]), column
    boss = by_user[f"admin@{domain}"]
    assert (boss["password_exist"], boss["mfa_active"], boss["access_key_1_exist"]) \
        == ("FALSE", "FALSE", "TRUE")
    assert is_time(boss["access_key_1_last_used"])


def test_pages_and_the_four_hour_rule(fresh: RunningServer) -> None:
    admin = SdkClients.admin(fresh)
    for name in ("u1", "u2", "u3"):
        admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))
    assert ims(admin).generate_credential_report().body.state == "COMPLETED"
    whole, generated, _, _ = report(admin)
    assert len(whole) == 5  # <root>, admin, u1, u2, u3
    seen: list[dict[str, str]] = []
    token = ""
    while True:
        request = {"max_items": "2", **({"next_token": token} if token else {})}
        rows, page_time, truncated, token = report(admin, **request)
        assert page_time == generated
        assert 1 <= len(rows) <= 2
        seen += rows
        assert truncated == bool(token)
        if not truncated:
            break
    assert seen == whole

    admin.ram.create_user(ram_models.CreateUserRequest(user_name="late"))
    assert ims(admin).generate_credential_report().body.state == "COMPLETED"
    again, again_time, _, _ = report(admin)
    assert (again, again_time) == (whole, generated)  # kept: younger than four hours
    with pytest.raises(TeaException) as caught:
        report(admin, next_token="not-a-token")
    assert error_of(caught.value) == (400, "InvalidParameter.NextToken.Invalid")
