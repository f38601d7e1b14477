"""Every call's RAM check: the caller's policies, the action's RAM name and resource, and the
request's condition keys, decided by the one policy engine."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ramparts.core.context import CallerKind, condition_keys
from ramparts.core.errors import ServiceError
from ramparts.policy.compiled import PolicySource, PolicyType
from ramparts.policy.evaluator import Decision, DecisionEffect, PolicySet, authorize
from ramparts.policy.explanation import explain, explanation_to_dict
from ramparts.policy.parser import parse_policy
from ramparts.policy.request import AccessRequest
from ramparts.services.actions import ActionSpec, ResourceOf
from ramparts.services.call import Call
from ramparts.services.ram.names import key_of
from ramparts.services.ram.policies import PolicyBackend
from ramparts.services.sts.sessions import Session

__all__ = ["AccessDenied", "check_access", "decide"]


class AccessDenied(ServiceError):
    code = "NoPermission"
    http_status = 403


def _identity_set(call: Call) -> PolicySet:
    context, tx = call.context, call.tx
    caller = context.caller
    backend = PolicyBackend(tx, call.env, context.account_id)
    if caller.kind is CallerKind.ROLE_SESSION:
        principals = [("Role", key_of(caller.name))]
    else:
        groups = tx.query("SELECT group_key FROM group_members WHERE account_id = ? AND "
                          "user_key = ?", (context.account_id, key_of(caller.name)))
        principals = [("User", key_of(caller.name))] + [("Group", g["group_key"])
                                                         for g in groups]
    return call.env.policies.policy_set(backend.compiled_for(principals))


def _session_set(call: Call, session: Session | None) -> PolicySet | None:
    if session is None or session.session_policy is None:
        return None
    text = session.session_policy
    compiled = call.env.policies.policy(
        PolicySource(f"session policy of {session.session_name}", "v1", PolicyType.SESSION),
        lambda: parse_policy(text), revision=text)
    return PolicySet([compiled])


def decide(call: Call, spec: ActionSpec, session: Session | None) -> Decision:
    caller = call.context.caller
    request = AccessRequest(spec.ram_action, spec.resource(call), condition_keys(call.context))
    if caller.kind is CallerKind.ROOT:
        return authorize(request, None, root=True)
    return authorize(request, _identity_set(call), session=_session_set(call, session))


def _detail(call: Call, spec: ActionSpec, decision: Decision) -> dict[str, Any]:
    caller = call.context.caller
    return {
        "AuthAction": spec.ram_action,
        "AuthPrincipalType": "SubUser" if caller.kind is CallerKind.USER else "AssumedRoleUser",
        "AuthPrincipalOwnerId": caller.account_id,
        "AuthPrincipalDisplayName": caller.display_name,
        "NoPermissionType": str(decision.effect),
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "Explanation": explanation_to_dict(explain(decision)),
    }


def check_access(call: Call, spec: ActionSpec, session: Session | None) -> Decision:
    """Allow, or raise AccessDenied carrying the decision's explanation; every further
    (action, resource) pair the spec lists must be allowed too."""
    decision = _check(call, spec, session)
    for ram_action, resource_of in spec.also:
        resource = resource_of(call)
        if resource is not None:
            _check(call, replace(spec, ram_action=ram_action, also=(),
                                 resource=_fixed(resource)), session)
    return decision


def _fixed(resource: str) -> ResourceOf:
    def named(call: Call) -> str:
        del call
        return resource

    return named


def _check(call: Call, spec: ActionSpec, session: Session | None) -> Decision:
    decision = decide(call, spec, session)
    if decision.effect is not DecisionEffect.ALLOW:
        qualifier = "explicitly denied" if decision.effect is DecisionEffect.EXPLICIT_DENY \
            else "not allowed by any policy"
        raise AccessDenied(
            f"You are not authorized to do this action. You should be authorized by RAM: "
            f"{spec.ram_action} on {spec.resource(call)} is {qualifier}.",
            detail=_detail(call, spec, decision))
    return decision
