"""The trail's single choke point: one hash-chained event per API call, in the call's transaction.

Events are chained per store: each carries the hash of the one before it, and appends are
serialized by a named lock so that several server replicas on one PostgreSQL still build one
order. If the event cannot be written the transaction fails, and the call with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ramparts.core import jsontext
from ramparts.core.clock import format_iso8601
from ramparts.core.context import Caller, CallerKind, RequestContext
from ramparts.store.base import Transaction

__all__ = [
    "GENESIS_HASH", "CallRecord", "canonical", "event_hash", "first_break", "record_event",
]

GENESIS_HASH = "0" * 64
CHAIN_LOCK = "actiontrail-chain"
CHAIN_HEAD = "actiontrail-chain-head"  # the memo of a transaction that has appended:
CHAIN_ROWS = "actiontrail-chain-rows"  # its head, and the rows written before it commits
EVENT_COLUMNS = ("seq", "event_id", "account_id", "event_time", "event_name", "event_rw",
                 "service_name", "principal_name", "access_key_id", "error_code", "body",
                 "prev_hash", "hash", "source_ip", "event_type", "role_name", "resources")


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What the trail needs to know about one finished call (already redacted)."""

    context: RequestContext
    event_type: str
    rw: str
    request_parameters: Mapping[str, str]
    response_elements: Any
    error_code: str
    error_message: str
    resources: Sequence[tuple[str, str]]
    caller: Caller | None
    additional: Mapping[str, Any]
    service_name: str = ""  # overrides the product's name (sign-in: AasSub, AasCustomer)


def canonical(body: Mapping[str, Any]) -> str:
    return jsontext.canonical(body)


def event_hash(previous: str, body_text: str) -> str:
    return hashlib.sha256(f"{previous}\n{body_text}".encode()).hexdigest()


def _identity(caller: Caller | None, account_id: str) -> dict[str, Any]:
    if caller is None:
        return {"type": "anonymous", "accountId": account_id, "principalId": "",
                "userName": "", "accessKeyId": ""}
    identity: dict[str, Any] = {
        "type": str(caller.kind),
        "principalId": caller.principal_id,
        "accountId": caller.account_id,
        "accessKeyId": caller.access_key_id,
        "userName": caller.display_name,
        "arn": caller.arn,
        "sessionContext": {
            "attributes": {
                "mfaAuthenticated": "true" if caller.mfa_present else "false",
                "creationDate": format_iso8601(caller.session_created_at)
                if caller.session_created_at else "",
            }
        },
    }
    if caller.kind is CallerKind.ROLE_SESSION:
        identity["sessionContext"]["sessionIssuer"] = {"type": "role", "userName": caller.name}
    return identity


def build_event(record: CallRecord, event_id: str) -> dict[str, Any]:
    """The event in ActionTrail's schema [doc: Management event structure]."""
    context = record.context
    referenced: dict[str, list[str]] = {}
    for resource_type, name in record.resources:
        referenced.setdefault(resource_type, [])
        if name not in referenced[resource_type]:
            referenced[resource_type].append(name)
    return {
        "eventId": event_id,
        "eventVersion": 1,
        "eventName": context.action,
        "eventType": record.event_type,
        "eventCategory": "Management",
        "eventRW": record.rw,
        "eventSource": context.host,
        "eventTime": format_iso8601(context.now),
        "acsRegion": context.region,
        "serviceName": record.service_name or context.product,
        "apiVersion": context.version,
        "requestId": context.request_id,
        "sourceIpAddress": context.source_ip,
        "userAgent": context.user_agent,
        "userIdentity": _identity(record.caller, context.account_id),
        "requestParameters": dict(record.request_parameters),
        "responseElements": record.response_elements,
        "errorCode": record.error_code,
        "errorMessage": record.error_message,
        "additionalEventData": dict(record.additional),
        "referencedResources": referenced,
        "resourceName": ";".join(name for _, name in record.resources),
        "recipientAccountId": context.account_id,
    }


def record_event(tx: Transaction, record: CallRecord) -> dict[str, Any]:
    """Append the call's event to the chain inside `tx`; the event appended.

    The transaction's events are written together just before it commits (one bulk write
    however many calls share it); until then the chain lock and its head, kept in the
    transaction's memo, make them the next links. If they cannot be written, the transaction
    fails, and every call with it.
    """
    head: tuple[int, str] | None = tx.memo.get(CHAIN_HEAD)
    if head is None:  # the transaction's first event: take the chain, and read its head
        tx.lock(CHAIN_LOCK)
        last = tx.query_one("SELECT seq, hash FROM trail_events ORDER BY seq DESC LIMIT 1")
        head = (0, GENESIS_HASH) if last is None else (int(last["seq"]), str(last["hash"]))
        rows: list[tuple[Any, ...]] = []
        tx.memo[CHAIN_ROWS] = rows
        tx.before_commit(lambda: tx.insert_rows("trail_events", EVENT_COLUMNS, rows))
    seq, previous = head[0] + 1, head[1]
    event = build_event(record, record.context.request_id)
    body = canonical(event)
    caller = record.caller
    role_name = caller.name if caller and caller.kind is CallerKind.ROLE_SESSION else ""
    # `resources` is what LookupEvents finds by ResourceType and ResourceName, and the
    # other columns what it finds by its other keys: copies of the body's fields, not hashed.
    resources = [[kind, name] for kind, names in event["referencedResources"].items()
                 for name in names]
    digest = event_hash(previous, body)
    tx.memo[CHAIN_ROWS].append((
        seq, event["eventId"], record.context.account_id, event["eventTime"],
        event["eventName"], event["eventRW"], event["serviceName"],
        caller.display_name if caller else "", caller.access_key_id if caller else "",
        record.error_code, body, previous, digest, event["sourceIpAddress"],
        event["eventType"], role_name,
        jsontext.compact(resources) if resources
        else "[]"))
    tx.memo[CHAIN_HEAD] = (seq, digest)  # the lock is held until the transaction ends
    return event


def first_break(tx: Transaction, batch: int = 1000) -> int | None:
    """The sequence number of the first event whose link or hash does not verify (a gap in the
    sequence counts), or None when the whole chain is intact."""
    previous, expected_seq = GENESIS_HASH, 1
    while True:
        rows = tx.query("SELECT seq, body, prev_hash, hash FROM trail_events WHERE seq >= ? "
                        "ORDER BY seq LIMIT ?", (expected_seq, batch))
        if not rows:
            return None
        for row in rows:
            seq = int(row["seq"])
            if (seq != expected_seq or row["prev_hash"] != previous
                    or row["hash"] != event_hash(previous, str(row["body"]))):
                return expected_seq if seq != expected_seq else seq
            previous, expected_seq = str(row["hash"]), seq + 1
