"""The account's trail signing key: Ed25519, made once, its private half sealed in the store."""

from __future__ import annotations

import base64
from datetime import datetime

from ramparts.core.clock import format_iso8601
from ramparts.crypto.primitives import CryptoError
from ramparts.crypto.signing import SigningKey, public_key_fingerprint
from ramparts.services.call import Sealing
from ramparts.store.base import Transaction

__all__ = ["ensure_signing_key", "load_signing_key", "public_key_of"]

KEY_LOCK = "actiontrail-signing-key"


def _context(account_id: str, fingerprint: str) -> str:
    return f"actiontrail/signing-key/{account_id}/{fingerprint}/private"


def public_key_of(tx: Transaction, account_id: str) -> str | None:
    """The PEM public key, or None before the account's first trail."""
    row = tx.query_one("SELECT public_key FROM trail_signing_keys WHERE account_id = ?",
                       (account_id,))
    return None if row is None else str(row["public_key"])


def ensure_signing_key(tx: Transaction, sealer: Sealing, account_id: str,
                       now: datetime) -> str:
    """Make the account's signing key unless it exists (across replicas: under a lock); the
    PEM public key."""
    existing = public_key_of(tx, account_id)
    if existing is not None:
        return existing
    tx.lock(KEY_LOCK)
    existing = public_key_of(tx, account_id)
    if existing is not None:
        return existing
    key = SigningKey.generate()
    public = key.public_pem
    fingerprint = public_key_fingerprint(public)
    sealed = sealer.seal(key.raw, context=_context(account_id, fingerprint))
    tx.execute("INSERT INTO trail_signing_keys (account_id, fingerprint, public_key, "
               "private_sealed, created_at) VALUES (?, ?, ?, ?, ?)",
               (account_id, fingerprint, public, base64.b64encode(sealed).decode("ascii"),
                format_iso8601(now)))
    return public


def load_signing_key(tx: Transaction, sealer: Sealing, account_id: str) -> SigningKey | None:
    """The private key, opened with the root key (CryptoError if the record was tampered with)."""
    row = tx.query_one("SELECT fingerprint, public_key, private_sealed FROM trail_signing_keys "
                       "WHERE account_id = ?", (account_id,))
    if row is None:
        return None
    sealed = base64.b64decode(str(row["private_sealed"]))
    key = SigningKey.from_raw(sealer.open(sealed, context=_context(account_id,
                                                                   str(row["fingerprint"]))))
    if key.public_pem != str(row["public_key"]):
        raise CryptoError("the stored public key is not the sealed private key's")
    return key
