"""The account's password policy for RAM users: its settings, and whether a password complies."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ramparts.services.call import ServiceEnv
from ramparts.services.ram.account_settings import read_settings, write_settings
from ramparts.services.ram.errors import InvalidParameter
from ramparts.store.base import Transaction

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MAX_REUSE_PREVENTION",
    "PasswordPolicy",
    "PasswordPolicyBackend",
    "check_password",
    "password_policy",
]

# Hashing bounds the work one request can cause; no longer limit is documented.
MAX_PASSWORD_LENGTH = 128
MAX_REUSE_PREVENTION = 24
_PREFIX = "password_policy."
_SYMBOLS = frozenset(string.punctuation)


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Field defaults are the documented ones [doc: SetPasswordPolicy (RAM and IMS API
    reference)]: length 8, no character classes required, no expiry, no reuse check, no
    lockout. The last two fields are documented for IMS 2019-08-15 only; the RAM 2015-05-01
    API neither sets nor returns them, but they apply to every password all the same."""

    minimum_password_length: int = 8
    require_lowercase_characters: bool = False
    require_uppercase_characters: bool = False
    require_numbers: bool = False
    require_symbols: bool = False
    hard_expiry: bool = False
    max_login_attempts: int = 0
    password_reuse_prevention: int = 0
    max_password_age: int = 0
    minimum_password_different_character: int = 0
    password_not_contain_user_name: bool = False


# field -> (wire name, inclusive range for integers). `MaxLoginAttemps` is Alibaba's spelling.
_WIRE: dict[str, tuple[str, tuple[int, int] | None]] = {
    "minimum_password_length": ("MinimumPasswordLength", (8, 32)),
    "require_lowercase_characters": ("RequireLowercaseCharacters", None),
    "require_uppercase_characters": ("RequireUppercaseCharacters", None),
    "require_numbers": ("RequireNumbers", None),
    "require_symbols": ("RequireSymbols", None),
    "hard_expiry": ("HardExpiry", None),
    "max_login_attempts": ("MaxLoginAttemps", (0, 32)),
    "password_reuse_prevention": ("PasswordReusePrevention", (0, MAX_REUSE_PREVENTION)),
    "max_password_age": ("MaxPasswordAge", (0, 1095)),
    "minimum_password_different_character": ("MinimumPasswordDifferentCharacter", (0, 8)),
    "password_not_contain_user_name": ("PasswordNotContainUserName", None),
}


def _check_ranges(policy: PasswordPolicy) -> None:
    for field, (wire, bounds) in _WIRE.items():
        if bounds is None:
            continue
        low, high = bounds
        if not low <= getattr(policy, field) <= high:
            raise InvalidParameter(
                f"{wire}.Range", f'The parameter - "{wire}" MUST be in the range of {low} and '
                                 f"{high}.")


def password_policy(tx: Transaction, account_id: str) -> PasswordPolicy:
    """The stored policy, with the documented default for every unset field."""
    stored = read_settings(tx, account_id, _PREFIX)
    values: dict[str, Any] = {}
    for field, (wire, bounds) in _WIRE.items():
        text = stored.get(wire)
        if text is not None:  # flags have no range
            values[field] = text == "true" if bounds is None else int(text)
    return replace(PasswordPolicy(), **values)


# The rules a password is checked against, in order: (applies, complies, what it must do).
Rule = tuple[Callable[[PasswordPolicy], bool], Callable[[PasswordPolicy, str, str], bool],
             Callable[[PasswordPolicy], str]]
_RULES: list[Rule] = [
    (lambda p: True, lambda p, pw, _: len(pw) >= p.minimum_password_length,
     lambda p: f"be at least {p.minimum_password_length} characters long"),
    (lambda p: p.require_lowercase_characters,
     lambda p, pw, _: any("a" <= c <= "z" for c in pw),
     lambda p: "contain a lowercase letter (a-z)"),
    (lambda p: p.require_uppercase_characters,
     lambda p, pw, _: any("A" <= c <= "Z" for c in pw),
     lambda p: "contain an uppercase letter (A-Z)"),
    (lambda p: p.require_numbers, lambda p, pw, _: any("0" <= c <= "9" for c in pw),
     lambda p: "contain a digit (0-9)"),
    (lambda p: p.require_symbols, lambda p, pw, _: any(c in _SYMBOLS for c in pw),
     lambda p: "contain a special character such as !@#$%"),
    (lambda p: p.minimum_password_different_character > 0,
     lambda p, pw, _: len(set(pw)) >= p.minimum_password_different_character,
     lambda p: f"contain at least {p.minimum_password_different_character} different "
               "characters"),
    (lambda p: p.password_not_contain_user_name,
     lambda p, pw, user: not user or user.lower() not in pw.lower(),
     lambda p: "not contain the user name"),
]


def check_password(policy: PasswordPolicy, password: str, user_name: str, *,
                   parameter: str = "Password") -> None:
    """Raise `InvalidParameter.<parameter>.TooWeak` naming the first rule the password breaks
    [doc: CreateLoginProfile; ChangePassword]. The message never repeats the password."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidParameter(
            f"{parameter}.Length",
            f'The parameter - "{parameter}" beyond the length limit ({MAX_PASSWORD_LENGTH} '
            "characters).")
    for applies, complies, requirement in _RULES:
        if applies(policy) and not complies(policy, password, user_name):
            raise InvalidParameter(
                f"{parameter}.TooWeak",
                f'The parameter - "{parameter}" is not compliant with the password policy: '
                f"it must {requirement(policy)}.")


class PasswordPolicyBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    def get(self) -> PasswordPolicy:
        return password_policy(self.tx, self.account_id)

    def set(
        self, *, minimum_password_length: int | None = None,
        require_lowercase_characters: bool | None = None,
        require_uppercase_characters: bool | None = None, require_numbers: bool | None = None,
        require_symbols: bool | None = None, hard_expiry: bool | None = None,
        max_login_attempts: int | None = None, password_reuse_prevention: int | None = None,
        max_password_age: int | None = None,
        minimum_password_different_character: int | None = None,
        password_not_contain_user_name: bool | None = None,
    ) -> PasswordPolicy:
        """Change the given settings; an omitted one keeps its current value (Terraform's
        provider sends only the changed ones). Validates all before writing any."""
        changes = {
            "minimum_password_length": minimum_password_length,
            "require_lowercase_characters": require_lowercase_characters,
            "require_uppercase_characters": require_uppercase_characters,
            "require_numbers": require_numbers, "require_symbols": require_symbols,
            "hard_expiry": hard_expiry, "max_login_attempts": max_login_attempts,
            "password_reuse_prevention": password_reuse_prevention,
            "max_password_age": max_password_age,
            "minimum_password_different_character": minimum_password_different_character,
            "password_not_contain_user_name": password_not_contain_user_name,
        }
        given: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        updated = replace(self.get(), **given)
        _check_ranges(updated)
        write_settings(self.tx, self.account_id, _PREFIX, {
            _WIRE[field][0]: ("true" if value else "false") if isinstance(value, bool)
            else str(value)
            for field, value in given.items()})
        return updated

    def check(self, password: str, user_name: str, *, parameter: str = "Password") -> None:
        check_password(self.get(), password, user_name, parameter=parameter)
