"""From a signed request's AccessKey id to the caller behind it and the secret to check."""

from __future__ import annotations

from dataclasses import dataclass

from ramparts.core.context import Caller, CallerKind
from ramparts.protocol.errors import InvalidAccessKeyIdInactive, InvalidAccessKeyIdNotFound
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.ram.names import entity_arn
from ramparts.services.sts.sessions import Session, SessionBackend
from ramparts.store.base import Transaction

__all__ = ["Authenticated", "InvalidAccessKeyIdInactive", "InvalidAccessKeyIdNotFound",
           "authenticate"]


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The caller, the secret its requests are signed with, and its STS session if any."""

    caller: Caller
    secret: str
    session: Session | None


def _session_caller(tx: Transaction, session: Session, access_key_id: str) -> Caller:
    account = session.account_id
    if session.kind == "role":
        row = tx.query_one("SELECT role_id, role_name FROM roles WHERE account_id = ? AND "
                           "name_key = ?", (account, session.principal_key))
        if row is None:  # the role was deleted: its sessions end with it
            raise InvalidAccessKeyIdNotFound("Specified access key is not found.")
        return Caller(
            CallerKind.ROLE_SESSION, account, f"{row['role_id']}:{session.session_name}",
            row["role_name"],
            f"acs:ram::{account}:assumed-role/{row['role_name']}/{session.session_name}",
            access_key_id, session.mfa_present, session.session_name, session.created_at)
    if session.kind == "root":
        return Caller(CallerKind.ROOT, account, account, "root", f"acs:ram::{account}:root",
                      access_key_id, session.mfa_present, None, session.created_at)
    row = tx.query_one("SELECT user_id, user_name FROM users WHERE account_id = ? AND "
                       "name_key = ?", (account, session.principal_key))
    if row is None:
        raise InvalidAccessKeyIdNotFound("Specified access key is not found.")
    return Caller(CallerKind.USER, account, row["user_id"], row["user_name"],
                  entity_arn(account, "user", row["user_name"]), access_key_id,
                  session.mfa_present, None, session.created_at)


def authenticate(tx: Transaction, env: ServiceEnv, access_key_id: str,
                 security_token: str | None) -> Authenticated:
    """Look the key up; refuse unknown and inactive keys and bad or expired STS tokens."""
    if access_key_id.startswith("STS."):
        session = SessionBackend(tx, env, "").for_authentication(access_key_id, security_token)
        if session is None:
            raise InvalidAccessKeyIdNotFound("Specified access key is not found.")
        return Authenticated(_session_caller(tx, session, access_key_id), session.secret,
                             session)
    record = AccessKeyBackend(tx, env, "").for_authentication(access_key_id)
    if record is None:
        raise InvalidAccessKeyIdNotFound("Specified access key is not found.")
    if record.status != "Active":
        raise InvalidAccessKeyIdInactive("Specified access key is disabled.")
    caller = Caller(CallerKind.USER, record.account_id, record.user_id, record.user_name,
                    entity_arn(record.account_id, "user", record.user_name), access_key_id)
    return Authenticated(caller, record.secret, None)
