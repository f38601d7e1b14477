"""The combining rules, one test per row, and the fail-closed guarantees."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.policy import (
    AccessRequest,
    DecisionEffect,
    PolicyKind,
    PolicySet,
    Principal,
    PrincipalType,
    authorize,
)
from tests.conftest import policy, policy_set, statement

ALLOW, DENY, IMPLICIT = (
    DecisionEffect.ALLOW, DecisionEffect.EXPLICIT_DENY, DecisionEffect.IMPLICIT_DENY
)
REQUEST = AccessRequest("ecs:StartInstance", "acs:ecs:cn-hangzhou:1:instance/i-1",
                        {"acs:SourceIp": "10.0.0.1"})
ALLOWS = statement(Action="ecs:StartInstance")
DENIES = statement(Effect="Deny", Action="ecs:Start*")
UNRELATED = statement(Action="oss:GetObject")
NOTHING: dict[str, Any] | None = None

# Basic evaluation of one policy set [doc: Policy evaluation process].
BASIC = [
    ([], IMPLICIT),
    ([UNRELATED], IMPLICIT),
    ([ALLOWS], ALLOW),
    ([DENIES], DENY),
    ([ALLOWS, DENIES], DENY),
    ([DENIES, ALLOWS], DENY),
    ([ALLOWS, UNRELATED], ALLOW),
    ([statement(Effect="Deny", Action="oss:*"), ALLOWS], ALLOW),
]


@pytest.mark.parametrize(("statements", "expected"), BASIC)
def test_basic_evaluation(statements: list[dict[str, Any]], expected: DecisionEffect) -> None:
    policies = PolicySet([policy(*statements)]) if statements else PolicySet([])
    assert authorize(REQUEST, policies).effect is expected


def _set(kind: str | None) -> PolicySet | None:
    return {None: None, "allow": policy_set(ALLOWS), "deny": policy_set(DENIES),
            "none": policy_set(UNRELATED)}[kind]


# (session, identity, resource, requires_both, expected) [doc: Policy evaluation process;
# Policy evaluation process of assuming a RAM role].
COMBINED = [
    (None, "allow", None, False, ALLOW),
    (None, "none", None, False, IMPLICIT),
    (None, None, None, False, IMPLICIT),
    ("allow", "allow", None, False, ALLOW),
    ("none", "allow", None, False, IMPLICIT),
    ("deny", "allow", None, False, DENY),
    ("allow", "none", None, False, IMPLICIT),
    ("allow", "deny", None, False, DENY),
    (None, "none", "allow", False, ALLOW),
    (None, "allow", "none", False, ALLOW),
    (None, "allow", "deny", False, DENY),
    (None, "deny", "allow", False, DENY),
    (None, "none", "none", False, IMPLICIT),
    (None, None, "allow", False, ALLOW),
    (None, "allow", "allow", True, ALLOW),
    (None, "allow", "none", True, IMPLICIT),
    (None, "none", "allow", True, IMPLICIT),
    (None, "deny", "allow", True, DENY),
    (None, "allow", "deny", True, DENY),
    (None, None, "allow", True, IMPLICIT),
    ("none", "allow", "allow", True, IMPLICIT),
]


@pytest.mark.parametrize(("session", "identity", "resource", "both", "expected"), COMBINED)
def test_combination(session: str | None, identity: str | None, resource: str | None,
                     both: bool, expected: DecisionEffect) -> None:
    decision = authorize(REQUEST, _set(identity), session=_set(session),
                         resource=_set(resource), requires_both=both)
    assert decision.effect is expected


def test_root_is_not_bound_by_policies() -> None:
    decision = authorize(REQUEST, policy_set(DENIES), root=True)
    assert decision.allowed


def test_unknown_operator_in_allow_never_allows() -> None:
    weird = statement(Condition={"StringEqualsIfExists": {"acs:UserAgent": "x"}})
    request = AccessRequest("ecs:StartInstance", "*", {"acs:UserAgent": "x"})
    assert authorize(request, policy_set(weird)).effect is IMPLICIT


def test_unknown_operator_in_deny_still_denies() -> None:
    weird_deny = statement(Effect="Deny", Condition={"IpAddressMaybe": {"acs:SourceIp": "1.1.1.1"}})
    assert authorize(REQUEST, policy_set(ALLOWS, weird_deny)).effect is DENY


def test_malformed_request_value_never_allows_and_still_denies() -> None:
    allow_ip = statement(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}})
    deny_outside = statement(Effect="Deny", Condition={"NotIpAddress": {"acs:SourceIp":
                                                                          "10.0.0.0/8"}})
    garbled = AccessRequest("ecs:StartInstance", "*", {"acs:SourceIp": "10.0.0.999"})
    assert authorize(garbled, policy_set(allow_ip)).effect is IMPLICIT
    assert authorize(garbled, policy_set(ALLOWS, deny_outside)).effect is DENY


def test_bad_policy_value_never_allows() -> None:
    masked = statement(Condition={"IpAddress": {"acs:SourceIp": "42.120.XX.X/24"}})
    request = AccessRequest("ecs:StartInstance", "*", {"acs:SourceIp": "42.120.1.1"})
    assert authorize(request, policy_set(masked)).effect is IMPLICIT


def test_conditions_and_keys_are_anded() -> None:
    both = statement(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"},
                                "Bool": {"acs:SecureTransport": "true"}})
    secure = AccessRequest("ecs:X", "*", {"acs:SourceIp": "10.1.1.1",
                                          "acs:SecureTransport": "true"})
    plain = AccessRequest("ecs:X", "*", {"acs:SourceIp": "10.1.1.1",
                                         "acs:SecureTransport": "false"})
    assert authorize(secure, policy_set(both)).effect is ALLOW
    assert authorize(plain, policy_set(both)).effect is IMPLICIT


def test_not_action_and_not_resource() -> None:
    all_but_ram = {"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"}
    assert authorize(AccessRequest("ecs:X", "*"), policy_set(all_but_ram)).effect is ALLOW
    assert authorize(AccessRequest("ram:CreateUser", "*"), policy_set(all_but_ram)).effect \
        is IMPLICIT
    except_bucket = {"Effect": "Allow", "Action": "oss:*", "NotResource": "acs:oss:*:*:secret/*"}
    open_object = AccessRequest("oss:GetObject", "acs:oss:cn-hangzhou:1:public/a")
    secret_object = AccessRequest("oss:GetObject", "acs:oss:cn-hangzhou:1:secret/a")
    assert authorize(open_object, policy_set(except_bucket)).effect is ALLOW
    assert authorize(secret_object, policy_set(except_bucket)).effect is IMPLICIT


def _trust(*principals: dict[str, Any]) -> PolicySet:
    statements = [statement(Action="sts:AssumeRole", Resource=None, Principal=p)
                  for p in principals]
    for s in statements:
        s.pop("Resource")
    return policy_set(*statements, kind=PolicyKind.TRUST)


def _assume(principal: Principal) -> AccessRequest:
    return AccessRequest("sts:AssumeRole", "acs:ram::111:role/app", principal=principal)


TRUST = [
    ({"RAM": "acs:ram::111:root"}, Principal(PrincipalType.RAM, "acs:ram::111:user/a"), ALLOW),
    ({"RAM": "acs:ram::111:root"}, Principal(PrincipalType.RAM, "acs:ram::222:user/a"), IMPLICIT),
    ({"RAM": "acs:ram::111:root"},
     Principal(PrincipalType.RAM, "acs:ram::111:assumed-role/ops/s1"), ALLOW),
    ({"RAM": "acs:ram::111:role/ops"},
     Principal(PrincipalType.RAM, "acs:ram::111:assumed-role/ops/s1"), ALLOW),
    ({"RAM": "acs:ram::111:role/ops"},
     Principal(PrincipalType.RAM, "acs:ram::111:assumed-role/dev/s1"), IMPLICIT),
    ({"RAM": "acs:ram::111:user/a"}, Principal(PrincipalType.RAM, "acs:ram::111:user/b"),
     IMPLICIT),
    ({"Service": "ecs.aliyuncs.com"}, Principal(PrincipalType.SERVICE, "ECS.aliyuncs.com"),
     ALLOW),
    ({"Service": "ecs.aliyuncs.com"}, Principal(PrincipalType.RAM, "acs:ram::111:root"),
     IMPLICIT),
    ({"Federated": "acs:ram::111:saml-provider/idp"},
     Principal(PrincipalType.FEDERATED, "acs:ram::111:saml-provider/idp"), ALLOW),
    ({"Federated": "acs:ram::111:saml-provider/idp"},
     Principal(PrincipalType.FEDERATED, "acs:ram::111:saml-provider/other"), IMPLICIT),
]


@pytest.mark.parametrize(("principal_element", "caller", "expected"), TRUST)
def test_trust_principals(principal_element: dict[str, Any], caller: Principal,
                          expected: DecisionEffect) -> None:
    decision = authorize(_assume(caller), None, resource=_trust(principal_element))
    assert decision.effect is expected


def test_trust_policy_without_a_principal_in_the_request_denies() -> None:
    request = AccessRequest("sts:AssumeRole", "acs:ram::111:role/app")
    assert authorize(request, None, resource=_trust({"RAM": "acs:ram::111:root"})).effect \
        is IMPLICIT


def test_assume_role_needs_identity_and_trust() -> None:
    alice = Principal(PrincipalType.RAM, "acs:ram::111:user/alice")
    trust = _trust({"RAM": "acs:ram::111:root"})
    may_assume = policy_set(statement(Action="sts:AssumeRole",
                                      Resource="acs:ram:*:111:role/app"))
    may_not = policy_set(statement(Action="sts:AssumeRole", Resource="acs:ram:*:111:role/other"))
    assert authorize(_assume(alice), may_assume, resource=trust, requires_both=True).allowed
    assert not authorize(_assume(alice), may_not, resource=trust, requires_both=True).allowed


def test_trust_condition_on_source_ip() -> None:
    conditional = policy_set(
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"RAM": "acs:ram::111:root"},
         "Condition": {"IpAddress": {"acs:SourceIp": "203.0.113.0/24"}}},
        kind=PolicyKind.TRUST,
    )
    alice = Principal(PrincipalType.RAM, "acs:ram::111:user/alice")
    inside = AccessRequest("sts:AssumeRole", "acs:ram::111:role/app",
                           {"acs:SourceIp": "203.0.113.9"}, alice)
    outside = AccessRequest("sts:AssumeRole", "acs:ram::111:role/app",
                            {"acs:SourceIp": "198.51.100.9"}, alice)
    assert authorize(inside, None, resource=conditional).allowed
    assert not authorize(outside, None, resource=conditional).allowed


def test_bucket_policy_bare_principals() -> None:
    bucket = policy_set(
        {"Effect": "Allow", "Action": "oss:GetObject", "Principal": ["222"],
         "Resource": "acs:oss:*:111:bucket/*"},
        kind=PolicyKind.RESOURCE,
    )
    other_account = Principal(PrincipalType.RAM, "acs:ram::222:user/bob")
    stranger = Principal(PrincipalType.RAM, "acs:ram::333:user/eve")
    request = AccessRequest("oss:GetObject", "acs:oss:cn-hangzhou:111:bucket/a", {},
                            other_account)
    assert authorize(request, None, resource=bucket).allowed
    request = AccessRequest("oss:GetObject", "acs:oss:cn-hangzhou:111:bucket/a", {}, stranger)
    assert not authorize(request, None, resource=bucket).allowed


def test_candidate_cache_is_bounded_and_correct() -> None:
    policies = policy_set(statement(Action="ecs:Describe*"))
    for number in range(5000):
        assert authorize(AccessRequest(f"ecs:Describe{number}", "*"), policies).allowed
    assert authorize(AccessRequest("ecs:Start", "*"), policies).effect is IMPLICIT


def test_decision_names_its_deciding_statement() -> None:
    decision = authorize(REQUEST, PolicySet([policy(UNRELATED, ALLOWS, name="ops")]))
    ref = decision.deciding_statement
    assert ref is not None
    assert (ref.policy.name, ref.index) == ("ops", 1)
    assert authorize(REQUEST, policy_set(UNRELATED)).deciding_statement is None
