"""Why a decision came out as it did: deciding statements, nearest misses, and renderers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ramparts.policy.compiled import CompiledStatement, StatementRef
from ramparts.policy.conditions import Outcome
from ramparts.policy.document import Effect
from ramparts.policy.evaluator import Decision, DecisionEffect, Stage, StageResult
from ramparts.policy.request import AccessRequest

__all__ = [
    "Explanation",
    "Miss",
    "StageExplanation",
    "explain",
    "explanation_to_dict",
    "render_text",
]

_ACTION_WEIGHT, _TARGET_WEIGHT = 100, 10


@dataclass(frozen=True, slots=True)
class Miss:
    """A statement that did not take effect, and every reason why."""

    statement: StatementRef
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StageExplanation:
    stage: Stage
    effect: DecisionEffect
    deciding: tuple[StatementRef, ...]
    misses: tuple[Miss, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    effect: DecisionEffect
    summary: str
    deciding: tuple[StatementRef, ...]
    misses: tuple[Miss, ...]
    stages: tuple[StageExplanation, ...]


def _listing(values: tuple[str, ...] | None) -> str:
    return "[" + ", ".join(repr(v) for v in values or ()) + "]"


def _miss_reasons(statement: CompiledStatement, request: AccessRequest) -> tuple[int, list[str]]:
    """A distance (smaller is nearer) and the reasons a statement did not take effect."""
    written = statement.statement
    distance, reasons = 0, []
    if not statement.matches_action(request.action):
        distance += _ACTION_WEIGHT
        element = "NotAction" if written.actions_negated else "Action"
        verb = "is excluded by" if written.actions_negated else "does not match"
        reasons.append(f"action {request.action!r} {verb} {element} {_listing(written.actions)}")
    if not statement.matches_principal(request.principal):
        distance += _TARGET_WEIGHT
        caller = request.principal.id if request.principal else "(none given)"
        entries = [f"{e.kind}:{e.value}" if e.kind else e.value for e in written.principals or ()]
        reasons.append(f"principal {caller!r} is not among Principal {entries}")
    if not statement.matches_resource(request.resource):
        distance += _TARGET_WEIGHT
        element = "NotResource" if written.resources_negated else "Resource"
        verb = "is excluded by" if written.resources_negated else "does not match"
        reasons.append(
            f"resource {request.resource!r} {verb} {element} {_listing(written.resources)}"
        )
    for condition in statement.conditions:
        outcome = condition.evaluate(request)
        if outcome is Outcome.FAILED or (outcome is Outcome.ERROR and not statement.is_deny):
            distance += 1
            reasons.append(condition.describe_failure(request))
    return distance, reasons


def _stage_explanation(result: StageResult, request: AccessRequest, limit: int) -> StageExplanation:
    policy_set = result.policy_set
    if policy_set is None:
        return StageExplanation(result.stage, result.effect, (), ())
    if result.effect is not DecisionEffect.IMPLICIT_DENY:
        wanted = Effect.DENY if result.effect is DecisionEffect.EXPLICIT_DENY else Effect.ALLOW
        deciding = tuple(s.ref for s in policy_set.applicable(request) if s.effect is wanted)
        return StageExplanation(result.stage, result.effect, deciding, ())
    ranked = []
    for position, statement in enumerate(policy_set.statements):
        if statement.is_deny:
            continue
        distance, reasons = _miss_reasons(statement, request)
        ranked.append((distance, position, Miss(statement.ref, tuple(reasons))))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return StageExplanation(
        result.stage, result.effect, (), tuple(miss for _, _, miss in ranked[:limit])
    )


_STAGE_NAMES = {
    Stage.SESSION: "the session policy",
    Stage.IDENTITY: "the identity policies",
    Stage.RESOURCE: "the resource policy",
}


def _summary(decision: Decision, stages: tuple[StageExplanation, ...]) -> str:
    request = decision.request
    asked = f"{request.action} on {request.resource}"
    if stages and stages[0].stage is Stage.ROOT:
        return f"allowed: {asked} by the account's root identity, which RAM policies do not bind"
    if decision.effect is DecisionEffect.ALLOW:
        cited = "; ".join(str(ref) for stage in stages for ref in stage.deciding)
        return f"allowed: {asked} by {cited}"
    if decision.effect is DecisionEffect.EXPLICIT_DENY:
        denying = [s for s in stages if s.effect is decision.effect]
        cited = "; ".join(str(ref) for stage in denying for ref in stage.deciding)
        return f"explicitly denied: {asked} by {cited}"
    refusing = [
        _STAGE_NAMES.get(stage.stage, str(stage.stage))
        for stage in stages
        if stage.effect is DecisionEffect.IMPLICIT_DENY
    ]
    if not stages:
        return f"implicitly denied: {asked}: no policy applies to the caller"
    if not refusing:
        return f"implicitly denied: {asked}: identity and resource policies must both allow"
    return f"implicitly denied: {asked}: no statement in {' or '.join(refusing)} allows it"


def explain(decision: Decision, *, max_misses: int = 5) -> Explanation:
    """Explain a decision: deciding statements for Allow and ExplicitDeny, nearest misses else."""
    stages = tuple(_stage_explanation(s, decision.request, max_misses) for s in decision.stages)
    deciding = tuple(
        ref for stage in stages if stage.effect is decision.effect for ref in stage.deciding
    )
    misses = tuple(miss for stage in stages for miss in stage.misses)[:max_misses]
    if decision.effect is not DecisionEffect.IMPLICIT_DENY:
        misses = ()
    return Explanation(decision.effect, _summary(decision, stages), deciding, misses, stages)


def _ref_dict(ref: StatementRef) -> dict[str, Any]:
    return {
        "policyName": ref.policy.name,
        "policyType": str(ref.policy.type),
        "policyVersion": ref.policy.version,
        "statementIndex": ref.index,
        "sid": ref.sid,
        "effect": str(ref.effect),
    }


def explanation_to_dict(explanation: Explanation) -> dict[str, Any]:
    """A JSON-ready form, the one the CLI prints and the API will carry."""
    return {
        "decision": str(explanation.effect),
        "summary": explanation.summary,
        "decidingStatements": [_ref_dict(ref) for ref in explanation.deciding],
        "nearestMisses": [
            {**_ref_dict(miss.statement), "reasons": list(miss.reasons)}
            for miss in explanation.misses
        ],
        "stages": [
            {"stage": str(stage.stage), "decision": str(stage.effect)}
            for stage in explanation.stages
        ],
    }


def render_text(explanation: Explanation) -> str:
    """A readable multi-line account of the decision."""
    lines = [f"{explanation.effect}: {explanation.summary}"]
    if len(explanation.stages) > 1:
        lines += [f"  {stage.stage}: {stage.effect}" for stage in explanation.stages]
    for miss in explanation.misses:
        lines.append(f"  nearest miss: {miss.statement}")
        lines += [f"    - {reason}" for reason in miss.reasons]
    return "\n".join(lines)
