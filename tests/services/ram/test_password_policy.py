"""The password policy: documented defaults, ranges, partial updates, and each rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ramparts.services.ram.errors import InvalidParameter
from ramparts.services.ram.password_policy import (
    MAX_PASSWORD_LENGTH,
    PasswordPolicy,
    PasswordPolicyBackend,
    check_password,
)
from tests.services.ram.account_env import AccountEnv, account_env


@pytest.fixture
def acct(tmp_path: Path) -> AccountEnv:
    return account_env(tmp_path)


def _set(acct: AccountEnv, **changes: Any) -> PasswordPolicy:
    with acct.tx() as tx:
        return PasswordPolicyBackend(tx, acct.env, acct.account_id).set(**changes)


def _get(acct: AccountEnv) -> PasswordPolicy:
    with acct.tx() as tx:
        return PasswordPolicyBackend(tx, acct.env, acct.account_id).get()


def test_an_account_starts_with_the_documented_defaults(acct: AccountEnv) -> None:
    assert _get(acct) == PasswordPolicy(
        minimum_password_length=8, require_lowercase_characters=False,
        require_uppercase_characters=False, require_numbers=False, require_symbols=False,
        hard_expiry=False, max_login_attempts=0, password_reuse_prevention=0,
        max_password_age=0, minimum_password_different_character=0,
        password_not_contain_user_name=False)


def test_every_setting_is_stored_and_read_back(acct: AccountEnv) -> None:
    wanted = PasswordPolicy(
        minimum_password_length=14, require_lowercase_characters=True,
        require_uppercase_characters=True, require_numbers=True, require_symbols=True,
        hard_expiry=True, max_login_attempts=5, password_reuse_prevention=24,
        max_password_age=90, minimum_password_different_character=6,
        password_not_contain_user_name=True)
    assert _set(acct, **{f: getattr(wanted, f) for f in wanted.__slots__}) == wanted
    assert _get(acct) == wanted


def test_omitted_settings_keep_their_values(acct: AccountEnv) -> None:
    _set(acct, minimum_password_length=12, require_symbols=True, max_login_attempts=3)
    _set(acct, require_symbols=False)
    policy = _get(acct)
    assert (policy.minimum_password_length, policy.require_symbols,
            policy.max_login_attempts) == (12, False, 3)


RANGES = [
    ("minimum_password_length", "MinimumPasswordLength", 8, 32),
    ("password_reuse_prevention", "PasswordReusePrevention", 0, 24),
    ("max_password_age", "MaxPasswordAge", 0, 1095),
    ("max_login_attempts", "MaxLoginAttemps", 0, 32),
    ("minimum_password_different_character", "MinimumPasswordDifferentCharacter", 0, 8),
]


@pytest.mark.parametrize(("field", "wire", "low", "high"), RANGES)
def test_integer_settings_accept_their_bounds(acct: AccountEnv, field: str, wire: str,
                                              low: int, high: int) -> None:
    assert getattr(_set(acct, **{field: low}), field) == low
    assert getattr(_set(acct, **{field: high}), field) == high


@pytest.mark.parametrize(("field", "wire", "low", "high"), RANGES)
@pytest.mark.parametrize("side", ["below", "above"])
def test_integer_settings_out_of_range_are_refused(acct: AccountEnv, field: str, wire: str,
                                                   low: int, high: int, side: str) -> None:
    value = low - 1 if side == "below" else high + 1
    with pytest.raises(InvalidParameter) as caught:
        _set(acct, **{field: value})
    assert caught.value.error_code == f"InvalidParameter.{wire}.Range"
    assert f'"{wire}" MUST be in the range of {low} and {high}' in caught.value.message


def test_a_refused_change_writes_nothing(acct: AccountEnv) -> None:
    with pytest.raises(InvalidParameter):
        _set(acct, require_numbers=True, max_password_age=2000)
    assert _get(acct).require_numbers is False


STRICT = PasswordPolicy(minimum_password_length=10, require_lowercase_characters=True,
                        require_uppercase_characters=True, require_numbers=True,
                        require_symbols=True, minimum_password_different_character=6,
                        password_not_contain_user_name=True)


@pytest.mark.parametrize(("password", "rule"), [
    ("Ab1!efg", "be at least 10 characters long"),
    ("ABCDEFGH1!X", "contain a lowercase letter"),
    ("abcdefgh1!x", "contain an uppercase letter"),
    ("Abcdefgh!!x", "contain a digit"),
    ("Abcdefgh11x", "contain a special character"),
    ("Aa1!Aa1!Aa1!", "contain at least 6 different characters"),
    ("xAlice-Dev1!", "not contain the user name"),
])
def test_each_rule_names_itself_and_never_the_password(password: str, rule: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_password(STRICT, password, "alice-dev")
    assert caught.value.error_code == "InvalidParameter.Password.TooWeak"
    assert rule in caught.value.message
    assert password not in caught.value.message


def test_a_compliant_password_passes_every_rule() -> None:
    check_password(STRICT, "Correct-Horse9", "alice-dev")


def test_the_default_policy_asks_only_for_eight_characters() -> None:
    check_password(PasswordPolicy(), "aaaaaaaa", "alice")
    with pytest.raises(InvalidParameter, match="at least 8 characters"):
        check_password(PasswordPolicy(), "aaaaaaa", "alice")


def test_the_error_names_the_parameter_that_was_checked() -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_password(PasswordPolicy(), "short", "alice", parameter="NewPassword")
    assert caught.value.error_code == "InvalidParameter.NewPassword.TooWeak"
    assert '"NewPassword"' in caught.value.message


def test_an_overlong_password_is_refused_before_hashing() -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_password(PasswordPolicy(), "a" * (MAX_PASSWORD_LENGTH + 1), "alice")
    assert caught.value.error_code == "InvalidParameter.Password.Length"
    check_password(PasswordPolicy(), "a" * MAX_PASSWORD_LENGTH, "alice")


def test_the_user_name_rule_applies_only_when_set() -> None:
    check_password(PasswordPolicy(), "alice-password", "alice")
    with pytest.raises(InvalidParameter):
        check_password(PasswordPolicy(password_not_contain_user_name=True), "my-ALICE-pw",
                       "alice")


def test_the_backend_checks_against_the_stored_policy(acct: AccountEnv) -> None:
    _set(acct, require_numbers=True)
    with acct.tx() as tx:
        backend = PasswordPolicyBackend(tx, acct.env, acct.account_id)
        backend.check("password9", "alice")
        with pytest.raises(InvalidParameter, match="contain a digit"):
            backend.check("password", "alice")
