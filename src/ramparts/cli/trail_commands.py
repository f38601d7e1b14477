"""`ramparts trail ...`: the ActionTrail record from the command line; `trail lookup` searches
it through the API (LookupEvents), as an operator does during an incident."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.cli.login_commands import session_file
from ramparts.cli.trail_indexing import add_index_command
from ramparts.cli.trail_integrity import add_integrity_commands
from ramparts.core.clock import format_iso8601
from ramparts.policy.catalog import Catalog
from ramparts.protocol.client import ApiClient, ApiError, ClientCredentials

__all__ = ["add_trail_commands"]

ACTIONTRAIL_VERSION = "2020-07-06"
PAGE_SIZE = 50  # LookupEvents' largest page
DEFAULT_MAX = 50
# The credentials every Alibaba Cloud SDK and CLI reads from the environment.
KEY_ID_ENV, SECRET_ENV = "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
TOKEN_ENV, ENDPOINT_ENV = "ALIBABA_CLOUD_SECURITY_TOKEN", "RAMPARTS_ENDPOINT"
FILTERS = (("event_name", "EventName", "--event-name"), ("user", "User", "--user"),
           ("access_key", "EventAccessKeyId", "--access-key"))
_DURATION = re.compile(r"([0-9]{1,6})([smhdw])", re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
COLUMNS = ("TIME", "EVENT", "USER", "SOURCE IP", "ACCESSKEY", "ERROR")
MAX_CELL = 48


def add_trail_commands(subparsers: Any) -> Any:
    """The `trail` command group; returns its subparsers, where every `trail` command is
    added."""
    trail = subparsers.add_parser("trail", help="search the ActionTrail record of API calls")
    commands = trail.add_subparsers(dest="trail_command", required=True, metavar="COMMAND")
    _add_lookup(commands)
    add_integrity_commands(commands)
    add_index_command(commands)
    return commands


def _add_lookup(commands: Any) -> None:
    lookup = commands.add_parser(
        "lookup", help="find events (newest first) by time, event name, user or AccessKey",
        description="Search the trail through the API (ActionTrail LookupEvents), with the "
        f"AccessKey in {KEY_ID_ENV}/{SECRET_ENV} (and --endpoint), else the session kept by "
        "`ramparts login`. Without --since or --until: the last 7 days.")
    lookup.add_argument("--since", help="start: a duration ago (30m, 1h, 7d) or an ISO 8601 "
                                        "time (2026-01-01T00:00:00Z); default 7 days before "
                                        "--until")
    lookup.add_argument("--until", help="end: a duration ago or an ISO 8601 time; default now")
    lookup.add_argument("--event-name", help="only this API action (e.g. CreateAccessKey)")
    lookup.add_argument("--user", help="only calls by this user (a RAM user name, root, or "
                                       "<role>:<session>)")
    lookup.add_argument("--access-key", help="only calls signed with this AccessKey ID")
    lookup.add_argument("--max", type=int, default=DEFAULT_MAX,
                        help=f"at most this many events (default {DEFAULT_MAX})")
    lookup.add_argument("--output", choices=("table", "json"), default="table",
                        help="a table for people (default) or JSON for programs")
    lookup.add_argument("--endpoint", help=f"host:port of the server (default {ENDPOINT_ENV}, "
                                           "else the endpoint of `ramparts login`)")
    lookup.add_argument("--https", action="store_true", help="connect over TLS")
    lookup.add_argument("--ca-file", help="trust this CA certificate (PEM) for --https")
    lookup.set_defaults(handler=_lookup)


# ---- arguments


def _moment(option: str, text: str, now: datetime) -> datetime:
    """`30m`, `1h`, `7d` ago, or an ISO 8601 time (UTC unless it says otherwise)."""
    duration = _DURATION.fullmatch(text.strip())
    if duration is not None:
        amount, unit = int(duration.group(1)), _UNITS[duration.group(2)]
        return now - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is neither a duration (30m, 1h, 7d) nor an ISO 8601 "
                         "time (2026-01-01T00:00:00Z)") from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _lookup_params(args: argparse.Namespace, now: datetime) -> dict[str, str]:
    if args.max < 1:
        raise UsageError(f"--max {args.max}: give a number of events of at least 1")
    params: dict[str, str] = {}
    if args.since is not None or args.until is not None:
        until = _moment("--until", args.until, now) if args.until is not None else now
        since = (_moment("--since", args.since, now) if args.since is not None
                 else until - timedelta(days=7))
        if since >= until:
            raise UsageError(f"--since ({format_iso8601(since)}) must be before --until "
                             f"({format_iso8601(until)})")
        params.update(StartTime=format_iso8601(since), EndTime=format_iso8601(until))
    chosen = [(key, getattr(args, attribute)) for attribute, key, _ in FILTERS
              if getattr(args, attribute)]
    if len(chosen) > 2:
        raise UsageError("give at most two of --event-name, --user and --access-key: "
                         "LookupEvents combines two conditions")
    for number, (key, value) in enumerate(chosen, start=1):
        params[f"LookupAttribute.{number}.Key"] = key
        params[f"LookupAttribute.{number}.Value"] = value
    return params


# ---- where to call, as whom


def _from_environment(args: argparse.Namespace) -> tuple[ApiClient, ClientCredentials] | None:
    key_id, secret = os.environ.get(KEY_ID_ENV), os.environ.get(SECRET_ENV)
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        raise UsageError(f"set both {KEY_ID_ENV} and {SECRET_ENV}, or neither to use the "
                         "session of `ramparts login`")
    endpoint = args.endpoint or os.environ.get(ENDPOINT_ENV)
    if not endpoint:
        raise UsageError(f"with an AccessKey from the environment, give --endpoint host:port "
                         f"(or set {ENDPOINT_ENV})")
    client = ApiClient(endpoint, secure=args.https, ca_file=args.ca_file)
    return client, ClientCredentials(key_id, secret, os.environ.get(TOKEN_ENV) or None)


def _from_session(args: argparse.Namespace, now: datetime) -> tuple[ApiClient, ClientCredentials]:
    path = session_file()
    try:
        kept: dict[str, Any] = dict(json.loads(path.read_text(encoding="utf-8")))
        credentials = ClientCredentials(str(kept["AccessKeyId"]), str(kept["AccessKeySecret"]),
                                        str(kept["SecurityToken"]))
        expires = datetime.fromisoformat(str(kept["Expiration"]))
    except FileNotFoundError:
        raise UsageError(f"no credentials: run `ramparts login`, or set {KEY_ID_ENV} and "
                         f"{SECRET_ENV} with --endpoint") from None
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{path} is not a session file; run `ramparts login` again") from None
    if expires.tzinfo is None or expires <= now:
        raise UsageError(f"the session kept by `ramparts login` expired at "
                         f"{kept['Expiration']}; run `ramparts login` again")
    endpoint = args.endpoint or os.environ.get(ENDPOINT_ENV) or str(kept["Endpoint"])
    client = ApiClient(endpoint, secure=args.https or bool(kept.get("Https")),
                       ca_file=args.ca_file or kept.get("CaFile"))
    return client, credentials


# ---- the lookup


def _pages(client: ApiClient, credentials: ClientCredentials, params: Mapping[str, str],
           wanted: int) -> Iterator[dict[str, Any]]:
    """Each answer of LookupEvents, following NextToken until `wanted` events came."""
    token, seen = "", 0
    while True:
        page = dict(params, MaxResults=str(min(PAGE_SIZE, wanted - seen)))
        if token:
            page["NextToken"] = token
        try:
            answer = client.call(ACTIONTRAIL_VERSION, "LookupEvents", page, credentials)
        except ApiError as error:
            if error.status == 0:
                raise UsageError(str(error)) from None
            raise UsageError(f"the lookup was refused: {error}") from None
        yield answer
        seen += len(answer.get("Events") or [])
        token = str(answer.get("NextToken") or "")
        if not token or seen >= wanted:
            return


def _lookup(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    now = datetime.now(UTC)
    params = _lookup_params(args, now)
    client, credentials = _from_environment(args) or _from_session(args, now)
    events: list[dict[str, Any]] = []
    first: dict[str, Any] = {}
    more = ""
    for answer in _pages(client, credentials, params, args.max):
        first = first or answer
        events += list(answer.get("Events") or [])
        more = str(answer.get("NextToken") or "")
    events = events[:args.max]
    if args.output == "json":
        report: dict[str, Any] = {"StartTime": first.get("StartTime"),
                                  "EndTime": first.get("EndTime"), "Events": events}
        if more:
            report["NextToken"] = more
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        return 0
    out.write(f"{len(events)} event{'s' if len(events) != 1 else ''} from "
              f"{first.get('StartTime')} to {first.get('EndTime')}, newest first\n")
    if events:
        _table(out, [_row(event) for event in events])
    if more:
        out.write(f"(more events match: raise --max above {args.max} or narrow the window)\n")
    return 0


# ---- the table


def _cell(value: Any) -> str:
    """Printable text only: names in events come from callers, and a terminal must not run
    their control sequences."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value or ""))
    return (text[:MAX_CELL - 1] + "…" if len(text) > MAX_CELL else text) or "-"


def _row(event: Mapping[str, Any]) -> tuple[str, ...]:
    identity = event.get("userIdentity") or {}
    key = identity.get("accessKeyId") or ""
    claimed = (event.get("additionalEventData") or {}).get("claimedAccessKeyId")
    if not key and claimed:  # the call never authenticated: the key it named
        key = f"{claimed} (unverified)"
    return tuple(_cell(value) for value in (
        event.get("eventTime"), event.get("eventName"), identity.get("userName"),
        event.get("sourceIpAddress"), key, event.get("errorCode")))


def _table(out: TextIO, rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    for row in [COLUMNS, *rows]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                  .rstrip() + "\n")
