"""The store contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.store import ConflictError, Store, StoreError, open_store
from ramparts.store.migrations import MIGRATIONS, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(None, tmp_path)
    else:
        url = request.getfixturevalue("postgres_url")
        opened = open_store(url, tmp_path)
        with opened.transaction() as tx:
            for table in ("trail_events", "nonces", "accounts"):
                tx.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    yield opened
    opened.close()


def _account(store: Store, account_id: str = "1") -> None:
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)", (account_id, "a", "cn-hangzhou", "2026-01-01T00:00:00Z"))


def test_migrations_are_applied_once(store: Store) -> None:
    assert migrate(store) == MIGRATIONS[-1][0]
    with store.transaction() as tx:
        rows = tx.query("SELECT version FROM schema_migrations ORDER BY version")
    assert [row["version"] for row in rows] == [m[0] for m in MIGRATIONS]


def test_commit_and_rows_as_dicts(store: Store) -> None:
    _account(store)
    with store.transaction() as tx:
        row = tx.query_one("SELECT account_id, alias FROM accounts WHERE account_id = ?", ("1",))
    assert row == {"account_id": "1", "alias": "a"}


def _write_then_fail(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)", ("2", "b", "cn-hangzhou", "2026-01-01T00:00:00Z"))
        raise RuntimeError("the request failed after its write")


def test_rollback_on_error_keeps_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(store)
    with store.transaction() as tx:
        assert tx.query_one("SELECT * FROM accounts WHERE account_id = ?", ("2",)) is None


def test_unique_violation_is_a_conflict(store: Store) -> None:
    _account(store)
    with pytest.raises(ConflictError):
        _account(store)
    with store.transaction() as tx:  # the store still works afterwards
        assert tx.query_one("SELECT count(*) AS n FROM accounts") == {"n": 1}


def test_bad_sql_is_a_store_error(store: Store) -> None:
    with store.transaction() as tx, pytest.raises(StoreError):
        tx.query("SELECT * FROM no_such_table")


def test_percent_signs_in_values_survive(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", ("50%?x", "z"))
        assert tx.query_one("SELECT nonce FROM nonces WHERE nonce LIKE ?", ("50%",)) == {
            "nonce": "50%?x"}


def test_named_lock_serializes_transactions(store: Store) -> None:
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with store.transaction() as tx:
            tx.lock("chain")
            order.append("first-in")
            inside.set()
            release.wait(5)
            order.append("first-out")

    def second() -> None:
        inside.wait(5)
        with store.transaction() as tx:
            tx.lock("chain")
            order.append("second-in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first-in", "first-out", "second-in"]


def test_a_reading_transaction_neither_waits_for_a_writer_nor_sees_its_writes(
        store: Store) -> None:
    _account(store, "1")
    writing, read = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def reader() -> None:
        writing.wait(5)
        with store.reading() as tx:  # the writer's transaction is open meanwhile
            seen.append([row["account_id"] for row in tx.query("SELECT account_id FROM accounts")])
        read.set()

    thread = threading.Thread(target=reader)
    thread.start()
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)", ("2", "b", "cn-hangzhou", "2026-01-01T00:00:00Z"))
        writing.set()
        assert read.wait(5), "the reading transaction waited for the writer"
    thread.join(5)
    assert seen == [["1"]]
    with store.reading() as tx:
        assert sorted(row["account_id"] for row in tx.query("SELECT account_id FROM accounts")) \
            == ["1", "2"]


def test_a_sqlite_reading_transaction_cannot_write(tmp_path: Path) -> None:
    """It reads on a connection of its own, opened read-only (PostgreSQL's reading
    transaction is an ordinary one)."""
    store = open_store(None, tmp_path)
    _account(store, "1")
    with pytest.raises(StoreError), store.reading() as tx:
        tx.execute("DELETE FROM accounts")
    with pytest.raises(StoreError, match="commits nothing"), store.reading() as tx:
        tx.before_commit(lambda: None)
    with store.reading() as tx:
        assert tx.query("SELECT account_id FROM accounts") == [{"account_id": "1"}]
    store.close()


def test_before_commit_callbacks_run_in_order_inside_the_transaction(store: Store) -> None:
    _account(store, "1")
    ran: list[str] = []
    with store.transaction() as tx:
        tx.before_commit(lambda: ran.append("first"))
        tx.before_commit(lambda: tx.execute("UPDATE accounts SET alias = ? WHERE "
                                            "account_id = ?", ("by-callback", "1")))
        tx.before_commit(lambda: ran.append("third"))
        assert ran == []
    assert ran == ["first", "third"]
    with store.transaction() as tx:
        assert tx.query_one("SELECT alias FROM accounts") == {"alias": "by-callback"}


def test_a_failing_before_commit_callback_rolls_the_transaction_back(store: Store) -> None:
    def fail() -> None:
        raise StoreError("store error: the bulk write failed")

    def write_then_fail_at_commit() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                       "VALUES (?, ?, ?, ?)",
                       ("9", "lost", "cn-hangzhou", "2026-01-01T00:00:00Z"))
            tx.before_commit(fail)

    with pytest.raises(StoreError, match="bulk write"):
        write_then_fail_at_commit()
    with store.transaction() as tx:
        assert tx.query("SELECT account_id FROM accounts") == []


def test_unknown_database_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported database URL 'mysql'"):
        open_store("mysql://x", tmp_path)
