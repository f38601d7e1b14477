"""The root key (environment, key file) and the sealer built on it."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from ramparts.crypto import (
    KEY_FILE_NAME,
    ROOT_KEY_ENV,
    CryptoError,
    KeyringError,
    RootKey,
    Sealer,
    create_key_file,
    load_key_file,
    load_root_key,
)
from ramparts.crypto.keyring import KEY_ID_SIZE, SEALED_VERSION

MATERIAL = bytes(range(32))
CONTEXT = "ram/accesskey/LTAI00000000000000000001/secret"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_texts(key_material: bytes) -> list[str]:
    """Every spelling of key material that must never appear in a message or repr."""
    return [b64(key_material), key_material.hex(), repr(key_material)]


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(RootKey(MATERIAL))


# -- sealing ---------------------------------------------------------------------------------


def test_seal_round_trip(sealer: Sealer) -> None:
    sealed = sealer.seal(b"wJalrXUtnFEMI/K7MDENG", context=CONTEXT)
    assert b"wJalrXUtnFEMI" not in sealed
    assert sealer.open(sealed, context=CONTEXT) == b"wJalrXUtnFEMI/K7MDENG"
    assert sealer.open(sealer.seal(b"", context=CONTEXT), context=CONTEXT) == b""


def test_sealed_format_starts_with_version_and_key_id(sealer: Sealer) -> None:
    sealed = sealer.seal(b"x", context=CONTEXT)
    assert sealed[0] == SEALED_VERSION
    assert sealed[1:1 + KEY_ID_SIZE] == sealer.key_id == RootKey(MATERIAL).key_id
    assert len(sealed) == 1 + KEY_ID_SIZE + 12 + 1 + 16


def test_another_sealer_from_the_same_root_key_opens(sealer: Sealer) -> None:
    sealed = sealer.seal(b"x", context=CONTEXT)
    assert Sealer(RootKey(MATERIAL)).open(sealed, context=CONTEXT) == b"x"


def test_value_copied_to_another_record_does_not_open(sealer: Sealer) -> None:
    sealed = sealer.seal(b"secret", context=CONTEXT)
    for other in [
        "ram/accesskey/LTAI00000000000000000002/secret",
        CONTEXT + " ",
        CONTEXT.upper(),
        "ram/accesskey/LTAI00000000000000000001",
    ]:
        with pytest.raises(CryptoError, match="decryption failed"):
            sealer.open(sealed, context=other)


def test_empty_context_is_refused(sealer: Sealer) -> None:
    with pytest.raises(ValueError, match="context"):
        sealer.seal(b"x", context="")


@pytest.mark.parametrize("position", [1, KEY_ID_SIZE, KEY_ID_SIZE + 1, KEY_ID_SIZE + 13, -1])
def test_tampered_sealed_value_does_not_open(sealer: Sealer, position: int) -> None:
    sealed = bytearray(sealer.seal(b"secret", context=CONTEXT))
    sealed[position] ^= 0x80
    with pytest.raises(CryptoError):
        sealer.open(bytes(sealed), context=CONTEXT)


def test_unknown_version_is_refused(sealer: Sealer) -> None:
    sealed = bytearray(sealer.seal(b"secret", context=CONTEXT))
    sealed[0] = 2
    with pytest.raises(CryptoError, match="version 2"):
        sealer.open(bytes(sealed), context=CONTEXT)


@pytest.mark.parametrize("length", [0, 1, 1 + KEY_ID_SIZE, 1 + KEY_ID_SIZE + 12 + 15, -1])
def test_truncated_sealed_value_does_not_open(sealer: Sealer, length: int) -> None:
    sealed = sealer.seal(b"secret", context=CONTEXT)
    with pytest.raises(CryptoError):
        sealer.open(sealed[:length], context=CONTEXT)


def test_value_sealed_under_another_root_key_does_not_open(sealer: Sealer) -> None:
    other = Sealer(RootKey.generate())
    sealed = other.seal(b"secret", context=CONTEXT)
    with pytest.raises(CryptoError, match="another root key") as caught:
        sealer.open(sealed, context=CONTEXT)
    assert other.key_id.hex() in str(caught.value)


def test_forged_key_id_still_does_not_open(sealer: Sealer) -> None:
    # A value from another key relabelled with this key's id fails authentication.
    foreign = Sealer(RootKey.generate()).seal(b"secret", context=CONTEXT)
    forged = foreign[:1] + sealer.key_id + foreign[1 + KEY_ID_SIZE:]
    with pytest.raises(CryptoError, match="decryption failed"):
        sealer.open(forged, context=CONTEXT)


def test_subkeys_are_derived_and_distinct(sealer: Sealer) -> None:
    assert len(sealer.redaction_key) == 32
    assert sealer.redaction_key != MATERIAL
    assert Sealer(RootKey(MATERIAL)).redaction_key == sealer.redaction_key
    assert Sealer(RootKey.generate()).redaction_key != sealer.redaction_key
    assert sealer.key_id not in MATERIAL


def test_reprs_and_errors_show_no_key_material(sealer: Sealer) -> None:
    shown = [repr(sealer), str(sealer), repr(RootKey(MATERIAL))]
    sealed = Sealer(RootKey.generate()).seal(b"x", context=CONTEXT)
    for attempt in (sealed, sealed[:3], b""):
        with pytest.raises(CryptoError) as caught:
            sealer.open(attempt, context=CONTEXT)
        shown.append(str(caught.value))
    for text in shown:
        for secret in [*key_texts(MATERIAL), *key_texts(sealer.redaction_key)]:
            assert secret not in text
    assert sealer.key_id.hex() in repr(sealer)


def test_root_key_equality_and_size() -> None:
    assert RootKey(MATERIAL) == RootKey(MATERIAL)
    assert RootKey(MATERIAL) != RootKey.generate()
    with pytest.raises(KeyringError, match="32 bytes"):
        RootKey(MATERIAL[:16])


# -- key file --------------------------------------------------------------------------------


def test_create_then_load_key_file(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    created = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text(encoding="ascii"), validate=False)) == 32
    assert load_key_file(path) == created


def test_created_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        create_key_file(tmp_path / KEY_FILE_NAME)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600


def test_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    first = create_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyringError, match="already exists"):
        create_key_file(path)
    assert path.read_bytes() == before
    assert load_key_file(path) == first


def test_symlink_at_the_key_path_is_not_followed_on_create(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / KEY_FILE_NAME).symlink_to(target)
    with pytest.raises(KeyringError, match="already exists"):
        create_key_file(tmp_path / KEY_FILE_NAME)
    assert not target.exists()


def test_create_in_a_missing_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="cannot create"):
        create_key_file(tmp_path / "missing" / KEY_FILE_NAME)


def _write_key(path: Path, text: str, mode: int) -> None:
    path.write_text(text, encoding="ascii")
    path.chmod(mode)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666, 0o610])
def test_key_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / KEY_FILE_NAME
    _write_key(path, b64(MATERIAL), mode)
    with pytest.raises(KeyringError, match="chmod 600") as caught:
        load_key_file(path)
    assert f"{mode:04o}" in str(caught.value)
    for secret in key_texts(MATERIAL):
        assert secret not in str(caught.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_key_file_private_to_its_owner_is_accepted(tmp_path: Path, mode: int) -> None:
    path = tmp_path / KEY_FILE_NAME
    _write_key(path, b64(MATERIAL) + "\n", mode)
    assert load_key_file(path) == RootKey(MATERIAL)


def test_symlink_to_a_private_key_file_is_accepted(tmp_path: Path) -> None:
    # Secret mounts (Kubernetes among them) present files through symlinks; the checks apply
    # to the file actually opened.
    real = tmp_path / "real.key"
    _write_key(real, b64(MATERIAL), 0o600)
    (tmp_path / KEY_FILE_NAME).symlink_to(real)
    assert load_key_file(tmp_path / KEY_FILE_NAME) == RootKey(MATERIAL)
    real.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        load_key_file(tmp_path / KEY_FILE_NAME)


def test_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.mkdir(mode=0o700)
    with pytest.raises(KeyringError, match="not a regular file"):
        load_key_file(path)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    os.mkfifo(path, 0o600)
    with pytest.raises(KeyringError, match="not a regular file"):
        load_key_file(path)


def test_missing_key_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="ramparts init"):
        load_key_file(tmp_path / KEY_FILE_NAME)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        b64(MATERIAL[:16]),
        b64(MATERIAL + b"\x00"),
        "not base64 at all!",
        b64(MATERIAL).rstrip("="),
        "A" * 2000,
        MATERIAL.hex(),
    ],
)
def test_key_file_not_holding_32_bytes_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / KEY_FILE_NAME
    _write_key(path, text, 0o600)
    with pytest.raises(KeyringError, match="base64 encoding of 32 bytes"):
        load_key_file(path)


def test_binary_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_bytes(MATERIAL)
    path.chmod(0o600)
    with pytest.raises(KeyringError, match="base64 encoding of 32 bytes") as caught:
        load_key_file(path)
    for secret in key_texts(MATERIAL):
        assert secret not in str(caught.value)


# -- environment -----------------------------------------------------------------------------


def test_environment_key_is_used_first(tmp_path: Path) -> None:
    create_key_file(tmp_path / KEY_FILE_NAME)
    key = load_root_key(tmp_path, {ROOT_KEY_ENV: b64(MATERIAL)})
    assert key == RootKey(MATERIAL)


def test_key_file_is_used_without_the_environment(tmp_path: Path) -> None:
    created = create_key_file(tmp_path / KEY_FILE_NAME)
    assert load_root_key(tmp_path, {"OTHER": "x"}) == created


def test_no_key_anywhere_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match=ROOT_KEY_ENV):
        load_root_key(tmp_path, {})


@pytest.mark.parametrize(
    "value",
    [
        b64(MATERIAL[:16]),
        b64(MATERIAL + b"!"),
        b64(MATERIAL)[:-2],
        MATERIAL.hex(),
        "correct horse battery staple",
        base64.urlsafe_b64encode(b"\xff" * 32).decode("ascii"),
    ],
)
def test_malformed_environment_key_is_refused(tmp_path: Path, value: str) -> None:
    create_key_file(tmp_path / KEY_FILE_NAME)  # present, yet not a silent fallback
    with pytest.raises(KeyringError, match=f"{ROOT_KEY_ENV} is not the base64") as caught:
        load_root_key(tmp_path, {ROOT_KEY_ENV: value})
    assert value not in str(caught.value)


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_environment_key_is_refused(tmp_path: Path, value: str) -> None:
    create_key_file(tmp_path / KEY_FILE_NAME)
    with pytest.raises(KeyringError, match="set but empty"):
        load_root_key(tmp_path, {ROOT_KEY_ENV: value})


def test_environment_key_tolerates_surrounding_whitespace(tmp_path: Path) -> None:
    assert load_root_key(tmp_path, {ROOT_KEY_ENV: f"  {b64(MATERIAL)}\n"}) == RootKey(MATERIAL)
