"""The one place where request parameters and responses lose their secrets before the trail."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ALWAYS_SENSITIVE", "Redactor"]

# Parameters and response fields that hold secrets whatever the action: passwords, MFA codes,
# secret values, key material, plaintexts, tokens. Matched case-insensitively.
ALWAYS_SENSITIVE = frozenset(
    name.lower() for name in (
        "Password", "NewPassword", "OldPassword", "AuthenticationCode1", "AuthenticationCode2",
        "AuthenticationCode", "AccessKeySecret", "SecurityToken", "Signature", "SecretData",
        "Plaintext", "SecretString", "Base32StringSeed", "QRCodePNG", "PrivateKey",
        "EncryptedKeyMaterial", "KeyMaterial", "DataKey", "PublicKeyBlob",
    )
)


class Redactor:
    """Replaces sensitive values with a keyed digest, so equal secrets can still be correlated
    across events without the trail revealing them."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "Redactor(<key hidden>)"

    def digest(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"redacted:hmac-sha256:{mac[:16]}"

    def parameters(self, params: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
        hidden = ALWAYS_SENSITIVE | {name.lower() for name in extra}
        return {
            name: self.digest(value) if name.lower() in hidden else value
            for name, value in params.items()
        }

    def response(self, body: Any, extra: Iterable[str] = ()) -> Any:
        """A copy of a response with every sensitive field, at any depth, removed."""
        return _without(body, ALWAYS_SENSITIVE | {name.lower() for name in extra})


def _without(body: Any, hidden: frozenset[str]) -> Any:
    if isinstance(body, Mapping):
        return {key: _without(value, hidden) for key, value in body.items()
                if key.lower() not in hidden}
    if isinstance(body, list):
        return [_without(item, hidden) for item in body]
    return body
