"""A server whose root key is split into shares starts sealed and serves nothing but unsealing
until enough shares are given; then it serves the API through the same socket."""

from __future__ import annotations

import http.client
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException

from ramparts.cli.main import main
from ramparts.crypto.keyring import KEY_FILE_NAME, ROOT_KEY_ENV, RootKey
from ramparts.crypto.shamir import Share
from ramparts.server.config import ServerConfig
from ramparts.server.http import bind, build_sealed_server
from ramparts.server.runtime import Runtime, open_runtime
from ramparts.server.sealed import UNSEAL_FILE_NAME, SealedApp, read_unseal_file
from tests.api.sdk import error_of

STARTUP_TIMEOUT = 20.0


@dataclass
class Split:
    """What `ramparts init --key-shares N --key-threshold K --json` printed."""

    data_dir: Path
    creds: dict[str, Any]
    shares: list[str]


@dataclass
class SealedServer:
    port: int
    app: SealedApp
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None
                ) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(json.loads(response.read()))
        finally:
            connection.close()

    def status(self) -> dict[str, Any]:
        status, body = self.request("GET", "/ramparts/seal-status")
        assert status == 200, body
        return body

    def give(self, share: str) -> tuple[int, dict[str, Any]]:
        return self.request("POST", "/ramparts/unseal", json.dumps({"Share": share}).encode())


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ROOT_KEY_ENV, raising=False)
    monkeypatch.delenv("RAMPARTS_DATABASE_URL", raising=False)


def _init_split(data_dir: Path, capsys: pytest.CaptureFixture[str], shares: int = 5,
                threshold: int = 3) -> Split:
    capsys.readouterr()
    assert main(["init", "--data-dir", str(data_dir), "--key-shares", str(shares),
                 "--key-threshold", str(threshold), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["KeyShares"]) == shares
    return Split(data_dir, printed, list(printed["KeyShares"]))


@contextmanager
def _serving(data_dir: Path) -> Iterator[SealedServer]:
    facts = read_unseal_file(data_dir)
    assert facts is not None

    def unseal_with(key: RootKey) -> Runtime:
        runtime = open_runtime(data_dir, {}, root_key=key)
        runtime.start_delivery(data_dir / "delivery", 0.2)
        runtime.start_indexing(0.2)
        runtime.start_scheduler(0.2)
        return runtime

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = ServerConfig(data_dir=data_dir, host="127.0.0.1", port=port)
    server, app = build_sealed_server(config, facts, unseal_with, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield SealedServer(port, app, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        app.close()


def _sts(split: Split, endpoint: str) -> StsClient:
    return StsClient(Config(access_key_id=split.creds["AccessKeyId"],
                            access_key_secret=split.creds["AccessKeySecret"], endpoint=endpoint,
                            protocol="http", region_id="cn-hangzhou", read_timeout=20000,
                            connect_timeout=5000))


def _refused_as_sealed(split: Split, server: SealedServer) -> None:
    with pytest.raises(TeaException, match="sealed") as caught:
        _sts(split, server.endpoint).get_caller_identity()
    assert error_of(caught.value) == (503, "ServiceUnavailable")


def _damaged(share: str) -> str:
    """`share` with one base32 character of its value changed."""
    position = len(share) - 20
    replacement = "A" if share[position] != "A" else "B"
    return share[:position] + replacement + share[position + 1:]


def _caller_identity_events(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.store.transaction() as tx:
        rows = tx.query("SELECT body FROM trail_events WHERE event_name = 'GetCallerIdentity'")
    return [json.loads(row["body"]) for row in rows]


def test_init_with_key_shares_stores_no_key_and_nothing_of_the_shares(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split = _init_split(tmp_path / "data", capsys)
    assert not (split.data_dir / KEY_FILE_NAME).exists()
    unseal_file = split.data_dir / UNSEAL_FILE_NAME
    assert unseal_file.stat().st_mode & 0o777 == 0o600
    facts = json.loads(unseal_file.read_text())
    key = RootKey.combine([Share.parse(text) for text in split.shares[:3]])
    assert facts == {"KeyShares": 5, "KeyThreshold": 3, "KeyId": key.key_id.hex()}
    values = [Share.parse(text).value for text in split.shares]
    for path in split.data_dir.rglob("*"):
        content = path.read_bytes()
        for text, value in zip(split.shares, values, strict=True):
            assert text.encode() not in content, path
            assert value not in content, path


def test_a_sealed_server_serves_only_unsealing_until_the_threshold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    split = _init_split(tmp_path / "data", capsys)
    other = _init_split(tmp_path / "other", capsys)
    with _serving(split.data_dir) as server:
        caplog.set_level(logging.DEBUG, logger="ramparts")
        _refused_as_sealed(split, server)
        assert server.status() == {"Sealed": True, "Progress": 0, "Threshold": 3}

        assert server.give(split.shares[0]) == (
            200, {"Sealed": True, "Progress": 1, "Threshold": 3})
        assert server.give(split.shares[3])[0] == 200
        assert server.status() == {"Sealed": True, "Progress": 2, "Threshold": 3}
        _refused_as_sealed(split, server)

        status, body = server.give(_damaged(split.shares[1]))
        assert (status, body["Code"]) == (400, "InvalidShare")
        assert "damaged" in body["Message"]
        status, body = server.give(other.shares[1])
        assert (status, body["Code"]) == (400, "InvalidShare")
        assert "another split" in body["Message"]
        status, body = server.give(split.shares[3])
        assert (status, body["Code"]) == (400, "InvalidShare")
        assert "already given" in body["Message"]
        assert server.status()["Progress"] == 2
        _refused_as_sealed(split, server)

        assert server.give(split.shares[4]) == (
            200, {"Sealed": False, "Progress": 0, "Threshold": 3})
        first = _sts(split, server.endpoint).get_caller_identity().body
        second = _sts(split, server.endpoint).get_caller_identity().body
        assert first.account_id == second.account_id == split.creds["AccountId"]
        assert first.arn.endswith(":user/admin")
        runtime = server.app.runtime
        assert runtime is not None
        assert runtime.delivery is not None
        assert runtime.indexing is not None
        assert runtime.scheduler is not None
        events = _caller_identity_events(runtime)
        assert {event["requestId"] for event in events} >= {first.request_id, second.request_id}
        # Unsealed, /ramparts/* is the API's like any other path.
        status, body = server.request("GET", "/ramparts/seal-status")
        assert status != 200
        assert "Sealed" not in body
        assert set(body) >= {"RequestId", "Code", "Message"}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unsealed" in logged
    for text in split.shares + other.shares:
        assert text not in logged
        assert text[len("ramparts-share-1-"):][:40] not in logged


def test_shares_that_combine_into_another_key_are_refused_and_all_forgotten(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split = _init_split(tmp_path / "data", capsys)
    unseal_file = split.data_dir / UNSEAL_FILE_NAME
    facts = json.loads(unseal_file.read_text())
    facts["KeyId"] = "00" * 8
    unseal_file.write_text(json.dumps(facts))
    with _serving(split.data_dir) as server:
        assert server.give(split.shares[0])[0] == 200
        assert server.give(split.shares[1])[0] == 200
        status, body = server.give(split.shares[2])
        assert (status, body["Code"]) == (400, "InvalidShares")
        assert "forgotten" in body["Message"]
        assert server.status() == {"Sealed": True, "Progress": 0, "Threshold": 3}
        assert server.app.runtime is None
        _refused_as_sealed(split, server)
        # The shares given before are gone: one more share is a first one again.
        assert server.give(split.shares[0]) == (
            200, {"Sealed": True, "Progress": 1, "Threshold": 3})


def test_shares_of_the_right_key_id_that_do_not_open_the_store_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split = _init_split(tmp_path / "data", capsys)
    other = _init_split(tmp_path / "other", capsys)
    # This data dir's unseal.json and shares, but another account's database: the combined
    # key has the recorded key id and still does not open the store's sealed values.
    for path in split.data_dir.glob("ramparts.db*"):
        path.unlink()
    for path in other.data_dir.glob("ramparts.db*"):
        shutil.copy(path, split.data_dir / path.name)
    with _serving(split.data_dir) as server:
        for share in split.shares[:2]:
            assert server.give(share)[0] == 200
        status, body = server.give(split.shares[2])
        assert (status, body["Code"]) == (400, "InvalidShares")
        assert "does not open" in body["Message"]
        assert server.status() == {"Sealed": True, "Progress": 0, "Threshold": 3}
        _refused_as_sealed(other, server)


def test_a_restarted_server_is_sealed_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split = _init_split(tmp_path / "data", capsys)
    with _serving(split.data_dir) as server:
        answers = [server.give(share) for share in split.shares[2:]]
        assert answers[-1] == (200, {"Sealed": False, "Progress": 0, "Threshold": 3})
        assert _sts(split, server.endpoint).get_caller_identity().body.arn.endswith("admin")
    assert not (split.data_dir / KEY_FILE_NAME).exists()
    with _serving(split.data_dir) as again:
        assert again.status() == {"Sealed": True, "Progress": 0, "Threshold": 3}
        _refused_as_sealed(split, again)
        assert again.give(split.shares[0])[1]["Progress"] == 1


def test_unseal_calls_that_are_not_one_share_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split = _init_split(tmp_path / "data", capsys)
    fewer = _init_split(tmp_path / "fewer", capsys, shares=5, threshold=2)
    with _serving(split.data_dir) as server:
        assert server.request("POST", "/ramparts/unseal", b"not json")[0] == 400
        assert server.request("POST", "/ramparts/unseal", b'{"Share": 1}')[1]["Code"] == \
            "InvalidRequest"
        assert server.request("GET", "/ramparts/unseal")[0] == 405
        assert server.request("POST", "/ramparts/seal-status", b"{}")[0] == 405
        assert server.request("POST", "/ramparts/unseal", b"x" * 20000)[0] == 413
        status, body = server.give("hello")
        assert (status, body["Code"]) == (400, "InvalidShare")
        # A share of a split with another threshold is refused even as the first one.
        status, body = server.give(fewer.shares[0])
        assert (status, body["Code"]) == (400, "InvalidShare")
        assert "another split" in body["Message"]
        assert server.status()["Progress"] == 0


def test_reset_forgets_the_shares_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split = _init_split(tmp_path / "data", capsys)
    other = _init_split(tmp_path / "other", capsys)
    with _serving(split.data_dir) as server:
        # A share of another split of the same size, given first, blocks the right ones...
        assert server.give(other.shares[0])[0] == 200
        assert server.give(split.shares[1])[0] == 400
        # ...until the server is told to forget it.
        assert server.request("POST", "/ramparts/unseal", b'{"Reset": true}') == (
            200, {"Sealed": True, "Progress": 0, "Threshold": 3})
        for share in split.shares[1:4]:
            assert server.give(share)[0] == 200
        assert server.app.runtime is not None
        assert not server.app.sealed
