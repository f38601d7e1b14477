"""`ramparts trail index`: bring the trail's lookup index up to date, once or continuously."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from types import FrameType
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.cli.trail_integrity import opened_store, store_options
from ramparts.core.errors import RampartsError
from ramparts.policy.catalog import Catalog
from ramparts.server.background import DEFAULT_INDEXING_INTERVAL
from ramparts.server.config import default_data_dir
from ramparts.services.actiontrail.trail_index import (
    TrailIndexer,
    indexed_upto,
    lookup_transactions,
)
from ramparts.store.factory import open_trail_index

__all__ = ["add_index_command"]


def add_index_command(commands: Any) -> None:
    """`index`, added to the `trail` command group."""
    index = commands.add_parser(
        "index", help="index the trail's new events for LookupEvents (the server does this "
                      "itself; run it to rebuild, or in a process of its own beside it)",
        description="Index every event the lookup index lacks and exit, or with --follow keep "
        "doing so until interrupted. Any number of indexers may run beside the servers: they "
        "take turns.")
    store_options(index)
    index.add_argument("--follow", action="store_true",
                       help="keep indexing new events until SIGINT or SIGTERM")
    index.add_argument("--interval", type=float, default=DEFAULT_INDEXING_INTERVAL,
                       metavar="SECONDS", help="with --follow: how often to look for new "
                                               f"events when caught up (default "
                                               f"{DEFAULT_INDEXING_INTERVAL})")
    index.add_argument("--with-parent", action="store_true",
                       help="with --follow: stop when the process that started this one ends "
                            "(the server starts its indexer so)")
    index.add_argument("--json", action="store_true", help="print the outcome as JSON")
    index.set_defaults(handler=_index)


def _index(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    if args.interval <= 0:
        raise UsageError("--interval must be positive")
    data_dir = args.data_dir or default_data_dir()
    stopping = threading.Event()
    if args.follow:
        def stop(signum: int, frame: FrameType | None) -> None:
            del signum, frame
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    with opened_store(data_dir, args.database_url) as store:
        try:
            index = open_trail_index(args.database_url, data_dir, store)
        except RampartsError as exc:
            raise UsageError(str(exc)) from None
        try:
            indexer = TrailIndexer(store, index)
            parent = os.getppid()
            total = indexer.catch_up_fully()
            while args.follow and not stopping.is_set():
                if args.with_parent and os.getppid() != parent:
                    break  # the server is gone (killed): no orphan keeps polling
                count = indexer.catch_up()
                total += count
                if count < indexer.batch:
                    stopping.wait(args.interval)
            with lookup_transactions(store, index) as (events, index_tx):
                upto = indexed_upto(index_tx, events)
        finally:
            if index is not store:
                index.close()
    if args.json:
        out.write(json.dumps({"Indexed": total, "IndexedUpTo": upto}) + "\n")
    else:
        out.write(f"indexed {total:,} events; the index covers the trail up to event {upto:,}\n")
    return 0
