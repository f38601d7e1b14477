"""KMS keys in the store: their states, versions, rotation and deletion; material sealed.

A key's material exists in plaintext only in memory, while an operation uses it: each version's
32 random bytes are sealed under the root key, bound to the key and version ids, and opened per
operation. Aliases (`alias/...`) are accepted wherever a key id is.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ramparts.core.clock import format_iso8601, parse_iso8601
from ramparts.crypto.primitives import KEY_SIZE, random_bytes
from ramparts.services.call import ServiceEnv
from ramparts.services.kms.errors import (
    AliasNotFound,
    InvalidParameter,
    KeyDisabled,
    KeyNotFound,
    KeyPendingDeletion,
    KeyVersionNotFound,
    LimitExceeded,
    StateModifiedFailed,
    UnsupportedOperation,
)
from ramparts.store.base import Row, Transaction

__all__ = [
    "ALIAS_PREFIX", "DELETION_WINDOW_DAYS", "DISABLED", "ENABLED", "MAX_KEYS", "PENDING_DELETION",
    "ROTATION_INTERVAL", "SERVICE_CREATOR", "Key", "KeyBackend", "KeyVersion", "parse_interval",
    "run_due", "version_context",
]

ENABLED, DISABLED, PENDING_DELETION = "Enabled", "Disabled", "PendingDeletion"
ALIAS_PREFIX = "alias/"
DELETION_WINDOW_DAYS = (7, 366)  # [doc: ScheduleKeyDeletion PendingWindowInDays]
ROTATION_INTERVAL = (timedelta(days=7), timedelta(days=730))  # [doc: UpdateRotationPolicy]
MAX_KEYS = 1000  # per account and region; a local guard against runaway scripts
SERVICE_CREATOR = "SecretsManager"  # the creator of the account's default key for secrets
KEY_SPECS = {"Aliyun_AES_256"}  # symmetric only: the software protection level's default
KEY_USAGES = {"ENCRYPT/DECRYPT"}
ORIGINS = {"Aliyun_KMS"}
PROTECTION_LEVELS = {"SOFTWARE"}

_COLUMNS = ("key_id, account_id, region, description, key_spec, key_usage, origin, "
            "protection_level, state, creator, created_at, delete_at, deletion_protection, "
            "primary_version_id, rotation_seconds, last_rotation_at, next_rotation_at")


def version_context(key_id: str, version_id: str) -> str:
    """What a version's sealed material is bound to: it opens for that version only."""
    return f"kms-key-version:{key_id}:{version_id}"


def parse_interval(text: str, name: str = "RotationInterval") -> timedelta:
    """`604800s` or `7d` [doc: UpdateRotationPolicy]; within 7 to 730 days."""
    value = text.strip()
    units = {"s": 1, "d": 86400}
    if len(value) < 2 or value[-1] not in units or not value[:-1].isascii() \
            or not value[:-1].isdigit() or len(value) > 12:
        raise InvalidParameter(f'The specified parameter "{name}" is not valid: give a number '
                               "of seconds or days, such as 604800s or 7d.")
    interval = timedelta(seconds=int(value[:-1]) * units[value[-1]])
    low, high = ROTATION_INTERVAL
    if not low <= interval <= high:
        raise InvalidParameter(f'The specified parameter "{name}" is not valid: it must be '
                               "from 7 to 730 days.")
    return interval


@dataclass(frozen=True, slots=True)
class KeyVersion:
    key_id: str
    version_id: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Key:
    key_id: str
    account_id: str
    region: str
    description: str
    key_spec: str
    key_usage: str
    origin: str
    protection_level: str
    state: str
    creator: str
    created_at: str
    delete_at: str | None
    deletion_protection: str | None
    primary_version_id: str
    rotation_seconds: int | None
    last_rotation_at: str | None
    next_rotation_at: str | None

    @property
    def arn(self) -> str:
        return f"acs:kms:{self.region}:{self.account_id}:key/{self.key_id}"

    @classmethod
    def of(cls, row: Row) -> Key:
        rotation = row["rotation_seconds"]
        return cls(**{**row, "rotation_seconds": int(rotation) if rotation is not None
                      else None})

    def metadata(self) -> dict[str, Any]:
        """KeyMetadata as DescribeKey answers it."""
        rotating = self.rotation_seconds is not None
        return {
            "KeyId": self.key_id, "Arn": self.arn, "Description": self.description,
            "KeySpec": self.key_spec, "KeyUsage": self.key_usage, "Origin": self.origin,
            "ProtectionLevel": self.protection_level, "KeyState": self.state,
            "Creator": self.creator, "CreationDate": self.created_at,
            "DeleteDate": self.delete_at or "", "MaterialExpireTime": "",
            "PrimaryKeyVersion": self.primary_version_id,
            "AutomaticRotation": "Enabled" if rotating else "Disabled",
            "RotationInterval": f"{self.rotation_seconds}s" if rotating else "",
            "LastRotationDate": self.last_rotation_at or self.created_at,
            "NextRotationDate": self.next_rotation_at or "",
            "DeletionProtection": "Enabled" if self.deletion_protection is not None
            else "Disabled",
            "DeletionProtectionDescription": self.deletion_protection or "",
        }

    def require_usable(self) -> None:
        """Cryptographic operations need an enabled key."""
        if self.state == DISABLED:
            raise KeyDisabled(f"The key {self.key_id} is disabled.")
        if self.state == PENDING_DELETION:
            raise KeyPendingDeletion(f"The key {self.key_id} is pending deletion.")


class KeyBackend:
    """One account's keys in one region, inside the call's transaction."""

    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str, region: str) -> None:
        self.tx, self.env, self.account_id, self.region = tx, env, account_id, region

    # ---- finding keys

    def resolve(self, key_id: str) -> str | None:
        """The key id a KeyId parameter names (an id or `alias/...`); None for an unknown
        alias."""
        if not key_id.startswith(ALIAS_PREFIX):
            return key_id
        row = self.tx.query_one("SELECT key_id FROM kms_aliases WHERE account_id = ? AND "
                                "alias_name = ?", (self.account_id, key_id))
        return str(row["key_id"]) if row is not None else None

    def get(self, key_id: str) -> Key:
        resolved = self.resolve(key_id)
        if resolved is None:
            raise AliasNotFound(f"The specified alias {key_id[:128]} is not found.")
        row = self.tx.query_one(f"SELECT {_COLUMNS} FROM kms_keys WHERE key_id = ? AND "  # noqa: S608
                                "account_id = ? AND region = ?",
                                (resolved, self.account_id, self.region))
        if row is None:
            raise KeyNotFound(f"The specified key {key_id[:128]} is not found.")
        return Key.of(row)

    def page(self, number: int, size: int) -> tuple[list[Key], int]:
        total_row = self.tx.query_one("SELECT COUNT(*) AS n FROM kms_keys WHERE account_id = ? "
                                      "AND region = ?", (self.account_id, self.region))
        rows = self.tx.query(f"SELECT {_COLUMNS} FROM kms_keys WHERE account_id = ? AND "  # noqa: S608
                             "region = ? ORDER BY created_at, key_id LIMIT ? OFFSET ?",
                             (self.account_id, self.region, size, (number - 1) * size))
        return [Key.of(row) for row in rows], int(total_row["n"]) if total_row else 0

    # ---- lifecycle

    def create(self, *, description: str, key_spec: str, key_usage: str, origin: str,
               protection_level: str, rotation: timedelta | None, creator: str) -> Key:
        for value, allowed, name in ((key_spec, KEY_SPECS, "KeySpec"),
                                     (key_usage, KEY_USAGES, "KeyUsage"),
                                     (origin, ORIGINS, "Origin"),
                                     (protection_level, PROTECTION_LEVELS, "ProtectionLevel")):
            if value not in allowed:
                raise UnsupportedOperation(
                    f"The specified {name} {value[:64]!r} is not supported here: "
                    f"{', '.join(sorted(allowed))} only.")
        count = self.tx.query_one("SELECT COUNT(*) AS n FROM kms_keys WHERE account_id = ? AND "
                                  "region = ?", (self.account_id, self.region))
        if count is not None and int(count["n"]) >= MAX_KEYS:
            raise LimitExceeded(f"An account holds at most {MAX_KEYS} keys in a region.")
        now = self.env.clock.now()
        key_id, version_id = self.env.ids.uuid(), self.env.ids.uuid()
        stamp = format_iso8601(now)
        self.tx.execute(
            f"INSERT INTO kms_keys ({_COLUMNS}) VALUES "  # noqa: S608 (fixed names)
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL, ?)",
            (key_id, self.account_id, self.region, description, key_spec, key_usage, origin,
             protection_level, ENABLED, creator, stamp, version_id,
             int(rotation.total_seconds()) if rotation else None,
             format_iso8601(now + rotation) if rotation else None))
        self._add_version(key_id, version_id, stamp)
        return self.get(key_id)

    def _add_version(self, key_id: str, version_id: str, stamp: str) -> None:
        material = random_bytes(KEY_SIZE)
        sealed = self.env.sealer.seal(material, context=version_context(key_id, version_id))
        last = self.tx.query_one("SELECT MAX(number) AS n FROM kms_key_versions WHERE "
                                 "key_id = ?", (key_id,))
        number = int(last["n"] or 0) + 1 if last is not None else 1
        self.tx.execute("INSERT INTO kms_key_versions (key_id, version_id, number, "
                        "material_sealed, created_at) VALUES (?, ?, ?, ?, ?)",
                        (key_id, version_id, number, base64.b64encode(sealed).decode("ascii"),
                         stamp))

    def update_description(self, key: Key, description: str) -> None:
        self.tx.execute("UPDATE kms_keys SET description = ? WHERE key_id = ?",
                        (description, key.key_id))

    def enable(self, key: Key) -> None:
        if key.state == PENDING_DELETION:
            raise StateModifiedFailed(f"The key {key.key_id} is pending deletion; cancel the "
                                      "deletion first.")
        self._set_state(key, ENABLED)

    def disable(self, key: Key) -> None:
        if key.state == PENDING_DELETION:
            raise StateModifiedFailed(f"The key {key.key_id} is pending deletion.")
        self._set_state(key, DISABLED)

    def _set_state(self, key: Key, state: str) -> None:
        self.tx.execute("UPDATE kms_keys SET state = ? WHERE key_id = ?", (state, key.key_id))

    def schedule_deletion(self, key: Key, days: int) -> None:
        low, high = DELETION_WINDOW_DAYS
        if not low <= days <= high:
            raise InvalidParameter('The specified parameter "PendingWindowInDays" is not '
                                   f"valid: it must be from {low} to {high}.")
        if key.creator == SERVICE_CREATOR:
            raise UnsupportedOperation(f"The key {key.key_id} is the service's default key for "
                                       "secrets; it cannot be deleted.")
        if key.deletion_protection is not None:
            raise StateModifiedFailed(f"The key {key.key_id} is protected from deletion; turn "
                                      "its deletion protection off first.")
        if key.state == PENDING_DELETION:
            raise StateModifiedFailed(f"The key {key.key_id} is already pending deletion.")
        delete_at = format_iso8601(self.env.clock.now() + timedelta(days=days))
        self.tx.execute("UPDATE kms_keys SET state = ?, delete_at = ? WHERE key_id = ?",
                        (PENDING_DELETION, delete_at, key.key_id))

    def cancel_deletion(self, key: Key) -> None:
        """The key returns to Enabled [doc: CancelKeyDeletion]."""
        if key.state != PENDING_DELETION:
            raise StateModifiedFailed(f"The key {key.key_id} is not pending deletion.")
        self.tx.execute("UPDATE kms_keys SET state = ?, delete_at = NULL WHERE key_id = ?",
                        (ENABLED, key.key_id))

    def set_deletion_protection(self, key: Key, enabled: bool, description: str) -> None:
        self.tx.execute("UPDATE kms_keys SET deletion_protection = ? WHERE key_id = ?",
                        (description if enabled else None, key.key_id))

    # ---- versions and rotation

    def update_rotation(self, key: Key, enabled: bool, interval: timedelta | None) -> None:
        if not enabled:
            self.tx.execute("UPDATE kms_keys SET rotation_seconds = NULL, next_rotation_at = "
                            "NULL WHERE key_id = ?", (key.key_id,))
            return
        if interval is None:
            raise InvalidParameter('The specified parameter "RotationInterval" is required '
                                   "when automatic rotation is enabled.")
        last = parse_iso8601(key.last_rotation_at or key.created_at)
        following = max(last + interval, self.env.clock.now())
        self.tx.execute("UPDATE kms_keys SET rotation_seconds = ?, next_rotation_at = ? "
                        "WHERE key_id = ?", (int(interval.total_seconds()),
                                             format_iso8601(following), key.key_id))

    def rotate(self, key: Key) -> KeyVersion:
        """A new primary version: new encryptions use it, every older one still decrypts."""
        key.require_usable()
        now = self.env.clock.now()
        stamp, version_id = format_iso8601(now), self.env.ids.uuid()
        self._add_version(key.key_id, version_id, stamp)
        following = (format_iso8601(now + timedelta(seconds=key.rotation_seconds))
                     if key.rotation_seconds is not None else None)
        self.tx.execute("UPDATE kms_keys SET primary_version_id = ?, last_rotation_at = ?, "
                        "next_rotation_at = ? WHERE key_id = ?",
                        (version_id, stamp, following, key.key_id))
        return KeyVersion(key.key_id, version_id, stamp)

    def versions(self, key: Key) -> list[KeyVersion]:
        rows = self.tx.query("SELECT key_id, version_id, created_at FROM kms_key_versions "
                             "WHERE key_id = ? ORDER BY number", (key.key_id,))
        return [KeyVersion(**row) for row in rows]

    def version(self, key: Key, version_id: str) -> KeyVersion:
        row = self.tx.query_one("SELECT key_id, version_id, created_at FROM kms_key_versions "
                                "WHERE key_id = ? AND version_id = ?", (key.key_id, version_id))
        if row is None:
            raise KeyVersionNotFound(f"The specified key version {version_id[:64]} is not "
                                     "found.")
        return KeyVersion(**row)

    def usable_material(self, key_id: str, version_id: str) -> bytes:
        """A version's material for one operation, the key found and checked usable in the
        same read (KeyNotFound, Rejected.Disabled, Rejected.PendingDeletion,
        KeyVersionNotFound)."""
        row = self.tx.query_one(
            "SELECT k.state, v.material_sealed FROM kms_keys k LEFT JOIN kms_key_versions v "
            "ON v.key_id = k.key_id AND v.version_id = ? WHERE k.key_id = ? AND "
            "k.account_id = ? AND k.region = ?", (version_id, key_id, self.account_id,
                                                  self.region))
        if row is None:
            raise KeyNotFound(f"The specified key {key_id[:128]} is not found.")
        if row["state"] == DISABLED:
            raise KeyDisabled(f"The key {key_id} is disabled.")
        if row["state"] == PENDING_DELETION:
            raise KeyPendingDeletion(f"The key {key_id} is pending deletion.")
        if row["material_sealed"] is None:
            raise KeyVersionNotFound(f"The specified key version {version_id[:64]} is not "
                                     "found.")
        return self.env.sealer.open(base64.b64decode(row["material_sealed"]),
                                    context=version_context(key_id, version_id))

    def material(self, key_id: str, version_id: str) -> bytes:
        """A version's key material, opened for one operation."""
        row = self.tx.query_one("SELECT material_sealed FROM kms_key_versions WHERE "
                                "key_id = ? AND version_id = ?", (key_id, version_id))
        if row is None:
            raise KeyVersionNotFound(f"The specified key version {version_id[:64]} is not "
                                     "found.")
        return self.env.sealer.open(base64.b64decode(row["material_sealed"]),
                                    context=version_context(key_id, version_id))


def run_due(tx: Transaction, env: ServiceEnv, now: datetime) -> tuple[int, int]:
    """Rotate every enabled key whose rotation is due and delete every key whose pending
    window has ended (all accounts and regions); how many of each."""
    tx.lock("kms-scheduler")  # replicas take turns: each due key is rotated once
    stamp = format_iso8601(now)
    rotated = 0
    for row in tx.query(f"SELECT {_COLUMNS} FROM kms_keys WHERE next_rotation_at <= ? "  # noqa: S608
                        "AND state = ? ORDER BY next_rotation_at", (stamp, ENABLED)):
        key = Key.of(row)
        KeyBackend(tx, env, key.account_id, key.region).rotate(key)
        rotated += 1
    deleted = 0
    for row in tx.query("SELECT key_id, account_id FROM kms_keys WHERE delete_at <= ? AND "
                        "state = ?", (stamp, PENDING_DELETION)):
        key_id = str(row["key_id"])
        tx.execute("DELETE FROM kms_aliases WHERE key_id = ?", (key_id,))
        tx.execute("DELETE FROM kms_tags WHERE account_id = ? AND resource = ?",
                   (row["account_id"], f"key/{key_id}"))
        tx.execute("DELETE FROM kms_key_versions WHERE key_id = ?", (key_id,))
        tx.execute("DELETE FROM kms_keys WHERE key_id = ?", (key_id,))
        deleted += 1
    return rotated, deleted
