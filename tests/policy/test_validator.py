"""Diagnostics: each check fires on its case and stays quiet on a least-privilege policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ramparts.policy import PolicyKind, Severity, validate_policy
from ramparts.policy.catalog import Catalog

SERVICES = Catalog().service_codes


def _codes(*statements: Any, kind: PolicyKind = PolicyKind.IDENTITY) -> set[tuple[str, str]]:
    text = json.dumps({"Version": "1", "Statement": list(statements)})
    return {(str(d.severity), d.code)
            for d in validate_policy(text, kind=kind, known_services=SERVICES)}


def _allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", **fields}


CASES: list[tuple[dict[str, Any], str, str]] = [
    (_allow(Action="*", Resource="*"), "security-warning", "administrator-access"),
    (_allow(NotAction="ram:*", Resource="*"), "security-warning", "allow-not-action"),
    (_allow(Action="ecs:*", NotResource="acs:ecs:*:*:instance/i-1"), "security-warning",
     "allow-not-resource"),
    (_allow(Action="ecs:*", Resource="*"), "security-warning", "service-wildcard"),
    (_allow(Action="ram:AttachPolicyToUser", Resource="*"), "security-warning",
     "privilege-escalation"),
    (_allow(Action="ram:AttachPolicyTo*", Resource="acs:ram:*:1:user/x"), "security-warning",
     "privilege-escalation"),
    (_allow(Action="ram:CreatePolicyVersion", Resource="acs:ram:*:1:policy/p"),
     "security-warning", "privilege-escalation"),
    (_allow(Action="ram:CreateAccessKey", Resource="acs:ram:*:1:user/*"), "security-warning",
     "privilege-escalation"),
    (_allow(Action="ram:UpdateLoginProfile", Resource="*"), "security-warning",
     "privilege-escalation"),
    (_allow(Action="sts:AssumeRole", Resource="*"), "security-warning", "privilege-escalation"),
    (_allow(Action="ram:*", Resource="acs:ram:*:1:*"), "security-warning",
     "privilege-escalation"),
    (_allow(Action="ecs", Resource="*"), "error", "invalid-action-format"),
    (_allow(Action="ecs:Describe Instances", Resource="*"), "error", "invalid-action-format"),
    (_allow(Action="ecx:DescribeInstances", Resource="*"), "warning", "unknown-service"),
    (_allow(Action="ecs:DescribeInstances", Resource="arn:aws:s3:::b"), "error",
     "invalid-resource"),
    (_allow(Action="ecs:DescribeInstances", Resource="acs:ecs:*:*"), "error",
     "invalid-resource"),
    (_allow(Action="ecs:DescribeInstances", Resource="acs:ecx:*:*:instance/*"), "warning",
     "unknown-service"),
    (_allow(Action="ecs:X", Resource="*", Condition={"StringEqualz": {"acs:UserAgent": "a"}}),
     "error", "invalid-condition-operator"),
    (_allow(Action="ecs:X", Resource="*", Condition={"StringEquals": {"UserAgent": "a"}}),
     "error", "invalid-condition-key-format"),
    (_allow(Action="ecs:X", Resource="*",
            Condition={"IpAddress": {"acs:SourceIp": "192.168.0.0/33"}}),
     "error", "invalid-condition-value"),
    (_allow(Action="ecs:X", Resource="*", Condition={"NumericLessThan": {"kms:Len": "few"}}),
     "error", "invalid-condition-value"),
    (_allow(Action="ecs:X", Resource="*", Condition={"DateLessThan": {"acs:CurrentTime":
                                                                      "tomorrow"}}),
     "error", "invalid-condition-value"),
    (_allow(Action="ecs:X", Resource="*", Condition={"Bool": {"acs:MFAPresent":
                                                              ["true", "false"]}}),
     "error", "multiple-boolean-values"),
    (_allow(Action="ecs:X", Resource="*", Condition={"StringEquals": {"acs:SourceIp":
                                                                      "10.0.0.1"}}),
     "warning", "condition-type-mismatch"),
    (_allow(Action="ecs:X", Resource="*",
            Condition={"NumericGreaterThan": {"kms:Len": "10"},
                       "NumericLessThan": {"kms:Len": "5"}}),
     "warning", "never-matches"),
    (_allow(Action="ecs:X", Resource="*",
            Condition={"DateGreaterThan": {"acs:CurrentTime": "2030-01-01"},
                       "DateLessThan": {"acs:CurrentTime": "2020-01-01"}}),
     "warning", "never-matches"),
    (_allow(Action="ecs:X", Resource="*",
            Condition={"IpAddress": {"acs:SourceIp": "10.0.0.0/8"},
                       "NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}),
     "warning", "never-matches"),
    (_allow(NotAction="*", Resource="acs:ecs:*:*:instance/i-1"), "warning", "never-matches"),
    (_allow(Action="ecs:X", Resource="*", Condition={"StringLike": {"oss:Prefix": "a/*"}}),
     "warning", "never-matches"),
    (_allow(Action=["ecs:X", "ECS:x"], Resource="*"), "suggestion", "duplicate-value"),
    (_allow(Action="ecs:X", Resource="*",
            Condition={"ForAllValues:StringEquals": {"acs:TagKeys": "a"}}),
     "security-warning", "for-all-values-absent-key"),
]


@pytest.mark.parametrize(("statement", "severity", "code"), CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_check_fires(statement: dict[str, Any], severity: str, code: str) -> None:
    assert (severity, code) in _codes(statement)


def test_duplicate_statements_and_sids() -> None:
    same = {"Sid": "a", "Effect": "Allow", "Action": "ecs:DescribeInstances", "Resource": "*"}
    found = _codes(same, dict(same))
    assert ("warning", "duplicate-statement") in found
    assert ("warning", "duplicate-sid") in found


def test_parse_errors_become_error_diagnostics() -> None:
    diagnostics = validate_policy('{"Version": "1"}')
    assert [(d.severity, d.code, d.path) for d in diagnostics] == [
        (Severity.ERROR, "missing-statement", "Statement")]
    assert validate_policy("not json")[0].code == "not-json"


def test_size_limit_follows_the_kind() -> None:
    long_trust = json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"RAM": [f"acs:ram::1:user/u{i:04}" for i in range(100)]}}]})
    assert 2048 < len(long_trust) < 6144
    assert validate_policy(long_trust, kind=PolicyKind.TRUST)[0].code == "too-long"
    assert validate_policy(long_trust, kind=PolicyKind.TRUST, max_chars=None) == []


def test_public_principal_in_a_resource_policy() -> None:
    bucket = {"Effect": "Allow", "Action": "oss:GetObject", "Principal": ["*"],
              "Resource": "acs:oss:*:1:b/*"}
    assert ("security-warning", "public-principal") in _codes(bucket, kind=PolicyKind.RESOURCE)
    anyone = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "*"}}
    assert ("security-warning", "public-principal") in _codes(anyone, kind=PolicyKind.TRUST)


LEAST_PRIVILEGE = [
    _allow(Action=["oss:GetObject", "oss:PutObject"], Resource="acs:oss:*:*:app-logs/*",
           Condition={"Bool": {"acs:SecureTransport": "true"}}),
    _allow(Action="ram:CreateAccessKey", Resource="acs:ram:*:123:user/alice"),
    _allow(Action="sts:AssumeRole", Resource="acs:ram:*:123:role/backup"),
    {"Effect": "Deny", "NotAction": "ram:*", "Resource": "*",
     "Condition": {"Bool": {"acs:MFAPresent": "false"}}},
]


def test_least_privilege_policy_is_clean() -> None:
    assert _codes(*LEAST_PRIVILEGE) == set()


def test_validator_never_raises_on_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "ram").rglob("*.json")):
        kind = PolicyKind.TRUST if path.parent.name == "trust" else (
            PolicyKind.RESOURCE if path.parent.name == "bucket_policies" else PolicyKind.IDENTITY)
        diagnostics = validate_policy(path.read_text(), kind=kind, max_chars=None,
                                      known_services=SERVICES)
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        # The only documents with errors are those whose source masks a value.
        assert not errors or "XX" in path.read_text(), (path, errors)
