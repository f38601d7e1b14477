"""The trail indexer, on SQLite and PostgreSQL: it follows the chain in batches, keeps nothing
of a failed batch, starts over when its watermark is not an event of the chain, takes turns
with another replica's indexer, and reads events written before the index existed."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ramparts.core.clock import FrozenClock
from ramparts.services.actiontrail.lookup import LookupQuery, TrailSearch, window
from ramparts.services.actiontrail.recorder import record_event
from ramparts.services.actiontrail.trail_index import (
    TrailIndexer,
    indexed_upto,
    lookup_transactions,
)
from ramparts.store.base import Row, Store, StoreError, Transaction
from ramparts.store.factory import open_store, open_trail_index
from tests.conftest import PostgresDatabases
from tests.services.actiontrail.test_lookup import ACCOUNT, Recording, _record

FILTERS: list[dict[str, str]] = [
    {}, {"User": "alice"}, {"EventName": "CreateAccessKey"}, {"ResourceName": "shared"},
    {"ResourceName": "shared", "ResourceType": "ACS::RAM::Group"},
    {"EventRW": "Write", "User": "bob"}, {"EventId": "EVENT-000042-1"},
]


@dataclass
class Stores:
    """The events' store and the trail index's (one store on PostgreSQL)."""

    events: Store
    index: Store

    def transactions(self) -> AbstractContextManager[tuple[Transaction, Transaction]]:
        return lookup_transactions(self.events, self.index)

    def indexer(self, batch: int = 1000) -> TrailIndexer:
        return TrailIndexer(self.events, self.index, batch=batch)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    url = None
    if request.param == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    opened = open_store(url, tmp_path)
    index = open_trail_index(url, tmp_path, opened)
    yield Stores(opened, index)
    if index is not opened:
        index.close()
    opened.close()


def _append(store: Stores, clock: FrozenClock, first: int, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with store.events.transaction() as tx:
        for number in range(first, first + count):
            clock.advance(timedelta(seconds=rng.choice([0, 1])))
            record_event(tx, _record(rng, number, clock.now(), ACCOUNT))


def _ids(store: Stores, clock: FrozenClock, filters: dict[str, str]) -> list[str]:
    """Every event id a paged lookup finds, in page order."""
    start, end = window(clock.now(), None, None)
    query = LookupQuery(ACCOUNT, start, end, filters, True, 7,
                        LookupQuery.fingerprint_of(ACCOUNT, filters, True, "", ""))
    found: list[str] = []
    after = None
    with store.transactions() as (events, index):
        search = TrailSearch(events, index, ACCOUNT)
        while True:
            page = search.page(query, after)
            found += [event["eventId"] for event in page.events]
            if page.next_cursor is None:
                return found
            after = page.next_cursor


def _answers(store: Stores, clock: FrozenClock) -> list[list[str]]:
    return [_ids(store, clock, filters) for filters in FILTERS]


def _upto(store: Stores) -> int:
    with store.transactions() as (events, index):
        return indexed_upto(index, events)


def _count(store: Stores, table: str) -> int:
    with store.index.transaction() as tx:
        row = tx.query_one(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 (fixed names)
    assert row is not None
    return int(row["n"])


def test_the_indexer_follows_the_chain_in_batches(store: Stores) -> None:
    clock = FrozenClock()
    _append(store, clock, 0, 250)
    expected = _answers(store, clock)  # nothing indexed: every event checked one by one
    assert all(expected[:-1]), "each filter should match some events"
    indexer = store.indexer(batch=100)
    assert [indexer.catch_up() for _ in range(4)] == [100, 100, 50, 0]
    assert _upto(store) == 250
    assert _answers(store, clock) == expected
    _append(store, clock, 250, 30, seed=2)
    expected = _answers(store, clock)
    assert indexer.catch_up_fully() == 30
    assert _answers(store, clock) == expected
    # one posting per term of each event, one event id each: nothing twice
    assert _count(store, "trail_event_ids") == 280


class _NoBulkWrites(Recording):
    """A transaction whose bulk writes fail (a full disk, a lost connection)."""

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        raise StoreError("store error: disk I/O error")


class _FailingBulkWrites:
    """The store, but every bulk write of its transactions fails."""

    def __init__(self, store: Store) -> None:
        self.dialect, self._store = store.dialect, store

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._store.transaction() as tx:
            yield _NoBulkWrites(tx)

    def reading(self) -> AbstractContextManager[Transaction]:
        return self._store.reading()

    def close(self) -> None:
        self._store.close()


def test_a_failed_batch_keeps_nothing_and_the_next_one_starts_where_it_was(store: Stores) -> None:
    clock = FrozenClock()
    _append(store, clock, 0, 120)
    expected = _answers(store, clock)
    indexer = store.indexer(batch=50)
    assert indexer.catch_up() == 50
    indexer.index = _FailingBulkWrites(store.index)
    with pytest.raises(StoreError):
        indexer.catch_up()
    assert _upto(store) == 50
    assert _count(store, "trail_event_ids") == 50
    # the term ids that failed batch created were rolled back, and are not reused from memory
    indexer.index = store.index
    assert indexer.catch_up_fully() == 70
    assert _answers(store, clock) == expected


def test_an_index_ahead_of_its_chain_is_built_again(store: Stores) -> None:
    """A store restored from a backup older than the index: the events after the backup are
    other events now, and the index starts over rather than find them by old terms."""
    clock = FrozenClock()
    _append(store, clock, 0, 200)
    indexer = store.indexer(batch=1000)
    indexer.catch_up_fully()
    with store.events.transaction() as tx:  # the backup held 120; then other calls came
        tx.execute("DELETE FROM trail_events WHERE seq > 120")
    _append(store, clock, 1000, 100, seed=9)
    expected = _answers(store, clock)
    assert indexer.catch_up_fully() == 220
    assert _answers(store, clock) == expected
    assert _count(store, "trail_event_ids") == 220
    with store.index.transaction() as tx:
        state = tx.query_one("SELECT generation FROM trail_index_state")
    assert state is not None
    assert state["generation"] == 2


def test_two_replicas_indexers_take_turns(store: Stores) -> None:
    clock = FrozenClock()
    first, second = store.indexer(batch=40), store.indexer(batch=40)
    for round_number in range(5):
        _append(store, clock, round_number * 60, 60, seed=round_number)
        (first if round_number % 2 else second).catch_up()
        (second if round_number % 2 else first).catch_up()
    expected = _answers(store, clock)
    first.catch_up_fully()
    second.catch_up_fully()
    assert _upto(store) == 300
    assert _count(store, "trail_event_ids") == 300
    assert _answers(store, clock) == expected


def test_events_written_before_the_index_are_found_by_their_resources(store: Stores) -> None:
    """Migration 5 keeps older events with no resources column: their bodies say."""
    clock = FrozenClock()
    _append(store, clock, 0, 150)
    expected = _answers(store, clock)
    with store.events.transaction() as tx:
        tx.execute("UPDATE trail_events SET resources = NULL")
    assert _answers(store, clock) == expected
    store.indexer().catch_up_fully()
    assert _answers(store, clock) == expected


def test_the_migration_keeps_every_event_and_its_chain(tmp_path: Path) -> None:
    """A version 4 database (the lookup columns of migration 3, a resources table) becomes a
    version 5 one holding the same events, chained as before, found as before."""
    import sqlite3

    from ramparts.services.actiontrail.recorder import first_break
    from ramparts.store.migrations import MIGRATIONS, TRAIL_INDEX
    from ramparts.store.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    old = Stores(SQLiteStore(path), SQLiteStore(tmp_path / "old-index.db", TRAIL_INDEX))
    clock = FrozenClock()
    _append(old, clock, 0, 80)
    expected = _answers(old, clock)
    with old.events.transaction() as tx:
        rows: list[Row] = tx.query("SELECT seq, event_id, account_id, event_time, event_name, "
                                   "event_rw, service_name, principal_name, access_key_id, "
                                   "error_code, body, prev_hash, hash, source_ip, event_type, "
                                   "role_name FROM trail_events ORDER BY seq")
    old.events.close()
    old.index.close()
    path.unlink()
    # the same events in a database built by migrations 1 to 4
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, "
                       "description TEXT NOT NULL)")
    for version, description, statements in MIGRATIONS[:4]:
        for statement in statements:
            connection.execute(statement)
        connection.execute("INSERT INTO schema_migrations VALUES (?, ?)",
                           (version, description))
    columns = list(rows[0])
    connection.executemany(
        f"INSERT INTO trail_events ({', '.join(columns)}) "  # noqa: S608 (fixed names)
        f"VALUES ({', '.join('?' * len(columns))})", [tuple(row.values()) for row in rows])
    for row in rows:
        body = json.loads(row["body"])
        for kind, names in body["referencedResources"].items():
            connection.executemany(
                "INSERT INTO trail_event_resources VALUES (?, ?, ?, ?, ?)",
                [(row["account_id"], name, row["event_time"], row["seq"], kind)
                 for name in names])
    connection.close()
    migrated = Stores(SQLiteStore(path), SQLiteStore(tmp_path / "index.db", TRAIL_INDEX))
    try:
        with migrated.events.transaction() as tx:
            assert first_break(tx) is None
            assert len(tx.query("SELECT seq FROM trail_events")) == 80
        assert _answers(migrated, clock) == expected
        migrated.indexer().catch_up_fully()
        assert _answers(migrated, clock) == expected
    finally:
        migrated.events.close()
        migrated.index.close()


def test_resource_names_are_matched_exactly_whatever_their_characters(store: Stores) -> None:
    """LIKE narrows the unindexed events down; the match itself is exact and case-sensitive,
    so names with LIKE's wildcards or another case are not found for each other."""
    names = ["report_1", "report%1", "REPORT_1", "reportx1", 'quote"d', "back\\slash"]
    rng, clock = random.Random(3), FrozenClock()
    with store.events.transaction() as tx:
        for number, name in enumerate(names):
            record = replace(_record(rng, 500 + number, clock.now(), ACCOUNT),
                             resources=[("ACS::RAM::User", name)])
            record_event(tx, record)

    def found(name: str) -> list[str]:
        return _ids(store, clock, {"ResourceName": name})

    unindexed = {name: found(name) for name in names}
    assert all(len(ids) == 1 for ids in unindexed.values()), unindexed
    assert found("report") == []
    store.indexer().catch_up_fully()
    assert {name: found(name) for name in names} == unindexed
