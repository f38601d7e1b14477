"""Sign-in refusals: one code per reason a person can act on, none that reveals whether a user
name exists."""

from __future__ import annotations

from ramparts.core.errors import ServiceError

__all__ = [
    "InvalidCredentials", "LoginNetworkRestricted", "LoginProfileLocked", "MFABindRequired",
    "MFACodeInvalid", "MFACodeRequired", "PasswordExpired", "PasswordResetRequired",
]


class InvalidCredentials(ServiceError):
    """A wrong password, an unknown user, or a user without a login profile: one answer."""

    code = "InvalidCredentials"
    http_status = 401


class LoginProfileLocked(ServiceError):
    code = "LoginProfile.Locked"
    http_status = 403


class LoginNetworkRestricted(ServiceError):
    code = "Forbidden.LoginNetwork"
    http_status = 403


class PasswordExpired(ServiceError):
    code = "PasswordExpired"
    http_status = 403


class PasswordResetRequired(ServiceError):
    code = "PasswordResetRequired"
    http_status = 403


class MFACodeRequired(ServiceError):
    code = "MFACode.Required"
    http_status = 401


class MFACodeInvalid(ServiceError):
    code = "MFACode.Invalid"
    http_status = 401


class MFABindRequired(ServiceError):
    code = "MFADevice.BindRequired"
    http_status = 403
