"""Benchmark the trail: durable hash-chained appends per second through record_event, and
LookupEvents latency on a million stored events, on SQLite and on PostgreSQL."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.core.context import Caller, CallerKind, RequestContext
from ramparts.server.background import DEFAULT_INDEXING_INTERVAL, BackgroundLoop
from ramparts.server.group_commit import MAX_GROUP
from ramparts.services.actiontrail.lookup import Cursor, LookupQuery, TrailSearch
from ramparts.services.actiontrail.recorder import CallRecord, first_break, record_event
from ramparts.services.actiontrail.trail_index import (
    TrailIndexer,
    indexed_upto,
    lookup_transactions,
)
from ramparts.store.base import Row, Store

Json = dict[str, Any]

DEFAULT_EVENTS, QUICK_EVENTS = 1_000_000, 20_000
DEFAULT_APPENDS, QUICK_APPENDS = 50_000, 2_000  # timed appends per group size (1: a tenth)
DEFAULT_SAMPLES, QUICK_SAMPLES = 300, 30  # lookups per query (over HTTP: two thirds)
FILL_BATCH = 20_000
# Events per durable commit: one call per transaction (PostgreSQL's request path), the server's
# commit group on SQLite, and a larger group, to show what the group size buys.
GROUP_SIZES = (1, MAX_GROUP, 8 * MAX_GROUP)
SPREAD = timedelta(days=6)  # the stored events' times: inside LookupEvents' default 7 days
PAGE = 50  # LookupEvents' largest page
TARGET_APPENDS = 20_000  # events/s
TARGET_P99_MS = 50.0  # for a filtered page
SEED = 20_261_129
POSTGRES_ADMIN_URL = os.environ.get(
    "RAMPARTS_BENCH_POSTGRES",
    os.environ.get("RAMPARTS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"))
ACTIONTRAIL_VERSION = "2020-07-06"

# --------------------------------------------------------------------------- the workload

# (event name, service, rw, the resource type it names or "", weight)
ACTIONS: Sequence[tuple[str, str, str, str, int]] = (
    ("GetUser", "Ram", "Read", "ACS::RAM::User", 300), ("ListUsers", "Ram", "Read", "", 120),
    ("GetCallerIdentity", "Sts", "Read", "", 200), ("AssumeRole", "Sts", "Write", "", 60),
    ("ListPoliciesForUser", "Ram", "Read", "ACS::RAM::User", 80),
    ("GetLoginProfile", "Ram", "Read", "ACS::RAM::User", 40),
    ("ListAccessKeys", "Ram", "Read", "ACS::RAM::User", 60),
    ("LookupEvents", "Actiontrail", "Read", "", 30), ("ListGroups", "Ram", "Read", "", 20),
    ("GetPolicy", "Ram", "Read", "", 30), ("UpdateUser", "Ram", "Write", "ACS::RAM::User", 10),
    ("AttachPolicyToUser", "Ram", "Write", "ACS::RAM::User", 8),
    ("AddUserToGroup", "Ram", "Write", "ACS::RAM::User", 6),
    ("CreateAccessKey", "Ram", "Write", "ACS::RAM::User", 4),
    ("CreateUser", "Ram", "Write", "ACS::RAM::User", 4),
    ("DeleteAccessKey", "Ram", "Write", "ACS::RAM::User", 2),
    ("DeleteUser", "Ram", "Write", "ACS::RAM::User", 1),
    ("ConsoleSignin", "AasSub", "Write", "", 5),
)
USERS = [f"user{n:02d}" for n in range(50)]
TARGETS = [f"target{n:03d}" for n in range(500)]
IPS = [f"10.{n // 250}.{n % 250}.7" for n in range(200)]
ROLES = [f"role{n}" for n in range(5)]


def key_of(user: str, which: int) -> str:
    """The AccessKey ID of a user's first or second key."""
    return f"LTAI{user}{which}".ljust(24, "x")


class Workload:
    """Calls as an account sees them: a few actions most of the time, 50 users with two
    AccessKeys each, some role sessions and the root identity, 200 source addresses, 3%
    failures."""

    def __init__(self, account_id: str, seed: int = SEED) -> None:
        self.account_id = account_id
        self.rng = random.Random(seed)
        self.actions = [a[:4] for a in ACTIONS]
        self.weights = [a[4] for a in ACTIONS]
        self.number = 0

    def caller(self) -> Caller:
        draw, account = self.rng.random(), self.account_id
        if draw < 0.02:
            return Caller(CallerKind.ROOT, account, account, "root", f"acs:ram::{account}:root",
                          key_of("root", 0))
        if draw < 0.07:
            role = self.rng.choice(ROLES)
            return Caller(CallerKind.ROLE_SESSION, account, f"30000000000000{role[-1]}:s", role,
                          f"acs:ram::{account}:assumed-role/{role}/s",
                          f"STS.{role}session".ljust(29, "x"), session_name="s")
        user = self.rng.choice(USERS)
        return Caller(CallerKind.USER, account, f"2000000000000{user[-2:]}", user,
                      f"acs:ram::{account}:user/{user}", key_of(user, self.rng.randrange(2)))

    def record(self, now: datetime) -> CallRecord:
        self.number += 1
        name, service, rw, resource_type = self.rng.choices(self.actions, self.weights)[0]
        caller = self.caller()
        context = RequestContext(
            request_id=f"{self.rng.getrandbits(128):032X}", account_id=self.account_id,
            region="cn-hangzhou", caller=caller, source_ip=self.rng.choice(IPS), secure=True,
            user_agent="AlibabaCloud (Linux; x86_64) Python/3.11 Core/0.4 TeaDSL/2", now=now,
            product=service, version="2015-05-01", action=name,
            host=f"{service.lower()}.aliyuncs.com")
        failed = self.rng.random() < 0.03
        resources = [(resource_type, self.rng.choice(TARGETS))] if resource_type else []
        return CallRecord(
            context=context, event_type="ConsoleSignin" if name == "ConsoleSignin" else "ApiCall",
            rw=rw, request_parameters={"UserName": resources[0][1]} if resources else {},
            response_elements=None if failed else {"RequestId": context.request_id},
            error_code="NoPermission" if failed else "",
            error_message="You are not authorized to do this action." if failed else "",
            resources=resources, caller=caller, additional={}, service_name=service)


# --------------------------------------------------------------------------- filling the store


class _Batch:
    """A transaction that gathers record_event's rows for one executemany per fill batch:
    record_event builds, redacts and chains the events exactly as it does on the request path
    (the chain's head in the transaction's memo), only the writes are batched."""

    def __init__(self) -> None:
        self.memo: dict[str, Any] = {}
        self.statements: dict[str, list[Sequence[Any]]] = {}
        self._before_commit: list[Callable[[], object]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise AssertionError(f"unexpected statement while filling: {sql}")

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> None:
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        self.statements.setdefault(sql, []).extend(rows)
        assert isinstance(rows, list)
        rows.clear()  # written: the next batch starts empty (one transaction for the fill)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise AssertionError(f"unexpected query while filling: {sql}")

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        assert sql.startswith("SELECT seq, hash FROM trail_events"), sql
        return None  # the store is empty when the fill begins

    def lock(self, name: str) -> None:
        del name

    def before_commit(self, callback: Callable[[], object]) -> None:
        self._before_commit.append(callback)

    def append(self, record: CallRecord) -> None:
        record_event(self, record)

    def take(self) -> dict[str, list[Sequence[Any]]]:
        """The statements gathered since the last take."""
        for callback in self._before_commit:
            callback()
        statements, self.statements = self.statements, {}
        return statements


Writer = Callable[[dict[str, list[Sequence[Any]]]], None]


def fill(write: Writer, workload: Workload, events: int, end: datetime) -> float:
    """Store `events` events spread over SPREAD before `end`; the seconds it took."""
    batch = _Batch()
    step = SPREAD / events
    started = perf_counter()
    for number in range(events):
        batch.append(workload.record(end - SPREAD + step * number))
        if (number + 1) % FILL_BATCH == 0 or number + 1 == events:
            write(batch.take())
            if sys.stdout.isatty():
                print(f"\r  filled {number + 1:,} events", end="", flush=True)
    if sys.stdout.isatty():
        print("\r", end="")
    return perf_counter() - started


def sqlite_writer(path: Path) -> tuple[Writer, Callable[[], None]]:
    connection = sqlite3.connect(path, isolation_level=None)

    def write(statements: dict[str, list[Sequence[Any]]]) -> None:
        connection.execute("BEGIN IMMEDIATE")
        for sql, rows in statements.items():
            connection.executemany(sql, rows)
        connection.execute("COMMIT")

    return write, connection.close


def postgres_writer(url: str) -> tuple[Writer, Callable[[], None]]:
    import psycopg

    connection = psycopg.connect(url)

    def write(statements: dict[str, list[Sequence[Any]]]) -> None:
        with connection.transaction(), connection.cursor() as cursor:
            for sql, rows in statements.items():
                cursor.executemany(sql.replace("?", "%s"), rows)

    return write, connection.close


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    store: str
    label: str
    count: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1e3

    def to_dict(self) -> Json:
        base: Json = {"store": self.store, "label": self.label, "count": self.count}
        if self.latencies:
            base.update(p50_ms=round(self.percentile(0.5), 3),
                        p99_ms=round(self.percentile(0.99), 3))
        else:
            base.update(seconds=round(self.seconds, 3), per_second=round(self.per_second))
        return base


def _append_all(store: Store, dialect: str, records: Sequence[CallRecord], group: int) -> None:
    """Append through record_event, `group` per durable commit: on SQLite as the server's
    commit groups do (each event a savepoint of the group's transaction), on PostgreSQL in one
    transaction per group."""
    for start in range(0, len(records), group):
        chunk = records[start:start + group]
        if dialect == "sqlite" and group > 1:
            from ramparts.store.sqlite import SQLiteStore

            assert isinstance(store, SQLiteStore)
            commit_group = store.open_group()
            for record in chunk:
                with store.transaction() as tx:
                    record_event(tx, record)
            commit_group.commit()
        else:
            with store.transaction() as tx:
                for record in chunk:
                    record_event(tx, record)


def _per_commit(group: int) -> str:
    return f"{group} event{'s' if group > 1 else ''} per commit"


def measure_appends(store: Store, dialect: str, workload: Workload, count: int,
                    group: int) -> Result:
    """`count` calls' events appended, `group` per durable commit, with no indexing beside."""
    records = [workload.record(datetime.now(UTC)) for _ in range(count)]
    started = perf_counter()
    _append_all(store, dialect, records, group)
    return Result(dialect, f"append, {_per_commit(group)}", count, perf_counter() - started)


def measure_sustained(store: Store, index: Store, dialect: str, workload: Workload,
                      count: int, group: int) -> Result:
    """Appends as the server makes them, with the server's indexing loop running beside them
    on a thread of the same process; the time runs until the index has caught up with the
    last append."""
    records = [workload.record(datetime.now(UTC)) for _ in range(count)]
    indexer = TrailIndexer(store, index)
    loop = BackgroundLoop("bench-indexing", lambda: indexer.catch_up() == indexer.batch,
                          DEFAULT_INDEXING_INTERVAL)
    started = perf_counter()
    loop.start()
    try:
        _append_all(store, dialect, records, group)
    finally:
        loop.stop()
    indexer.catch_up_fully()
    return Result(dialect, f"append and index (indexing thread), {_per_commit(group)}", count,
                  perf_counter() - started)


def measure_sustained_apart(store: Store, index: Store, dialect: str, workload: Workload,
                            count: int, group: int, data_dir: Path, database_url: str | None
                            ) -> Result:
    """As measure_sustained, with the indexer in a process of its own (`ramparts trail index
    --follow`), as a deployment that appends faster than one Python process can index runs
    it: the time runs until the index has caught up with the last append."""
    records = [workload.record(datetime.now(UTC)) for _ in range(count)]
    command = [sys.executable, "-m", "ramparts", "trail", "index", "--follow", "--data-dir",
               str(data_dir), "--interval", str(DEFAULT_INDEXING_INTERVAL)]
    if database_url:
        command += ["--database-url", database_url]
    indexing = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)  # let it start and find the index current
        started = perf_counter()
        _append_all(store, dialect, records, group)
        with store.reading() as tx:
            last = int((tx.query_one("SELECT MAX(seq) AS last FROM trail_events")
                        or {"last": 0})["last"])
        while _indexed_upto(store, index) < last:
            if indexing.poll() is not None:
                raise RuntimeError(f"the indexer stopped: {indexing.stderr.read()!r}"
                                   if indexing.stderr else "the indexer stopped")
            time.sleep(0.01)
        seconds = perf_counter() - started
    finally:
        indexing.send_signal(signal.SIGTERM)
        indexing.wait(timeout=60)
    return Result(dialect, f"append and index (indexing process), {_per_commit(group)}",
                  count, seconds)


def _indexed_upto(store: Store, index: Store) -> int:
    with lookup_transactions(store, index) as (events, index_tx):
        return indexed_upto(index_tx, events)


def index_all(store: Store, index: Store, dialect: str) -> Result:
    """Index every stored event in the indexer's batches (after a fill, or a migration)."""
    started = perf_counter()
    count = TrailIndexer(store, index).catch_up_fully()
    return Result(dialect, "index in bulk (a migrated or filled store)", count,
                  perf_counter() - started)


@dataclass(frozen=True)
class Lookup:
    label: str
    filters: Callable[[random.Random], dict[str, str]]
    middle: bool = False  # a page resumed from the middle of the window
    filtered: bool = True


LOOKUPS = (
    Lookup("unfiltered, newest page", lambda r: {}, filtered=False),
    Lookup("EventName (GetUser, 30% of events)", lambda r: {"EventName": "GetUser"}),
    Lookup("EventName (DeleteUser, 0.1%)", lambda r: {"EventName": "DeleteUser"}),
    Lookup("User", lambda r: {"User": r.choice(USERS)}),
    Lookup("User, a page from mid-window", lambda r: {"User": r.choice(USERS)}, middle=True),
    Lookup("EventAccessKeyId", lambda r: {"EventAccessKeyId": key_of(r.choice(USERS),
                                                                      r.randrange(2))}),
    Lookup("ResourceName", lambda r: {"ResourceName": r.choice(TARGETS)}),
    Lookup("User + EventName", lambda r: {"User": r.choice(USERS), "EventName": "GetUser"}),
)
HTTP_LOOKUPS = (LOOKUPS[0], LOOKUPS[1], LOOKUPS[3])
# Lookups while the indexer is behind by this many events: what a server appending 20,000
# events/s leaves between two passes of its indexing loop, with margin.
TAIL_LOOKUPS = (LOOKUPS[0], LOOKUPS[2], LOOKUPS[3], LOOKUPS[7])
UNINDEXED_TAIL = 5_000


def _query(account_id: str, filters: Mapping[str, str], now: datetime) -> LookupQuery:
    return LookupQuery(account_id, now - timedelta(days=7), now, dict(filters), True, PAGE,
                       LookupQuery.fingerprint_of(account_id, filters, True, "", ""))


def _matches(event: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    identity = event["userIdentity"]
    facts = {"EventName": event["eventName"], "User": identity["userName"],
             "EventAccessKeyId": identity["accessKeyId"]}
    resource_named = any(filters.get("ResourceName") in names
                         for names in event["referencedResources"].values())
    return all(facts[key] == value if key in facts else resource_named
               for key, value in filters.items())


def measure_lookups(store: Store, index: Store, dialect: str, account_id: str, samples: int,
                    end: datetime, lookups: Sequence[Lookup] = LOOKUPS, note: str = ""
                    ) -> tuple[list[Result], list[str]]:
    """p50/p99 of LookupEvents' backend (one transaction per page, as a call has), and any
    page whose events do not match its filters."""
    rng = random.Random(SEED)
    results, wrong = [], []
    middle = Cursor(format_iso8601(end - SPREAD / 2), 10**12)
    for lookup in lookups:
        result = Result(dialect, f"lookup (backend), {lookup.label}{note}", samples)
        for _ in range(samples):
            filters = lookup.filters(rng)
            query = _query(account_id, filters, end)
            started = perf_counter()
            with lookup_transactions(store, index) as (tx, index_tx):
                page = TrailSearch(tx, index_tx, account_id).page(
                    query, middle if lookup.middle else None)
            result.latencies.append(perf_counter() - started)
            full = len(page.events) == PAGE or page.next_cursor is None
            if not full or not all(_matches(e, filters) for e in page.events):
                wrong.append(f"{lookup.label} {filters}: {len(page.events)} events")
        results.append(result)
    return results, wrong


def measure_http(data_dir: Path, database_url: str | None, key: tuple[str, str], samples: int
                 ) -> list[Result]:
    """p50/p99 of signed LookupEvents calls through `ramparts serve` (RPC V1 signatures, one
    connection per call, as `ramparts trail lookup` makes them)."""
    from ramparts.protocol.client import ApiClient, ClientCredentials
    from ramparts.testing.process import ServerProcess

    rng = random.Random(SEED)
    dialect = "postgresql" if database_url else "sqlite"
    results = []
    with ServerProcess(data_dir, database_url=database_url) as server:
        client, credentials = ApiClient(server.endpoint), ClientCredentials(*key)
        for lookup in HTTP_LOOKUPS:
            result = Result(dialect, f"LookupEvents over HTTP, {lookup.label}", samples)
            for number in range(samples + 5):  # 5 warm-up calls
                params = {"MaxResults": str(PAGE)}
                for index, (name, value) in enumerate(lookup.filters(rng).items(), start=1):
                    params[f"LookupAttribute.{index}.Key"] = name
                    params[f"LookupAttribute.{index}.Value"] = value
                started = perf_counter()
                answer = client.call(ACTIONTRAIL_VERSION, "LookupEvents", params, credentials)
                if number >= 5:
                    result.latencies.append(perf_counter() - started)
                assert len(answer["Events"]) == PAGE, answer.get("Events")
            results.append(result)
    return results


def chain_intact(store: Store) -> bool:
    with store.transaction() as tx:
        return first_break(tx) is None


# --------------------------------------------------------------------------- the runs


@dataclass
class Plan:
    events: int
    appends: int
    samples: int
    postgres: bool


@dataclass
class Outcome:
    results: list[Result] = field(default_factory=list)
    fills: dict[str, float] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    chains: dict[str, bool] = field(default_factory=dict)


def report(result: Result) -> Result:
    if result.latencies:
        print(f"  {result.store}: {result.label}: p50 {result.percentile(0.5):.2f} ms, "
              f"p99 {result.percentile(0.99):.2f} ms ({result.count} samples)", flush=True)
    else:
        print(f"  {result.store}: {result.label}: {result.per_second:,.0f} events/s "
              f"({result.count:,} in {result.seconds:.2f} s)", flush=True)
    return result


def settle_postgres(url: str) -> None:
    """What autovacuum would have done to a long-running server's tables by now: their
    statistics and visibility maps, so the plans and timings are those of a steady state."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) trail_events, trail_postings, trail_terms, "
                           "trail_event_ids")


def run_store(plan: Plan, outcome: Outcome, data_dir: Path, database_url: str | None) -> None:
    from ramparts.server.runtime import initialize
    from ramparts.store.factory import SQLITE_FILE_NAME, open_store, open_trail_index

    dialect = "postgresql" if database_url else "sqlite"
    bootstrap = initialize(data_dir, {}, database_url=database_url, alias="bench")
    assert bootstrap is not None
    account_id = bootstrap.account.account_id
    workload = Workload(account_id)
    end = datetime.now(UTC)
    write, close = (postgres_writer(database_url) if database_url
                    else sqlite_writer(data_dir / SQLITE_FILE_NAME))
    try:
        seconds = fill(write, workload, plan.events, end)
    finally:
        close()
    outcome.fills[dialect] = seconds
    print(f"  {dialect}: {plan.events:,} events stored in {seconds:.1f} s (batched writes; not "
          "the append rate)", flush=True)
    store = open_store(database_url, data_dir)
    index = open_trail_index(database_url, data_dir, store)
    try:
        outcome.results.append(report(index_all(store, index, dialect)))
        if database_url:
            settle_postgres(database_url)
        for group in GROUP_SIZES:
            count = plan.appends if group > 1 else max(100, plan.appends // 10)
            outcome.results.append(report(measure_appends(store, dialect, workload, count,
                                                          group)))
        for group in GROUP_SIZES[1:]:
            outcome.results.append(report(measure_sustained(store, index, dialect, workload,
                                                            plan.appends, group)))
            outcome.results.append(report(measure_sustained_apart(
                store, index, dialect, workload, plan.appends, group, data_dir, database_url)))
        lookups, wrong = measure_lookups(store, index, dialect, account_id, plan.samples,
                                         datetime.now(UTC))
        outcome.results += [report(result) for result in lookups]
        outcome.wrong += wrong
        _append_all(store, dialect, [workload.record(datetime.now(UTC))
                                     for _ in range(UNINDEXED_TAIL)], MAX_GROUP)
        lookups, wrong = measure_lookups(store, index, dialect, account_id, plan.samples,
                                         datetime.now(UTC), TAIL_LOOKUPS,
                                         f", {UNINDEXED_TAIL:,} events not indexed yet")
        outcome.results += [report(result) for result in lookups]
        outcome.wrong += wrong
        outcome.chains[dialect] = chain_intact(store)
        TrailIndexer(store, index).catch_up_fully()  # the server's steady state, for HTTP
    finally:
        if index is not store:
            index.close()
        store.close()
    http_samples = max(10, plan.samples * 2 // 3)
    key = (bootstrap.admin_access_key_id, bootstrap.admin_access_key_secret)
    outcome.results += [report(r) for r in measure_http(data_dir, database_url, key,
                                                        http_samples)]


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database for the run (None when PostgreSQL cannot be reached), dropped after."""
    import psycopg

    name = f"ramparts_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        print(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc}); skipping it")
        yield None
        return
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with suppress(psycopg.Error):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def print_table(outcome: Outcome) -> None:
    rows = [(r.store, r.label, f"{r.per_second:,.0f}" if not r.latencies else "",
             f"{r.percentile(0.5):.2f}" if r.latencies else "",
             f"{r.percentile(0.99):.2f}" if r.latencies else "") for r in outcome.results]
    widths = [max(len(row[i]) for row in [("store", "phase", "events/s", "p50 ms", "p99 ms"),
                                          *rows]) for i in range(5)]
    print()
    for row in [("store", "phase", "events/s", "p50 ms", "p99 ms"),
                tuple("-" * w for w in widths), *rows]:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  "
              f"{row[3]:>{widths[3]}}  {row[4]:>{widths[4]}}")


def verdict(outcome: Outcome) -> Json:
    """The targets, per store: appends at the server's commit group (SQLite) or at that many
    per transaction (PostgreSQL), and with the index kept current beside them."""
    filtered = [r for r in outcome.results if r.latencies and "unfiltered" not in r.label]
    worst = max(filtered, key=lambda r: r.percentile(0.99)) if filtered else None
    appends_met: dict[str, bool] = {}
    print(f"target >= {TARGET_APPENDS:,} events/s appended ({MAX_GROUP} per commit):")
    for store in dict.fromkeys(r.store for r in outcome.results):
        rates = {r.label: r.per_second for r in outcome.results
                 if r.store == store and not r.latencies and f", {MAX_GROUP} events" in r.label}
        append = rates.get(f"append, {MAX_GROUP} events per commit", 0.0)
        appends_met[store] = append >= TARGET_APPENDS
        kept = ", ".join(f"{label.split(' (')[1].split(')')[0]}: {rate:,.0f}"
                         for label, rate in rates.items() if label.startswith("append and"))
        print(f"  {store}: {'met' if appends_met[store] else 'NOT met'} ({append:,.0f}/s; "
              f"with the index kept current, {kept or '-'})")
    if worst is not None:
        p99 = worst.percentile(0.99)
        print(f"target p99 < {TARGET_P99_MS:.0f} ms for a filtered page: "
              f"{'met' if p99 < TARGET_P99_MS else 'NOT met'} (worst p99 {p99:.2f} ms: "
              f"{worst.store}, {worst.label})")
    for store, intact in outcome.chains.items():
        print(f"{store}: hash chain {'intact' if intact else 'BROKEN'}")
    for line in outcome.wrong[:5]:
        print(f"  WRONG PAGE {line}")
    return {"append_target_met": appends_met,
            "p99_target_met": worst is not None and worst.percentile(0.99) < TARGET_P99_MS}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_EVENTS:,} stored events, {QUICK_APPENDS:,} timed appends, "
                             f"{QUICK_SAMPLES} lookups per query")
    parser.add_argument("-n", "--events", type=int, default=None,
                        help=f"events stored before the lookups (default {DEFAULT_EVENTS:,})")
    parser.add_argument("--appends", type=int, default=None,
                        help=f"timed appends per commit-group size (default "
                             f"{DEFAULT_APPENDS:,}; one per commit gets a tenth)")
    parser.add_argument("--samples", type=int, default=None,
                        help=f"lookups per query (default {DEFAULT_SAMPLES})")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    plan = Plan(events=args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS),
                appends=args.appends or (QUICK_APPENDS if args.quick else DEFAULT_APPENDS),
                samples=args.samples or (QUICK_SAMPLES if args.quick else DEFAULT_SAMPLES),
                postgres=not args.no_postgres)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{plan.events:,} stored events; appends through record_event (hash-chained, every "
          f"commit durable: SQLite WAL synchronous=FULL, PostgreSQL's defaults); LookupEvents "
          f"pages of {PAGE} through the backend and through `ramparts serve`.", flush=True)
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="ramparts-trail-bench-") as root:
        print("SQLite:", flush=True)
        run_store(plan, outcome, Path(root) / "sqlite", None)
        if plan.postgres:
            with postgres_database() as url:
                if url is not None:
                    print("PostgreSQL:", flush=True)
                    run_store(plan, outcome, Path(root) / "postgres", url)
    print_table(outcome)
    targets = verdict(outcome)
    sound = not outcome.wrong and all(outcome.chains.values())
    if args.json:
        print(json.dumps({
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "events": plan.events, "fill_seconds": outcome.fills, "chains": outcome.chains,
            "results": [r.to_dict() for r in outcome.results], "targets": targets,
            "sound": sound}))
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
