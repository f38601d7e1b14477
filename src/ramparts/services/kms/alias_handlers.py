"""KMS aliases on the wire: `alias/...` names for keys, usable wherever a key id is."""

from __future__ import annotations

import re
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.services.call import Call
from ramparts.services.kms.errors import (
    AliasAlreadyExists,
    AliasNotFound,
    InvalidParameter,
    LimitExceeded,
    StateModifiedFailed,
    UnsupportedOperation,
)
from ramparts.services.kms.key_handlers import alias_arn, key_arn, keys_of, page_of
from ramparts.services.kms.keys import PENDING_DELETION, Key
from ramparts.services.kms.product import KMS

__all__ = ["MAX_ALIASES_PER_KEY"]

# [doc: CreateAlias]: `alias/` then letters, digits, `_`, `-` and `/`, at most 255 characters
# in all; `alias/acs` is reserved for the cloud's own aliases.
_ALIAS = re.compile(r"alias/[A-Za-z0-9_/-]{1,249}", re.ASCII)
MAX_ALIASES_PER_KEY = 50


def _alias_name(call: Call) -> str:
    name = call.params.str("AliasName", required=True) or ""
    if _ALIAS.fullmatch(name) is None or name.lower().startswith("alias/acs"):
        raise InvalidParameter('The specified parameter "AliasName" is not valid: alias/ then '
                               "1 to 249 letters, digits, _, - or /, not beginning with "
                               "alias/acs.")
    return name


def _owned_name(call: Call) -> str:
    """An alias name a caller may change or delete: not one of the cloud's own."""
    name = call.params.str("AliasName", required=True) or ""
    if name.lower().startswith("alias/acs/"):
        raise UnsupportedOperation(f"The alias {name[:255]} belongs to the service; it cannot "
                                   "be changed or deleted.")
    return name


def _alias_resource(call: Call) -> str:
    return alias_arn(call, call.params.str("AliasName") or "")


def _aliased(call: Call, name: str) -> str | None:
    row = call.tx.query_one("SELECT key_id FROM kms_aliases WHERE account_id = ? AND "
                            "alias_name = ?", (call.context.account_id, name))
    return str(row["key_id"]) if row is not None else None


def _target(call: Call) -> Key:
    key = keys_of(call).get(call.params.str("KeyId", required=True) or "")
    if key.state == PENDING_DELETION:
        raise StateModifiedFailed(f"The key {key.key_id} is pending deletion.")
    count = call.tx.query_one("SELECT COUNT(*) AS n FROM kms_aliases WHERE key_id = ?",
                              (key.key_id,))
    if count is not None and int(count["n"]) >= MAX_ALIASES_PER_KEY:
        raise LimitExceeded(f"A key has at most {MAX_ALIASES_PER_KEY} aliases.")
    call.touched("ACS::KMS::Key", key.key_id)
    return key


@KMS.action("CreateAlias", resource=_alias_resource, rw="Write",
            also=[("kms:CreateAlias", key_arn)])
def create_alias(call: Call) -> dict[str, Any]:
    name = _alias_name(call)
    if _aliased(call, name) is not None:
        raise AliasAlreadyExists("AliasName Already Exists.")
    key = _target(call)
    stamp = format_iso8601(call.env.clock.now())
    call.tx.execute("INSERT INTO kms_aliases (account_id, alias_name, key_id, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?)",
                    (call.context.account_id, name, key.key_id, stamp, stamp))
    call.touched("ACS::KMS::Alias", name)
    return {}


@KMS.action("UpdateAlias", resource=_alias_resource, rw="Write",
            also=[("kms:UpdateAlias", key_arn)])
def update_alias(call: Call) -> dict[str, Any]:
    _owned_name(call)
    name = _alias_name(call)
    if _aliased(call, name) is None:
        raise AliasNotFound(f"The specified alias {name} is not found.")
    key = _target(call)
    call.tx.execute("UPDATE kms_aliases SET key_id = ?, updated_at = ? WHERE account_id = ? "
                    "AND alias_name = ?", (key.key_id, format_iso8601(call.env.clock.now()),
                                           call.context.account_id, name))
    call.touched("ACS::KMS::Alias", name)
    return {}


@KMS.action("DeleteAlias", resource=_alias_resource, rw="Write")
def delete_alias(call: Call) -> dict[str, Any]:
    name = _owned_name(call)
    if not call.tx.execute("DELETE FROM kms_aliases WHERE account_id = ? AND alias_name = ?",
                           (call.context.account_id, name)):
        raise AliasNotFound(f"The specified alias {name[:255]} is not found.")
    call.touched("ACS::KMS::Alias", name)
    return {}


def _aliases_body(call: Call, where: str, params: tuple[str, ...]) -> dict[str, Any]:
    number, size = page_of(call)
    total = call.tx.query_one(f"SELECT COUNT(*) AS n FROM kms_aliases WHERE {where}",  # noqa: S608
                              params)
    rows = call.tx.query(f"SELECT alias_name, key_id FROM kms_aliases WHERE {where} "  # noqa: S608
                         "ORDER BY alias_name LIMIT ? OFFSET ?",
                         (*params, size, (number - 1) * size))
    return {"Aliases": {"Alias": [
        {"AliasName": row["alias_name"], "AliasArn": alias_arn(call, str(row["alias_name"])),
         "KeyId": row["key_id"]} for row in rows]},
        "PageNumber": number, "PageSize": size, "TotalCount": int(total["n"]) if total else 0}


def _aliases_container(call: Call) -> str:
    return f"acs:kms:{call.context.region}:{call.context.account_id}:alias"


@KMS.action("ListAliases", resource=_aliases_container, rw="Read")
def list_aliases(call: Call) -> dict[str, Any]:
    return _aliases_body(call, "account_id = ?", (call.context.account_id,))


@KMS.action("ListAliasesByKeyId", resource=key_arn, rw="Read")
def list_aliases_by_key_id(call: Call) -> dict[str, Any]:
    key = keys_of(call).get(call.params.str("KeyId", required=True) or "")
    return _aliases_body(call, "account_id = ? AND key_id = ?",
                         (call.context.account_id, key.key_id))
