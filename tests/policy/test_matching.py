"""Action and resource wildcards, with their case rules and the global-region spelling."""

from __future__ import annotations

import pytest

from ramparts.policy.matching import action_service, compile_action, compile_resource

ACTIONS = [
    ("*", "ecs:DescribeInstances", True),
    ("ecs:*", "ecs:DescribeInstances", True),
    ("ecs:*", "ecsx:DescribeInstances", False),
    ("ecs:Describe*", "ecs:DescribeInstances", True),
    ("ecs:Describe*", "ecs:describeinstances", True),
    ("ECS:DESCRIBEINSTANCES", "ecs:DescribeInstances", True),
    ("ecs:Describe*", "ecs:StartInstance", False),
    ("ecs:*SecurityGroup*", "ecs:AuthorizeSecurityGroupEgress", True),
    ("ecs:*SecurityGroup*", "ecs:RunInstances", False),
    ("ecs:Start?nstance", "ecs:StartInstance", True),
    ("ecs:Start?nstance", "ecs:StartInstances", False),
    ("oss:GetObject", "oss:GetObjectAcl", False),
    ("*:Describe*", "rds:DescribeDBInstances", True),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), ACTIONS)
def test_action_patterns(pattern: str, action: str, expected: bool) -> None:
    assert compile_action(pattern)(action) is expected


RESOURCES = [
    ("*", "acs:ecs:cn-hangzhou:1:instance/i-1", True),
    ("acs:ecs:*:*:instance/*", "acs:ecs:cn-hangzhou:1:instance/i-1", True),
    ("acs:ecs:*:*:instance/*", "acs:ecs:cn-hangzhou:1:disk/d-1", False),
    ("acs:ecs:cn-qingdao:*:*", "acs:ecs:cn-hangzhou:1:instance/i-1", False),
    ("acs:ecs:cn-qingdao:*:*", "acs:ecs:cn-qingdao:1:instance/i-1", True),
    ("acs:ecs:*:*:instance/inst-001", "acs:ecs:cn-hangzhou:1:instance/inst-001", True),
    ("acs:ecs:*:*:instance/inst-001", "acs:ecs:cn-hangzhou:1:instance/INST-001", False),
    ("acs:oss:*:*:mybucket", "acs:oss:cn-hangzhou:1:mybucket", True),
    ("acs:oss:*:*:mybucket", "acs:oss:cn-hangzhou:1:mybucket/a.jpg", False),
    ("acs:oss:*:*:mybucket/*", "acs:oss:cn-hangzhou:1:mybucket/dir/a:b.jpg", True),
    ("acs:oss:*:*:mybucket/file*", "acs:oss:cn-hangzhou:1:mybucket/file-1.txt", True),
    ("acs:ecs:*", "acs:ecs:cn-hangzhou:1:instance/i-1", True),
    ("acs:ecs:*", "acs:rds:cn-hangzhou:1:dbinstance/x", False),
    # A wildcard stays within its part: the account part cannot swallow a region.
    ("acs:ecs:*:12*:instance/*", "acs:ecs:cn-hangzhou:1:instance/i:12:instance/x", False),
    # Global services: region written empty or `*` names the same resource.
    ("acs:ram::123:user/alice", "acs:ram:*:123:user/alice", True),
    ("acs:ram:*:123:user/alice", "acs:ram::123:user/alice", True),
    ("acs:ram::123:user/alice", "acs:ram::123:user/alice", True),
    ("acs:ram::123:user/alice", "acs:ram::123:user/bob", False),
    ("acs:ram::123:user/*", "acs:ram::124:user/bob", False),
    ("acs:ecs::123:instance/i-1", "acs:ecs:cn-hangzhou:123:instance/i-1", False),
    ("mybucket/*", "mybucket/a", True),
]


@pytest.mark.parametrize(("pattern", "resource", "expected"), RESOURCES)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    assert compile_resource(pattern)(resource) is expected


@pytest.mark.parametrize(
    ("action", "service"),
    [("ecs:Describe*", "ecs"), ("ECS:X", "ecs"), ("*", None), ("e*:X", None), ("bad", None)],
)
def test_action_service(action: str, service: str | None) -> None:
    assert action_service(action) == service
