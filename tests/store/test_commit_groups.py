"""SQLite commit groups: several transactions made durable by one commit, each still failing
alone, and a group that lost its transaction keeping nothing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.store import ConflictError, StoreError
from ramparts.store.sqlite import SQLiteStore

DATABASE = "groups.db"
NONCE_SQL = "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / DATABASE)
    yield opened
    opened.close()


def _add(store: SQLiteStore, nonce: str) -> None:
    with store.transaction() as tx:
        tx.execute(NONCE_SQL, (nonce, "z"))


def _add_then_fail(store: SQLiteStore, nonce: str) -> None:
    with store.transaction() as tx:
        tx.execute(NONCE_SQL, (nonce, "z"))
        raise RuntimeError("the call failed after its write")


def _committed(tmp_path: Path) -> set[str]:
    """What another connection sees: only committed rows."""
    reader = sqlite3.connect(tmp_path / DATABASE)
    try:
        return {row[0] for row in reader.execute("SELECT nonce FROM nonces")}
    finally:
        reader.close()


def test_a_group_makes_its_transactions_durable_together(store: SQLiteStore,
                                                         tmp_path: Path) -> None:
    group = store.open_group()
    _add(store, "a")
    _add(store, "b")
    assert _committed(tmp_path) == set()  # released savepoints are not committed yet
    group.commit()
    assert _committed(tmp_path) == {"a", "b"}


def test_a_failing_transaction_rolls_back_alone(store: SQLiteStore, tmp_path: Path) -> None:
    group = store.open_group()
    _add(store, "kept-1")
    with pytest.raises(RuntimeError):
        _add_then_fail(store, "dropped")
    with pytest.raises(ConflictError):
        _add(store, "kept-1")
    _add(store, "kept-2")
    group.commit()
    assert _committed(tmp_path) == {"kept-1", "kept-2"}
    assert not group.broken


def test_a_nested_transaction_rolls_back_only_itself(store: SQLiteStore, tmp_path: Path) -> None:
    group = store.open_group()
    with store.transaction() as outer:
        outer.execute(NONCE_SQL, ("outer", "z"))
        with pytest.raises(RuntimeError):
            _add_then_fail(store, "inner")
    group.commit()
    assert _committed(tmp_path) == {"outer"}


def test_a_rolled_back_group_keeps_nothing(store: SQLiteStore, tmp_path: Path) -> None:
    group = store.open_group()
    _add(store, "gone")
    group.rollback()
    assert _committed(tmp_path) == set()
    _add(store, "after")  # the store works normally once the group has ended
    assert _committed(tmp_path) == {"after"}


def test_a_group_that_lost_its_transaction_refuses_to_commit(store: SQLiteStore,
                                                             tmp_path: Path) -> None:
    group = store.open_group()
    _add(store, "first")
    with pytest.raises(StoreError), store.transaction() as tx:
        tx.execute("ROLLBACK")  # what SQLite does itself on some I/O errors
    assert group.broken
    with pytest.raises(StoreError):  # no later transaction may start a new one silently
        _add(store, "second")
    with pytest.raises(StoreError):
        group.commit()
    assert _committed(tmp_path) == set()
    _add(store, "after")
    assert _committed(tmp_path) == {"after"}


def test_other_threads_wait_for_the_group_and_it_commits_on_another_thread(
        store: SQLiteStore, tmp_path: Path) -> None:
    group = store.open_group()
    _add(store, "grouped")
    seen: list[set[str]] = []

    def other() -> None:
        with store.transaction() as tx:
            seen.append({row["nonce"] for row in tx.query("SELECT nonce FROM nonces")})
            tx.execute(NONCE_SQL, ("other", "z"))

    waiting = threading.Thread(target=other)
    waiting.start()
    waiting.join(timeout=0.3)
    assert waiting.is_alive(), "another thread's transaction must wait for the group"
    group.seal()
    assert not group.joins()
    committer = threading.Thread(target=group.commit)
    committer.start()
    committer.join(timeout=10)
    waiting.join(timeout=10)
    assert seen == [{"grouped"}]
    assert _committed(tmp_path) == {"grouped", "other"}


def _add_with_failing_callback(store: SQLiteStore, nonce: str) -> None:
    with store.transaction() as tx:
        tx.execute(NONCE_SQL, (nonce, "z"))

        def fail() -> None:
            raise StoreError("store error: the callback's write failed")

        tx.before_commit(fail)


def test_a_failing_before_commit_callback_rolls_back_its_savepoint_alone(
        store: SQLiteStore, tmp_path: Path) -> None:
    group = store.open_group()
    _add(store, "kept")
    with pytest.raises(StoreError, match="callback"):
        _add_with_failing_callback(store, "dropped")
    with store.transaction() as tx:  # a savepoint's callbacks run before its release
        tx.before_commit(lambda: tx.execute(NONCE_SQL, ("written-by-callback", "z")))
    group.commit()
    assert _committed(tmp_path) == {"kept", "written-by-callback"}
