"""The trail's search behind LookupEvents: time window, attribute filters and pages, each page
one range of the trail index's postings plus the few events not indexed yet.

Pages are read newest first (BACKWARD, the default) or oldest first (FORWARD) in
(event_time, seq) order, and resume after the last event returned: the NextToken carries only
that position and a digest of the query it belongs to. It selects nothing by itself (the
account and the filters always come from the request), so no token reaches an event the same
request without it could not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.services.actiontrail.lookup_errors import (
    InvalidParameterCombination,
    InvalidParameterEndTime,
    InvalidParameterStartTime,
    InvalidQueryParameter,
)
from ramparts.services.actiontrail.trail_index import (
    EVERY_EVENT,
    INDEXED_KEYS,
    RESOURCE,
    TERM_COLUMNS,
    event_id_digest,
    event_second,
    indexed_upto,
    lookup_terms,
    term_ids,
    terms_of,
)
from ramparts.store.base import Row, Transaction

__all__ = [
    "DEFAULT_MAX_RESULTS", "DEFAULT_WINDOW", "HISTORY", "KEYS", "MAX_RESULTS", "Cursor",
    "LookupPage", "LookupQuery", "TrailSearch", "filters_of", "parse_time", "window",
]

# [doc: LookupEvents (2020-07-06)]: StartTime defaults to 7 days before now, EndTime to now;
# events of the last 90 days can be looked up; MaxResults is 0 to 50 (our default, for absent
# or 0, is the documented example, 20).
DEFAULT_WINDOW = timedelta(days=7)
HISTORY = timedelta(days=90)
DEFAULT_MAX_RESULTS = 20
MAX_RESULTS = 50
MAX_ATTRIBUTES = 2  # [doc: How do I configure the LookupAttribute parameter]

# LookupAttribute keys [doc: How do I configure the LookupAttribute parameter]: EventId, and
# the terms of the trail index; the order is the preference for the postings a page is read
# from when two attributes are given (the one likely to match fewer events first).
PREFERENCE = (RESOURCE, "ResourceName", "EventAccessKeyId", "User", "RoleName", "SourceIpAddress",
              "EventName", "ResourceType", "ServiceName", "EventType", "EventRW")
KEYS = frozenset({"EventId", *PREFERENCE}) - {RESOURCE}
# Documented keys whose attribute our events do not carry: refused rather than matched wrongly.
UNRECORDED = frozenset({"SensitiveAction", "PrincipalId"})

_ISO_SECONDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)
_SEQ = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}", re.ASCII)
TOKEN_VERSION = "1"  # noqa: S105 (a format version, not a secret)


def parse_time(name: str, text: str) -> datetime:
    """An ISO 8601 time (`2026-01-01T00:00:00Z`; an offset is honoured, none means UTC)."""
    error = InvalidParameterStartTime if name == "StartTime" else InvalidParameterEndTime
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise error(f"The specified {name} is invalid: {text[:64]!r} is not an ISO 8601 UTC "
                    "time such as 2026-01-01T00:00:00Z.") from None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def window(now: datetime, start: datetime | None, end: datetime | None
           ) -> tuple[datetime, datetime]:
    """The [start, end] a lookup reads: the documented defaults, within the last 90 days."""
    end = end if end is not None else now
    start = start if start is not None else now - DEFAULT_WINDOW
    if start < now - HISTORY:
        raise InvalidParameterStartTime(
            f"The specified StartTime is invalid: {format_iso8601(start)} is more than 90 days "
            f"ago; events can be looked up from {format_iso8601(now - HISTORY)} on.")
    if end <= start:
        raise InvalidParameterCombination(
            f"The end time must be later than the start time (StartTime "
            f"{format_iso8601(start)}, EndTime {format_iso8601(end)}).")
    return start, end


def filters_of(attributes: Sequence[Any]) -> dict[str, str]:
    """The lookup conditions `LookupAttribute.N.Key/Value` ask for, as documented: the first
    two are used, exact and case-sensitive, both must match, and of two with one key the
    second wins."""
    filters: dict[str, str] = {}
    for number, attribute in enumerate(attributes[:MAX_ATTRIBUTES], start=1):
        name = f"LookupAttribute.{number}"
        if not isinstance(attribute, Mapping):
            raise InvalidQueryParameter(f"The specified query parameter is invalid: {name} "
                                        f"must be given as {name}.Key and {name}.Value.")
        unknown = sorted(set(attribute) - {"Key", "Value"})
        if unknown:
            raise InvalidQueryParameter(f"The specified query parameter is invalid: {name} has "
                                        f"no field {unknown[0][:32]!r} (only Key and Value).")
        key, value = attribute.get("Key", ""), attribute.get("Value", "")
        if not key or not value:
            raise InvalidQueryParameter(f"The specified query parameter is invalid: {name} "
                                        "needs both a Key and a Value.")
        if key in UNRECORDED:
            raise InvalidQueryParameter(f"The specified query parameter is invalid: {name}.Key "
                                        f"{key} is not recorded by this server's events.")
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise InvalidQueryParameter(f"The specified query parameter is invalid: {name}.Key "
                                        f"{key[:64]!r} is not one of {known}.")
        filters.pop(key, None)
        filters[key] = value
    return filters


@dataclass(frozen=True, slots=True)
class Cursor:
    """The position after which the next page starts: the last event returned."""

    event_time: str
    seq: int


@dataclass(frozen=True, slots=True)
class LookupQuery:
    """One page's question. `fingerprint` identifies the query its NextToken belongs to."""

    account_id: str
    start: datetime
    end: datetime
    filters: Mapping[str, str]
    backward: bool = True
    max_results: int = DEFAULT_MAX_RESULTS
    fingerprint: str = ""

    @staticmethod
    def fingerprint_of(account_id: str, filters: Mapping[str, str], backward: bool,
                       sent_start: str, sent_end: str) -> str:
        """A digest of what must not change between pages: the account, the filters, the
        direction and the times as sent (absent times stay absent, the window then moving with
        the clock)."""
        text = json.dumps([account_id, sorted(filters.items()), backward, sent_start, sent_end])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def token(self, cursor: Cursor) -> str:
        raw = "|".join((TOKEN_VERSION, cursor.event_time, str(cursor.seq), self.fingerprint))
        return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")

    def cursor_of(self, token: str) -> Cursor:
        """The position a NextToken of this query carries; InvalidQueryParameter for any other
        text (malformed, altered, or from a query with other parameters)."""
        invalid = InvalidQueryParameter(
            "The specified query parameter is invalid: NextToken is not a token of this query; "
            "pass the NextToken of the previous answer with the same other parameters.")
        if _TOKEN.fullmatch(token) is None:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        except (binascii.Error, ValueError):
            raise invalid from None
        parts = raw.split("|")
        if (len(parts) != 4 or parts[0] != TOKEN_VERSION or _ISO_SECONDS.fullmatch(parts[1])
                is None or _SEQ.fullmatch(parts[2]) is None or parts[3] != self.fingerprint):
            raise invalid
        cursor = Cursor(parts[1], int(parts[2]))
        if self.token(cursor) != token:  # one spelling per position
            raise invalid
        return cursor


@dataclass(frozen=True, slots=True)
class LookupPage:
    events: list[dict[str, Any]]
    next_cursor: Cursor | None


class TrailSearch:
    """Pages of one account's trail events: the postings of the indexed events (one range of
    the postings' key per page, from the `index` transaction) and the events after the index's
    watermark, checked one by one (from the `events` transaction), merged in page order. On
    PostgreSQL both are one transaction."""

    def __init__(self, events: Transaction, index: Transaction, account_id: str) -> None:
        self.events, self.index, self.account_id = events, index, account_id

    def page(self, query: LookupQuery, after: Cursor | None = None) -> LookupPage:
        limit = query.max_results + 1
        bounds = _Bounds.of(query, after)
        upto = indexed_upto(self.index, self.events)
        event_id = query.filters.get("EventId")
        keys = set(self._unindexed(query.filters, bounds, upto, limit))
        if event_id is not None:
            keys.update(self._by_event_id(event_id, query.filters, bounds))
        elif upto:
            keys.update(self._indexed(query.filters, bounds, limit, upto))
        ordered = sorted(keys, reverse=query.backward)
        more = len(ordered) > query.max_results
        page = ordered[:query.max_results]
        following = Cursor(_iso(page[-1][0]), page[-1][1]) if more and page else None
        return LookupPage(self._bodies([seq for _, seq in page]), following)

    # ---- the indexed events: one range of trail_postings' primary key

    def _indexed(self, filters: Mapping[str, str], bounds: _Bounds, limit: int, upto: int
                 ) -> list[tuple[int, int]]:
        wanted = sorted(lookup_terms(filters), key=lambda term: PREFERENCE.index(term[0])) \
            or [EVERY_EVENT]
        ids = term_ids(self.index, self.account_id, wanted)
        if any(term_id is None for term_id in ids):
            return []  # no indexed event has that value
        driving, *others = ids
        # Postings past the watermark (another replica's indexer may have written some since
        # it was read) are left to the one-by-one check, so that no event comes twice.
        where = ["p.term_id = ?", "p.event_second >= ?", "p.event_second <= ?", "p.seq <= ?"]
        params: list[Any] = [driving, bounds.first, bounds.last, upto]
        if bounds.after is not None:
            sign = "<" if bounds.backward else ">"
            where.append(f"(p.event_second {sign} ? OR p.seq {sign} ?)")
            params += list(bounds.after)
        # The second condition: a posting of the same event, checked row by row on the
        # primary key. As a scalar subquery it stays a check; as EXISTS, PostgreSQL may join
        # the two terms' whole ranges and sort them, which a frequent term makes slow.
        for other in others:
            where.append("(SELECT 1 FROM trail_postings q WHERE q.term_id = ? AND "
                         "q.event_second = p.event_second AND q.seq = p.seq LIMIT 1) = 1")
            params.append(other)
        order = "DESC" if bounds.backward else "ASC"
        rows = self.index.query(
            "SELECT p.event_second, p.seq FROM trail_postings p "  # noqa: S608 (fixed text)
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY p.event_second {order}, p.seq {order} LIMIT ?", [*params, limit])
        return [(int(row["event_second"]), int(row["seq"])) for row in rows]

    def _by_event_id(self, event_id: str, filters: Mapping[str, str], bounds: _Bounds
                     ) -> list[tuple[int, int]]:
        seqs = [int(row["seq"]) for row in self.index.query(
            "SELECT seq FROM trail_event_ids WHERE digest = ?", (event_id_digest(event_id),))]
        if not seqs:
            return []
        marks = ", ".join("?" * len(seqs))
        rows = self.events.query(
            f"SELECT {TERM_COLUMNS} FROM trail_events WHERE seq IN ({marks}) "  # noqa: S608
            "AND event_id = ? AND account_id = ?", [*seqs, event_id, self.account_id])
        return [key for row in rows if (key := _match(row, filters, bounds)) is not None]

    # ---- the events after the watermark, checked one by one

    def _unindexed(self, filters: Mapping[str, str], bounds: _Bounds, upto: int, limit: int
                   ) -> list[tuple[int, int]]:
        """The matching events after the watermark: the database checks the window, the
        position and the columns, and keeps the page's first `limit` (those the resources
        filters leave are checked here; LIKE only narrows them down)."""
        where = ["seq > ?", "account_id = ?", "event_time >= ?", "event_time <= ?"]
        params: list[Any] = [upto, self.account_id, _iso(bounds.first), _iso(bounds.last)]
        if bounds.after is not None:
            sign = "<" if bounds.backward else ">"
            where.append(f"(event_time {sign} ? OR seq {sign} ?)")
            params += [_iso(bounds.after[0]), bounds.after[1]]
        resources = False
        for name, value in filters.items():
            column = "event_id" if name == "EventId" else INDEXED_KEYS.get(name)
            if column is not None:
                where.append(f"{column} = ?")
                params.append(value)
            else:  # ResourceName, ResourceType: a JSON string of the resources column
                resources = True
                where.append("(resources IS NULL OR resources LIKE ? ESCAPE '!')")
                params.append(f"%{_like(json.dumps(value, ensure_ascii=False))}%")
        order = "DESC" if bounds.backward else "ASC"
        sql = (f"SELECT {TERM_COLUMNS} FROM trail_events "  # noqa: S608 (fixed names)
               f"WHERE {' AND '.join(where)} ORDER BY event_time {order}, seq {order}")
        if not resources:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self.events.query(sql, params)
        return [key for row in rows if (key := _match(row, filters, bounds)) is not None]

    # ---- the events themselves

    def _bodies(self, seqs: list[int]) -> list[dict[str, Any]]:
        if not seqs:
            return []
        marks = ", ".join("?" * len(seqs))
        rows: list[Row] = self.events.query(
            f"SELECT seq, body FROM trail_events WHERE seq IN ({marks})",  # noqa: S608
            seqs)
        bodies = {int(row["seq"]): str(row["body"]) for row in rows}
        return [json.loads(bodies[seq]) for seq in seqs]


@dataclass(frozen=True, slots=True)
class _Bounds:
    """A page's range in (event_second, seq) order: the window's seconds, and the position it
    resumes after, if any."""

    first: int
    last: int
    backward: bool
    after: tuple[int, int] | None

    @classmethod
    def of(cls, query: LookupQuery, cursor: Cursor | None) -> _Bounds:
        first, last = _second(query.start), _second(query.end)
        after = None
        if cursor is not None:
            after = (event_second(cursor.event_time), cursor.seq)
            if query.backward:
                last = min(last, after[0])
            else:
                first = max(first, after[0])
        return cls(first, last, query.backward, after)

    def holds(self, key: tuple[int, int]) -> bool:
        if not self.first <= key[0] <= self.last:
            return False
        if self.after is None:
            return True
        return key < self.after if self.backward else key > self.after


def _second(moment: datetime) -> int:
    return int(moment.timestamp())  # whole seconds, as event times are written


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching itself (escape character !)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _iso(second: int) -> str:
    return format_iso8601(datetime.fromtimestamp(second, UTC))


def _match(row: Row, filters: Mapping[str, str], bounds: _Bounds) -> tuple[int, int] | None:
    """The event's page key when it is in the page's range and meets every filter."""
    key = (event_second(str(row["event_time"])), int(row["seq"]))
    if not bounds.holds(key):
        return None
    for name, value in filters.items():
        column = "event_id" if name == "EventId" else INDEXED_KEYS.get(name)
        if column is not None and row[column] != value:
            return None
    wanted = [term for term in lookup_terms(filters) if term[0] not in INDEXED_KEYS]
    if wanted:  # the resources, read from the row only when asked for
        terms = terms_of(row)
        return key if all(term in terms for term in wanted) else None
    return key
