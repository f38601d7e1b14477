"""AccessKeys: at most two per user, secrets sealed at rest and shown only once."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

from ramparts.core.clock import format_iso8601
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import EntityNotExist, InvalidParameter, LimitExceeded
from ramparts.services.ram.models import AccessKey
from ramparts.services.ram.names import key_of
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import Row, Transaction

__all__ = ["MAX_ACCESS_KEYS", "AccessKeyBackend", "KeyRecord", "secret_context"]

MAX_ACCESS_KEYS = 2  # AccessKey pairs per RAM user [doc: RAM Limits]
SECRET_LENGTH = 30
STATUSES = ("Active", "Inactive")
LAST_USED_GRANULARITY = timedelta(minutes=1)


def secret_context(access_key_id: str) -> str:
    """The associated data an AccessKey secret is sealed with: its own id."""
    return f"ram/accesskey/{access_key_id}/secret"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What authentication needs about an AccessKey."""

    access_key_id: str
    account_id: str
    user_name: str
    user_id: str
    status: str
    secret: str


def _key(row: Row, user_name: str) -> AccessKey:
    return AccessKey(
        access_key_id=row["access_key_id"], user_name=user_name, status=row["status"],
        created_at=row["created_at"], last_used_at=row["last_used_at"],
        last_used_service=row["last_used_service"],
    )


class AccessKeyBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id
        self.users = UserBackend(tx, env, account_id)

    def create(self, user_name: str) -> tuple[AccessKey, str]:
        """A new key and its secret; the secret is never readable again."""
        user = self.users.get(user_name)
        # Counting and inserting under one lock per user keeps the limit across replicas.
        self.tx.lock(f"ram/access-keys/{self.account_id}/{key_of(user.user_name)}")
        count = self.tx.query_one(
            "SELECT count(*) AS n FROM access_keys WHERE account_id = ? AND user_key = ?",
            (self.account_id, key_of(user.user_name)),
        )
        if count is not None and count["n"] >= MAX_ACCESS_KEYS:
            raise LimitExceeded("User.AccessKey",
                                f"The count of AccessKeys of the user beyond the current limits "
                                f"({MAX_ACCESS_KEYS}): {user.user_name}.")
        access_key_id = self.env.ids.access_key_id()
        secret = self.env.ids.token(SECRET_LENGTH)
        sealed = self.env.sealer.seal(secret.encode(), context=secret_context(access_key_id))
        now = format_iso8601(self.env.clock.now())
        self.tx.execute(
            "INSERT INTO access_keys (access_key_id, account_id, user_key, secret_sealed, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (access_key_id, self.account_id, key_of(user.user_name),
             base64.b64encode(sealed).decode(), "Active", now),
        )
        return self.get(user.user_name, access_key_id), secret

    def _row(self, user_name: str, access_key_id: str) -> Row:
        row = self.tx.query_one(
            "SELECT * FROM access_keys WHERE account_id = ? AND user_key = ? AND "
            "access_key_id = ?", (self.account_id, key_of(user_name), access_key_id))
        if row is None:
            raise EntityNotExist("User.AccessKey",
                                 f"The AccessKey does not exist: {access_key_id}.")
        return row

    def get(self, user_name: str, access_key_id: str) -> AccessKey:
        return _key(self._row(user_name, access_key_id), user_name)

    def listing(self, user_name: str) -> list[AccessKey]:
        user = self.users.get(user_name)
        rows = self.tx.query(
            "SELECT * FROM access_keys WHERE account_id = ? AND user_key = ? ORDER BY created_at",
            (self.account_id, key_of(user.user_name)))
        return [_key(row, user.user_name) for row in rows]

    def update(self, user_name: str, access_key_id: str, status: str) -> None:
        if status not in STATUSES:
            raise InvalidParameter("Status.Format",
                                   'The parameter - "Status" must be Active or Inactive.')
        self.users.get(user_name)
        self._row(user_name, access_key_id)
        self.tx.execute("UPDATE access_keys SET status = ? WHERE access_key_id = ?",
                        (status, access_key_id))
        if status == "Inactive":  # sessions created with a disabled key end with it
            self.tx.execute("DELETE FROM sts_sessions WHERE source_access_key_id = ?",
                            (access_key_id,))

    def delete(self, user_name: str, access_key_id: str) -> None:
        self.users.get(user_name)
        self._row(user_name, access_key_id)
        self.tx.execute("DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,))
        self.tx.execute("DELETE FROM sts_sessions WHERE source_access_key_id = ?",
                        (access_key_id,))

    def last_used(self, user_name: str, access_key_id: str) -> AccessKey:
        self.users.get(user_name)
        return self.get(user_name, access_key_id)

    def for_authentication(self, access_key_id: str) -> KeyRecord | None:
        """The key, its owner and its secret (unsealed), or None if there is no such key."""
        row = self.tx.query_one(
            "SELECT k.access_key_id, k.account_id, k.status, k.secret_sealed, u.user_name, "
            "u.user_id FROM access_keys k JOIN users u ON u.account_id = k.account_id AND "
            "u.name_key = k.user_key WHERE k.access_key_id = ?", (access_key_id,))
        if row is None:
            return None
        secret = self.env.sealer.open(base64.b64decode(row["secret_sealed"]),
                                      context=secret_context(access_key_id))
        return KeyRecord(access_key_id, row["account_id"], row["user_name"], row["user_id"],
                         row["status"], secret.decode())

    def mark_used(self, access_key_id: str, service: str) -> None:
        """Note the key's last use, at most once a minute per key and service: a busy key's
        every call would otherwise rewrite its row (what GetAccessKeyLastUsed reports is then
        up to a minute old, as coarse as the cloud's own)."""
        now = self.env.clock.now()
        self.tx.execute(
            "UPDATE access_keys SET last_used_at = ?, last_used_service = ? "
            "WHERE access_key_id = ? AND (last_used_at IS NULL OR last_used_at < ? OR "
            "last_used_service IS NULL OR last_used_service <> ?)",
            (format_iso8601(now), service, access_key_id,
             format_iso8601(now - LAST_USED_GRANULARITY), service))
