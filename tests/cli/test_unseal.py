"""`ramparts init --key-shares`, a sealed `ramparts serve` and `ramparts unseal`, as operators
run them: real processes, shares on standard input."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config

from ramparts.testing.process import ServerProcess, free_port


def _environ(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("RAMPARTS_ROOT_KEY", "RAMPARTS_DATABASE_URL", "RAMPARTS_ENDPOINT")}
    return {**base, **extra}


def _ramparts(*args: str, stdin: str = "", env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ramparts", *args], input=stdin,
                          capture_output=True, text=True, env=env or _environ(), timeout=120)


def _init_split(data_dir: Path, shares: int = 3, threshold: int = 2) -> dict[str, Any]:
    done = _ramparts("init", "--data-dir", str(data_dir), "--key-shares", str(shares),
                     "--key-threshold", str(threshold), "--json")
    assert done.returncode == 0, done.stderr
    assert "shown only this once" in done.stderr
    assert "different person" in done.stderr
    printed: dict[str, Any] = json.loads(done.stdout)
    return printed


def _sealed_server(data_dir: Path) -> ServerProcess:
    server = ServerProcess(data_dir)
    server.environ = _environ()
    return server


def _unseal(server: ServerProcess, *args: str, stdin: str = ""
            ) -> subprocess.CompletedProcess[str]:
    return _ramparts("unseal", "--endpoint", server.endpoint, *args, stdin=stdin)


def _sts(creds: dict[str, Any], endpoint: str) -> StsClient:
    return StsClient(Config(access_key_id=creds["AccessKeyId"],
                            access_key_secret=creds["AccessKeySecret"], endpoint=endpoint,
                            protocol="http", region_id="cn-hangzhou", read_timeout=20000,
                            connect_timeout=5000))


def test_init_prints_the_shares_once_and_writes_no_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = _ramparts("init", "--data-dir", str(data_dir), "--key-shares", "3",
                     "--key-threshold", "2")
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()
             if line.strip().startswith("Key share")]
    assert [line[2] for line in lines] == ["1:", "2:", "3:"]
    assert all(line[3].startswith("ramparts-share-1-") for line in lines)
    assert "shown only this once" in done.stdout
    assert "different person" in done.stdout
    assert not (data_dir / "root.key").exists()
    assert json.loads((data_dir / "unseal.json").read_text())["KeyShares"] == 3
    stored = b"".join(path.read_bytes() for path in data_dir.iterdir())
    for line in lines:
        assert line[3].encode() not in stored


def test_init_refuses_what_would_make_the_shares_pointless_or_impossible(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    alone = _ramparts("init", "--data-dir", str(data_dir), "--key-shares", "3")
    assert alone.returncode == 2
    assert "go together" in alone.stderr
    one = _ramparts("init", "--data-dir", str(data_dir), "--key-shares", "3",
                    "--key-threshold", "1")
    assert one.returncode == 2
    assert "threshold must be at least 2" in one.stderr
    too_many = _ramparts("init", "--data-dir", str(data_dir), "--key-shares", "256",
                         "--key-threshold", "2")
    assert too_many.returncode == 2
    assert "at most 255 shares" in too_many.stderr
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    from_env = _ramparts("init", "--data-dir", str(data_dir), "--key-shares", "3",
                         "--key-threshold", "2", env=_environ(RAMPARTS_ROOT_KEY=key))
    assert from_env.returncode == 2
    assert "RAMPARTS_ROOT_KEY is set" in from_env.stderr
    assert not data_dir.exists()

    with_file = tmp_path / "with-file"
    assert _ramparts("init", "--data-dir", str(with_file)).returncode == 0
    split_too = _ramparts("init", "--data-dir", str(with_file), "--key-shares", "3",
                          "--key-threshold", "2")
    assert split_too.returncode == 2
    assert "root.key exists" in split_too.stderr
    assert not (with_file / "unseal.json").exists()

    _init_split(data_dir)
    unseal_file = (data_dir / "unseal.json").read_bytes()
    for again in (["--key-shares", "3", "--key-threshold", "2"], []):
        refused = _ramparts("init", "--data-dir", str(data_dir), *again)
        assert refused.returncode == 2
        assert "already exists" in refused.stderr
        assert (data_dir / "unseal.json").read_bytes() == unseal_file
        assert not (data_dir / "root.key").exists()


def test_serve_without_any_key_says_what_it_said_before(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ramparts", "serve", "--data-dir",
                           str(tmp_path / "empty"), "--port", str(free_port())],
                          capture_output=True, text=True, env=_environ(), timeout=60)
    assert done.returncode == 2
    assert "no root key file at" in done.stderr
    assert "run `ramparts init` or set RAMPARTS_ROOT_KEY" in done.stderr


def test_operators_unseal_a_sealed_server_one_share_each(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init = _init_split(data_dir)
    shares = init["KeyShares"]
    server = _sealed_server(data_dir)
    try:
        server.start()
        status = _unseal(server, "--status")
        assert (status.returncode, status.stdout) == (
            0, "the server is sealed: 0 of 2 shares given\n")

        first = _unseal(server, stdin=shares[2] + "\n")
        assert (first.returncode, first.stdout) == (
            0, "1 of 2 shares given; the server is still sealed\n")
        as_json = _unseal(server, "--status", "--json")
        assert json.loads(as_json.stdout) == {"Sealed": True, "Progress": 1, "Threshold": 2}

        again = _unseal(server, stdin=shares[2])
        assert again.returncode == 1
        assert "refused the share" in again.stderr
        assert "already given" in again.stderr
        nothing = _unseal(server, stdin="\n")
        assert nothing.returncode == 2
        assert "no key share on standard input" in nothing.stderr
        damaged = shares[0][:-5] + ("A" if shares[0][-5] != "A" else "B") + shares[0][-4:]
        broken = _unseal(server, stdin=damaged)
        assert broken.returncode == 2
        assert "damaged" in broken.stderr
        bad_endpoint = _ramparts("unseal", "--endpoint", "http://127.0.0.1/", stdin=shares[0])
        assert bad_endpoint.returncode == 2
        assert "is not host:port" in bad_endpoint.stderr
        assert _unseal(server, "--status").stdout == (
            "the server is sealed: 1 of 2 shares given\n")

        second = _unseal(server, stdin=shares[0])
        assert (second.returncode, second.stdout) == (0, "the server is unsealed\n")
        identity = _sts(init, server.endpoint).get_caller_identity().body
        assert identity.account_id == init["AccountId"]
        assert _unseal(server, "--status").stdout == "the server is not sealed\n"
        late = _unseal(server, stdin=shares[1])
        assert late.returncode == 0
        assert "the share was not sent" in late.stdout
    finally:
        server.stop()
    log = server.output()
    assert "The server is sealed: give 2 of the 3 key shares" in log
    assert "unsealed" in log
    for share in shares:
        assert share not in log
        assert share[len("ramparts-share-1-"):][:30] not in log


def test_unseal_exit_codes_when_the_server_refuses_or_is_away(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init = _init_split(data_dir)
    facts = json.loads((data_dir / "unseal.json").read_text())
    facts["KeyId"] = "ff" * 8
    (data_dir / "unseal.json").write_text(json.dumps(facts))
    server = _sealed_server(data_dir)
    try:
        server.start()
        assert _unseal(server, stdin=init["KeyShares"][0]).returncode == 0
        wrong_key = _unseal(server, stdin=init["KeyShares"][1])
        assert wrong_key.returncode == 1
        assert "InvalidShares" in wrong_key.stderr
        assert _unseal(server, "--status").stdout == "the server is sealed: 0 of 2 shares given\n"
    finally:
        server.stop()
    away = _ramparts("unseal", "--endpoint", f"127.0.0.1:{free_port()}",
                     stdin=init["KeyShares"][0])
    assert away.returncode == 1
    assert "cannot reach" in away.stderr


def test_up_on_a_split_data_dir_serves_sealed_and_writes_no_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init = _init_split(data_dir)
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ramparts", "up", "--data-dir",
                                    str(data_dir), "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=_environ())
    try:
        deadline = time.monotonic() + 30
        while "The server is sealed" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Serving the existing account" in log.read_text()
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        status = _ramparts("unseal", "--status", "--endpoint", f"127.0.0.1:{port}")
        assert status.stdout == "the server is sealed: 0 of 2 shares given\n"
        assert not (data_dir / "root.key").exists()
        for share in init["KeyShares"][:2]:
            assert _ramparts("unseal", "--endpoint", f"127.0.0.1:{port}",
                             stdin=share).returncode == 0
        assert _sts(init, f"127.0.0.1:{port}").get_caller_identity().body.arn.endswith("admin")
    finally:
        process.terminate()
        process.wait(timeout=30)
