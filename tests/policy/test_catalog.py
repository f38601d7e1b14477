"""The built-in system policies parse, validate without errors, and behave as named."""

from __future__ import annotations

import pytest

from ramparts.policy import AccessRequest, PolicySet, Severity, authorize, validate_policy
from ramparts.policy.catalog import Catalog

CATALOG = Catalog()


def test_common_system_policies_are_present() -> None:
    names = set(CATALOG.system_policies)
    for name in ("AdministratorAccess", "ReadOnlyAccess", "AliyunRAMFullAccess",
                 "AliyunSTSAssumeRoleAccess", "AliyunKMSFullAccess", "AliyunECSReadOnlyAccess",
                 "AliyunActionTrailFullAccess", "AliyunOSSReadOnlyAccess"):
        assert name in names


@pytest.mark.parametrize("name", sorted(CATALOG.system_policies))
def test_system_policy_has_no_errors(name: str) -> None:
    policy = CATALOG.system_policies[name]
    assert policy.origin in ("public", "reconstructed")
    errors = [d for d in validate_policy(policy.text, max_chars=None,
                                         known_services=CATALOG.service_codes)
              if d.severity is Severity.ERROR]
    assert errors == []


def test_names_are_case_insensitive() -> None:
    assert CATALOG.system_policy("administratoraccess") is not None
    assert CATALOG.system_policy("NoSuchPolicy") is None


@pytest.mark.parametrize(
    ("name", "action", "allowed"),
    [
        ("AdministratorAccess", "ram:CreateUser", True),
        ("ReadOnlyAccess", "ecs:DescribeInstances", True),
        ("ReadOnlyAccess", "ecs:DeleteInstance", False),
        ("ReadOnlyAccess", "kms:GetSecretValue", False),
        ("AliyunRAMReadOnlyAccess", "ram:ListUsers", True),
        ("AliyunRAMReadOnlyAccess", "ram:CreateUser", False),
        ("AliyunKMSCryptoUserAccess", "kms:Decrypt", True),
        ("AliyunKMSCryptoUserAccess", "kms:ScheduleKeyDeletion", False),
    ],
)
def test_system_policy_grants(name: str, action: str, allowed: bool) -> None:
    system = CATALOG.system_policy(name)
    assert system is not None
    request = AccessRequest(action, "acs:ecs:cn-hangzhou:1:instance/i-1")
    assert authorize(request, PolicySet([system.compiled])).allowed is allowed


def test_service_codes_cover_the_core_products() -> None:
    assert {"ecs", "vpc", "rds", "slb", "oss", "kms", "ram", "sts", "actiontrail"} <= \
        CATALOG.service_codes
