"""Opening the store a configuration names: a SQLite file, or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

from ramparts.store.base import Store, StoreError

__all__ = ["SQLITE_FILE_NAME", "open_store"]

SQLITE_FILE_NAME = "ramparts.db"


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
