"""The trail's lookup index, built behind the chain in bulk: the terms an event is found by, and
the indexer that writes their postings.

Appends write only the chained event row; the indexer reads the events after its watermark a
batch at a time and writes, in one transaction, a posting per term of each event and the new
watermark. LookupEvents reads the postings up to the watermark and checks the few events after
it with `terms_of` itself, so every committed event is found whether or not it is indexed yet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ramparts.services.actiontrail.recorder import GENESIS_HASH
from ramparts.store.base import Row, Store, Transaction

__all__ = [
    "EVERY_EVENT",
    "INDEXED_KEYS",
    "INDEX_LOCK",
    "RESOURCE",
    "TERM_COLUMNS",
    "TrailIndexer",
    "event_id_digest",
    "event_second",
    "indexed_upto",
    "lookup_terms",
    "lookup_transactions",
    "resource_term",
    "resources_of",
    "term_ids",
    "terms_of",
]

INDEX_LOCK = "actiontrail-index"
STATE = "postings"
DEFAULT_BATCH = 2000
EVERY_EVENT = ("", "")  # the term every event of an account has

# LookupAttribute keys found through terms -> the trail_events column holding the value.
INDEXED_KEYS: Mapping[str, str] = {
    "EventAccessKeyId": "access_key_id",
    "User": "principal_name",
    "RoleName": "role_name",
    "SourceIpAddress": "source_ip",
    "EventName": "event_name",
    "ServiceName": "service_name",
    "EventType": "event_type",
    "EventRW": "event_rw",
}
# Both resource keys in one lookup mean one resource of that type and name: a term of its own.
RESOURCE = "Resource"

# What the indexer and the lookup's scan read of an event: the body only for events written
# before their resources had a column.
TERM_COLUMNS = ("seq, event_id, account_id, event_time, hash, resources, "
                 + ", ".join(INDEXED_KEYS.values())
                 + ", CASE WHEN resources IS NULL THEN body END AS old_body")


def event_second(event_time: str) -> int:
    """The Unix time of an event's `YYYY-MM-DDTHH:MM:SSZ`."""
    return int(datetime.fromisoformat(event_time).timestamp())


def event_id_digest(event_id: str) -> int:
    return int.from_bytes(hashlib.sha256(event_id.encode("utf-8")).digest()[:8], "big",
                          signed=True)


def resources_of(row: Row) -> list[tuple[str, str]]:
    """The (type, name) pairs an event references, from its column or its body."""
    if row["resources"] is not None:
        return [(str(kind), str(name)) for kind, name in json.loads(str(row["resources"]))]
    referenced = json.loads(str(row["old_body"])).get("referencedResources") or {}
    return [(str(kind), str(name)) for kind, names in referenced.items() for name in names]


def terms_of(row: Row) -> list[tuple[str, str]]:
    """Every (LookupAttribute key, value) the event is found by, once each, with EVERY_EVENT;
    empty values (an anonymous call's user) are not terms."""
    terms = [EVERY_EVENT]
    for key, column in INDEXED_KEYS.items():
        value = row[column]
        if value:
            terms.append((key, str(value)))
    resources = resources_of(row) if row["resources"] != "[]" else []
    if resources:
        extra: dict[tuple[str, str], None] = {}
        for kind, name in resources:
            extra[("ResourceType", kind)] = None
            extra[("ResourceName", name)] = None
            extra[resource_term(kind, name)] = None
        terms += extra
    return terms


def resource_term(kind: str, name: str) -> tuple[str, str]:
    return RESOURCE, json.dumps([kind, name], separators=(",", ":"), ensure_ascii=False)


def lookup_terms(filters: Mapping[str, str]) -> list[tuple[str, str]]:
    """The terms an event must have to meet LookupAttribute filters (EventId aside)."""
    terms = [(key, value) for key, value in filters.items() if key != "EventId"]
    if "ResourceName" in filters and "ResourceType" in filters:
        terms = [term for term in terms if term[0] not in ("ResourceName", "ResourceType")]
        terms.insert(0, resource_term(filters["ResourceType"], filters["ResourceName"]))
    return terms


@contextmanager
def lookup_transactions(events: Store, index: Store) -> Iterator[tuple[Transaction, Transaction]]:
    """Reading transactions of the events and of the index (one, when the index is in the
    events' store)."""
    with events.reading() as events_tx:
        if index is events:
            yield events_tx, events_tx
        else:
            with index.reading() as index_tx:
                yield events_tx, index_tx


def indexed_upto(index: Transaction, events: Transaction) -> int:
    """The last event the postings cover: 0 for none, and while the index is ahead of its
    chain (the indexer has yet to start it over), so that no stale posting is read."""
    state = index.query_one("SELECT seq, hash FROM trail_index_state WHERE name = ?", (STATE,))
    if state is None or not state["seq"]:
        return 0
    event = events.query_one("SELECT hash FROM trail_events WHERE seq = ?", (state["seq"],))
    return int(state["seq"]) if event is not None and event["hash"] == state["hash"] else 0


class TrailIndexer:
    """Writes the postings of the `events` store's events after the watermark into the `index`
    store (the same store on PostgreSQL), `batch` events a transaction.

    Term ids are cached per generation; ids created by a transaction join the cache only once
    it commits. Replicas on one database take turns under INDEX_LOCK.
    """

    def __init__(self, events: Store, index: Store, batch: int = DEFAULT_BATCH) -> None:
        if batch < 1:
            raise ValueError("the batch must hold at least one event")
        self.events, self.index, self.batch = events, index, batch
        self._generation = -1
        self._terms: dict[tuple[str, str, str], int] = {}

    def catch_up(self) -> int:
        """Index one batch; the number of events indexed (0 when the index is current)."""
        created: dict[tuple[str, str, str], int] = {}
        with self.index.transaction() as tx:
            tx.lock(INDEX_LOCK)
            rows = self._next_batch(tx)
            if not rows:
                return 0
            known, postings, digests = self._terms, [], []
            seconds: dict[str, int] = {}
            for row in rows:
                seq, account, time = int(row["seq"]), str(row["account_id"]), row["event_time"]
                second = seconds.get(time)
                if second is None:
                    second = seconds[time] = event_second(str(time))
                for key, value in terms_of(row):
                    term = (account, key, value)
                    term_id = known.get(term) or created.get(term) or \
                        self._new_term(tx, created, term)
                    postings.append((term_id, second, seq))
                digests.append((event_id_digest(str(row["event_id"])), seq))
            postings.sort()  # in key order: each page of the index is written once
            digests.sort()
            tx.insert_rows("trail_postings", ("term_id", "event_second", "seq"), postings)
            tx.insert_rows("trail_event_ids", ("digest", "seq"), digests)
            last = rows[-1]
            tx.execute("UPDATE trail_index_state SET seq = ?, hash = ? WHERE name = ?",
                       (int(last["seq"]), str(last["hash"]), STATE))
        self._terms.update(created)
        return len(rows)

    def catch_up_fully(self) -> int:
        """Index every event not indexed yet; how many."""
        total = 0
        while count := self.catch_up():
            total += count
        return total

    def _next_batch(self, tx: Transaction) -> list[Row]:
        """The events after the watermark, starting the index over when the watermark
        is not an event of this chain (a store restored from a backup older than its index);
        the cache follows the generation of the term ids."""
        row = tx.query_one("SELECT seq, hash, generation FROM trail_index_state WHERE name = ?",
                           (STATE,))
        if row is None:
            tx.execute("INSERT INTO trail_index_state (name, seq, hash, generation) "
                       "VALUES (?, 0, ?, 1)", (STATE, GENESIS_HASH))
            row = {"seq": 0, "hash": GENESIS_HASH, "generation": 1}
        upto, generation = int(row["seq"]), int(row["generation"])
        with self.events.reading() as events:
            if upto and indexed_upto(tx, events) != upto:
                for table in ("trail_postings", "trail_event_ids", "trail_terms"):
                    tx.execute(f"DELETE FROM {table}")  # noqa: S608 (names above)
                generation += 1
                tx.execute("UPDATE trail_index_state SET seq = 0, hash = ?, generation = ? "
                           "WHERE name = ?", (GENESIS_HASH, generation, STATE))
                upto = 0
            rows = events.query(f"SELECT {TERM_COLUMNS} FROM trail_events "  # noqa: S608
                                "WHERE seq > ? ORDER BY seq LIMIT ?", (upto, self.batch))
        if generation != self._generation:
            self._generation, self._terms = generation, {}
        return rows

    @staticmethod
    def _new_term(tx: Transaction, created: dict[tuple[str, str, str], int],
                  term: tuple[str, str, str]) -> int:
        row = tx.query_one("SELECT term_id FROM trail_terms WHERE account_id = ? AND "
                           "attribute = ? AND value = ?", term)
        if row is None:
            last = tx.query_one("SELECT MAX(term_id) AS last FROM trail_terms")
            term_id = int(last["last"] or 0) + 1 if last is not None else 1
            tx.execute("INSERT INTO trail_terms (term_id, account_id, attribute, value) "
                       "VALUES (?, ?, ?, ?)", (term_id, *term))
        else:
            term_id = int(row["term_id"])
        created[term] = term_id
        return term_id


def term_ids(tx: Transaction, account_id: str, terms: Sequence[tuple[str, str]]
             ) -> list[int | None]:
    """The id of each term (None for a term no indexed event has)."""
    found: list[int | None] = []
    for key, value in terms:
        row: Any = tx.query_one("SELECT term_id FROM trail_terms WHERE account_id = ? AND "
                                "attribute = ? AND value = ?", (account_id, key, value))
        found.append(int(row["term_id"]) if row is not None else None)
    return found
