"""Ed25519 signatures: the trail's signing key, its PEM public half, signing and verifying."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ramparts.crypto.primitives import CryptoError

__all__ = [
    "SIGNATURE_ALGORITHM",
    "SigningKey",
    "public_key_fingerprint",
    "verify_signature",
]

SIGNATURE_ALGORITHM = "Ed25519"
_RAW_SIZE = 32


class SigningKey:
    """An Ed25519 private key; `raw` is what gets sealed at rest, never logged or shown."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_raw(cls, raw: bytes) -> SigningKey:
        if len(raw) != _RAW_SIZE:
            raise CryptoError(f"an Ed25519 private key is {_RAW_SIZE} bytes, got {len(raw)}")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def raw(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.Raw,
                                       serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption())

    @property
    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def sign(self, message: bytes) -> bytes:
        """A 64-byte signature; Ed25519 is deterministic, so the same message signs the same."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(public={public_key_fingerprint(self.public_pem)[:16]}...)"


def _public_key(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError) as exc:
        raise CryptoError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CryptoError("the public key is not an Ed25519 key")
    return key


def public_key_fingerprint(pem: str) -> str:
    """Hex SHA-256 of the key's DER SubjectPublicKeyInfo: a short public name for the key."""
    der = _public_key(pem).public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def verify_signature(public_pem: str, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is the key's signature of `message`; CryptoError for a bad key."""
    key = _public_key(public_pem)
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
