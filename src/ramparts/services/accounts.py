"""The account itself: creating it with a root identity and a bootstrap administrator."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ramparts.core.clock import format_iso8601
from ramparts.crypto.primitives import CryptoError
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.ram.policies import PolicyBackend
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import Row, Transaction

__all__ = [
    "AccountRecord", "Bootstrap", "create_account", "find_account", "root_key_opens_the_store",
    "root_password_context",
]

ADMIN_USER = "admin"
KEY_CHECK_SETTING = "root-key-check"
KEY_CHECK_VALUE = b"ramparts root key check"


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


def _key_check_context(account_id: str) -> str:
    return f"account/{account_id}/root-key-check"


def root_key_opens_the_store(tx: Transaction, env: ServiceEnv, account: AccountRecord) -> bool:
    """Whether this server's root key is the one the account's values were sealed with: a
    server started with another key must refuse to start rather than fail every call."""
    row = tx.query_one("SELECT value FROM account_settings WHERE account_id = ? AND name = ?",
                       (account.account_id, KEY_CHECK_SETTING))
    if row is None:
        return False
    try:
        opened = env.sealer.open(base64.b64decode(row["value"]),
                                 context=_key_check_context(account.account_id))
    except (CryptoError, ValueError):
        return False
    return opened == KEY_CHECK_VALUE


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
    check = env.sealer.seal(KEY_CHECK_VALUE, context=_key_check_context(account_id))
    tx.execute("INSERT INTO account_settings (account_id, name, value) VALUES (?, ?, ?)",
               (account_id, KEY_CHECK_SETTING, base64.b64encode(check).decode()))
    UserBackend(tx, env, account_id).create(ADMIN_USER, "Administrator",
                                            comments="bootstrap administrator")
    PolicyBackend(tx, env, account_id).attach("System", "AdministratorAccess", "User",
                                              ADMIN_USER)
    key, secret = AccessKeyBackend(tx, env, account_id).create(ADMIN_USER)
    return Bootstrap(AccountRecord(account_id, alias, region), key.access_key_id, secret,
                     root_password)
