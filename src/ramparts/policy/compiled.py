"""Policies compiled for evaluation: matchers built once, statements tested in microseconds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ramparts.policy.conditions import CompiledCondition, Outcome
from ramparts.policy.document import Effect, PolicyDocument, PrincipalEntry, Statement
from ramparts.policy.matching import Matcher, action_service, compile_action, compile_resource
from ramparts.policy.request import AccessRequest, Principal, PrincipalType

__all__ = [
    "CompiledPolicy",
    "CompiledStatement",
    "PolicySource",
    "PolicyType",
    "StatementRef",
    "compile_policy",
]


class PolicyType(StrEnum):
    SYSTEM = "System"
    CUSTOM = "Custom"
    SESSION = "Session"
    TRUST = "Trust"
    RESOURCE = "Resource"


@dataclass(frozen=True, slots=True)
class PolicySource:
    """Which policy a document is: its name, version and type, as an explanation names it."""

    name: str
    version: str = "v1"
    type: PolicyType = PolicyType.CUSTOM


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A statement as an explanation cites it."""

    policy: PolicySource
    index: int
    sid: str | None
    effect: Effect

    def __str__(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return (
            f"{self.policy.type} policy {self.policy.name} {self.policy.version} "
            f"Statement[{self.index}]{sid} {self.effect}"
        )


def _principal_matches(entry: PrincipalEntry, caller: Principal) -> bool:
    value = entry.value
    if entry.kind == "":  # a bare list, as OSS bucket policies write it: "*", UIDs or ARNs
        return value == "*" or value in (caller.account, caller.id)
    if entry.kind != caller.type.value:
        return False
    if caller.type is PrincipalType.SERVICE:
        return value.lower() == caller.id.lower()
    if caller.type is PrincipalType.FEDERATED:
        return value == caller.id
    if value == "*":
        return True
    account = caller.account
    # `acs:ram::<account>:root` (or the bare account id) trusts every identity of the account.
    if account is not None and value in (f"acs:ram::{account}:root", account):
        return True
    return value in (caller.id, caller.role_arn)


class CompiledStatement:
    """A statement with its matchers ready; `applies` is the hot path of every decision."""

    __slots__ = (
        "action_matchers",
        "actions_negated",
        "conditions",
        "effect",
        "is_deny",
        "principals",
        "ref",
        "resource_matchers",
        "resources_negated",
        "services",
        "statement",
    )

    def __init__(self, statement: Statement, source: PolicySource) -> None:
        self.statement = statement
        self.ref = StatementRef(source, statement.index, statement.sid, statement.effect)
        self.effect = statement.effect
        self.is_deny = statement.effect is Effect.DENY
        self.action_matchers: tuple[Matcher, ...] = tuple(
            compile_action(a) for a in statement.actions
        )
        self.actions_negated = statement.actions_negated
        # The service codes this statement can concern; None when it may concern any.
        services = {action_service(a) for a in statement.actions}
        self.services: frozenset[str] | None = (
            None if statement.actions_negated or None in services
            else frozenset(s for s in services if s is not None)
        )
        self.resource_matchers: tuple[Matcher, ...] | None = (
            None if statement.resources is None
            else tuple(compile_resource(r) for r in statement.resources)
        )
        self.resources_negated = statement.resources_negated
        self.conditions = tuple(CompiledCondition(c) for c in statement.conditions)
        self.principals = statement.principals

    def matches_action(self, action: str) -> bool:
        hit = any(match(action) for match in self.action_matchers)
        return hit is not self.actions_negated

    def matches_resource(self, resource: str) -> bool:
        matchers = self.resource_matchers
        if matchers is None:  # trust policies name no Resource: the role itself
            return True
        hit = matchers[0](resource) if len(matchers) == 1 else any(
            match(resource) for match in matchers
        )
        return hit is not self.resources_negated

    def matches_principal(self, principal: Principal | None) -> bool:
        if self.principals is None:
            return True
        if principal is None:
            return False
        return any(_principal_matches(entry, principal) for entry in self.principals)

    def applies(self, request: AccessRequest) -> bool:
        """Whether this statement takes effect for a request whose action it already matches.

        A condition that cannot be decided keeps an Allow from applying and lets a Deny apply:
        either way the caller gets less, never more (fail closed).
        """
        if not self.matches_resource(request.resource):
            return False
        if self.principals is not None and not self.matches_principal(request.principal):
            return False
        undecided = False
        for condition in self.conditions:  # a loop, not any(): this runs on every decision
            result = condition.evaluate(request)
            if result is Outcome.FAILED:
                return False
            if result is Outcome.ERROR:
                undecided = True
        return not undecided or self.is_deny


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    source: PolicySource
    document: PolicyDocument
    statements: tuple[CompiledStatement, ...]


def compile_policy(document: PolicyDocument, source: PolicySource) -> CompiledPolicy:
    return CompiledPolicy(
        source, document, tuple(CompiledStatement(s, source) for s in document.statements)
    )
