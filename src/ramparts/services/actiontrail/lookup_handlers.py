"""ActionTrail's event history on the wire: LookupEvents."""

from __future__ import annotations

from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.services.actiontrail.lookup import (
    DEFAULT_MAX_RESULTS,
    MAX_RESULTS,
    LookupQuery,
    TrailSearch,
    filters_of,
    parse_time,
    window,
)
from ramparts.services.actiontrail.lookup_errors import InvalidQueryParameter
from ramparts.services.actiontrail.product import ACTIONTRAIL
from ramparts.services.call import Call

__all__: list[str] = []

DIRECTIONS = {"BACKWARD": True, "FORWARD": False}  # [doc: LookupEvents: Direction]


def everything(call: Call) -> str:
    """LookupEvents has no resource-level permission: `*` [doc: LookupEvents, RAM
    authorization]."""
    del call
    return "*"


def _max_results(call: Call) -> int:
    text = call.params.str("MaxResults") or ""
    if text == "":
        return DEFAULT_MAX_RESULTS
    if not text.isascii() or not text.isdigit() or int(text) > MAX_RESULTS:
        raise InvalidQueryParameter(f"The specified query parameter is invalid: MaxResults "
                                    f"{text[:16]!r} is not a number from 0 to {MAX_RESULTS}.")
    return int(text) or DEFAULT_MAX_RESULTS


def _backward(call: Call) -> bool:
    text = call.params.str("Direction") or "BACKWARD"
    if text.upper() not in DIRECTIONS:
        raise InvalidQueryParameter(f"The specified query parameter is invalid: Direction "
                                    f"{text[:16]!r} is not FORWARD or BACKWARD.")
    return DIRECTIONS[text.upper()]


# The events found are not kept in this call's own event: they are in the trail already, and
# each lookup's event would otherwise hold the events of the lookups before it.
@ACTIONTRAIL.action("LookupEvents", resource=everything, rw="Read",
                    secret_response=["Events"])
def lookup_events(call: Call) -> dict[str, Any]:
    params = call.params
    sent_start, sent_end = params.str("StartTime") or "", params.str("EndTime") or ""
    start, end = window(
        call.context.now,
        parse_time("StartTime", sent_start) if sent_start else None,
        parse_time("EndTime", sent_end) if sent_end else None)
    filters = filters_of(params.list("LookupAttribute"))
    backward = _backward(call)
    account_id = call.context.account_id
    query = LookupQuery(
        account_id, start, end, filters, backward, _max_results(call),
        LookupQuery.fingerprint_of(account_id, filters, backward, sent_start, sent_end))
    token = params.str("NextToken") or ""
    after = query.cursor_of(token) if token else None
    index = call.env.trail_index
    if index is None:
        page = TrailSearch(call.tx, call.tx, account_id).page(query, after)
    else:
        with index.reading() as index_tx:
            page = TrailSearch(call.tx, index_tx, account_id).page(query, after)
    body: dict[str, Any] = {"Events": page.events, "StartTime": format_iso8601(start),
                            "EndTime": format_iso8601(end)}
    if page.next_cursor is not None:
        body["NextToken"] = query.token(page.next_cursor)
    return body
