"""Cryptography for ramparts: AES-256-GCM, password hashing, TOTP and the root-key sealer."""

# TOTP is exported as its module (`totp.verify`, `totp.new_seed`): its names are short verbs
# that read wrongly without the module in front.
from ramparts.crypto import totp
from ramparts.crypto.keyring import (
    KEY_FILE_NAME,
    ROOT_KEY_ENV,
    KeyringError,
    RootKey,
    Sealer,
    create_key_file,
    load_key_file,
    load_root_key,
)
from ramparts.crypto.passwords import hash_password, needs_rehash, verify_password
from ramparts.crypto.primitives import (
    CryptoError,
    constant_time_equals,
    decrypt,
    encrypt,
    hkdf_sha256,
    hmac_sha256,
    random_bytes,
)

__all__ = [
    "KEY_FILE_NAME",
    "ROOT_KEY_ENV",
    "CryptoError",
    "KeyringError",
    "RootKey",
    "Sealer",
    "constant_time_equals",
    "create_key_file",
    "decrypt",
    "encrypt",
    "hash_password",
    "hkdf_sha256",
    "hmac_sha256",
    "load_key_file",
    "load_root_key",
    "needs_rehash",
    "random_bytes",
    "totp",
    "verify_password",
]
