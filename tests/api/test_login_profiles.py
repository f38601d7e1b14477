"""Console login profiles and the password policy through the official SDK: shapes, error
codes, the policy applied to every password, ChangePassword's rules, and a trail that never
holds a password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_sts20150401 import models as sts_models
from Tea.exceptions import TeaException

from ramparts.testing import RunningServer
from tests.api.sdk import Credentials, SdkClients, error_of, make_user

GOOD = "Console-Pass-01"
DEFAULT_POLICY: dict[str, Any] = {
    "minimum_password_length": 8, "require_lowercase_characters": False,
    "require_uppercase_characters": False, "require_numbers": False, "require_symbols": False,
    "hard_expiry": False, "max_login_attemps": 0, "password_reuse_prevention": 0,
    "max_password_age": 0,
}


def _refused(call: Any) -> tuple[int, str]:
    with pytest.raises(TeaException) as raised:
        call()
    return error_of(raised.value)


def _set_policy(admin: SdkClients, **fields: Any) -> Any:
    return admin.ram.set_password_policy(
        ram_models.SetPasswordPolicyRequest(**fields)).body.password_policy


@pytest.fixture
def policy_restored(admin: SdkClients) -> Iterator[None]:
    """The password policy is account-wide and the server is shared: put the defaults back."""
    yield
    _set_policy(admin, **DEFAULT_POLICY)


def _user(admin: SdkClients, name: str, password: str | None = None, **flags: Any) -> None:
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))
    if password is not None:
        admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
            user_name=name, password=password, **flags))


def _self_service(admin: SdkClients, name: str) -> SdkClients:
    """A user allowed to change its own password, with a console password."""
    account = admin.server.account_id
    clients = make_user(admin, name, {"Effect": "Allow", "Action": "ram:ChangePassword",
                                      "Resource": f"acs:ram:*:{account}:user/{name}"})
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=GOOD))
    return clients


def _change(clients: SdkClients, old: str, new: str) -> None:
    clients.ram.change_password(ram_models.ChangePasswordRequest(old_password=old,
                                                                 new_password=new))


# ---- CreateLoginProfile, GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile


def test_login_profile_lifecycle(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-alice"
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))
    created = admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=GOOD, password_reset_required=True)).body.login_profile
    assert (created.user_name, created.password_reset_required,
            created.mfabind_required) == (name, True, False)
    assert created.create_date.endswith("Z")
    admin.ram.update_login_profile(ram_models.UpdateLoginProfileRequest(
        user_name=name, password_reset_required=False, mfabind_required=True))
    got = admin.ram.get_login_profile(ram_models.GetLoginProfileRequest(
        user_name=name)).body.login_profile
    assert (got.user_name, got.password_reset_required, got.mfabind_required,
            got.create_date) == (name, False, True, created.create_date)
    admin.ram.delete_login_profile(ram_models.DeleteLoginProfileRequest(user_name=name))
    assert _refused(lambda: admin.ram.get_login_profile(
        ram_models.GetLoginProfileRequest(user_name=name))) == \
        (404, "EntityNotExist.User.LoginProfile")
    admin.ram.delete_user(ram_models.DeleteUserRequest(user_name=name))


def test_login_profile_errors(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-bob"
    ram = admin.ram
    assert _refused(lambda: ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=f"{unique}-nobody", password=GOOD))) == (404, "EntityNotExist.User")
    _user(admin, name)
    assert _refused(lambda: ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password="short"))) == (400, "InvalidParameter.Password.TooWeak")
    assert _refused(lambda: ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name))) == (400, "MissingPassword")
    assert _refused(lambda: ram.update_login_profile(ram_models.UpdateLoginProfileRequest(
        user_name=name, password=GOOD))) == (404, "EntityNotExist.User.LoginProfile")
    assert _refused(lambda: ram.delete_login_profile(ram_models.DeleteLoginProfileRequest(
        user_name=name))) == (404, "EntityNotExist.User.LoginProfile")
    ram.create_login_profile(ram_models.CreateLoginProfileRequest(user_name=name,
                                                                  password=GOOD))
    assert _refused(lambda: ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=GOOD))) == (409, "EntityAlreadyExists.User.LoginProfile")
    assert _refused(lambda: ram.update_login_profile(ram_models.UpdateLoginProfileRequest(
        user_name=name, password="tiny"))) == (400, "InvalidParameter.Password.TooWeak")
    assert _refused(lambda: ram.delete_user(ram_models.DeleteUserRequest(user_name=name))) == \
        (409, "DeleteConflict.User.LoginProfile")


def test_reading_another_users_profile_needs_permission(admin: SdkClients, unique: str) -> None:
    _user(admin, f"{unique}-target", GOOD)
    nosy = make_user(admin, f"{unique}-nosy")
    assert _refused(lambda: nosy.ram.get_login_profile(ram_models.GetLoginProfileRequest(
        user_name=f"{unique}-target"))) == (403, "NoPermission")


# ---- SetPasswordPolicy, GetPasswordPolicy


@pytest.mark.usefixtures("policy_restored")
def test_password_policy_round_trip(admin: SdkClients) -> None:
    wanted = {"minimum_password_length": 12, "require_lowercase_characters": True,
              "require_uppercase_characters": True, "require_numbers": True,
              "require_symbols": True, "hard_expiry": True, "max_login_attemps": 5,
              "password_reuse_prevention": 3, "max_password_age": 90}
    assert _set_policy(admin, **wanted).to_map() == {
        "MinimumPasswordLength": 12, "RequireLowercaseCharacters": True,
        "RequireUppercaseCharacters": True, "RequireNumbers": True, "RequireSymbols": True,
        "HardExpiry": True, "MaxLoginAttemps": 5, "PasswordReusePrevention": 3,
        "MaxPasswordAge": 90}
    _set_policy(admin, require_symbols=False)  # the others keep their values
    got = admin.ram.get_password_policy().body.password_policy
    assert (got.minimum_password_length, got.require_symbols, got.max_login_attemps,
            got.max_password_age) == (12, False, 5, 90)


@pytest.mark.usefixtures("policy_restored")
@pytest.mark.parametrize(("field", "value", "code"), [
    ("minimum_password_length", 7, "InvalidParameter.MinimumPasswordLength.Range"),
    ("minimum_password_length", 33, "InvalidParameter.MinimumPasswordLength.Range"),
    ("password_reuse_prevention", 25, "InvalidParameter.PasswordReusePrevention.Range"),
    ("max_password_age", 1096, "InvalidParameter.MaxPasswordAge.Range"),
    ("max_login_attemps", 33, "InvalidParameter.MaxLoginAttemps.Range"),
    ("max_login_attemps", -1, "InvalidParameter.MaxLoginAttemps.Range"),
])
def test_password_policy_ranges(admin: SdkClients, field: str, value: int, code: str) -> None:
    assert _refused(lambda: _set_policy(admin, **{field: value})) == (400, code)


@pytest.mark.usefixtures("policy_restored")
def test_the_policy_applies_to_new_passwords(admin: SdkClients, unique: str) -> None:
    _set_policy(admin, minimum_password_length=10, require_symbols=True)
    name = f"{unique}-carol"
    _user(admin, name)
    assert _refused(lambda: admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password="LongEnough1"))) == (400, "InvalidParameter.Password.TooWeak")
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password="Long-Enough1"))


# ---- ChangePassword


@pytest.mark.usefixtures("policy_restored")
def test_a_user_changes_its_own_password(admin: SdkClients, unique: str) -> None:
    _set_policy(admin, password_reuse_prevention=2)
    user = _self_service(admin, f"{unique}-dave")
    _change(user, GOOD, "Console-Pass-02")
    assert _refused(lambda: _change(user, GOOD, "Console-Pass-03")) == \
        (400, "InvalidParameter.OldPassword.Incorrect")
    assert _refused(lambda: _change(user, "Console-Pass-02", "short")) == \
        (400, "InvalidParameter.NewPassword.TooWeak")
    assert _refused(lambda: _change(user, "Console-Pass-02", GOOD)) == \
        (400, "InvalidParameter.NewPassword.ReusePrevention")
    _change(user, "Console-Pass-02", "Console-Pass-03")


def test_change_password_needs_a_ram_user(admin: SdkClients, unique: str) -> None:
    account = admin.server.account_id
    trust = json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{account}:root"]}}]})
    role = admin.ram.create_role(ram_models.CreateRoleRequest(
        role_name=f"{unique}-role", assume_role_policy_document=trust)).body.role
    creds = admin.sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=role.arn, role_session_name="s1")).body.credentials
    session = SdkClients(admin.server, Credentials(creds.access_key_id,
                                                   creds.access_key_secret,
                                                   creds.security_token), admin.algorithm)
    assert _refused(lambda: _change(session, GOOD, "Console-Pass-02")) == \
        (400, "NotSupport.Account")


def test_change_password_is_a_ram_decision_too(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-erin"
    user = make_user(admin, name)
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=GOOD))
    assert _refused(lambda: _change(user, GOOD, "Console-Pass-02")) == (403, "NoPermission")


def test_change_password_honours_the_security_preference(admin: SdkClients,
                                                         unique: str) -> None:
    user = _self_service(admin, f"{unique}-frank")
    admin.ram.set_security_preference(ram_models.SetSecurityPreferenceRequest(
        allow_user_to_change_password=False))
    try:
        assert _refused(lambda: _change(user, GOOD, "Console-Pass-02")) == \
            (403, "NoPermission")
    finally:
        admin.ram.set_security_preference(ram_models.SetSecurityPreferenceRequest(
            allow_user_to_change_password=True))
    _change(user, GOOD, "Console-Pass-02")


# ---- the trail


def _trail_bodies(server: RunningServer, events: tuple[str, ...]) -> list[str]:
    with server.runtime.store.transaction() as tx:
        rows = tx.query("SELECT event_name, body FROM trail_events")
    return [str(row["body"]) for row in rows if row["event_name"] in events]


def test_no_password_reaches_the_trail(admin: SdkClients, server: RunningServer,
                                       unique: str) -> None:
    first, second, third = (f"{unique}-First-Pass-1", f"{unique}-Second-Pass-2",
                            f"{unique}-Third-Pass-3")
    wrong_old, weak_new = f"{unique}-Wrong-Old-4", f"{unique}x"
    name = f"{unique}-grace"
    user = make_user(admin, name, {"Effect": "Allow", "Action": "ram:ChangePassword",
                                   "Resource": "*"})
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=first))
    admin.ram.update_login_profile(ram_models.UpdateLoginProfileRequest(
        user_name=name, password=second))
    _change(user, second, third)
    # Refused calls are recorded too, from another path: their parameters must be hidden.
    assert _refused(lambda: _change(user, wrong_old, first))[1] == \
        "InvalidParameter.OldPassword.Incorrect"
    assert _refused(lambda: _change(user, third, weak_new))[1] == \
        "InvalidParameter.NewPassword.TooWeak"
    bodies = _trail_bodies(server, ("CreateLoginProfile", "UpdateLoginProfile",
                                    "ChangePassword"))
    events = [json.loads(body) for body in bodies if name in body]
    assert sorted(e["errorCode"] for e in events if e["eventName"] == "ChangePassword") == \
        ["", "InvalidParameter.NewPassword.TooWeak", "InvalidParameter.OldPassword.Incorrect"]
    for body in bodies:
        for secret in (first, second, third, wrong_old, weak_new):
            assert secret not in body
    created = next(e for e in events if e["eventName"] == "CreateLoginProfile")
    assert created["requestParameters"]["Password"].startswith("redacted:")
    assert created["requestParameters"]["UserName"] == name
    for event in events:
        if event["eventName"] == "ChangePassword":
            assert set(event["requestParameters"]) == {"OldPassword", "NewPassword"}
            assert all(v.startswith("redacted:") for v in event["requestParameters"].values())
