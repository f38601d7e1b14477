"""A migrated SQLite store holding one account, and the services' collaborators, for backend
tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ramparts.core.clock import FrozenClock, format_iso8601
from ramparts.core.ids import SequentialIds
from ramparts.crypto.keyring import RootKey, Sealer
from ramparts.policy.cache import PolicyCache
from ramparts.policy.catalog import Catalog
from ramparts.services.call import ServiceEnv
from ramparts.store.base import Transaction
from ramparts.store.migrations import migrate
from ramparts.store.sqlite import SQLiteStore

ACCOUNT_ID = "1000000000000001"


@dataclass
class AccountEnv:
    store: SQLiteStore
    env: ServiceEnv
    clock: FrozenClock
    account_id: str = ACCOUNT_ID

    @contextmanager
    def tx(self) -> Iterator[Transaction]:
        with self.store.transaction() as tx:
            yield tx


def account_env(tmp_path: Path) -> AccountEnv:
    store = SQLiteStore(tmp_path / "db")
    migrate(store)
    clock = FrozenClock()
    env = ServiceEnv(clock=clock, ids=SequentialIds(), sealer=Sealer(RootKey.generate()),
                     catalog=Catalog(), policies=PolicyCache())
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)",
                   (ACCOUNT_ID, "", "cn-hangzhou", format_iso8601(clock.now())))
    return AccountEnv(store, env, clock)
