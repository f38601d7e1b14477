"""Managed secrets rotate real credentials, through the official SDK on SQLite and PostgreSQL:
a RAM user's AccessKeys (never more than two), a PostgreSQL user's own password, two MariaDB
or PostgreSQL users taking turns; failures leave ACSCurrent working and say why; and the seed's
flow: an application's role reads one secret, connects with it, and reconnects after rotation
while the old password no longer logs in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pymysql
import pytest
from alibabacloud_kms20160120 import models as kms
from alibabacloud_ram20150501 import models as ram
from alibabacloud_sts20150401 import models as sts

from ramparts.core.clock import ShiftedClock
from ramparts.protocol.client import ApiClient, ApiError, ClientCredentials
from ramparts.services.secrets import rotation
from ramparts.services.secrets.database_rotation import DatabaseCredential, rotate_single_user
from ramparts.testing import start_server
from tests.api.refusals import allowed, refused
from tests.api.sdk import Credentials, SdkClients, make_user
from tests.dbservers import DatabaseServer, mariadb_admin, private_postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[DatabaseServer]:
    with private_postgres() as server:
        yield server


def _value(admin: SdkClients, name: str, stage: str = "ACSCurrent") -> tuple[dict[str, Any], str]:
    body = admin.kms.get_secret_value(kms.GetSecretValueRequest(
        secret_name=name, version_stage=stage)).body
    assert body is not None
    return json.loads(str(body.secret_data)), str(body.version_id)


def _rotate(admin: SdkClients, name: str, version_id: str) -> None:
    admin.kms.rotate_secret(kms.RotateSecretRequest(secret_name=name, version_id=version_id))
    admin.server.runtime.run_scheduled()


def _describe(admin: SdkClients, name: str) -> dict[str, Any]:
    """DescribeSecret's answer as sent: the V2 SDK's model drops LastRotationError, ramparts'
    own field."""
    client = ApiClient(admin.server.endpoint)
    return client.call("2016-01-20", "DescribeSecret", {"SecretName": name},
                       ClientCredentials(*admin.server.admin_key))


# ---- RAM credentials


def _access_key(admin: SdkClients, user: str) -> tuple[str, str]:
    created = admin.ram.create_access_key(ram.CreateAccessKeyRequest(user_name=user)).body
    assert created is not None
    assert created.access_key is not None
    return str(created.access_key.access_key_id), str(created.access_key.access_key_secret)


def _user_with_one_key(admin: SdkClients, user: str) -> tuple[str, str]:
    """A RAM user holding exactly one AccessKey, made for its secret (make_user's own key is
    deleted)."""
    make_user(admin, user)
    listed = admin.ram.list_access_keys(ram.ListAccessKeysRequest(user_name=user)).body
    assert listed is not None
    for existing in listed.to_map()["AccessKeys"]["AccessKey"]:
        admin.ram.delete_access_key(ram.DeleteAccessKeyRequest(
            user_name=user, user_access_key_id=existing["AccessKeyId"]))
    return _access_key(admin, user)


def _works(admin: SdkClients, key: tuple[str, str]) -> bool:
    clients = SdkClients(admin.server, Credentials(*key), admin.algorithm)
    try:
        clients.sts.get_caller_identity()
    except Exception:  # refused: the key is gone
        return False
    return True


def _ram_secret(admin: SdkClients, name: str, user: str, key: tuple[str, str]) -> None:
    admin.kms.create_secret(kms.CreateSecretRequest(
        secret_name=name, version_id="v1", secret_type="RAMCredentials",
        secret_data=json.dumps({"AccessKeys": [{"AccessKeyId": key[0],
                                                "AccessKeySecret": key[1]}]}),
        extended_config={"SecretSubType": "RamUserAccessKey", "UserName": user},
        enable_automatic_rotation=True, rotation_interval="30d"))


def test_a_ram_secret_rotates_the_users_access_keys(admin: SdkClients, unique: str) -> None:
    user = f"{unique}-app"
    original = _user_with_one_key(admin, user)
    name = f"ram/{unique}"
    _ram_secret(admin, name, user, original)
    value, _ = _value(admin, name)
    assert (value["AccessKeyId"], value["AccessKeySecret"]) == original

    _rotate(admin, name, "r1")
    first, version = _value(admin, name)
    assert version == "r1"
    assert first["AccessKeyId"] != original[0]
    assert _value(admin, name, "ACSPrevious")[0]["AccessKeyId"] == original[0]
    assert _works(admin, (first["AccessKeyId"], first["AccessKeySecret"]))
    assert _works(admin, original)  # ACSPrevious keeps working until the next rotation

    _rotate(admin, name, "r2")
    second, _ = _value(admin, name)
    assert not _works(admin, original)  # the oldest key is gone
    assert _works(admin, (first["AccessKeyId"], first["AccessKeySecret"]))
    assert _works(admin, (second["AccessKeyId"], second["AccessKeySecret"]))
    listed = admin.ram.list_access_keys(ram.ListAccessKeysRequest(user_name=user)).body
    assert listed is not None
    assert sorted(k["AccessKeyId"] for k in listed.to_map()["AccessKeys"]["AccessKey"]) == \
        sorted([first["AccessKeyId"], second["AccessKeyId"]])
    assert "LastRotationError" not in _describe(admin, name)


def test_a_ram_secret_refuses_a_key_that_is_not_the_users(admin: SdkClients,
                                                          unique: str) -> None:
    make_user(admin, f"{unique}-a")
    make_user(admin, f"{unique}-b")
    theirs = _access_key(admin, f"{unique}-b")
    assert refused(lambda: _ram_secret(admin, f"ram/{unique}", f"{unique}-a", theirs)) == (
        400, "InvalidParameter")
    mine = _access_key(admin, f"{unique}-a")
    assert refused(lambda: _ram_secret(admin, f"ram/{unique}", f"{unique}-a",
                                       (mine[0], "not-the-secret"))) == (400, "InvalidParameter")


def test_a_rotation_that_would_pass_two_keys_fails_and_says_why(admin: SdkClients,
                                                                unique: str) -> None:
    user = f"{unique}-full"
    make_user(admin, user)  # one key of its own, not the secret's
    managed = _access_key(admin, user)
    name = f"ram/{unique}"
    _ram_secret(admin, name, user, managed)
    _rotate(admin, name, "r1")
    value, version = _value(admin, name)
    assert (value["AccessKeyId"], version) == (managed[0], "v1")
    assert "two AccessKeys" in _describe(admin, name)["LastRotationError"]
    assert _works(admin, managed)


def test_managed_secrets_change_only_by_rotation(admin: SdkClients, unique: str) -> None:
    user = f"{unique}-u"
    _ram_secret(admin, f"ram/{unique}", user, _user_with_one_key(admin, user))
    assert refused(lambda: admin.kms.put_secret_value(kms.PutSecretValueRequest(
        secret_name=f"ram/{unique}", version_id="x", secret_data="{}"))) == (
        400, "UnsupportedOperation")
    admin.kms.create_secret(kms.CreateSecretRequest(secret_name=f"plain/{unique}",
                                                    version_id="v1", secret_data="x"))
    assert refused(lambda: admin.kms.rotate_secret(kms.RotateSecretRequest(
        secret_name=f"plain/{unique}", version_id="r1"))) == (400, "UnsupportedOperation")


# ---- database credentials


def _pg_role(server: DatabaseServer, name: str, password: str) -> None:
    with psycopg.connect(host=server.host, port=server.port, user=server.superuser,
                         password=server.superuser_password, dbname="postgres",
                         autocommit=True) as connection:
        connection.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            psycopg.sql.Identifier(name), psycopg.sql.Literal(password)))


def _pg_logs_in(server: DatabaseServer, user: str, password: str) -> bool:
    try:
        psycopg.connect(host=server.host, port=server.port, user=user, password=password,
                        dbname="postgres", connect_timeout=5).close()
    except psycopg.OperationalError:
        return False
    return True


def _db_secret(admin: SdkClients, name: str, engine: str, server: DatabaseServer, user: str,
               password: str, config: dict[str, Any]) -> None:
    data = {"Engine": engine, "Host": server.host, "Port": server.port, "AccountName": user,
            "AccountPassword": password}
    admin.kms.create_secret(kms.CreateSecretRequest(
        secret_name=name, version_id="v1", secret_type="Rds", secret_data=json.dumps(data),
        extended_config=config))


def test_a_postgresql_user_rotates_its_own_password(admin: SdkClients, unique: str,
                                                    postgres: DatabaseServer) -> None:
    user, password = f"app_{uuid.uuid4().hex[:8]}", f"first-{uuid.uuid4().hex}"
    _pg_role(postgres, user, password)
    name = f"db/{unique}"
    _db_secret(admin, name, "postgresql", postgres, user, password,
               {"SecretSubType": "SingleUser"})
    _rotate(admin, name, "r1")
    value, version = _value(admin, name)
    assert (value["AccountName"], version) == (user, "r1")
    assert value["AccountPassword"] != password
    assert _pg_logs_in(postgres, user, value["AccountPassword"])
    assert not _pg_logs_in(postgres, user, password)
    assert _value(admin, name, "ACSPrevious")[0]["AccountPassword"] == password


def test_two_postgresql_users_take_turns(admin: SdkClients, unique: str,
                                         postgres: DatabaseServer) -> None:
    tag = uuid.uuid4().hex[:8]
    users = (f"app_a_{tag}", f"app_b_{tag}")
    _pg_role(postgres, users[0], "a-first-password")
    _pg_role(postgres, users[1], "b-first-password")
    master = f"db/{unique}/master"
    admin.kms.create_secret(kms.CreateSecretRequest(
        secret_name=master, version_id="v1", secret_data=json.dumps({
            "Engine": "postgresql", "Host": postgres.host, "Port": postgres.port,
            "AccountName": postgres.superuser,
            "AccountPassword": postgres.superuser_password})))
    name = f"db/{unique}/app"
    _db_secret(admin, name, "postgresql", postgres, users[0], "a-first-password",
               {"SecretSubType": "DoubleUsers", "AccountNames": list(users),
                "MasterSecretName": master})
    _rotate(admin, name, "r1")
    value, _ = _value(admin, name)
    assert value["AccountName"] == users[1]
    assert _pg_logs_in(postgres, users[1], value["AccountPassword"])
    assert _pg_logs_in(postgres, users[0], "a-first-password")  # untouched this turn
    _rotate(admin, name, "r2")
    again, _ = _value(admin, name)
    assert again["AccountName"] == users[0]
    assert _pg_logs_in(postgres, users[0], again["AccountPassword"])
    assert not _pg_logs_in(postgres, users[0], "a-first-password")


def test_a_mariadb_user_rotates_its_own_password(admin: SdkClients, unique: str) -> None:
    root = mariadb_admin()
    user, password = f"app_{uuid.uuid4().hex[:8]}", f"first-{uuid.uuid4().hex}"

    def as_root(statement: str, *args: str) -> None:
        connection = pymysql.connect(host=root.host, port=root.port, user=root.superuser,
                                     password=root.superuser_password)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, args)
        finally:
            connection.close()

    def logs_in(secret: str) -> bool:
        try:
            pymysql.connect(host=root.host, port=root.port, user=user, password=secret,
                            connect_timeout=5).close()
        except pymysql.err.OperationalError:
            return False
        return True

    for host in ("127.0.0.1", "localhost"):
        as_root(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY %s", password)
    try:
        name = f"db/{unique}"
        _db_secret(admin, name, "mysql", root, user, password, {"SecretSubType": "SingleUser"})
        _rotate(admin, name, "r1")
        value, _ = _value(admin, name)
        assert logs_in(value["AccountPassword"])
        assert not logs_in(password)
    finally:
        for host in ("127.0.0.1", "localhost"):
            as_root(f"DROP USER IF EXISTS '{user}'@'{host}'")


def test_a_failed_rotation_leaves_the_current_password_and_says_why(
        admin: SdkClients, unique: str, postgres: DatabaseServer) -> None:
    user, password = f"app_{uuid.uuid4().hex[:8]}", f"first-{uuid.uuid4().hex}"
    _pg_role(postgres, user, password)
    name = f"db/{unique}"
    _db_secret(admin, name, "postgresql", postgres, user, password,
               {"SecretSubType": "SingleUser"})
    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.superuser,
                         password=postgres.superuser_password, dbname="postgres",
                         autocommit=True) as connection:
        connection.execute(psycopg.sql.SQL("ALTER ROLE {} PASSWORD 'changed-elsewhere'")
                           .format(psycopg.sql.Identifier(user)))
    _rotate(admin, name, "r1")
    value, version = _value(admin, name)
    assert (value["AccountPassword"], version) == (password, "v1")
    assert "cannot log in" in _describe(admin, name)["LastRotationError"]
    listed = admin.kms.list_secret_version_ids(kms.ListSecretVersionIdsRequest(
        secret_name=name, include_deprecated="true")).body
    assert listed is not None
    assert all("ACSPending" not in v["VersionStages"]["VersionStage"]
               for v in listed.to_map()["VersionIds"]["VersionId"])
    assert _pg_logs_in(postgres, user, "changed-elsewhere")


def test_a_rotation_interrupted_after_the_database_changed_is_finished(
        admin: SdkClients, unique: str, postgres: DatabaseServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The new password was set, then the process died before the stages moved: the next pass
    finds the pending version, sees its password log in, and makes it ACSCurrent."""
    user, password = f"app_{uuid.uuid4().hex[:8]}", f"first-{uuid.uuid4().hex}"
    _pg_role(postgres, user, password)
    name = f"db/{unique}"
    _db_secret(admin, name, "postgresql", postgres, user, password,
               {"SecretSubType": "SingleUser"})
    def set_then_die(current: DatabaseCredential, new_password: str) -> DatabaseCredential:
        rotate_single_user(current, new_password)
        raise KeyboardInterrupt  # the process ends here

    monkeypatch.setattr("ramparts.services.secrets.rotation.rotate_single_user", set_then_die)
    admin.kms.rotate_secret(kms.RotateSecretRequest(secret_name=name, version_id="r1"))
    with pytest.raises(KeyboardInterrupt):
        rotation.Rotator(admin.server.runtime.store, admin.server.runtime.env).rotate(
            rotation.SecretRef(admin.server.account_id, "cn-hangzhou", name))
    assert _value(admin, name)[0]["AccountPassword"] == password  # not switched yet
    monkeypatch.undo()
    with admin.server.runtime.store.transaction() as tx:  # its lease has run out
        tx.execute("UPDATE secrets SET rotation_lease_until = ? WHERE secret_name = ?",
                   ("2000-01-01T00:00:00Z", name))
    admin.server.runtime.run_scheduled()
    value, version = _value(admin, name)
    assert version == "r1"
    assert _pg_logs_in(postgres, user, value["AccountPassword"])
    assert not _pg_logs_in(postgres, user, password)


# ---- the seed's flow


def test_an_applications_role_reads_one_secret_connects_and_reconnects_after_rotation(
        admin: SdkClients, unique: str, postgres: DatabaseServer) -> None:
    user, password = f"billing_{uuid.uuid4().hex[:8]}", f"first-{uuid.uuid4().hex}"
    _pg_role(postgres, user, password)
    name = f"prod/{unique}/database/password"
    _db_secret(admin, name, "postgresql", postgres, user, password,
               {"SecretSubType": "SingleUser"})
    admin.kms.create_secret(kms.CreateSecretRequest(secret_name=f"prod/{unique}/other",
                                                    version_id="v1", secret_data="not yours"))
    account = admin.server.account_id
    role = f"{unique}-app-role"
    admin.ram.create_role(ram.CreateRoleRequest(role_name=role, assume_role_policy_document=(
        json.dumps({"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"RAM": [f"acs:ram::{account}:root"]}}]}))))
    admin.ram.create_policy(ram.CreatePolicyRequest(
        policy_name=f"{role}-read", policy_document=json.dumps({"Version": "1", "Statement": [{
            "Effect": "Allow", "Action": "kms:GetSecretValue",
            "Resource": f"acs:kms:*:{account}:secret/{name}"}]})))
    admin.ram.attach_policy_to_role(ram.AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name=f"{role}-read", role_name=role))
    deployer = make_user(admin, f"{unique}-deployer", {
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": f"acs:ram::{account}:role/{role}"})
    assumed = deployer.sts.assume_role(sts.AssumeRoleRequest(
        role_arn=f"acs:ram::{account}:role/{role}", role_session_name="billing")).body
    assert assumed is not None
    assert assumed.credentials is not None
    app = SdkClients(admin.server, Credentials(
        str(assumed.credentials.access_key_id), str(assumed.credentials.access_key_secret),
        str(assumed.credentials.security_token)), admin.algorithm)

    def connect() -> bool:
        value, _ = _value(app, name)
        return _pg_logs_in(postgres, value["AccountName"], value["AccountPassword"])

    assert connect()
    assert not allowed(lambda: _value(app, f"prod/{unique}/other"))
    assert not allowed(lambda: app.kms.describe_secret(kms.DescribeSecretRequest(
        secret_name=name)))
    assert not allowed(lambda: app.kms.rotate_secret(kms.RotateSecretRequest(
        secret_name=name, version_id="x")))
    _rotate(admin, name, "r1")
    assert connect()  # the application fetches the new value and reconnects
    assert not _pg_logs_in(postgres, user, password)


# ---- rotation on schedule, by the server's clock


def test_a_ram_secret_rotates_when_its_interval_has_passed(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    clock = ShiftedClock()
    with start_server(tmp_path_factory.mktemp("rotation-clock"), clock=clock,
                      scheduler_interval=3600) as server:
        admin = SdkClients.admin(server)
        original = _user_with_one_key(admin, "scheduled")
        _ram_secret(admin, "ram/scheduled", "scheduled", original)  # every 30 days
        clock.offset = timedelta(days=29)
        server.runtime.run_scheduled()
        clock.offset = timedelta()
        assert _value(admin, "ram/scheduled")[0]["AccessKeyId"] == original[0]
        clock.offset = timedelta(days=30, minutes=1)
        server.runtime.run_scheduled()
        clock.offset = timedelta()
        rotated, _ = _value(admin, "ram/scheduled")
        assert rotated["AccessKeyId"] != original[0]
        assert _works(admin, (rotated["AccessKeyId"], rotated["AccessKeySecret"]))


def test_a_ram_secret_needs_the_right_to_manage_the_users_keys(admin: SdkClients,
                                                               unique: str) -> None:
    """Rotation will create and delete the user's AccessKeys: holding one of its keys is not
    enough to hand that power to the service, its creator must have it."""
    target = f"{unique}-target"
    key = _user_with_one_key(admin, target)
    account = admin.server.account_id
    secrets_only = make_user(admin, f"{unique}-kms", {
        "Effect": "Allow", "Action": "kms:*", "Resource": "*"})
    assert not allowed(lambda: _ram_secret(secrets_only, f"ram/{unique}", target, key))
    assert refused(lambda: _value(admin, f"ram/{unique}")) == (404, "Forbidden.ResourceNotFound")
    keeper = make_user(admin, f"{unique}-keeper", {
        "Effect": "Allow", "Action": "kms:*", "Resource": "*"}, {
        "Effect": "Allow", "Action": ["ram:CreateAccessKey", "ram:DeleteAccessKey"],
        "Resource": f"acs:ram::{account}:user/{target}"})
    assert allowed(lambda: _ram_secret(keeper, f"ram/{unique}", target, key))


def test_what_a_managed_secret_manages_cannot_be_changed(admin: SdkClients,
                                                        unique: str) -> None:
    """Pointing a RAM secret at another user by UpdateSecret would have the service mint keys
    for a user nobody allowed it to: only CustomData may change."""
    user = f"{unique}-owner"
    _ram_secret(admin, f"ram/{unique}", user, _user_with_one_key(admin, user))
    make_user(admin, f"{unique}-admin")
    client = ApiClient(admin.server.endpoint)  # the V2 SDK sends only CustomData; others JSON

    def update(config: dict[str, Any]) -> object:
        return client.call("2016-01-20", "UpdateSecret", {
            "SecretName": f"ram/{unique}", "ExtendedConfig": json.dumps(config)},
            ClientCredentials(*admin.server.admin_key))

    with pytest.raises(ApiError) as raised:
        update({"SecretSubType": "RamUserAccessKey", "UserName": f"{unique}-admin"})
    assert raised.value.code == "UnsupportedOperation"
    update({"SecretSubType": "RamUserAccessKey", "UserName": user,
            "CustomData": {"team": "billing"}})
    admin.kms.update_secret(kms.UpdateSecretRequest(
        secret_name=f"ram/{unique}", extended_config=kms.UpdateSecretRequestExtendedConfig(
            custom_data={"team": "payments"})))
    _rotate(admin, f"ram/{unique}", "r1")
    assert _value(admin, f"ram/{unique}")[1] == "r1"


def test_a_rotation_refused_before_anything_changed_says_why(admin: SdkClients,
                                                             unique: str) -> None:
    user = f"{unique}-gone"
    key = _user_with_one_key(admin, user)
    _ram_secret(admin, f"ram/{unique}", user, key)
    admin.ram.delete_access_key(ram.DeleteAccessKeyRequest(user_name=user,
                                                           user_access_key_id=key[0]))
    admin.ram.delete_user(ram.DeleteUserRequest(user_name=user))
    _rotate(admin, f"ram/{unique}", "r1")
    assert _value(admin, f"ram/{unique}")[1] == "v1"
    assert user in _describe(admin, f"ram/{unique}")["LastRotationError"]
    _rotate(admin, f"ram/{unique}", "r2")  # the claim was let go: it is tried again
    assert user in _describe(admin, f"ram/{unique}")["LastRotationError"]


def test_a_two_user_secret_needs_the_right_to_read_its_master(admin: SdkClients, unique: str,
                                                              postgres: DatabaseServer) -> None:
    """Its rotations set passwords with the master login: a creator who may not read the master
    secret cannot have them set another user's password into a secret it reads."""
    master = f"db/{unique}/master"
    admin.kms.create_secret(kms.CreateSecretRequest(
        secret_name=master, version_id="v1", secret_data=json.dumps({
            "Engine": "postgresql", "Host": postgres.host, "Port": postgres.port,
            "AccountName": postgres.superuser,
            "AccountPassword": postgres.superuser_password})))
    account = admin.server.account_id
    writer = make_user(admin, f"{unique}-writer", {
        "Effect": "Allow", "Action": "kms:CreateSecret", "Resource": "*"})
    plan = {"SecretSubType": "DoubleUsers", "AccountNames": ["app_x", postgres.superuser],
            "MasterSecretName": master}
    assert not allowed(lambda: _db_secret(writer, f"db/{unique}/app", "postgresql", postgres,
                                          "app_x", "whatever", plan))
    reader = make_user(admin, f"{unique}-reader", {
        "Effect": "Allow", "Action": "kms:CreateSecret", "Resource": "*"}, {
        "Effect": "Allow", "Action": "kms:GetSecretValue",
        "Resource": f"acs:kms:*:{account}:secret/{master}"})
    assert allowed(lambda: _db_secret(reader, f"db/{unique}/app", "postgresql", postgres,
                                      "app_x", "whatever", plan))
