"""Login profiles: sealed hashes, the policy on every new password, reuse prevention, expiry,
the sign-in check with its lockout, and ChangePassword's rules."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ramparts.core.errors import ServiceError
from ramparts.crypto import CryptoError, passwords
from ramparts.services.ram import login_profiles
from ramparts.services.ram.account_settings import AccountSettingsBackend
from ramparts.services.ram.login_profiles import (
    LOCKOUT,
    LoginProfile,
    LoginProfileBackend,
    ScryptCost,
    SignInCheck,
    SignInOutcome,
    password_context,
)
from ramparts.services.ram.password_policy import MAX_REUSE_PREVENTION, PasswordPolicyBackend
from ramparts.services.ram.users import UserBackend
from tests.services.ram.account_env import AccountEnv, account_env

FAST = ScryptCost(n=16, r=1, p=1)
GOOD = "Good-Password-1"


@pytest.fixture
def acct(tmp_path: Path) -> Iterator[AccountEnv]:
    env = account_env(tmp_path)
    with env.tx() as tx:
        UserBackend(tx, env.env, env.account_id).create("alice")
        UserBackend(tx, env.env, env.account_id).create("bob")
    yield env
    env.store.close()


def _run(acct: AccountEnv, method: str, *args: Any, cost: ScryptCost = FAST,
         **kwargs: Any) -> Any:
    with acct.tx() as tx:
        backend = LoginProfileBackend(tx, acct.env, acct.account_id, cost=cost)
        return getattr(backend, method)(*args, **kwargs)


def _code(acct: AccountEnv, method: str, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        _run(acct, method, *args, **kwargs)
    return caught.value.error_code


def _policy(acct: AccountEnv, **changes: Any) -> None:
    with acct.tx() as tx:
        PasswordPolicyBackend(tx, acct.env, acct.account_id).set(**changes)


def _preference(acct: AccountEnv, **changes: Any) -> None:
    with acct.tx() as tx:
        AccountSettingsBackend(tx, acct.env, acct.account_id).set_security_preference(**changes)


def _sign_in(acct: AccountEnv, password: str, user: str = "alice") -> SignInCheck:
    result: SignInCheck = _run(acct, "verify_sign_in", user, password, acct.clock.now())
    return result


def _stored_hash(acct: AccountEnv, user: str = "alice") -> str:
    with acct.tx() as tx:
        row = tx.query_one("SELECT p.password_sealed, u.user_id FROM login_profiles p JOIN "
                           "users u ON u.name_key = p.user_key WHERE p.user_key = ?", (user,))
    assert row is not None
    return acct.env.sealer.open(base64.b64decode(row["password_sealed"]),
                                context=password_context(acct.account_id,
                                                         row["user_id"])).decode()


# ---- create, get, update, delete


def test_a_new_profile_reads_back_with_its_flags(acct: AccountEnv) -> None:
    created: LoginProfile = _run(acct, "create", "Alice", GOOD, password_reset_required=True,
                                 mfa_bind_required=True)
    assert (created.user_name, created.password_reset_required,
            created.mfa_bind_required) == ("alice", True, True)
    assert created.created_at == "2026-01-01T00:00:00Z"
    assert _run(acct, "get", "alice") == created


def test_the_password_is_stored_hashed_and_sealed(acct: AccountEnv, tmp_path: Path) -> None:
    _run(acct, "create", "alice", GOOD)
    with acct.tx() as tx:
        rows = tx.query("SELECT * FROM login_profiles UNION ALL SELECT account_id, user_key, "
                        "password_sealed, 0, 0, 0, NULL, '', '', '' FROM password_history")
    assert rows
    for row in rows:
        assert GOOD not in str(row)
        assert "scrypt$" not in base64.b64decode(row["password_sealed"]).decode("latin-1")
    assert passwords.verify_password(GOOD, _stored_hash(acct))
    acct.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("db*"))
    assert GOOD.encode() not in raw
    assert b"scrypt$" not in raw


def test_the_sealed_hash_is_bound_to_its_user(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    with acct.tx() as tx:
        row = tx.query_one("SELECT password_sealed FROM login_profiles WHERE user_key = ?",
                           ("alice",))
        bob = UserBackend(tx, acct.env, acct.account_id).get("bob")
    assert row is not None
    with pytest.raises(CryptoError):
        acct.env.sealer.open(base64.b64decode(row["password_sealed"]),
                             context=password_context(acct.account_id, bob.user_id))


def test_create_refuses_a_missing_user_a_second_profile_and_a_weak_password(
        acct: AccountEnv) -> None:
    assert _code(acct, "create", "carol", GOOD) == "EntityNotExist.User"
    assert _code(acct, "create", "alice", "short") == "InvalidParameter.Password.TooWeak"
    assert _code(acct, "get", "alice") == "EntityNotExist.User.LoginProfile"
    _run(acct, "create", "alice", GOOD)
    assert _code(acct, "create", "ALICE", GOOD) == "EntityAlreadyExists.User.LoginProfile"


def test_create_checks_the_stored_policy(acct: AccountEnv) -> None:
    _policy(acct, require_symbols=True, password_not_contain_user_name=True)
    assert _code(acct, "create", "alice", "Password1") == "InvalidParameter.Password.TooWeak"
    assert _code(acct, "create", "alice", "alice-Pw1!") == "InvalidParameter.Password.TooWeak"
    _run(acct, "create", "alice", "Pass-word1")


def test_update_changes_only_what_it_is_given(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD, mfa_bind_required=True)
    acct.clock.advance(timedelta(minutes=5))
    updated: LoginProfile = _run(acct, "update", "alice", password_reset_required=True)
    assert (updated.password_reset_required, updated.mfa_bind_required) == (True, True)
    assert updated.password_changed_at == "2026-01-01T00:00:00Z"
    assert updated.updated_at == "2026-01-01T00:05:00Z"
    assert _sign_in(acct, GOOD).outcome is SignInOutcome.RESET_REQUIRED


def test_update_sets_a_new_password_through_the_policy(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    assert _code(acct, "update", "alice", password="tiny") == "InvalidParameter.Password.TooWeak"
    acct.clock.advance(timedelta(days=1))
    updated: LoginProfile = _run(acct, "update", "alice", password="Another-Pass-2")
    assert updated.password_changed_at == "2026-01-02T00:00:00Z"
    assert _sign_in(acct, "Another-Pass-2").ok
    assert _sign_in(acct, GOOD).outcome is SignInOutcome.WRONG_PASSWORD
    assert _code(acct, "update", "bob", password=GOOD) == "EntityNotExist.User.LoginProfile"


def test_delete_removes_the_profile_and_its_history_and_frees_the_user(
        acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    with acct.tx() as tx, pytest.raises(ServiceError) as caught:
        UserBackend(tx, acct.env, acct.account_id).delete("alice")
    assert caught.value.error_code == "DeleteConflict.User.LoginProfile"
    _run(acct, "delete", "alice")
    assert _code(acct, "get", "alice") == "EntityNotExist.User.LoginProfile"
    assert _code(acct, "delete", "alice") == "EntityNotExist.User.LoginProfile"
    with acct.tx() as tx:
        assert tx.query("SELECT * FROM password_history") == []
        UserBackend(tx, acct.env, acct.account_id).delete("alice")


def test_a_renamed_user_keeps_its_password(acct: AccountEnv) -> None:
    _policy(acct, password_reuse_prevention=2)
    _run(acct, "create", "alice", GOOD)
    with acct.tx() as tx:
        UserBackend(tx, acct.env, acct.account_id).update(
            "alice", new_name="alice2", display_name=None, email=None, mobile_phone=None,
            comments=None)
    assert _sign_in(acct, GOOD, user="alice2").ok
    assert _code(acct, "update", "alice2", password=GOOD) == \
        "InvalidParameter.Password.ReusePrevention"


# ---- reuse prevention


def test_reuse_prevention_covers_the_last_n_passwords(acct: AccountEnv) -> None:
    _policy(acct, password_reuse_prevention=3)
    _run(acct, "create", "alice", "Password-0")
    for n in range(1, 4):
        _run(acct, "update", "alice", password=f"Password-{n}")
    # The last three are Password-1..3 (the current one included); Password-0 is older.
    for n in range(1, 4):
        assert _code(acct, "update", "alice", password=f"Password-{n}") == \
            "InvalidParameter.Password.ReusePrevention"
    _run(acct, "update", "alice", password="Password-0")


def test_without_reuse_prevention_the_same_password_may_be_set_again(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    _run(acct, "update", "alice", password=GOOD)
    assert _sign_in(acct, GOOD).ok


def test_the_history_keeps_only_what_reuse_prevention_can_ask_for(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", "Password-0")
    for n in range(1, MAX_REUSE_PREVENTION + 5):
        _run(acct, "update", "alice", password=f"Password-{n}")
    with acct.tx() as tx:
        rows = tx.query("SELECT seq FROM password_history ORDER BY seq")
    assert len(rows) == MAX_REUSE_PREVENTION
    assert rows[-1]["seq"] == MAX_REUSE_PREVENTION + 5


# ---- sign-in


def test_sign_in_with_the_right_password(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD, mfa_bind_required=True)
    check = _sign_in(acct, GOOD, user="ALICE")
    assert check.ok
    assert check.user_name == "alice"
    assert check.mfa_bind_required is True
    assert check.user_id


@pytest.mark.parametrize(("user", "password", "outcome"), [
    ("alice", "Wrong-Password-1", SignInOutcome.WRONG_PASSWORD),
    ("bob", GOOD, SignInOutcome.NO_LOGIN_PROFILE),
    ("nobody", GOOD, SignInOutcome.NO_LOGIN_PROFILE),
    ("not a valid name!", GOOD, SignInOutcome.NO_LOGIN_PROFILE),
])
def test_sign_in_failures_say_nothing_about_the_user(acct: AccountEnv, user: str,
                                                     password: str,
                                                     outcome: SignInOutcome) -> None:
    _run(acct, "create", "alice", GOOD)
    check = _sign_in(acct, password, user=user)
    assert check.outcome is outcome
    assert (check.user_name, check.user_id, check.locked_until) == ("", "", None)


def test_lockout_after_max_login_attempts_for_one_hour(acct: AccountEnv) -> None:
    _policy(acct, max_login_attempts=3)
    _run(acct, "create", "alice", GOOD)
    assert _sign_in(acct, "wrong-1").outcome is SignInOutcome.WRONG_PASSWORD
    assert _sign_in(acct, "wrong-2").outcome is SignInOutcome.WRONG_PASSWORD
    locking = _sign_in(acct, "wrong-3")
    assert locking.outcome is SignInOutcome.LOCKED
    assert locking.locked_until == acct.clock.now() + LOCKOUT
    acct.clock.advance(LOCKOUT - timedelta(seconds=1))
    still = _sign_in(acct, GOOD)  # even the right password does not get through
    assert still.outcome is SignInOutcome.LOCKED
    assert still.user_id == ""
    acct.clock.advance(timedelta(seconds=1))
    assert _sign_in(acct, GOOD).ok


def test_the_count_restarts_after_a_lock_expires(acct: AccountEnv) -> None:
    _policy(acct, max_login_attempts=2)
    _run(acct, "create", "alice", GOOD)
    _sign_in(acct, "wrong")
    assert _sign_in(acct, "wrong").outcome is SignInOutcome.LOCKED
    acct.clock.advance(LOCKOUT)
    assert _sign_in(acct, "wrong").outcome is SignInOutcome.WRONG_PASSWORD
    assert _sign_in(acct, "wrong").outcome is SignInOutcome.LOCKED


def test_a_success_resets_the_count(acct: AccountEnv) -> None:
    _policy(acct, max_login_attempts=3)
    _run(acct, "create", "alice", GOOD)
    for _ in range(3):
        _sign_in(acct, "wrong")
        _sign_in(acct, "wrong")
        assert _sign_in(acct, GOOD).ok
    assert _run(acct, "get", "alice").failed_attempts == 0


def test_a_wrong_second_factor_counts_until_the_sign_in_completes(acct: AccountEnv) -> None:
    """With an MFA step next, the right password alone does not clear the count: guessing
    codes behind a known password still ends in a lock."""
    _policy(acct, max_login_attempts=3)
    _run(acct, "create", "alice", GOOD)
    for attempt in range(3):
        check: SignInCheck = _run(acct, "verify_sign_in", "alice", GOOD, acct.clock.now(),
                                  reset_on_success=False)
        assert check.ok
        failed: SignInCheck = _run(acct, "record_failed_attempt", "alice", acct.clock.now())
        assert failed.outcome is (SignInOutcome.LOCKED if attempt == 2
                                  else SignInOutcome.WRONG_PASSWORD)
    assert _sign_in(acct, GOOD).outcome is SignInOutcome.LOCKED
    again: SignInCheck = _run(acct, "record_failed_attempt", "alice", acct.clock.now())
    assert again.locked_until == failed.locked_until  # a lock is not extended
    acct.clock.advance(LOCKOUT)
    _run(acct, "record_failed_attempt", "alice", acct.clock.now())
    _run(acct, "record_success", "alice")
    assert _run(acct, "get", "alice").failed_attempts == 0
    missing: SignInCheck = _run(acct, "record_failed_attempt", "bob", acct.clock.now())
    assert missing.outcome is SignInOutcome.NO_LOGIN_PROFILE


def test_without_a_limit_there_is_no_lockout(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    for _ in range(40):
        assert _sign_in(acct, "wrong").outcome is SignInOutcome.WRONG_PASSWORD
    assert _sign_in(acct, GOOD).ok


def test_an_administrator_password_reset_unlocks(acct: AccountEnv) -> None:
    _policy(acct, max_login_attempts=1)
    _run(acct, "create", "alice", GOOD)
    assert _sign_in(acct, "wrong").outcome is SignInOutcome.LOCKED
    _run(acct, "update", "alice", password="Fresh-Password-2")
    assert _sign_in(acct, "Fresh-Password-2").ok


def test_a_password_expires_after_max_password_age(acct: AccountEnv) -> None:
    _policy(acct, max_password_age=30)
    _run(acct, "create", "alice", GOOD)
    acct.clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert _sign_in(acct, GOOD).ok
    acct.clock.advance(timedelta(seconds=1))
    expired = _sign_in(acct, GOOD)
    assert expired.outcome is SignInOutcome.PASSWORD_EXPIRED
    assert (expired.hard_expiry, expired.user_name) == (False, "alice")
    assert _sign_in(acct, "wrong").outcome is SignInOutcome.WRONG_PASSWORD
    _policy(acct, hard_expiry=True)
    assert _sign_in(acct, GOOD).hard_expiry is True
    _policy(acct, max_password_age=0)
    assert _sign_in(acct, GOOD).ok


def test_a_hash_of_an_older_cost_is_upgraded_at_sign_in(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD, cost=ScryptCost(n=32, r=1, p=1))
    assert _stored_hash(acct).startswith("scrypt$32$1$1$")
    assert _sign_in(acct, GOOD).ok  # the backend's cost is FAST
    assert _stored_hash(acct).startswith("scrypt$16$1$1$")
    assert _sign_in(acct, GOOD).ok


def test_every_sign_in_path_verifies_exactly_one_hash_of_the_same_cost(
        acct: AccountEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The work done does not depend on whether the user or its profile exists, or on a
    lock: one scrypt check at the configured cost on every path."""
    _policy(acct, max_login_attempts=1)
    _run(acct, "create", "alice", GOOD)
    _run(acct, "create", "bob", GOOD)
    calls: list[str] = []
    real = passwords.verify_password

    def spy(password: str, encoded: str) -> bool:
        calls.append(encoded.rsplit("$", 2)[0])
        return real(password, encoded)

    monkeypatch.setattr(login_profiles, "verify_password", spy)
    costs = set()
    for user, password in [("alice", GOOD), ("alice", "wrong"), ("alice", GOOD),
                           ("nobody", GOOD), ("bob", GOOD)]:
        calls.clear()
        _sign_in(acct, password, user=user)
        assert len(calls) == 1, (user, password)
        costs.add(calls[0])
    assert costs == {"scrypt$16$1$1"}


# ---- ChangePassword


def test_change_password(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    acct.clock.advance(timedelta(days=2))
    _run(acct, "change_password", "alice", GOOD, "Changed-Pass-3")
    assert _sign_in(acct, "Changed-Pass-3").ok
    assert _run(acct, "get", "alice").password_changed_at == "2026-01-03T00:00:00Z"


def test_change_password_errors(acct: AccountEnv) -> None:
    _policy(acct, password_reuse_prevention=1, require_numbers=True)
    _run(acct, "create", "alice", GOOD)
    assert _code(acct, "change_password", "alice", "Not-It-1", "Changed-Pass-3") == \
        "InvalidParameter.OldPassword.Incorrect"
    assert _code(acct, "change_password", "alice", GOOD, "No-Digits-Here") == \
        "InvalidParameter.NewPassword.TooWeak"
    assert _code(acct, "change_password", "alice", GOOD, GOOD) == \
        "InvalidParameter.NewPassword.ReusePrevention"
    assert _code(acct, "change_password", "bob", GOOD, "Changed-Pass-3") == \
        "EntityNotExist.User.LoginProfile"
    assert _sign_in(acct, GOOD).ok


def test_change_password_clears_a_required_reset(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD, password_reset_required=True)
    assert _sign_in(acct, GOOD).outcome is SignInOutcome.RESET_REQUIRED
    _run(acct, "change_password", "alice", GOOD, "Changed-Pass-3")
    assert _sign_in(acct, "Changed-Pass-3").ok


def test_change_password_honours_the_security_preference(acct: AccountEnv) -> None:
    _run(acct, "create", "alice", GOOD)
    _preference(acct, allow_user_to_change_password=False)
    assert _code(acct, "change_password", "alice", GOOD, "Changed-Pass-3") == "NoPermission"
    # A reset the administrator asked for, or a soft expiry, must still be possible.
    _run(acct, "update", "alice", password_reset_required=True)
    _run(acct, "change_password", "alice", GOOD, "Changed-Pass-3")
    _policy(acct, max_password_age=1)
    acct.clock.advance(timedelta(days=1))
    _run(acct, "change_password", "alice", "Changed-Pass-3", "Changed-Pass-4")
    assert _code(acct, "change_password", "alice", "Changed-Pass-4", "Changed-Pass-5") == \
        "NoPermission"


def test_a_hard_expired_password_needs_an_administrator(acct: AccountEnv) -> None:
    _policy(acct, max_password_age=1, hard_expiry=True)
    _run(acct, "create", "alice", GOOD)
    acct.clock.advance(timedelta(days=1))
    assert _code(acct, "change_password", "alice", GOOD, "Changed-Pass-3") == "NoPermission"
    _run(acct, "update", "alice", password="Admin-Set-Pass-4")
    assert _sign_in(acct, "Admin-Set-Pass-4").ok


def test_a_locked_profile_cannot_change_its_password(acct: AccountEnv) -> None:
    _policy(acct, max_login_attempts=1)
    _run(acct, "create", "alice", GOOD)
    _sign_in(acct, "wrong")
    assert _code(acct, "change_password", "alice", GOOD, "Changed-Pass-3") == "NoPermission"
    acct.clock.advance(LOCKOUT)
    _run(acct, "change_password", "alice", GOOD, "Changed-Pass-3")
