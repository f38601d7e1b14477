"""scrypt password hashes: round trips, the strong default, malformed encodings, rehashing."""

from __future__ import annotations

import base64

import pytest

from ramparts.crypto import hash_password, needs_rehash, verify_password
from ramparts.crypto.passwords import SCRYPT_N, SCRYPT_P, SCRYPT_R

# A cheap cost for everything but the one test of the default.
FAST = {"n": 2**4, "r": 8, "p": 1}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


SALT = _b64(bytes(16))
HASH = _b64(bytes(32))


def test_default_cost_is_the_strong_one() -> None:
    encoded = hash_password("correct horse battery staple")
    assert encoded.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")
    assert (SCRYPT_N, SCRYPT_R, SCRYPT_P) == (2**15, 8, 3)
    assert 128 * SCRYPT_R * SCRYPT_N <= 64 * 1024 * 1024
    assert verify_password("correct horse battery staple", encoded)
    assert not needs_rehash(encoded)


def test_round_trip_and_wrong_password() -> None:
    encoded = hash_password("Passw0rd!", **FAST)
    assert verify_password("Passw0rd!", encoded)
    assert not verify_password("passw0rd!", encoded)
    assert not verify_password("", encoded)
    assert not verify_password("Passw0rd!!", encoded)


def test_encoding_is_self_describing() -> None:
    encoded = hash_password("pw", **FAST)
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16", "8", "1")
    assert len(base64.b64decode(salt + "==")) == 16
    assert len(base64.b64decode(digest + "=")) == 32
    assert "pw" not in encoded


def test_salts_are_random() -> None:
    assert hash_password("same", **FAST) != hash_password("same", **FAST)


def test_unicode_is_normalized() -> None:
    # "é" precomposed (NFC) and as e + combining accent (NFD, as macOS keyboards type it).
    encoded = hash_password("caf\u00e9", **FAST)
    assert verify_password("cafe\u0301", encoded)


def test_empty_password_hashes_like_any_other() -> None:
    encoded = hash_password("", **FAST)
    assert verify_password("", encoded)
    assert not verify_password(" ", encoded)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "scrypt",
        "plaintext-password",
        f"bcrypt$16$8$1${SALT}${HASH}",
        f"SCRYPT$16$8$1${SALT}${HASH}",
        f"scrypt$16$8${SALT}${HASH}",
        f"scrypt$16$8$1${SALT}${HASH}$",
        f"$scrypt$16$8$1${SALT}${HASH}",
        f"scrypt$0x10$8$1${SALT}${HASH}",
        f"scrypt$016$8$1${SALT}${HASH}",
        f"scrypt$-16$8$1${SALT}${HASH}",
        f"scrypt$ 16$8$1${SALT}${HASH}",
        f"scrypt$\uff11\uff16$8$1${SALT}${HASH}",  # full-width digits
        f"scrypt$15$8$1${SALT}${HASH}",  # n not a power of two
        f"scrypt$1$8$1${SALT}${HASH}",
        f"scrypt$0$8$1${SALT}${HASH}",
        f"scrypt$16$0$1${SALT}${HASH}",
        f"scrypt$16$8$0${SALT}${HASH}",
        f"scrypt$16$8$17${SALT}${HASH}",  # p above the bound
        f"scrypt$16$33$1${SALT}${HASH}",  # r above the bound
        f"scrypt${2**20}$8$1${SALT}${HASH}",  # 1 GiB of memory: refused before computing
        f"scrypt${2**30}$8$1${SALT}${HASH}",
        f"scrypt$16$8$1$${HASH}",
        f"scrypt$16$8$1${SALT}$",
        f"scrypt$16$8$1$!!!!${HASH}",
        f"scrypt$16$8$1${SALT}==${HASH}",  # padding is not part of the format
        f"scrypt$16$8$1${_b64(bytes(8))}${HASH}",  # salt too short
        f"scrypt$16$8$1${SALT}${_b64(bytes(8))}",  # hash too short
        f"scrypt$16$8$1${SALT}${_b64(bytes(65))}",  # hash too long
        f"scrypt$16$8$1${SALT[:-1]}B${HASH}",  # non-canonical base64 (stray low bits)
        f"scrypt$16$8$1${SALT}${HASH}\n",
    ],
)
def test_malformed_encodings_are_rejected_without_raising(encoded: str) -> None:
    assert verify_password("anything", encoded) is False
    assert needs_rehash(encoded)


def test_well_formed_encoding_built_by_hand_is_accepted_shape() -> None:
    # The fixtures above differ from this one in a single part each.
    assert verify_password("anything", f"scrypt$16$8$1${SALT}${HASH}") is False
    assert not needs_rehash(f"scrypt$16$8$1${SALT}${HASH}", n=16, r=8, p=1)


def test_tampered_hash_fails() -> None:
    encoded = hash_password("pw", **FAST)
    head, digest = encoded.rsplit("$", 1)
    raw = bytearray(base64.b64decode(digest + "="))
    raw[0] ^= 1
    assert not verify_password("pw", f"{head}${_b64(bytes(raw))}")


def test_needs_rehash_when_parameters_change() -> None:
    weak = hash_password("pw", **FAST)
    assert needs_rehash(weak)
    assert not needs_rehash(weak, **FAST)
    assert needs_rehash(weak, n=2**5, r=8, p=1)


@pytest.mark.parametrize(
    ("n", "r", "p"), [(15, 8, 1), (1, 8, 1), (2**16, 16, 1), (16, 0, 1), (16, 8, 0)]
)
def test_out_of_range_cost_is_refused(n: int, r: int, p: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        hash_password("pw", n=n, r=r, p=p)
