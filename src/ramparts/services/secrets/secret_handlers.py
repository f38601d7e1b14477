"""Secrets Manager on the wire (KMS API 2016-01-20): secrets, their versions and stages,
deletion windows, random passwords, and the tags of secrets and keys.

RAM checks each action on the secret's ARN, `acs:kms:<region>:<account>:secret/<name>`
(CreateSecret and ListSecrets on the container `...:secret`; GetRandomPassword on `*`)
[catalog kms.yaml: resources]. SecretName may be given as the secret's ARN [doc:
GetSecretValue SecretName].
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from ramparts.core.errors import ServiceError
from ramparts.services.call import Call
from ramparts.services.kms.errors import (
    InvalidParameter,
    KeyPendingDeletion,
    ResourceNotFound,
    UnsupportedOperation,
)
from ramparts.services.kms.key_handlers import key_arn, keys_of, page_of
from ramparts.services.kms.keys import PENDING_DELETION
from ramparts.services.kms.product import KMS
from ramparts.services.secrets.managed import (
    MANAGED_TYPES,
    RAM_CREDENTIALS,
    RDS,
    check_config_change,
    check_managed,
    database_plan,
    ram_user_of,
)
from ramparts.services.secrets.passwords import DEFAULT_PASSWORD_LENGTH, random_password
from ramparts.services.secrets.rotation import last_rotation_error
from ramparts.services.secrets.secrets import (
    DEFAULT_RECOVERY_DAYS,
    GENERIC,
    SECRET_FILTER_KEYS,
    TEXT,
    ResourceTags,
    Secret,
    SecretBackend,
    SecretVersion,
    check_stage,
    parse_data,
    parse_rotation_interval,
    secret_resource,
)

__all__ = ["MAX_DESCRIPTION", "MAX_EXTENDED_CONFIG", "secret_arn", "secrets_of"]

MAX_DESCRIPTION = 8192  # as KMS keys' [doc: CreateKey Description]
MAX_EXTENDED_CONFIG = 1024  # [doc: CreateSecret ExtendedConfig]
MAX_CUSTOM_DATA = 10  # [doc: CreateSecret ExtendedConfig CustomData]
MAX_FILTERS = 10  # [doc: ListSecrets Filters]
MAX_PAGE_SIZE = 100
DEFAULT_VERSIONS_PAGE_SIZE = 20  # [doc: ListSecretVersionIds PageSize]
_CUSTOM_DATA = "ExtendedConfig.CustomData."


def secrets_of(call: Call) -> SecretBackend:
    return SecretBackend(call.tx, call.env, call.context.account_id, call.context.region)


def _prefix(call: Call) -> str:
    return f"acs:kms:{call.context.region}:{call.context.account_id}"


def _container(call: Call) -> str:
    return f"{_prefix(call)}:secret"


def secret_arn(call: Call) -> str:
    """The ARN RAM checks for a SecretName parameter: an ARN is checked as given."""
    given = call.params.str("SecretName") or ""
    return given if given.startswith("acs:") else f"{_container(call)}/{given}"


def _anything(call: Call) -> str:
    return "*"


def _name(call: Call) -> str:
    """The secret's name, from its name or its ARN in this account and region."""
    given = call.params.str("SecretName", required=True) or ""
    if given.startswith("acs:"):
        prefix = f"{_container(call)}/"
        if not given.startswith(prefix):
            raise ResourceNotFound(f"The secret {given[:256]} is not found.")
        return given[len(prefix):]
    return given


def _touched(call: Call, secret: Secret) -> Secret:
    call.touched("ACS::KMS::Secret", secret.secret_name)
    return secret


def _secret(call: Call) -> Secret:
    """The secret named, refused while it waits out its recovery window."""
    return _touched(call, secrets_of(call).active(_name(call)))


def _any_secret(call: Call) -> Secret:
    """The secret named, also while it waits out its recovery window."""
    return _touched(call, secrets_of(call).get(_name(call)))


# ---- reading parameters


def _value(call: Call) -> tuple[bytes, str]:
    data_type = call.params.str("SecretDataType") or TEXT
    text = call.params.str("SecretData", required=True) or ""
    return parse_data(text, data_type), data_type


def _extended_config(call: Call) -> str | None:
    """ExtendedConfig as JSON text: a JSON object, kept as given."""
    text = str(call.params.str("ExtendedConfig") or "")
    if not text:
        return None
    if len(text) > MAX_EXTENDED_CONFIG:
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: it is '
                               f"longer than {MAX_EXTENDED_CONFIG} characters.")
    value = call.params.json("ExtendedConfig")
    if not isinstance(value, dict):
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: it must '
                               "be a JSON object.")
    _check_custom_data(value.get("CustomData"))
    return text


def _check_custom_data(custom: Any) -> None:
    if custom is None:
        return
    if not isinstance(custom, dict) or len(custom) > MAX_CUSTOM_DATA:
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: '
                               f"CustomData is an object of at most {MAX_CUSTOM_DATA} pairs.")


@runtime_checkable
class _NamedParams(Protocol):
    """Parameters that can list their names (the request's own do)."""

    def names(self) -> list[str]:
        ...

    def raw(self, name: str) -> str | None:
        ...


def _updated_extended_config(call: Call, secret: Secret) -> str | None:
    """UpdateSecret's ExtendedConfig: JSON text, or `ExtendedConfig.CustomData.<key>` pairs as
    the SDK flattens its model, which replace the stored CustomData."""
    params = call.params
    if not isinstance(params, _NamedParams):
        return _extended_config(call)
    flattened = [name for name in params.names() if name.startswith("ExtendedConfig.")]
    if not flattened:
        return _extended_config(call)
    if call.params.str("ExtendedConfig") or any(not name.startswith(_CUSTOM_DATA)
                                                or name == _CUSTOM_DATA for name in flattened):
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: give '
                               "JSON text, or ExtendedConfig.CustomData.<key> values.")
    custom = {name[len(_CUSTOM_DATA):]: params.raw(name) or "" for name in flattened}
    _check_custom_data(custom)
    stored: dict[str, Any] = {}
    if secret.extended_config:
        loaded = json.loads(secret.extended_config)
        stored = loaded if isinstance(loaded, dict) else {}
    text = json.dumps({**stored, "CustomData": custom}, ensure_ascii=False,
                      separators=(",", ":"))
    if len(text) > MAX_EXTENDED_CONFIG:
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: it is '
                               f"longer than {MAX_EXTENDED_CONFIG} characters.")
    return text


def _tags(call: Call, *, required: bool = False) -> list[tuple[str, str]]:
    """Tags: a JSON list of {"TagKey", "TagValue"} [doc: CreateSecret Tags] (or
    {"Key", "Value"})."""
    value = call.params.json("Tags", required=required)
    if value is None:
        return []
    invalid = InvalidParameter('The specified parameter "Tags" is not valid: a JSON list of '
                               '{"TagKey": ..., "TagValue": ...}.')
    if not isinstance(value, list):
        raise invalid
    tags: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or not set(item) <= {"TagKey", "TagValue", "Key", "Value"}:
            raise invalid
        key = item.get("TagKey", item.get("Key"))
        tag_value = item.get("TagValue", item.get("Value", ""))
        if not isinstance(key, str) or not isinstance(tag_value, str):
            raise invalid
        tags.append((key, tag_value))
    return tags


def _version_stages(call: Call) -> list[str] | None:
    """PutSecretValue's VersionStages: a JSON list of labels, or {"VersionStage": [...]}."""
    value = call.params.json("VersionStages")
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"VersionStage"}:
        value = value["VersionStage"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(stage, str) for stage in value):
        raise InvalidParameter('The specified parameter "VersionStages" is not valid: a JSON '
                               'list of stage labels, such as ["ACSCurrent"].')
    return value


def _filters(call: Call) -> list[tuple[str, list[str]]]:
    """ListSecrets' Filters: [{"Key": ..., "Values": [...]}, ...] [doc: ListSecrets]."""
    value = call.params.json("Filters")
    if value is None:
        return []
    invalid = InvalidParameter('The specified parameter "Filters" is not valid: a JSON list of '
                               f'at most {MAX_FILTERS} {{"Key": ..., "Values": [...]}}, the keys '
                               f"{', '.join(SECRET_FILTER_KEYS)}, at most 10 values each.")
    if not isinstance(value, list) or len(value) > MAX_FILTERS:
        raise invalid
    filters: list[tuple[str, list[str]]] = []
    for item in value:
        if not isinstance(item, dict) or not set(item) <= {"Key", "Values"}:
            raise invalid
        key, values = item.get("Key"), item.get("Values", [])
        if key not in SECRET_FILTER_KEYS or not isinstance(values, list) or len(values) > 10 \
                or not all(isinstance(v, str) for v in values):
            raise invalid
        filters.append((str(key), list(values)))
    return filters


def _refuse_unsupported(call: Call) -> None:
    if call.params.bool("DryRun", default=False):
        raise UnsupportedOperation("DryRun is not supported here.")
    if call.params.str("Recipient"):
        raise UnsupportedOperation("Recipient (CiphertextForRecipient) is not supported here.")


# ---- answers


def _stages_body(version: SecretVersion) -> dict[str, list[str]]:
    return {"VersionStage": list(version.stages)}


def _rotation_body(secret: Secret) -> dict[str, str]:
    """AutomaticRotation, and the interval and dates when they apply [doc: DescribeSecret]."""
    body = {"AutomaticRotation": secret.automatic_rotation}
    if secret.automatic_rotation != "Disabled" and secret.rotation_seconds is not None:
        body["RotationInterval"] = f"{secret.rotation_seconds}s"
        if secret.next_rotation_at:
            body["NextRotationDate"] = secret.next_rotation_at
    if secret.last_rotation_at:
        body["LastRotationDate"] = secret.last_rotation_at
    if secret.extended_config:
        body["ExtendedConfig"] = secret.extended_config
    return body


def _tags_body(call: Call, secret: Secret) -> dict[str, list[dict[str, str]]]:
    tags = ResourceTags(call.tx, call.context.account_id).of(secret_resource(secret.secret_name))
    return {"Tag": [{"TagKey": key, "TagValue": value} for key, value in tags]}


# ---- secrets


def _managed_user(call: Call) -> str | None:
    """The RAM user a RAMCredentials secret will rotate AccessKeys for: its creator must be
    allowed to create and delete that user's keys, since the service will do both for it."""
    if call.params.str("SecretType") != RAM_CREDENTIALS:
        return None
    try:
        user = ram_user_of(call.params.str("ExtendedConfig") or None)
    except ServiceError:
        return None  # the handler refuses the ExtendedConfig
    return f"acs:ram::{call.context.account_id}:user/{user}"


def _master_secret(call: Call) -> str | None:
    """The master secret whose login a DoubleUsers database secret will set passwords with:
    its creator must be allowed to read it (the secret then holds passwords set with it)."""
    if call.params.str("SecretType") != RDS:
        return None
    try:
        master = database_plan(call.params.str("ExtendedConfig") or None).master_secret
    except ServiceError:
        return None  # the handler refuses the ExtendedConfig
    return None if master is None else f"{_container(call)}/{master}"


@KMS.action("CreateSecret", resource=_container, rw="Write",
            also=[("ram:CreateAccessKey", _managed_user), ("ram:DeleteAccessKey", _managed_user),
                  ("kms:GetSecretValue", _master_secret)])
def create_secret(call: Call) -> dict[str, Any]:
    params = call.params
    for name in ("DKMSInstanceId", "Policy"):
        if params.str(name):
            raise InvalidParameter(f'The specified parameter "{name}" is not valid: this '
                                   "service has no KMS instances or secret policies; leave it "
                                   "out.")
    name = params.str("SecretName", required=True) or ""
    version_id = params.str("VersionId", required=True) or ""
    data, data_type = _value(call)
    interval_text = params.str("RotationInterval")
    interval = parse_rotation_interval(interval_text) if interval_text else None
    rotating = params.bool("EnableAutomaticRotation", default=False)
    if rotating and interval is None:
        raise InvalidParameter('The specified parameter "RotationInterval" is mandatory when '
                               "EnableAutomaticRotation is true.")
    secret_type = params.str("SecretType") or GENERIC
    extended_config = _extended_config(call)
    if secret_type in MANAGED_TYPES:  # what it manages must be real, and its value in form
        data = check_managed(call.tx, call.env, call.context.account_id, secret_type,
                             extended_config, data)
    secret, version = secrets_of(call).create(
        name, version_id=version_id, data=data, data_type=data_type,
        encryption_key_id=params.str("EncryptionKeyId"), secret_type=secret_type,
        description=params.str("Description", default="", max_length=MAX_DESCRIPTION) or "",
        extended_config=extended_config, rotation=interval if rotating else None,
        tags=_tags(call))
    _touched(call, secret)
    call.touched("ACS::KMS::Key", secret.encryption_key_id)
    return {"Arn": secret.arn, "SecretName": secret.secret_name,
            "VersionId": version.version_id, "SecretType": secret.secret_type}


@KMS.action("GetSecretValue", resource=secret_arn, rw="Read")
def get_secret_value(call: Call) -> dict[str, Any]:
    _refuse_unsupported(call)
    secret = _secret(call)
    stage = call.params.str("VersionStage") or None
    if stage is not None:
        check_stage(stage)
    value = secrets_of(call).value(secret, version_id=call.params.str("VersionId") or None,
                                   stage=stage)
    call.touched("ACS::KMS::Key", secret.encryption_key_id)
    body: dict[str, Any] = {
        "SecretName": secret.secret_name, "VersionId": value.version.version_id,
        "SecretData": value.wire_data(), "SecretDataType": value.version.data_type,
        "VersionStages": _stages_body(value.version), "CreateTime": value.version.created_at,
        "SecretType": secret.secret_type,
    }
    if call.params.bool("FetchExtendedConfig", default=False):
        body.update(_rotation_body(secret))
    return body


@KMS.action("PutSecretValue", resource=secret_arn, rw="Write")
def put_secret_value(call: Call) -> dict[str, Any]:
    secret = _secret(call)
    if secret.secret_type in MANAGED_TYPES:
        raise UnsupportedOperation(f"The secret {secret.secret_name} is a managed "
                                   f"{secret.secret_type} secret: its value changes by "
                                   "rotation (RotateSecret), not PutSecretValue.")
    version_id = call.params.str("VersionId", required=True) or ""
    data, data_type = _value(call)
    version = secrets_of(call).put_value(secret, version_id, data, data_type,
                                         _version_stages(call))
    return {"SecretName": secret.secret_name, "VersionId": version.version_id,
            "VersionStages": _stages_body(version)}


@KMS.action("UpdateSecretVersionStage", resource=secret_arn, rw="Write")
def update_secret_version_stage(call: Call) -> dict[str, Any]:
    secret = _secret(call)
    params = call.params
    stage = params.str("VersionStage", required=True) or ""
    secrets_of(call).update_stage(secret, stage, move_to=params.str("MoveToVersion") or None,
                                  remove_from=params.str("RemoveFromVersion") or None)
    return {"SecretName": secret.secret_name}


@KMS.action("ListSecretVersionIds", resource=secret_arn, rw="Read")
def list_secret_version_ids(call: Call) -> dict[str, Any]:
    secret = _secret(call)
    params = call.params
    number = int(params.int("PageNumber", minimum=1, default=1) or 1)
    size = int(params.int("PageSize", minimum=1, maximum=MAX_PAGE_SIZE,
                          default=DEFAULT_VERSIONS_PAGE_SIZE) or DEFAULT_VERSIONS_PAGE_SIZE)
    versions = secrets_of(call).versions(
        secret, include_deprecated=bool(params.bool("IncludeDeprecated", default=False)))
    page = versions[(number - 1) * size:number * size]
    return {"SecretName": secret.secret_name, "VersionIds": {"VersionId": [
        {"VersionId": v.version_id, "CreateTime": v.created_at,
         "VersionStages": _stages_body(v)} for v in page]},
        "PageNumber": number, "PageSize": size, "TotalCount": len(versions)}


@KMS.action("DescribeSecret", resource=secret_arn, rw="Read")
def describe_secret(call: Call) -> dict[str, Any]:
    secret = _any_secret(call)
    body: dict[str, Any] = {
        "Arn": secret.arn, "SecretName": secret.secret_name, "SecretType": secret.secret_type,
        "Description": secret.description, "EncryptionKeyId": secret.encryption_key_id,
        "CreateTime": secret.created_at, "UpdateTime": secret.updated_at,
        **_rotation_body(secret),
    }
    if secret.planned_delete_at:
        body["PlannedDeleteTime"] = secret.planned_delete_at
    if call.params.bool("FetchTags", default=False):
        body["Tags"] = _tags_body(call, secret)
    error = last_rotation_error(call.tx, secret)
    if error is not None:  # ramparts' own field: why the last rotation left the value as it was
        body["LastRotationError"] = error
    return body


@KMS.action("ListSecrets", resource=_container, rw="Read")
def list_secrets(call: Call) -> dict[str, Any]:
    number, size = page_of(call)
    found, total = secrets_of(call).page(number, size, _filters(call))
    fetch_tags = call.params.bool("FetchTags", default=False)
    listed: list[dict[str, Any]] = []
    for secret in found:
        entry: dict[str, Any] = {"SecretName": secret.secret_name,
                                 "SecretType": secret.secret_type,
                                 "CreateTime": secret.created_at,
                                 "UpdateTime": secret.updated_at}
        if secret.planned_delete_at:
            entry["PlannedDeleteTime"] = secret.planned_delete_at
        if fetch_tags:
            entry["Tags"] = _tags_body(call, secret)
        listed.append(entry)
    return {"SecretList": {"Secret": listed}, "PageNumber": number, "PageSize": size,
            "TotalCount": total}


@KMS.action("UpdateSecret", resource=secret_arn, rw="Write")
def update_secret(call: Call) -> dict[str, Any]:
    secret = _secret(call)
    description = call.params.str("Description", max_length=MAX_DESCRIPTION)
    extended_config = _updated_extended_config(call, secret)
    check_config_change(secret.secret_type, secret.extended_config, extended_config)
    secrets_of(call).update(secret, description=description, extended_config=extended_config)
    return {"SecretName": secret.secret_name}


@KMS.action("DeleteSecret", resource=secret_arn, rw="Write")
def delete_secret(call: Call) -> dict[str, Any]:
    secret = _any_secret(call)
    force = call.params.bool("ForceDeleteWithoutRecovery", default=False)
    days = call.params.int("RecoveryWindowInDays")
    if force and days is not None:
        raise InvalidParameter('The specified parameter "RecoveryWindowInDays" is not valid: a '
                               "secret deleted without recovery has no recovery window.")
    backend = secrets_of(call)
    planned = backend.delete_now(secret) if force else backend.schedule_deletion(
        secret, DEFAULT_RECOVERY_DAYS if days is None else days)
    return {"SecretName": secret.secret_name, "PlannedDeleteTime": planned}


@KMS.action("RestoreSecret", resource=secret_arn, rw="Write")
def restore_secret(call: Call) -> dict[str, Any]:
    secret = _any_secret(call)
    secrets_of(call).restore(secret)
    return {"SecretName": secret.secret_name}


@KMS.action("GetRandomPassword", resource=_anything, rw="Read",
            secret_response=("RandomPassword",))
def get_random_password(call: Call) -> dict[str, Any]:
    params = call.params
    length = params.int("PasswordLength", default=DEFAULT_PASSWORD_LENGTH)
    password = random_password(
        DEFAULT_PASSWORD_LENGTH if length is None else length,
        exclude_characters=params.str("ExcludeCharacters") or "",
        exclude_lowercase=bool(params.bool("ExcludeLowercase", default=False)),
        exclude_uppercase=bool(params.bool("ExcludeUppercase", default=False)),
        exclude_numbers=bool(params.bool("ExcludeNumbers", default=False)),
        exclude_punctuation=bool(params.bool("ExcludePunctuation", default=False)),
        require_each_included_type=bool(params.bool("RequireEachIncludedType",
                                                    default=True)))
    return {"RandomPassword": password}


# ---- tags of secrets and keys


def _tagged_arn(call: Call) -> str:
    """The ARN RAM checks for a tag action: the secret's, else the key's."""
    if call.params.str("SecretName"):
        return secret_arn(call)
    if call.params.str("KeyId"):
        return key_arn(call)
    return f"{_prefix(call)}:certificate/{call.params.str('CertificateId') or ''}"


def _tag_target(call: Call) -> str:
    """The kms_tags resource of the one KeyId or SecretName given."""
    params = call.params
    given = [name for name in ("KeyId", "SecretName", "CertificateId") if params.str(name)]
    if len(given) != 1:
        raise InvalidParameter("The specified parameters are not valid: give exactly one of "
                               "KeyId, SecretName and CertificateId.")
    if given == ["CertificateId"]:
        raise UnsupportedOperation("This service holds no certificates.")
    if given == ["SecretName"]:
        return secret_resource(_secret(call).secret_name)
    key = keys_of(call).get(params.str("KeyId") or "")
    if key.state == PENDING_DELETION:
        raise KeyPendingDeletion(f"The key {key.key_id} is pending deletion.")
    call.touched("ACS::KMS::Key", key.key_id)
    return f"key/{key.key_id}"


def _tag_keys(call: Call) -> list[str]:
    """TagKeys: a JSON list [doc: UntagResource], or keys separated by commas."""
    text = call.params.str("TagKeys", required=True) or ""
    invalid = InvalidParameter('The specified parameter "TagKeys" is not valid: a JSON list of '
                               "tag keys of 1 to 128 characters.")
    if text.lstrip().startswith("["):
        value = call.params.json("TagKeys")
        if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
            raise invalid
        keys = list(value)
    else:
        keys = [key.strip() for key in text.split(",")]
    if not keys or not all(1 <= len(key) <= 128 for key in keys):
        raise invalid
    return keys


@KMS.action("TagResource", resource=_tagged_arn, rw="Write")
def tag_resource(call: Call) -> dict[str, Any]:
    resource = _tag_target(call)
    tags = _tags(call, required=True)
    if not tags:
        raise InvalidParameter('The specified parameter "Tags" is not valid: give at least one '
                               "tag.")
    ResourceTags(call.tx, call.context.account_id).add(resource, tags)
    return {}


@KMS.action("UntagResource", resource=_tagged_arn, rw="Write")
def untag_resource(call: Call) -> dict[str, Any]:
    resource = _tag_target(call)
    ResourceTags(call.tx, call.context.account_id).remove(resource, _tag_keys(call))
    return {}


@KMS.action("ListResourceTags", resource=key_arn, rw="Read")
def list_resource_tags(call: Call) -> dict[str, Any]:
    """The tags of a key [doc: ListResourceTags]; a secret's come with DescribeSecret."""
    key = keys_of(call).get(call.params.str("KeyId", required=True) or "")
    call.touched("ACS::KMS::Key", key.key_id)
    tags = ResourceTags(call.tx, call.context.account_id).of(f"key/{key.key_id}")
    return {"Tags": {"Tag": [{"KeyId": key.key_id, "TagKey": tag_key, "TagValue": value}
                             for tag_key, value in tags]}}
