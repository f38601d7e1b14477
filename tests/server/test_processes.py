"""Real `ramparts serve` processes: replicas sharing PostgreSQL, and a hard kill mid-burst."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config

from ramparts.services.actiontrail.recorder import first_break
from ramparts.store.factory import open_store
from ramparts.testing.process import ServerProcess
from tests.api.raw import Answer, Signer, encode_query, send
from tests.conftest import PostgresDatabases

WRITERS = 4
BURST_SECONDS = 1.5


def _init(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    args = [sys.executable, "-m", "ramparts", "init", "--data-dir", str(data_dir), "--json"]
    if database_url:
        args += ["--database-url", database_url]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def _ram(creds: dict[str, str], endpoint: str) -> RamClient:
    return RamClient(Config(access_key_id=creds["AccessKeyId"],
                            access_key_secret=creds["AccessKeySecret"], endpoint=endpoint,
                            protocol="http", region_id="cn-hangzhou", read_timeout=10000,
                            connect_timeout=2000))


def _all_users(ram: RamClient) -> set[str]:
    names: set[str] = set()
    marker = None
    while True:
        body = ram.list_users(ram_models.ListUsersRequest(marker=marker, max_items=1000)).body
        names |= {user.user_name for user in body.users.user}
        if not body.is_truncated:
            return names
        marker = body.marker


def test_replicas_on_one_postgres_share_everything(tmp_path: Path,
                                                   postgres_databases: PostgresDatabases
                                                   ) -> None:
    url = postgres_databases.create()
    creds = _init(tmp_path / "data", url)
    with ServerProcess(tmp_path / "data", database_url=url) as first, \
            ServerProcess(tmp_path / "data", database_url=url) as second:
        _ram(creds, first.endpoint).create_user(ram_models.CreateUserRequest(
            user_name="made-on-first", display_name="First"))
        seen = _ram(creds, second.endpoint).get_user(ram_models.GetUserRequest(
            user_name="made-on-first")).body.user
        assert seen.display_name == "First"
        # A nonce used on one replica is refused by the other, for the same signed bytes.
        signer = Signer(first, creds["AccessKeyId"], creds["AccessKeySecret"])
        query = signer.rpc_params("GetCallerIdentity", "2015-04-01", nonce="shared-nonce-1")
        target = "/?" + encode_query(query)
        assert send(first, "POST", target).status == 200
        replayed = Answer.error(send(second, "POST", target), 400, "SignatureNonceUsed")
        assert replayed["Code"] == "SignatureNonceUsed"
        # Both replicas append to one unbroken event chain.
        for index in range(10):
            server = first if index % 2 else second
            _ram(creds, server.endpoint).get_user(ram_models.GetUserRequest(user_name="admin"))
    store = open_store(url, tmp_path / "data")
    try:
        with store.transaction() as tx:
            assert first_break(tx) is None
            count = tx.query_one("SELECT COUNT(*) AS n FROM trail_events")
            assert count is not None
            assert int(count["n"]) >= 12
    finally:
        store.close()


def test_a_hard_kill_loses_no_answered_call_and_no_link(tmp_path: Path) -> None:
    creds = _init(tmp_path / "data")
    server = ServerProcess(tmp_path / "data").start()
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def write(worker: int) -> None:
        ram = _ram(creds, server.endpoint)
        index = 0
        while not stop.is_set():
            name = f"crash-{worker}-{index}"
            index += 1
            try:
                ram.create_user(ram_models.CreateUserRequest(user_name=name))
            except Exception:  # the server died under us: this call was not answered
                return
            with lock:
                answered.append(name)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    time.sleep(BURST_SECONDS)
    server.kill()
    stop.set()
    for thread in writers:
        thread.join(timeout=30)
    assert len(answered) > 20, "the burst should have written something before the kill"

    with ServerProcess(tmp_path / "data") as restarted:
        present = _all_users(_ram(creds, restarted.endpoint))
    missing = sorted(set(answered) - present)
    assert not missing, f"{len(missing)} answered CreateUser calls were lost: {missing[:5]}"
    store = open_store(None, tmp_path / "data")
    try:
        with store.transaction() as tx:
            assert first_break(tx) is None
            created = tx.query("SELECT body FROM trail_events WHERE event_name = 'CreateUser' "
                               "AND error_code = ''")
        recorded = {json.loads(row["body"])["requestParameters"]["UserName"]
                    for row in created}
        assert set(answered) <= recorded
    finally:
        store.close()
