"""Console sign-in: passwords, lockout, TOTP codes, session credentials that carry
acs:MFAPresent, the ConsoleSignin trail event, and `ramparts login`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_ims20190815 import models as ims_models
from alibabacloud_ram20150501 import models as ram_models
from Tea.exceptions import TeaException

from ramparts.crypto import totp
from ramparts.protocol.client import ApiClient, ApiError
from ramparts.testing import RunningServer, start_server
from tests.api.sdk import Credentials, SdkClients, error_of, make_user

PASSWORD = "Correct-Horse-42-battery"
SIGNIN = "2026-01-01"


def sign_in(server: RunningServer, principal: str, password: str, **extra: str
            ) -> dict[str, Any]:
    params = {"PrincipalName": principal, "Password": password, **extra}
    return ApiClient(server.endpoint).call(SIGNIN, "ConsoleSignin", params, None)


def refused(server: RunningServer, principal: str, password: str, **extra: str) -> ApiError:
    with pytest.raises(ApiError) as raised:
        sign_in(server, principal, password, **extra)
    return raised.value


def session_clients(server: RunningServer, answer: dict[str, Any]) -> SdkClients:
    creds = answer["Credentials"]
    return SdkClients(server, Credentials(creds["AccessKeyId"], creds["AccessKeySecret"],
                                          creds["SecurityToken"]))


def user_with_password(admin: SdkClients, name: str, *statements: dict[str, Any]) -> None:
    make_user(admin, name, *statements)
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=PASSWORD))


def bind_device(admin: SdkClients, user_name: str) -> bytes:
    """A virtual MFA device bound to the user; its seed, for computing codes."""
    created = admin.ram.create_virtual_mfadevice(ram_models.CreateVirtualMFADeviceRequest(
        virtual_mfadevice_name=f"{user_name}-mfa")).body.virtual_mfadevice
    seed = base64.b32decode(created.base_32string_seed + "=" * (
        -len(created.base_32string_seed) % 8))
    now = datetime.now(UTC)
    admin.ram.bind_mfadevice(ram_models.BindMFADeviceRequest(
        serial_number=created.serial_number, user_name=user_name,
        authentication_code_1=totp.totp(seed, now - timedelta(seconds=30)),
        authentication_code_2=totp.totp(seed, now)))
    return seed


def next_code(seed: bytes) -> str:
    """A code the device has not used yet: the binding consumed the current step."""
    return totp.totp(seed, datetime.now(UTC) + timedelta(seconds=30))


def signin_events(server: RunningServer) -> list[dict[str, Any]]:
    with server.runtime.store.transaction() as tx:
        rows = tx.query("SELECT body FROM trail_events WHERE event_name = 'ConsoleSignin' "
                        "ORDER BY seq")
    return [json.loads(row["body"]) for row in rows]


MFA_ONLY_LIST = {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*",
                 "Condition": {"Bool": {"acs:MFAPresent": "true"}}}


def test_a_user_signs_in_and_the_session_is_the_user(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-alice"
    user_with_password(admin, name)
    answer = sign_in(admin.server, name, PASSWORD)
    assert answer["MFAPresent"] is False
    assert answer["Credentials"]["AccessKeyId"].startswith("STS.")
    identity = session_clients(admin.server, answer).sts.get_caller_identity().body
    assert identity.arn == f"acs:ram::{admin.server.account_id}:user/{name}"
    event = signin_events(admin.server)[-1]
    assert event["eventType"] == "ConsoleSignin"
    assert (event["eventSource"], event["serviceName"]) == ("signin.aliyun.com", "AasSub")
    assert event["userIdentity"]["userName"] == name
    assert event["additionalEventData"]["mfaChecked"] == "false"
    assert PASSWORD not in json.dumps(event)
    assert answer["Credentials"]["AccessKeySecret"] not in json.dumps(event)


def test_wrong_password_and_unknown_user_look_alike(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-bob"
    user_with_password(admin, name)
    wrong = refused(admin.server, name, "Not-the-password-1")
    unknown = refused(admin.server, f"{unique}-nobody", PASSWORD)
    assert (wrong.status, wrong.code) == (401, "InvalidCredentials")
    assert (unknown.status, unknown.code, str(unknown).split(" (")[0]) == (
        wrong.status, wrong.code, str(wrong).split(" (")[0])
    failed = signin_events(admin.server)[-1]
    assert failed["errorCode"] == "InvalidCredentials"
    assert PASSWORD not in json.dumps(failed)


def test_mfa_gated_action_needs_an_mfa_sign_in(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-carol"
    user_with_password(admin, name, MFA_ONLY_LIST)
    seed = bind_device(admin, name)
    missing = refused(admin.server, name, PASSWORD)
    assert (missing.status, missing.code) == (401, "MFACode.Required")
    code = next_code(seed)
    answer = sign_in(admin.server, name, PASSWORD, MFACode=code)
    assert answer["MFAPresent"] is True
    session = session_clients(admin.server, answer)
    assert session.ram.list_users(ram_models.ListUsersRequest()).body.users
    replayed = refused(admin.server, name, PASSWORD, MFACode=code)
    assert (replayed.status, replayed.code) == (401, "MFACode.Invalid")
    assert signin_events(admin.server)[-2]["additionalEventData"]["mfaChecked"] == "true"


def test_without_mfa_the_gated_action_is_denied(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-dave"
    user_with_password(admin, name, MFA_ONLY_LIST)
    session = session_clients(admin.server, sign_in(admin.server, name, PASSWORD))
    with pytest.raises(TeaException) as denied:
        session.ram.list_users(ram_models.ListUsersRequest())
    assert error_of(denied.value) == (403, "NoPermission")
    assert "acs:MFAPresent" in str(denied.value)


def test_the_root_identity_signs_in_with_its_password(admin: SdkClients) -> None:
    server = admin.server
    answer = sign_in(server, "root", server.bootstrap.root_password)
    session = session_clients(server, answer)
    identity = session.sts.get_caller_identity().body
    assert identity.arn == f"acs:ram::{server.account_id}:root"
    assert identity.identity_type == "Account"
    session.ram.list_users(ram_models.ListUsersRequest())
    with server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT body FROM trail_events WHERE event_name = 'ListUsers' "
                           "ORDER BY seq DESC LIMIT 1")
    assert row is not None
    assert json.loads(row["body"])["userIdentity"]["type"] == "root-account"
    wrong = refused(server, "root", "guess")
    assert wrong.code == "InvalidCredentials"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own, for tests that change account-wide settings."""
    with start_server(tmp_path / "data") as running:
        yield running


def test_failed_attempts_lock_the_login_profile(own_server: RunningServer) -> None:
    admin = SdkClients.admin(own_server)
    admin.ram.set_password_policy(ram_models.SetPasswordPolicyRequest(max_login_attemps=3))
    user_with_password(admin, "erin")
    for _ in range(2):
        assert refused(own_server, "erin", "Wrong-password-1").code == "InvalidCredentials"
    locked = refused(own_server, "erin", "Wrong-password-1")
    assert (locked.status, locked.code) == (403, "LoginProfile.Locked")
    # Locked: even the right password is refused now.
    assert refused(own_server, "erin", PASSWORD).code == "LoginProfile.Locked"


def test_wrong_mfa_codes_count_toward_the_lockout(own_server: RunningServer) -> None:
    admin = SdkClients.admin(own_server)
    admin.ram.set_password_policy(ram_models.SetPasswordPolicyRequest(max_login_attemps=2))
    user_with_password(admin, "frank")
    bind_device(admin, "frank")
    for _ in range(2):
        refused(own_server, "frank", PASSWORD, MFACode="000000")
    assert refused(own_server, "frank", PASSWORD).code == "LoginProfile.Locked"


def test_enforced_mfa_needs_a_bound_device(own_server: RunningServer) -> None:
    admin = SdkClients.admin(own_server)
    admin.ims.set_security_preference(ims_models.SetSecurityPreferenceRequest(
        mfaoperation_for_login="mandatory"))
    user_with_password(admin, "grace")
    assert refused(own_server, "grace", PASSWORD).code == "MFADevice.BindRequired"


def test_a_reset_password_must_be_changed_at_sign_in(own_server: RunningServer) -> None:
    admin = SdkClients.admin(own_server)
    make_user(admin, "heidi")
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name="heidi", password=PASSWORD, password_reset_required=True))
    assert refused(own_server, "heidi", PASSWORD).code == "PasswordResetRequired"
    fresh = "Another-Good-Pass-77"
    answer = sign_in(own_server, "heidi", PASSWORD, NewPassword=fresh)
    assert answer["Principal"]["Arn"].endswith(":user/heidi")
    assert sign_in(own_server, "heidi", fresh)["MFAPresent"] is False


def test_login_network_masks_limit_where_users_sign_in(own_server: RunningServer) -> None:
    admin = SdkClients.admin(own_server)
    user_with_password(admin, "ivan")
    admin.ram.set_security_preference(ram_models.SetSecurityPreferenceRequest(
        login_network_masks="10.0.0.0/8"))
    assert refused(own_server, "ivan", PASSWORD).code == "Forbidden.LoginNetwork"


def test_ramparts_login_keeps_a_private_session(own_server: RunningServer,
                                                tmp_path: Path) -> None:
    admin = SdkClients.admin(own_server)
    user_with_password(admin, "judy")
    seed = bind_device(admin, "judy")
    env = {**os.environ, "RAMPARTS_CONFIG_DIR": str(tmp_path / "config")}
    login = subprocess.run(
        [sys.executable, "-m", "ramparts", "login", "judy", "--endpoint", own_server.endpoint,
         "--password-stdin", "--mfa-code", next_code(seed)],
        input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=60)
    assert login.returncode == 0, login.stderr
    assert "with MFA" in login.stdout
    kept = tmp_path / "config" / "session.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in kept.read_text()
    whoami = subprocess.run([sys.executable, "-m", "ramparts", "whoami"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert whoami.returncode == 0, whoami.stderr
    assert f"acs:ram::{own_server.account_id}:user/judy" in whoami.stdout
    assert "MFA present" in whoami.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ramparts", "login", "judy", "--endpoint", own_server.endpoint,
         "--password-stdin"], input="wrong\n", capture_output=True, text=True, env=env,
        timeout=60)
    assert bad.returncode == 2
    assert "InvalidCredentials" in bad.stderr


def test_resetting_or_removing_the_password_ends_console_sessions(admin: SdkClients,
                                                                  unique: str) -> None:
    name = f"{unique}-kate"
    user_with_password(admin, name)
    first = session_clients(admin.server, sign_in(admin.server, name, PASSWORD))
    admin.ram.update_login_profile(ram_models.UpdateLoginProfileRequest(
        user_name=name, password="Reset-By-Admin-99"))
    with pytest.raises(TeaException) as ended:
        first.sts.get_caller_identity()
    assert error_of(ended.value) == (404, "InvalidAccessKeyId.NotFound")
    second = session_clients(admin.server, sign_in(admin.server, name, "Reset-By-Admin-99"))
    admin.ram.delete_login_profile(ram_models.DeleteLoginProfileRequest(user_name=name))
    with pytest.raises(TeaException) as removed:
        second.sts.get_caller_identity()
    assert error_of(removed.value) == (404, "InvalidAccessKeyId.NotFound")
