"""KMS keys on the wire: create, describe, list, enable, disable, delete, protect, rotate, and
their versions."""

from __future__ import annotations

from typing import Any

from ramparts.services.call import Call
from ramparts.services.kms.errors import InvalidParameter
from ramparts.services.kms.keys import ALIAS_PREFIX, Key, KeyBackend, parse_interval
from ramparts.services.kms.product import KMS

__all__ = ["alias_arn", "key_arn", "keys_of", "page_of"]

MAX_DESCRIPTION = 8192  # [doc: CreateKey Description]
MAX_PAGE_SIZE = 100


def keys_of(call: Call) -> KeyBackend:
    return KeyBackend(call.tx, call.env, call.context.account_id, call.context.region)


def _prefix(call: Call) -> str:
    return f"acs:kms:{call.context.region}:{call.context.account_id}"


def alias_arn(call: Call, alias: str) -> str:
    return f"{_prefix(call)}:alias/{alias.removeprefix(ALIAS_PREFIX)}"


def key_arn(call: Call, parameter: str = "KeyId") -> str:
    """The ARN RAM checks for a KeyId parameter: the key's, also when it is given by alias;
    the alias's when no key has that alias."""
    given = call.params.str(parameter) or ""
    resolved = keys_of(call).resolve(given)
    if resolved is None:
        return alias_arn(call, given)
    return f"{_prefix(call)}:key/{resolved}"


def _keys_container(call: Call) -> str:
    return f"{_prefix(call)}:key"


def page_of(call: Call) -> tuple[int, int]:
    number = call.params.int("PageNumber", minimum=1, default=1)
    size = call.params.int("PageSize", minimum=1, maximum=MAX_PAGE_SIZE, default=10)
    return int(number or 1), int(size or 10)


def _key(call: Call) -> Key:
    return keys_of(call).get(call.params.str("KeyId", required=True) or "")


def _touched(call: Call, key: Key) -> Key:
    call.touched("ACS::KMS::Key", key.key_id)
    return key


@KMS.action("CreateKey", resource=_keys_container, rw="Write")
def create_key(call: Call) -> dict[str, Any]:
    params = call.params
    if params.str("DKMSInstanceId"):
        raise InvalidParameter('The specified parameter "DKMSInstanceId" is not valid: this '
                               "service has no dedicated KMS instances; create a default key "
                               "without it.")
    rotating = params.bool("EnableAutomaticRotation", default=False)
    interval_text = params.str("RotationInterval")
    interval = parse_interval(interval_text) if rotating and interval_text else None
    if rotating and interval is None:
        interval = parse_interval("365d")
    key = keys_of(call).create(
        description=params.str("Description", default="", max_length=MAX_DESCRIPTION) or "",
        key_spec=params.str("KeySpec") or "Aliyun_AES_256",
        key_usage=params.str("KeyUsage") or "ENCRYPT/DECRYPT",
        origin=params.str("Origin") or "Aliyun_KMS",
        protection_level=params.str("ProtectionLevel") or "SOFTWARE",
        rotation=interval, creator=call.context.caller.account_id)
    return {"KeyMetadata": _touched(call, key).metadata()}


@KMS.action("DescribeKey", resource=key_arn, rw="Read")
def describe_key(call: Call) -> dict[str, Any]:
    return {"KeyMetadata": _touched(call, _key(call)).metadata()}


@KMS.action("ListKeys", resource=_keys_container, rw="Read")
def list_keys(call: Call) -> dict[str, Any]:
    if call.params.str("Filters"):
        raise InvalidParameter('The specified parameter "Filters" is not supported here.')
    number, size = page_of(call)
    keys, total = keys_of(call).page(number, size)
    return {"Keys": {"Key": [{"KeyId": key.key_id, "KeyArn": key.arn} for key in keys]},
            "PageNumber": number, "PageSize": size, "TotalCount": total}


@KMS.action("UpdateKeyDescription", resource=key_arn, rw="Write")
def update_key_description(call: Call) -> dict[str, Any]:
    key = _touched(call, _key(call))
    description = call.params.str("Description", required=True, max_length=MAX_DESCRIPTION)
    keys_of(call).update_description(key, description or "")
    return {}


@KMS.action("EnableKey", resource=key_arn, rw="Write")
def enable_key(call: Call) -> dict[str, Any]:
    keys_of(call).enable(_touched(call, _key(call)))
    return {}


@KMS.action("DisableKey", resource=key_arn, rw="Write")
def disable_key(call: Call) -> dict[str, Any]:
    keys_of(call).disable(_touched(call, _key(call)))
    return {}


@KMS.action("ScheduleKeyDeletion", resource=key_arn, rw="Write")
def schedule_key_deletion(call: Call) -> dict[str, Any]:
    key = _touched(call, _key(call))
    days = call.params.int("PendingWindowInDays", required=True)
    keys_of(call).schedule_deletion(key, days or 0)
    return {}


@KMS.action("CancelKeyDeletion", resource=key_arn, rw="Write")
def cancel_key_deletion(call: Call) -> dict[str, Any]:
    keys_of(call).cancel_deletion(_touched(call, _key(call)))
    return {}


def _protected_arn(call: Call) -> str:
    return call.params.str("ProtectedResourceArn") or _keys_container(call)


@KMS.action("SetDeletionProtection", resource=_protected_arn, rw="Write")
def set_deletion_protection(call: Call) -> dict[str, Any]:
    params = call.params
    arn = params.str("ProtectedResourceArn", required=True) or ""
    key_prefix = f"{_prefix(call)}:key/"
    if not arn.startswith(key_prefix):
        raise InvalidParameter('The specified parameter "ProtectedResourceArn" is not valid: '
                               f"it must be a key's ARN ({key_prefix}<KeyId>).")
    enabled = params.bool("EnableDeletionProtection")
    if enabled is None:
        raise InvalidParameter('The specified parameter "EnableDeletionProtection" is '
                               "mandatory for this action.")
    key = _touched(call, keys_of(call).get(arn.removeprefix(key_prefix)))
    description = params.str("DeletionProtectionDescription", default="",
                             max_length=MAX_DESCRIPTION) or ""
    keys_of(call).set_deletion_protection(key, enabled, description)
    return {}


@KMS.action("UpdateRotationPolicy", resource=key_arn, rw="Write")
def update_rotation_policy(call: Call) -> dict[str, Any]:
    key = _touched(call, _key(call))
    key.require_usable()
    enabled = call.params.bool("EnableAutomaticRotation")
    if enabled is None:
        raise InvalidParameter('The specified parameter "EnableAutomaticRotation" is mandatory '
                               "for this action.")
    text = call.params.str("RotationInterval")
    keys_of(call).update_rotation(key, enabled, parse_interval(text) if text else None)
    return {}


def _version_body(key_id: str, version_id: str, created_at: str) -> dict[str, str]:
    return {"KeyId": key_id, "KeyVersionId": version_id, "CreationDate": created_at}


@KMS.action("CreateKeyVersion", resource=key_arn, rw="Write")
def create_key_version(call: Call) -> dict[str, Any]:
    version = keys_of(call).rotate(_touched(call, _key(call)))
    return {"KeyVersion": _version_body(version.key_id, version.version_id,
                                        version.created_at)}


@KMS.action("ListKeyVersions", resource=key_arn, rw="Read")
def list_key_versions(call: Call) -> dict[str, Any]:
    key = _touched(call, _key(call))
    number, size = page_of(call)
    versions = keys_of(call).versions(key)
    page = versions[(number - 1) * size:number * size]
    return {"KeyVersions": {"KeyVersion": [
        _version_body(v.key_id, v.version_id, v.created_at) for v in page]},
        "PageNumber": number, "PageSize": size, "TotalCount": len(versions)}


@KMS.action("DescribeKeyVersion", resource=key_arn, rw="Read")
def describe_key_version(call: Call) -> dict[str, Any]:
    key = _touched(call, _key(call))
    version_id = call.params.str("KeyVersionId", required=True) or ""
    version = keys_of(call).version(key, version_id)
    return {"KeyVersion": _version_body(version.key_id, version.version_id,
                                        version.created_at)}
