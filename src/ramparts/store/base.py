"""The store interface: transactions of parameterized SQL over one portable schema."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ramparts.core.errors import RampartsError

__all__ = ["ConflictError", "Row", "Store", "StoreError", "Transaction"]

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

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once for each row of parameters (a bulk write)."""
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
