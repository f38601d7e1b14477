"""Virtual MFA devices through the official RAM SDK: the seed shown once, binding with two
consecutive codes, the conflicts RAM documents, and a trail that never holds a seed or a code."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alibabacloud_ram20150501 import models as ram_models
from Tea.exceptions import TeaException

from ramparts.crypto import totp
from tests.api.sdk import SdkClients, error_of, make_user

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STEP = timedelta(seconds=totp.STEP_SECONDS)


def seed_of(base32_seed: str) -> bytes:
    return base64.b32decode(base32_seed + "=" * (-len(base32_seed) % 8))


def current_codes(seed: bytes) -> tuple[str, str]:
    """The two codes an authenticator shows one after the other, the second one current."""
    now = datetime.now(UTC)
    return totp.totp(seed, now - STEP), totp.totp(seed, now)


def create_device(admin: SdkClients, name: str) -> ram_models.CreateVirtualMFADeviceResponse:
    return admin.ram.create_virtual_mfadevice(
        ram_models.CreateVirtualMFADeviceRequest(virtual_mfadevice_name=name))


def bind(admin: SdkClients, user: str, serial: str, code1: str, code2: str) -> str:
    """BindMFADevice; its request id."""
    answer = admin.ram.bind_mfadevice(ram_models.BindMFADeviceRequest(
        serial_number=serial, user_name=user, authentication_code_1=code1,
        authentication_code_2=code2))
    return str(answer.body.request_id)


def listed(admin: SdkClients) -> dict[str, Any]:
    body = admin.ram.list_virtual_mfadevices().body.to_map()
    return {d["SerialNumber"]: d for d in body["VirtualMFADevices"]["VirtualMFADevice"]}


def trail_bodies(admin: SdkClients, event_id: str | None = None) -> list[str]:
    with admin.server.runtime.store.transaction() as tx:
        if event_id is None:
            rows = tx.query("SELECT body FROM trail_events")
        else:
            rows = tx.query("SELECT body FROM trail_events WHERE event_id = ?", (event_id,))
    return [str(row["body"]) for row in rows]


def test_device_lifecycle(admin: SdkClients, unique: str) -> None:
    ram, account = admin.ram, admin.server.account_id
    user = f"{unique}-alice"
    ram.create_user(ram_models.CreateUserRequest(user_name=user, display_name="Alice"))
    created = create_device(admin, f"{unique}-phone").body.virtual_mfadevice
    serial = created.serial_number
    assert serial == f"acs:ram::{account}:mfa/{unique}-phone"
    seed = seed_of(created.base_32string_seed)
    assert len(seed) == totp.SEED_SIZE
    assert base64.b64decode(created.qrcode_png).startswith(PNG_SIGNATURE)

    before = listed(admin)[serial]
    assert before == {"SerialNumber": serial}  # unbound: no user, no activation, no seed

    bind(admin, user, serial, *current_codes(seed))
    info = ram.get_user_mfainfo(ram_models.GetUserMFAInfoRequest(user_name=user)).body
    assert (info.mfadevice.serial_number, info.mfadevice.type) == (serial, "VMFA")
    after = listed(admin)[serial]
    assert after["User"]["UserName"] == user
    assert after["User"]["DisplayName"] == "Alice"
    assert after["User"]["UserId"]
    assert after["ActivateDate"].endswith("Z")
    assert set(after) == {"SerialNumber", "User", "ActivateDate"}

    with pytest.raises(TeaException) as caught:
        ram.delete_virtual_mfadevice(ram_models.DeleteVirtualMFADeviceRequest(
            serial_number=serial))
    assert error_of(caught.value) == (409, "DeleteConflict.VirtualMFADevice.User")
    with pytest.raises(TeaException) as caught:
        ram.delete_user(ram_models.DeleteUserRequest(user_name=user))
    assert error_of(caught.value) == (409, "DeleteConflict.User.MFADevice")

    unbound = ram.unbind_mfadevice(ram_models.UnbindMFADeviceRequest(user_name=user)).body
    assert unbound.mfadevice.serial_number == serial
    with pytest.raises(TeaException) as caught:
        ram.get_user_mfainfo(ram_models.GetUserMFAInfoRequest(user_name=user))
    assert error_of(caught.value) == (404, "EntityNotExist.User.MFADevice")
    ram.delete_virtual_mfadevice(ram_models.DeleteVirtualMFADeviceRequest(serial_number=serial))
    assert serial not in listed(admin)
    ram.delete_user(ram_models.DeleteUserRequest(user_name=user))


def test_create_refusals(admin: SdkClients, unique: str) -> None:
    create_device(admin, f"{unique}-dup")
    for name, expected in ((f"{unique}-DUP", (409, "EntityAlreadyExists.VirtualMFADevice")),
                           (f"{unique}_bad", (400, "InvalidParameter.VirtualMFADeviceName"
                                                   ".InvalidChars")),
                           ("x" * 65, (400, "InvalidParameter.VirtualMFADeviceName.Length"))):
        with pytest.raises(TeaException) as caught:
            create_device(admin, name)
        assert error_of(caught.value) == expected


def test_bind_refuses_wrong_and_malformed_codes(admin: SdkClients, unique: str) -> None:
    user = f"{unique}-bob"
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=user))
    created = create_device(admin, f"{unique}-phone").body.virtual_mfadevice
    seed = seed_of(created.base_32string_seed)
    first, second = current_codes(seed)
    wrong = "000000" if second != "000000" else "111111"
    for codes, expected in (((first, wrong), (403, "CheckAuthenticationCodeFail")),
                            ((second, first), (403, "CheckAuthenticationCodeFail")),
                            (("12345", second), (400, "InvalidParameter.AuthenticationCode"
                                                      ".Format"))):
        if codes[0] == codes[1]:
            continue  # two steps happen to share a code
        with pytest.raises(TeaException) as caught:
            bind(admin, user, created.serial_number, *codes)
        assert error_of(caught.value) == expected
    with pytest.raises(TeaException) as caught:
        bind(admin, user, f"acs:ram::{admin.server.account_id}:mfa/{unique}-none",
             *current_codes(seed))
    assert error_of(caught.value) == (404, "EntityNotExist.VirtualMFADevice")
    with pytest.raises(TeaException) as caught:
        admin.ram.get_user_mfainfo(ram_models.GetUserMFAInfoRequest(user_name=user))
    assert error_of(caught.value) == (404, "EntityNotExist.User.MFADevice")


def test_the_trail_never_holds_the_seed_or_a_code(admin: SdkClients, unique: str) -> None:
    user = f"{unique}-carol"
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=user))
    answer = create_device(admin, f"{unique}-phone").body
    device = answer.virtual_mfadevice
    seed = seed_of(device.base_32string_seed)
    codes = current_codes(seed)
    bind_id = bind(admin, user, device.serial_number, *codes)

    everything = "\n".join(trail_bodies(admin))
    for secret in (device.base_32string_seed, device.qrcode_png[:64], seed.hex(),
                   base64.b64encode(seed).decode()):
        assert secret not in everything
    (created_event,) = (json.loads(body) for body in trail_bodies(admin, answer.request_id))
    assert created_event["responseElements"]["VirtualMFADevice"] == {
        "SerialNumber": device.serial_number}
    (bind_body,) = trail_bodies(admin, bind_id)
    bind_event = json.loads(bind_body)
    assert bind_event["eventName"] == "BindMFADevice"
    parameters = bind_event["requestParameters"]
    assert parameters["SerialNumber"] == device.serial_number
    for name, code in zip(("AuthenticationCode1", "AuthenticationCode2"), codes, strict=True):
        assert parameters[name].startswith("redacted:")
        assert code not in bind_body


def test_device_actions_are_checked_on_the_device_name(admin: SdkClients, unique: str) -> None:
    account = admin.server.account_id
    limited = make_user(admin, f"{unique}-limited", {
        "Effect": "Allow", "Action": ["ram:CreateVirtualMFADevice",
                                      "ram:DeleteVirtualMFADevice"],
        "Resource": f"acs:ram:*:{account}:mfa/{unique}-ok*"})
    created = create_device(limited, f"{unique}-ok1").body.virtual_mfadevice
    with pytest.raises(TeaException) as caught:
        create_device(limited, f"{unique}-no1")
    assert error_of(caught.value) == (403, "NoPermission")
    create_device(admin, f"{unique}-no2")
    with pytest.raises(TeaException) as caught:
        limited.ram.delete_virtual_mfadevice(ram_models.DeleteVirtualMFADeviceRequest(
            serial_number=f"acs:ram::{account}:mfa/{unique}-no2"))
    assert error_of(caught.value) == (403, "NoPermission")
    limited.ram.delete_virtual_mfadevice(ram_models.DeleteVirtualMFADeviceRequest(
        serial_number=created.serial_number))
