"""Who is calling and how: the facts about one request that every layer may read."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "Caller", "CallerKind", "ParamSource", "RequestContext", "condition_keys",
]


class CallerKind(StrEnum):
    """The identity types ActionTrail's userIdentity.type names."""

    ROOT = "root-account"
    USER = "ram-user"
    ROLE_SESSION = "assumed-role"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated identity behind a request.

    `name` is the user name or, for a role session, the role name; `principal_id` is the user id
    or `<roleId>:<sessionName>`; `arn` is the principal's ARN.
    """

    kind: CallerKind
    account_id: str
    principal_id: str
    name: str
    arn: str
    access_key_id: str
    mfa_present: bool = False
    session_name: str | None = None
    session_created_at: datetime | None = None

    @property
    def display_name(self) -> str:
        """`userName` as ActionTrail writes it: the user, `root`, or `<role>:<session>`."""
        if self.kind is CallerKind.ROLE_SESSION:
            return f"{self.name}:{self.session_name}"
        return "root" if self.kind is CallerKind.ROOT else self.name


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    account_id: str
    region: str
    caller: Caller
    source_ip: str
    secure: bool
    user_agent: str
    now: datetime
    product: str
    version: str
    action: str
    host: str


def condition_keys(context: RequestContext) -> dict[builtins.str, builtins.str]:
    """The global condition keys RAM fills from a request [doc: Policy elements]."""
    return {
        "acs:SourceIp": context.source_ip,
        "acs:SecureTransport": "true" if context.secure else "false",
        "acs:MFAPresent": "true" if context.caller.mfa_present else "false",
        "acs:CurrentTime": context.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "acs:UserAgent": context.user_agent,
        "acs:AccessId": context.caller.access_key_id,
        "acs:PrincipalArn": context.caller.arn,
    }


class ParamSource(Protocol):
    """The typed reading of a request's parameters that handlers rely on."""

    def str(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.str | None = None,
            max_length: builtins.int | None = None) -> Any:
        ...

    def int(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.int | None = None, minimum: builtins.int | None = None,
            maximum: builtins.int | None = None) -> Any:
        ...

    def bool(self, name: builtins.str, *, default: builtins.bool | None = None) -> Any:
        ...

    def json(self, name: builtins.str, *, required: builtins.bool = False,
             max_length: builtins.int | None = None) -> Any:
        ...

    def list(self, prefix: builtins.str) -> Sequence[Any]:
        ...
