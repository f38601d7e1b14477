"""The policy document model: immutable values produced by the parser."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Condition",
    "Effect",
    "PolicyDocument",
    "PolicyKind",
    "PrincipalEntry",
    "Statement",
]


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(StrEnum):
    """Where a document is used, which decides the elements it may carry.

    Identity policies (attached to users, groups and roles, and session policies) carry no
    `Principal`; trust policies (a role's AssumeRolePolicyDocument) and resource policies
    (OSS bucket policies, KMS key policies) must name one.
    """

    IDENTITY = "identity"
    TRUST = "trust"
    RESOURCE = "resource"


@dataclass(frozen=True, slots=True)
class Condition:
    """One `operator: {key: values}` test of a statement's Condition block.

    Values are kept as the strings written in the document (JSON numbers and booleans are
    rendered as JSON would), so an operator decides how to read them.
    """

    operator: str
    key: str
    values: tuple[str, ...]
    path: str


@dataclass(frozen=True, slots=True)
class PrincipalEntry:
    """One trusted principal: kind is `RAM`, `Service`, `Federated`, or `` for a bare value."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    effect: Effect
    sid: str | None
    actions: tuple[str, ...]
    actions_negated: bool
    resources: tuple[str, ...] | None
    resources_negated: bool
    conditions: tuple[Condition, ...]
    principals: tuple[PrincipalEntry, ...] | None

    @property
    def path(self) -> str:
        return f"Statement[{self.index}]"


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    version: str
    statements: tuple[Statement, ...]
    kind: PolicyKind
