"""The CiphertextBlob: which key version encrypted it, and AES-256-GCM bound to the
EncryptionContext, so that Decrypt needs no key id and the wrong context opens nothing.

Layout (then base64): `RKMS`, format 1, the key id's length and ASCII bytes, the version id's
16 bytes, a 16-byte random salt, a 12-byte nonce, the ciphertext and its 16-byte tag. Each blob
is encrypted under its own key, derived (HKDF-SHA256) from the version's material and the salt,
so no key version meets the random-nonce bound of AES-GCM however much it encrypts. The
associated data is everything before the nonce, a zero byte, and the context as canonical JSON
(sorted keys): the context is not stored, it must be given again, in any order, to decrypt
[doc: EncryptionContext].
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ramparts.core import jsontext
from ramparts.crypto.primitives import (
    NONCE_SIZE,
    TAG_SIZE,
    CryptoError,
    decrypt,
    encrypt,
    hkdf_sha256,
    random_bytes,
)
from ramparts.services.kms.errors import InvalidCiphertext, InvalidParameter

__all__ = ["Blob", "EncryptionContext", "open_blob", "parse_blob", "parse_context", "seal_blob"]

MAGIC = b"RKMS"
FORMAT = 1
SALT_SIZE = 16
_INFO = b"ramparts/v1/kms-message/"
MAX_CONTEXT_CHARACTERS = 8192  # [doc: EncryptionContext]
MAX_BLOB_CHARACTERS = 16 * 1024

EncryptionContext = Mapping[str, str]


def parse_context(value: Any, name: str = "EncryptionContext") -> dict[str, str]:
    """A context as sent (the JSON the params reader decoded): an object of strings only."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise InvalidParameter(f'The specified parameter "{name}" is not valid: it must be a '
                               "JSON object whose keys and values are strings.")
    return dict(value)


def _context_bytes(context: EncryptionContext) -> bytes:
    if not context:
        return b""
    return jsontext.canonical(dict(context)).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Blob:
    """A parsed CiphertextBlob: the key version to open it with, and what to open."""

    key_id: str
    version_id: str
    header: bytes
    sealed: bytes  # nonce, ciphertext and tag


def _message_key(material: bytes, header: bytes) -> bytes:
    return hkdf_sha256(material, info=_INFO + header[-SALT_SIZE:])


def seal_blob(key_id: str, version_id: str, material: bytes, plaintext: bytes,
              context: EncryptionContext) -> str:
    key = key_id.encode("ascii")
    header = (MAGIC + bytes([FORMAT, len(key)]) + key + uuid.UUID(version_id).bytes
              + random_bytes(SALT_SIZE))
    sealed = encrypt(_message_key(material, header), plaintext,
                     header + b"\x00" + _context_bytes(context))
    return base64.b64encode(header + sealed).decode("ascii")


def parse_blob(text: str) -> Blob:
    """The blob's header; InvalidCiphertext for anything that is not a whole blob."""
    if len(text) > MAX_BLOB_CHARACTERS:
        raise InvalidCiphertext
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCiphertext from None
    if len(raw) < len(MAGIC) + 2 or raw[:len(MAGIC)] != MAGIC or raw[len(MAGIC)] != FORMAT:
        raise InvalidCiphertext
    length = raw[len(MAGIC) + 1]
    start = len(MAGIC) + 2
    version_end = start + length + 16
    end = version_end + SALT_SIZE
    if len(raw) < end + NONCE_SIZE + TAG_SIZE:
        raise InvalidCiphertext
    try:
        key_id = raw[start:start + length].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCiphertext from None
    version_id = str(uuid.UUID(bytes=raw[start + length:version_end]))
    return Blob(key_id, version_id, raw[:end], raw[end:])


def open_blob(blob: Blob, material: bytes, context: EncryptionContext) -> bytes:
    try:
        return decrypt(_message_key(material, blob.header), blob.sealed,
                       blob.header + b"\x00" + _context_bytes(context))
    except CryptoError:
        raise InvalidCiphertext from None
