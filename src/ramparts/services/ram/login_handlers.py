"""RAM's console login profile and password policy actions on the wire."""

from __future__ import annotations

from typing import Any

from ramparts.core.context import CallerKind
from ramparts.core.errors import ServiceError
from ramparts.services.call import Call
from ramparts.services.ram.login_profiles import LoginProfile, LoginProfileBackend
from ramparts.services.ram.password_policy import PasswordPolicy, PasswordPolicyBackend
from ramparts.services.ram.product import RAM, account_resource, named

__all__ = ["NotSupportAccount"]

USER = "ACS::RAM::User"
PASSWORDS = ("Password", "OldPassword", "NewPassword")


class NotSupportAccount(ServiceError):
    """[doc: ChangePassword] only a RAM user may change its own password."""

    code = "NotSupport.Account"
    http_status = 400


def _profiles(call: Call) -> LoginProfileBackend:
    return LoginProfileBackend(call.tx, call.env, call.context.account_id)


def _policies(call: Call) -> PasswordPolicyBackend:
    return PasswordPolicyBackend(call.tx, call.env, call.context.account_id)


def _profile_body(profile: LoginProfile) -> dict[str, Any]:
    return {"UserName": profile.user_name,
            "PasswordResetRequired": profile.password_reset_required,
            "MFABindRequired": profile.mfa_bind_required, "CreateDate": profile.created_at}


def _policy_body(policy: PasswordPolicy) -> dict[str, Any]:
    """The nine fields RAM 2015-05-01 returns [doc: GetPasswordPolicy]."""
    return {"PasswordPolicy": {
        "MinimumPasswordLength": policy.minimum_password_length,
        "RequireLowercaseCharacters": policy.require_lowercase_characters,
        "RequireUppercaseCharacters": policy.require_uppercase_characters,
        "RequireNumbers": policy.require_numbers, "RequireSymbols": policy.require_symbols,
        "HardExpiry": policy.hard_expiry, "MaxLoginAttemps": policy.max_login_attempts,
        "PasswordReusePrevention": policy.password_reuse_prevention,
        "MaxPasswordAge": policy.max_password_age,
    }}


def own_user_arn(call: Call) -> str:
    """The caller's own user, whatever the parameters say: ChangePassword acts on the caller
    alone, so a `UserName` sent along must not steer the RAM check elsewhere."""
    caller = call.context.caller
    if caller.kind is not CallerKind.USER:
        raise NotSupportAccount("This method can be only invoked by sub user.")
    return f"acs:ram::{call.context.account_id}:user/{caller.name}"


@RAM.action("CreateLoginProfile", resource=named("user", "UserName"), rw="Write",
            sensitive=PASSWORDS)
def create_login_profile(call: Call) -> dict[str, Any]:
    params = call.params
    profile = _profiles(call).create(
        params.str("UserName", required=True), params.str("Password", required=True),
        password_reset_required=bool(params.bool("PasswordResetRequired", default=False)),
        mfa_bind_required=bool(params.bool("MFABindRequired", default=False)))
    call.touched(USER, profile.user_name)
    return {"LoginProfile": _profile_body(profile)}


@RAM.action("GetLoginProfile", resource=named("user", "UserName"), rw="Read")
def get_login_profile(call: Call) -> dict[str, Any]:
    profile = _profiles(call).get(call.params.str("UserName", required=True))
    call.touched(USER, profile.user_name)
    return {"LoginProfile": _profile_body(profile)}


@RAM.action("UpdateLoginProfile", resource=named("user", "UserName"), rw="Write",
            sensitive=PASSWORDS)
def update_login_profile(call: Call) -> dict[str, Any]:
    params = call.params
    profile = _profiles(call).update(
        params.str("UserName", required=True),
        password=params.str("Password") or None,  # an empty value sets nothing
        password_reset_required=params.bool("PasswordResetRequired"),
        mfa_bind_required=params.bool("MFABindRequired"))
    call.touched(USER, profile.user_name)
    return {}


@RAM.action("DeleteLoginProfile", resource=named("user", "UserName"), rw="Write")
def delete_login_profile(call: Call) -> dict[str, Any]:
    name = call.params.str("UserName", required=True)
    _profiles(call).delete(name)
    call.touched(USER, name)
    return {}


@RAM.action("ChangePassword", resource=own_user_arn, rw="Write", sensitive=PASSWORDS)
def change_password(call: Call) -> dict[str, Any]:
    name = call.context.caller.name
    _profiles(call).change_password(name, call.params.str("OldPassword", required=True),
                                    call.params.str("NewPassword", required=True))
    call.touched(USER, name)
    return {}


@RAM.action("SetPasswordPolicy", resource=account_resource, rw="Write")
def set_password_policy(call: Call) -> dict[str, Any]:
    """RAM 2015-05-01 sets the nine documented fields; omitted ones keep their values."""
    params = call.params
    policy = _policies(call).set(
        minimum_password_length=params.int("MinimumPasswordLength"),
        require_lowercase_characters=params.bool("RequireLowercaseCharacters"),
        require_uppercase_characters=params.bool("RequireUppercaseCharacters"),
        require_numbers=params.bool("RequireNumbers"),
        require_symbols=params.bool("RequireSymbols"),
        hard_expiry=params.bool("HardExpiry"),
        max_login_attempts=params.int("MaxLoginAttemps"),
        password_reuse_prevention=params.int("PasswordReusePrevention"),
        max_password_age=params.int("MaxPasswordAge"))
    return _policy_body(policy)


@RAM.action("GetPasswordPolicy", resource=account_resource, rw="Read")
def get_password_policy(call: Call) -> dict[str, Any]:
    return _policy_body(_policies(call).get())
