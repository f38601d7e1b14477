"""RAM's virtual MFA device actions on the wire."""

from __future__ import annotations

import base64
from typing import Any

from ramparts.core.qrcode import qr_png
from ramparts.services.call import Call
from ramparts.services.ram.mfa import DEVICE_TYPE, MFABackend, MFADevice
from ramparts.services.ram.product import RAM, every, named

__all__: list[str] = []

DEVICE = "ACS::RAM::MFADevice"
USER = "ACS::RAM::User"


def _devices(call: Call) -> MFABackend:
    return MFABackend(call.tx, call.env, call.context.account_id)


def _device_resource(call: Call) -> str:
    """`acs:ram::<account>:mfa/<name>` of the SerialNumber parameter.

    A serial number of this account is its own resource name; any other value is checked as
    a device of this account named by it (and the action then finds no such device).
    """
    serial = (call.params.str("SerialNumber") or "").replace("acs:ram:*:", "acs:ram::", 1)
    prefix = f"acs:ram::{call.context.account_id}:mfa/"
    return serial if serial.startswith(prefix) else prefix + serial


def _listed(device: MFADevice) -> dict[str, Any]:
    body: dict[str, Any] = {"SerialNumber": device.serial_number}
    if device.activated_at is not None:
        body["ActivateDate"] = device.activated_at
    if device.user is not None:
        body["User"] = {"UserId": device.user.user_id, "UserName": device.user.user_name,
                        "DisplayName": device.user.display_name}
    return body


@RAM.action("CreateVirtualMFADevice", resource=named("mfa", "VirtualMFADeviceName"),
            rw="Write", secret_response=("Base32StringSeed", "QRCodePNG"))
def create_virtual_mfa_device(call: Call) -> dict[str, Any]:
    created = _devices(call).create(call.params.str("VirtualMFADeviceName", required=True))
    call.touched(DEVICE, created.device.serial_number)
    # The seed is answered here once, as text and as the QR code of its otpauth URI
    # [doc: CreateVirtualMFADevice: QRCodePNG is a Base64-encoded PNG]; no later call reveals it.
    qr = base64.b64encode(qr_png(created.otpauth_uri)).decode("ascii")
    return {"VirtualMFADevice": {"SerialNumber": created.device.serial_number,
                                 "Base32StringSeed": created.base32_seed, "QRCodePNG": qr}}


@RAM.action("ListVirtualMFADevices", resource=every("mfa"), rw="Read")
def list_virtual_mfa_devices(call: Call) -> dict[str, Any]:
    devices = _devices(call).listing()
    return {"VirtualMFADevices": {"VirtualMFADevice": [_listed(d) for d in devices]}}


@RAM.action("DeleteVirtualMFADevice", resource=_device_resource, rw="Write")
def delete_virtual_mfa_device(call: Call) -> dict[str, Any]:
    serial = call.params.str("SerialNumber", required=True)
    _devices(call).delete(serial)
    call.touched(DEVICE, serial)
    return {}


@RAM.action("BindMFADevice", resource=named("user", "UserName"), rw="Write",
            sensitive=("AuthenticationCode1", "AuthenticationCode2"))
def bind_mfa_device(call: Call) -> dict[str, Any]:
    params = call.params
    user_name = params.str("UserName", required=True)
    device = _devices(call).bind(user_name, params.str("SerialNumber", required=True),
                                 params.str("AuthenticationCode1", required=True),
                                 params.str("AuthenticationCode2", required=True))
    call.touched(USER, user_name)
    call.touched(DEVICE, device.serial_number)
    return {}


@RAM.action("UnbindMFADevice", resource=named("user", "UserName"), rw="Write")
def unbind_mfa_device(call: Call) -> dict[str, Any]:
    user_name = call.params.str("UserName", required=True)
    device = _devices(call).unbind(user_name)
    call.touched(USER, user_name)
    call.touched(DEVICE, device.serial_number)
    return {"MFADevice": {"SerialNumber": device.serial_number}}


@RAM.action("GetUserMFAInfo", resource=named("user", "UserName"), rw="Read")
def get_user_mfa_info(call: Call) -> dict[str, Any]:
    user_name = call.params.str("UserName", required=True)
    device = _devices(call).user_device(user_name)
    call.touched(USER, user_name)
    return {"MFADevice": {"SerialNumber": device.serial_number, "Type": DEVICE_TYPE}}
