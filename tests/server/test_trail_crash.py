"""Trail delivery across real `ramparts serve` processes: a SIGKILL mid-burst loses no answered
call's event and duplicates none, and two replicas on one PostgreSQL deliver one verifiable
order."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from alibabacloud_actiontrail20200706 import models as at_models
from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config

from ramparts.services.actiontrail.layout import read_log_file
from ramparts.store.factory import open_store
from ramparts.testing.process import ServerProcess
from tests.conftest import PostgresDatabases

WRITERS = 4
BURST_SECONDS = 1.5
INTERVAL = ["--trail-delivery-interval", "0.1"]
SETTLE_TIMEOUT = 60.0  # a dead replica's plan is taken over after its 5-second lease
TRAIL, BUCKET = "crash-trail", "crash-bucket"


def _init(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    args = [sys.executable, "-m", "ramparts", "init", "--data-dir", str(data_dir), "--json"]
    if database_url:
        args += ["--database-url", database_url]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def _config(creds: dict[str, str], endpoint: str) -> Config:
    return Config(access_key_id=creds["AccessKeyId"], access_key_secret=creds["AccessKeySecret"],
                  endpoint=endpoint, protocol="http", region_id="cn-hangzhou",
                  read_timeout=10000, connect_timeout=2000)


def _start_trail(creds: dict[str, str], endpoint: str) -> None:
    at = ActionTrailClient(_config(creds, endpoint))
    at.create_trail(at_models.CreateTrailRequest(name=TRAIL, oss_bucket_name=BUCKET,
                                                 event_rw="All"))
    at.start_logging(at_models.StartLoggingRequest(name=TRAIL))


def _burst(creds: dict[str, str], endpoints: list[str], seconds: float,
           on_the_way: Any = None) -> list[str]:
    """CreateUser calls from WRITERS threads; the request ids of the answered ones."""
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def write(worker: int) -> None:
        ram = RamClient(_config(creds, endpoints[worker % len(endpoints)]))
        index = 0
        while not stop.is_set():
            index += 1
            try:
                body = ram.create_user(ram_models.CreateUserRequest(
                    user_name=f"burst-{worker}-{index}")).body
            except Exception:  # the server died under us: this call was not answered
                return
            with lock:
                answered.append(body.request_id)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    time.sleep(seconds)
    if on_the_way is not None:
        on_the_way()
    stop.set()
    for thread in writers:
        thread.join(timeout=30)
    return answered


def _settled(data_dir: Path, database_url: str | None) -> bool:
    """The trail has delivered the whole chain and holds no plan."""
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as tx:
            trail = tx.query_one("SELECT cursor_seq, plan FROM trails WHERE name = ?", (TRAIL,))
            head = tx.query_one("SELECT MAX(seq) AS head FROM trail_events")
    finally:
        store.close()
    assert trail is not None
    assert head is not None
    return trail["plan"] is None and int(trail["cursor_seq"]) >= int(head["head"])


def _wait_settled(data_dir: Path, database_url: str | None = None) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not _settled(data_dir, database_url):
        assert time.monotonic() < deadline, "the trail never delivered the whole chain"
        time.sleep(0.2)


def _delivered_ids(data_dir: Path) -> list[str]:
    """Every delivered event's id, file by file in the order of the digests that list them."""
    bucket = data_dir / "delivery" / BUCKET
    digests = [json.loads(path.read_text())
               for path in bucket.rglob("Actiontrail-Digest_*.json")]
    ids: list[str] = []
    for digest in sorted(digests, key=lambda d: int(d["digestNumber"])):
        for entry in digest["logFiles"]:
            events = read_log_file((bucket / entry["name"]).read_bytes())
            ids.extend(str(event["eventId"]) for event in events)
    unlisted = {p.name for p in bucket.rglob("Actiontrail_*.gz")} - {
        entry["name"].rsplit("/", 1)[-1] for d in digests for entry in d["logFiles"]}
    assert not unlisted, f"log files no digest lists: {sorted(unlisted)[:3]}"
    return ids


def _verify(data_dir: Path, database_url: str | None = None) -> dict[str, Any]:
    args = [sys.executable, "-m", "ramparts", "trail", "verify", "--data-dir", str(data_dir),
            "--json"]
    if database_url:
        args += ["--database-url", database_url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["clean"] is True
    return report


def _exactly_once(answered: list[str], delivered: list[str]) -> None:
    counts = Counter(delivered)
    assert not [i for i, n in counts.items() if n > 1], "an event was delivered twice"
    missing = set(answered) - set(counts)
    assert not missing, f"{len(missing)} answered calls' events were not delivered"


def test_a_hard_kill_mid_burst_delivers_every_answered_event_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    creds = _init(data_dir)
    server = ServerProcess(data_dir, extra_args=INTERVAL).start()
    try:
        _start_trail(creds, server.endpoint)
        answered = _burst(creds, [server.endpoint], BURST_SECONDS, on_the_way=server.kill)
    finally:
        server.kill()
    assert len(answered) > 20, "the burst should have written something before the kill"
    assert list((data_dir / "delivery" / BUCKET).rglob("Actiontrail_*.gz")), \
        "the trail should have delivered during the burst"

    with ServerProcess(data_dir, extra_args=INTERVAL):
        _wait_settled(data_dir)
    _exactly_once(answered, _delivered_ids(data_dir))
    report = _verify(data_dir)
    assert report["checked"]["deliveredEvents"] >= len(answered)


def test_two_replicas_on_one_postgres_deliver_one_verifiable_order(
        tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    url = postgres_databases.create()
    data_dir = tmp_path / "data"
    creds = _init(data_dir, url)
    with ServerProcess(data_dir, database_url=url, extra_args=INTERVAL) as first, \
            ServerProcess(data_dir, database_url=url, extra_args=INTERVAL) as second:
        _start_trail(creds, first.endpoint)
        answered = _burst(creds, [first.endpoint, second.endpoint], BURST_SECONDS)
        _wait_settled(data_dir, url)
    assert len(answered) > 20
    delivered = _delivered_ids(data_dir)
    _exactly_once(answered, delivered)
    report = _verify(data_dir, url)
    assert report["checked"]["digests"] >= 2
    # One order: the delivered events follow the chain's order.
    store = open_store(url, data_dir)
    try:
        with store.transaction() as tx:
            order = [str(row["event_id"]) for row in
                     tx.query("SELECT event_id FROM trail_events ORDER BY seq")]
    finally:
        store.close()
    position = {event_id: index for index, event_id in enumerate(order)}
    assert [position[event_id] for event_id in delivered] == \
        sorted(position[event_id] for event_id in delivered)
