"""Console password hashing: scrypt, encoded as `scrypt$n$r$p$salt_b64$hash_b64`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

__all__ = [
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

# Cost. OWASP's Password Storage Cheat Sheet asks for N=2**17, r=8, p=1 (128 MiB per hash),
# and lists N=2**15, r=8, p=3 as an equivalent setting that spends the same work in 32 MiB
# (memory is 128 * r * N bytes; p repeats the work without more memory). We take the 32 MiB
# row: it is 3x the floor of n=2**15, r=8, p=1, it keeps several concurrent console logins
# inside a small server's memory, and it stays well within a 64 MiB budget (N=2**16 would
# need 64 MiB plus OpenSSL's overhead, just past it). About 0.1-0.25 s per hash on one core.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 3

_SALT_SIZE = 16
_HASH_SIZE = 32
_SCHEME = "scrypt"

# Bounds on what `verify_password` will compute, so a corrupted or hostile encoding cannot
# make one login attempt take gigabytes or minutes.
_MAX_MEMORY = 64 * 1024 * 1024
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MIN_SALT, _MAX_SALT = 16, 64
_MIN_HASH, _MAX_HASH = 16, 64

_B64 = re.compile(r"[A-Za-z0-9+/]+")
_DECIMAL = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True, slots=True)
class _Encoded:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def _normalize(password: str) -> bytes:
    # NIST SP 800-63B 5.1.1.2: normalize so the same password typed on systems that compose
    # accents differently (macOS keyboards produce NFD) hashes the same.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes | None:
    if not _B64.fullmatch(text):
        return None
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling: one stored hash, one string, no trailing-bit variants.
    return data if _b64encode(data) == text else None


def _check_cost(n: int, r: int, p: int) -> bool:
    return (
        2 <= n <= _MAX_N
        and n & (n - 1) == 0
        and 1 <= r <= _MAX_R
        and 1 <= p <= _MAX_P
        and 128 * r * n <= _MAX_MEMORY
    )


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    # OpenSSL counts 128*r*(n+2) for the work area plus 128*r*p for the blocks; leave 1 MiB
    # slack so a setting exactly at _MAX_MEMORY is not refused by the library.
    maxmem = 128 * r * (n + 2 + p) + 1024 * 1024
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=size)


def _parse(encoded: str) -> _Encoded | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    if not all(_DECIMAL.fullmatch(part) for part in parts[1:4]):
        return None
    n, r, p = (int(part) for part in parts[1:4])
    if not _check_cost(n, r, p):
        return None
    salt, digest = _b64decode(parts[4]), _b64decode(parts[5])
    if salt is None or digest is None:
        return None
    if not (_MIN_SALT <= len(salt) <= _MAX_SALT and _MIN_HASH <= len(digest) <= _MAX_HASH):
        return None
    return _Encoded(n, r, p, salt, digest)


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R,
                  p: int = SCRYPT_P) -> str:
    """Hash `password` with a fresh 16-byte salt; the cost arguments exist for fast tests."""
    if not _check_cost(n, r, p):
        raise ValueError(
            f"scrypt cost n={n} r={r} p={p} is out of range: n must be a power of two, "
            f"r <= {_MAX_R}, p <= {_MAX_P}, and 128*r*n at most {_MAX_MEMORY} bytes"
        )
    salt = secrets.token_bytes(_SALT_SIZE)
    digest = _scrypt(_normalize(password), salt, n, r, p, _HASH_SIZE)
    return f"{_SCHEME}${n}${r}${p}${_b64encode(salt)}${_b64encode(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches `encoded`; False for a wrong password or a malformed encoding.

    The comparison is constant-time. A malformed encoding returns at once: its shape is a
    property of the stored record, not of the password being guessed.
    """
    parsed = _parse(encoded)
    if parsed is None:
        return False
    candidate = _scrypt(_normalize(password), parsed.salt, parsed.n, parsed.r, parsed.p,
                        len(parsed.digest))
    return hmac.compare_digest(candidate, parsed.digest)


def needs_rehash(encoded: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R,
                 p: int = SCRYPT_P) -> bool:
    """True when `encoded` is malformed or was made with other parameters than the current ones.

    Call after a successful `verify_password`, while the plaintext is at hand, to upgrade it.
    """
    parsed = _parse(encoded)
    if parsed is None:
        return True
    return (parsed.n, parsed.r, parsed.p, len(parsed.salt), len(parsed.digest)) != (
        n, r, p, _SALT_SIZE, _HASH_SIZE,
    )
