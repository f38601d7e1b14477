"""Parsing: the accepted shapes, and every rejection naming its JSON path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ramparts.policy import PolicyKind, PolicyParseError, parse_policy
from ramparts.policy.document import Effect
from ramparts.policy.parser import MAX_CHARS, read_policy


def _doc(*statements: Any, version: Any = "1") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def test_string_or_list_values_and_conditions() -> None:
    document = parse_policy(_doc({
        "Effect": "Allow", "Action": "ecs:Describe*", "Resource": ["*"], "Sid": "read",
        "Condition": {"Bool": {"acs:SecureTransport": True},
                      "NumericLessThan": {"kms:Len": 5}},
    }))
    statement = document.statements[0]
    assert statement.effect is Effect.ALLOW
    assert statement.actions == ("ecs:Describe*",)
    assert statement.resources == ("*",)
    assert statement.sid == "read"
    assert [(c.operator, c.key, c.values) for c in statement.conditions] == [
        ("Bool", "acs:SecureTransport", ("true",)), ("NumericLessThan", "kms:Len", ("5",))]
    assert statement.conditions[0].path == "Statement[0].Condition.Bool.acs:SecureTransport"


def test_trust_policy_needs_no_resource_but_a_principal() -> None:
    document = parse_policy(
        _doc({"Effect": "Allow", "Action": "sts:AssumeRole",
              "Principal": {"Service": ["ecs.aliyuncs.com"]}}),
        kind=PolicyKind.TRUST,
    )
    assert document.statements[0].resources is None
    principals = document.statements[0].principals
    assert principals is not None
    assert [(p.kind, p.value) for p in principals] == [("Service", "ecs.aliyuncs.com")]


REJECTIONS: list[tuple[str, PolicyKind, str, str]] = [
    ("[]", PolicyKind.IDENTITY, "$", "not-object"),
    ("{", PolicyKind.IDENTITY, "$", "not-json"),
    ('{"Version": "1", "Version": "1", "Statement": []}', PolicyKind.IDENTITY, "$",
     "duplicate-key"),
    ('{"Version": "1", "Statement": [], "X": 1}', PolicyKind.IDENTITY, "X", "unknown-element"),
    ('{"Statement": []}', PolicyKind.IDENTITY, "Version", "missing-version"),
    ('{"Version": "2", "Statement": []}', PolicyKind.IDENTITY, "Version", "invalid-version"),
    ('{"Version": 1, "Statement": []}', PolicyKind.IDENTITY, "Version", "invalid-version"),
    ('{"Version": "1"}', PolicyKind.IDENTITY, "Statement", "missing-statement"),
    ('{"Version": "1", "Statement": {}}', PolicyKind.IDENTITY, "Statement", "wrong-type"),
    (_doc("x"), PolicyKind.IDENTITY, "Statement[0]", "wrong-type"),
    (_doc({"Action": "*", "Resource": "*"}), PolicyKind.IDENTITY, "Statement[0].Effect",
     "missing-effect"),
    (_doc({"Effect": "allow", "Action": "*", "Resource": "*"}), PolicyKind.IDENTITY,
     "Statement[0].Effect", "invalid-effect"),
    (_doc({"Effect": "Allow", "Resource": "*"}), PolicyKind.IDENTITY, "Statement[0].Action",
     "missing-action"),
    (_doc({"Effect": "Allow", "Action": "*"}), PolicyKind.IDENTITY, "Statement[0].Resource",
     "missing-resource"),
    (_doc({"Effect": "Allow", "Action": "*", "NotAction": "x:y", "Resource": "*"}),
     PolicyKind.IDENTITY, "Statement[0].NotAction", "conflicting-elements"),
    (_doc({"Effect": "Allow", "Action": [], "Resource": "*"}), PolicyKind.IDENTITY,
     "Statement[0].Action", "empty-list"),
    (_doc({"Effect": "Allow", "Action": ["ecs:A", 3], "Resource": "*"}), PolicyKind.IDENTITY,
     "Statement[0].Action[1]", "wrong-type"),
    (_doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": {"RAM": "*"}}),
     PolicyKind.IDENTITY, "Statement[0].Principal", "unexpected-principal"),
    (_doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), PolicyKind.TRUST,
     "Statement[0].Principal", "missing-principal"),
    (_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Aws": "x"}}),
     PolicyKind.TRUST, "Statement[0].Principal.Aws", "invalid-principal-type"),
    (_doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": []}),
     PolicyKind.IDENTITY, "Statement[0].Condition", "wrong-type"),
    (_doc({"Effect": "Allow", "Action": "*", "Resource": "*",
           "Condition": {"IpAddress": "10.0.0.0/8"}}),
     PolicyKind.IDENTITY, "Statement[0].Condition.IpAddress", "wrong-type"),
    (_doc({"Effect": "Allow", "Action": "*", "Resource": "*",
           "Condition": {"IpAddress": {"acs:SourceIp": {"cidr": "10.0.0.0/8"}}}}),
     PolicyKind.IDENTITY, "Statement[0].Condition.IpAddress.acs:SourceIp", "wrong-type"),
    (_doc({"Effect": "Allow", "Action": "*", "Resource": "*",
           "Condition": {"IpAddress": {"acs:SourceIp": []}}}),
     PolicyKind.IDENTITY, "Statement[0].Condition.IpAddress.acs:SourceIp", "empty-list"),
    ('{"Version": "1", "Statement": [NaN]}', PolicyKind.IDENTITY, "$", "not-json"),
]


@pytest.mark.parametrize(("text", "kind", "path", "code"), REJECTIONS)
def test_rejections_name_their_path(text: str, kind: PolicyKind, path: str, code: str) -> None:
    with pytest.raises(PolicyParseError) as caught:
        parse_policy(text, kind=kind)
    assert (caught.value.problems[0].path, caught.value.problems[0].code) == (path, code)
    assert path in str(caught.value)


def test_all_problems_are_reported_at_once() -> None:
    _, problems = read_policy(_doc({"Effect": "Maybe", "Action": 1, "Resource": "*"},
                                   {"Effect": "Allow", "Action": "*"}))
    assert [p.path for p in problems] == [
        "Statement[0].Effect", "Statement[0].Action", "Statement[1].Resource"]


def test_document_size_limit() -> None:
    big = _doc({"Effect": "Allow", "Action": ["ecs:Describe" + "x" * 50] * 200, "Resource": "*"})
    assert len(big) > MAX_CHARS[PolicyKind.IDENTITY]
    with pytest.raises(PolicyParseError, match="at most 6144"):
        parse_policy(big, max_chars=MAX_CHARS[PolicyKind.IDENTITY])
    assert parse_policy(big).statements


def test_bytes_that_are_not_utf8() -> None:
    with pytest.raises(PolicyParseError, match="UTF-8"):
        parse_policy(b"\xff\xfe{}")


def test_deep_nesting_is_a_parse_error() -> None:
    with pytest.raises(PolicyParseError):
        parse_policy("[" * 100000 + "]" * 100000)
