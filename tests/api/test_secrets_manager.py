"""Secrets Manager through the official SDK (`alibabacloud-kms20160120`, ACS3 and RPC V1), on
SQLite and PostgreSQL: the life of a secret and its versions, stage labels, binary values,
deletion windows, the documented refusals, the KMS key each value depends on, RAM per secret
ARN, and no secret value in the trail or at rest."""

from __future__ import annotations

import base64
import json
import re
import string
from typing import Any

import pytest
from alibabacloud_kms20160120 import models as kms

from ramparts.services.secrets.secrets import DEFAULT_KEY_ALIAS, DEFAULT_KEY_CREATOR
from tests.api.refusals import ISO_SECONDS, allowed, refused
from tests.api.sdk import SdkClients, make_user
from tests.api.test_kms_crypto import new_key

NOT_FOUND = (404, "Forbidden.ResourceNotFound")
EXISTS = (409, "Rejected.ResourceExist")
IN_DELETE_WINDOW = (409, "Rejected.ResourceInDeleteWindow")
INVALID = (400, "InvalidParameter")


def create(admin: SdkClients, name: str, data: str = "first-value", **fields: Any
           ) -> dict[str, Any]:
    body = admin.kms.create_secret(kms.CreateSecretRequest(
        secret_name=name, version_id=fields.pop("version_id", "v1"), secret_data=data,
        **fields)).body
    assert body is not None
    return dict(body.to_map())


def get(admin: SdkClients, name: str, **fields: Any) -> dict[str, Any]:
    body = admin.kms.get_secret_value(kms.GetSecretValueRequest(secret_name=name,
                                                                **fields)).body
    assert body is not None
    return dict(body.to_map())


def put(admin: SdkClients, name: str, version_id: str, data: str, **fields: Any
        ) -> dict[str, Any]:
    body = admin.kms.put_secret_value(kms.PutSecretValueRequest(
        secret_name=name, version_id=version_id, secret_data=data, **fields)).body
    assert body is not None
    return dict(body.to_map())


def describe(admin: SdkClients, name: str, **fields: Any) -> dict[str, Any]:
    body = admin.kms.describe_secret(kms.DescribeSecretRequest(secret_name=name,
                                                               **fields)).body
    assert body is not None
    return dict(body.to_map())


def versions(admin: SdkClients, name: str, **fields: Any) -> dict[str, list[str]]:
    body = admin.kms.list_secret_version_ids(kms.ListSecretVersionIdsRequest(
        secret_name=name, **fields)).body
    assert body is not None
    return {v["VersionId"]: v["VersionStages"]["VersionStage"]
            for v in body.to_map()["VersionIds"]["VersionId"]}


def listed(admin: SdkClients, **fields: Any) -> dict[str, dict[str, Any]]:
    body = admin.kms.list_secrets(kms.ListSecretsRequest(page_size=100, **fields)).body
    assert body is not None
    return {s["SecretName"]: s for s in body.to_map()["SecretList"]["Secret"]}


def stage(admin: SdkClients, name: str, label: str, **fields: Any) -> None:
    admin.kms.update_secret_version_stage(kms.UpdateSecretVersionStageRequest(
        secret_name=name, version_stage=label, **fields))


def encodings(value: bytes) -> list[bytes]:
    """The value as is, in hex, and in base64 at each of the three alignments it could have
    inside a larger base64 text (standard and URL-safe)."""
    forms = [value, value.hex().encode(), value.hex().upper().encode()]
    for shift, start in ((0, 0), (1, 2), (2, 3)):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * shift + value)
            forms.append(text[start:len(text) - 4])
    return forms


def arn(admin: SdkClients, name: str) -> str:
    return f"acs:kms:cn-hangzhou:{admin.server.account_id}:secret/{name}"


# ---- the life of a secret


def test_the_life_of_a_database_password(admin: SdkClients, unique: str) -> None:
    name = f"prod/{unique}/database/password"
    created = create(admin, name, "s3cret-one", description="the orders database")
    assert created == {"Arn": arn(admin, name), "SecretName": name, "VersionId": "v1",
                       "SecretType": "Generic", "RequestId": created["RequestId"]}

    current = get(admin, name)
    assert (current["SecretData"], current["SecretDataType"], current["VersionId"]) == (
        "s3cret-one", "text", "v1")
    assert current["VersionStages"] == {"VersionStage": ["ACSCurrent"]}
    assert re.fullmatch(ISO_SECONDS, current["CreateTime"])

    assert put(admin, name, "v2", "s3cret-two")["VersionStages"] == {
        "VersionStage": ["ACSCurrent"]}
    assert get(admin, name)["SecretData"] == "s3cret-two"
    assert get(admin, name, version_stage="ACSPrevious")["SecretData"] == "s3cret-one"
    assert get(admin, name, version_id="v1")["SecretData"] == "s3cret-one"
    put(admin, name, "v3", "s3cret-three")
    assert versions(admin, name) == {"v2": ["ACSPrevious"], "v3": ["ACSCurrent"]}
    assert versions(admin, name, include_deprecated="true") == {
        "v1": [], "v2": ["ACSPrevious"], "v3": ["ACSCurrent"]}

    # roll back: ACSCurrent to v2, and v3 (the former current) becomes ACSPrevious
    stage(admin, name, "ACSCurrent", move_to_version="v2")
    assert get(admin, name)["SecretData"] == "s3cret-two"
    assert versions(admin, name) == {"v2": ["ACSCurrent"], "v3": ["ACSPrevious"]}
    stage(admin, name, "Canary", move_to_version="v1")
    assert get(admin, name, version_stage="Canary")["SecretData"] == "s3cret-one"
    stage(admin, name, "Canary", remove_from_version="v1")
    assert refused(lambda: get(admin, name, version_stage="Canary")) == NOT_FOUND

    described = describe(admin, name)
    assert described["Arn"] == arn(admin, name)
    assert (described["SecretType"], described["Description"],
            described["AutomaticRotation"]) == ("Generic", "the orders database", "Disabled")
    assert re.fullmatch(ISO_SECONDS, described["UpdateTime"])
    assert "PlannedDeleteTime" not in described
    assert name in listed(admin)

    admin.kms.update_secret(kms.UpdateSecretRequest(secret_name=name, description="orders"))
    assert describe(admin, name)["Description"] == "orders"

    # delete with a recovery window, then restore
    deleted = admin.kms.delete_secret(kms.DeleteSecretRequest(
        secret_name=name, recovery_window_in_days="7")).body
    assert deleted is not None
    planned = deleted.planned_delete_time
    assert re.fullmatch(ISO_SECONDS, str(planned))
    assert describe(admin, name)["PlannedDeleteTime"] == planned
    assert listed(admin)[name]["PlannedDeleteTime"] == planned
    assert refused(lambda: get(admin, name)) == IN_DELETE_WINDOW
    assert refused(lambda: put(admin, name, "v4", "x")) == IN_DELETE_WINDOW
    assert refused(lambda: create(admin, name)) == IN_DELETE_WINDOW
    assert refused(lambda: admin.kms.delete_secret(kms.DeleteSecretRequest(
        secret_name=name))) == IN_DELETE_WINDOW
    admin.kms.restore_secret(kms.RestoreSecretRequest(secret_name=name))
    assert get(admin, name)["SecretData"] == "s3cret-two"

    # delete without recovery: gone at once, and the name can be used again
    admin.kms.delete_secret(kms.DeleteSecretRequest(secret_name=name,
                                                    force_delete_without_recovery="true"))
    assert refused(lambda: get(admin, name)) == NOT_FOUND
    assert refused(lambda: describe(admin, name)) == NOT_FOUND
    assert name not in listed(admin)
    create(admin, name, "reborn", version_id="r1")
    assert versions(admin, name, include_deprecated="true") == {"r1": ["ACSCurrent"]}


def test_a_secret_is_named_by_its_arn_too(admin: SdkClients, unique: str) -> None:
    name = f"{unique}/by-arn"
    create(admin, name, "arn-value")
    assert get(admin, arn(admin, name))["SecretName"] == name
    other_account = f"acs:kms:cn-hangzhou:1999999999999999:secret/{name}"
    assert refused(lambda: get(admin, other_account)) == NOT_FOUND


def test_a_new_value_is_the_same_version_only_with_the_same_data(admin: SdkClients,
                                                                  unique: str) -> None:
    name = f"{unique}/idempotent"
    create(admin, name, "one")
    first = put(admin, name, "v2", "two")
    again = put(admin, name, "v2", "two")
    assert (again["VersionId"], again["VersionStages"]) == ("v2", first["VersionStages"])
    assert refused(lambda: put(admin, name, "v2", "not two")) == EXISTS
    assert refused(lambda: put(admin, name, "v1", "not one")) == EXISTS
    assert versions(admin, name) == {"v1": ["ACSPrevious"], "v2": ["ACSCurrent"]}


def test_given_stages_mark_a_new_version_instead_of_current(admin: SdkClients,
                                                            unique: str) -> None:
    name = f"{unique}/staged"
    create(admin, name, "live")
    put(admin, name, "v2", "candidate", version_stages=json.dumps(["Pending"]))
    assert get(admin, name)["SecretData"] == "live"
    assert get(admin, name, version_stage="Pending")["SecretData"] == "candidate"
    assert versions(admin, name) == {"v1": ["ACSCurrent"], "v2": ["Pending"]}


def test_binary_values_are_sent_and_returned_as_base64(admin: SdkClients, unique: str) -> None:
    name = f"{unique}/tls-key"
    raw = bytes(range(256))
    encoded = base64.b64encode(raw).decode()
    create(admin, name, encoded, secret_data_type="binary")
    value = get(admin, name)
    assert (value["SecretData"], value["SecretDataType"]) == (encoded, "binary")
    put(admin, name, "v2", "plain text now", secret_data_type="text")
    assert get(admin, name)["SecretDataType"] == "text"
    assert get(admin, name, version_id="v1")["SecretData"] == encoded
    assert refused(lambda: create(admin, f"{name}-bad", "not base64!",
                                  secret_data_type="binary")) == INVALID


def test_fetch_extended_config_adds_the_type_rotation_and_extended_config(
        admin: SdkClients, unique: str) -> None:
    name = f"{unique}/extended"
    config = {"CustomData": {"owner": "orders"}}
    create(admin, name, "value", extended_config=config)
    plain = get(admin, name)
    assert "AutomaticRotation" not in plain
    assert "ExtendedConfig" not in plain
    extended = get(admin, name, fetch_extended_config=True)
    assert (extended["SecretType"], extended["AutomaticRotation"]) == ("Generic", "Disabled")
    assert json.loads(extended["ExtendedConfig"]) == config
    assert "NextRotationDate" not in extended  # no rotation for generic secrets
    assert "RotationInterval" not in extended
    admin.kms.update_secret(kms.UpdateSecretRequest(
        secret_name=name, extended_config=kms.UpdateSecretRequestExtendedConfig(
            custom_data={"owner": "billing", "tier": "1"})))
    assert json.loads(describe(admin, name)["ExtendedConfig"]) == {
        "CustomData": {"owner": "billing", "tier": "1"}}


def test_tags_on_secrets_and_filters_on_the_list(admin: SdkClients, unique: str) -> None:
    tagged, plain = f"{unique}/tagged", f"{unique}/plain"
    create(admin, tagged, tags=json.dumps([{"TagKey": "team", "TagValue": unique}]))
    create(admin, plain)
    assert describe(admin, tagged, fetch_tags="true")["Tags"] == {
        "Tag": [{"TagKey": "team", "TagValue": unique}]}
    assert "Tags" not in describe(admin, tagged)
    admin.kms.tag_resource(kms.TagResourceRequest(
        secret_name=plain, tags=json.dumps([{"TagKey": "team", "TagValue": unique},
                                            {"TagKey": "tier", "TagValue": "gold"}])))
    by_tag = listed(admin, fetch_tags="true", filters=json.dumps(
        [{"Key": "TagValue", "Values": [unique]}]))
    assert set(by_tag) == {tagged, plain}
    assert by_tag[plain]["Tags"]["Tag"] == [{"TagKey": "team", "TagValue": unique},
                                            {"TagKey": "tier", "TagValue": "gold"}]
    by_name = listed(admin, filters=json.dumps([{"Key": "SecretName", "Values": [plain]}]))
    assert list(by_name) == [plain]
    admin.kms.untag_resource(kms.UntagResourceRequest(secret_name=plain,
                                                      tag_keys=json.dumps(["team"])))
    assert describe(admin, plain, fetch_tags="true")["Tags"] == {
        "Tag": [{"TagKey": "tier", "TagValue": "gold"}]}
    for bad in ([{"TagKey": "acs:reserved", "TagValue": "x"}],
                [{"TagKey": f"k{n}", "TagValue": "v"} for n in range(21)]):
        status, code = refused(lambda bad=bad: admin.kms.tag_resource(  # type: ignore[misc]
            kms.TagResourceRequest(secret_name=plain, tags=json.dumps(bad))))
        assert (status, code) in (INVALID, (400, "Rejected.LimitExceeded"))
    assert refused(lambda: admin.kms.list_secrets(kms.ListSecretsRequest(
        filters=json.dumps([{"Key": "Colour", "Values": ["red"]}])))) == INVALID


def test_tags_on_keys(admin: SdkClients) -> None:
    key_id = new_key(admin)
    admin.kms.tag_resource(kms.TagResourceRequest(
        key_id=key_id, tags=json.dumps([{"TagKey": "app", "TagValue": "billing"}])))
    body = admin.kms.list_resource_tags(kms.ListResourceTagsRequest(key_id=key_id)).body
    assert body is not None
    assert body.to_map()["Tags"]["Tag"] == [{"KeyId": key_id, "TagKey": "app",
                                             "TagValue": "billing"}]
    admin.kms.untag_resource(kms.UntagResourceRequest(key_id=key_id, tag_keys="app"))
    body = admin.kms.list_resource_tags(kms.ListResourceTagsRequest(key_id=key_id)).body
    assert body is not None
    assert body.to_map()["Tags"]["Tag"] == []
    assert refused(lambda: admin.kms.tag_resource(kms.TagResourceRequest(
        key_id=key_id, secret_name="both", tags="[]"))) == INVALID


def test_secrets_are_listed_by_page(admin: SdkClients, unique: str) -> None:
    names = [f"{unique}/page-{n}" for n in range(3)]
    for name in names:
        create(admin, name)
    only = json.dumps([{"Key": "SecretName", "Values": names}])
    pages = []
    for number in (1, 2):
        body = admin.kms.list_secrets(kms.ListSecretsRequest(
            page_number=number, page_size=2, filters=only)).body
        assert body is not None
        page = body.to_map()
        assert (page["PageNumber"], page["PageSize"], page["TotalCount"]) == (number, 2, 3)
        pages.append([s["SecretName"] for s in page["SecretList"]["Secret"]])
    assert pages == [names[:2], names[2:]]


# ---- refusals


@pytest.mark.parametrize(("missing", "code"), [
    ("secret_name", "MissingSecretName"), ("version_id", "MissingVersionId"),
    ("secret_data", "MissingSecretData")])
def test_create_secret_needs_its_name_version_and_data(admin: SdkClients, unique: str,
                                                       missing: str, code: str) -> None:
    fields: dict[str, Any] = {"secret_name": f"{unique}/m", "version_id": "v1",
                              "secret_data": "x"}
    fields[missing] = None
    assert refused(lambda: admin.kms.create_secret(kms.CreateSecretRequest(**fields))) == (
        400, code)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"secret_name": "acs/mine"}, INVALID),
    ({"secret_name": "has space"}, INVALID),
    ({"secret_name": "x" * 193}, INVALID),
    ({"secret_data_type": "json"}, INVALID),
    ({"secret_data": "a" * 30721}, INVALID),
    ({"secret_type": "Redis"}, (400, "UnsupportedOperation")),
    ({"secret_type": "Rds"}, INVALID),  # a managed secret needs its ExtendedConfig
    ({"secret_type": "Anything"}, INVALID),
    ({"enable_automatic_rotation": True, "rotation_interval": "7d"}, INVALID),
    ({"rotation_interval": "1h"}, INVALID),
    ({"tags": "not json"}, (400, "InvalidParameter.Tags")),
    ({"tags": json.dumps([{"TagKey": "aliyun-x", "TagValue": "v"}])}, INVALID),
    ({"encryption_key_id": "00000000-0000-4000-8000-00000000dead"},
     (404, "Forbidden.KeyNotFound")),
    ({"dkmsinstance_id": "kst-hzz1"}, INVALID),
])
def test_create_secret_refuses_what_is_not_valid(admin: SdkClients, unique: str,
                                                 fields: dict[str, Any],
                                                 expected: tuple[int, str]) -> None:
    request: dict[str, Any] = {"secret_name": f"{unique}/refused", "version_id": "v1",
                               "secret_data": "x", **fields}
    assert refused(lambda: admin.kms.create_secret(kms.CreateSecretRequest(**request))) \
        == expected
    assert refused(lambda: describe(admin, request["secret_name"])) == NOT_FOUND


def test_secret_data_up_to_30720_bytes(admin: SdkClients, unique: str) -> None:
    name = f"{unique}/large"
    create(admin, name, "a" * 30720)
    assert get(admin, name)["SecretData"] == "a" * 30720


def test_what_does_not_exist_is_named_as_such(admin: SdkClients, unique: str) -> None:
    name = f"{unique}/nothing-here"
    for call in (lambda: get(admin, name), lambda: put(admin, name, "v1", "x"),
                 lambda: describe(admin, name), lambda: versions(admin, name),
                 lambda: admin.kms.delete_secret(kms.DeleteSecretRequest(secret_name=name)),
                 lambda: admin.kms.restore_secret(kms.RestoreSecretRequest(secret_name=name)),
                 lambda: admin.kms.update_secret(kms.UpdateSecretRequest(
                     secret_name=name, description="x")),
                 lambda: stage(admin, name, "ACSCurrent", move_to_version="v1")):
        assert refused(call) == NOT_FOUND
    create(admin, name)
    assert refused(lambda: create(admin, name)) == EXISTS
    assert refused(lambda: get(admin, name, version_id="v9")) == NOT_FOUND
    assert refused(lambda: get(admin, name, version_stage="ACSPrevious")) == NOT_FOUND
    assert refused(lambda: stage(admin, name, "ACSCurrent", move_to_version="v9")) == NOT_FOUND


def test_stage_updates_that_are_refused(admin: SdkClients, unique: str) -> None:
    name = f"{unique}/stages"
    create(admin, name)
    put(admin, name, "v2", "two")
    assert refused(lambda: stage(admin, name, "ACSCurrent", remove_from_version="v2")) \
        == INVALID
    assert refused(lambda: stage(admin, name, "ACSCurrent", move_to_version="v1",
                                 remove_from_version="v1")) == INVALID
    assert refused(lambda: stage(admin, name, "Custom")) == INVALID
    for number in range(6):
        stage(admin, name, f"Label{number}", move_to_version="v1")
    assert refused(lambda: stage(admin, name, "Ninth", move_to_version="v1")) == (
        400, "Rejected.LimitExceeded")
    assert versions(admin, name)["v2"] == ["ACSCurrent"]


@pytest.mark.parametrize("days", ["6", "31", "seven"])
def test_recovery_windows_outside_7_to_30_days_are_refused(admin: SdkClients, unique: str,
                                                           days: str) -> None:
    name = f"{unique}/window"
    create(admin, name)
    status, code = refused(lambda: admin.kms.delete_secret(kms.DeleteSecretRequest(
        secret_name=name, recovery_window_in_days=days)))
    assert status == 400
    assert code.startswith("InvalidParameter")
    assert "PlannedDeleteTime" not in describe(admin, name)


# ---- the key behind the values


def test_a_disabled_key_keeps_the_secret_shut_until_enabled(admin: SdkClients,
                                                            unique: str) -> None:
    key_id = new_key(admin, "secrets of the payments team")
    alias = f"alias/{unique}-payments"
    admin.kms.create_alias(kms.CreateAliasRequest(alias_name=alias, key_id=key_id))
    name = f"{unique}/payments"
    create(admin, name, "card-processor-token", encryption_key_id=alias)
    assert describe(admin, name)["EncryptionKeyId"] == key_id
    admin.kms.disable_key(kms.DisableKeyRequest(key_id=key_id))
    try:
        assert refused(lambda: get(admin, name)) == (400, "Rejected.Disabled")
        assert refused(lambda: put(admin, name, "v2", "x")) == (400, "Rejected.Disabled")
        assert refused(lambda: create(admin, f"{name}-2", encryption_key_id=key_id)) == (
            400, "Rejected.Disabled")
    finally:
        admin.kms.enable_key(kms.EnableKeyRequest(key_id=key_id))
    assert get(admin, name)["SecretData"] == "card-processor-token"
    admin.kms.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(
        key_id=key_id, pending_window_in_days=7))
    try:
        assert refused(lambda: get(admin, name)) == (400, "Rejected.PendingDeletion")
    finally:
        admin.kms.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id))
    assert get(admin, name)["SecretData"] == "card-processor-token"


def test_the_default_key_is_an_ordinary_key_the_service_made(admin: SdkClients,
                                                             unique: str) -> None:
    create(admin, f"{unique}/default-1")
    create(admin, f"{unique}/default-2")
    key_id = describe(admin, f"{unique}/default-1")["EncryptionKeyId"]
    assert describe(admin, f"{unique}/default-2")["EncryptionKeyId"] == key_id
    key = admin.kms.describe_key(kms.DescribeKeyRequest(key_id=DEFAULT_KEY_ALIAS)).body
    assert key is not None
    assert key.key_metadata is not None
    assert (key.key_metadata.key_id, key.key_metadata.creator,
            key.key_metadata.key_state) == (key_id, DEFAULT_KEY_CREATOR, "Enabled")


# ---- RAM, the trail and the store


def test_ram_grants_one_secret_by_its_arn(admin: SdkClients, unique: str) -> None:
    mine, other = f"{unique}/app/db", f"{unique}/other/db"
    create(admin, mine, "mine-value")
    create(admin, other, "other-value")
    user = make_user(admin, f"{unique}-reader", {
        "Effect": "Allow", "Action": "kms:GetSecretValue",
        "Resource": f"acs:kms:*:{admin.server.account_id}:secret/{mine}"})
    assert get(user, mine)["SecretData"] == "mine-value"
    assert get(user, arn(admin, mine))["SecretData"] == "mine-value"
    assert not allowed(lambda: get(user, other))
    assert not allowed(lambda: get(user, arn(admin, other)))
    for action in (lambda: put(user, mine, "v2", "x"), lambda: describe(user, mine),
                   lambda: versions(user, mine), lambda: listed(user),
                   lambda: create(user, f"{unique}/new"),
                   lambda: stage(user, mine, "ACSCurrent", move_to_version="v1"),
                   lambda: user.kms.update_secret(kms.UpdateSecretRequest(
                       secret_name=mine, description="x")),
                   lambda: user.kms.delete_secret(kms.DeleteSecretRequest(secret_name=mine)),
                   lambda: user.kms.restore_secret(kms.RestoreSecretRequest(secret_name=mine)),
                   lambda: user.kms.get_random_password(kms.GetRandomPasswordRequest()),
                   lambda: user.kms.tag_resource(kms.TagResourceRequest(
                       secret_name=mine, tags='[{"TagKey":"a","TagValue":"b"}]'))):
        assert not allowed(action)
    assert get(admin, mine)["VersionId"] == "v1"


def _trail(admin: SdkClients, *names: str) -> str:
    with admin.server.runtime.store.transaction() as tx:
        marks = ", ".join("?" * len(names))
        rows = tx.query(f"SELECT body FROM trail_events WHERE event_name IN ({marks})",  # noqa: S608
                        names)
    return "\n".join(str(row["body"]) for row in rows)


def test_the_trail_names_secrets_but_never_holds_their_values(admin: SdkClients,
                                                              unique: str) -> None:
    name = f"{unique}/trail/password"
    text = f"trail-canary-{unique}-5f1e"
    binary = f"binary-canary-{unique}".encode()
    create(admin, name, text)
    put(admin, name, "v2", f"trail-canary-two-{unique}")
    get(admin, name, version_id="v1")
    get(admin, name)
    create(admin, f"{name}-bin", base64.b64encode(binary).decode(), secret_data_type="binary")
    get(admin, f"{name}-bin")
    assert refused(lambda: put(admin, name, "v2", f"refused-canary-{unique}")) == EXISTS
    password = admin.kms.get_random_password(kms.GetRandomPasswordRequest()).body
    assert password is not None
    bodies = _trail(admin, "CreateSecret", "PutSecretValue", "GetSecretValue",
                    "GetRandomPassword")
    assert name in bodies
    assert "ACS::KMS::Secret" in bodies
    for value in (text, f"trail-canary-two-{unique}", f"refused-canary-{unique}",
                  base64.b64encode(binary).decode(), binary.decode(),
                  str(password.random_password)):
        for form in encodings(value.encode()):
            assert form.decode() not in bodies


def test_no_secret_value_at_rest(admin: SdkClients, unique: str) -> None:
    """The store's rows (and, on SQLite, its raw files, WAL included) hold no value in text,
    base64 or hex."""
    name = f"{unique}/at-rest"
    canaries = [f"rest-canary-{unique}-one", f"rest-canary-{unique}-two"]
    create(admin, name, canaries[0])
    put(admin, name, "v2", canaries[1])
    binary = f"rest-binary-{unique}".encode()
    create(admin, f"{name}-bin", base64.b64encode(binary).decode(), secret_data_type="binary")
    forms = encodings(binary) + encodings(base64.b64encode(binary))
    for canary in canaries:
        forms += encodings(canary.encode())
    runtime = admin.server.runtime
    with runtime.store.transaction() as tx:
        rows = repr([tx.query(f"SELECT * FROM {table}") for table in (  # noqa: S608
            "secrets", "secret_versions", "secret_version_stages", "kms_tags", "trail_events")])
    for form in forms:
        assert form.decode() not in rows
    if runtime.store.dialect == "sqlite":
        raw_files = b"".join(path.read_bytes() for path in admin.server.data_dir.rglob("*")
                             if path.is_file())
        assert raw_files
        for form in forms:
            assert form not in raw_files


# ---- random passwords


def test_random_passwords_follow_their_options(admin: SdkClients) -> None:
    def password(**fields: Any) -> str:
        body = admin.kms.get_random_password(kms.GetRandomPasswordRequest(**fields)).body
        assert body is not None
        return str(body.random_password)

    default = password()
    assert len(default) == 32
    assert set(default) & set(string.punctuation)
    assert len(password(password_length="8")) == 8
    assert len(password(password_length="128")) == 128
    digits = password(password_length="20", exclude_lowercase="true",
                      exclude_uppercase="true", exclude_punctuation="true")
    assert re.fullmatch(r"[0-9]{20}", digits)
    assert not set(password(exclude_characters="abcdefABCDEF0123")) & set("abcdefABCDEF0123")
    assert password() != password()
    for fields in ({"password_length": "7"}, {"password_length": "129"},
                   {"exclude_lowercase": "true", "exclude_uppercase": "true",
                    "exclude_numbers": "true", "exclude_punctuation": "true"}):
        status, code = refused(lambda fields=fields: password(**fields))  # type: ignore[misc]
        assert status == 400
        assert code.startswith("InvalidParameter")
