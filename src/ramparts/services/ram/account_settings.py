"""Account-wide RAM settings: the security preference, the account alias, and their storage."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import EntityAlreadyExists, InvalidParameter
from ramparts.store.base import Transaction

__all__ = [
    "MAX_LOGIN_NETWORK_MASKS",
    "MFA_OPERATIONS",
    "AccountSettingsBackend",
    "Network",
    "SecurityPreference",
    "allow_user_to_change_password",
    "allow_user_to_manage_access_keys",
    "allow_user_to_manage_mfa_devices",
    "enforce_mfa_for_login",
    "login_network_masks",
    "read_settings",
    "security_preference",
    "source_ip_allowed",
    "write_settings",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# [doc: SetSecurityPreference (RAM API reference)]: at most 40 masks separated by `;`, 512
# characters in all; a session lasts 1 to 24 hours, 6 by default.
MAX_LOGIN_NETWORK_MASKS = 40
MAX_LOGIN_NETWORK_MASKS_LENGTH = 512
SESSION_HOURS = (1, 24)
# [doc: SetSecurityPreference (IMS API reference)]: MFAOperationForLogin replaces the boolean
# EnforceMFAForLogin: `mandatory` (true), `independent` (false, the default), `adaptive`.
MFA_OPERATIONS = ("mandatory", "independent", "adaptive")

_PREFERENCE = "security_preference."
# [doc: Error messages (RAM API reference)]: an alias is 3 to 63 characters; [doc:
# ALIYUN::RAM::RamAccountAlias]: lowercase letters, digits and single hyphens, neither first nor
# last.
_ALIAS = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ALIAS_LENGTH = (3, 63)


def read_settings(tx: Transaction, account_id: str, prefix: str) -> dict[str, str]:
    """The account's settings whose names start with `prefix`, keyed by the rest of the name."""
    rows = tx.query("SELECT name, value FROM account_settings WHERE account_id = ?",
                    (account_id,))
    return {row["name"][len(prefix):]: row["value"] for row in rows
            if str(row["name"]).startswith(prefix)}


def write_settings(tx: Transaction, account_id: str, prefix: str,
                   values: Mapping[str, str]) -> None:
    """Insert or replace each `prefix + name` setting."""
    for name, value in values.items():
        tx.execute(
            "INSERT INTO account_settings (account_id, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT (account_id, name) DO UPDATE SET value = excluded.value",
            (account_id, prefix + name, value))


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True, slots=True)
class SecurityPreference:
    """The defaults are the documented ones [doc: SetSecurityPreference (RAM API reference)]."""

    enable_save_mfa_ticket: bool = False
    allow_user_to_change_password: bool = True
    allow_user_to_manage_access_keys: bool = False
    allow_user_to_manage_mfa_devices: bool = True
    allow_user_to_manage_public_keys: bool = False
    login_session_duration: int = 6
    login_network_masks: str = ""
    mfa_operation_for_login: str = "independent"

    @property
    def enforce_mfa_for_login(self) -> bool:
        """EnforceMFAForLogin, the older spelling of MFAOperationForLogin = mandatory."""
        return self.mfa_operation_for_login == "mandatory"

    @property
    def networks(self) -> tuple[Network, ...]:
        return _parse_masks(self.login_network_masks)


# Storage name -> (field, kind); the stored names are the wire names.
_FIELDS: dict[str, tuple[str, type]] = {
    "EnableSaveMFATicket": ("enable_save_mfa_ticket", bool),
    "AllowUserToChangePassword": ("allow_user_to_change_password", bool),
    "AllowUserToManageAccessKeys": ("allow_user_to_manage_access_keys", bool),
    "AllowUserToManageMFADevices": ("allow_user_to_manage_mfa_devices", bool),
    "AllowUserToManagePublicKeys": ("allow_user_to_manage_public_keys", bool),
    "LoginSessionDuration": ("login_session_duration", int),
    "LoginNetworkMasks": ("login_network_masks", str),
    "MFAOperationForLogin": ("mfa_operation_for_login", str),
}


def _parse_masks(text: str) -> tuple[Network, ...]:
    if not text:
        return ()
    networks: list[Network] = []
    for mask in text.split(";"):
        try:
            networks.append(ipaddress.ip_network(mask.strip(), strict=False))
        except ValueError:
            raise InvalidParameter(
                "LoginNetworkMasks.Format",
                f'The format of the parameter - "LoginNetworkMasks" is incorrect: {mask!r} is '
                "not an IP address or CIDR block (separate masks with ';').") from None
    return tuple(networks)


def _normalize_masks(masks: str | None) -> str | None:
    """`10.0.0.0/8; 192.168.0.0/16` -> `10.0.0.0/8;192.168.0.0/16`; blank clears the masks."""
    if masks is None:
        return None
    return ";".join(mask.strip() for mask in masks.split(";")) if masks.strip() else ""


def _check_preference(preference: SecurityPreference) -> None:
    low, high = SESSION_HOURS
    if not low <= preference.login_session_duration <= high:
        raise InvalidParameter(
            "LoginSessionDuration.Range",
            f'The parameter - "LoginSessionDuration" MUST be in the range of {low} and {high}.')
    masks = preference.login_network_masks
    if len(masks) > MAX_LOGIN_NETWORK_MASKS_LENGTH:
        raise InvalidParameter(
            "LoginNetworkMasks.Length",
            f'The parameter - "LoginNetworkMasks" beyond the length limit '
            f"({MAX_LOGIN_NETWORK_MASKS_LENGTH} characters).")
    if len(_parse_masks(masks)) > MAX_LOGIN_NETWORK_MASKS:
        raise InvalidParameter(
            "LoginNetworkMasks.Length",
            f'The parameter - "LoginNetworkMasks" holds more than {MAX_LOGIN_NETWORK_MASKS} '
            "masks.")
    if preference.mfa_operation_for_login not in MFA_OPERATIONS:
        raise InvalidParameter(
            "MFAOperationForLogin.Format",
            'The parameter - "MFAOperationForLogin" must be one of: '
            f"{', '.join(MFA_OPERATIONS)}.")


def security_preference(tx: Transaction, account_id: str) -> SecurityPreference:
    """The stored preference, with the documented default for every unset field."""
    stored = read_settings(tx, account_id, _PREFERENCE)
    values: dict[str, Any] = {}
    for name, (field, kind) in _FIELDS.items():
        text = stored.get(name)
        if text is None:
            continue
        if kind is bool:
            values[field] = text == "true"
        elif kind is int:
            values[field] = int(text)
        else:
            values[field] = text
    return replace(SecurityPreference(), **values)


# ---- what sign-in and self-service code reads


def enforce_mfa_for_login(tx: Transaction, account_id: str) -> bool:
    """Whether every RAM user must pass MFA to sign in to the console."""
    return security_preference(tx, account_id).enforce_mfa_for_login


def login_network_masks(tx: Transaction, account_id: str) -> tuple[Network, ...]:
    """The networks console sign-in is limited to; empty means from anywhere."""
    return security_preference(tx, account_id).networks


def source_ip_allowed(networks: tuple[Network, ...], source_ip: str) -> bool:
    """Whether a console sign-in from `source_ip` passes the login masks. An unreadable address
    never passes a configured mask."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def allow_user_to_change_password(tx: Transaction, account_id: str) -> bool:
    return security_preference(tx, account_id).allow_user_to_change_password


def allow_user_to_manage_access_keys(tx: Transaction, account_id: str) -> bool:
    return security_preference(tx, account_id).allow_user_to_manage_access_keys


def allow_user_to_manage_mfa_devices(tx: Transaction, account_id: str) -> bool:
    return security_preference(tx, account_id).allow_user_to_manage_mfa_devices


class AccountSettingsBackend:
    """SetSecurityPreference / GetSecurityPreference and the account alias.

    The alias lives in `accounts.alias`, where `ramparts init --alias` puts it, so there is one
    alias per account and one place that holds it.
    """

    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    def security_preference(self) -> SecurityPreference:
        return security_preference(self.tx, self.account_id)

    def set_security_preference(
        self, *, enable_save_mfa_ticket: bool | None = None,
        allow_user_to_change_password: bool | None = None,
        allow_user_to_manage_access_keys: bool | None = None,
        allow_user_to_manage_mfa_devices: bool | None = None,
        allow_user_to_manage_public_keys: bool | None = None,
        login_session_duration: int | None = None, login_network_masks: str | None = None,
        mfa_operation_for_login: str | None = None,
    ) -> SecurityPreference:
        """Change the given fields; an omitted field keeps its current value (Terraform's
        provider sends only the changed ones). Validates everything before writing anything."""
        changes = {
            "enable_save_mfa_ticket": enable_save_mfa_ticket,
            "allow_user_to_change_password": allow_user_to_change_password,
            "allow_user_to_manage_access_keys": allow_user_to_manage_access_keys,
            "allow_user_to_manage_mfa_devices": allow_user_to_manage_mfa_devices,
            "allow_user_to_manage_public_keys": allow_user_to_manage_public_keys,
            "login_session_duration": login_session_duration,
            "login_network_masks": _normalize_masks(login_network_masks),
            "mfa_operation_for_login": mfa_operation_for_login,
        }
        given: dict[str, Any] = {field: value for field, value in changes.items()
                                 if value is not None}
        updated = replace(self.security_preference(), **given)
        _check_preference(updated)
        stored: dict[str, str] = {}
        for name, (field, kind) in _FIELDS.items():
            if field not in given:
                continue
            value = getattr(updated, field)
            stored[name] = _flag(value) if kind is bool else str(value)
        write_settings(self.tx, self.account_id, _PREFERENCE, stored)
        return updated

    # ---- the alias

    def alias(self) -> str:
        row = self.tx.query_one("SELECT alias FROM accounts WHERE account_id = ?",
                                (self.account_id,))
        return "" if row is None else str(row["alias"])

    def set_alias(self, alias: str) -> None:
        low, high = _ALIAS_LENGTH
        if not low <= len(alias) <= high:
            raise InvalidParameter(
                "AccountAlias.Length",
                f'The parameter - "AccountAlias" MUST be in the range of {low} and {high}.')
        if not _ALIAS.fullmatch(alias):
            raise InvalidParameter(
                "AccountAlias.Format",
                'The format of parameter - "AccountAlias" is incorrect: use lowercase letters, '
                "digits and single hyphens, not first or last.")
        taken = self.tx.query_one(
            "SELECT 1 AS x FROM accounts WHERE alias = ? AND account_id <> ?",
            (alias, self.account_id))
        if taken is not None:
            raise EntityAlreadyExists("AccountAlias", "The account alias does already exist.")
        self.tx.execute("UPDATE accounts SET alias = ? WHERE account_id = ?",
                        (alias, self.account_id))

    def clear_alias(self) -> None:
        self.tx.execute("UPDATE accounts SET alias = '' WHERE account_id = ?",
                        (self.account_id,))
