"""Temporary credentials: STS AccessKeys with sealed secrets, hashed tokens and expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from ramparts.core.clock import format_iso8601, parse_iso8601
from ramparts.services.call import ServiceEnv
from ramparts.services.sts.errors import InvalidSecurityToken
from ramparts.store.base import Transaction

__all__ = ["Session", "SessionBackend", "TemporaryCredentials"]

TOKEN_LENGTH = 256
SECRET_LENGTH = 44


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _secret_context(access_key_id: str) -> str:
    return f"sts/session/{access_key_id}/secret"


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: datetime


@dataclass(frozen=True, slots=True)
class Session:
    """A live session, as authentication sees it."""

    access_key_id: str
    account_id: str
    secret: str
    kind: str
    principal_key: str
    session_name: str
    session_policy: str | None
    mfa_present: bool
    created_at: datetime
    expires_at: datetime


class SessionBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    def create(self, *, kind: str, principal_key: str, session_name: str, duration: timedelta,
               source_access_key_id: str | None, session_policy: str | None,
               mfa_present: bool) -> TemporaryCredentials:
        """`kind` is `role` (an assumed role) or `user` / `root` (a sign-in session)."""
        access_key_id = self.env.ids.sts_access_key_id()
        secret = self.env.ids.token(SECRET_LENGTH)
        token = "CAIS" + self.env.ids.token(TOKEN_LENGTH)
        now = self.env.clock.now().replace(microsecond=0)
        expires = now + duration
        sealed = self.env.sealer.seal(secret.encode(), context=_secret_context(access_key_id))
        self.tx.execute(
            "INSERT INTO sts_sessions (access_key_id, account_id, secret_sealed, token_digest, "
            "kind, principal_key, session_name, source_access_key_id, session_policy, "
            "mfa_present, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (access_key_id, self.account_id, base64.b64encode(sealed).decode(), _digest(token),
             kind, principal_key, session_name, source_access_key_id, session_policy,
             1 if mfa_present else 0, format_iso8601(now), format_iso8601(expires)))
        return TemporaryCredentials(access_key_id, secret, token, expires)

    def for_authentication(self, access_key_id: str, token: str | None) -> Session | None:
        """The live session of an STS key, checking its token; None if there is none."""
        row = self.tx.query_one("SELECT * FROM sts_sessions WHERE access_key_id = ?",
                                (access_key_id,))
        if row is None:
            return None
        if token is None:
            raise InvalidSecurityToken("MismatchWithAccessKey",
                                       "The security token is missing for an STS AccessKey.")
        if not hmac.compare_digest(_digest(token), str(row["token_digest"])):
            raise InvalidSecurityToken("MismatchWithAccessKey",
                                       "The security token does not belong to this AccessKey.")
        expires = parse_iso8601(row["expires_at"])
        if self.env.clock.now() >= expires:
            raise InvalidSecurityToken("Expired", "The security token you provided has "
                                                  "expired.")
        secret = self.env.sealer.open(base64.b64decode(row["secret_sealed"]),
                                      context=_secret_context(access_key_id))
        return Session(access_key_id, row["account_id"], secret.decode(), row["kind"],
                       row["principal_key"], row["session_name"], row["session_policy"],
                       bool(row["mfa_present"]), parse_iso8601(row["created_at"]), expires)

    def origin_of(self, access_key_id: str) -> str | None:
        """The long-term AccessKey a new session created by `access_key_id` descends from:
        the key itself, or for an STS key the origin its own session recorded (role chaining
        keeps the first key, so disabling or deleting it ends the whole chain: see
        AccessKeyBackend, which deletes the sessions descending from a key)."""
        if not access_key_id.startswith("STS."):
            return access_key_id
        row = self.tx.query_one("SELECT source_access_key_id FROM sts_sessions WHERE "
                                "access_key_id = ?", (access_key_id,))
        return None if row is None else row["source_access_key_id"]

    def purge_expired(self) -> int:
        return self.tx.execute("DELETE FROM sts_sessions WHERE expires_at < ?",
                               (format_iso8601(self.env.clock.now()),))
