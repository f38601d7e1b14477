"""RAM groups and their members."""

from __future__ import annotations

from ramparts.core.clock import format_iso8601
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    EntityNotExist,
    InvalidParameter,
    LimitExceeded,
)
from ramparts.services.ram.models import Group, User
from ramparts.services.ram.names import check_name, key_of
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = ["GroupBackend"]

MAX_GROUPS = 50  # groups per account [doc: RAM Limits]
MAX_GROUPS_PER_USER = 5
MAX_COMMENTS = 128  # characters [doc: CreateGroup; UpdateGroup]


def _group(row: Row) -> Group:
    return Group(row["group_id"], row["group_name"], row["comments"], row["created_at"],
                 row["updated_at"])


class GroupBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id
        self.users = UserBackend(tx, env, account_id)

    def _row(self, name: str) -> Row:
        row = self.tx.query_one("SELECT * FROM groups_ WHERE account_id = ? AND name_key = ?",
                                (self.account_id, key_of(check_name("GroupName", name))))
        if row is None:
            raise EntityNotExist("Group", f"The group does not exist: {name}.")
        return row

    def get(self, name: str) -> Group:
        return _group(self._row(name))

    def create(self, name: str, comments: str = "") -> Group:
        check_name("GroupName", name)
        if len(comments) > MAX_COMMENTS:
            raise InvalidParameter("Comments.Length",
                                   'The parameter - "Comments" beyond the length limit.')
        self.tx.lock(f"ram/groups/{self.account_id}")  # the limit holds across replicas
        count = self.tx.query_one("SELECT count(*) AS n FROM groups_ WHERE account_id = ?",
                                  (self.account_id,))
        if count is not None and count["n"] >= MAX_GROUPS:
            raise LimitExceeded("Group", "The count of groups beyond the current limits.")
        now = format_iso8601(self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO groups_ (account_id, group_id, group_name, name_key, comments, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.account_id, self.env.ids.numeric(16), name, key_of(name), comments, now,
                 now))
        except ConflictError as exc:
            raise EntityAlreadyExists("Group", f"The group already exists: {name}.") from exc
        return self.get(name)

    def update(self, name: str, new_name: str | None, new_comments: str | None) -> Group:
        current = self.get(name)
        target = current.group_name
        if new_name is not None:
            target = check_name("GroupName", new_name, "NewGroupName")
        if new_comments is not None and len(new_comments) > MAX_COMMENTS:
            raise InvalidParameter("NewComments.Length",
                                   'The parameter - "NewComments" beyond the length limit.')
        try:
            self.tx.execute(
                "UPDATE groups_ SET group_name = ?, name_key = ?, comments = ?, updated_at = ? "
                "WHERE account_id = ? AND name_key = ?",
                (target, key_of(target), current.comments if new_comments is None
                 else new_comments, format_iso8601(self.env.clock.now()), self.account_id,
                 key_of(name)))
        except ConflictError as exc:
            raise EntityAlreadyExists("Group", f"The group already exists: {target}.") from exc
        if key_of(target) != key_of(name):
            self.tx.execute("UPDATE group_members SET group_key = ? WHERE account_id = ? AND "
                            "group_key = ?", (key_of(target), self.account_id, key_of(name)))
            self.tx.execute("UPDATE attachments SET principal_key = ? WHERE account_id = ? AND "
                            "principal_type = 'Group' AND principal_key = ?",
                            (key_of(target), self.account_id, key_of(name)))
        return self.get(target)

    def listing(self) -> list[Group]:
        return [_group(r) for r in self.tx.query(
            "SELECT * FROM groups_ WHERE account_id = ? ORDER BY name_key", (self.account_id,))]

    def delete(self, name: str) -> None:
        key = key_of(self.get(name).group_name)
        member = self.tx.query_one("SELECT 1 AS x FROM group_members WHERE account_id = ? AND "
                                   "group_key = ?", (self.account_id, key))
        if member is not None:
            raise DeleteConflict("Group.User", f"The group has members: {name}.")
        attached = self.tx.query_one("SELECT 1 AS x FROM attachments WHERE account_id = ? AND "
                                     "principal_type = 'Group' AND principal_key = ?",
                                     (self.account_id, key))
        if attached is not None:
            raise DeleteConflict("Group.Policy", f"The group has attached policies: {name}.")
        self.tx.execute("DELETE FROM groups_ WHERE account_id = ? AND name_key = ?",
                        (self.account_id, key))

    def add_user(self, group_name: str, user_name: str) -> None:
        group, user = self.get(group_name), self.users.get(user_name)
        self.tx.lock(f"ram/user-groups/{self.account_id}/{key_of(user.user_name)}")
        count = self.tx.query_one("SELECT count(*) AS n FROM group_members WHERE account_id = ? "
                                  "AND user_key = ?", (self.account_id, key_of(user.user_name)))
        if count is not None and count["n"] >= MAX_GROUPS_PER_USER:
            raise LimitExceeded("User.Group", "The count of groups of the user beyond the "
                                              "current limits.")
        try:
            self.tx.execute("INSERT INTO group_members (account_id, group_key, user_key, "
                            "joined_at) VALUES (?, ?, ?, ?)",
                            (self.account_id, key_of(group.group_name), key_of(user.user_name),
                             format_iso8601(self.env.clock.now())))
        except ConflictError as exc:
            raise EntityAlreadyExists("User.Group", f"The user has already joined the group: "
                                                    f"{user_name}.") from exc

    def remove_user(self, group_name: str, user_name: str) -> None:
        group, user = self.get(group_name), self.users.get(user_name)
        if not self.tx.execute("DELETE FROM group_members WHERE account_id = ? AND group_key = ? "
                               "AND user_key = ?", (self.account_id, key_of(group.group_name),
                                                    key_of(user.user_name))):
            raise EntityNotExist("User.Group",
                                 f"The user has not joined the group: {user_name}.")

    def groups_of(self, user_name: str) -> list[tuple[Group, str]]:
        user = self.users.get(user_name)
        rows = self.tx.query(
            "SELECT g.*, m.joined_at FROM group_members m JOIN groups_ g ON g.account_id = "
            "m.account_id AND g.name_key = m.group_key WHERE m.account_id = ? AND m.user_key = ? "
            "ORDER BY g.name_key", (self.account_id, key_of(user.user_name)))
        return [(_group(r), r["joined_at"]) for r in rows]

    def members(self, group_name: str) -> list[tuple[User, str]]:
        group = self.get(group_name)
        rows = self.tx.query(
            "SELECT m.user_key, m.joined_at FROM group_members m WHERE m.account_id = ? AND "
            "m.group_key = ? ORDER BY m.user_key", (self.account_id, key_of(group.group_name)))
        return [(self.users.get(r["user_key"]), r["joined_at"]) for r in rows]
