"""Building blocks: AES-256-GCM, HMAC-SHA256, HKDF-SHA256, random bytes, constant-time compare."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.core.errors import RampartsError

__all__ = [
    "KEY_SIZE",
    "NONCE_SIZE",
    "TAG_SIZE",
    "CryptoError",
    "constant_time_equals",
    "decrypt",
    "encrypt",
    "hkdf_sha256",
    "hmac_sha256",
    "random_bytes",
]

KEY_SIZE = 32
_HASH_SIZE = 32  # SHA-256
NONCE_SIZE = 12
TAG_SIZE = 16

# One message for every way decryption can fail: telling a wrong key from a flipped bit or a
# short input would give an attacker an oracle, and the caller cannot act on the difference.
_DECRYPT_FAILED = "decryption failed"


class CryptoError(RampartsError):
    """A cryptographic operation failed; the message never carries key material or plaintext."""


def random_bytes(n: int) -> bytes:
    """`n` bytes from the operating system's CSPRNG."""
    if n < 0:
        raise ValueError(f"random_bytes needs a non-negative length, got {n}")
    return secrets.token_bytes(n)


def constant_time_equals(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time that does not depend on where they first differ."""
    return hmac.compare_digest(a, b)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of `message` under `key` (32 bytes)."""
    return hmac.new(key, message, hashlib.sha256).digest()


def hkdf_sha256(key: bytes, *, info: bytes, length: int = KEY_SIZE) -> bytes:
    """Derive a subkey from uniformly random key material, one `info` label per purpose.

    No salt: RFC 5869 section 3.1 makes it optional when the input key is already uniformly
    random, which the root key is; the `info` label alone keeps the subkeys independent.
    Written out with HMAC (RFC 5869 section 2), which the service calls on every KMS
    operation: the library's HKDF object costs several times as much to set up as to run.
    """
    if not 0 < length <= 255 * _HASH_SIZE:
        raise ValueError(f"HKDF-SHA256 derives 1 to {255 * _HASH_SIZE} bytes, not {length}")
    prk = hmac.new(bytes(_HASH_SIZE), key, hashlib.sha256).digest()
    output, block = b"", b""
    for counter in range(1, -(-length // _HASH_SIZE) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
    return output[:length]


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        # The length is not secret; the key bytes are, so they never enter the message.
        raise CryptoError(f"AES-256-GCM needs a {KEY_SIZE}-byte key, got {len(key)} bytes")


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: `nonce (12) || ciphertext || tag (16)`, authenticating `aad` too.

    The nonce is random. With 96-bit random nonces NIST SP 800-38D bounds one key to 2**32
    messages; the sealer's subkeys stay far below that, and callers with more traffic derive
    per-purpose keys rather than share one.
    """
    _check_key(key)
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Open what `encrypt` produced; any wrong key, AAD, tampering or truncation -> CryptoError."""
    _check_key(key)
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise CryptoError(_DECRYPT_FAILED)
    nonce, body = blob[:NONCE_SIZE], blob[NONCE_SIZE:]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        # `from None`: the chained library exception adds nothing a caller may act on.
        raise CryptoError(_DECRYPT_FAILED) from None
