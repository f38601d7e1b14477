"""The store interface: transactions of parameterized SQL over one portable schema."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ramparts.core.errors import RampartsError

__all__ = [
    "CommitCallbacks", "ConflictError", "Row", "Store", "StoreError", "Transaction",
    "checked_names",
]

Row = dict[str, Any]


class StoreError(RampartsError):
    """The store could not do what was asked; the transaction was rolled back."""


class ConflictError(StoreError):
    """A uniqueness constraint refused a write (the row already exists)."""


class Transaction(Protocol):
    """One transaction. SQL uses `?` placeholders on every backend.

    `memo` holds what a caller learned inside this transaction and may reuse in it (the
    trail's chain head): it is gone with the transaction, committed or not.
    """

    memo: dict[str, Any]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        """Insert many rows at once (a bulk write: PostgreSQL's COPY). `table` and `columns`
        are names from the code, never from a request."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        ...

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        ...

    def lock(self, name: str) -> None:
        """Serialize with every other transaction that takes the same named lock, until commit.

        Used where order matters across server replicas (the trail's hash chain).
        """
        ...

    def before_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` in this transaction just before it commits (callbacks in the order
        given); if one raises, the transaction rolls back and the error propagates. Lets a
        writer gather rows and write them together (the trail's events)."""
        ...


_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}", re.ASCII)


def checked_names(table: str, columns: Sequence[str]) -> str:
    """`table (column, ...)` for a bulk insert, refusing anything but plain lowercase names."""
    for name in (table, *columns):
        if _NAME.fullmatch(name) is None:
            raise StoreError(f"store error: {name[:64]!r} is not a table or column name")
    if not columns:
        raise StoreError("store error: a bulk insert needs its columns")
    return f"{table} ({', '.join(columns)})"


class CommitCallbacks:
    """The before-commit callbacks of a store's transaction: `before_commit` for its callers,
    `prepare_commit` for the store, just before it commits."""

    def __init__(self) -> None:
        self._before_commit: list[Callable[[], object]] = []

    def before_commit(self, callback: Callable[[], object]) -> None:
        self._before_commit.append(callback)

    def prepare_commit(self) -> None:
        callbacks, self._before_commit = self._before_commit, []
        for callback in callbacks:
            callback()


class Store(Protocol):
    dialect: str

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        ...

    def reading(self) -> AbstractContextManager[Transaction]:
        """A transaction that only reads: one consistent view, which waits for no writer."""
        ...

    def close(self) -> None:
        ...


def rows_of(cursor_rows: Iterator[Row]) -> list[Row]:
    return list(cursor_rows)
