"""Virtual MFA devices: creation, binding with two consecutive codes, replay refusal, the root
identity's device, and seeds that never reach the raw database."""

from __future__ import annotations

import base64
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
from ramparts.services.ram import mfa
from ramparts.services.ram.mfa import ROOT_KEY, MFABackend, seed_context, serial_of
from ramparts.services.ram.users import UserBackend
from ramparts.store.base import ConflictError, Transaction
from ramparts.store.sqlite import SQLiteStore

ACCOUNT = "1234567890123456"
START = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=totp.STEP_SECONDS)


@dataclass
class World:
    store: SQLiteStore
    env: ServiceEnv
    clock: FrozenClock
    path: Path

    def devices(self, tx: Transaction) -> MFABackend:
        return MFABackend(tx, self.env, ACCOUNT)

    def users(self, tx: Transaction) -> UserBackend:
        return UserBackend(tx, self.env, ACCOUNT)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    store = SQLiteStore(tmp_path / "db")
    clock = FrozenClock(START)
    env = ServiceEnv(clock=clock, ids=SequentialIds(), sealer=Sealer(RootKey.generate()),
                     catalog=Catalog(), policies=PolicyCache())
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)", (ACCOUNT, "corp", "cn-hangzhou",
                                           "2026-01-01T00:00:00Z"))
        UserBackend(tx, env, ACCOUNT).create("alice")
        UserBackend(tx, env, ACCOUNT).create("bob")
    yield World(store, env, clock, tmp_path / "db")
    store.close()


def seed_of(base32_seed: str) -> bytes:
    return base64.b32decode(base32_seed + "=" * (-len(base32_seed) % 8))


def codes(seed: bytes, moment: datetime) -> tuple[str, str]:
    """The two codes an app shows one after the other, the second one current at `moment`."""
    return totp.totp(seed, moment - STEP), totp.totp(seed, moment)


def create(world: World, name: str) -> tuple[str, bytes]:
    with world.store.transaction() as tx:
        created = world.devices(tx).create(name)
    return created.device.serial_number, seed_of(created.base32_seed)


def bound_device(world: World, user: str = "alice", name: str = "phone") -> tuple[str, bytes]:
    serial, seed = create(world, name)
    with world.store.transaction() as tx:
        world.devices(tx).bind(user, serial, *codes(seed, world.clock.now()))
    return serial, seed


def verify(world: World, principal_key: str, code: str) -> bool:
    with world.store.transaction() as tx:
        return world.devices(tx).verify_code(principal_key, code, world.clock.now())


def error_code(world: World, action: str, *args: str) -> str:
    with pytest.raises(ServiceError) as caught, world.store.transaction() as tx:
        getattr(world.devices(tx), action)(*args)
    return caught.value.error_code


# ---- creating


def test_create_returns_the_serial_and_a_fresh_seed_once(world: World) -> None:
    with world.store.transaction() as tx:
        created = world.devices(tx).create("Phone-1.a")
    assert created.device.serial_number == f"acs:ram::{ACCOUNT}:mfa/Phone-1.a"
    assert len(seed_of(created.base32_seed)) == totp.SEED_SIZE
    assert created.otpauth_uri.startswith("otpauth://totp/")
    assert f"secret={created.base32_seed}&" in created.otpauth_uri
    with world.store.transaction() as tx:
        other = world.devices(tx).create("other")
    assert other.base32_seed != created.base32_seed
    # Reading a device again yields no seed: the dataclasses the backend answers hold none.
    with world.store.transaction() as tx:
        listed = world.devices(tx).listing()
        got = world.devices(tx).get(created.device.serial_number)
    for device in [*listed, got]:
        assert created.base32_seed not in repr(device)
        assert not hasattr(device, "base32_seed")


@pytest.mark.parametrize(("name", "code"), [
    ("", "InvalidParameter.VirtualMFADeviceName.Length"),
    ("x" * 65, "InvalidParameter.VirtualMFADeviceName.Length"),
    ("has space", "InvalidParameter.VirtualMFADeviceName.InvalidChars"),
    ("under_score", "InvalidParameter.VirtualMFADeviceName.InvalidChars"),
    ("slash/name", "InvalidParameter.VirtualMFADeviceName.InvalidChars"),
])
def test_create_refuses_bad_names(world: World, name: str, code: str) -> None:
    assert error_code(world, "create", name) == code


def test_names_are_unique_regardless_of_case(world: World) -> None:
    create(world, "Phone")
    assert error_code(world, "create", "phone") == "EntityAlreadyExists.VirtualMFADevice"
    # The serial names the device whatever the case it is written in.
    with world.store.transaction() as tx:
        assert world.devices(tx).get(serial_of(ACCOUNT, "PHONE")).device_name == "Phone"


def test_create_stops_at_the_device_limit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mfa, "MAX_DEVICES", 2)
    create(world, "one")
    create(world, "two")
    assert error_code(world, "create", "three") == "LimitExceeded.VirtualMFADevice"


def test_the_seed_is_sealed_and_absent_from_the_raw_database(world: World) -> None:
    _, seed = create(world, "phone")
    encodings = [seed, seed.hex().encode(), base64.b64encode(seed),
                 totp.seed_base32(seed).encode(), base64.b32encode(seed)]
    raw = b"".join(p.read_bytes() for p in world.path.parent.glob("db*"))
    for encoded in encodings:
        assert encoded not in raw
    with world.store.transaction() as tx:
        row = tx.query_one("SELECT serial_number, seed_sealed FROM mfa_devices")
    assert row is not None
    sealed = base64.b64decode(row["seed_sealed"])
    assert world.env.sealer.open(sealed, context=seed_context(ACCOUNT, row["serial_number"])) \
        == seed
    # Bound to the device: the sealed seed does not open as another device's.
    with pytest.raises(Exception):  # noqa: B017, PT011 - the sealer's own error type
        world.env.sealer.open(sealed, context=seed_context(ACCOUNT, serial_of(ACCOUNT, "x")))


# ---- binding


def test_bind_with_two_consecutive_codes(world: World) -> None:
    serial, _ = bound_device(world)
    with world.store.transaction() as tx:
        device = world.devices(tx).user_device("alice")
        listed = {d.serial_number: d for d in world.devices(tx).listing()}
    assert device.serial_number == serial
    assert device.activated_at == "2026-03-01T12:00:10Z"
    user = listed[serial].user
    assert user is not None
    assert user.user_name == "alice"


@pytest.mark.parametrize("pick", ["wrong", "skipped", "reversed", "repeated", "stale", "early"])
def test_bind_refuses_codes_that_are_not_the_next_two(world: World, pick: str) -> None:
    serial, seed = create(world, "phone")
    now = world.clock.now()
    first, second = codes(seed, now)
    chosen = {
        "wrong": (first, "000000" if second != "000000" else "111111"),
        "skipped": (totp.totp(seed, now - 2 * STEP), second),
        "reversed": (second, first),
        "repeated": (second, second),
        "stale": codes(seed, now - 3 * STEP),
        "early": codes(seed, now + 3 * STEP),
    }[pick]
    if chosen[0] == chosen[1] and pick != "repeated":
        pytest.skip("two steps happen to share a code")
    assert error_code(world, "bind", "alice", serial, *chosen) == "CheckAuthenticationCodeFail"
    with world.store.transaction() as tx:
        assert world.devices(tx).device_of("alice") is None


# Full-width digits are digits to str.isdigit, but not to an authenticator app.
FULL_WIDTH = "".join(chr(0xFF10 + d) for d in (1, 2, 3, 4, 5, 6))


@pytest.mark.parametrize("bad", ["12345", "1234567", "12a456", "", FULL_WIDTH])
def test_bind_refuses_malformed_codes(world: World, bad: str) -> None:
    serial, _ = create(world, "phone")
    assert error_code(world, "bind", "alice", serial, bad, "123456") \
        == "InvalidParameter.AuthenticationCode.Format"
    assert error_code(world, "bind", "alice", serial, "123456", bad) \
        == "InvalidParameter.AuthenticationCode.Format"


def test_bind_refuses_missing_and_foreign_devices(world: World) -> None:
    for serial in (serial_of(ACCOUNT, "nothing"), serial_of("999", "phone"), "phone", ""):
        assert error_code(world, "bind", "alice", serial, "123456", "654321") \
            == "EntityNotExist.VirtualMFADevice"


def test_bind_refuses_a_missing_user(world: World) -> None:
    serial, seed = create(world, "phone")
    assert error_code(world, "bind", "carol", serial, *codes(seed, world.clock.now())) \
        == "EntityNotExist.User"


def test_one_user_per_device_and_one_device_per_user(world: World) -> None:
    serial, seed = bound_device(world, "alice", "phone")
    world.clock.advance(2 * STEP)
    assert error_code(world, "bind", "bob", serial, *codes(seed, world.clock.now())) \
        == "EntityAlreadyExists.VirtualMFADevice.User"
    other, other_seed = create(world, "tablet")
    assert error_code(world, "bind", "alice", other, *codes(other_seed, world.clock.now())) \
        == "EntityAlreadyExists.User.MFADevice"


def test_the_schema_allows_one_bound_device_per_principal(world: World) -> None:
    bound_device(world, "alice", "phone")
    create(world, "tablet")
    with pytest.raises(ConflictError), world.store.transaction() as tx:
        tx.execute("UPDATE mfa_devices SET user_key = 'alice' WHERE device_name = 'tablet'")


def test_unbound_device_cannot_be_bound_again_with_used_codes(world: World) -> None:
    serial, seed = bound_device(world)
    used = codes(seed, world.clock.now())
    with world.store.transaction() as tx:
        unbound = world.devices(tx).unbind("alice")
    assert unbound.serial_number == serial
    assert error_code(world, "bind", "bob", serial, *used) == "CheckAuthenticationCodeFail"
    world.clock.advance(2 * STEP)
    with world.store.transaction() as tx:
        world.devices(tx).bind("bob", serial, *codes(seed, world.clock.now()))
        assert world.devices(tx).user_device("bob").serial_number == serial


def test_unbind_and_get_without_a_device(world: World) -> None:
    assert error_code(world, "unbind", "alice") == "EntityNotExist.User.MFADevice"
    assert error_code(world, "user_device", "alice") == "EntityNotExist.User.MFADevice"
    assert error_code(world, "user_device", "carol") == "EntityNotExist.User"


# ---- deleting


def test_delete_is_refused_while_bound(world: World) -> None:
    serial, _ = bound_device(world)
    assert error_code(world, "delete", serial) == "DeleteConflict.VirtualMFADevice.User"
    with world.store.transaction() as tx:
        world.devices(tx).unbind("alice")
        world.devices(tx).delete(serial)
    assert error_code(world, "get", serial) == "EntityNotExist.VirtualMFADevice"
    assert error_code(world, "delete", serial) == "EntityNotExist.VirtualMFADevice"


def test_a_user_with_a_bound_device_cannot_be_deleted(world: World) -> None:
    bound_device(world)
    with pytest.raises(ServiceError) as caught, world.store.transaction() as tx:
        world.users(tx).delete("alice")
    assert caught.value.error_code == "DeleteConflict.User.MFADevice"


def test_renaming_a_user_keeps_the_binding(world: World) -> None:
    _, seed = bound_device(world)
    with world.store.transaction() as tx:
        world.users(tx).update("alice", new_name="alicia", display_name=None, email=None,
                               mobile_phone=None, comments=None)
    world.clock.advance(STEP)
    assert verify(world, "alicia", totp.totp(seed, world.clock.now()))


# ---- sign-in codes


def test_verify_code_accepts_a_current_code_once(world: World) -> None:
    _, seed = bound_device(world)
    # The binding used the current step: its code does not sign in.
    assert not verify(world, "alice", totp.totp(seed, world.clock.now()))
    world.clock.advance(STEP)
    code = totp.totp(seed, world.clock.now())
    assert verify(world, "alice", code)
    assert not verify(world, "alice", code)  # replayed
    world.clock.advance(timedelta(seconds=5))
    assert not verify(world, "alice", code)  # replayed a little later, same step


def test_verify_code_refuses_earlier_steps_after_a_later_one(world: World) -> None:
    _, seed = bound_device(world)
    world.clock.advance(3 * STEP)
    now = world.clock.now()
    later, earlier = totp.totp(seed, now + STEP), totp.totp(seed, now)
    if later == earlier:
        pytest.skip("two steps happen to share a code")
    assert verify(world, "alice", later)  # the app's clock runs a step ahead
    assert not verify(world, "alice", earlier)


def test_verify_code_refuses_wrong_and_malformed_codes(world: World) -> None:
    _, seed = bound_device(world)
    world.clock.advance(STEP)
    right = totp.totp(seed, world.clock.now())
    wrong = "000000" if right != "000000" else "111111"
    for code in (wrong, "", "12345", right + "0", "abcdef"):
        assert not verify(world, "alice", code)
    assert verify(world, "alice", right)


def test_verify_code_refuses_principals_without_a_device(world: World) -> None:
    _, seed = bound_device(world)
    world.clock.advance(STEP)
    code = totp.totp(seed, world.clock.now())
    assert not verify(world, "bob", code)
    assert not verify(world, "nobody", code)
    assert not verify(world, ROOT_KEY, code)
    with world.store.transaction() as tx:
        world.devices(tx).unbind("alice")
    assert not verify(world, "alice", code)


# ---- the root identity


def test_root_device_is_its_own_and_no_user_named_root_shares_it(world: World) -> None:
    root_serial, root_seed = create(world, "root-phone")
    with world.store.transaction() as tx:
        device = world.devices(tx).bind_root_device(root_serial,
                                                    *codes(root_seed, world.clock.now()))
        world.users(tx).create("root")
    assert device.user_key == ROOT_KEY
    _, user_seed = bound_device(world, "root", "user-phone")
    world.clock.advance(STEP)
    now = world.clock.now()
    root_code, user_code = totp.totp(root_seed, now), totp.totp(user_seed, now)
    if root_code == user_code:
        pytest.skip("two seeds happen to share a code")
    assert not verify(world, "root", root_code)  # the RAM user named root
    assert not verify(world, ROOT_KEY, user_code)
    assert verify(world, ROOT_KEY, root_code)
    assert verify(world, "root", user_code)


def test_root_device_binding_rules(world: World) -> None:
    serial, seed = create(world, "root-phone")
    assert error_code(world, "bind_root_device", serial, "000000", "000001") \
        == "CheckAuthenticationCodeFail"
    with world.store.transaction() as tx:
        world.devices(tx).bind_root_device(serial, *codes(seed, world.clock.now()))
        listed = {d.serial_number: d for d in world.devices(tx).listing()}
    assert listed[serial].activated_at is not None
    assert listed[serial].user is None  # the root identity is not a RAM user
    world.clock.advance(2 * STEP)
    other, other_seed = create(world, "spare")
    assert error_code(world, "bind_root_device", other, *codes(other_seed, world.clock.now())) \
        == "EntityAlreadyExists.User.MFADevice"
    assert error_code(world, "bind", "alice", serial, *codes(seed, world.clock.now())) \
        == "EntityAlreadyExists.VirtualMFADevice.User"
    assert error_code(world, "delete", serial) == "DeleteConflict.VirtualMFADevice.User"
    with world.store.transaction() as tx:
        assert world.devices(tx).unbind_root_device().serial_number == serial
    assert error_code(world, "unbind_root_device") == "EntityNotExist.User.MFADevice"
