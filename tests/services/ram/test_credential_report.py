"""The credential report: its columns, the `<root>` row, user rows, the four-hour regeneration
rule and paging."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ramparts.core.clock import FrozenClock
from ramparts.core.errors import ServiceError
from ramparts.core.ids import SequentialIds
from ramparts.crypto import totp
from ramparts.crypto.keyring import RootKey, Sealer
from ramparts.policy.cache import PolicyCache
from ramparts.policy.catalog import Catalog
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.ram.credential_report import (
    COLUMNS,
    REGENERATE_AFTER,
    ROOT_ROW,
    STATE_COMPLETED,
    CredentialReportBackend,
)
from ramparts.services.ram.mfa import MFABackend
from ramparts.services.ram.password_policy import PasswordPolicyBackend
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import Transaction
from ramparts.store.sqlite import SQLiteStore

ACCOUNT = "1234567890123456"
OPENED = "2026-01-01T00:00:00Z"
START = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=totp.STEP_SECONDS)


@dataclass
class World:
    store: SQLiteStore
    env: ServiceEnv
    clock: FrozenClock

    def reports(self, tx: Transaction) -> CredentialReportBackend:
        return CredentialReportBackend(tx, self.env, ACCOUNT)

    def generate(self) -> str:
        with self.store.transaction() as tx:
            return self.reports(tx).generate()

    def rows(self) -> list[dict[str, str]]:
        with self.store.transaction() as tx:
            page = self.reports(tx).page()
        return list(csv.DictReader(io.StringIO(page.content)))

    def generated_at(self) -> str:
        with self.store.transaction() as tx:
            return self.reports(tx).page().generated_at


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    store = SQLiteStore(tmp_path / "db")
    clock = FrozenClock(START)
    env = ServiceEnv(clock=clock, ids=SequentialIds(), sealer=Sealer(RootKey.generate()),
                     catalog=Catalog(), policies=PolicyCache())
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)", (ACCOUNT, "corp", "cn-hangzhou", OPENED))
        tx.execute("INSERT INTO root_identities (account_id, password_sealed, created_at) "
                   "VALUES (?, ?, ?)", (ACCOUNT, "c2VhbGVk", OPENED))
    yield World(store, env, clock)
    store.close()


def add_login_profile(tx: Transaction, user_key: str, changed_at: str) -> None:
    tx.execute(
        "INSERT INTO login_profiles (account_id, user_key, password_sealed, "
        "password_reset_required, mfa_bind_required, failed_attempts, password_changed_at, "
        "created_at, updated_at) VALUES (?, ?, ?, 0, 0, 0, ?, ?, ?)",
        (ACCOUNT, user_key, "c2VhbGVk", changed_at, changed_at, changed_at))


def bind(tx: Transaction, env: ServiceEnv, user: str | None, name: str) -> None:
    """Create a device and bind it to `user` (None: the root identity)."""
    devices = MFABackend(tx, env, ACCOUNT)
    created = devices.create(name)
    seed = base64.b32decode(created.base32_seed + "=" * (-len(created.base32_seed) % 8))
    now = env.clock.now()
    codes = (totp.totp(seed, now - STEP), totp.totp(seed, now))
    if user is None:
        devices.bind_root_device(created.device.serial_number, *codes)
    else:
        devices.bind(user, created.device.serial_number, *codes)


def test_get_before_generate_is_refused(world: World) -> None:
    with pytest.raises(ServiceError) as caught, world.store.transaction() as tx:
        world.reports(tx).page()
    assert caught.value.error_code == "EntityNotExist.CredentialReport"
    assert caught.value.http_status == 404


def test_header_and_root_row(world: World) -> None:
    assert world.generate() == STATE_COMPLETED
    with world.store.transaction() as tx:
        content = world.reports(tx).page().content
    assert content.splitlines()[0] == ",".join(COLUMNS)
    rows = world.rows()
    assert rows == [{
        "user": ROOT_ROW, "user_creation_time": OPENED, "user_last_logon": "-",
        "password_exist": "TRUE", "password_active": "N/A", "password_last_changed": "N/A",
        "password_next_rotation": "N/A", "mfa_active": "FALSE",
        "access_key_1_exist": "FALSE", "access_key_1_active": "N/A",
        "access_key_1_last_rotated": "N/A", "access_key_1_last_used": "N/A",
        "access_key_2_exist": "FALSE", "access_key_2_active": "N/A",
        "access_key_2_last_rotated": "N/A", "access_key_2_last_used": "N/A",
    }]
    assert world.generated_at() == "2026-03-01T12:00:10Z"


def test_root_row_shows_its_mfa_and_last_logon(world: World) -> None:
    with world.store.transaction() as tx:
        bind(tx, world.env, None, "root-phone")
        tx.execute("UPDATE root_identities SET last_login_at = ? WHERE account_id = ?",
                   ("2026-02-28T08:00:00Z", ACCOUNT))
    world.generate()
    root = world.rows()[0]
    assert root["user"] == ROOT_ROW
    assert root["mfa_active"] == "TRUE"
    assert root["user_last_logon"] == "2026-02-28T08:00:00Z"


def test_user_rows(world: World) -> None:
    with world.store.transaction() as tx:
        users = UserBackend(tx, world.env, ACCOUNT)
        users.create("alice")
        users.create("Bob")
        users.record_login("alice")
        add_login_profile(tx, "alice", "2026-02-01T00:00:00Z")
        bind(tx, world.env, "alice", "alice-phone")
        keys = AccessKeyBackend(tx, world.env, ACCOUNT)
        first, _ = keys.create("alice")
    world.clock.advance(timedelta(minutes=5))
    with world.store.transaction() as tx:
        keys = AccessKeyBackend(tx, world.env, ACCOUNT)
        second, _ = keys.create("alice")
        keys.update("alice", second.access_key_id, "Inactive")
        keys.mark_used(first.access_key_id, "Ram")
    world.generate()
    root, alice, bob = world.rows()
    assert root["user"] == ROOT_ROW
    assert alice == {
        "user": "alice@corp.onaliyun.com", "user_creation_time": "2026-03-01T12:00:10Z",
        "user_last_logon": "2026-03-01T12:00:10Z", "password_exist": "TRUE",
        "password_active": "TRUE", "password_last_changed": "2026-02-01T00:00:00Z",
        "password_next_rotation": "-", "mfa_active": "TRUE",
        "access_key_1_exist": "TRUE", "access_key_1_active": "TRUE",
        "access_key_1_last_rotated": "2026-03-01T12:00:10Z",
        "access_key_1_last_used": "2026-03-01T12:05:10Z",
        "access_key_2_exist": "TRUE", "access_key_2_active": "FALSE",
        "access_key_2_last_rotated": "2026-03-01T12:05:10Z", "access_key_2_last_used": "-",
    }
    assert bob["user"] == "Bob@corp.onaliyun.com"
    assert (bob["user_last_logon"], bob["password_exist"], bob["password_active"],
            bob["password_last_changed"], bob["password_next_rotation"], bob["mfa_active"],
            bob["access_key_1_exist"], bob["access_key_1_last_used"]) \
        == ("-", "FALSE", "N/A", "N/A", "N/A", "FALSE", "FALSE", "N/A")


def test_password_next_rotation_follows_the_maximum_age(world: World) -> None:
    with world.store.transaction() as tx:
        UserBackend(tx, world.env, ACCOUNT).create("alice")
        add_login_profile(tx, "alice", "2026-02-01T00:00:00Z")
        PasswordPolicyBackend(tx, world.env, ACCOUNT).set(max_password_age=90)
    world.generate()
    assert world.rows()[1]["password_next_rotation"] == "2026-05-02T00:00:00Z"


def test_without_an_alias_names_end_with_the_account_id(world: World) -> None:
    with world.store.transaction() as tx:
        tx.execute("UPDATE accounts SET alias = '' WHERE account_id = ?", (ACCOUNT,))
        UserBackend(tx, world.env, ACCOUNT).create("alice")
    world.generate()
    assert world.rows()[1]["user"] == f"alice@{ACCOUNT}.onaliyun.com"


def test_a_report_is_kept_for_four_hours(world: World) -> None:
    world.generate()
    with world.store.transaction() as tx:
        UserBackend(tx, world.env, ACCOUNT).create("alice")
    world.clock.advance(REGENERATE_AFTER - timedelta(seconds=1))
    assert world.generate() == STATE_COMPLETED
    assert [row["user"] for row in world.rows()] == [ROOT_ROW]
    assert world.generated_at() == "2026-03-01T12:00:10Z"
    world.clock.advance(timedelta(seconds=1))
    assert world.generate() == STATE_COMPLETED
    assert [row["user"] for row in world.rows()] == [ROOT_ROW, "alice@corp.onaliyun.com"]
    assert world.generated_at() == "2026-03-01T16:00:10Z"


def test_pages_of_rows_each_with_the_header(world: World) -> None:
    with world.store.transaction() as tx:
        for name in ("a", "b", "c", "d"):
            UserBackend(tx, world.env, ACCOUNT).create(name)
    world.generate()
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        with world.store.transaction() as tx:
            page = world.reports(tx).page(2, token)
        lines = page.content.splitlines()
        assert lines[0] == ",".join(COLUMNS)
        assert 1 <= len(lines) - 1 <= 2
        seen += [line.split(",")[0] for line in lines[1:]]
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert pages == 3
    assert seen == [ROOT_ROW, *(f"{n}@corp.onaliyun.com" for n in "abcd")]


@pytest.mark.parametrize("token", ["x", "-1", "0", "99", "1.5"])
def test_foreign_tokens_are_refused(world: World, token: str) -> None:
    world.generate()
    with pytest.raises(ServiceError) as caught, world.store.transaction() as tx:
        world.reports(tx).page(1, token)
    assert caught.value.error_code == "InvalidParameter.NextToken.Invalid"
