"""STS through the official SDK: AssumeRole needs both the caller's policy and the role's trust
policy, session policies narrow a session, and sessions end with expiry or revocation."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_sts20150401 import models as sts_models
from Tea.exceptions import TeaException

from ramparts.testing import RunningServer
from tests.api.sdk import Credentials, SdkClients, error_of, make_user

ASSUME_ANY = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}


def _trust(account: str, condition: dict[str, Any] | None = None,
           principal: str | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [principal or f"acs:ram::{account}:root"]}}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "1", "Statement": [statement]})


def _role(admin: SdkClients, name: str, trust: str, *, policy: str = "AdministratorAccess",
          max_duration: int = 3600) -> str:
    role = admin.ram.create_role(ram_models.CreateRoleRequest(
        role_name=name, assume_role_policy_document=trust,
        max_session_duration=max_duration)).body.role
    admin.ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="System", policy_name=policy, role_name=name))
    return str(role.arn)


def _assume(clients: SdkClients, role_arn: str, session: str = "s1", *,
            policy: str | None = None, duration: int | None = None) -> SdkClients:
    body = clients.sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=role_arn, role_session_name=session, policy=policy,
        duration_seconds=duration)).body
    creds = body.credentials
    return SdkClients(clients.server, Credentials(creds.access_key_id, creds.access_key_secret,
                                                  creds.security_token), clients.algorithm)


def _refused(call: Any) -> tuple[int, str]:
    with pytest.raises(TeaException) as raised:
        call()
    return error_of(raised.value)


def test_assume_role_returns_alibaba_shaped_temporary_credentials(
        admin: SdkClients, unique: str) -> None:
    account = admin.server.account_id
    arn = _role(admin, f"{unique}-deployer", _trust(account))
    assert arn == f"acs:ram::{account}:role/{unique}-deployer"
    body = admin.sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=arn, role_session_name="ci-run", duration_seconds=900)).body
    creds = body.credentials
    assert creds.access_key_id.startswith("STS.")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", creds.expiration)
    assert creds.access_key_secret
    assert creds.security_token
    assert body.assumed_role_user.arn == f"acs:ram::{account}:role/{unique}-deployer/ci-run"
    session = SdkClients(admin.server, Credentials(creds.access_key_id, creds.access_key_secret,
                                                   creds.security_token), admin.algorithm)
    identity = session.sts.get_caller_identity().body
    assert identity.arn == f"acs:ram::{account}:assumed-role/{unique}-deployer/ci-run"
    assert identity.identity_type == "AssumedRoleUser"
    # The role has AdministratorAccess: the session can read users.
    assert session.ram.get_user(ram_models.GetUserRequest(user_name="admin")).body.user


def test_the_caller_needs_its_own_permission_to_assume(admin: SdkClients, unique: str) -> None:
    arn = _role(admin, f"{unique}-r", _trust(admin.server.account_id))
    nobody = make_user(admin, f"{unique}-nobody")
    status, code = _refused(lambda: _assume(nobody, arn))
    assert (status, code) == (403, "NoPermission")


def test_the_trust_policy_must_name_the_caller(admin: SdkClients, unique: str) -> None:
    account = admin.server.account_id
    make_user(admin, f"{unique}-trusted", ASSUME_ANY)
    other = make_user(admin, f"{unique}-other", ASSUME_ANY)
    arn = _role(admin, f"{unique}-r", _trust(
        account, principal=f"acs:ram::{account}:user/{unique}-trusted"))
    status, code = _refused(lambda: _assume(other, arn))
    assert (status, code) == (403, "NoPermission")


@pytest.mark.parametrize(("network", "allowed"), [("127.0.0.0/8", True), ("10.0.0.0/8", False)])
def test_a_source_ip_condition_in_the_trust_policy(admin: SdkClients, unique: str,
                                                   network: str, allowed: bool) -> None:
    account = admin.server.account_id
    caller = make_user(admin, f"{unique}-c", ASSUME_ANY)
    arn = _role(admin, f"{unique}-r", _trust(
        account, condition={"IpAddress": {"acs:SourceIp": network}}))
    if allowed:
        assert _assume(caller, arn).sts.get_caller_identity().body.identity_type == \
            "AssumedRoleUser"
    else:
        assert _refused(lambda: _assume(caller, arn)) == (403, "NoPermission")


def test_a_session_policy_narrows_the_session(admin: SdkClients, unique: str) -> None:
    arn = _role(admin, f"{unique}-r", _trust(admin.server.account_id))
    narrow = json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"}]})
    session = _assume(admin, arn, policy=narrow)
    assert session.ram.get_user(ram_models.GetUserRequest(user_name="admin")).body.user
    status, code = _refused(lambda: session.ram.list_users(ram_models.ListUsersRequest()))
    assert status == 403
    assert code == "NoPermission"


def test_duration_is_bounded_by_the_role(admin: SdkClients, unique: str) -> None:
    arn = _role(admin, f"{unique}-r", _trust(admin.server.account_id), max_duration=3600)
    for duration in (899, 3601):
        status, code = _refused(lambda d=duration: _assume(admin, arn, duration=d))
        assert status == 400
        assert code == "InvalidParameter.DurationSeconds"
    malformed = json.dumps({"Version": "1", "Statement": [{"Effect": "Permit"}]})
    status, code = _refused(lambda: _assume(admin, arn, policy=malformed))
    assert (status, code) == (400, "InvalidParameter.PolicyGrammar")


def test_unknown_role_is_not_found(admin: SdkClients) -> None:
    arn = f"acs:ram::{admin.server.account_id}:role/no-such-role"
    assert _refused(lambda: _assume(admin, arn)) == (404, "EntityNotExist.Role")


def _expire(server: RunningServer, access_key_id: str) -> None:
    with server.runtime.store.transaction() as tx:
        tx.execute("UPDATE sts_sessions SET expires_at = ? WHERE access_key_id = ?",
                   ("2000-01-01T00:00:00Z", access_key_id))


def test_an_expired_token_is_refused(admin: SdkClients, unique: str) -> None:
    arn = _role(admin, f"{unique}-r", _trust(admin.server.account_id))
    session = _assume(admin, arn)
    _expire(admin.server, session.creds.access_key_id)
    status, code = _refused(lambda: session.sts.get_caller_identity())
    assert code == "InvalidSecurityToken.Expired"
    assert status == 400


def test_a_wrong_token_is_refused(admin: SdkClients, unique: str) -> None:
    arn = _role(admin, f"{unique}-r", _trust(admin.server.account_id))
    session = _assume(admin, arn)
    forged = SdkClients(admin.server, Credentials(session.creds.access_key_id,
                                                  session.creds.access_key_secret,
                                                  "CAIS" + "x" * 40), admin.algorithm)
    _, code = _refused(lambda: forged.sts.get_caller_identity())
    assert code == "InvalidSecurityToken.MismatchWithAccessKey"


def test_disabling_the_creating_key_ends_its_sessions(admin: SdkClients, unique: str) -> None:
    account = admin.server.account_id
    first = _role(admin, f"{unique}-a", _trust(account))
    second = _role(admin, f"{unique}-b", _trust(account))
    caller = make_user(admin, f"{unique}-c", ASSUME_ANY)
    session = _assume(caller, first)
    chained = _assume(session, second, "chained")
    assert chained.sts.get_caller_identity().body.arn.endswith(f"{unique}-b/chained")
    admin.ram.update_access_key(ram_models.UpdateAccessKeyRequest(
        user_name=f"{unique}-c", user_access_key_id=caller.creds.access_key_id,
        status="Inactive"))
    for ended in (session, chained):
        assert _refused(lambda s=ended: s.sts.get_caller_identity()) == (
            404, "InvalidAccessKeyId.NotFound")


def test_deleting_the_role_ends_its_sessions(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-r"
    arn = _role(admin, name, _trust(admin.server.account_id))
    session = _assume(admin, arn)
    admin.ram.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
        policy_type="System", policy_name="AdministratorAccess", role_name=name))
    admin.ram.delete_role(ram_models.DeleteRoleRequest(role_name=name))
    _, code = _refused(lambda: session.sts.get_caller_identity())
    assert code.startswith("InvalidAccessKeyId")
