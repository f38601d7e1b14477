"""RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s), as Alibaba virtual MFA devices use."""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote

__all__ = [
    "DIGITS",
    "SEED_SIZE",
    "STEP_SECONDS",
    "new_seed",
    "otpauth_uri",
    "seed_base32",
    "time_step",
    "totp",
    "verify",
    "verify_consecutive",
]

# Google Authenticator and Alibaba's virtual MFA app read only SHA1/6 digits/30 s reliably;
# RFC 4226 section 4 recommends a 160-bit shared secret, the HMAC-SHA1 output size.
SEED_SIZE = 20
DIGITS = 6
STEP_SECONDS = 30
_MAX_WINDOW = 10


def new_seed() -> bytes:
    """A fresh 20-byte shared secret for one virtual MFA device."""
    return secrets.token_bytes(SEED_SIZE)


def seed_base32(seed: bytes) -> str:
    """The seed as authenticator apps take it: RFC 4648 base32, upper case, no padding."""
    return base64.b32encode(seed).decode("ascii").rstrip("=")


def otpauth_uri(seed: bytes, account: str, issuer: str) -> str:
    """The `otpauth://totp/...` URI a QR code carries (Google Authenticator's Key Uri Format)."""
    if ":" in issuer or ":" in account:
        # The label is `issuer:account`; a colon in either part makes it ambiguous.
        raise ValueError("the MFA issuer and account name must not contain ':'")
    if not issuer or not account:
        raise ValueError("the MFA issuer and account name must not be empty")
    label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
    return (
        f"otpauth://totp/{label}?secret={seed_base32(seed)}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )


def time_step(moment: datetime) -> int:
    """RFC 6238's T: whole 30-second steps since the Unix epoch."""
    if moment.tzinfo is None:
        # A naive datetime would be read as local time and shift every code by the UTC offset.
        raise ValueError("TOTP needs a timezone-aware datetime")
    seconds = int(moment.timestamp())
    if seconds < 0:
        raise ValueError("TOTP is undefined before the Unix epoch")
    return seconds // STEP_SECONDS


def _hotp(seed: bytes, counter: int, digits: int) -> str:
    # RFC 4226 section 5.3: dynamic truncation of HMAC-SHA1 over the 8-byte big-endian counter.
    mac = hmac.new(seed, struct.pack(">Q", counter), "sha1").digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def _check_digits(digits: int) -> None:
    if not 6 <= digits <= 10:
        raise ValueError(f"TOTP codes have 6 to 10 digits, got {digits}")


def totp(seed: bytes, moment: datetime, *, digits: int = DIGITS) -> str:
    """The code an authenticator shows at `moment`."""
    _check_digits(digits)
    return _hotp(seed, time_step(moment), digits)


def _well_formed(code: str, digits: int) -> bool:
    return len(code) == digits and code.isascii() and code.isdigit()


def _matching_steps(seed: bytes, code: str, steps: range, digits: int) -> list[int]:
    # Compute and compare every candidate, with no early exit, so the time taken does not
    # tell which step (or how many digits) matched.
    encoded = code.encode("ascii")
    matched: list[int] = []
    for step in steps:
        if hmac.compare_digest(_hotp(seed, step, digits).encode("ascii"), encoded):
            matched.append(step)
    return matched


def verify(seed: bytes, code: str, moment: datetime, window: int = 1, *,
           last_used_step: int | None = None, digits: int = DIGITS) -> int | None:
    """The time step `code` belongs to, within `window` steps of `moment`, or None.

    The caller stores the returned step and passes it back as `last_used_step`: a step at or
    before it is refused, so one code cannot be replayed (RFC 6238 section 5.2).
    """
    _check_digits(digits)
    if not 0 <= window <= _MAX_WINDOW:
        raise ValueError(f"the TOTP window must be between 0 and {_MAX_WINDOW} steps")
    if not _well_formed(code, digits):
        return None
    now = time_step(moment)
    matched = _matching_steps(seed, code, range(now - window, now + window + 1), digits)
    allowed = [s for s in matched if last_used_step is None or s > last_used_step]
    # Two steps sharing a code happens once in a million; the later one is the safer record.
    return max(allowed) if allowed else None


def verify_consecutive(seed: bytes, code1: str, code2: str, moment: datetime,
                       window: int = 1, *, digits: int = DIGITS) -> int | None:
    """Bind a device: `code1` and `code2` must be codes of two consecutive steps.

    RAM's BindMFADevice takes AuthenticationCode1 and AuthenticationCode2, the two codes the
    device shows one after the other; the user submits just after the second appears, so the
    second code's step must be within `window` of `moment`. Returns that step (store it as the
    last used step) or None.
    """
    _check_digits(digits)
    if not 0 <= window <= _MAX_WINDOW:
        raise ValueError(f"the TOTP window must be between 0 and {_MAX_WINDOW} steps")
    if not (_well_formed(code1, digits) and _well_formed(code2, digits)):
        return None
    now = time_step(moment)
    steps = range(now - window, now + window + 1)
    second = set(_matching_steps(seed, code2, steps, digits))
    first = set(_matching_steps(seed, code1, range(steps.start - 1, steps.stop - 1), digits))
    bound = [step for step in second if step - 1 in first]
    return max(bound) if bound else None
