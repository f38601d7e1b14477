"""The operator table, one test per row: every operator, absent keys, qualifiers, bad values."""

from __future__ import annotations

import pytest

from ramparts.policy import AccessRequest
from ramparts.policy.conditions import OPERATORS, CompiledCondition, Outcome
from ramparts.policy.document import Condition

ABSENT = None
MET, FAILED, ERROR = Outcome.MET, Outcome.FAILED, Outcome.ERROR

# (operator, key, policy values, request value(s) or ABSENT, expected outcome)
TABLE: list[tuple[str, str, list[str], str | list[str] | None, Outcome]] = [
    # String: case-sensitive equality, values OR'd
    ("StringEquals", "acs:UserAgent", ["java-sdk"], "java-sdk", MET),
    ("StringEquals", "acs:UserAgent", ["java-sdk"], "Java-SDK", FAILED),
    ("StringEquals", "acs:UserAgent", ["a", "b"], "b", MET),
    ("StringEquals", "acs:UserAgent", ["java-sdk"], ABSENT, FAILED),
    ("StringNotEquals", "acs:UserAgent", ["java-sdk"], "go-sdk", MET),
    ("StringNotEquals", "acs:UserAgent", ["java-sdk"], "java-sdk", FAILED),
    ("StringNotEquals", "acs:UserAgent", ["a", "b"], "b", FAILED),
    ("StringNotEquals", "acs:UserAgent", ["java-sdk"], ABSENT, MET),
    ("StringEqualsIgnoreCase", "acs:UserAgent", ["Java-SDK"], "java-sdk", MET),
    ("StringEqualsIgnoreCase", "acs:UserAgent", ["java"], "java-sdk", FAILED),
    ("StringEqualsIgnoreCase", "acs:UserAgent", ["java"], ABSENT, FAILED),
    ("StringNotEqualsIgnoreCase", "acs:UserAgent", ["JAVA"], "java", FAILED),
    ("StringNotEqualsIgnoreCase", "acs:UserAgent", ["JAVA"], "go", MET),
    ("StringNotEqualsIgnoreCase", "acs:UserAgent", ["JAVA"], ABSENT, MET),
    ("StringLike", "oss:Prefix", ["hangzhou/2014/*"], "hangzhou/2014/a.jpg", MET),
    ("StringLike", "oss:Prefix", ["hangzhou/2014/*"], "hangzhou/2014/", MET),
    ("StringLike", "oss:Prefix", ["hangzhou/201?/"], "hangzhou/2015/", MET),
    ("StringLike", "oss:Prefix", ["hangzhou/201?/"], "hangzhou/20155/", FAILED),
    ("StringLike", "oss:Prefix", ["Hangzhou/*"], "hangzhou/a", FAILED),
    ("StringLike", "oss:Prefix", ["a*"], ABSENT, FAILED),
    ("StringNotLike", "oss:Prefix", ["Development/*", ""], "Marketing/", MET),
    ("StringNotLike", "oss:Prefix", ["Development/*", ""], "", FAILED),
    ("StringNotLike", "oss:Prefix", ["Development/*", ""], "Development/x", FAILED),
    ("StringNotLike", "oss:Prefix", ["Development/*"], ABSENT, MET),
    # Numeric
    ("NumericEquals", "kms:Len", ["10"], "10.0", MET),
    ("NumericEquals", "kms:Len", ["10"], "11", FAILED),
    ("NumericNotEquals", "kms:Len", ["10"], "11", MET),
    ("NumericNotEquals", "kms:Len", ["10"], "10", FAILED),
    ("NumericNotEquals", "kms:Len", ["10"], ABSENT, MET),
    ("NumericLessThan", "kms:Len", ["10"], "9", MET),
    ("NumericLessThan", "kms:Len", ["10"], "10", FAILED),
    ("NumericLessThanEquals", "kms:Len", ["10"], "10", MET),
    ("NumericLessThanEquals", "kms:Len", ["10"], "11", FAILED),
    ("NumericGreaterThan", "kms:Len", ["10"], "11", MET),
    ("NumericGreaterThan", "kms:Len", ["10"], "10", FAILED),
    ("NumericGreaterThanEquals", "kms:Len", ["10"], "10", MET),
    ("NumericGreaterThanEquals", "kms:Len", ["10"], "9", FAILED),
    ("NumericGreaterThan", "kms:Len", ["10"], ABSENT, FAILED),
    ("NumericEquals", "kms:Len", ["10"], "ten", ERROR),
    ("NumericEquals", "kms:Len", ["ten"], "10", ERROR),
    # Date (ISO 8601, offsets honoured)
    ("DateEquals", "acs:CurrentTime", ["2019-08-12T17:00:00+08:00"], "2019-08-12T09:00:00Z", MET),
    ("DateEquals", "acs:CurrentTime", ["2019-08-12T17:00:00+08:00"], "2019-08-12T17:00:00Z",
     FAILED),
    ("DateNotEquals", "acs:CurrentTime", ["2019-08-12T09:00:00Z"], "2019-08-12T09:00:01Z", MET),
    ("DateNotEquals", "acs:CurrentTime", ["2019-08-12T09:00:00Z"], ABSENT, MET),
    ("DateLessThan", "acs:CurrentTime", ["2019-08-12T17:00:00+08:00"], "2019-08-12T08:59:59Z",
     MET),
    ("DateLessThan", "acs:CurrentTime", ["2019-08-12T17:00:00+08:00"], "2019-08-12T09:00:00Z",
     FAILED),
    ("DateLessThanEquals", "acs:CurrentTime", ["2019-08-12T09:00:00Z"], "2019-08-12T09:00:00Z",
     MET),
    ("DateGreaterThan", "acs:CurrentTime", ["2019-08-12"], "2019-08-12T00:00:01Z", MET),
    ("DateGreaterThan", "acs:CurrentTime", ["2019-08-12"], "2019-08-12T00:00:00Z", FAILED),
    ("DateGreaterThanEquals", "acs:CurrentTime", ["2019-08-12"], "2019-08-12T00:00:00Z", MET),
    ("DateGreaterThanEquals", "acs:CurrentTime", ["2019-08-12"], "2019-08-11T23:59:59Z", FAILED),
    ("DateLessThan", "acs:CurrentTime", ["2019-08-12"], ABSENT, FAILED),
    ("DateLessThan", "acs:CurrentTime", ["2019-08-12"], "yesterday", ERROR),
    ("DateLessThan", "acs:CurrentTime", ["soon"], "2019-08-12", ERROR),
    # Bool
    ("Bool", "acs:SecureTransport", ["true"], "true", MET),
    ("Bool", "acs:SecureTransport", ["true"], "True", MET),
    ("Bool", "acs:SecureTransport", ["true"], "false", FAILED),
    ("Bool", "acs:MFAPresent", ["false"], "false", MET),
    ("Bool", "acs:MFAPresent", ["true"], ABSENT, FAILED),
    ("Bool", "acs:MFAPresent", ["true"], "yes", ERROR),
    ("Bool", "acs:MFAPresent", ["maybe"], "true", ERROR),
    # IP address: CIDR or single address, IPv4 and IPv6
    ("IpAddress", "acs:SourceIp", ["192.168.0.0/16"], "192.168.10.20", MET),
    ("IpAddress", "acs:SourceIp", ["192.168.0.0/16"], "10.0.0.1", FAILED),
    ("IpAddress", "acs:SourceIp", ["192.0.2.0/24", "203.0.113.2"], "203.0.113.2", MET),
    ("IpAddress", "acs:SourceIp", ["203.0.113.2"], "203.0.113.3", FAILED),
    ("IpAddress", "acs:SourceIp", ["2001:db8::/32"], "2001:db8::1", MET),
    ("IpAddress", "acs:SourceIp", ["2001:db8::/32"], "2001:db9::1", FAILED),
    ("IpAddress", "acs:SourceIp", ["192.168.0.0/16"], "::ffff:192.168.1.1", MET),
    ("IpAddress", "acs:SourceIp", ["192.168.0.0/16"], "2001:db8::1", FAILED),
    ("IpAddress", "acs:SourceIp", ["192.168.0.0/16"], ABSENT, FAILED),
    ("IpAddress", "acs:SourceIp", ["192.168.0.0/16"], "not-an-ip", ERROR),
    ("IpAddress", "acs:SourceIp", ["42.120.XX.X/24"], "42.120.1.1", ERROR),
    ("NotIpAddress", "acs:SourceIp", ["192.168.0.0/16"], "10.0.0.1", MET),
    ("NotIpAddress", "acs:SourceIp", ["192.168.0.0/16"], "192.168.3.3", FAILED),
    ("NotIpAddress", "acs:SourceIp", ["192.168.0.0/16"], ABSENT, MET),
    ("NotIpAddress", "acs:SourceIp", ["2001:db8::/32"], "2001:db8::5", FAILED),
    # Set qualifiers over multi-valued keys
    ("ForAnyValue:StringEquals", "acs:TagKeys", ["a", "b"], ["x", "b"], MET),
    ("ForAnyValue:StringEquals", "acs:TagKeys", ["a", "b"], ["x", "y"], FAILED),
    ("ForAnyValue:StringEquals", "acs:TagKeys", ["a"], ABSENT, FAILED),
    ("ForAllValues:StringEquals", "acs:TagKeys", ["a", "b"], ["a", "b"], MET),
    ("ForAllValues:StringEquals", "acs:TagKeys", ["a", "b"], ["a", "c"], FAILED),
    ("ForAllValues:StringEquals", "acs:TagKeys", ["a"], ABSENT, MET),
    ("ForAllValues:StringNotEquals", "acs:TagKeys", ["a"], ["b", "c"], MET),
    ("ForAllValues:StringNotEquals", "acs:TagKeys", ["a"], ["a", "c"], FAILED),
    # Plain operators over a multi-valued key: any request value may match
    ("StringEquals", "acs:TagKeys", ["a"], ["x", "a"], MET),
    ("StringNotEquals", "acs:TagKeys", ["a"], ["x", "a"], FAILED),
    # Unknown operators and qualifiers are never decided
    ("StringEqualsIfExists", "acs:UserAgent", ["x"], "x", ERROR),
    ("stringequals", "acs:UserAgent", ["x"], "x", ERROR),
    ("Sometimes:StringEquals", "acs:UserAgent", ["x"], "x", ERROR),
    ("StringEqualsIfExists", "acs:UserAgent", ["x"], ABSENT, ERROR),
]


@pytest.mark.parametrize(
    ("operator", "key", "values", "request_value", "expected"),
    TABLE,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(TABLE)],
)
def test_operator_row(
    operator: str,
    key: str,
    values: list[str],
    request_value: str | list[str] | None,
    expected: Outcome,
) -> None:
    condition = CompiledCondition(Condition(operator, key, tuple(values), "Condition"))
    context = {} if request_value is None else {key: request_value}
    request = AccessRequest("ecs:X", "*", context)
    assert condition.evaluate(request) is expected
    assert condition.evaluate(request) is expected  # a second read comes from the cache


def test_every_documented_operator_has_rows() -> None:
    tested = {row[0].rpartition(":")[2] for row in TABLE}
    assert set(OPERATORS) <= tested
    assert len(OPERATORS) == 21  # 6 String, 6 Numeric, 6 Date, Bool, IpAddress, NotIpAddress


def test_key_names_are_case_insensitive() -> None:
    condition = CompiledCondition(Condition("IpAddress", "ACS:sourceIP", ("10.0.0.0/8",), "c"))
    assert condition.evaluate(AccessRequest("ecs:X", "*", {"Acs:SourceIP": "10.1.2.3"})) \
        is Outcome.MET


@pytest.mark.parametrize(
    ("request_value", "fragment"),
    [(None, "absent from the request"), ("10.0.0.1", "failed for 10.0.0.1"),
     ("nonsense", "not a valid IpAddress value")],
)
def test_failures_are_described(request_value: str | None, fragment: str) -> None:
    condition = CompiledCondition(
        Condition("IpAddress", "acs:SourceIp", ("192.168.0.0/16",), "c")
    )
    context = {} if request_value is None else {"acs:SourceIp": request_value}
    description = condition.describe_failure(AccessRequest("ecs:X", "*", context))
    assert fragment in description
    assert "IpAddress" in description
    assert "192.168.0.0/16" in description
