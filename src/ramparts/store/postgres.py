"""The shared store: PostgreSQL through psycopg 3, for several server replicas on one database."""

from __future__ import annotations

import hashlib
import queue
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ramparts.store.base import (
    CommitCallbacks,
    ConflictError,
    Row,
    StoreError,
    checked_names,
)
from ramparts.store.migrations import migrate

__all__ = ["PostgresStore"]

_PLACEHOLDER = re.compile(r"\?")


def _translate(sql: str) -> str:
    """`?` placeholders (the portable form) to psycopg's `%s`."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


class _PostgresTransaction(CommitCallbacks):
    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        super().__init__()
        self._connection = connection
        self.memo: dict[str, Any] = {}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._connection.execute(_translate(sql), tuple(params)).rowcount
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(str(exc)) from exc
        except psycopg.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        target = checked_names(table, columns)
        try:
            with self._connection.cursor() as cursor, \
                    cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(str(exc)) from exc
        except psycopg.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._connection.execute(_translate(sql), tuple(params)).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def lock(self, name: str) -> None:
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.execute("SELECT pg_advisory_xact_lock(?)", (key,))


class PostgresStore:
    """A small pool of connections; each transaction holds one connection."""

    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self._url = url
        self._pool: queue.LifoQueue[psycopg.Connection[Row]] = queue.LifoQueue()
        try:
            for _ in range(pool_size):
                self._pool.put(psycopg.connect(url, row_factory=dict_row, autocommit=False))
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        migrate(self)

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTransaction]:
        connection = self._pool.get()
        try:
            if connection.closed or connection.broken:
                connection = psycopg.connect(self._url, row_factory=dict_row, autocommit=False)
            try:
                with connection.transaction():
                    tx = _PostgresTransaction(connection)
                    yield tx
                    tx.prepare_commit()
            except psycopg.Error as exc:
                raise StoreError(f"transaction failed: {exc}") from exc
        finally:
            self._pool.put(connection)

    def reading(self) -> AbstractContextManager[_PostgresTransaction]:
        """A transaction that only reads (PostgreSQL's readers never wait for writers)."""
        return self.transaction()

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get().close()
