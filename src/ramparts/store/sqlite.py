"""The embedded store: one SQLite database file in WAL mode, durable on every commit, with group
commit (several calls' transactions made durable by one commit)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ramparts.store.base import (
    CommitCallbacks,
    ConflictError,
    Row,
    StoreError,
    checked_names,
)
from ramparts.store.migrations import MAIN, Schema, migrate

__all__ = ["CommitGroup", "SQLiteStore"]

CACHE_KIB = 64 * 1024
CHECKPOINT_PAGES = 10_000


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {description[0]: value for description, value in zip(cursor.description, row,
                                                                  strict=True)}


class _SQLiteTransaction(CommitCallbacks):
    def __init__(self, connection: sqlite3.Connection, *, reading: bool = False) -> None:
        super().__init__()
        self._connection, self._reading = connection, reading
        self.memo: dict[str, Any] = {}

    def before_commit(self, callback: Callable[[], object]) -> None:
        if self._reading:
            raise StoreError("store error: a reading transaction commits nothing")
        super().before_commit(callback)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._connection.execute(sql, tuple(params)).rowcount
        except sqlite3.IntegrityError as exc:
            raise ConflictError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        target = checked_names(table, columns)
        marks = ", ".join("?" * len(columns))
        try:
            self._connection.executemany(f"INSERT INTO {target} VALUES ({marks})",  # noqa: S608
                                         rows)
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


class CommitGroup:
    """One SQLite transaction that the transactions of several calls join as savepoints.

    While the group is open, every `transaction()` opened by the thread that opened the group
    is a savepoint: it rolls back alone if it fails, and its writes become durable with the
    group's `commit`, one fsync for all of them. Whoever runs a group answers none of its calls
    before `commit` returns. Once the opening thread has called `seal`, `commit` may run on
    another thread, so that the opening thread can go on while the commit reaches the disk;
    other threads' transactions, and those opened after `seal`, wait until the group ends.

    If SQLite loses the group's transaction midway (it rolls back a whole transaction on some
    I/O errors), the group is `broken`: its remaining savepoints fail and `commit` refuses, so
    that no call is answered as if its writes were kept.
    """

    def __init__(self, connection: sqlite3.Connection, lock: threading.Lock,
                 on_end: Callable[[], None]) -> None:
        self._connection, self._lock, self._on_end = connection, lock, on_end
        self._thread = threading.get_ident()
        self._open = True
        self.broken = False

    def joins(self) -> bool:
        """Whether a transaction opened now, by this thread, is a savepoint of the group."""
        return self._open and threading.get_ident() == self._thread

    def _check_alive(self) -> None:
        """Raise StoreError (and mark the group broken) if its transaction is gone."""
        if not self._connection.in_transaction:
            self.broken = True
        if self.broken:
            raise StoreError("the transaction of this commit group was lost")

    @contextmanager
    def savepoint(self) -> Iterator[_SQLiteTransaction]:
        self._check_alive()
        # One name for every savepoint, so SQLite prepares these statements once; a nested
        # transaction still releases or rolls back its own (the innermost of that name).
        try:
            self._connection.execute("SAVEPOINT call")
        except sqlite3.Error as exc:
            self.broken = True
            raise StoreError(f"cannot begin a transaction: {exc}") from exc
        tx = _SQLiteTransaction(self._connection)
        try:
            yield tx
            tx.prepare_commit()
        except BaseException:
            self._undo()
            raise
        self._check_alive()
        try:
            self._connection.execute("RELEASE call")
        except sqlite3.Error as exc:
            self.broken = True
            raise StoreError(f"commit failed: {exc}") from exc

    def _undo(self) -> None:
        if not self._connection.in_transaction:
            self.broken = True
            return
        try:
            self._connection.execute("ROLLBACK TO call")
            self._connection.execute("RELEASE call")
        except sqlite3.Error:
            self.broken = True

    def seal(self) -> None:
        """Let no more transactions join: from now on they wait for the group to end."""
        self._open = False

    def commit(self) -> None:
        """Make every savepoint released in the group durable (one fsync), or raise StoreError
        having kept none of them."""
        self.seal()
        try:
            self._check_alive()
            try:
                self._connection.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"commit failed: {exc}") from exc
        except BaseException:
            self._rollback()
            raise
        finally:
            self._end()

    def rollback(self) -> None:
        """Keep nothing of the group."""
        self.seal()
        try:
            self._rollback()
        finally:
            self._end()

    def _rollback(self) -> None:
        if self._connection.in_transaction:
            # Nothing was committed; if even the rollback fails, SQLite ends the transaction.
            with suppress(sqlite3.Error):
                self._connection.execute("ROLLBACK")

    def _end(self) -> None:
        self._on_end()
        self._lock.release()


class SQLiteStore:
    """One connection guarded by a lock: SQLite allows one writer, and requests are short."""

    dialect = "sqlite"

    def __init__(self, path: Path | str, schema: Schema = MAIN, *, durable: bool = True
                 ) -> None:
        """`durable=False` is for a file whose content can be derived again (the trail
        index): a commit is not waited for on disk, and a crash may lose the latest ones."""
        self._path = str(path)
        try:
            self._connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._connection.row_factory = _dict_row
            self._connection.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit reaches the disk before the call is answered, so an answered call
            # survives a crash of the process or of the machine.
            self._connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._connection.execute("PRAGMA foreign_keys=ON")
            # The trail's indexes outgrow SQLite's 2 MB default cache at a few hundred thousand
            # events; 64 MB keeps their inner pages in memory. Checkpointing every 10,000 pages
            # instead of 1,000 moves pages back from the WAL in fewer, larger batches.
            self._connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self._path}: {exc}") from exc
        self._lock = threading.Lock()
        self._group: CommitGroup | None = None
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()
        migrate(self, schema)

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteTransaction]:
        """A transaction of its own; within a commit group opened by this thread, a savepoint
        of the group's transaction instead, durable when the group commits."""
        group = self._group
        if group is not None and group.joins():
            with group.savepoint() as tx:
                yield tx
            return
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot begin a transaction: {exc}") from exc
            tx = _SQLiteTransaction(self._connection)
            try:
                yield tx
                tx.prepare_commit()
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            try:
                self._connection.execute("COMMIT")
            except sqlite3.Error as exc:
                self._connection.execute("ROLLBACK")
                raise StoreError(f"commit failed: {exc}") from exc

    def open_group(self) -> CommitGroup:
        """Begin a commit group (see CommitGroup); the caller must end it with `commit` or
        `rollback`. Waits while another thread's transaction or group is open."""
        self._lock.acquire()
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._lock.release()
            raise StoreError(f"cannot begin a transaction: {exc}") from exc
        group = CommitGroup(self._connection, self._lock, self._forget_group)
        self._group = group
        return group

    def _forget_group(self) -> None:
        self._group = None

    @contextmanager
    def reading(self) -> Iterator[_SQLiteTransaction]:
        """A transaction that only reads, on a connection of its own: it sees one snapshot
        (WAL), and neither waits for the writer nor holds it up."""
        with self._reader_lock:
            if self._reader is None:
                try:
                    self._reader = sqlite3.connect(self._path, isolation_level=None,
                                                   check_same_thread=False, timeout=30.0)
                    self._reader.row_factory = _dict_row
                    self._reader.execute("PRAGMA query_only=ON")
                    self._reader.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
                except sqlite3.Error as exc:
                    raise StoreError(f"cannot open the database {self._path}: {exc}") from exc
            reader = self._reader
            try:
                reader.execute("BEGIN")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot begin a transaction: {exc}") from exc
            try:
                yield _SQLiteTransaction(reader, reading=True)
            finally:
                with suppress(sqlite3.Error):
                    reader.execute("ROLLBACK")  # nothing to keep: it only read

    def close(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        with self._lock:
            self._connection.close()
