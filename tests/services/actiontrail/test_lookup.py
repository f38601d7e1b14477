"""The trail's search (LookupEvents' backend) on many events, on SQLite and PostgreSQL: every
filter finds exactly the events whose body says so, pages see each event once in order, the
time window and the NextToken are checked, and every page is one range of an index."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ramparts.core.clock import FrozenClock, format_iso8601
from ramparts.core.context import Caller, CallerKind, RequestContext
from ramparts.services.actiontrail.lookup import (
    Cursor,
    LookupQuery,
    TrailSearch,
    filters_of,
    parse_time,
    window,
)
from ramparts.services.actiontrail.lookup_errors import (
    InvalidParameterCombination,
    InvalidParameterEndTime,
    InvalidParameterStartTime,
    InvalidQueryParameter,
)
from ramparts.services.actiontrail.recorder import CallRecord, record_event
from ramparts.services.actiontrail.trail_index import TrailIndexer, lookup_transactions
from ramparts.store.base import Row, Store, Transaction
from ramparts.store.factory import open_store, open_trail_index
from tests.conftest import PostgresDatabases

ACCOUNT = "1000000000000001"
OTHER_ACCOUNT = "2000000000000002"
EVENTS = 2400
USER, GROUP, KEY = "ACS::RAM::User", "ACS::RAM::Group", "ACS::RAM::AccessKey"

# (event name, service, rw, event type)
ACTIONS = [
    ("GetUser", "Ram", "Read", "ApiCall"), ("ListUsers", "Ram", "Read", "ApiCall"),
    ("CreateUser", "Ram", "Write", "ApiCall"), ("DeleteUser", "Ram", "Write", "ApiCall"),
    ("CreateAccessKey", "Ram", "Write", "ApiCall"), ("AddUserToGroup", "Ram", "Write", "ApiCall"),
    ("AssumeRole", "Sts", "Write", "ApiCall"), ("ConsoleSignin", "AasSub", "Write",
                                                "ConsoleSignin"),
    ("LookupEvents", "Actiontrail", "Read", "ApiCall"),
]
IPS = ["10.0.0.1", "10.0.0.2", "192.168.7.9", "203.0.113.5"]


def _caller(rng: random.Random, account: str) -> Caller | None:
    choice = rng.randrange(7)
    if choice == 0:
        return None  # an unauthenticated call
    if choice == 1:
        return Caller(CallerKind.ROOT, account, account, "root", f"acs:ram::{account}:root",
                      "LTAIroot0000000000000000")
    if choice == 2:
        return Caller(CallerKind.ROLE_SESSION, account, "3000000000000003:night", "ops",
                      f"acs:ram::{account}:assumed-role/ops/night", "STS.nightsession00000000",
                      session_name="night")
    name = ["alice", "bob", "carol", "dave"][choice - 3]
    return Caller(CallerKind.USER, account, f"2{choice:015d}", name,
                  f"acs:ram::{account}:user/{name}", f"LTAI{name:0>20}")


def _resources(rng: random.Random, action: str) -> list[tuple[str, str]]:
    target = rng.choice(["erin", "frank", "shared"])
    if action == "CreateAccessKey":
        return [(USER, target), (KEY, f"LTAIkey{rng.randrange(50):04d}")]
    if action == "AddUserToGroup":  # a user and a group may share one name
        return [(USER, target), (GROUP, rng.choice(["admins", "shared"]))]
    if action in ("GetUser", "CreateUser", "DeleteUser"):
        return [(USER, target)]
    return []


def _record(rng: random.Random, number: int, now: datetime, account: str) -> CallRecord:
    action, service, rw, event_type = rng.choice(ACTIONS)
    caller = _caller(rng, account)
    anonymous = Caller(CallerKind.USER, account, "", "", "", "")
    context = RequestContext(
        request_id=f"EVENT-{number:06d}-{account[-1]}", account_id=account,
        region="cn-hangzhou", caller=caller or anonymous, source_ip=rng.choice(IPS),
        secure=True, user_agent="test", now=now, product=service, version="2015-05-01",
        action=action, host=f"{service.lower()}.aliyuncs.com")
    failed = caller is None or rng.random() < 0.1
    return CallRecord(
        context=context, event_type=event_type, rw=rw, request_parameters={},
        response_elements=None, error_code="NoPermission" if failed else "",
        error_message="denied" if failed else "", resources=_resources(rng, action),
        caller=caller, additional={}, service_name=service)


@dataclass
class Trail:
    """A store holding EVENTS recorded events of ACCOUNT (and a few of another account)."""

    store: Store
    index: Store  # the trail index's store: the same one on PostgreSQL
    clock: FrozenClock
    events: list[dict[str, Any]]  # ACCOUNT's, oldest first
    indexed: int  # how many events (of both accounts) the indexer has read



def _fill(store: Store, clock: FrozenClock) -> list[dict[str, Any]]:
    rng = random.Random(20_260_101)
    events: list[dict[str, Any]] = []
    with store.transaction() as tx:
        for number in range(EVENTS):
            clock.advance(timedelta(seconds=rng.choice([0, 0, 0, 1, 2])))  # many per second
            account = OTHER_ACCOUNT if number % 50 == 7 else ACCOUNT
            event = record_event(tx, _record(rng, number, clock.now(), account))
            if account == ACCOUNT:
                events.append(event)
    return events


# How much of the trail the indexer has read: pages merge the postings of the indexed events
# with the events after the watermark, checked one by one.
INDEXING = {"indexed": EVENTS, "half-indexed": EVENTS // 2, "unindexed": 0}


@pytest.fixture(scope="module", params=[(dialect, indexing) for dialect in ("sqlite", "postgres")
                                        for indexing in INDEXING],
                ids=lambda param: "-".join(param))
def trail(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Trail]:
    dialect, indexing = request.param
    url = None
    if dialect == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    directory = tmp_path_factory.mktemp("lookup")
    store = open_store(url, directory)
    index = open_trail_index(url, directory, store)
    clock = FrozenClock()
    events = _fill(store, clock)
    if INDEXING[indexing]:
        TrailIndexer(store, index, batch=INDEXING[indexing]).catch_up()
    if store.dialect == "postgresql":
        with store.transaction() as tx:
            tx.execute("ANALYZE")
    clock.advance(timedelta(minutes=5))
    yield Trail(store, index, clock, events, INDEXING[indexing])
    if index is not store:
        index.close()
    store.close()


def _transactions(trail: Trail) -> AbstractContextManager[tuple[Transaction, Transaction]]:
    return lookup_transactions(trail.store, trail.index)


def _query(trail: Trail, filters: dict[str, str] | None = None, *, backward: bool = True,
           max_results: int = 50, start: datetime | None = None,
           end: datetime | None = None) -> LookupQuery:
    now = trail.clock.now()
    begin, finish = window(now, start, end)
    filters = filters or {}
    return LookupQuery(ACCOUNT, begin, finish, filters, backward, max_results,
                       LookupQuery.fingerprint_of(ACCOUNT, filters, backward, "", ""))


def _all_pages(trail: Trail, query: LookupQuery) -> list[list[dict[str, Any]]]:
    """Every page of `query`, following the NextToken the way a client does."""
    pages: list[list[dict[str, Any]]] = []
    after: Cursor | None = None
    with _transactions(trail) as (events, index):
        search = TrailSearch(events, index, ACCOUNT)
        while True:
            page = search.page(query, after)
            pages.append(page.events)
            if page.next_cursor is None:
                return pages
            after = query.cursor_of(query.token(page.next_cursor))


def _ids(events: Sequence[dict[str, Any]]) -> list[str]:
    return [str(event["eventId"]) for event in events]


def _newest_first(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(reversed(events))  # recorded in time order; seq breaks ties within a second


# What each lookup key means, read from the event body itself.
MEANING: dict[str, Callable[[dict[str, Any], str], bool]] = {
    "EventName": lambda e, v: e["eventName"] == v,
    "User": lambda e, v: e["userIdentity"]["userName"] == v,
    "EventAccessKeyId": lambda e, v: e["userIdentity"]["accessKeyId"] == v,
    "ServiceName": lambda e, v: e["serviceName"] == v,
    "EventRW": lambda e, v: e["eventRW"] == v,
    "SourceIpAddress": lambda e, v: e["sourceIpAddress"] == v,
    "EventType": lambda e, v: e["eventType"] == v,
    "RoleName": lambda e, v: e["userIdentity"].get("sessionContext", {})
    .get("sessionIssuer", {}).get("userName") == v,
    "EventId": lambda e, v: e["eventId"] == v,
    "ResourceName": lambda e, v: any(v in names for names in e["referencedResources"].values()),
    "ResourceType": lambda e, v: bool(e["referencedResources"].get(v)),
}

SINGLE = [("EventName", "CreateAccessKey"), ("User", "alice"), ("User", "root"),
          ("User", "ops:night"), ("EventAccessKeyId", f"LTAI{'bob':0>20}"),
          ("ServiceName", "Sts"), ("EventRW", "Write"), ("SourceIpAddress", "203.0.113.5"),
          ("EventType", "ConsoleSignin"), ("RoleName", "ops"), ("ResourceName", "shared"),
          ("ResourceName", "LTAIkey0007"), ("ResourceType", GROUP), ("ResourceType", USER),
          ("EventId", "EVENT-000100-1")]
PAIRS = [{"ServiceName": "Ram", "EventName": "DeleteUser"},
         {"EventName": "GetUser", "User": "carol"},
         {"ResourceName": "shared", "ResourceType": GROUP},
         {"ResourceName": "erin", "User": "alice"},
         {"ResourceType": USER, "EventRW": "Read"},
         {"EventId": "EVENT-000102-1", "ResourceName": "frank"},
         {"EventAccessKeyId": "LTAIroot0000000000000000", "SourceIpAddress": "10.0.0.2"}]


@pytest.mark.parametrize(("key", "value"), SINGLE, ids=[f"{k}={v}" for k, v in SINGLE])
def test_each_attribute_finds_exactly_the_events_that_carry_it(trail: Trail, key: str,
                                                                value: str) -> None:
    expected = [e for e in _newest_first(trail.events) if MEANING[key](e, value)]
    assert expected or key == "EventId", "the data set should hold such events"
    found = [e for page in _all_pages(trail, _query(trail, {key: value})) for e in page]
    assert _ids(found) == _ids(expected)


@pytest.mark.parametrize("filters", PAIRS, ids=lambda f: "+".join(f))
def test_two_attributes_must_both_match(trail: Trail, filters: dict[str, str]) -> None:
    def matches(event: dict[str, Any]) -> bool:
        if "ResourceName" in filters and "ResourceType" in filters:  # of one resource
            named = event["referencedResources"].get(filters["ResourceType"], [])
            return filters["ResourceName"] in named
        return all(MEANING[key](event, value) for key, value in filters.items())

    expected = [e for e in _newest_first(trail.events) if matches(e)]
    assert expected or "EventId" in filters, "the data set should hold such events"
    found = [e for page in _all_pages(trail, _query(trail, filters, max_results=7))
             for e in page]
    assert _ids(found) == _ids(expected)


def test_the_resource_type_and_name_of_one_resource_must_match_together(trail: Trail) -> None:
    # "admins" is only ever a group: as a user name it matches nothing.
    assert _all_pages(trail, _query(trail, {"ResourceName": "admins",
                                            "ResourceType": USER})) == [[]]


@pytest.mark.parametrize("backward", [True, False], ids=["backward", "forward"])
def test_paging_sees_every_event_once_in_order(trail: Trail, backward: bool) -> None:
    pages = _all_pages(trail, _query(trail, backward=backward, max_results=50))
    assert all(len(page) == 50 for page in pages[:-1])
    found = [e for page in pages for e in page]
    expected = _newest_first(trail.events) if backward else trail.events
    assert _ids(found) == _ids(expected)  # OTHER_ACCOUNT's events are not among them


def test_a_page_with_more_to_come_says_so_and_the_last_one_does_not(trail: Trail) -> None:
    with _transactions(trail) as (events, index):
        search = TrailSearch(events, index, ACCOUNT)
        query = _query(trail, {"EventId": "EVENT-000100-1"}, max_results=1)
        assert search.page(query).next_cursor is None
        query = _query(trail, {"EventName": "ConsoleSignin"}, max_results=1)
        page = search.page(query)
        assert len(page.events) == 1
        assert page.next_cursor is not None


def test_the_window_bounds_are_inclusive_and_nothing_outside_is_returned(trail: Trail) -> None:
    middle = trail.events[len(trail.events) // 2]
    moment = parse_time("StartTime", str(middle["eventTime"]))
    later = [e for e in trail.events if e["eventTime"] >= middle["eventTime"]]
    found = [e for page in _all_pages(trail, _query(trail, start=moment)) for e in page]
    assert _ids(found) == _ids(_newest_first(later))
    same_second = [e for e in trail.events if e["eventTime"] == middle["eventTime"]]
    found = [e for page in _all_pages(trail, _query(
        trail, start=moment, end=moment + timedelta(seconds=1))) for e in page
        if e["eventTime"] == middle["eventTime"]]
    assert _ids(found) == _ids(_newest_first(same_second))


# ---- the window


def test_the_window_defaults_to_the_last_seven_days() -> None:
    now = datetime.fromisoformat("2026-03-01T12:00:00+00:00")
    assert window(now, None, None) == (now - timedelta(days=7), now)
    end = now - timedelta(days=1)
    assert window(now, None, end) == (now - timedelta(days=7), end)


def test_events_older_than_ninety_days_cannot_be_looked_up() -> None:
    now = datetime.fromisoformat("2026-03-01T12:00:00+00:00")
    assert window(now, now - timedelta(days=90), None)[0] == now - timedelta(days=90)
    with pytest.raises(InvalidParameterStartTime, match="more than 90 days ago"):
        window(now, now - timedelta(days=90, seconds=1), None)


def test_the_end_must_be_later_than_the_start() -> None:
    now = datetime.fromisoformat("2026-03-01T12:00:00+00:00")
    with pytest.raises(InvalidParameterCombination):
        window(now, now - timedelta(hours=1), now - timedelta(hours=1))
    with pytest.raises(InvalidParameterCombination):
        window(now, None, now - timedelta(days=8))  # the default start is after that end


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00Z", "1700000000", ""])
def test_times_must_be_iso_8601(text: str) -> None:
    with pytest.raises(InvalidParameterStartTime, match="not an ISO 8601"):
        parse_time("StartTime", text)
    with pytest.raises(InvalidParameterEndTime, match="not an ISO 8601"):
        parse_time("EndTime", text)


def test_times_are_read_as_utc() -> None:
    assert format_iso8601(parse_time("StartTime", "2026-03-01T12:00:00Z")) == (
        "2026-03-01T12:00:00Z")
    assert format_iso8601(parse_time("StartTime", "2026-03-01T20:00:00+08:00")) == (
        "2026-03-01T12:00:00Z")
    assert format_iso8601(parse_time("EndTime", "2026-03-01T12:00:00")) == (
        "2026-03-01T12:00:00Z")


# ---- the attributes


def test_the_first_two_attributes_are_used_and_a_repeated_key_keeps_the_second() -> None:
    assert filters_of([{"Key": "EventName", "Value": "A"}, {"Key": "User", "Value": "u"},
                       {"Key": "EventRW", "Value": "Write"}]) == {"EventName": "A", "User": "u"}
    assert filters_of([{"Key": "User", "Value": "u1"}, {"Key": "User", "Value": "u2"}]) == {
        "User": "u2"}
    assert filters_of([]) == {}


@pytest.mark.parametrize(("attributes", "message"), [
    ([{"Key": "Colour", "Value": "red"}], "is not one of"),
    ([{"Key": "SensitiveAction", "Value": "true"}], "not recorded"),
    ([{"Key": "PrincipalId", "Value": "1"}], "not recorded"),
    ([{"Key": "EventName"}], "needs both a Key and a Value"),
    ([{"Key": "EventName", "Value": ""}], "needs both a Key and a Value"),
    ([{"Value": "x"}], "needs both a Key and a Value"),
    ([{"Key": "EventName", "Value": "x", "Match": "prefix"}], "has no field"),
    (["EventName"], "must be given as LookupAttribute.1.Key"),
], ids=["unknown-key", "sensitive-action", "principal-id", "no-value", "empty-value",
        "no-key", "extra-field", "not-a-record"])
def test_unusable_attributes_are_refused(attributes: list[Any], message: str) -> None:
    with pytest.raises(InvalidQueryParameter, match=message):
        filters_of(attributes)


# ---- the NextToken


def _token_of(trail: Trail, query: LookupQuery) -> str:
    with _transactions(trail) as (events, index):
        cursor = TrailSearch(events, index, ACCOUNT).page(query).next_cursor
    assert cursor is not None
    return query.token(cursor)


def test_a_token_belongs_to_its_query(trail: Trail) -> None:
    query = _query(trail, {"User": "alice"}, max_results=5)
    token = _token_of(trail, query)
    assert query.cursor_of(token)
    for other in (_query(trail, {"User": "bob"}, max_results=5),
                  _query(trail, {"User": "alice"}, backward=False, max_results=5),
                  _query(trail, max_results=5)):
        with pytest.raises(InvalidQueryParameter, match="NextToken"):
            other.cursor_of(token)
    other_times = LookupQuery(ACCOUNT, query.start, query.end, query.filters, True, 5,
                              LookupQuery.fingerprint_of(ACCOUNT, query.filters, True,
                                                         "2026-01-01T00:00:00Z", ""))
    with pytest.raises(InvalidQueryParameter):
        other_times.cursor_of(token)


def test_a_changed_or_made_up_token_is_refused(trail: Trail) -> None:
    query = _query(trail, max_results=5)
    token = _token_of(trail, query)
    cursor = query.cursor_of(token)
    forged = [token + "A", token[:-1], token.upper(), "", "x" * 201, "not a token!",
              query.token(Cursor(cursor.event_time, cursor.seq)) + "=",
              LookupQuery(OTHER_ACCOUNT, query.start, query.end, {}, True, 5,
                          LookupQuery.fingerprint_of(OTHER_ACCOUNT, {}, True, "", ""))
              .token(cursor)]
    for text in forged:
        with pytest.raises(InvalidQueryParameter, match="NextToken"):
            query.cursor_of(text)


def test_a_token_carries_only_a_position_within_the_query(trail: Trail) -> None:
    """Any position, even one of another account's event, reads only the query's own
    events: the account and filters come from the query, never from the token."""
    query = _query(trail, {"User": "bob"}, max_results=10)
    with _transactions(trail) as (events, index):
        search = TrailSearch(events, index, ACCOUNT)
        far = Cursor("2099-01-01T00:00:00Z", 10**12)
        found = search.page(query, far).events
    assert found
    assert all(e["userIdentity"]["userName"] == "bob" for e in found)
    assert all(e["recipientAccountId"] == ACCOUNT for e in found)


# ---- the indexes


class Recording:
    """A transaction that remembers the statements run through it."""

    def __init__(self, tx: Transaction) -> None:
        self.tx, self.memo = tx, tx.memo
        self.statements: list[tuple[str, Sequence[Any]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.tx.execute(sql, params)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        self.tx.insert_rows(table, columns, rows)

    def before_commit(self, callback: Callable[[], object]) -> None:
        self.tx.before_commit(callback)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements.append((sql, params))
        return self.tx.query(sql, params)

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def lock(self, name: str) -> None:
        self.tx.lock(name)


def _plans(trail: Trail, query: LookupQuery, after: Cursor | None = None) -> list[str]:
    """The plan of each statement the page runs, as the database explains it."""
    with _transactions(trail) as (events, index):
        recordings = [Recording(events)]
        if index is not events:
            recordings.append(Recording(index))
        TrailSearch(recordings[0], recordings[-1], ACCOUNT).page(query, after)
        plans = []
        for recording, sql, params in [(r, sql, params) for r in recordings
                                       for sql, params in r.statements]:
            tx = recording.tx
            if trail.store.dialect == "sqlite":
                rows = tx.query(f"EXPLAIN QUERY PLAN {sql}", params)
                plans.append("\n".join(str(row["detail"]) for row in rows))
            else:
                rows = tx.query(f"EXPLAIN {sql}", params)
                plans.append("\n".join(str(row["QUERY PLAN"]) for row in rows))
        return plans


FILTERS = [
    {}, {"EventName": "GetUser"}, {"User": "alice"},
    {"EventAccessKeyId": "LTAIroot0000000000000000"}, {"ServiceName": "Sts"},
    {"EventRW": "Write"}, {"SourceIpAddress": "10.0.0.1"}, {"EventType": "ConsoleSignin"},
    {"RoleName": "ops"}, {"EventId": "EVENT-000100-1"}, {"ResourceName": "shared"},
    {"ResourceType": GROUP}, {"User": "alice", "EventRW": "Write"},
    {"EventName": "GetUser", "ServiceName": "Ram"}, {"ResourceName": "shared", "User": "bob"},
    {"ResourceName": "shared", "ResourceType": USER},
]
BIG_TABLES = ("trail_events", "trail_postings", "trail_event_ids")


@pytest.mark.parametrize("filters", FILTERS, ids=["+".join(f) or "no-filter" for f in FILTERS])
@pytest.mark.parametrize("resumed", [False, True], ids=["first-page", "next-page"])
def test_every_page_reads_ranges_of_keys_never_a_whole_table(
        trail: Trail, filters: dict[str, str], resumed: bool) -> None:
    query = _query(trail, filters, max_results=5)
    middle = trail.events[len(trail.events) // 2]
    plans = _plans(trail, query, Cursor(str(middle["eventTime"]), EVENTS) if resumed else None)
    for plan in plans:
        if trail.store.dialect == "sqlite":
            assert not any(f"SCAN {table}" in plan for table in BIG_TABLES), plan
            assert "SCAN p" not in plan, plan
            assert "SCAN q" not in plan, plan
            # only the events after the watermark (a range of seq) are sorted
            assert "TEMP B-TREE" not in plan or ("trail_events" in plan and "(seq>?)" in plan), \
                plan
        else:
            # PostgreSQL may sort a range it reads, and scan a table it knows is empty, or the
            # events when most of them are after the watermark (all are read either way).
            big = {EVENTS: BIG_TABLES, 0: ()}.get(trail.indexed, BIG_TABLES[1:])
            assert not any(f"Seq Scan on {table}" in plan for table in big), plan
    if trail.indexed and "EventId" not in filters:
        # the page itself: one range of the postings' primary key, in page order
        if trail.store.dialect == "sqlite":
            assert any("SEARCH p USING PRIMARY KEY (term_id=? AND event_second>? AND "
                       "event_second<?)" in plan for plan in plans), plans
        else:
            assert any("on trail_postings_pkey" in plan or "using trail_postings_pkey" in plan
                       for plan in plans), plans


# ---- the resources, written with the event


def test_an_events_resources_are_written_in_its_transaction(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    rng = random.Random(7)
    now = FrozenClock().now()
    record = _record(rng, 1, now, ACCOUNT)
    while not record.resources:
        record = _record(rng, 1, now, ACCOUNT)

    def failing_call() -> None:
        with store.transaction() as tx:
            record_event(tx, record)
            raise RuntimeError("the call failed after its event was written")

    with pytest.raises(RuntimeError):
        failing_call()
    with store.transaction() as tx:
        assert tx.query("SELECT seq FROM trail_events") == []
        event = record_event(tx, record)
    with store.transaction() as tx:
        stored = tx.query_one("SELECT resources FROM trail_events")
    store.close()
    assert stored is not None
    assert sorted(map(tuple, json.loads(stored["resources"]))) == sorted(
        (kind, name) for kind, names in event["referencedResources"].items() for name in names)
