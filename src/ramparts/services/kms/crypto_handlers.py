"""KMS cryptography on the wire: Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext), ReEncrypt.

Plaintext is returned exactly as it was sent [doc: Encrypt, Decrypt]: the bytes encrypted are
the text's UTF-8. A data key's Plaintext is its base64 text, and that text is what its
CiphertextBlob holds, so Decrypt of the blob gives the same Plaintext back (envelope
encryption: keep only the blob, Decrypt it when the data is read again).
"""

from __future__ import annotations

import base64
from typing import Any

from ramparts.crypto.primitives import random_bytes
from ramparts.services.call import Call
from ramparts.services.kms.envelope import (
    MAX_CONTEXT_CHARACTERS,
    open_blob,
    parse_blob,
    parse_context,
    seal_blob,
)
from ramparts.services.kms.errors import (
    InvalidCiphertext,
    InvalidParameter,
    KeyNotFound,
    KeyVersionNotFound,
)
from ramparts.services.kms.key_handlers import key_arn, keys_of
from ramparts.services.kms.keys import Key
from ramparts.services.kms.product import KMS

__all__ = ["MAX_PLAINTEXT_BYTES"]

MAX_PLAINTEXT_BYTES = 6 * 1024  # [doc: Encrypt]
DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}  # [doc: GenerateDataKey]
MAX_DATA_KEY_BYTES = 1024


def _context(call: Call, name: str = "EncryptionContext") -> dict[str, str]:
    return parse_context(call.params.json(name, max_length=MAX_CONTEXT_CHARACTERS), name)


def _encrypt(call: Call, key: Key, plaintext: bytes, context: dict[str, str]) -> dict[str, Any]:
    key.require_usable()
    call.touched("ACS::KMS::Key", key.key_id)
    material = keys_of(call).material(key.key_id, key.primary_version_id)
    blob = seal_blob(key.key_id, key.primary_version_id, material, plaintext, context)
    return {"CiphertextBlob": blob, "KeyId": key.key_id, "KeyVersionId": key.primary_version_id}


def _decrypt(call: Call, text: str, context: dict[str, str]) -> tuple[str, str, bytes]:
    """The key id, the version and the plaintext of a blob; InvalidCiphertext for any blob
    that is not this account's, was altered, or does not open with `context`."""
    blob = parse_blob(text)
    try:
        material = keys_of(call).usable_material(blob.key_id, blob.version_id)
    except (KeyNotFound, KeyVersionNotFound):
        raise InvalidCiphertext from None
    call.touched("ACS::KMS::Key", blob.key_id)
    return blob.key_id, blob.version_id, open_blob(blob, material, context)


def blob_key_arn(call: Call) -> str:
    """The ARN RAM checks for a CiphertextBlob: its key's (any key, for one that does not
    parse: the handler then refuses it)."""
    text = call.params.str("CiphertextBlob") or ""
    prefix = f"acs:kms:{call.context.region}:{call.context.account_id}:key/"
    try:
        return prefix + parse_blob(text).key_id
    except InvalidCiphertext:
        return prefix + "*"


@KMS.action("Encrypt", resource=key_arn, rw="Write")
def encrypt(call: Call) -> dict[str, Any]:
    text = call.params.str("Plaintext", required=True) or ""
    plaintext = text.encode("utf-8")
    if len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise InvalidParameter('The specified parameter "Plaintext" is not valid: it is longer '
                               f"than {MAX_PLAINTEXT_BYTES} bytes; encrypt larger data with a "
                               "data key (GenerateDataKey).")
    key = keys_of(call).get(call.params.str("KeyId", required=True) or "")
    return _encrypt(call, key, plaintext, _context(call))


@KMS.action("Decrypt", resource=blob_key_arn, rw="Write")
def decrypt(call: Call) -> dict[str, Any]:
    text = call.params.str("CiphertextBlob", required=True) or ""
    key_id, version_id, plaintext = _decrypt(call, text, _context(call))
    return {"Plaintext": plaintext.decode("utf-8"), "KeyId": key_id, "KeyVersionId": version_id}


def _data_key(call: Call) -> bytes:
    size = call.params.int("NumberOfBytes", minimum=1, maximum=MAX_DATA_KEY_BYTES)
    if size is None:
        spec = call.params.str("KeySpec") or "AES_256"
        if spec not in DATA_KEY_SPECS:
            raise InvalidParameter('The specified parameter "KeySpec" is not valid: AES_256 or '
                                   "AES_128.")
        size = DATA_KEY_SPECS[spec]
    return random_bytes(size)


def _generate(call: Call) -> tuple[str, dict[str, Any]]:
    key = keys_of(call).get(call.params.str("KeyId", required=True) or "")
    plaintext = base64.b64encode(_data_key(call)).decode("ascii")
    return plaintext, _encrypt(call, key, plaintext.encode("ascii"), _context(call))


@KMS.action("GenerateDataKey", resource=key_arn, rw="Write")
def generate_data_key(call: Call) -> dict[str, Any]:
    plaintext, body = _generate(call)
    return {**body, "Plaintext": plaintext}


@KMS.action("GenerateDataKeyWithoutPlaintext", resource=key_arn, rw="Write")
def generate_data_key_without_plaintext(call: Call) -> dict[str, Any]:
    return _generate(call)[1]


def _destination_arn(call: Call) -> str:
    return key_arn(call, "DestinationKeyId")


@KMS.action("ReEncrypt", resource=_destination_arn, rw="Write", ram_action="kms:ReEncryptTo",
            also=[("kms:ReEncryptFrom", blob_key_arn)])
def re_encrypt(call: Call) -> dict[str, Any]:
    params = call.params
    for name in ("SourceKeyId", "SourceKeyVersionId", "SourceEncryptionAlgorithm"):
        if params.str(name):
            raise InvalidParameter(f'The specified parameter "{name}" is for asymmetric keys, '
                                   "which this service does not hold.")
    text = params.str("CiphertextBlob", required=True) or ""
    _, _, plaintext = _decrypt(call, text, _context(call, "SourceEncryptionContext"))
    destination = keys_of(call).get(params.str("DestinationKeyId", required=True) or "")
    return _encrypt(call, destination, plaintext,
                    _context(call, "DestinationEncryptionContext"))
