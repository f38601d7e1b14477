"""The embedded store: one SQLite database file in WAL mode, durable on every commit."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ramparts.store.base import ConflictError, Row, StoreError
from ramparts.store.migrations import migrate

__all__ = ["SQLiteStore"]


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {description[0]: value for description, value in zip(cursor.description, row,
                                                                  strict=True)}


class _SQLiteTransaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._connection.execute(sql, tuple(params)).rowcount
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return list(self._connection.execute(sql, tuple(params)).fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def lock(self, name: str) -> None:
        """SQLite has one writer at a time (BEGIN IMMEDIATE), so every lock is already held."""


class SQLiteStore:
    """One connection guarded by a lock: SQLite allows one writer, and requests are short."""

    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        try:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._connection.row_factory = _dict_row
            self._connection.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit reaches the disk before the call is answered, so an answered call
            # survives a crash of the process or of the machine.
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self._path}: {exc}") from exc
        self._lock = threading.Lock()
        migrate(self)

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteTransaction]:
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot begin a transaction: {exc}") from exc
            try:
                yield _SQLiteTransaction(self._connection)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            try:
                self._connection.execute("COMMIT")
            except sqlite3.Error as exc:
                self._connection.execute("ROLLBACK")
                raise StoreError(f"commit failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._connection.close()
