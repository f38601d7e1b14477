"""The crypto package's public names are pinned, so a change to them is a deliberate one."""

from __future__ import annotations

import ramparts.crypto

EXPECTED = [
    "KEY_FILE_NAME", "ROOT_KEY_ENV", "CryptoError", "KeyringError", "RootKey", "Sealer",
    "constant_time_equals", "create_key_file", "decrypt", "encrypt", "hash_password",
    "hkdf_sha256", "hmac_sha256", "load_key_file", "load_root_key", "needs_rehash",
    "random_bytes", "totp", "verify_password",
]


def test_crypto_exports_are_pinned() -> None:
    assert sorted(ramparts.crypto.__all__) == sorted(EXPECTED)
    for name in ramparts.crypto.__all__:
        assert hasattr(ramparts.crypto, name), name
