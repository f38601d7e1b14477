"""Wiring: the store, the root key, the services and the request pipeline of one server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ramparts.core.clock import Clock, SystemClock
from ramparts.core.ids import IdGenerator, RandomIds
from ramparts.crypto.keyring import (
    KEY_FILE_NAME,
    ROOT_KEY_ENV,
    KeyringError,
    RootKey,
    Sealer,
    create_key_file,
    load_root_key,
)
from ramparts.crypto.passwords import hash_password
from ramparts.policy.cache import PolicyCache
from ramparts.policy.catalog import Catalog
from ramparts.protocol.pipeline import Pipeline
from ramparts.protocol.registry import default_registry
from ramparts.server.background import (
    DEFAULT_DELIVERY_INTERVAL,
    DEFAULT_INDEXING_INTERVAL,
    DEFAULT_SCHEDULER_INTERVAL,
    BackgroundLoop,
    lease_for,
)
from ramparts.server.indexing_process import IndexingProcess
from ramparts.services.accounts import (
    AccountRecord,
    Bootstrap,
    create_account,
    find_account,
    root_key_opens_the_store,
)
from ramparts.services.actiontrail.delivery import TrailDelivery
from ramparts.services.actiontrail.redaction import Redactor
from ramparts.services.call import ServiceEnv
from ramparts.services.kms.keys import run_due
from ramparts.services.secrets.rotation import Rotator
from ramparts.services.secrets.secrets import purge_due
from ramparts.store.base import Store
from ramparts.store.factory import SQLITE_FILE_NAME, open_store, open_trail_index
from ramparts.store.migrations import migrate

__all__ = ["DEFAULT_REGION", "NotInitialized", "Runtime", "initialize", "open_runtime"]

DEFAULT_REGION = "cn-hangzhou"
ROOT_PASSWORD_LENGTH = 24


class NotInitialized(KeyringError):
    """The data dir or database holds no account yet."""


@dataclass
class Runtime:
    """A server's long-lived parts; `close` stops its background work and releases the
    store."""

    store: Store
    trail_index: Store  # the store itself on PostgreSQL
    env: ServiceEnv
    account: AccountRecord
    pipeline: Pipeline
    data_dir: Path
    database_url: str | None
    delivery: BackgroundLoop | None = None
    indexing: IndexingProcess | None = None
    scheduler: BackgroundLoop | None = None

    def start_delivery(self, root: Path, interval: float = DEFAULT_DELIVERY_INTERVAL) -> None:
        """Deliver the logging trails' events under `root` (one directory per bucket) every
        `interval` seconds, on a thread of its own, until `close`."""
        if self.delivery is None:
            delivery = TrailDelivery(self.store, self.env.sealer, self.env.clock, root,
                                     lease=lease_for(interval))

            def deliver() -> bool:
                delivery.run_once()
                return False

            self.delivery = BackgroundLoop("trail-delivery", deliver, interval).start()

    def start_indexing(self, interval: float = DEFAULT_INDEXING_INTERVAL) -> None:
        """Index the trail's new events for LookupEvents, in bulk, in a process of its own
        (kept running) until `close`: in a thread it would take its share of the interpreter
        that serves the calls (about 15% of their rate, measured)."""
        if self.indexing is None:
            self.indexing = IndexingProcess(self.data_dir, self.database_url, interval).start()

    def run_scheduled(self) -> tuple[int, int]:
        """Do what is due by the injected clock: rotate the keys whose rotation is due, delete
        the keys and erase the secrets whose window has ended, rotate the managed secrets that
        are due or were asked to; how many keys rotated and deleted."""
        now = self.env.clock.now()
        with self.store.transaction() as tx:
            done = run_due(tx, self.env, now)
        with self.store.transaction() as tx:
            purge_due(tx, now)
        Rotator(self.store, self.env).run_due()
        return done

    def start_scheduler(self, interval: float = DEFAULT_SCHEDULER_INTERVAL) -> None:
        """`run_scheduled` every `interval` seconds, on a thread of its own, until `close`."""
        if self.scheduler is None:
            def step() -> bool:
                self.run_scheduled()
                return False

            self.scheduler = BackgroundLoop("scheduler", step, interval).start()

    def close(self) -> None:
        for loop in (self.delivery, self.indexing, self.scheduler):
            if loop is not None:
                loop.stop()
        self.delivery = self.indexing = self.scheduler = None
        if self.trail_index is not self.store:
            self.trail_index.close()
        self.store.close()


def _sealer(data_dir: Path, environ: Mapping[str, str], *, create: bool) -> Sealer:
    key_file = data_dir / KEY_FILE_NAME
    if create and ROOT_KEY_ENV not in environ and not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return Sealer(create_key_file(key_file))
    return Sealer(load_root_key(data_dir, environ))


def _env(sealer: Sealer, clock: Clock, ids: IdGenerator, trail_index: Store | None = None
         ) -> ServiceEnv:
    return ServiceEnv(clock=clock, ids=ids, sealer=sealer, catalog=Catalog(),
                      policies=PolicyCache(), trail_index=trail_index)


def initialize(data_dir: Path, environ: Mapping[str, str], *, database_url: str | None = None,
               alias: str | None = None, region: str = DEFAULT_REGION,
               clock: Clock | None = None, ids: IdGenerator | None = None,
               root_key: RootKey | None = None) -> Bootstrap | None:
    """Create the root key (unless the environment supplies one), the schema and the account;
    None when the store already holds an account (nothing is changed then). A `root_key`
    given is used instead of the environment's or a key file, and no key file is written."""
    clock, ids = clock or SystemClock(), ids or RandomIds()
    sealer = Sealer(root_key) if root_key is not None else _sealer(data_dir, environ, create=True)
    if database_url is None:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # SQLite gives its -wal and -shm files the database file's mode: 0600 for all three.
        (data_dir / SQLITE_FILE_NAME).touch(mode=0o600)
    store = open_store(database_url, data_dir)
    try:
        migrate(store)
        env = _env(sealer, clock, ids)
        with store.transaction() as tx:
            tx.lock("account-bootstrap")
            if find_account(tx) is not None:
                return None
            password = ids.token(ROOT_PASSWORD_LENGTH)
            return create_account(tx, env, alias=alias or "", region=region,
                                  password_hash=hash_password(password), root_password=password)
    finally:
        store.close()


def open_runtime(data_dir: Path, environ: Mapping[str, str], *, database_url: str | None = None,
                 clock: Clock | None = None, ids: IdGenerator | None = None,
                 root_key: RootKey | None = None) -> Runtime:
    """Everything `serve` needs, from an initialized data dir or database; with the
    `root_key` given, else the environment's or the key file's."""
    clock, ids = clock or SystemClock(), ids or RandomIds()
    sealer = Sealer(root_key) if root_key is not None else _sealer(data_dir, environ,
                                                                   create=False)
    store = open_store(database_url, data_dir)
    try:
        migrate(store)
        with store.transaction() as tx:
            account = find_account(tx)
        if account is None:
            raise NotInitialized("no account in this store yet; run `ramparts init` first")
        env = _env(sealer, clock, ids)
        with store.transaction() as tx:
            if not root_key_opens_the_store(tx, env, account):
                raise KeyringError(
                    f"the root key (key id {sealer.key_id.hex()}) is not the one this "
                    "account's values were sealed with; start with the original key file or "
                    f"{ROOT_KEY_ENV}")
        trail_index = open_trail_index(database_url, data_dir, store)
    except BaseException:
        store.close()
        raise
    env = _env(sealer, clock, ids, trail_index if trail_index is not store else None)
    pipeline = Pipeline(store, env, default_registry(), account, Redactor(sealer.redaction_key))
    return Runtime(store, trail_index, env, account, pipeline, data_dir, database_url)
