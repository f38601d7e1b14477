"""AES-256-GCM, HMAC, HKDF and the random source."""

from __future__ import annotations

import pytest

from ramparts.core import RampartsError
from ramparts.crypto import (
    CryptoError,
    constant_time_equals,
    decrypt,
    encrypt,
    hkdf_sha256,
    hmac_sha256,
    random_bytes,
)
from ramparts.crypto.primitives import NONCE_SIZE, TAG_SIZE

KEY = bytes(range(32))
AAD = b"ram/user/1/password"


def test_round_trip_and_layout() -> None:
    blob = encrypt(KEY, b"attack at dawn", AAD)
    assert len(blob) == NONCE_SIZE + len(b"attack at dawn") + TAG_SIZE
    assert b"attack at dawn" not in blob
    assert decrypt(KEY, blob, AAD) == b"attack at dawn"


def test_empty_plaintext_round_trips() -> None:
    assert decrypt(KEY, encrypt(KEY, b"", AAD), AAD) == b""


def test_nonces_are_fresh() -> None:
    blobs = {encrypt(KEY, b"same", AAD) for _ in range(50)}
    assert len({blob[:NONCE_SIZE] for blob in blobs}) == 50


def test_crypto_error_is_a_ramparts_error() -> None:
    assert issubclass(CryptoError, RampartsError)


def _assert_fails(key: bytes, blob: bytes, aad: bytes) -> None:
    with pytest.raises(CryptoError) as caught:
        decrypt(key, blob, aad)
    # One message for every failure, and no chained library exception to leak details.
    assert str(caught.value) == "decryption failed"
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_wrong_aad_fails() -> None:
    _assert_fails(KEY, encrypt(KEY, b"secret", AAD), b"ram/user/2/password")


def test_wrong_key_fails() -> None:
    _assert_fails(bytes(32), encrypt(KEY, b"secret", AAD), AAD)


@pytest.mark.parametrize("position", [0, NONCE_SIZE - 1, NONCE_SIZE, NONCE_SIZE + 3, -1])
def test_tampered_blob_fails(position: int) -> None:
    blob = bytearray(encrypt(KEY, b"secret", AAD))
    blob[position] ^= 0x01
    _assert_fails(KEY, bytes(blob), AAD)


@pytest.mark.parametrize("length", [0, 1, NONCE_SIZE, NONCE_SIZE + TAG_SIZE - 1, -1])
def test_truncated_blob_fails(length: int) -> None:
    blob = encrypt(KEY, b"secret", AAD)
    _assert_fails(KEY, blob[:length], AAD)


def test_appended_bytes_fail() -> None:
    _assert_fails(KEY, encrypt(KEY, b"secret", AAD) + b"\x00", AAD)


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_key_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(CryptoError, match="32-byte key"):
        encrypt(b"k" * size, b"x", AAD)
    with pytest.raises(CryptoError, match="32-byte key"):
        decrypt(b"k" * size, bytes(40), AAD)


def test_random_bytes() -> None:
    assert len(random_bytes(0)) == 0
    assert len(random_bytes(32)) == 32
    assert random_bytes(32) != random_bytes(32)
    with pytest.raises(ValueError, match="non-negative"):
        random_bytes(-1)


def test_constant_time_equals() -> None:
    assert constant_time_equals(b"abc", b"abc")
    assert not constant_time_equals(b"abc", b"abd")
    assert not constant_time_equals(b"abc", b"abcd")


def test_hmac_sha256_rfc4231_case_2() -> None:
    digest = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert digest.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_hkdf_sha256_rfc5869_case_3() -> None:
    okm = hkdf_sha256(b"\x0b" * 22, info=b"", length=42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8"
    )


def test_hkdf_labels_give_independent_keys() -> None:
    assert hkdf_sha256(KEY, info=b"a") != hkdf_sha256(KEY, info=b"b")
    assert len(hkdf_sha256(KEY, info=b"a")) == 32


@pytest.mark.parametrize("length", [1, 16, 32, 33, 64, 255])
def test_hkdf_sha256_agrees_with_the_librarys_hkdf(length: int) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    for number in range(20):
        key, info = bytes([number]) * 32, bytes(range(number))
        assert hkdf_sha256(key, info=info, length=length) == HKDF(
            hashes.SHA256(), length, None, info).derive(key)
