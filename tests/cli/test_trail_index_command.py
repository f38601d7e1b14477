"""`ramparts trail index`: once it indexes what the index lacks; with --follow it keeps up
with new events until stopped, beside whatever else indexes."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ramparts.core.clock import FrozenClock
from ramparts.server.runtime import initialize
from ramparts.services.actiontrail.recorder import record_event
from ramparts.services.actiontrail.trail_index import indexed_upto, lookup_transactions
from ramparts.store.base import Store
from ramparts.store.factory import open_store, open_trail_index
from tests.services.actiontrail.test_lookup import ACCOUNT, _record


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ramparts", "trail", "index", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _append(store: Store, count: int, first: int) -> None:
    rng, clock = random.Random(first), FrozenClock()
    with store.transaction() as tx:
        for number in range(first, first + count):
            record_event(tx, _record(rng, number, clock.now(), ACCOUNT))


def _upto(data_dir: Path) -> int:
    store = open_store(None, data_dir)
    index = open_trail_index(None, data_dir, store)
    try:
        with lookup_transactions(store, index) as (events, index_tx):
            return indexed_upto(index_tx, events)
    finally:
        index.close()
        store.close()


def test_once_it_indexes_what_the_index_lacks(tmp_path: Path) -> None:
    assert initialize(tmp_path, {}) is not None
    store = open_store(None, tmp_path)
    _append(store, 300, 0)
    with store.reading() as tx:
        last = tx.query_one("SELECT MAX(seq) AS last FROM trail_events")
    store.close()
    assert last is not None
    done = _cli("--data-dir", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"Indexed": last["last"], "IndexedUpTo": last["last"]}
    again = _cli("--data-dir", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"indexed 0 events; the index covers the trail up to event " \
                           f"{last['last']:,}\n"


def test_follow_keeps_up_until_stopped(tmp_path: Path) -> None:
    assert initialize(tmp_path, {}) is not None
    process = subprocess.Popen(
        [sys.executable, "-m", "ramparts", "trail", "index", "--data-dir", str(tmp_path),
         "--follow", "--interval", "0.05", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        store = open_store(None, tmp_path)
        for round_number in range(3):
            _append(store, 2500, round_number * 10_000)
        with store.reading() as tx:
            row = tx.query_one("SELECT MAX(seq) AS last FROM trail_events")
        store.close()
        assert row is not None
        deadline = time.monotonic() + 60
        while _upto(tmp_path) < row["last"]:
            assert time.monotonic() < deadline, "the indexer did not catch up"
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert json.loads(out)["IndexedUpTo"] == row["last"]


def test_a_missing_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    done = _cli("--data-dir", str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert "no ramparts database" in done.stderr


def test_with_parent_it_ends_when_the_server_is_killed(tmp_path: Path) -> None:
    """A server killed with SIGKILL leaves no indexer polling behind it."""
    assert initialize(tmp_path, {}) is not None
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time\n"
         "child = subprocess.Popen([sys.executable, '-m', 'ramparts', 'trail', 'index', "
         "'--follow', '--with-parent', '--interval', '0.05', '--data-dir', sys.argv[1]])\n"
         "print(child.pid, flush=True)\n"
         "time.sleep(600)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        time.sleep(1.0)  # it is indexing
        os.kill(child, 0)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30
        while True:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "the indexer outlived its parent"
            time.sleep(0.05)
    finally:
        parent.stdout.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
