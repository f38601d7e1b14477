"""The server's trail indexer runs in a process of its own: it follows the calls' events, is
started again when it dies, and stops with the server."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ramparts.server.runtime import Runtime
from ramparts.services.actiontrail.trail_index import indexed_upto, lookup_transactions
from ramparts.testing import start_server
from tests.api.sdk import SdkClients


def _caught_up(runtime: Runtime, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with lookup_transactions(runtime.store, runtime.trail_index) as (events, index):
            last = events.query_one("SELECT MAX(seq) AS n FROM trail_events")
            assert last is not None
            if indexed_upto(index, events) >= int(last["n"] or 0):
                return
        assert time.monotonic() < deadline, "the indexer did not catch up"
        time.sleep(0.05)


def _pid(runtime: Runtime) -> int:
    assert runtime.indexing is not None
    pid = runtime.indexing.pid
    assert pid is not None
    return pid


def test_the_indexer_follows_the_calls_and_comes_back_after_a_crash(tmp_path: Path) -> None:
    with start_server(tmp_path) as server:
        admin = SdkClients.admin(server)
        for _ in range(5):
            admin.sts.get_caller_identity()
        _caught_up(server.runtime)
        first = _pid(server.runtime)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _pid(server.runtime) == first:
            assert time.monotonic() < deadline, "the indexer was not started again"
            time.sleep(0.05)
        for _ in range(5):
            admin.sts.get_caller_identity()
        _caught_up(server.runtime)
        second = _pid(server.runtime)
    # stopping the server stops its indexer
    deadline = time.monotonic() + 30
    while True:
        try:
            os.kill(second, 0)
        except ProcessLookupError:
            break
        try:
            if os.waitpid(second, os.WNOHANG) != (0, 0):
                break
        except ChildProcessError:
            break
        assert time.monotonic() < deadline, "the indexer outlived the server"
        time.sleep(0.05)
