"""`ConsoleSignin`: a RAM user or the root identity signs in with a password and, when a device
is bound or MFA is enforced, a TOTP code; the answer is STS-style session credentials whose
requests carry `acs:MFAPresent` true only when a code was checked."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.core.context import Caller, CallerKind
from ramparts.crypto.passwords import verify_password
from ramparts.services.accounts import root_password_context
from ramparts.services.actions import ActionTable, Product
from ramparts.services.call import Call
from ramparts.services.ram.account_settings import security_preference, source_ip_allowed
from ramparts.services.ram.login_profiles import LoginProfileBackend, SignInOutcome
from ramparts.services.ram.mfa import ROOT_KEY, MFABackend
from ramparts.services.ram.names import entity_arn, key_of
from ramparts.services.ram.users import UserBackend
from ramparts.services.signin.errors import (
    InvalidCredentials,
    LoginNetworkRestricted,
    LoginProfileLocked,
    MFABindRequired,
    MFACodeInvalid,
    MFACodeRequired,
    PasswordExpired,
    PasswordResetRequired,
)
from ramparts.services.sts.sessions import SessionBackend, TemporaryCredentials

__all__ = ["ROOT_PRINCIPAL", "SIGNIN"]

SIGNIN = ActionTable(Product("Signin", "2026-01-01", "signin.aliyun.com", "signin"))
ROOT_PRINCIPAL = "root"
WRONG = "The user name or password is incorrect."


def _anything(call: Call) -> str:
    return "*"


def _duration(call: Call) -> timedelta:
    hours = security_preference(call.tx, call.context.account_id).login_session_duration
    return timedelta(hours=hours)


def _user_name(call: Call, principal: str) -> str:
    """`alice`, or the logon name `alice@<account alias or id>.onaliyun.com`."""
    if "@" not in principal:
        return principal
    name, _, domain = principal.partition("@")
    account = domain.removesuffix(".onaliyun.com")
    row = call.tx.query_one("SELECT alias FROM accounts WHERE account_id = ?",
                            (call.context.account_id,))
    known = {call.context.account_id, (row or {}).get("alias") or call.context.account_id}
    if account not in known:
        raise InvalidCredentials(WRONG)
    return name


def _check_code(call: Call, principal_key: str, now: datetime, required: bool,
                on_failure: Any) -> bool:
    """Whether a TOTP code was checked; raise when one is needed and missing or wrong."""
    mfa = MFABackend(call.tx, call.env, call.context.account_id)
    device = mfa.device_of(principal_key)
    if device is None:
        if required:
            raise MFABindRequired("Multi-factor authentication is required for this sign-in, "
                                  "and no MFA device is bound: an administrator can bind one "
                                  "with CreateVirtualMFADevice and BindMFADevice.")
        return False
    code = call.params.str("MFACode")
    if not code:
        raise MFACodeRequired("An MFA device is bound: give the current code as MFACode.")
    if not mfa.verify_code(principal_key, str(code), now):
        on_failure()
        raise MFACodeInvalid("The MFA code is wrong, expired, or was already used.")
    return True


def _answer(call: Call, credentials: TemporaryCredentials, caller: Caller,
            mfa_present: bool, identity_type: str) -> dict[str, Any]:
    call.acting = caller
    return {
        "Credentials": {
            "AccessKeyId": credentials.access_key_id,
            "AccessKeySecret": credentials.access_key_secret,
            "SecurityToken": credentials.security_token,
            "Expiration": format_iso8601(credentials.expiration),
        },
        "Principal": {"Arn": caller.arn, "IdentityType": identity_type,
                      "PrincipalId": caller.principal_id},
        "MFAPresent": mfa_present,
    }


def _root_sign_in(call: Call, now: datetime) -> dict[str, Any]:
    account = call.context.account_id
    password = str(call.params.str("Password", required=True))
    row = call.tx.query_one("SELECT password_sealed FROM root_identities WHERE account_id = ?",
                            (account,))
    sealed = (row or {}).get("password_sealed")
    encoded = "" if not sealed else call.env.sealer.open(
        base64.b64decode(sealed), context=root_password_context(account)).decode()
    root = Caller(CallerKind.ROOT, account, account, "root", f"acs:ram::{account}:root", "")
    call.service_name = "AasCustomer"  # as ActionTrail names the root's console sign-in
    call.event_data.update(loginAccount=ROOT_PRINCIPAL, isMFAChecked="false")
    if not encoded or not verify_password(password, encoded):
        raise InvalidCredentials(WRONG)
    call.acting = root
    mfa_present = _check_code(call, ROOT_KEY, now, False, lambda: None)
    call.event_data["isMFAChecked"] = "true" if mfa_present else "false"
    credentials = SessionBackend(call.tx, call.env, account).create(
        kind="root", principal_key=ROOT_PRINCIPAL, session_name=ROOT_PRINCIPAL,
        duration=_duration(call), source_access_key_id=None, session_policy=None,
        mfa_present=mfa_present)
    call.tx.execute("UPDATE root_identities SET last_login_at = ? WHERE account_id = ?",
                    (format_iso8601(now), account))
    return _answer(call, credentials, root, mfa_present, "Account")


def _user_sign_in(call: Call, principal: str, now: datetime) -> dict[str, Any]:
    account = call.context.account_id
    name = _user_name(call, principal)
    password = str(call.params.str("Password", required=True))
    call.event_data.update(mfaChecked="false")
    call.service_name = "AasSub"  # as ActionTrail names a RAM user's console sign-in
    profiles = LoginProfileBackend(call.tx, call.env, account)
    # The failure count is cleared only once every factor has passed: a right password must
    # not reset the count that wrong MFA codes build up.
    check = profiles.verify_sign_in(name, password, now, reset_on_success=False)
    if check.outcome in (SignInOutcome.NO_LOGIN_PROFILE, SignInOutcome.WRONG_PASSWORD):
        raise InvalidCredentials(WRONG)
    if check.outcome is SignInOutcome.LOCKED:
        until = format_iso8601(check.locked_until) if check.locked_until else "later"
        raise LoginProfileLocked(f"Too many failed sign-in attempts: the login profile is "
                                 f"locked until {until}.")
    user = UserBackend(call.tx, call.env, account).get(check.user_name)
    caller = Caller(CallerKind.USER, account, user.user_id, user.user_name,
                    entity_arn(account, "user", user.user_name), "")
    call.acting = caller
    if check.outcome is SignInOutcome.PASSWORD_EXPIRED and check.hard_expiry:
        raise PasswordExpired("The password has expired and only an administrator can set a "
                              "new one (UpdateLoginProfile).")
    if check.outcome in (SignInOutcome.PASSWORD_EXPIRED, SignInOutcome.RESET_REQUIRED):
        new_password = call.params.str("NewPassword")
        if not new_password:
            raise PasswordResetRequired("The password must be changed before signing in: "
                                        "give the new one as NewPassword.")
        profiles.change_password(user.user_name, password, str(new_password))
    preference = security_preference(call.tx, account)
    required = preference.enforce_mfa_for_login or check.mfa_bind_required
    mfa_present = _check_code(call, key_of(user.user_name), now, required,
                              lambda: profiles.record_failed_attempt(user.user_name, now))
    call.event_data["mfaChecked"] = "true" if mfa_present else "false"
    profiles.record_success(user.user_name)
    credentials = SessionBackend(call.tx, call.env, account).create(
        kind="user", principal_key=key_of(user.user_name), session_name=user.user_name,
        duration=_duration(call), source_access_key_id=None, session_policy=None,
        mfa_present=mfa_present)
    UserBackend(call.tx, call.env, account).record_login(user.user_name)
    return _answer(call, credentials, caller, mfa_present, "RAMUser")


@SIGNIN.action("ConsoleSignin", resource=_anything, rw="Write", public=True,
               event_type="ConsoleSignin", sensitive=("Password", "NewPassword", "MFACode"),
               secret_response=("AccessKeySecret", "SecurityToken"))
def console_signin(call: Call) -> dict[str, Any]:
    """`PrincipalName` is `root` or a RAM user's name (or logon name); `Password`; `MFACode`
    when a device is bound; `NewPassword` when the password must be changed first."""
    principal = str(call.params.str("PrincipalName", required=True))
    now = call.env.clock.now()
    networks = security_preference(call.tx, call.context.account_id).networks
    if principal != ROOT_PRINCIPAL and not source_ip_allowed(networks, call.context.source_ip):
        raise LoginNetworkRestricted(f"Console sign-in is not allowed from "
                                     f"{call.context.source_ip}: see LoginNetworkMasks.")
    if principal == ROOT_PRINCIPAL:
        return _root_sign_in(call, now)
    return _user_sign_in(call, principal, now)
