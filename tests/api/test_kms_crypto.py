"""KMS cryptography through the official SDK (`alibabacloud-kms20160120`, ACS3 and RPC V1), on
SQLite and PostgreSQL: round trips bound to their EncryptionContext, data keys for envelope
encryption, blobs that open with nothing else, and key states that refuse."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from alibabacloud_kms20160120 import models as kms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.api.refusals import refused
from tests.api.sdk import SdkClients

INVALID = (400, "InvalidParameter")


def new_key(admin: SdkClients, description: str = "") -> str:
    body = admin.kms.create_key(kms.CreateKeyRequest(description=description)).body
    assert body is not None
    assert body.key_metadata is not None
    return str(body.key_metadata.key_id)


def encrypt(admin: SdkClients, key_id: str, plaintext: str,
            context: dict[str, str] | None = None) -> kms.EncryptResponseBody:
    body = admin.kms.encrypt(kms.EncryptRequest(key_id=key_id, plaintext=plaintext,
                                                encryption_context=context)).body
    assert body is not None
    return body


def decrypt(admin: SdkClients, blob: str, context: dict[str, str] | None = None
            ) -> kms.DecryptResponseBody:
    body = admin.kms.decrypt(kms.DecryptRequest(ciphertext_blob=blob,
                                                encryption_context=context)).body
    assert body is not None
    return body


def test_encrypt_then_decrypt_gives_the_plaintext_back(admin: SdkClients) -> None:
    key_id = new_key(admin)
    text = base64.b64encode(b"the database password").decode()
    sealed = encrypt(admin, key_id, text)
    assert sealed.key_id == key_id
    assert sealed.key_version_id
    assert text not in str(sealed.ciphertext_blob)
    opened = decrypt(admin, str(sealed.ciphertext_blob))
    assert (opened.plaintext, opened.key_id, opened.key_version_id) == (
        text, key_id, sealed.key_version_id)
    # the same plaintext twice: two different blobs, both opening
    again = encrypt(admin, key_id, text)
    assert again.ciphertext_blob != sealed.ciphertext_blob
    assert decrypt(admin, str(again.ciphertext_blob)).plaintext == text


def test_the_encryption_context_is_needed_again_in_any_order(admin: SdkClients) -> None:
    key_id = new_key(admin)
    context = {"app": "billing", "table": "cards"}
    blob = str(encrypt(admin, key_id, "c2VjcmV0", context).ciphertext_blob)
    assert decrypt(admin, blob, {"table": "cards", "app": "billing"}).plaintext == "c2VjcmV0"
    wrongs: list[dict[str, str] | None] = [
        None, {"app": "billing"}, {"app": "billing", "table": "users"},
        {**context, "extra": "x"}]
    for wrong in wrongs:
        assert refused(lambda: decrypt(admin, blob, wrong)) == INVALID, wrong  # noqa: B023
    plain = str(encrypt(admin, key_id, "c2VjcmV0").ciphertext_blob)
    assert refused(lambda: decrypt(admin, plain, context)) == INVALID


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "not-base64", "empty-ish"])
def test_a_damaged_or_foreign_blob_opens_nothing(admin: SdkClients, damage: str) -> None:
    blob = str(encrypt(admin, new_key(admin), "aGVsbG8=").ciphertext_blob)
    raw = bytearray(base64.b64decode(blob))
    if damage == "truncated":
        bad = base64.b64encode(bytes(raw[:-5])).decode()
    elif damage == "flipped":
        raw[-20] ^= 0x01
        bad = base64.b64encode(bytes(raw)).decode()
    elif damage == "garbage":
        bad = base64.b64encode(os.urandom(len(raw))).decode()
    elif damage == "not-base64":
        bad = "this is not a ciphertext blob!"
    else:
        bad = "AAAA"
    status, code = refused(lambda: decrypt(admin, bad))
    assert (status, code) == INVALID


def test_a_blob_of_another_key_id_spliced_in_does_not_open(admin: SdkClients) -> None:
    """The key id and version are authenticated: pointing a blob at another key fails."""
    first, second = new_key(admin), new_key(admin)
    blob = base64.b64decode(str(encrypt(admin, first, "aGVsbG8=").ciphertext_blob))
    spliced = base64.b64encode(blob.replace(first.encode(), second.encode())).decode()
    assert refused(lambda: decrypt(admin, spliced)) == INVALID


def test_plaintext_up_to_six_kilobytes(admin: SdkClients) -> None:
    key_id = new_key(admin)
    largest = "A" * 6144
    assert decrypt(admin, str(encrypt(admin, key_id, largest).ciphertext_blob)).plaintext \
        == largest
    assert refused(lambda: encrypt(admin, key_id, largest + "A")) == INVALID


@pytest.mark.parametrize(("spec", "size", "expected"), [
    ("AES_256", None, 32), ("AES_128", None, 16), (None, 1, 1), (None, 1024, 1024),
    ("AES_128", 64, 64),  # NumberOfBytes wins over KeySpec
])
def test_a_data_key_of_the_size_asked(admin: SdkClients, spec: str | None, size: int | None,
                                      expected: int) -> None:
    key_id = new_key(admin)
    body = admin.kms.generate_data_key(kms.GenerateDataKeyRequest(
        key_id=key_id, key_spec=spec, number_of_bytes=size)).body
    assert body is not None
    assert len(base64.b64decode(str(body.plaintext))) == expected
    assert decrypt(admin, str(body.ciphertext_blob)).plaintext == body.plaintext


@pytest.mark.parametrize("size", [0, 1025])
def test_a_data_key_size_out_of_range_is_refused(admin: SdkClients, size: int) -> None:
    key_id = new_key(admin)
    status, code = refused(lambda: admin.kms.generate_data_key(kms.GenerateDataKeyRequest(
        key_id=key_id, number_of_bytes=size)))
    assert (status, code) == (400, "InvalidParameter.NumberOfBytes")


def test_envelope_encryption_of_a_file(admin: SdkClients, tmp_path: Path) -> None:
    """GenerateDataKey, encrypt a file locally with the plaintext key, keep only the encrypted
    data key beside it; later Decrypt that key to read the file."""
    key_id = new_key(admin, "files")
    context = {"file": "report.csv"}
    data_key = admin.kms.generate_data_key(kms.GenerateDataKeyRequest(
        key_id=key_id, encryption_context=context)).body
    assert data_key is not None
    content = b"account,balance\nalice,100\n" * 500
    nonce = os.urandom(12)
    key = base64.b64decode(str(data_key.plaintext))
    (tmp_path / "report.csv.enc").write_bytes(nonce + AESGCM(key).encrypt(nonce, content, None))
    (tmp_path / "report.csv.key").write_text(json.dumps(
        {"CiphertextBlob": data_key.ciphertext_blob, "KeyId": key_id}))
    del key, data_key  # only the encrypted data key is kept

    stored = json.loads((tmp_path / "report.csv.key").read_text())
    opened = decrypt(admin, stored["CiphertextBlob"], context)
    sealed = (tmp_path / "report.csv.enc").read_bytes()
    key = base64.b64decode(str(opened.plaintext))
    assert AESGCM(key).decrypt(sealed[:12], sealed[12:], None) == content
    assert content not in sealed


def test_a_data_key_without_its_plaintext(admin: SdkClients) -> None:
    key_id = new_key(admin)
    body = admin.kms.generate_data_key_without_plaintext(
        kms.GenerateDataKeyWithoutPlaintextRequest(key_id=key_id, key_spec="AES_128")).body
    assert body is not None
    assert body.to_map().keys() >= {"CiphertextBlob", "KeyId", "KeyVersionId"}
    assert "Plaintext" not in body.to_map()
    assert len(base64.b64decode(str(decrypt(admin, str(body.ciphertext_blob)).plaintext))) == 16


def test_re_encrypt_moves_a_blob_to_another_key_and_context(admin: SdkClients) -> None:
    source, destination = new_key(admin), new_key(admin)
    blob = str(encrypt(admin, source, "bW92ZWQ=", {"a": "1"}).ciphertext_blob)
    moved = admin.kms.re_encrypt(kms.ReEncryptRequest(
        ciphertext_blob=blob, destination_key_id=destination,
        source_encryption_context={"a": "1"}, destination_encryption_context={"b": "2"})).body
    assert moved is not None
    assert moved.key_id == destination
    opened = decrypt(admin, str(moved.ciphertext_blob), {"b": "2"})
    assert (opened.plaintext, opened.key_id) == ("bW92ZWQ=", destination)
    assert refused(lambda: admin.kms.re_encrypt(kms.ReEncryptRequest(
        ciphertext_blob=blob, destination_key_id=destination))) == INVALID


def test_a_disabled_key_neither_encrypts_nor_decrypts_until_enabled(admin: SdkClients) -> None:
    key_id = new_key(admin)
    blob = str(encrypt(admin, key_id, "aGk=").ciphertext_blob)
    admin.kms.disable_key(kms.DisableKeyRequest(key_id=key_id))
    disabled = (400, "Rejected.Disabled")
    assert refused(lambda: encrypt(admin, key_id, "aGk=")) == disabled
    assert refused(lambda: decrypt(admin, blob)) == disabled
    assert refused(lambda: admin.kms.generate_data_key(
        kms.GenerateDataKeyRequest(key_id=key_id))) == disabled
    admin.kms.enable_key(kms.EnableKeyRequest(key_id=key_id))
    assert decrypt(admin, blob).plaintext == "aGk="


def test_a_key_pending_deletion_refuses_until_the_deletion_is_cancelled(
        admin: SdkClients) -> None:
    key_id = new_key(admin)
    blob = str(encrypt(admin, key_id, "aGk=").ciphertext_blob)
    admin.kms.schedule_key_deletion(kms.ScheduleKeyDeletionRequest(
        key_id=key_id, pending_window_in_days=7))
    pending = (400, "Rejected.PendingDeletion")
    assert refused(lambda: encrypt(admin, key_id, "aGk=")) == pending
    assert refused(lambda: decrypt(admin, blob)) == pending
    admin.kms.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id))
    assert decrypt(admin, blob).plaintext == "aGk="


def test_an_unknown_key_or_alias_is_named_as_such(admin: SdkClients) -> None:
    assert refused(lambda: encrypt(admin, "00000000-0000-4000-8000-00000000dead", "aGk=")) \
        == (404, "Forbidden.KeyNotFound")
    assert refused(lambda: encrypt(admin, "alias/nothing-here", "aGk=")) \
        == (404, "Forbidden.AliasNotFound")


def test_the_old_sdk_on_sdk_core_encrypts_and_decrypts(admin: SdkClients) -> None:
    """aliyun-python-sdk-kms on aliyun-python-sdk-core (RPC V1, JSON answers)."""
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkkms.request.v20160120.DecryptRequest import DecryptRequest
    from aliyunsdkkms.request.v20160120.EncryptRequest import EncryptRequest

    key_id = new_key(admin)
    client = AcsClient(admin.creds.access_key_id, admin.creds.access_key_secret, "cn-hangzhou")
    request = EncryptRequest()
    request.set_KeyId(key_id)
    request.set_Plaintext("b2xkIHNkaw==")
    request.set_EncryptionContext(json.dumps({"sdk": "core"}))
    request.set_endpoint(admin.server.endpoint)
    request.set_protocol_type("http")
    sealed = json.loads(client.do_action_with_exception(request))
    opening = DecryptRequest()
    opening.set_CiphertextBlob(sealed["CiphertextBlob"])
    opening.set_EncryptionContext(json.dumps({"sdk": "core"}))
    opening.set_endpoint(admin.server.endpoint)
    opening.set_protocol_type("http")
    opened = json.loads(client.do_action_with_exception(opening))
    assert (opened["Plaintext"], opened["KeyId"]) == ("b2xkIHNkaw==", key_id)
    # and what one SDK sealed the other opens
    assert decrypt(admin, sealed["CiphertextBlob"], {"sdk": "core"}).plaintext == "b2xkIHNkaw=="
