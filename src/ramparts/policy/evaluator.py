"""Decisions: the basic evaluation of a policy set, and how RAM combines policy sets.

Basic evaluation [doc: Policy evaluation process]: any applicable Deny -> ExplicitDeny; else any
applicable Allow -> Allow; else ImplicitDeny, the default for every RAM identity. Combination:
a session policy is evaluated first and must Allow; identity-based and resource-based policies
are then evaluated together, an explicit deny anywhere wins, and any Allow allows, except for
sts:AssumeRole, which needs an Allow from both the caller's identity policies and the role's
trust policy [doc: Policy evaluation process of assuming a RAM role].
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from ramparts.policy.compiled import CompiledPolicy, CompiledStatement, StatementRef
from ramparts.policy.request import AccessRequest

__all__ = ["Decision", "DecisionEffect", "PolicySet", "Stage", "StageResult", "authorize"]

_CACHE_LIMIT = 4096


class DecisionEffect(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


class Stage(StrEnum):
    """Which kind of policy set a stage of the evaluation consulted."""

    ROOT = "root"
    SESSION = "session"
    IDENTITY = "identity"
    RESOURCE = "resource"


class PolicySet:
    """Policies evaluated together (a user's own and its groups', a role's, a trust policy).

    Statements are indexed by the service code their actions name, so a decision only looks
    at statements that can concern the requested action; the statements whose actions match
    are remembered per action, so a repeated action costs one dictionary lookup.
    """

    __slots__ = ("_by_service", "_candidates", "_unconfined", "policies")

    def __init__(self, policies: Iterable[CompiledPolicy]) -> None:
        self.policies = tuple(policies)
        by_service: dict[str, list[CompiledStatement]] = {}
        unconfined: list[CompiledStatement] = []
        for policy in self.policies:
            for statement in policy.statements:
                if statement.services is None:
                    unconfined.append(statement)
                for service in statement.services or ():
                    by_service.setdefault(service, []).append(statement)
        self._by_service = {key: tuple(value) for key, value in by_service.items()}
        self._unconfined = tuple(unconfined)
        self._candidates: dict[
            str, tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]
        ] = {}

    @property
    def statements(self) -> tuple[CompiledStatement, ...]:
        return tuple(s for policy in self.policies for s in policy.statements)

    def candidates(
        self, action: str
    ) -> tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]:
        """The Deny and the Allow statements whose Action (or NotAction) matches `action`."""
        folded = action.lower()
        found = self._candidates.get(folded)
        if found is not None:
            return found
        service = folded.partition(":")[0]
        pool = self._by_service.get(service, ()) + self._unconfined
        matching = [s for s in pool if s.matches_action(action)]
        found = (
            tuple(s for s in matching if s.is_deny),
            tuple(s for s in matching if not s.is_deny),
        )
        if len(self._candidates) >= _CACHE_LIMIT:
            self._candidates.clear()
        self._candidates[folded] = found
        return found

    def decide(self, request: AccessRequest) -> StageResult:
        """The basic evaluation of this set alone."""
        denies, allows = self.candidates(request.action)
        for statement in denies:
            if statement.applies(request):
                return StageResult(Stage.IDENTITY, self, DecisionEffect.EXPLICIT_DENY, statement)
        for statement in allows:
            if statement.applies(request):
                return StageResult(Stage.IDENTITY, self, DecisionEffect.ALLOW, statement)
        return StageResult(Stage.IDENTITY, self, DecisionEffect.IMPLICIT_DENY, None)

    def applicable(self, request: AccessRequest) -> list[CompiledStatement]:
        """Every statement that takes effect for the request (for explanations)."""
        denies, allows = self.candidates(request.action)
        return [s for s in denies + allows if s.applies(request)]


class StageResult(NamedTuple):
    """The outcome of one policy set: its effect and the first statement that decided it."""

    stage: Stage
    policy_set: PolicySet | None
    effect: DecisionEffect
    statement: CompiledStatement | None

    def at(self, stage: Stage) -> StageResult:
        return self._replace(stage=stage)


class Decision:
    """The engine's answer. `explain()` (in `ramparts.policy.explanation`) says why."""

    __slots__ = ("effect", "request", "stages")

    def __init__(
        self, effect: DecisionEffect, request: AccessRequest, stages: tuple[StageResult, ...]
    ) -> None:
        self.effect = effect
        self.request = request
        self.stages = stages

    @property
    def allowed(self) -> bool:
        return self.effect is DecisionEffect.ALLOW

    @property
    def deciding_statement(self) -> StatementRef | None:
        """The first statement that produced the final effect (None for an implicit deny)."""
        for stage in self.stages:
            if stage.effect is self.effect and stage.statement is not None:
                return stage.statement.ref
        return None

    def __repr__(self) -> str:
        return f"Decision({self.effect}, {self.deciding_statement})"


def authorize(
    request: AccessRequest,
    identity: PolicySet | None,
    *,
    session: PolicySet | None = None,
    resource: PolicySet | None = None,
    requires_both: bool = False,
    root: bool = False,
) -> Decision:
    """Combine the policy sets that apply to one request into RAM's final decision.

    `identity` is None when the caller has no identity policies to consult at all (a federated
    sign-in assuming a role); an empty set still denies by default. `requires_both` is set for
    sts:AssumeRole, where the identity and the trust policy must both allow. The account's root
    identity is not subject to RAM policies.
    """
    if root:
        return Decision(
            DecisionEffect.ALLOW, request,
            (StageResult(Stage.ROOT, None, DecisionEffect.ALLOW, None),),
        )
    if session is None and resource is None and identity is not None:
        result = identity.decide(request)
        return Decision(result.effect, request, (result,))
    stages: list[StageResult] = []
    if session is not None:
        session_result = session.decide(request).at(Stage.SESSION)
        stages.append(session_result)
        if session_result.effect is not DecisionEffect.ALLOW:
            return Decision(session_result.effect, request, tuple(stages))
    results = []
    if identity is not None:
        results.append(identity.decide(request))
    if resource is not None:
        results.append(resource.decide(request).at(Stage.RESOURCE))
    stages.extend(results)
    effects = {result.effect for result in results}
    if DecisionEffect.EXPLICIT_DENY in effects:
        effect = DecisionEffect.EXPLICIT_DENY
    elif requires_both:
        both = len(results) == 2 and effects == {DecisionEffect.ALLOW}
        effect = DecisionEffect.ALLOW if both else DecisionEffect.IMPLICIT_DENY
    elif DecisionEffect.ALLOW in effects:
        effect = DecisionEffect.ALLOW
    else:
        effect = DecisionEffect.IMPLICIT_DENY
    return Decision(effect, request, tuple(stages))
