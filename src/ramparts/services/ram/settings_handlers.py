"""RAM's account-wide settings on the wire: security preference and account alias."""

from __future__ import annotations

from typing import Any

from ramparts.services.call import Call
from ramparts.services.ram.account_settings import AccountSettingsBackend, SecurityPreference
from ramparts.services.ram.product import IMS, RAM, account_resource

__all__: list[str] = []


def _settings(call: Call) -> AccountSettingsBackend:
    return AccountSettingsBackend(call.tx, call.env, call.context.account_id)


def _preference_body(preference: SecurityPreference, *, ims: bool = False) -> dict[str, Any]:
    """Nested as RAM 2015-05-01 nests it [doc: GetSecurityPreference]; IMS 2019-08-15 adds the
    MFA-for-login setting to the login profile preference."""
    login: dict[str, Any] = {
        "EnableSaveMFATicket": preference.enable_save_mfa_ticket,
        "AllowUserToChangePassword": preference.allow_user_to_change_password,
        "LoginSessionDuration": preference.login_session_duration,
        "LoginNetworkMasks": preference.login_network_masks,
    }
    if ims:
        login["MFAOperationForLogin"] = preference.mfa_operation_for_login
    return {"SecurityPreference": {
        "LoginProfilePreference": login,
        "AccessKeyPreference": {
            "AllowUserToManageAccessKeys": preference.allow_user_to_manage_access_keys,
        },
        "MFAPreference": {
            "AllowUserToManageMFADevices": preference.allow_user_to_manage_mfa_devices,
        },
        "PublicKeyPreference": {
            "AllowUserToManagePublicKeys": preference.allow_user_to_manage_public_keys,
        },
    }}


def _mfa_operation(call: Call) -> str | None:
    """IMS's `MFAOperationForLogin`, or the older boolean `EnforceMFAForLogin`."""
    operation = call.params.str("MFAOperationForLogin")
    if operation is not None:
        return str(operation)
    enforce = call.params.bool("EnforceMFAForLogin")
    return None if enforce is None else ("mandatory" if enforce else "independent")


def _set_preference(call: Call, *, ims: bool) -> SecurityPreference:
    params = call.params
    return _settings(call).set_security_preference(
        enable_save_mfa_ticket=params.bool("EnableSaveMFATicket"),
        allow_user_to_change_password=params.bool("AllowUserToChangePassword"),
        allow_user_to_manage_access_keys=params.bool("AllowUserToManageAccessKeys"),
        allow_user_to_manage_mfa_devices=params.bool("AllowUserToManageMFADevices"),
        allow_user_to_manage_public_keys=params.bool("AllowUserToManagePublicKeys"),
        login_session_duration=params.int("LoginSessionDuration"),
        login_network_masks=params.str("LoginNetworkMasks"),
        mfa_operation_for_login=_mfa_operation(call) if ims else None)


@RAM.action("SetSecurityPreference", resource=account_resource, rw="Write")
def set_security_preference(call: Call) -> dict[str, Any]:
    """Omitted parameters keep their values. RAM 2015-05-01 has no MFA-for-login parameter;
    that setting belongs to IMS 2019-08-15."""
    return _preference_body(_set_preference(call, ims=False))


@IMS.action("SetSecurityPreference", resource=account_resource, rw="Write")
def set_security_preference_ims(call: Call) -> dict[str, Any]:
    """IMS's version, which also sets MFAOperationForLogin (`mandatory` enforces MFA at
    every console sign-in; `independent` and `adaptive` leave it to bound devices)."""
    return _preference_body(_set_preference(call, ims=True), ims=True)


@IMS.action("GetSecurityPreference", resource=account_resource, rw="Read")
def get_security_preference_ims(call: Call) -> dict[str, Any]:
    return _preference_body(_settings(call).security_preference(), ims=True)


@RAM.action("GetSecurityPreference", resource=account_resource, rw="Read")
def get_security_preference(call: Call) -> dict[str, Any]:
    return _preference_body(_settings(call).security_preference())


@RAM.action("SetAccountAlias", resource=account_resource, rw="Write")
def set_account_alias(call: Call) -> dict[str, Any]:
    _settings(call).set_alias(call.params.str("AccountAlias", required=True))
    return {}


@RAM.action("GetAccountAlias", resource=account_resource, rw="Read")
def get_account_alias(call: Call) -> dict[str, Any]:
    return {"AccountAlias": _settings(call).alias()}


@RAM.action("ClearAccountAlias", resource=account_resource, rw="Write")
def clear_account_alias(call: Call) -> dict[str, Any]:
    _settings(call).clear_alias()
    return {}
