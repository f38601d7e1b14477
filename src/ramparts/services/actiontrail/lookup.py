"""The trail's search behind LookupEvents: time window, attribute filters and pages, each page
one range of an index.

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
from ramparts.store.base import Row, Transaction

__all__ = [
    "COLUMNS", "DEFAULT_MAX_RESULTS", "DEFAULT_WINDOW", "HISTORY", "MAX_RESULTS",
    "RESOURCE_COLUMNS", "Cursor", "LookupPage", "LookupQuery", "TrailSearch", "filters_of",
    "parse_time", "window",
]

# [doc: LookupEvents (2020-07-06)]: StartTime defaults to 7 days before now, EndTime to now;
# events of the last 90 days can be looked up; MaxResults is 0 to 50 (our default, for absent
# or 0, is the documented example, 20).
DEFAULT_WINDOW = timedelta(days=7)
HISTORY = timedelta(days=90)
DEFAULT_MAX_RESULTS = 20
MAX_RESULTS = 50
MAX_ATTRIBUTES = 2  # [doc: How do I configure the LookupAttribute parameter]

# LookupAttribute keys [doc: How do I configure the LookupAttribute parameter] -> the indexed
# column of trail_events (migration 3); the order is the preference for the index a page is
# read from when two attributes are given (the one likely to match fewer events first).
COLUMNS: Mapping[str, str] = {
    "EventId": "event_id",
    "EventAccessKeyId": "access_key_id",
    "User": "principal_name",
    "RoleName": "role_name",
    "SourceIpAddress": "source_ip",
    "EventName": "event_name",
    "ServiceName": "service_name",
    "EventType": "event_type",
    "EventRW": "event_rw",
}
# Referenced resources live in trail_event_resources, one row per (type, name) of an event.
RESOURCE_COLUMNS: Mapping[str, str] = {
    "ResourceName": "resource_name",
    "ResourceType": "resource_type",
}
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
        if key not in COLUMNS and key not in RESOURCE_COLUMNS:
            known = ", ".join(sorted([*COLUMNS, *RESOURCE_COLUMNS]))
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
    """Pages of one account's trail events, each read from the index its filters select."""

    def __init__(self, tx: Transaction, account_id: str) -> None:
        self.tx, self.account_id = tx, account_id

    def page(self, query: LookupQuery, after: Cursor | None = None) -> LookupPage:
        sql, params = self._keys_sql(query, after, query.max_results + 1)
        keys = [(str(row["event_time"]), int(row["seq"])) for row in self.tx.query(sql, params)]
        more = len(keys) > query.max_results
        keys = keys[:query.max_results]
        events = self._bodies(keys)
        following = Cursor(*keys[-1]) if more and keys else None
        return LookupPage(events, following)

    # ---- the index read: (event_time, seq) of the page's events, in page order

    def _keys_sql(self, query: LookupQuery, after: Cursor | None, limit: int
                  ) -> tuple[str, list[Any]]:
        filters = dict(query.filters)
        resource_keys = [key for key in RESOURCE_COLUMNS if key in filters]
        if resource_keys and "EventId" not in filters:
            table, alias = "trail_event_resources", "r"
            driving = resource_keys[0]
            column = RESOURCE_COLUMNS[driving]
        else:
            table, alias = "trail_events", "e"
            driving = next((key for key in COLUMNS if key in filters), "")
            column = COLUMNS.get(driving, "")
        start, end = format_iso8601(query.start), format_iso8601(query.end)
        if after is not None:  # resume after the cursor: the range starts at its time
            if query.backward:
                end = min(end, after.event_time)
            else:
                start = max(start, after.event_time)
        where = [f"{alias}.account_id = ?"]
        params: list[Any] = [self.account_id]
        if column:
            where.append(f"{alias}.{column} = ?")
            params.append(filters.pop(driving))
        where += [f"{alias}.event_time >= ?", f"{alias}.event_time <= ?"]
        params += [start, end]
        if after is not None:
            sign = "<" if query.backward else ">"
            where.append(f"({alias}.event_time {sign} ? OR {alias}.seq {sign} ?)")
            params += [after.event_time, after.seq]
        join = ""
        # The other conditions only filter the rows of the driving index. SQLite, which keeps
        # no statistics, would otherwise read the page from whichever index it meets last: a
        # CAST keeps the column off its index choice. PostgreSQL drops a cast of text to text
        # and weighs the condition with its statistics (one of the two indexes, in order).
        resources = [key for key in filters if key in RESOURCE_COLUMNS]
        if resources and alias == "e":  # read by EventId: at most one event to check
            matches = " AND ".join(f"r.{RESOURCE_COLUMNS[key]} = ?" for key in resources)
            where.append("EXISTS (SELECT 1 FROM trail_event_resources r WHERE "  # noqa: S608
                         "r.account_id = e.account_id AND r.event_time = e.event_time AND "
                         f"r.seq = e.seq AND {matches})")
            params += [filters.pop(key) for key in resources]
        for key, value in filters.items():
            if key in RESOURCE_COLUMNS:
                where.append(f"CAST(r.{RESOURCE_COLUMNS[key]} AS TEXT) = ?")
            else:
                if alias == "r" and not join:
                    join = " JOIN trail_events e ON e.seq = r.seq"
                where.append(f"CAST(e.{COLUMNS[key]} AS TEXT) = ?")
            params.append(value)
        order = "DESC" if query.backward else "ASC"
        # An event naming several resources has several rows in trail_event_resources.
        distinct = "DISTINCT " if alias == "r" else ""
        # Only names from the tables above are spliced in; every value is a parameter.
        sql = (f"SELECT {distinct}{alias}.event_time, {alias}.seq FROM {table} {alias}{join} "  # noqa: S608
               f"WHERE {' AND '.join(where)} "
               f"ORDER BY {alias}.event_time {order}, {alias}.seq {order} LIMIT ?")
        params.append(limit)
        return sql, params

    # ---- the events themselves

    def _bodies(self, keys: list[tuple[str, int]]) -> list[dict[str, Any]]:
        if not keys:
            return []
        marks = ", ".join("?" * len(keys))
        rows: list[Row] = self.tx.query(
            f"SELECT seq, body FROM trail_events WHERE seq IN ({marks})",  # noqa: S608
            [seq for _, seq in keys])
        bodies = {int(row["seq"]): str(row["body"]) for row in rows}
        return [json.loads(bodies[seq]) for _, seq in keys]
