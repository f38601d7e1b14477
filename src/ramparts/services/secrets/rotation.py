"""Rotating managed secrets for real: a RAM user's AccessKey, a database user's password.

The scheduler runs rotations (those due by the secret's interval, and those RotateSecret asked
for) outside any call's transaction, because a database password changes on another server:

- RAMCredentials, in one transaction: the AccessKey the secret marked ACSPrevious is deleted
  (so the user never holds more than two), a new one is created for the user and stored as the
  new ACSCurrent; the former current key becomes ACSPrevious and keeps working until the next
  rotation.
- Rds: the new password is stored first, as a version marked ACSPending (committed); then it is
  set on the database server and must log in; only then does the pending version become
  ACSCurrent. A failure leaves ACSCurrent as it was (the old password still logs in) and is
  kept as the secret's last rotation error. A crash between the two leaves a pending version:
  the next pass finishes it if its password logs in, or drops it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from ramparts.core.clock import format_iso8601
from ramparts.core.errors import RampartsError, ServiceError
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.secrets.database_rotation import (
    DatabaseCredential,
    RotationError,
    connect_check,
    random_password,
    rotate_alternating,
    rotate_single_user,
)
from ramparts.services.secrets.managed import (
    DOUBLE_USERS,
    RAM_CREDENTIALS,
    RDS,
    access_key_value,
    database_plan,
    ram_user_of,
)
from ramparts.services.secrets.secrets import (
    ACS_CURRENT,
    ACS_PREVIOUS,
    TEXT,
    Secret,
    SecretBackend,
)
from ramparts.store.base import Store, Transaction

__all__ = ["ACS_PENDING", "RETRY_AFTER", "Rotator", "SecretRef", "last_rotation_error",
           "request_rotation"]

log = logging.getLogger("ramparts.rotation")
ACS_PENDING = "ACSPending"
RETRY_AFTER = timedelta(hours=1)  # a failed scheduled rotation is tried again this much later
LEASE = timedelta(minutes=5)  # how long one rotation may hold a secret
_DUE = ("(rotation_requested IS NOT NULL OR next_rotation_at <= ? OR EXISTS (SELECT 1 FROM "
        "secret_version_stages s WHERE s.account_id = secrets.account_id AND s.region = "
        "secrets.region AND s.secret_name = secrets.secret_name AND s.stage = ?))")


@dataclass(frozen=True, slots=True)
class SecretRef:
    account_id: str
    region: str
    name: str


class Rotator:
    """Runs the rotations that are due, each in its own transactions."""

    def __init__(self, store: Store, env: ServiceEnv,
                 database: Callable[[DatabaseCredential], None] = connect_check) -> None:
        self.store, self.env, self._check = store, env, database

    def due(self) -> list[SecretRef]:
        """Managed secrets whose rotation is due, was asked for, or was left half done."""
        stamp = format_iso8601(self.env.clock.now())
        with self.store.transaction() as tx:
            rows = tx.query(
                "SELECT account_id, region, secret_name FROM secrets WHERE "  # noqa: S608
                f"secret_type IN (?, ?) AND planned_delete_at IS NULL AND {_DUE} AND "
                "(rotation_lease_until IS NULL "
                "OR rotation_lease_until < ?) ORDER BY account_id, region, secret_name",
                (RAM_CREDENTIALS, RDS, stamp, ACS_PENDING, stamp))
        return [SecretRef(str(r["account_id"]), str(r["region"]), str(r["secret_name"]))
                for r in rows]

    def run_due(self) -> int:
        """Rotate every secret that is due; how many rotations succeeded."""
        done = 0
        for ref in self.due():
            try:
                done += self.rotate(ref)
            except Exception:  # one secret's defect must not stop the others
                log.exception("rotating the secret %s failed unexpectedly", ref.name)
        return done

    def rotate(self, ref: SecretRef) -> int:
        """Rotate one secret if it is still due and no other rotator holds it; 1 when a new
        value became ACSCurrent, else 0 (an error is kept on the secret)."""
        owner = self.env.ids.uuid()
        try:
            with self.store.transaction() as tx:
                if not self._claim(tx, ref, owner):
                    return 0
                backend = SecretBackend(tx, self.env, ref.account_id, ref.region)
                secret = backend.active(ref.name)
                if secret.secret_type == RAM_CREDENTIALS:
                    return self._rotate_access_key(tx, backend, secret)
            return self._rotate_database(ref)
        except (ServiceError, RotationError) as exc:
            # Refused before anything changed (the user or a master secret is gone, say):
            # kept on the secret, and the claim let go, rather than retried blindly.
            with self.store.transaction() as tx:
                secret = SecretBackend(tx, self.env, ref.account_id, ref.region).get(ref.name)
                self._finish(tx, secret, exc.message if isinstance(exc, ServiceError)
                             else str(exc))
            return 0

    def _claim(self, tx: Transaction, ref: SecretRef, owner: str) -> bool:
        """Take the secret for one rotation, if it is still due and free (a row lock: a
        concurrent claim waits, then finds it taken or no longer due)."""
        now = self.env.clock.now()
        stamp = format_iso8601(now)
        return tx.execute(
            "UPDATE secrets SET rotation_owner = ?, rotation_lease_until = ? WHERE "  # noqa: S608
            "account_id = ? AND region = ? AND secret_name = ? AND planned_delete_at IS NULL "
            f"AND {_DUE} AND (rotation_lease_until IS NULL OR rotation_lease_until < ?)",
            (owner, format_iso8601(now + LEASE), ref.account_id, ref.region, ref.name, stamp,
             ACS_PENDING, stamp)) == 1

    # ---- bookkeeping

    def _finish(self, tx: Transaction, secret: Secret, error: str | None) -> None:
        now = self.env.clock.now()
        if error is None:
            following = (format_iso8601(now + timedelta(seconds=secret.rotation_seconds))
                         if secret.rotation_seconds else None)
            tx.execute("UPDATE secrets SET rotation_requested = NULL, last_rotation_error = "
                       "NULL, last_rotation_at = ?, next_rotation_at = ?, rotation_owner = NULL, "
                       "rotation_lease_until = NULL WHERE account_id = ? AND region = ? AND "
                       "secret_name = ?",
                       (format_iso8601(now), following, secret.account_id, secret.region,
                        secret.secret_name))
            return
        log.warning("rotating the secret %s failed: %s", secret.secret_name, error)
        retry = format_iso8601(now + RETRY_AFTER) if secret.rotation_seconds else None
        tx.execute("UPDATE secrets SET rotation_requested = NULL, last_rotation_error = ?, "
                   "next_rotation_at = ?, rotation_owner = NULL, rotation_lease_until = NULL "
                   "WHERE account_id = ? AND region = ? AND secret_name = ?",
                   (error[:1024], retry, secret.account_id, secret.region, secret.secret_name))

    def _version_id(self, tx: Transaction, secret: Secret) -> str:
        row = tx.query_one("SELECT rotation_requested FROM secrets WHERE account_id = ? AND "
                           "region = ? AND secret_name = ?",
                           (secret.account_id, secret.region, secret.secret_name))
        requested = row["rotation_requested"] if row is not None else None
        return str(requested) if requested else f"rotation-{self.env.ids.uuid()}"

    # ---- RAM credentials

    def _rotate_access_key(self, tx: Transaction, backend: SecretBackend,
                           secret: Secret) -> int:
        user = ram_user_of(secret.extended_config)
        keys = AccessKeyBackend(tx, self.env, secret.account_id)
        current = json.loads(backend.value(secret).data)["AccessKeyId"]
        previous = self._previous_key(backend, secret)
        held = {key.access_key_id for key in keys.listing(user)}
        if previous is not None and previous in held and previous != current:
            keys.delete(user, previous)
            held.discard(previous)
        if len(held) >= 2:
            self._finish(tx, secret, f"the RAM user {user} holds two AccessKeys and the other "
                                     "one is not this secret's; delete it first")
            return 0
        created, key_secret = keys.create(user)
        backend.put_value(secret, self._version_id(tx, secret),
                          access_key_value(created.access_key_id, key_secret, self.env), TEXT)
        self._finish(tx, secret, None)
        return 1

    @staticmethod
    def _previous_key(backend: SecretBackend, secret: Secret) -> str | None:
        try:
            value = backend.value(secret, stage=ACS_PREVIOUS)
        except ServiceError:
            return None
        return str(json.loads(value.data)["AccessKeyId"])

    # ---- database credentials

    def _rotate_database(self, ref: SecretRef) -> int:
        """Pending version first, then the database, then the stages: see the module."""
        with self.store.transaction() as tx:
            backend = SecretBackend(tx, self.env, ref.account_id, ref.region)
            secret = backend.active(ref.name)
            plan = database_plan(secret.extended_config)
            current = DatabaseCredential.from_secret_json(backend.value(secret).data.decode())
            pending = self._pending(backend, secret)
            if pending is not None:  # left by an interrupted rotation
                version_id, credential = pending
                if self._logs_in(credential):
                    self._promote(backend, secret, version_id)
                    self._finish(tx, secret, None)
                    return 1
                backend.update_stage(secret, ACS_PENDING, remove_from=version_id)
            master = None
            if plan.sub_type == DOUBLE_USERS:
                assert plan.master_secret is not None
                master_secret = backend.active(plan.master_secret)
                master = DatabaseCredential.from_secret_json(
                    backend.value(master_secret).data.decode())
            new_password = random_password()
            user = current.user
            if plan.users is not None:
                user = plan.users[1] if current.user == plan.users[0] else plan.users[0]
            target = DatabaseCredential(current.engine, current.host, current.port, user,
                                        new_password, current.dbname)
            version_id = self._version_id(tx, secret)
            backend.put_value(secret, version_id, target.to_secret_json().encode(), TEXT,
                              [ACS_PENDING])
        try:
            if plan.sub_type == DOUBLE_USERS:
                assert plan.users is not None
                assert master is not None
                rotate_alternating(master, current, plan.users, new_password)
            else:
                rotate_single_user(current, new_password)
        except (RotationError, RampartsError) as exc:
            with self.store.transaction() as tx:
                backend = SecretBackend(tx, self.env, ref.account_id, ref.region)
                secret = backend.active(ref.name)
                backend.update_stage(secret, ACS_PENDING, remove_from=version_id)
                self._finish(tx, secret, str(exc))
            return 0
        with self.store.transaction() as tx:
            backend = SecretBackend(tx, self.env, ref.account_id, ref.region)
            secret = backend.active(ref.name)
            self._promote(backend, secret, version_id)
            self._finish(tx, secret, None)
        return 1

    @staticmethod
    def _pending(backend: SecretBackend, secret: Secret
                 ) -> tuple[str, DatabaseCredential] | None:
        try:
            value = backend.value(secret, stage=ACS_PENDING)
        except ServiceError:
            return None
        return value.version.version_id, DatabaseCredential.from_secret_json(value.data.decode())

    def _logs_in(self, credential: DatabaseCredential) -> bool:
        try:
            self._check(credential)
        except RotationError:
            return False
        return True

    @staticmethod
    def _promote(backend: SecretBackend, secret: Secret, version_id: str) -> None:
        backend.update_stage(secret, ACS_CURRENT, move_to=version_id)
        backend.update_stage(secret, ACS_PENDING, remove_from=version_id)


def request_rotation(tx: Transaction, secret: Secret, version_id: str) -> None:
    """Ask the scheduler to rotate `secret` into a version `version_id` (RotateSecret)."""
    tx.execute("UPDATE secrets SET rotation_requested = ? WHERE account_id = ? AND region = ? "
               "AND secret_name = ?", (version_id, secret.account_id, secret.region,
                                       secret.secret_name))


def last_rotation_error(tx: Transaction, secret: Secret) -> str | None:
    row = tx.query_one("SELECT last_rotation_error FROM secrets WHERE account_id = ? AND "
                       "region = ? AND secret_name = ?",
                       (secret.account_id, secret.region, secret.secret_name))
    return str(row["last_rotation_error"]) if row and row["last_rotation_error"] else None
