"""Virtual MFA devices: TOTP seeds sealed at rest, bound to one user or to the root identity."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime

from ramparts.core.clock import format_iso8601
from ramparts.crypto import totp
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import (
    CheckAuthenticationCodeFail,
    DeleteConflict,
    EntityAlreadyExists,
    EntityNotExist,
    InvalidParameter,
    LimitExceeded,
)
from ramparts.services.ram.names import key_of
from ramparts.services.ram.users import MAX_USERS, UserBackend
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = [
    "DEVICE_TYPE",
    "MAX_DEVICES",
    "ROOT_KEY",
    "BoundUser",
    "CreatedDevice",
    "MFABackend",
    "MFADevice",
    "seed_context",
    "serial_of",
]

# The `user_key` of the device bound to the account's root identity. RAM user keys are user
# names in lower case, and `<` is not a user-name character, so no RAM user (not even one
# named "root") can ever hold the root identity's device or be verified against it.
ROOT_KEY = "<root>"
DEVICE_TYPE = "VMFA"  # GetUserMFAInfo's MFADevice.Type for a virtual device
# One device per RAM user plus the root identity's (inferred: RAM documents the
# LimitExceeded.VirtualMFADevice error but not the number).
MAX_DEVICES = MAX_USERS + 1
ISSUER = "ramparts"  # the issuer authenticator apps show next to the device

# [doc: CreateVirtualMFADevice (RAM API reference)]: 1-64 letters, digits, periods, hyphens.
_DEVICE_NAME = re.compile(r"[A-Za-z0-9.-]+")
_MAX_NAME = 64


def serial_of(account_id: str, device_name: str) -> str:
    """`acs:ram::<account>:mfa/<name>`, the serial number RAM gives a virtual device."""
    return f"acs:ram::{account_id}:mfa/{device_name}"


def seed_context(account_id: str, serial_key: str) -> str:
    """The associated data a device's seed is sealed with: the device's own identity."""
    return f"ram/mfa/{account_id}/{serial_key}/seed"


def _check_device_name(name: str) -> str:
    if not 1 <= len(name) <= _MAX_NAME:
        raise InvalidParameter("VirtualMFADeviceName.Length",
                               'The parameter - "VirtualMFADeviceName" beyond the length '
                               "limit.")
    if not _DEVICE_NAME.fullmatch(name):
        raise InvalidParameter("VirtualMFADeviceName.InvalidChars",
                               'The parameter - "VirtualMFADeviceName" contains invalid chars.')
    return name


def _check_code(code: str) -> str:
    if len(code) != totp.DIGITS or not (code.isascii() and code.isdigit()):
        raise InvalidParameter("AuthenticationCode.Format",
                               f'The parameter - "AuthenticationCode" MUST be {totp.DIGITS} '
                               "numbers.")
    return code


@dataclass(frozen=True, slots=True)
class BoundUser:
    """The RAM user a device is bound to, as ListVirtualMFADevices shows it."""

    user_id: str
    user_name: str
    display_name: str


@dataclass(frozen=True, slots=True)
class MFADevice:
    """A virtual MFA device; `user_key` is None while unbound, ROOT_KEY for the root's."""

    serial_number: str
    device_name: str
    created_at: str
    user_key: str | None
    activated_at: str | None
    user: BoundUser | None = None


@dataclass(frozen=True, slots=True)
class CreatedDevice:
    """What CreateVirtualMFADevice shows once: the seed in base32 and the otpauth URI that
    an authenticator app takes (as a QR code)."""

    device: MFADevice
    base32_seed: str
    otpauth_uri: str


def _device(account_id: str, row: Row, user: BoundUser | None = None) -> MFADevice:
    return MFADevice(
        serial_number=serial_of(account_id, row["device_name"]),
        device_name=row["device_name"], created_at=row["created_at"], user_key=row["user_key"],
        activated_at=row["bound_at"], user=user,
    )


class MFABackend:
    """The account's virtual MFA devices.

    The `serial_number` column holds the serial with the device name in lower case: RAM names
    are unique regardless of case, and that column is the table's key. The serial shown on the
    wire keeps the name as it was created.
    """

    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id
        self.users = UserBackend(tx, env, account_id)

    # ---- serial numbers

    def _serial_key(self, serial_number: str) -> str:
        """The stored key of a serial number of this account; EntityNotExist otherwise."""
        # Older RAM pages write the region of an ARN as `*`; both forms name one device.
        serial = serial_number.replace("acs:ram:*:", "acs:ram::", 1)
        prefix = serial_of(self.account_id, "")
        name = serial[len(prefix):] if serial.startswith(prefix) else ""
        if not (name and len(name) <= _MAX_NAME and _DEVICE_NAME.fullmatch(name)):
            raise EntityNotExist("VirtualMFADevice",
                                 f"The virtual mfa device does not exist: {serial_number}.")
        return serial_of(self.account_id, key_of(name))

    def _row(self, serial_number: str) -> Row:
        row = self.tx.query_one(
            "SELECT * FROM mfa_devices WHERE account_id = ? AND serial_number = ?",
            (self.account_id, self._serial_key(serial_number)))
        if row is None:
            raise EntityNotExist("VirtualMFADevice",
                                 f"The virtual mfa device does not exist: {serial_number}.")
        return row

    def _row_of(self, principal_key: str) -> Row | None:
        return self.tx.query_one(
            "SELECT * FROM mfa_devices WHERE account_id = ? AND user_key = ?",
            (self.account_id, principal_key))

    def _seed(self, row: Row) -> bytes:
        return self.env.sealer.open(base64.b64decode(row["seed_sealed"]),
                                    context=seed_context(self.account_id, row["serial_number"]))

    # ---- devices

    def create(self, device_name: str) -> CreatedDevice:
        """A new unbound device; its seed leaves the store only in this answer."""
        _check_device_name(device_name)
        count = self.tx.query_one("SELECT count(*) AS n FROM mfa_devices WHERE account_id = ?",
                                  (self.account_id,))
        if count is not None and count["n"] >= MAX_DEVICES:
            raise LimitExceeded("VirtualMFADevice",
                                f"The count of virtual mfa devices beyond the current limits "
                                f"({MAX_DEVICES}).")
        serial_key = serial_of(self.account_id, key_of(device_name))
        seed = totp.new_seed()
        sealed = self.env.sealer.seal(seed, context=seed_context(self.account_id, serial_key))
        now = format_iso8601(self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO mfa_devices (account_id, serial_number, device_name, seed_sealed, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (self.account_id, serial_key, device_name, base64.b64encode(sealed).decode(),
                 now))
        except ConflictError as exc:
            raise EntityAlreadyExists("VirtualMFADevice",
                                      f"The virtual mfa device does already exist: "
                                      f"{device_name}.") from exc
        device = MFADevice(serial_of(self.account_id, device_name), device_name, now, None, None)
        label = f"{device_name}@{self.account_id}"
        return CreatedDevice(device, totp.seed_base32(seed),
                             totp.otpauth_uri(seed, label, ISSUER))

    def listing(self) -> list[MFADevice]:
        """Every device, with the RAM user each bound one belongs to."""
        rows = self.tx.query(
            "SELECT d.*, u.user_id, u.user_name, u.display_name FROM mfa_devices d "
            "LEFT JOIN users u ON u.account_id = d.account_id AND u.name_key = d.user_key "
            "WHERE d.account_id = ? ORDER BY d.serial_number", (self.account_id,))
        return [_device(self.account_id, row,
                        BoundUser(row["user_id"], row["user_name"], row["display_name"])
                        if row["user_id"] is not None else None)
                for row in rows]

    def get(self, serial_number: str) -> MFADevice:
        return _device(self.account_id, self._row(serial_number))

    def delete(self, serial_number: str) -> None:
        """Refused while the device is bound [doc: DeleteVirtualMFADevice]."""
        row = self._row(serial_number)
        if row["user_key"] is not None:
            raise DeleteConflict("VirtualMFADevice.User",
                                 "The virtual mfa device CAN NOT been bound to any user while "
                                 f"deleting it: {serial_number}.")
        self.tx.execute(
            "DELETE FROM mfa_devices WHERE account_id = ? AND serial_number = ? "
            "AND user_key IS NULL", (self.account_id, row["serial_number"]))

    # ---- binding

    def bind(self, user_name: str, serial_number: str, code1: str, code2: str) -> MFADevice:
        """BindMFADevice: the device's next two consecutive codes prove the user holds it."""
        user = self.users.get(user_name)
        return self._bind(key_of(user.user_name), user.user_name, serial_number, code1, code2)

    def bind_root_device(self, serial_number: str, code1: str, code2: str) -> MFADevice:
        """Bind a device to the account's root identity (from a root session)."""
        return self._bind(ROOT_KEY, "root", serial_number, code1, code2)

    def _bind(self, principal_key: str, who: str, serial_number: str, code1: str,
              code2: str) -> MFADevice:
        _check_code(code1)
        _check_code(code2)
        row = self._row(serial_number)
        if row["user_key"] is not None:
            raise EntityAlreadyExists("VirtualMFADevice.User",
                                      "The virtual mfa device does already been bound to a "
                                      f"user: {serial_number}.")
        if self._row_of(principal_key) is not None:
            raise EntityAlreadyExists("User.MFADevice",
                                      f"The user has already bound a MFA device: {who}.")
        step = totp.verify_consecutive(self._seed(row), code1, code2, self.env.clock.now())
        last = row["last_step"]
        # A device unbound and bound again keeps its last used step: codes already accepted
        # (at sign-in or at an earlier binding) cannot bind it again.
        if step is None or (last is not None and step - 1 <= last):
            raise CheckAuthenticationCodeFail(
                'The parameter - "AuthenticationCode" is incorrect.')
        now = format_iso8601(self.env.clock.now())
        try:
            changed = self.tx.execute(
                "UPDATE mfa_devices SET user_key = ?, bound_at = ?, last_step = ? "
                "WHERE account_id = ? AND serial_number = ? AND user_key IS NULL",
                (principal_key, now, step, self.account_id, row["serial_number"]))
        except ConflictError as exc:  # a concurrent binding of another device won
            raise EntityAlreadyExists("User.MFADevice",
                                      f"The user has already bound a MFA device: {who}.") from exc
        if changed != 1:  # a concurrent binding of this device won
            raise EntityAlreadyExists("VirtualMFADevice.User",
                                      "The virtual mfa device does already been bound to a "
                                      f"user: {serial_number}.")
        return _device(self.account_id, {**row, "user_key": principal_key, "bound_at": now})

    def unbind(self, user_name: str) -> MFADevice:
        """UnbindMFADevice: the user's device becomes unbound; it is answered."""
        user = self.users.get(user_name)
        return self._unbind(key_of(user.user_name))

    def unbind_root_device(self) -> MFADevice:
        return self._unbind(ROOT_KEY)

    def _unbind(self, principal_key: str) -> MFADevice:
        row = self._row_of(principal_key)
        if row is None:
            raise EntityNotExist("User.MFADevice", "The user has not bound any MFA device.")
        self.tx.execute(
            "UPDATE mfa_devices SET user_key = NULL, bound_at = NULL "
            "WHERE account_id = ? AND serial_number = ?", (self.account_id, row["serial_number"]))
        return _device(self.account_id, {**row, "user_key": None, "bound_at": None})

    def user_device(self, user_name: str) -> MFADevice:
        """GetUserMFAInfo: the device bound to the user, or EntityNotExist.User.MFADevice."""
        user = self.users.get(user_name)
        device = self.device_of(key_of(user.user_name))
        if device is None:
            raise EntityNotExist("User.MFADevice", "The user has not bound any MFA device.")
        return device

    def device_of(self, principal_key: str) -> MFADevice | None:
        """The device bound to a user key (or ROOT_KEY), if any."""
        row = self._row_of(principal_key)
        return None if row is None else _device(self.account_id, row)

    # ---- sign-in

    def verify_code(self, principal_key: str, code: str, now: datetime) -> bool:
        """Whether `code` is a current code of the device bound to `principal_key` (a user's
        key, `key_of(user_name)`, or ROOT_KEY) that was never accepted before.

        An accepted code's time step is stored: that step, and every earlier one, is refused
        from then on, so a code seen once (shoulder-surfed, phished, logged) cannot be
        replayed (RFC 6238 section 5.2).
        """
        row = self._row_of(principal_key)
        if row is None:
            return False
        step = totp.verify(self._seed(row), code, now, last_used_step=row["last_step"])
        if step is None:
            return False
        # Compare-and-set: of two concurrent sign-ins with one code, one wins.
        changed = self.tx.execute(
            "UPDATE mfa_devices SET last_step = ? WHERE account_id = ? AND serial_number = ? "
            "AND user_key = ? AND (last_step IS NULL OR last_step < ?)",
            (step, self.account_id, row["serial_number"], principal_key, step))
        return changed == 1
