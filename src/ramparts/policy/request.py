"""What the engine is asked: which action, on which resource, by whom, in what context."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ramparts.core.identifiers import parse_arn

__all__ = ["AccessRequest", "Principal", "PrincipalType"]


class PrincipalType(StrEnum):
    """The caller kinds a trust or resource policy can name [doc: AssumeRole; Policy elements]."""

    RAM = "RAM"
    SERVICE = "Service"
    FEDERATED = "Federated"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, as trust and resource policies see it.

    For `RAM` the id is the caller's ARN: `acs:ram::<account>:root`, `...:user/<name>`,
    `...:role/<name>` or `...:assumed-role/<role>/<session>`; for `Service` a service name such
    as `ecs.aliyuncs.com`; for `Federated` the identity provider's ARN.
    """

    type: PrincipalType
    id: str

    @property
    def account(self) -> str | None:
        arn = parse_arn(self.id)
        return arn.account if arn is not None and arn.service == "ram" else None

    @property
    def role_arn(self) -> str | None:
        """For a role session, the ARN of its role (trust policies name roles, not sessions)."""
        arn = parse_arn(self.id)
        if arn is None or not arn.relative_id.startswith("assumed-role/"):
            return None
        role = arn.relative_id.split("/")[1]
        return f"acs:ram::{arn.account}:role/{role}"

    @property
    def is_root(self) -> bool:
        arn = parse_arn(self.id)
        return self.type is PrincipalType.RAM and arn is not None and arn.relative_id == "root"


def _normalize_context(context: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, ...]]:
    normalized = {
        key.lower(): (value,) if isinstance(value, str) else tuple(value)
        for key, value in context.items()
    }
    if len(normalized) == len(context):
        return normalized
    merged: dict[str, tuple[str, ...]] = {}  # keys that differ only in case: keep every value
    for key, value in context.items():
        values = (value,) if isinstance(value, str) else tuple(value)
        merged[key.lower()] = merged.get(key.lower(), ()) + values
    return merged


class AccessRequest:
    """One question for the engine. Condition key names are case-insensitive."""

    __slots__ = ("action", "context", "principal", "resource", "typed")

    def __init__(
        self,
        action: str,
        resource: str,
        context: Mapping[str, str | Sequence[str]] | None = None,
        principal: Principal | None = None,
    ) -> None:
        self.action = action
        self.resource = resource
        self.context: Mapping[str, tuple[str, ...]] = _normalize_context(context or {})
        self.principal = principal
        # Condition values read into their types, filled on first use by the operators, so a
        # key tested by several statements is parsed once per request.
        self.typed: dict[tuple[str, Callable[[str], Any]], tuple[Any, ...] | None] = {}

    def __repr__(self) -> str:
        return (
            f"AccessRequest(action={self.action!r}, resource={self.resource!r}, "
            f"context={dict(self.context)!r}, principal={self.principal!r})"
        )
