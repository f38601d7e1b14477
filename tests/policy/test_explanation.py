"""Explanations cite the deciding statements, or the nearest misses with their reasons."""

from __future__ import annotations

from ramparts.policy import (
    AccessRequest,
    PolicySet,
    authorize,
    explain,
    explanation_to_dict,
    render_text,
)
from tests.conftest import policy, policy_set, statement

SOURCE_IP = {"IpAddress": {"acs:SourceIp": ["192.168.0.0/16"]}}
REQUEST = AccessRequest("ecs:DescribeInstances", "acs:ecs:cn-hangzhou:1:instance/i-1",
                        {"acs:SourceIp": "10.0.0.1"})


def test_allow_cites_every_allowing_statement() -> None:
    policies = PolicySet([
        policy(statement(Action="ecs:Describe*"), name="read"),
        policy(statement(Action="oss:*"), statement(Action="ecs:*"), name="wide"),
    ])
    explanation = explain(authorize(REQUEST, policies))
    assert [(r.policy.name, r.index) for r in explanation.deciding] == [("read", 0), ("wide", 1)]
    assert explanation.misses == ()
    assert "allowed" in explanation.summary


def test_explicit_deny_cites_the_deny() -> None:
    policies = PolicySet([policy(statement(Action="ecs:*"),
                                 statement(Effect="Deny", Action="ecs:Describe*", Sid="no"),
                                 name="mixed")])
    explanation = explain(authorize(REQUEST, policies))
    assert [(r.policy.name, r.index, r.sid) for r in explanation.deciding] == [
        ("mixed", 1, "no")]
    assert "explicitly denied" in explanation.summary
    assert "mixed v1 Statement[1] (no) Deny" in explanation.summary


def test_implicit_deny_lists_nearest_misses_with_reasons() -> None:
    policies = PolicySet([
        policy(statement(Action="kms:*"), name="kms"),
        policy(statement(Action="ecs:*", Condition=SOURCE_IP), name="office"),
        policy(statement(Action="ecs:*", Resource="acs:ecs:*:*:disk/*"), name="disks"),
    ])
    explanation = explain(authorize(REQUEST, policies))
    names = [miss.statement.policy.name for miss in explanation.misses]
    assert names == ["office", "disks", "kms"]
    office = explanation.misses[0].reasons
    assert office == ("condition IpAddress {'acs:SourceIp': ['192.168.0.0/16']} failed for "
                      "10.0.0.1",)
    assert "does not match Resource" in explanation.misses[1].reasons[0]
    assert "does not match Action" in explanation.misses[2].reasons[0]


def test_absent_key_is_named() -> None:
    request = AccessRequest("ecs:DescribeInstances", "*")
    explanation = explain(authorize(request, policy_set(statement(Condition=SOURCE_IP))))
    assert "key 'acs:SourceIp' absent from the request" in explanation.misses[0].reasons[0]


def test_session_stage_is_named() -> None:
    decision = authorize(REQUEST, policy_set(statement()),
                         session=policy_set(statement(Action="oss:*")))
    explanation = explain(decision)
    assert "the session policy" in explanation.summary
    assert explanation_to_dict(explanation)["stages"] == [
        {"stage": "session", "decision": "ImplicitDeny"}]


def test_renderers() -> None:
    decision = authorize(REQUEST, policy_set(statement(Action="ecs:*", Condition=SOURCE_IP)))
    data = explanation_to_dict(explain(decision))
    assert data["decision"] == "ImplicitDeny"
    assert data["nearestMisses"][0]["statementIndex"] == 0
    assert data["nearestMisses"][0]["reasons"]
    text = render_text(explain(decision))
    assert text.startswith("ImplicitDeny: implicitly denied")
    assert "nearest miss" in text


def test_root_decision_explains_itself() -> None:
    explanation = explain(authorize(REQUEST, None, root=True))
    assert "root identity" in explanation.summary
