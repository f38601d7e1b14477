"""RAM users: create, read, update, list and delete, with RAM's deletion rules."""

from __future__ import annotations

import re

from ramparts.core.clock import format_iso8601
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    EntityNotExist,
    InvalidParameter,
    LimitExceeded,
)
from ramparts.services.ram.models import User
from ramparts.services.ram.names import check_name, key_of
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = ["MAX_USERS", "UserBackend"]

MAX_USERS = 1000  # RAM users per account [doc: RAM Limits]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[0-9]{1,3}-[0-9]{4,15}")


def _user(row: Row) -> User:
    return User(
        user_id=row["user_id"], user_name=row["user_name"], display_name=row["display_name"],
        email=row["email"], mobile_phone=row["mobile_phone"], comments=row["comments"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        last_login_at=row["last_login_at"],
    )


def _check_profile(display_name: str, email: str, mobile_phone: str, comments: str,
                   prefix: str = "") -> None:
    if len(display_name) > 128:
        raise InvalidParameter(f"{prefix}DisplayName.Length",
                               f'The parameter - "{prefix}DisplayName" beyond the length limit.')
    if email and not _EMAIL.fullmatch(email):
        raise InvalidParameter(f"{prefix}Email.Format",
                               f'The format of the parameter - "{prefix}Email" is incorrect.')
    if mobile_phone and not _PHONE.fullmatch(mobile_phone):
        raise InvalidParameter(f"{prefix}MobilePhone.Format",
                               f'The format of the parameter - "{prefix}MobilePhone" is '
                               "incorrect.")
    if len(comments) > 128:
        raise InvalidParameter(f"{prefix}Comments.Length",
                               f'The parameter - "{prefix}Comments" beyond the length limit.')


class UserBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    def row(self, user_name: str) -> Row:
        row = self.tx.query_one(
            "SELECT * FROM users WHERE account_id = ? AND name_key = ?",
            (self.account_id, key_of(user_name)),
        )
        if row is None:
            raise EntityNotExist("User", f"The user does not exist: {user_name}.")
        return row

    def get(self, user_name: str) -> User:
        return _user(self.row(check_name("UserName", user_name)))

    def create(self, user_name: str, display_name: str = "", email: str = "",
               mobile_phone: str = "", comments: str = "") -> User:
        check_name("UserName", user_name)
        _check_profile(display_name, email, mobile_phone, comments)
        # Counting and inserting under one lock per account keeps the limit across replicas.
        self.tx.lock(f"ram/users/{self.account_id}")
        count = self.tx.query_one("SELECT count(*) AS n FROM users WHERE account_id = ?",
                                  (self.account_id,))
        if count is not None and count["n"] >= MAX_USERS:
            raise LimitExceeded("User", f"The count of users beyond the current limits "
                                        f"({MAX_USERS}).")
        now = format_iso8601(self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO users (account_id, user_id, user_name, name_key, display_name, "
                "email, mobile_phone, comments, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.account_id, self.env.ids.numeric(16), user_name, key_of(user_name),
                 display_name or user_name, email, mobile_phone, comments, now, now),
            )
        except ConflictError as exc:
            raise EntityAlreadyExists("User", f"The user already exists: {user_name}.") from exc
        return self.get(user_name)

    def update(self, user_name: str, *, new_name: str | None, display_name: str | None,
               email: str | None, mobile_phone: str | None, comments: str | None) -> User:
        current = _user(self.row(check_name("UserName", user_name)))
        target = new_name
        if target is not None:
            check_name("UserName", target, "NewUserName")
        _check_profile(display_name or "", email or "", mobile_phone or "", comments or "",
                       prefix="New")
        now = format_iso8601(self.env.clock.now())
        name = target or current.user_name
        try:
            self.tx.execute(
                "UPDATE users SET user_name = ?, name_key = ?, display_name = ?, email = ?, "
                "mobile_phone = ?, comments = ?, updated_at = ? "
                "WHERE account_id = ? AND name_key = ?",
                (name, key_of(name), current.display_name if display_name is None
                 else display_name, current.email if email is None else email,
                 current.mobile_phone if mobile_phone is None else mobile_phone,
                 current.comments if comments is None else comments, now,
                 self.account_id, key_of(user_name)),
            )
        except ConflictError as exc:
            raise EntityAlreadyExists("User", f"The user already exists: {name}.") from exc
        if target is not None and key_of(target) != key_of(user_name):
            self._rename_references(key_of(user_name), key_of(target))
        return self.get(name)

    def _rename_references(self, old_key: str, new_key: str) -> None:
        for sql in (
            "UPDATE access_keys SET user_key = ? WHERE account_id = ? AND user_key = ?",
            "UPDATE login_profiles SET user_key = ? WHERE account_id = ? AND user_key = ?",
            "UPDATE group_members SET user_key = ? WHERE account_id = ? AND user_key = ?",
            "UPDATE mfa_devices SET user_key = ? WHERE account_id = ? AND user_key = ?",
            "UPDATE password_history SET user_key = ? WHERE account_id = ? AND user_key = ?",
            # the user's sign-in sessions stay the user's: a later user given the old name
            # must not inherit them
            "UPDATE sts_sessions SET principal_key = ? WHERE account_id = ? AND kind = 'user' "
            "AND principal_key = ?",
        ):
            self.tx.execute(sql, (new_key, self.account_id, old_key))
        self.tx.execute(
            "UPDATE attachments SET principal_key = ? WHERE account_id = ? AND "
            "principal_type = 'User' AND principal_key = ?",
            (new_key, self.account_id, old_key),
        )

    def listing(self) -> list[User]:
        rows = self.tx.query("SELECT * FROM users WHERE account_id = ? ORDER BY name_key",
                             (self.account_id,))
        return [_user(row) for row in rows]

    def delete(self, user_name: str) -> None:
        """Refuse while the user has keys, a password, groups, policies or an MFA device
        [doc: DeleteUser]."""
        key = key_of(self.row(check_name("UserName", user_name))["user_name"])
        dependents = (
            ("access_keys", "user_key", "AccessKey", "access keys"),
            ("login_profiles", "user_key", "LoginProfile", "a login profile"),
            ("group_members", "user_key", "Group", "group memberships"),
            ("mfa_devices", "user_key", "MFADevice", "an MFA device"),
        )
        for table, column, code, what in dependents:
            found = self.tx.query_one(
                f"SELECT 1 AS x FROM {table} WHERE account_id = ? AND {column} = ?",  # noqa: S608
                (self.account_id, key),
            )
            if found is not None:
                raise DeleteConflict(f"User.{code}",
                                     f"The user has {what} and cannot be deleted: {user_name}.")
        attached = self.tx.query_one(
            "SELECT 1 AS x FROM attachments WHERE account_id = ? AND principal_type = 'User' "
            "AND principal_key = ?", (self.account_id, key))
        if attached is not None:
            raise DeleteConflict("User.Policy",
                                 f"The user has attached policies and cannot be deleted: "
                                 f"{user_name}.")
        # Its sign-in sessions end with it: a later user of the same name must not inherit them.
        for sql in (
            "DELETE FROM sts_sessions WHERE account_id = ? AND kind = 'user' AND "
            "principal_key = ?",
            "DELETE FROM users WHERE account_id = ? AND name_key = ?",
        ):
            self.tx.execute(sql, (self.account_id, key))

    def record_login(self, user_name: str) -> None:
        self.tx.execute("UPDATE users SET last_login_at = ? WHERE account_id = ? AND name_key = ?",
                        (format_iso8601(self.env.clock.now()), self.account_id,
                         key_of(user_name)))
