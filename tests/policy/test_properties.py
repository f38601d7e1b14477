"""Properties that must hold for any policies: deny is monotone, allow is monotone, order is
irrelevant, and the parser raises only its own error."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.policy import (
    AccessRequest,
    DecisionEffect,
    PolicyKind,
    PolicyParseError,
    PolicySet,
    authorize,
    parse_policy,
)
from tests.conftest import policy

ACTIONS = ["*", "ecs:*", "ecs:Describe*", "ecs:DescribeInstances", "ecs:StartInstance",
           "oss:GetObject", "oss:*", "ram:Create*", "e?s:Start*"]
RESOURCES = ["*", "acs:ecs:*:*:instance/*", "acs:ecs:cn-hangzhou:1:instance/i-1",
             "acs:oss:*:*:bucket/*", "acs:ecs:cn-*:*:*", "acs:ram::1:user/alice"]
CONDITIONS: list[dict[str, Any]] = [
    {},
    {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}},
    {"Bool": {"acs:SecureTransport": "true"}},
    {"StringLike": {"oss:Prefix": "a/*"}},
    {"StringNotEquals": {"acs:UserAgent": "bot"}},
    {"DateLessThan": {"acs:CurrentTime": "2026-01-01T00:00:00Z"}},
    {"NumericGreaterThan": {"kms:Len": "3"}},
    {"StringEqualsIfExists": {"acs:UserAgent": "x"}},
    {"IpAddress": {"acs:SourceIp": "bad-cidr"}},
    {"ForAllValues:StringEquals": {"acs:TagKeys": ["a", "b"]}},
]
CONTEXT_VALUES: dict[str, list[str]] = {
    "acs:SourceIp": ["10.1.2.3", "192.168.0.1", "2001:db8::9", "garbage"],
    "acs:SecureTransport": ["true", "false"],
    "oss:Prefix": ["a/b", "b/"],
    "acs:UserAgent": ["bot", "x", "cli"],
    "acs:CurrentTime": ["2025-06-01T00:00:00Z", "2027-01-01T00:00:00Z"],
    "kms:Len": ["1", "5", "many"],
    "acs:TagKeys": ["a", "c"],
}


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    chosen: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    action_key = draw(st.sampled_from(["Action", "Action", "Action", "NotAction"]))
    chosen[action_key] = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))
    resource_key = draw(st.sampled_from(["Resource", "Resource", "Resource", "NotResource"]))
    chosen[resource_key] = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))
    condition: dict[str, Any] = {}
    for block in draw(st.lists(st.sampled_from(CONDITIONS), max_size=2)):
        condition.update(block)
    if condition:
        chosen["Condition"] = condition
    return chosen


@st.composite
def requests(draw: st.DrawFn) -> AccessRequest:
    action = draw(st.sampled_from(["ecs:DescribeInstances", "ecs:StartInstance",
                                   "oss:GetObject", "ram:CreateUser", "kms:Encrypt"]))
    resource = draw(st.sampled_from(["acs:ecs:cn-hangzhou:1:instance/i-1",
                                     "acs:oss:cn-hangzhou:1:bucket/a", "acs:ram:*:1:user/alice",
                                     "*"]))
    keys = draw(st.lists(st.sampled_from(sorted(CONTEXT_VALUES)), unique=True))
    context = {key: draw(st.sampled_from(CONTEXT_VALUES[key])) for key in keys}
    return AccessRequest(action, resource, context)


policies_strategy = st.lists(st.lists(statements(), min_size=1, max_size=4), max_size=4)


def _decide(policy_statements: list[list[dict[str, Any]]], request: AccessRequest) -> \
        DecisionEffect:
    compiled = [policy(*group, name=f"p{i}") for i, group in enumerate(policy_statements)]
    return authorize(request, PolicySet(compiled)).effect


@settings(max_examples=300)
@given(policies_strategy, statements(effect="Deny"), requests())
def test_adding_a_deny_never_allows(policies: list[list[dict[str, Any]]],
                                    deny: dict[str, Any], request: AccessRequest) -> None:
    before = _decide(policies, request)
    after = _decide([*policies, [deny]], request)
    if before is not DecisionEffect.ALLOW:
        assert after is not DecisionEffect.ALLOW
    if before is DecisionEffect.EXPLICIT_DENY:
        assert after is DecisionEffect.EXPLICIT_DENY


@settings(max_examples=300)
@given(policies_strategy, statements(effect="Allow"), requests())
def test_adding_an_allow_never_removes_an_allow(policies: list[list[dict[str, Any]]],
                                                allow: dict[str, Any],
                                                request: AccessRequest) -> None:
    before = _decide(policies, request)
    after = _decide([*policies, [allow]], request)
    if before is DecisionEffect.ALLOW:
        assert after is DecisionEffect.ALLOW
    if before is DecisionEffect.EXPLICIT_DENY:
        assert after is DecisionEffect.EXPLICIT_DENY


@settings(max_examples=300)
@given(policies_strategy, requests(), st.randoms(use_true_random=False))
def test_order_never_changes_the_decision(policies: list[list[dict[str, Any]]],
                                          request: AccessRequest, rng: Any) -> None:
    shuffled = [list(group) for group in policies]
    for group in shuffled:
        rng.shuffle(group)
    rng.shuffle(shuffled)
    assert _decide(policies, request) is _decide(shuffled, request)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
element_names = st.sampled_from(["Version", "Statement", "Effect", "Action", "NotAction",
                                 "Resource", "NotResource", "Condition", "Principal", "Sid",
                                 "RAM", "Service", "IpAddress", "acs:SourceIp"])
policy_like = st.recursive(
    json_values,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(element_names, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=500)
@given(policy_like, st.sampled_from(list(PolicyKind)))
def test_parser_raises_only_its_own_error(data: Any, kind: PolicyKind) -> None:
    for source in (data, json.dumps(data) if _encodable(data) else "{"):
        with contextlib.suppress(PolicyParseError):
            parse_policy(source, kind=kind)


@settings(max_examples=300)
@given(st.text() | st.binary())
def test_parser_raises_only_its_own_error_on_text(source: str | bytes) -> None:
    with contextlib.suppress(PolicyParseError):
        parse_policy(source)


def _encodable(data: Any) -> bool:
    try:
        json.dumps(data, allow_nan=False)
    except ValueError:
        return False
    return True
