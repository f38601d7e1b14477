"""Transactional persistence behind one interface: SQLite (embedded) and PostgreSQL (shared)."""

from ramparts.store.base import ConflictError, Row, Store, StoreError, Transaction
from ramparts.store.factory import open_store

__all__ = ["ConflictError", "Row", "Store", "StoreError", "Transaction", "open_store"]
