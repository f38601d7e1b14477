"""KMS keys through the official SDK, on SQLite and PostgreSQL: metadata, aliases wherever a key
id goes, rotation (manual and by the scheduler on the server's clock), deletion windows and
protection, RAM per key ARN, and no key material or plaintext anywhere at rest."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from alibabacloud_kms20160120 import models as kms

from ramparts.core.clock import ShiftedClock
from ramparts.services.kms.keys import KeyBackend
from ramparts.testing import RunningServer, start_server
from tests.api.refusals import ISO_SECONDS, allowed, refused
from tests.api.sdk import SdkClients, make_user
from tests.api.test_kms_crypto import decrypt, encrypt, new_key
from tests.conftest import PostgresDatabases

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def describe(admin: SdkClients, key_id: str) -> dict[str, Any]:
    body = admin.kms.describe_key(kms.DescribeKeyRequest(key_id=key_id)).body
    assert body is not None
    assert body.key_metadata is not None
    return dict(body.key_metadata.to_map())


def test_a_new_key_is_an_enabled_software_aes_key(admin: SdkClients) -> None:
    body = admin.kms.create_key(kms.CreateKeyRequest(description="orders")).body
    assert body is not None
    assert body.key_metadata is not None
    created = body.key_metadata.to_map()
    key_id = created["KeyId"]
    assert re.fullmatch(UUID, key_id)
    account = admin.server.bootstrap.account.account_id
    assert created["Arn"] == f"acs:kms:cn-hangzhou:{account}:key/{key_id}"
    assert (created["KeyState"], created["KeySpec"], created["KeyUsage"], created["Origin"],
            created["ProtectionLevel"], created["Description"]) == (
        "Enabled", "Aliyun_AES_256", "ENCRYPT/DECRYPT", "Aliyun_KMS", "SOFTWARE", "orders")
    assert re.fullmatch(ISO_SECONDS, created["CreationDate"])
    assert re.fullmatch(UUID, created["PrimaryKeyVersion"])
    assert created["AutomaticRotation"] == "Disabled"
    assert describe(admin, key_id) | {"DeletionProtection": "Disabled"} == describe(admin, key_id)
    listed = admin.kms.list_keys(kms.ListKeysRequest(page_size=100)).body
    assert listed is not None
    assert {"KeyId": key_id, "KeyArn": created["Arn"]} in listed.to_map()["Keys"]["Key"]


@pytest.mark.parametrize(("field", "value"), [
    ("key_spec", "RSA_2048"), ("origin", "EXTERNAL"), ("protection_level", "HSM"),
    ("key_usage", "SIGN/VERIFY")])
def test_what_this_service_does_not_hold_is_refused(admin: SdkClients, field: str,
                                                    value: str) -> None:
    assert refused(lambda: admin.kms.create_key(kms.CreateKeyRequest(**{field: value}))) == (
        400, "UnsupportedOperation")


def test_the_description_changes(admin: SdkClients) -> None:
    key_id = new_key(admin, "before")
    admin.kms.update_key_description(kms.UpdateKeyDescriptionRequest(
        key_id=key_id, description="after"))
    assert describe(admin, key_id)["Description"] == "after"


def test_aliases_stand_for_their_key_everywhere(admin: SdkClients, unique: str) -> None:
    first, second = new_key(admin), new_key(admin)
    alias = f"alias/app/{unique}"
    admin.kms.create_alias(kms.CreateAliasRequest(alias_name=alias, key_id=first))
    assert describe(admin, alias)["KeyId"] == first
    sealed = encrypt(admin, alias, "YWxpYXM=")
    assert sealed.key_id == first
    assert refused(lambda: admin.kms.create_alias(kms.CreateAliasRequest(
        alias_name=alias, key_id=second))) == (400, "AliasAlreadyExists")
    admin.kms.update_alias(kms.UpdateAliasRequest(alias_name=alias, key_id=second))
    assert encrypt(admin, alias, "YWxpYXM=").key_id == second
    by_key = admin.kms.list_aliases_by_key_id(kms.ListAliasesByKeyIdRequest(key_id=second)).body
    assert by_key is not None
    account = admin.server.bootstrap.account.account_id
    assert by_key.to_map()["Aliases"]["Alias"] == [{
        "AliasName": alias, "KeyId": second,
        "AliasArn": f"acs:kms:cn-hangzhou:{account}:alias/app/{unique}"}]
    everything = admin.kms.list_aliases(kms.ListAliasesRequest(page_size=100)).body
    assert everything is not None
    assert alias in [a["AliasName"] for a in everything.to_map()["Aliases"]["Alias"]]
    admin.kms.delete_alias(kms.DeleteAliasRequest(alias_name=alias))
    assert refused(lambda: describe(admin, alias)) == (404, "Forbidden.AliasNotFound")
    assert decrypt(admin, str(sealed.ciphertext_blob)).key_id == first


@pytest.mark.parametrize("name", ["app", "alias/", "alias/acs/mine", "alias/has space",
                                  "alias/" + "x" * 250])
def test_bad_alias_names_are_refused(admin: SdkClients, name: str) -> None:
    key_id = new_key(admin)
    status, code = refused(lambda: admin.kms.create_alias(kms.CreateAliasRequest(
        alias_name=name, key_id=key_id)))
    assert (status, code) == (400, "InvalidParameter")


def test_a_manual_rotation_keeps_old_blobs_opening(admin: SdkClients) -> None:
    key_id = new_key(admin)
    before = encrypt(admin, key_id, "b2xk")
    version = admin.kms.create_key_version(kms.CreateKeyVersionRequest(key_id=key_id)).body
    assert version is not None
    assert version.key_version is not None
    new_version = version.key_version.key_version_id
    assert new_version != before.key_version_id
    assert describe(admin, key_id)["PrimaryKeyVersion"] == new_version
    after = encrypt(admin, key_id, "bmV3")
    assert after.key_version_id == new_version
    old = decrypt(admin, str(before.ciphertext_blob))
    assert (old.plaintext, old.key_version_id) == ("b2xk", before.key_version_id)
    listed = admin.kms.list_key_versions(kms.ListKeyVersionsRequest(key_id=key_id)).body
    assert listed is not None
    assert [v["KeyVersionId"] for v in listed.to_map()["KeyVersions"]["KeyVersion"]] == [
        before.key_version_id, new_version]
    one = admin.kms.describe_key_version(kms.DescribeKeyVersionRequest(
        key_id=key_id, key_version_id=before.key_version_id)).body
    assert one is not None
    assert one.to_map()["KeyVersion"]["KeyId"] == key_id
    assert refused(lambda: admin.kms.describe_key_version(kms.DescribeKeyVersionRequest(
        key_id=key_id, key_version_id="00000000-0000-4000-8000-000000000000"))) == (
        404, "Forbidden.KeyVersionNotFound")


@pytest.mark.parametrize("interval", ["6d", "731d", "86400s", "7 days", "7h", ""])
def test_rotation_intervals_outside_7_to_730_days_are_refused(admin: SdkClients,
                                                              interval: str) -> None:
    key_id = new_key(admin)
    assert refused(lambda: admin.kms.update_rotation_policy(kms.UpdateRotationPolicyRequest(
        key_id=key_id, enable_automatic_rotation=True, rotation_interval=interval or None))) \
        == (400, "InvalidParameter")


@pytest.mark.parametrize("days", [6, 367])
def test_deletion_windows_outside_7_to_366_days_are_refused(admin: SdkClients,
                                                            days: int) -> None:
    key_id = new_key(admin)
    assert refused(lambda: admin.kms.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(
        key_id=key_id, pending_window_in_days=days))) == (400, "InvalidParameter")


def test_deletion_protection_keeps_a_key_from_being_scheduled(admin: SdkClients) -> None:
    key_id = new_key(admin)
    arn = describe(admin, key_id)["Arn"]
    admin.kms.set_deletion_protection(kms.SetDeletionProtectionRequest(
        protected_resource_arn=arn, enable_deletion_protection=True,
        deletion_protection_description="production data"))
    metadata = describe(admin, key_id)
    assert (metadata["DeletionProtection"], metadata["DeletionProtectionDescription"]) == (
        "Enabled", "production data")
    assert refused(lambda: admin.kms.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(
        key_id=key_id, pending_window_in_days=7))) == (400, "Rejected.StateModifiedFailed")
    admin.kms.set_deletion_protection(kms.SetDeletionProtectionRequest(
        protected_resource_arn=arn, enable_deletion_protection=False))
    admin.kms.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(
        key_id=key_id, pending_window_in_days=30))
    metadata = describe(admin, key_id)
    assert metadata["KeyState"] == "PendingDeletion"
    assert re.fullmatch(ISO_SECONDS, metadata["DeleteDate"])


def test_ram_allows_a_key_by_its_arn_alias_or_not(admin: SdkClients, unique: str) -> None:
    mine, other = new_key(admin), new_key(admin)
    alias = f"alias/{unique}-mine"
    admin.kms.create_alias(kms.CreateAliasRequest(alias_name=alias, key_id=mine))
    account = admin.server.bootstrap.account.account_id
    user = make_user(admin, f"{unique}-app", {
        "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": f"acs:kms:*:{account}:key/{mine}"})
    assert allowed(lambda: encrypt(user, mine, "aGk="))
    assert allowed(lambda: encrypt(user, alias, "aGk="))  # an alias is checked as its key
    assert not allowed(lambda: encrypt(user, other, "aGk="))
    theirs = str(encrypt(admin, other, "aGk=").ciphertext_blob)
    assert not allowed(lambda: decrypt(user, theirs))
    assert allowed(lambda: decrypt(user, str(encrypt(admin, mine, "aGk=").ciphertext_blob)))
    assert not allowed(lambda: user.kms.describe_key(kms.DescribeKeyRequest(key_id=mine)))
    assert not allowed(lambda: user.kms.disable_key(kms.DisableKeyRequest(key_id=mine)))
    assert not allowed(lambda: user.kms.create_key(kms.CreateKeyRequest()))


def test_re_encrypt_needs_both_ends(admin: SdkClients, unique: str) -> None:
    source, destination = new_key(admin), new_key(admin)
    account = admin.server.bootstrap.account.account_id
    blob = str(encrypt(admin, source, "aGk=").ciphertext_blob)

    def mover(*statements: dict[str, Any]) -> SdkClients:
        name = str(statements[0]["Action"]).split(":")[1] + str(len(statements))
        return make_user(admin, f"{unique}-{name}", *statements)

    def re_encrypt(user: SdkClients) -> object:
        return user.kms.re_encrypt(kms.ReEncryptRequest(ciphertext_blob=blob,
                                                        destination_key_id=destination))

    both = mover({"Effect": "Allow", "Action": "kms:ReEncryptFrom",
                  "Resource": f"acs:kms:*:{account}:key/{source}"},
                 {"Effect": "Allow", "Action": "kms:ReEncryptTo",
                  "Resource": f"acs:kms:*:{account}:key/{destination}"})
    only_to = mover({"Effect": "Allow", "Action": "kms:ReEncryptTo",
                     "Resource": f"acs:kms:*:{account}:key/{destination}"})
    only_from = mover({"Effect": "Allow", "Action": "kms:ReEncryptFrom",
                       "Resource": f"acs:kms:*:{account}:key/{source}"})
    assert allowed(lambda: re_encrypt(both))
    assert not allowed(lambda: re_encrypt(only_to))
    assert not allowed(lambda: re_encrypt(only_from))


def test_the_trail_keeps_no_plaintext(admin: SdkClients) -> None:
    key_id = new_key(admin)
    canary = base64.b64encode(b"kms-plaintext-canary-7f3a").decode()
    blob = str(encrypt(admin, key_id, canary).ciphertext_blob)
    decrypt(admin, blob)
    data_key = admin.kms.generate_data_key(kms.GenerateDataKeyRequest(key_id=key_id)).body
    assert data_key is not None
    with admin.server.runtime.store.transaction() as tx:
        bodies = "\n".join(str(row["body"]) for row in tx.query(
            "SELECT body FROM trail_events WHERE event_name IN ('Encrypt', 'Decrypt', "
            "'GenerateDataKey')"))
    assert key_id in bodies
    assert canary not in bodies
    assert str(data_key.plaintext) not in bodies


# ---- the server's clock: rotation and deletion by the scheduler


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shifted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[RunningServer, ShiftedClock]]:
    url = None
    if request.param == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    clock = ShiftedClock()
    with start_server(tmp_path_factory.mktemp("kms-clock"), database_url=url, clock=clock,
                      scheduler_interval=3600) as running:
        yield running, clock


def _in_days(server: RunningServer, clock: ShiftedClock, days: float) -> None:
    """The server's clock `days` ahead, what is due then done, and the clock back (clients
    sign with the real time)."""
    clock.offset = timedelta(days=days)
    try:
        server.runtime.run_scheduled()
    finally:
        clock.offset = timedelta()


def test_automatic_rotation_runs_when_due(shifted: tuple[RunningServer, ShiftedClock]) -> None:
    server, clock = shifted
    admin = SdkClients.admin(server)
    key_id = new_key(admin)
    before = encrypt(admin, key_id, "Zmlyc3Q=")
    admin.kms.update_rotation_policy(kms.UpdateRotationPolicyRequest(
        key_id=key_id, enable_automatic_rotation=True, rotation_interval="604800s"))
    metadata = describe(admin, key_id)
    assert (metadata["AutomaticRotation"], metadata["RotationInterval"]) == ("Enabled",
                                                                              "604800s")
    _in_days(server, clock, 6)
    assert describe(admin, key_id)["PrimaryKeyVersion"] == before.key_version_id
    _in_days(server, clock, 7.01)
    rotated = describe(admin, key_id)
    assert rotated["PrimaryKeyVersion"] != before.key_version_id
    assert encrypt(admin, key_id, "bmV4dA==").key_version_id == rotated["PrimaryKeyVersion"]
    assert decrypt(admin, str(before.ciphertext_blob)).plaintext == "Zmlyc3Q="
    admin.kms.update_rotation_policy(kms.UpdateRotationPolicyRequest(
        key_id=key_id, enable_automatic_rotation=False))
    _in_days(server, clock, 30)
    assert describe(admin, key_id)["PrimaryKeyVersion"] == rotated["PrimaryKeyVersion"]


def test_a_key_is_deleted_when_its_window_ends(
        shifted: tuple[RunningServer, ShiftedClock]) -> None:
    server, clock = shifted
    admin = SdkClients.admin(server)
    key_id = new_key(admin)
    admin.kms.create_alias(kms.CreateAliasRequest(alias_name=f"alias/gone-{key_id[:8]}",
                                                  key_id=key_id))
    blob = str(encrypt(admin, key_id, "Z29uZQ==").ciphertext_blob)
    admin.kms.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(
        key_id=key_id, pending_window_in_days=7))
    _in_days(server, clock, 6.9)
    assert describe(admin, key_id)["KeyState"] == "PendingDeletion"
    _in_days(server, clock, 7.01)
    assert refused(lambda: describe(admin, key_id)) == (404, "Forbidden.KeyNotFound")
    assert refused(lambda: decrypt(admin, blob)) == (400, "InvalidParameter")
    assert refused(lambda: describe(admin, f"alias/gone-{key_id[:8]}")) == (
        404, "Forbidden.AliasNotFound")


def test_no_key_material_or_plaintext_at_rest(
        shifted: tuple[RunningServer, ShiftedClock], caplog: pytest.LogCaptureFixture) -> None:
    """The raw database files (SQLite's, WAL included, or PostgreSQL's rows) and the server's
    log hold neither a key version's material nor what was encrypted, in any encoding."""
    caplog.set_level("DEBUG")
    server, _ = shifted
    admin = SdkClients.admin(server)
    key_id = new_key(admin)
    canary = base64.b64encode(b"at-rest-plaintext-canary-41c9").decode()
    sealed = encrypt(admin, key_id, canary)
    runtime = server.runtime
    with runtime.store.transaction() as tx:
        backend = KeyBackend(tx, runtime.env, runtime.account.account_id, "cn-hangzhou")
        material = backend.material(key_id, str(sealed.key_version_id))
        rows = tx.query("SELECT * FROM kms_key_versions") + tx.query("SELECT * FROM kms_keys") \
            + tx.query("SELECT body FROM trail_events")
    forms = [material.hex(), base64.b64encode(material).decode(), canary,
             base64.b64decode(canary).decode()]
    dumped = repr(rows) + caplog.text
    assert not any(form in dumped for form in forms)
    if runtime.store.dialect == "sqlite":
        raw = b"".join(path.read_bytes() for path in server.data_dir.rglob("*")
                       if path.is_file())
        assert material not in raw
        assert not any(form.encode() in raw for form in forms)
