"""Console login profiles: a RAM user's password (hashed, then sealed), its history, expiry and
the sign-in check that counts failures and locks the profile."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ramparts.core.clock import format_iso8601, parse_iso8601
from ramparts.crypto.passwords import (
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    hash_password,
    needs_rehash,
    verify_password,
)
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.account_settings import allow_user_to_change_password
from ramparts.services.ram.errors import (
    EntityAlreadyExists,
    EntityNotExist,
    InvalidParameter,
    NoPermission,
)
from ramparts.services.ram.models import User
from ramparts.services.ram.names import key_of
from ramparts.services.ram.password_policy import (
    MAX_REUSE_PREVENTION,
    PasswordPolicy,
    check_password,
    password_policy,
)
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = [
    "LOCKOUT",
    "LoginProfile",
    "LoginProfileBackend",
    "ScryptCost",
    "SignInCheck",
    "SignInOutcome",
    "expires_at",
    "history_context",
    "password_context",
]

# [doc: SetPasswordPolicy]: after MaxLoginAttemps wrong passwords in a row the account is
# locked for one hour.
LOCKOUT = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """The cost new password hashes are made with; production uses the library defaults."""

    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def hash(self, password: str) -> str:
        return hash_password(password, n=self.n, r=self.r, p=self.p)

    def dummy(self) -> str:
        """A well-formed hash of this cost that no password matches (its digest is not the
        output of any salt and password we know), to spend a real check's work on."""
        salt = base64.b64encode(bytes(range(16))).decode().rstrip("=")
        digest = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
        return f"scrypt${self.n}${self.r}${self.p}${salt}${digest}"


def password_context(account_id: str, user_id: str) -> str:
    """The associated data of a sealed password hash: the user's id, which a rename keeps."""
    return f"ram/login-profile/{account_id}/{user_id}/password"


def history_context(account_id: str, user_id: str, seq: int) -> str:
    return f"ram/password-history/{account_id}/{user_id}/{seq}/password"


@dataclass(frozen=True, slots=True)
class LoginProfile:
    user_name: str
    user_id: str
    password_reset_required: bool
    mfa_bind_required: bool
    created_at: str
    updated_at: str
    password_changed_at: str
    failed_attempts: int
    locked_until: str | None


class SignInOutcome(StrEnum):
    OK = "ok"
    WRONG_PASSWORD = "wrong-password"  # noqa: S105 (an outcome, not a password)
    LOCKED = "locked"
    NO_LOGIN_PROFILE = "no-login-profile"
    PASSWORD_EXPIRED = "password-expired"  # noqa: S105
    RESET_REQUIRED = "reset-required"


@dataclass(frozen=True, slots=True)
class SignInCheck:
    """The verdict on one console sign-in attempt.

    Show WRONG_PASSWORD and NO_LOGIN_PROFILE alike to the person signing in: telling them
    apart would say which user names exist. The user's identity is filled in only once the
    password matched (OK, PASSWORD_EXPIRED, RESET_REQUIRED). For PASSWORD_EXPIRED,
    `hard_expiry` says that only an administrator may now reset the password; otherwise the
    user must choose a new one before going on, as for RESET_REQUIRED.
    """

    outcome: SignInOutcome
    user_name: str = ""
    user_id: str = ""
    locked_until: datetime | None = None
    mfa_bind_required: bool = False
    hard_expiry: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is SignInOutcome.OK


def _profile(row: Row) -> LoginProfile:
    return LoginProfile(
        user_name=row["user_name"], user_id=row["user_id"],
        password_reset_required=bool(row["password_reset_required"]),
        mfa_bind_required=bool(row["mfa_bind_required"]), created_at=row["created_at"],
        updated_at=row["updated_at"], password_changed_at=row["password_changed_at"],
        failed_attempts=int(row["failed_attempts"]), locked_until=row["locked_until"])


def expires_at(profile: LoginProfile, policy: PasswordPolicy) -> datetime | None:
    """When the password stops being valid (MaxPasswordAge days after it was set), or None."""
    if policy.max_password_age <= 0:
        return None
    return parse_iso8601(profile.password_changed_at) + timedelta(days=policy.max_password_age)


def _locked_until(profile: LoginProfile, now: datetime) -> datetime | None:
    if profile.locked_until is None:
        return None
    until = parse_iso8601(profile.locked_until)
    return until if now < until else None


class LoginProfileBackend:
    """`cost` sets the scrypt cost of new hashes (tests pass a small one)."""

    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str, *,
                 cost: ScryptCost | None = None) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id
        self.cost = cost or ScryptCost()
        self.users = UserBackend(tx, env, account_id)

    # ---- rows

    def _row(self, user_key: str) -> Row | None:
        return self.tx.query_one(
            "SELECT p.*, u.user_name, u.user_id FROM login_profiles p JOIN users u ON "
            "u.account_id = p.account_id AND u.name_key = p.user_key "
            "WHERE p.account_id = ? AND p.user_key = ?", (self.account_id, user_key))

    def _existing(self, user: User) -> Row:
        row = self._row(key_of(user.user_name))
        if row is None:
            raise EntityNotExist("User.LoginProfile",
                                 f"The user login profile does not exist: {user.user_name}.")
        return row

    def _stored_hash(self, row: Row) -> str:
        sealed = base64.b64decode(row["password_sealed"])
        return self.env.sealer.open(
            sealed, context=password_context(self.account_id, row["user_id"])).decode()

    def _seal(self, encoded: str, context: str) -> str:
        return base64.b64encode(self.env.sealer.seal(encoded.encode(), context=context)).decode()

    # ---- passwords

    def _reused(self, user: User, password: str, count: int) -> bool:
        rows = self.tx.query(
            "SELECT seq, password_sealed FROM password_history WHERE account_id = ? AND "
            "user_key = ? ORDER BY seq DESC LIMIT ?",
            (self.account_id, key_of(user.user_name), count))
        for row in rows:
            encoded = self.env.sealer.open(
                base64.b64decode(row["password_sealed"]),
                context=history_context(self.account_id, user.user_id, int(row["seq"])))
            if verify_password(password, encoded.decode()):
                return True
        return False

    def _check_new(self, user: User, password: str, parameter: str) -> None:
        """Policy first, then reuse [doc: ChangePassword]: the last N passwords, the current
        one included, may not come back."""
        policy = password_policy(self.tx, self.account_id)
        check_password(policy, password, user.user_name, parameter=parameter)
        count = policy.password_reuse_prevention
        if count and self._reused(user, password, count):
            raise InvalidParameter(
                f"{parameter}.ReusePrevention",
                f'The parameter - "{parameter}" is not compliant with the reuse prevention '
                f"password policy: it must differ from the last {count} passwords.")

    def _remember(self, user: User, encoded: str) -> None:
        """Append to the history and keep only as many entries as reuse prevention can ask."""
        key = key_of(user.user_name)
        last = self.tx.query_one(
            "SELECT max(seq) AS seq FROM password_history WHERE account_id = ? AND "
            "user_key = ?", (self.account_id, key))
        seq = 1 if last is None or last["seq"] is None else int(last["seq"]) + 1
        self.tx.execute(
            "INSERT INTO password_history (account_id, user_key, seq, password_sealed) "
            "VALUES (?, ?, ?, ?)",
            (self.account_id, key, seq,
             self._seal(encoded, history_context(self.account_id, user.user_id, seq))))
        self.tx.execute(
            "DELETE FROM password_history WHERE account_id = ? AND user_key = ? AND seq <= ?",
            (self.account_id, key, seq - MAX_REUSE_PREVENTION))

    def _set_password(self, user: User, password: str) -> str:
        """Store a new password (already checked) and unlock the profile; the new hash."""
        encoded = self.cost.hash(password)
        now = format_iso8601(self.env.clock.now())
        self.tx.execute(
            "UPDATE login_profiles SET password_sealed = ?, password_changed_at = ?, "
            "failed_attempts = 0, locked_until = NULL, updated_at = ? "
            "WHERE account_id = ? AND user_key = ?",
            (self._seal(encoded, password_context(self.account_id, user.user_id)), now, now,
             self.account_id, key_of(user.user_name)))
        self._remember(user, encoded)
        return encoded

    # ---- CreateLoginProfile, GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile

    def get(self, user_name: str) -> LoginProfile:
        return _profile(self._existing(self.users.get(user_name)))

    def create(self, user_name: str, password: str, *, password_reset_required: bool = False,
               mfa_bind_required: bool = False) -> LoginProfile:
        user = self.users.get(user_name)
        if self._row(key_of(user.user_name)) is not None:
            raise EntityAlreadyExists("User.LoginProfile",
                                      f"The user login profile does already EXIST: "
                                      f"{user.user_name}.")
        self._check_new(user, password, "Password")
        encoded = self.cost.hash(password)
        now = format_iso8601(self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO login_profiles (account_id, user_key, password_sealed, "
                "password_reset_required, mfa_bind_required, failed_attempts, locked_until, "
                "password_changed_at, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?, ?)",
                (self.account_id, key_of(user.user_name),
                 self._seal(encoded, password_context(self.account_id, user.user_id)),
                 int(password_reset_required), int(mfa_bind_required), now, now, now))
        except ConflictError as exc:  # created concurrently
            raise EntityAlreadyExists("User.LoginProfile",
                                      f"The user login profile does already EXIST: "
                                      f"{user.user_name}.") from exc
        self._remember(user, encoded)
        return self.get(user.user_name)

    def update(self, user_name: str, *, password: str | None = None,
               password_reset_required: bool | None = None,
               mfa_bind_required: bool | None = None) -> LoginProfile:
        """A new password (checked like any other) also clears failures and any lock."""
        user = self.users.get(user_name)
        current = _profile(self._existing(user))
        if password is not None:
            self._check_new(user, password, "Password")
            self._set_password(user, password)
            self._end_console_sessions(user)  # an administrator's reset locks out old sessions
        self.tx.execute(
            "UPDATE login_profiles SET password_reset_required = ?, mfa_bind_required = ?, "
            "updated_at = ? WHERE account_id = ? AND user_key = ?",
            (int(current.password_reset_required if password_reset_required is None
                 else password_reset_required),
             int(current.mfa_bind_required if mfa_bind_required is None
                 else mfa_bind_required),
             format_iso8601(self.env.clock.now()), self.account_id, key_of(user.user_name)))
        return self.get(user.user_name)

    def delete(self, user_name: str) -> None:
        """The profile and its password history go together: a user is deletable only
        without a profile [doc: DeleteUser], so no history outlives its user."""
        user = self.users.get(user_name)
        self._existing(user)
        for table in ("login_profiles", "password_history"):
            self.tx.execute(
                f"DELETE FROM {table} WHERE account_id = ? AND user_key = ?",  # noqa: S608
                (self.account_id, key_of(user.user_name)))
        self._end_console_sessions(user)

    def _end_console_sessions(self, user: User) -> None:
        """Console sessions obtained with the password end when it is reset or removed."""
        self.tx.execute("DELETE FROM sts_sessions WHERE account_id = ? AND kind = 'user' AND "
                        "principal_key = ?", (self.account_id, key_of(user.user_name)))

    # ---- ChangePassword

    def change_password(self, user_name: str, old_password: str, new_password: str) -> None:
        """A RAM user's own change [doc: ChangePassword]. Allowed when the security preference
        lets users change passwords, and always when the password must be reset or has expired
        without HardExpiry (otherwise the user could never sign in again); never while the
        profile is locked or once a password has hard-expired."""
        user = self.users.get(user_name)
        row = self._existing(user)
        profile = _profile(row)
        now = self.env.clock.now()
        locked = _locked_until(profile, now)
        if locked is not None:
            raise NoPermission(f"The login profile is locked after too many failed sign-in "
                               f"attempts until {format_iso8601(locked)}.")
        policy = password_policy(self.tx, self.account_id)
        expiry = expires_at(profile, policy)
        expired = expiry is not None and now >= expiry
        if expired and policy.hard_expiry:
            raise NoPermission("The password has expired and the password policy sets "
                               "HardExpiry: an administrator must set a new one with "
                               "UpdateLoginProfile.")
        if not (expired or profile.password_reset_required
                or allow_user_to_change_password(self.tx, self.account_id)):
            raise NoPermission("RAM users may not change their own passwords: the security "
                               "preference AllowUserToChangePassword is false.")
        if not verify_password(old_password, self._stored_hash(row)):
            raise InvalidParameter("OldPassword.Incorrect",
                                   'The parameter - "OldPassword" is incorrect.')
        self._check_new(user, new_password, "NewPassword")
        self._set_password(user, new_password)
        self.tx.execute(
            "UPDATE login_profiles SET password_reset_required = 0 WHERE account_id = ? AND "
            "user_key = ?", (self.account_id, key_of(user.user_name)))

    # ---- console sign-in

    def verify_sign_in(self, user_name: str, password: str, now: datetime, *,
                       reset_on_success: bool = True) -> SignInCheck:
        """Check a console password. Exactly one scrypt verification runs on every path, at
        the configured cost, whether or not the user or its profile exists.

        A wrong password counts against MaxLoginAttemps; reaching it locks the profile for
        LOCKOUT. A right one clears the count, unless `reset_on_success` is False: when an MFA
        code is checked next, clear it with `record_success` once that passes and count a
        wrong code with `record_failed_attempt`, or codes could be guessed forever by
        someone who knows the password. Commit the transaction whatever the outcome, or the
        count is lost.
        """
        row = self._row(key_of(user_name))
        if row is None:
            verify_password(password, self.cost.dummy())
            return SignInCheck(SignInOutcome.NO_LOGIN_PROFILE)
        profile = _profile(row)
        locked = _locked_until(profile, now)
        if locked is not None:  # the password is not looked at while locked
            verify_password(password, self.cost.dummy())
            return SignInCheck(SignInOutcome.LOCKED, locked_until=locked)
        encoded = self._stored_hash(row)
        policy = password_policy(self.tx, self.account_id)
        if not verify_password(password, encoded):
            return self._failed(profile, policy, now)
        self._succeeded(profile, password, encoded, reset=reset_on_success)
        expiry = expires_at(profile, policy)
        if expiry is not None and now >= expiry:
            outcome = SignInOutcome.PASSWORD_EXPIRED
        elif profile.password_reset_required:
            outcome = SignInOutcome.RESET_REQUIRED
        else:
            outcome = SignInOutcome.OK
        return SignInCheck(outcome, user_name=profile.user_name, user_id=profile.user_id,
                           mfa_bind_required=profile.mfa_bind_required,
                           hard_expiry=outcome is SignInOutcome.PASSWORD_EXPIRED
                           and policy.hard_expiry)

    def _failed(self, profile: LoginProfile, policy: PasswordPolicy,
                now: datetime) -> SignInCheck:
        key = key_of(profile.user_name)
        # Increment in the database, not from what was read: concurrent failures all count.
        self.tx.execute(
            "UPDATE login_profiles SET failed_attempts = failed_attempts + 1, "
            "locked_until = NULL WHERE account_id = ? AND user_key = ?",
            (self.account_id, key))
        row = self.tx.query_one(
            "SELECT failed_attempts FROM login_profiles WHERE account_id = ? AND user_key = ?",
            (self.account_id, key))
        attempts = 0 if row is None else int(row["failed_attempts"])
        limit = policy.max_login_attempts
        if limit and attempts >= limit:
            until = now + LOCKOUT
            self.tx.execute(
                "UPDATE login_profiles SET failed_attempts = 0, locked_until = ? "
                "WHERE account_id = ? AND user_key = ?",
                (format_iso8601(until), self.account_id, key))
            return SignInCheck(SignInOutcome.LOCKED, locked_until=until)
        return SignInCheck(SignInOutcome.WRONG_PASSWORD)

    def _succeeded(self, profile: LoginProfile, password: str, encoded: str, *,
                   reset: bool) -> None:
        """Clear the failure count (when asked); upgrade a hash made at an older cost while
        the plaintext is at hand."""
        if reset:
            self.record_success(profile.user_name)
        if needs_rehash(encoded, n=self.cost.n, r=self.cost.r, p=self.cost.p):
            sealed = self._seal(self.cost.hash(password),
                                password_context(self.account_id, profile.user_id))
            self.tx.execute(
                "UPDATE login_profiles SET password_sealed = ? WHERE account_id = ? AND "
                "user_key = ?", (sealed, self.account_id, key_of(profile.user_name)))

    def record_success(self, user_name: str) -> None:
        """A completed sign-in: the count of failures in a row starts again."""
        self.tx.execute(
            "UPDATE login_profiles SET failed_attempts = 0, locked_until = NULL "
            "WHERE account_id = ? AND user_key = ?", (self.account_id, key_of(user_name)))

    def record_failed_attempt(self, user_name: str, now: datetime) -> SignInCheck:
        """A failed second step (a wrong MFA code) counts like a wrong password."""
        row = self._row(key_of(user_name))
        if row is None:
            return SignInCheck(SignInOutcome.NO_LOGIN_PROFILE)
        profile = _profile(row)
        locked = _locked_until(profile, now)
        if locked is not None:
            return SignInCheck(SignInOutcome.LOCKED, locked_until=locked)
        return self._failed(profile, password_policy(self.tx, self.account_id), now)
