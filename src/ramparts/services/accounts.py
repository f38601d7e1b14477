"""The account itself: creating it with a root identity and a bootstrap administrator."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ramparts.core.clock import format_iso8601
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.ram.policies import PolicyBackend
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import Row, Transaction

__all__ = ["AccountRecord", "Bootstrap", "create_account", "find_account", "root_password_context"]

ADMIN_USER = "admin"
ROOT_PASSWORD_LENGTH = 24


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    alias: str
    region: str


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What `ramparts init` shows once and never stores in plaintext."""

    account: AccountRecord
    admin_access_key_id: str
    admin_access_key_secret: str
    root_password: str


def root_password_context(account_id: str) -> str:
    return f"ram/root/{account_id}/password"


def _record(row: Row) -> AccountRecord:
    return AccountRecord(row["account_id"], row["alias"], row["default_region"])


def find_account(tx: Transaction) -> AccountRecord | None:
    row = tx.query_one("SELECT * FROM accounts ORDER BY created_at LIMIT 1")
    return None if row is None else _record(row)


def create_account(tx: Transaction, env: ServiceEnv, *, alias: str, region: str,
                   password_hash: str, root_password: str) -> Bootstrap:
    """A new account: root identity with a console password (no AccessKey), and a RAM user
    `admin` with AdministratorAccess and one AccessKey."""
    account_id = env.ids.numeric(16)
    now = format_iso8601(env.clock.now())
    tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
               "VALUES (?, ?, ?, ?)", (account_id, alias, region, now))
    sealed = env.sealer.seal(password_hash.encode(), context=root_password_context(account_id))
    tx.execute("INSERT INTO root_identities (account_id, password_sealed, created_at) "
               "VALUES (?, ?, ?)", (account_id, base64.b64encode(sealed).decode(), now))
    UserBackend(tx, env, account_id).create(ADMIN_USER, "Administrator",
                                            comments="bootstrap administrator")
    PolicyBackend(tx, env, account_id).attach("System", "AdministratorAccess", "User",
                                              ADMIN_USER)
    key, secret = AccessKeyBackend(tx, env, account_id).create(ADMIN_USER)
    return Bootstrap(AccountRecord(account_id, alias, region), key.access_key_id, secret,
                     root_password)
