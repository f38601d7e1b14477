"""Managed secrets: what a RAM-credential or database-credential secret holds, checked when it
is created, and the values rotation writes.

A RAMCredentials secret names a RAM user in its ExtendedConfig
(`{"SecretSubType": "RamUserAccessKey", "UserName": ...}`) and holds one of the user's
AccessKeys as `{"AccessKeyId", "AccessKeySecret", "GenerateTimestamp"}` [doc: Manage RAM
secrets]. An Rds secret holds a database login as `{"Engine", "Host", "Port", "AccountName",
"AccountPassword", "DBName"?}` for PostgreSQL or MySQL/MariaDB reached directly (there is no RDS
instance here); its ExtendedConfig says how it rotates: `{"SecretSubType": "SingleUser"}`, the
user changing its own password, or `{"SecretSubType": "DoubleUsers", "AccountNames": [a, b],
"MasterSecretName": ...}`, two users taking turns, their passwords set with the login another
secret of this account holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.crypto.primitives import constant_time_equals
from ramparts.services.call import ServiceEnv
from ramparts.services.kms.errors import InvalidParameter, UnsupportedOperation
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.ram.errors import EntityNotExist
from ramparts.services.secrets.database_rotation import DatabaseCredential, RotationError
from ramparts.store.base import Transaction

__all__ = [
    "DOUBLE_USERS", "MANAGED_TYPES", "RAM_CREDENTIALS", "RDS", "SINGLE_USER", "DatabasePlan",
    "access_key_value", "check_config_change", "check_managed", "database_plan", "ram_user_of",
]

RAM_CREDENTIALS, RDS = "RAMCredentials", "Rds"
MANAGED_TYPES = frozenset({RAM_CREDENTIALS, RDS})
RAM_USER_ACCESS_KEY = "RamUserAccessKey"
SINGLE_USER, DOUBLE_USERS = "SingleUser", "DoubleUsers"


def _config(extended_config: str | None) -> dict[str, Any]:
    value = json.loads(extended_config) if extended_config else None
    if not isinstance(value, dict):
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: a '
                               "managed secret needs one (its SecretSubType and what it "
                               "manages).")
    return value


def _invalid_data(why: str) -> InvalidParameter:
    return InvalidParameter(f'The specified parameter "SecretData" is not valid: {why}')


def access_key_value(access_key_id: str, secret: str, env: ServiceEnv) -> bytes:
    """A RAM-credential secret's value for one AccessKey."""
    return json.dumps({"AccessKeyId": access_key_id, "AccessKeySecret": secret,
                       "GenerateTimestamp": format_iso8601(env.clock.now())}).encode("utf-8")


def ram_user_of(extended_config: str | None) -> str:
    config = _config(extended_config)
    user = config.get("UserName")
    if config.get("SecretSubType") != RAM_USER_ACCESS_KEY or not isinstance(user, str) \
            or not user:
        raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: a '
                               'RAMCredentials secret needs {"SecretSubType": '
                               '"RamUserAccessKey", "UserName": "<RAM user>"}.')
    return user


def _check_access_key(tx: Transaction, env: ServiceEnv, account_id: str,
                      extended_config: str | None, data: bytes) -> bytes:
    user = ram_user_of(extended_config)
    try:
        value = json.loads(data)
    except ValueError:
        raise _invalid_data("it must be JSON holding the user's AccessKey.") from None
    keys = value.get("AccessKeys") if isinstance(value, dict) else None
    if isinstance(keys, list) and len(keys) == 1 and isinstance(keys[0], dict):
        value = keys[0]
    key_id, secret = (value.get("AccessKeyId"), value.get("AccessKeySecret")) \
        if isinstance(value, dict) else (None, None)
    if not isinstance(key_id, str) or not isinstance(secret, str):
        raise _invalid_data('give {"AccessKeys": [{"AccessKeyId": ..., "AccessKeySecret": '
                            '...}]} with one AccessKey of the user.')
    backend = AccessKeyBackend(tx, env, account_id)
    try:
        backend.get(user, key_id)
    except EntityNotExist:
        raise _invalid_data(f"the AccessKey {key_id[:32]} is not one of the RAM user "
                            f"{user[:64]}'s.") from None
    record = backend.for_authentication(key_id)
    if record is None or not constant_time_equals(record.secret.encode(), secret.encode()):
        raise _invalid_data(f"the AccessKeySecret is not the secret of {key_id[:32]}.")
    return access_key_value(key_id, secret, env)


@dataclass(frozen=True, slots=True)
class DatabasePlan:
    """How a database secret rotates: one user, or two taking turns with a master login."""

    sub_type: str
    users: tuple[str, str] | None = None
    master_secret: str | None = None


def database_plan(extended_config: str | None) -> DatabasePlan:
    config = _config(extended_config)
    sub_type = config.get("SecretSubType")
    if sub_type == SINGLE_USER:
        return DatabasePlan(SINGLE_USER)
    users, master = config.get("AccountNames"), config.get("MasterSecretName")
    if sub_type == DOUBLE_USERS and isinstance(users, list) and len(users) == 2 \
            and all(isinstance(u, str) and u for u in users) and users[0] != users[1] \
            and isinstance(master, str) and master:
        return DatabasePlan(DOUBLE_USERS, (users[0], users[1]), master)
    raise InvalidParameter('The specified parameter "ExtendedConfig" is not valid: an Rds '
                           'secret needs {"SecretSubType": "SingleUser"} or {"SecretSubType": '
                           '"DoubleUsers", "AccountNames": [a, b], "MasterSecretName": ...}.')


def _check_database(extended_config: str | None, data: bytes) -> bytes:
    plan = database_plan(extended_config)
    try:
        credential = DatabaseCredential.from_secret_json(data.decode("utf-8"))
    except (RotationError, UnicodeDecodeError) as exc:
        raise _invalid_data(str(exc) if isinstance(exc, RotationError)
                            else "it must be UTF-8 JSON.") from None
    if plan.users is not None and credential.user not in plan.users:
        raise _invalid_data(f"AccountName {credential.user[:64]} is not one of the "
                            "ExtendedConfig's AccountNames.")
    return credential.to_secret_json().encode("utf-8")


def check_config_change(secret_type: str, stored: str | None, given: str | None) -> None:
    """A managed secret's ExtendedConfig may change only in its CustomData: what it manages
    (the RAM user, the database users, the master secret) was checked, and RAM-authorized,
    when the secret was created; pointing it elsewhere later would let UpdateSecret have the
    service rotate credentials nobody allowed it to."""
    if secret_type not in MANAGED_TYPES or given is None:
        return
    before, after = _config(stored), _config(given)
    before.pop("CustomData", None)
    after.pop("CustomData", None)
    if before != after:
        raise UnsupportedOperation(f"What a {secret_type} secret manages cannot change; only "
                                   "its ExtendedConfig's CustomData can. Create another secret "
                                   "for other credentials.")


def check_managed(tx: Transaction, env: ServiceEnv, account_id: str, secret_type: str,
                  extended_config: str | None, data: bytes) -> bytes:
    """The first value of a managed secret, checked and in its stored form."""
    if secret_type == RAM_CREDENTIALS:
        return _check_access_key(tx, env, account_id, extended_config, data)
    return _check_database(extended_config, data)
