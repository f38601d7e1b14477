"""Opening the store a configuration names: a SQLite file, or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

from ramparts.store.base import Store, StoreError

__all__ = ["SQLITE_FILE_NAME", "TRAIL_INDEX_SUFFIX", "open_store", "open_trail_index"]

SQLITE_FILE_NAME = "ramparts.db"
TRAIL_INDEX_SUFFIX = "-trail-index.db"  # beside the SQLite database: ramparts-trail-index.db


def open_store(database_url: str | None, data_dir: Path) -> Store:
    """PostgreSQL for `postgresql://...`, SQLite for `sqlite:///path`, else SQLITE_FILE_NAME in
    the data dir."""
    if database_url is None:
        from ramparts.store.sqlite import SQLiteStore

        return SQLiteStore(data_dir / SQLITE_FILE_NAME)
    if database_url.startswith(("postgresql://", "postgres://")):
        from ramparts.store.postgres import PostgresStore

        return PostgresStore(database_url)
    if database_url.startswith("sqlite:///"):
        from ramparts.store.sqlite import SQLiteStore

        return SQLiteStore(database_url.removeprefix("sqlite:///"))
    raise StoreError(
        f"unsupported database URL {database_url.split(':', 1)[0]!r}: use postgresql://... or "
        "sqlite:///path"
    )


def open_trail_index(database_url: str | None, data_dir: Path, store: Store) -> Store:
    """The store of the trail's lookup index for the `store` opened from the same arguments:
    `store` itself on PostgreSQL, a file of its own beside a SQLite database (its writes then
    never wait for the calls' writes, nor theirs for its)."""
    from ramparts.store.migrations import TRAIL_INDEX, migrate

    if store.dialect != "sqlite":
        migrate(store, TRAIL_INDEX)
        return store
    from ramparts.store.sqlite import SQLiteStore

    database = (data_dir / SQLITE_FILE_NAME if database_url is None
                else Path(database_url.removeprefix("sqlite:///")))
    path = database.with_name(database.stem + TRAIL_INDEX_SUFFIX)
    path.touch(mode=0o600)  # as the database: SQLite gives its -wal and -shm files this mode
    return SQLiteStore(path, TRAIL_INDEX, durable=False)
