"""The root key (from the environment or a 0600 key file) and the sealer it drives."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from ramparts.core.errors import RampartsError
from ramparts.core.files import write_new_private_file
from ramparts.crypto import shamir
from ramparts.crypto.primitives import (
    KEY_SIZE,
    NONCE_SIZE,
    TAG_SIZE,
    CryptoError,
    constant_time_equals,
    decrypt,
    encrypt,
    hkdf_sha256,
    random_bytes,
)

__all__ = [
    "KEY_FILE_NAME",
    "KEY_ID_SIZE",
    "ROOT_KEY_ENV",
    "SEALED_VERSION",
    "KeyringError",
    "RootKey",
    "Sealer",
    "create_key_file",
    "load_key_file",
    "load_root_key",
]

ROOT_KEY_ENV = "RAMPARTS_ROOT_KEY"
KEY_FILE_NAME = "root.key"
SEALED_VERSION = 1
KEY_ID_SIZE = 8

# HKDF labels: one per purpose, versioned so a future scheme derives unrelated keys.
_INFO_SEAL = b"ramparts/v1/seal"
_INFO_REDACTION = b"ramparts/v1/redaction"
_INFO_KEY_ID = b"ramparts/v1/key-id"

_HEADER_SIZE = 1 + KEY_ID_SIZE
# A key file holds 44 characters of base64 and a newline; anything much larger is not one.
_MAX_KEY_FILE_SIZE = 1024
_GENERATE_HINT = (
    "generate one with: python -c \"import base64, secrets; "
    "print(base64.b64encode(secrets.token_bytes(32)).decode())\""
)


class KeyringError(RampartsError):
    """The root key is missing or unusable; the message says what to fix, never the key."""


def _decode_key(text: str) -> bytes | None:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_SIZE else None


class RootKey:
    """32 random bytes that every sealing key is derived from; never stored next to the data."""

    __slots__ = ("_material",)

    def __init__(self, material: bytes) -> None:
        if len(material) != KEY_SIZE:
            raise KeyringError(f"a root key is {KEY_SIZE} bytes, got {len(material)}")
        self._material = bytes(material)

    @classmethod
    def generate(cls) -> RootKey:
        return cls(random_bytes(KEY_SIZE))

    @classmethod
    def from_base64(cls, text: str, *, source: str) -> RootKey:
        """Decode standard base64 of exactly 32 bytes; `source` names where it came from."""
        material = _decode_key(text)
        if material is None:
            raise KeyringError(
                f"{source} is not the base64 encoding of {KEY_SIZE} bytes; {_GENERATE_HINT}"
            )
        return cls(material)

    @property
    def key_id(self) -> bytes:
        """A public 8-byte name for this key: SHA-256 of an HKDF-derived id key, truncated.

        Hashing a derived key, not the root key, means the id says nothing about any key
        that encrypts.
        """
        return hashlib.sha256(hkdf_sha256(self._material, info=_INFO_KEY_ID)).digest()[
            :KEY_ID_SIZE
        ]

    def derive(self, info: bytes) -> bytes:
        """A 32-byte subkey for one purpose; callers never see the root key itself."""
        return hkdf_sha256(self._material, info=info)

    def split(self, shares: int, threshold: int) -> list[shamir.Share]:
        """This key as `shares` Shamir shares, any `threshold` of which give it back through
        `combine` (2 <= threshold <= shares <= 255, else ShamirError)."""
        return shamir.split(self._material, shares, threshold)

    @classmethod
    def combine(cls, shares: Sequence[shamir.Share]) -> RootKey:
        """The root key that `split` made `shares` from, given at least its threshold of them.

        ShamirError when the shares do not combine (other splits, duplicates, too few) or
        combine into something that is not a root key.
        """
        material = shamir.combine(shares)
        if len(material) != KEY_SIZE:
            raise shamir.ShamirError(
                f"these shares make a secret of {len(material)} bytes, not a {KEY_SIZE}-byte "
                "root key: they were split from something else"
            )
        return cls(material)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RootKey):
            return NotImplemented
        return constant_time_equals(self._material, other._material)

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __repr__(self) -> str:
        return f"RootKey(key_id={self.key_id.hex()!r})"


def create_key_file(path: Path) -> RootKey:
    """Write a new root key to `path` (mode 0600) and return it; never overwrite a file (a
    symlink planted at `path` is refused rather than followed)."""
    key = RootKey.generate()
    try:
        write_new_private_file(path, base64.b64encode(key._material) + b"\n")
    except FileExistsError:
        raise KeyringError(
            f"{path} already exists; refusing to overwrite a root key (every value sealed "
            "with it would be lost). Move it away first if you really mean to replace it"
        ) from None
    except OSError as exc:
        raise KeyringError(f"cannot create the root key file {path}: {exc.strerror}") from None
    return key


def load_key_file(path: Path) -> RootKey:
    """Read a root key file, refusing one others could read or write, or not a regular file.

    The checks run on the opened descriptor (fstat), not on the path, so the file cannot be
    swapped between the check and the read. O_NONBLOCK keeps a FIFO from hanging the open.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise KeyringError(
            f"no root key file at {path}; run `ramparts init` or set {ROOT_KEY_ENV}"
        ) from None
    except OSError as exc:
        raise KeyringError(f"cannot open the root key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyringError(f"{path} is not a regular file; the root key must be one")
        if info.st_mode & 0o077:
            raise KeyringError(
                f"{path} is accessible by group or others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}`"
            )
        data = os.read(fd, _MAX_KEY_FILE_SIZE + 1)
    finally:
        os.close(fd)
    try:
        text = data.decode("ascii") if len(data) <= _MAX_KEY_FILE_SIZE else ""
    except UnicodeDecodeError:
        text = ""
    return RootKey.from_base64(text, source=f"the root key file {path}")


def load_root_key(data_dir: Path, environ: Mapping[str, str]) -> RootKey:
    """The root key from `RAMPARTS_ROOT_KEY` if set, else from `<data_dir>/root.key`.

    `environ` is passed in (normally `os.environ`) so configuration is read in one place.
    """
    if ROOT_KEY_ENV in environ:
        value = environ[ROOT_KEY_ENV]
        if not value.strip():
            # Fail closed: an empty variable is usually a deployment template gone wrong, and
            # quietly using some other key would seal new data under the wrong one.
            raise KeyringError(f"{ROOT_KEY_ENV} is set but empty; set it or unset it")
        return RootKey.from_base64(value, source=ROOT_KEY_ENV)
    return load_key_file(data_dir / KEY_FILE_NAME)


class Sealer:
    """Seals values at rest with AES-256-GCM, bound to the record they belong to.

    Format: `version (1) || key id (8) || nonce (12) || ciphertext || tag (16)`. The header
    and the record's `context` are the associated data, so a sealed value moved to another
    record, or with its header edited, does not open.
    """

    __slots__ = ("_key_id", "_redaction_key", "_seal_key")

    def __init__(self, root: RootKey) -> None:
        self._seal_key = root.derive(_INFO_SEAL)
        self._redaction_key = root.derive(_INFO_REDACTION)
        self._key_id = root.key_id

    @property
    def key_id(self) -> bytes:
        """The root key's public id, written into every sealed value."""
        return self._key_id

    @property
    def redaction_key(self) -> bytes:
        """The HMAC key the audit trail uses to fingerprint sensitive values."""
        return self._redaction_key

    def _header(self) -> bytes:
        return bytes([SEALED_VERSION]) + self._key_id

    @staticmethod
    def _aad(header: bytes, context: str) -> bytes:
        if not context:
            raise ValueError("sealing needs a context naming the record, e.g. 'ram/user/1/x'")
        # The header has a fixed length, so header || context cannot be split two ways.
        return header + context.encode("utf-8")

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        header = self._header()
        return header + encrypt(self._seal_key, plaintext, self._aad(header, context))

    def open(self, sealed: bytes, *, context: str) -> bytes:
        """The plaintext, or CryptoError if the value is not one this key sealed for `context`."""
        if len(sealed) < _HEADER_SIZE + NONCE_SIZE + TAG_SIZE:
            raise CryptoError("decryption failed")
        header = sealed[:_HEADER_SIZE]
        if header[0] != SEALED_VERSION:
            raise CryptoError(f"unsupported sealed value version {header[0]}")
        if not constant_time_equals(header[1:], self._key_id):
            # Key ids are public (stored beside every value); naming the mismatch helps an
            # operator who started the server with the wrong root key.
            raise CryptoError(
                f"sealed with another root key (key id {header[1:].hex()}, "
                f"this server's is {self._key_id.hex()})"
            )
        return decrypt(self._seal_key, sealed[_HEADER_SIZE:], self._aad(header, context))

    def __repr__(self) -> str:
        return f"Sealer(key_id={self._key_id.hex()!r})"
