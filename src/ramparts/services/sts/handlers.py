"""STS on the wire: AssumeRole (identity policy and trust policy must both allow) and
GetCallerIdentity."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.core.context import CallerKind, condition_keys
from ramparts.core.identifiers import parse_arn
from ramparts.policy.compiled import PolicySource, PolicyType
from ramparts.policy.document import PolicyKind
from ramparts.policy.evaluator import DecisionEffect, PolicySet
from ramparts.policy.parser import MAX_SESSION_POLICY_CHARS, parse_policy
from ramparts.policy.request import AccessRequest, Principal, PrincipalType
from ramparts.policy.validator import Severity, validate_policy
from ramparts.services.actions import ActionTable, Product
from ramparts.services.call import Call
from ramparts.services.ram.errors import EntityNotExist
from ramparts.services.ram.names import key_of
from ramparts.services.ram.roles import RoleBackend
from ramparts.services.sts.errors import EntityNotExistRole, InvalidParameter, NoPermission
from ramparts.services.sts.sessions import SessionBackend

__all__ = ["STS"]

STS = ActionTable(Product("Sts", "2015-04-01", "sts.aliyuncs.com", "sts"))
_SESSION_NAME = re.compile(r"[\w.@-]{2,64}", re.ASCII)
MIN_DURATION = 900


def _role_arn(call: Call) -> str:
    return str(call.params.str("RoleArn", required=True))


def _role_resource(call: Call) -> str:
    arn = parse_arn(_role_arn(call))
    if arn is None or arn.service != "ram" or not arn.relative_id.startswith("role/"):
        raise InvalidParameter("RoleArn", "The parameter RoleArn is wrongly formed.")
    return f"acs:ram::{arn.account}:{arn.relative_id}"


def _session_policy(call: Call) -> str | None:
    policy = call.params.str("Policy")
    if policy is None:
        return None
    if len(policy) > MAX_SESSION_POLICY_CHARS:
        raise InvalidParameter("PolicySize", f"The size of Policy must be smaller than "
                                             f"{MAX_SESSION_POLICY_CHARS} characters.")
    if any(d.severity is Severity.ERROR for d in validate_policy(policy, max_chars=None)):
        raise InvalidParameter("PolicyGrammar", "The parameter Policy has not passed grammar "
                                                "check.")
    return str(policy)


@STS.action("AssumeRole", resource=_role_resource, rw="Write",
            secret_response=("AccessKeySecret", "SecurityToken"))
def assume_role(call: Call) -> dict[str, Any]:
    context = call.context
    arn = parse_arn(_role_resource(call))
    assert arn is not None  # checked by _role_resource
    role_name = arn.relative_id.split("/", 1)[1]
    session_name = str(call.params.str("RoleSessionName", required=True))
    if not _SESSION_NAME.fullmatch(session_name):
        raise InvalidParameter("RoleSessionName",
                               "The parameter RoleSessionName is wrongly formed.")
    if arn.account != context.account_id:
        raise EntityNotExistRole("The specified Role not exists.")
    try:
        role = RoleBackend(call.tx, call.env, context.account_id).get(role_name)
    except EntityNotExist as exc:
        raise EntityNotExistRole("The specified Role not exists.") from exc
    duration = int(call.params.int("DurationSeconds", default=3600))
    if not MIN_DURATION <= duration <= role.max_session_duration:
        raise InvalidParameter("DurationSeconds",
                               f"The Min/Max value of DurationSeconds is 15min/"
                               f"{role.max_session_duration // 60}min.")
    policy = _session_policy(call)
    trust = call.env.policies.policy(
        PolicySource(f"{role.role_name} trust policy", "v1", PolicyType.TRUST),
        lambda: parse_policy(role.trust_policy, kind=PolicyKind.TRUST),
        revision=role.trust_policy)
    caller = context.caller
    request = AccessRequest("sts:AssumeRole", role.arn, condition_keys(context),
                            Principal(PrincipalType.RAM, caller.arn))
    if PolicySet([trust]).decide(request).effect is not DecisionEffect.ALLOW:
        raise NoPermission("You are not authorized to do this action. You should be authorized "
                           "by RAM: the role's trust policy does not allow this caller.")
    sessions = SessionBackend(call.tx, call.env, context.account_id)
    credentials = sessions.create(
        kind="role", principal_key=key_of(role.role_name), session_name=session_name,
        duration=timedelta(seconds=duration),
        source_access_key_id=sessions.origin_of(caller.access_key_id), session_policy=policy,
        mfa_present=caller.mfa_present)
    call.touched("ACS::RAM::Role", role.role_name)
    return {
        "Credentials": {
            "AccessKeyId": credentials.access_key_id,
            "AccessKeySecret": credentials.access_key_secret,
            "SecurityToken": credentials.security_token,
            "Expiration": format_iso8601(credentials.expiration),
        },
        "AssumedRoleUser": {
            "Arn": f"acs:ram::{context.account_id}:role/{role.role_name}/{session_name}",
            "AssumedRoleId": f"{role.role_id}:{session_name}",
        },
    }


def _anything(call: Call) -> str:
    return "*"


# "No authorization is required for this operation" [doc: GetCallerIdentity].
@STS.action("GetCallerIdentity", resource=_anything, rw="Read", authorize=False)
def get_caller_identity(call: Call) -> dict[str, Any]:
    caller = call.context.caller
    body: dict[str, Any] = {"AccountId": caller.account_id, "Arn": caller.arn,
                            "PrincipalId": caller.principal_id}
    if caller.kind is CallerKind.USER:
        body.update(IdentityType="RAMUser", UserId=caller.principal_id)
    elif caller.kind is CallerKind.ROLE_SESSION:
        body.update(IdentityType="AssumedRoleUser", RoleId=caller.principal_id.split(":")[0])
    else:
        body.update(IdentityType="Account", UserId=caller.account_id)
    return body
