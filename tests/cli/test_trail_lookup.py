"""`ramparts trail lookup` as an operator runs it: the real command against a real server,
signed with an AccessKey from the environment or with the session of `ramparts login`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as ram_models

from ramparts.core.clock import format_iso8601
from ramparts.protocol.client import ApiClient, ApiError, ClientCredentials
from ramparts.testing import RunningServer, start_server
from tests.api.refusals import refused
from tests.api.sdk import SdkClients, make_user

READ_USERS = {"Effect": "Allow", "Action": ["ram:GetUser", "ram:ListUsers"], "Resource": "*"}
CREDENTIAL_ENV = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                  "ALIBABA_CLOUD_SECURITY_TOKEN", "RAMPARTS_ENDPOINT")


@dataclass
class Scene:
    server: RunningServer
    admin: SdkClients
    worker: SdkClients
    config_dir: Path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """A server where `worker` read users 60 times and `intruder` was denied once."""
    base = tmp_path_factory.mktemp("trail-cli")
    with start_server(base / "data") as server:
        admin = SdkClients.admin(server)
        worker = make_user(admin, "worker", READ_USERS)
        for _ in range(60):
            worker.ram.get_user(ram_models.GetUserRequest(user_name="worker"))
        intruder = make_user(admin, "intruder")
        refused(lambda: intruder.ram.list_users(ram_models.ListUsersRequest()))
        yield Scene(server, admin, worker, base / "config")


def run(scene: Scene, *args: str, creds: SdkClients | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`ramparts <args>` in a process of its own, with `creds` in the environment (else none,
    so the kept session is used) and `scene.config_dir` for `ramparts login`."""
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV}
    env["RAMPARTS_CONFIG_DIR"] = str(scene.config_dir)
    if creds is not None:
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = creds.creds.access_key_id
        env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = creds.creds.access_key_secret
    return subprocess.run([sys.executable, "-m", "ramparts", *args], capture_output=True,
                          text=True, env=env, input=stdin, timeout=120)


def lookup(scene: Scene, *args: str, creds: SdkClients | None = None
           ) -> subprocess.CompletedProcess[str]:
    return run(scene, "trail", "lookup", "--endpoint", scene.server.endpoint, *args,
               creds=creds)


def table_rows(stdout: str) -> list[list[str]]:
    """The table's rows (header excluded), split on runs of two spaces or more."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("TIME "))
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("("):
            break
        rows.append([cell.strip() for cell in line.split("  ") if cell.strip()])
    return rows


def test_the_table_shows_who_did_what_from_where_with_which_key(scene: Scene) -> None:
    done = lookup(scene, "--since", "1h", "--user", "worker", "--max", "5",
                  creds=scene.admin)
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("TIME "))
    assert header.split() == ["TIME", "EVENT", "USER", "SOURCE", "IP", "ACCESSKEY", "ERROR"]
    rows = table_rows(done.stdout)
    assert len(rows) == 5
    key = scene.worker.creds.access_key_id
    for row in rows:
        assert row[1:] == ["GetUser", "worker", "127.0.0.1", key, "-"]
    assert [row[0] for row in rows] == sorted((row[0] for row in rows), reverse=True)
    assert "more events match" in done.stdout


def test_a_denied_call_shows_its_error_code(scene: Scene) -> None:
    done = lookup(scene, "--user", "intruder", "--event-name", "ListUsers", creds=scene.admin)
    assert done.returncode == 0, done.stderr
    (row,) = table_rows(done.stdout)
    assert row[1:3] == ["ListUsers", "intruder"]
    assert row[-1] == "NoPermission"
    assert "more events match" not in done.stdout


def test_max_follows_next_token_across_pages(scene: Scene) -> None:
    done = lookup(scene, "--access-key", scene.worker.creds.access_key_id, "--max", "57",
                  "--output", "json", creds=scene.admin)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    events = report["Events"]
    assert len(events) == 57  # two pages: 50, then 7
    assert len({e["eventId"] for e in events}) == 57
    assert {e["userIdentity"]["accessKeyId"] for e in events} == {
        scene.worker.creds.access_key_id}
    assert report["NextToken"]
    every = json.loads(lookup(scene, "--access-key", scene.worker.creds.access_key_id,
                              "--max", "1000", "--output", "json",
                              creds=scene.admin).stdout)
    assert len(every["Events"]) == 60
    assert "NextToken" not in every


def test_the_window_is_sent_and_echoed(scene: Scene) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    since = format_iso8601(now - timedelta(hours=2))
    until = format_iso8601(now - timedelta(hours=1))
    done = lookup(scene, "--since", since, "--until", until, "--output", "json",
                  creds=scene.admin)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["StartTime"], report["EndTime"]) == (since, until)
    assert report["Events"] == []  # every call of the scene came later
    recent = json.loads(lookup(scene, "--since", "10m", "--max", "1", "--output", "json",
                               creds=scene.admin).stdout)
    assert recent["EndTime"] >= format_iso8601(now)


def test_the_kept_login_session_signs_the_lookup(scene: Scene) -> None:
    login = run(scene, "login", "root", "--endpoint", scene.server.endpoint, "--password-stdin",
                stdin=scene.server.bootstrap.root_password + "\n")
    assert login.returncode == 0, login.stderr
    done = run(scene, "trail", "lookup", "--event-name", "ConsoleSignin", "--max", "1")
    assert done.returncode == 0, done.stderr
    (row,) = table_rows(done.stdout)
    assert row[1:3] == ["ConsoleSignin", "root"]
    mine = run(scene, "trail", "lookup", "--user", "root", "--event-name", "LookupEvents")
    assert [row[1] for row in table_rows(mine.stdout)] == ["LookupEvents"]


def test_names_from_callers_cannot_drive_the_terminal(scene: Scene) -> None:
    client = ApiClient(scene.server.endpoint)
    creds = ClientCredentials(*scene.server.admin_key)
    with pytest.raises(ApiError):
        client.call("2015-05-01", "Get\x1b]0;owned\x07User\x1b[2J", {}, creds)
    done = lookup(scene, "--since", "5m", "--max", "3", creds=scene.admin)
    assert done.returncode == 0, done.stderr
    assert "Get?]0;owned?User?[2J" in done.stdout
    assert "\x1b" not in done.stdout
    assert "\x07" not in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--event-name", "A", "--user", "u", "--access-key", "k"), "at most two"),
    (("--since", "yesterday"), "neither a duration"),
    (("--since", "1h", "--until", "2h"), "must be before --until"),
    (("--max", "0",), "at least 1"),
])
def test_bad_arguments_exit_2_saying_what_to_fix(scene: Scene, args: tuple[str, ...],
                                                 message: str) -> None:
    done = lookup(scene, *args, creds=scene.admin)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_refusals_and_missing_credentials_exit_2(scene: Scene, tmp_path: Path) -> None:
    denied = lookup(scene, creds=scene.worker)
    assert denied.returncode == 2
    assert "refused" in denied.stderr
    assert "NoPermission" in denied.stderr
    nobody = Scene(scene.server, scene.admin, scene.worker, tmp_path / "empty")
    none = run(nobody, "trail", "lookup")
    assert none.returncode == 2
    assert "ramparts login" in none.stderr
    no_endpoint = run(nobody, "trail", "lookup", creds=scene.admin)
    assert no_endpoint.returncode == 2
    assert "--endpoint" in no_endpoint.stderr
    unreachable = run(nobody, "trail", "lookup", "--endpoint", "127.0.0.1:9",
                      creds=scene.admin)
    assert unreachable.returncode == 2
    assert "cannot reach" in unreachable.stderr
    assert scene.admin.creds.access_key_secret not in (
        denied.stderr + none.stderr + no_endpoint.stderr + unreachable.stderr)
