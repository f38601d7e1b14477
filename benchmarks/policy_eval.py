"""Benchmark RAM policy decisions per second, with cedarpy on an equivalent policy set."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import platform
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from itertools import cycle, islice
from time import perf_counter
from types import MappingProxyType
from typing import Any, TypeVar

from ramparts.policy import (
    AccessRequest,
    CompiledPolicy,
    DecisionEffect,
    PolicyCache,
    PolicyDocument,
    PolicySet,
    PolicySource,
    PolicyType,
    authorize,
    compile_policy,
    parse_policy,
)

Json = dict[str, Any]
T = TypeVar("T")
Condition = tuple[str, str, tuple[str, ...]]

ACCOUNT = "1234567890123456"
OTHER_ACCOUNT = "9876543210987654"
DEFAULT_N = 200_000
QUICK_N = 20_000
POOL_SIZE = 200
POOL_SEED = 20_240_601
ACCOUNT_LARGE = 10_000
ACCOUNT_SMALL = 100
ATTACHED = tuple(range(0, ACCOUNT_SMALL, ACCOUNT_SMALL // 20))  # 20 policies in both accounts
TARGET_RATE_B = 250_000
TARGET_RATIO = 10.0

CORP = "192.168.0.0/16"
CONTRACTOR_NET = "192.168.10.0/24"
VPC_NET = "10.0.0.0/8"
BLOCKED_NET = "203.0.113.0/24"
DEADLINE = "2030-01-01T00:00:00Z"

ACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "ecs": ("ecs:DescribeInstances", "ecs:DescribeDisks", "ecs:DescribeSecurityGroups",
            "ecs:StartInstance", "ecs:StopInstance", "ecs:RebootInstance", "ecs:DeleteInstance",
            "ecs:CreateInstance", "ecs:ModifyInstanceAttribute", "ecs:CreateSnapshot",
            "ecs:DeleteSnapshot"),
    "oss": ("oss:GetObject", "oss:PutObject", "oss:DeleteObject", "oss:ListObjects",
            "oss:GetBucketAcl", "oss:PutBucketAcl", "oss:DeleteBucket"),
    "rds": ("rds:DescribeDBInstances", "rds:CreateDBInstance", "rds:DeleteDBInstance",
            "rds:ModifyDBInstanceSpec", "rds:CreateBackup", "rds:DescribeBackups",
            "rds:RestartDBInstance"),
    "kms": ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",
            "kms:ListKeys", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateKey"),
    "vpc": ("vpc:DescribeVpcs", "vpc:CreateVpc", "vpc:DeleteVpc", "vpc:DescribeVSwitches",
            "vpc:CreateVSwitch", "vpc:DeleteVSwitch", "vpc:AssociateEipAddress"),
    "ram": ("ram:ListUsers", "ram:GetUser", "ram:CreateUser", "ram:DeleteUser",
            "ram:AttachPolicyToUser", "ram:CreateAccessKey", "ram:ListPolicies"),
    "sls": ("sls:GetLogs", "sls:PutLogs"),  # no policy names sls: always an implicit deny
})
SERVICE_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {"ecs": 6, "oss": 5, "rds": 4, "kms": 4, "vpc": 3, "ram": 3, "sls": 1}
)

# (ARN, tags); tags reach RAM as `<service>:tag/<key>` condition keys, Cedar as resource.tags.
RESOURCES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (f"acs:ecs:cn-hangzhou:{ACCOUNT}:instance/i-dev001", (("team", "dev"), ("env", "dev"))),
    (f"acs:ecs:cn-shanghai:{ACCOUNT}:instance/i-qa002", (("team", "qa"), ("env", "test"))),
    (f"acs:ecs:cn-hangzhou:{ACCOUNT}:instance/i-prod003", (("team", "ops"), ("env", "prod"))),
    (f"acs:ecs:eu-central-1:{ACCOUNT}:instance/i-prod004",
     (("team", "dev"), ("env", "prod-eu"))),
    (f"acs:ecs:cn-hangzhou:{ACCOUNT}:disk/d-001", (("team", "dev"),)),
    (f"acs:ecs:cn-hangzhou:{ACCOUNT}:snapshot/s-001", ()),
    (f"acs:ecs:cn-hangzhou:{ACCOUNT}:securitygroup/sg-001", ()),
    (f"acs:ecs:cn-hangzhou:{OTHER_ACCOUNT}:instance/i-ext001", (("team", "dev"),)),
    (f"acs:oss:*:{ACCOUNT}:app-data", ()),
    (f"acs:oss:*:{ACCOUNT}:app-data/uploads/a.csv", ()),
    (f"acs:oss:*:{ACCOUNT}:app-data/reports/q1.pdf", ()),
    (f"acs:oss:*:{ACCOUNT}:public-assets/logo.png", ()),
    (f"acs:oss:*:{ACCOUNT}:dev-sandbox/tmp/x.bin", ()),
    (f"acs:oss:*:{ACCOUNT}:contractor-drop/in/file.zip", ()),
    (f"acs:oss:*:{ACCOUNT}:audit-logs/2026/01.log", ()),
    (f"acs:oss:*:{ACCOUNT}:finance/private/payroll.xlsx", ()),
    (f"acs:oss:*:{ACCOUNT}:finance/reports/fy.pdf", ()),
    (f"acs:rds:cn-hangzhou:{ACCOUNT}:dbinstance/rm-dev01", (("team", "dev"), ("env", "dev"))),
    (f"acs:rds:cn-hangzhou:{ACCOUNT}:dbinstance/rm-prod01",
     (("team", "ops"), ("env", "prod"))),
    (f"acs:rds:cn-shanghai:{ACCOUNT}:dbinstance/rm-test01",
     (("team", "contractor"), ("env", "test"))),
    (f"acs:rds:cn-hangzhou:{ACCOUNT}:dbinstance/pg-legacy",
     (("team", "dev"), ("env", "test-legacy"))),
    (f"acs:kms:cn-hangzhou:{ACCOUNT}:key/k-dev", (("team", "dev"), ("classification", "internal"))),
    (f"acs:kms:cn-hangzhou:{ACCOUNT}:key/k-secret",
     (("team", "sec"), ("classification", "restricted"))),
    (f"acs:kms:eu-central-1:{ACCOUNT}:key/k-shared", ()),
    (f"acs:vpc:cn-hangzhou:{ACCOUNT}:vpc/vpc-net-01", ()),
    (f"acs:vpc:cn-hangzhou:{ACCOUNT}:vswitch/vsw-01", ()),
    (f"acs:vpc:cn-hangzhou:{ACCOUNT}:eip/eip-01", ()),
    (f"acs:vpc:cn-beijing:{ACCOUNT}:vpc/vpc-prod", ()),
    (f"acs:ram::{ACCOUNT}:user/alice", ()),
    (f"acs:ram::{ACCOUNT}:user/svc-backup", ()),
    (f"acs:ram::{ACCOUNT}:role/admin", ()),
    (f"acs:sls:cn-hangzhou:{ACCOUNT}:project/logs/logstore/app", ()),
)

SOURCE_IPS = ("192.168.1.5", "192.168.10.20", "10.1.2.3", "203.0.113.7", "198.51.100.9")
TIMES = ("2026-03-01T08:00:00Z", "2027-11-15T17:30:00Z", "2028-05-20T23:59:59Z",
         "2031-06-01T00:00:00Z")
SOURCE_VPCS = ("vpc-net-01", "vpc-dev-02", "vpc-prod-03", "vpc-test-04")


@dataclass(frozen=True, slots=True)
class StatementSpec:
    """One RAM statement, written compactly; rendered to JSON for the RAM engine."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()


def _allow(actions: tuple[str, ...], resources: tuple[str, ...],
           *conditions: Condition) -> StatementSpec:
    return StatementSpec("Allow", actions, resources, conditions)


def _deny(actions: tuple[str, ...], resources: tuple[str, ...],
          *conditions: Condition) -> StatementSpec:
    return StatementSpec("Deny", actions, resources, conditions)


def _ip(*networks: str) -> Condition:
    return ("IpAddress", "acs:SourceIp", networks)


def _not_ip(*networks: str) -> Condition:
    return ("NotIpAddress", "acs:SourceIp", networks)


def _secure(value: str = "true") -> Condition:
    return ("Bool", "acs:SecureTransport", (value,))


def _mfa(value: str = "true") -> Condition:
    return ("Bool", "acs:MFAPresent", (value,))


def _before_deadline() -> Condition:
    return ("DateLessThan", "acs:CurrentTime", (DEADLINE,))


def _tag(service: str, key: str, *values: str, like: bool = False) -> Condition:
    return ("StringLike" if like else "StringEquals", f"{service}:tag/{key}", values)


def _vpc_like(*patterns: str) -> Condition:
    return ("StringLike", "acs:SourceVpc", patterns)


def _arn(service: str, region: str, relative: str, account: str = ACCOUNT) -> str:
    return f"acs:{service}:{region}:{account}:{relative}"


ANY = ("*",)

# Scenario (b): ten policies, fifty statements, six services, mixed Allow and Deny.
POLICIES_B: tuple[tuple[str, tuple[StatementSpec, ...]], ...] = (
    ("EcsOperator", (
        _allow(("ecs:Describe*",), (_arn("ecs", "*", "*"),)),
        _allow(("ecs:StartInstance", "ecs:StopInstance", "ecs:RebootInstance"),
               (_arn("ecs", "cn-*", "instance/*"),),
               _tag("ecs", "team", "dev", "qa"), _ip(CORP, VPC_NET)),
        _allow(("ecs:CreateSnapshot", "ecs:DeleteSnapshot"),
               (_arn("ecs", "*", "snapshot/*"), _arn("ecs", "*", "disk/*")), _secure()),
        _deny(("ecs:DeleteInstance",), ANY, _tag("ecs", "env", "prod")),
        _allow(("ecs:ModifyInstanceAttribute", "ecs:CreateInstance"),
               (_arn("ecs", "cn-hangzhou", "*"),), _before_deadline(), _ip(CORP)),
    )),
    ("OssAppData", (
        _allow(("oss:GetObject", "oss:ListObjects"),
               (_arn("oss", "*", "app-data"), _arn("oss", "*", "app-data/*"))),
        _allow(("oss:PutObject",), (_arn("oss", "*", "app-data/uploads/*"),), _secure()),
        _deny(("oss:DeleteObject", "oss:DeleteBucket"), (_arn("oss", "*", "app-data*"),)),
        _allow(("oss:Get*", "oss:List*"), (_arn("oss", "*", "public-assets/*"),)),
        _deny(("oss:PutBucketAcl",), ANY),
    )),
    ("RdsDba", (
        _allow(("rds:Describe*",), (_arn("rds", "*", "dbinstance/*"),)),
        _allow(("rds:CreateBackup", "rds:RestartDBInstance"),
               (_arn("rds", "cn-hangzhou", "dbinstance/rm-*"),), _ip(VPC_NET), _mfa()),
        _deny(("rds:DeleteDBInstance",), (_arn("rds", "*", "dbinstance/*"),)),
        _allow(("rds:ModifyDBInstanceSpec",), (_arn("rds", "*", "dbinstance/*"),),
               _tag("rds", "team", "dev"), _before_deadline()),
        _deny(("rds:*",), ANY, _not_ip(CORP, VPC_NET)),
    )),
    ("KmsCrypto", (
        _allow(("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
               (_arn("kms", "cn-*", "key/*"),), _secure()),
        _allow(("kms:DescribeKey", "kms:ListKeys"), ANY),
        _deny(("kms:ScheduleKeyDeletion", "kms:DisableKey"), ANY),
        _deny(("kms:*",), ANY, _secure("false")),
        _allow(("kms:CreateKey",), ANY, _before_deadline(), _mfa()),
    )),
    ("VpcNetwork", (
        _allow(("vpc:Describe*",), ANY),
        _allow(("vpc:CreateVSwitch", "vpc:DeleteVSwitch"),
               (_arn("vpc", "*", "vswitch/*"), _arn("vpc", "*", "vpc/*")), _vpc_like("vpc-net*")),
        _deny(("vpc:DeleteVpc", "vpc:CreateVpc"), ANY, _not_ip(CORP)),
        _allow(("vpc:CreateVpc",), ANY, _ip(CORP), _mfa()),
        _allow(("vpc:AssociateEipAddress",), (_arn("vpc", "cn-hangzhou", "eip/*"),)),
    )),
    ("RamReadOnly", (
        _allow(("ram:Get*", "ram:List*"), ANY),
        _deny(("ram:CreateAccessKey",), (_arn("ram", "*", "user/*"),), _mfa("false")),
        _allow(("ram:CreateAccessKey",), (_arn("ram", "*", "user/svc-*"),), _secure()),
        _deny(("ram:DeleteUser", "ram:AttachPolicyToUser"), ANY),
        _allow(("ram:CreateUser",), (_arn("ram", "*", "user/*"),),
               _ip(CORP), _before_deadline(), _mfa()),
    )),
    ("TagBasedDev", (
        _allow(("ecs:*",), (_arn("ecs", "*", "instance/*"),),
               _tag("ecs", "team", "dev"), _tag("ecs", "env", "dev*", like=True)),
        _allow(("rds:*",), (_arn("rds", "*", "dbinstance/*"),),
               _tag("rds", "team", "dev"), _tag("rds", "env", "dev*", "test*", like=True)),
        _deny(("ecs:*", "rds:*"), ANY, _tag("ecs", "env", "prod*", like=True)),
        _allow(("oss:PutObject", "oss:DeleteObject"), (_arn("oss", "*", "dev-*/*"),), _ip(CORP)),
        _allow(("kms:Encrypt", "kms:Decrypt"), ANY, _tag("kms", "team", "dev")),
    )),
    ("SecurityGuardrails", (
        _deny(("ecs:Delete*", "rds:Delete*", "vpc:Delete*", "oss:DeleteBucket"), ANY,
              _not_ip(CORP)),
        _deny(("ram:Create*", "ram:Attach*"), ANY, _mfa("false")),
        _deny(("kms:*",), (_arn("kms", "*", "key/*"),),
              _tag("kms", "classification", "restricted")),
        _deny(("ecs:*",), ("acs:ecs:*:*:*",), _ip(BLOCKED_NET)),
        _deny(("oss:*",), (_arn("oss", "*", "audit-logs/*"),)),
    )),
    ("CrossServiceReader", (
        _allow(("ecs:DescribeInstances", "rds:DescribeDBInstances", "vpc:DescribeVpcs",
                "kms:ListKeys"), ANY, _before_deadline()),
        _allow(("oss:GetObject",), (_arn("oss", "*", "*/reports/*"),), _vpc_like("vpc-*")),
        _allow(("oss:ListObjects",), (_arn("oss", "*", "*"),), _ip(CORP)),
        _deny(("oss:GetObject",), (_arn("oss", "*", "*/private/*"),)),
        _allow(("rds:DescribeBackups", "ecs:DescribeDisks"), ANY, _secure()),
    )),
    ("TimeBoxedContractor", (
        _allow(("ecs:StartInstance", "ecs:StopInstance"),
               (_arn("ecs", "cn-shanghai", "instance/*"),), _before_deadline(),
               _ip(CONTRACTOR_NET)),
        _allow(("oss:PutObject",), (_arn("oss", "*", "contractor-drop/*"),),
               _before_deadline(), _secure()),
        _allow(("rds:CreateBackup",), ANY, _tag("rds", "team", "contractor")),
        _deny(("ecs:*", "oss:*", "rds:*"), ANY,
              ("DateGreaterThanEquals", "acs:CurrentTime", (DEADLINE,))),
        _allow(("vpc:DescribeVSwitches",), ANY, _vpc_like("vpc-dev*", "vpc-test*")),
    )),
)

# Scenario (a): one policy with a few statements.
POLICY_A: tuple[str, tuple[StatementSpec, ...]] = ("DeveloperBasics", (
    _allow(("ecs:Describe*", "rds:Describe*", "vpc:Describe*"), ANY),
    _allow(("oss:GetObject", "oss:PutObject"), (_arn("oss", "*", "app-data/*"),), _secure()),
    _deny(("ecs:DeleteInstance", "rds:DeleteDBInstance"), ANY),
    _allow(("kms:Decrypt",), (_arn("kms", "cn-*", "key/*"),), _ip(CORP, VPC_NET)),
))

# Condition menu for the generated policies of scenario (c).
GENERATED_CONDITIONS: tuple[Condition, ...] = (
    _ip(CORP), _ip(VPC_NET), _secure(), _mfa(), _before_deadline(),
    _tag("ecs", "team", "dev"), _tag("rds", "env", "dev*", like=True), _vpc_like("vpc-dev*"),
)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request of the pool: action, resource (with its tags) and environment keys."""

    action: str
    arn: str
    tags: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]

    @property
    def service(self) -> str:
        return self.arn.split(":")[1]


def _random_env(rng: random.Random) -> tuple[tuple[str, str], ...]:
    env = [
        ("acs:SourceIp", rng.choice(SOURCE_IPS)),
        ("acs:SecureTransport", "true" if rng.random() < 0.7 else "false"),
        ("acs:CurrentTime", rng.choice(TIMES)),
    ]
    mfa = rng.random()
    if mfa < 0.8:
        env.append(("acs:MFAPresent", "true" if mfa < 0.5 else "false"))
    if rng.random() < 0.4:
        env.append(("acs:SourceVpc", rng.choice(SOURCE_VPCS)))
    return tuple(env)


def request_pool(size: int, seed: int) -> tuple[RequestSpec, ...]:
    """A deterministic pool of varied requests over every service of the universe."""
    rng = random.Random(seed)
    services = list(SERVICE_WEIGHTS)
    weights = list(SERVICE_WEIGHTS.values())
    pool = []
    for _ in range(size):
        service = rng.choices(services, weights)[0]
        arn, tags = rng.choice([r for r in RESOURCES if r[0].split(":")[1] == service])
        pool.append(RequestSpec(rng.choice(ACTIONS[service]), arn, tags, _random_env(rng)))
    return tuple(pool)


def ramparts_context(spec: RequestSpec) -> dict[str, str]:
    context = dict(spec.env)
    context.update({f"{spec.service}:tag/{key}": value for key, value in spec.tags})
    return context


def ramparts_request(spec: RequestSpec) -> AccessRequest:
    return AccessRequest(spec.action, spec.arn, ramparts_context(spec))


# --------------------------------------------------------------------------- policies


def to_document(statements: Sequence[StatementSpec]) -> Json:
    """The RAM JSON document of a list of statement specs."""
    rendered = []
    for spec in statements:
        statement: Json = {"Effect": spec.effect, "Action": list(spec.actions),
                           "Resource": list(spec.resources)}
        block: dict[str, dict[str, list[str]]] = {}
        for operator, key, values in spec.conditions:
            block.setdefault(operator, {})[key] = list(values)
        if block:
            statement["Condition"] = block
        rendered.append(statement)
    return {"Version": "1", "Statement": rendered}


def compile_document(name: str, document: Json) -> CompiledPolicy:
    return compile_policy(parse_policy(document), PolicySource(name, "v1", PolicyType.CUSTOM))


def policy_set_of(named: Sequence[tuple[str, tuple[StatementSpec, ...]]]) -> PolicySet:
    return PolicySet([compile_document(name, to_document(specs)) for name, specs in named])


def _generated_statement(rng: random.Random) -> StatementSpec:
    service = rng.choice(("ecs", "oss", "rds", "kms", "vpc", "ram"))
    if rng.random() < 0.2:
        actions: tuple[str, ...] = (rng.choice((f"{service}:*", f"{service}:Describe*")),)
    else:
        actions = tuple(rng.sample(ACTIONS[service], rng.randint(1, 3)))
    arns = [arn for arn, _ in RESOURCES if arn.split(":")[1] == service]
    arn = rng.choice(arns)
    resource = rng.choice((arn, arn.rsplit("/", 1)[0] + "/*", f"acs:{service}:*:{ACCOUNT}:*"))
    conditions = tuple(rng.sample(GENERATED_CONDITIONS, rng.randint(0, 2)))
    effect = "Deny" if rng.random() < 0.25 else "Allow"
    return StatementSpec(effect, actions, (resource,), conditions)


def generated_policy(index: int) -> Json:
    """Custom policy number `index` of the account: the same content whatever the account size."""
    rng = random.Random(index)
    return to_document([_generated_statement(rng) for _ in range(rng.randint(2, 4))])


def policy_name(index: int) -> str:
    return f"custom-policy-{index:05d}"


def _source(index: int) -> PolicySource:
    return PolicySource(policy_name(index), "v1", PolicyType.CUSTOM)


def _never_loaded() -> PolicyDocument:
    raise AssertionError("every policy of the account is already compiled")


def _load_generated(index: int) -> PolicyDocument:
    return parse_policy(generated_policy(index))


def compile_account(size: int) -> PolicyCache:
    """Every custom policy of an account, compiled once into the cache a server keeps."""
    cache = PolicyCache(max_policies=size)
    for i in range(size):
        cache.policy(_source(i), partial(_load_generated, i))
    return cache


def attached_set(account: PolicyCache) -> PolicySet:
    """The principal's policy set, as a server assembles it per request: cache lookups."""
    return account.policy_set([account.policy(_source(i), _never_loaded) for i in ATTACHED])


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    decisions: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.decisions / self.seconds

    @property
    def micros(self) -> float:
        return self.seconds * 1e6 / self.decisions

    def as_json(self) -> Json:
        return {"scenario": self.scenario, "decisions": self.decisions,
                "seconds": round(self.seconds, 4), "decisions_per_s": round(self.per_second),
                "us_per_decision": round(self.micros, 3)}


def cycled(items: Sequence[T], n: int) -> list[T]:
    return list(islice(cycle(items), n))


def warmup_count(pool_size: int, n: int) -> int:
    return max(pool_size, n // 20)


RawRequest = tuple[str, str, dict[str, str]]


def raw_requests(pool: Sequence[RequestSpec]) -> list[RawRequest]:
    return [(spec.action, spec.arn, ramparts_context(spec)) for spec in pool]


def _timed_round(raw: Sequence[RawRequest], policy_set: PolicySet) -> float:
    """One pass over the pool with fresh AccessRequest objects; only `authorize` is timed."""
    requests = [AccessRequest(action, arn, context) for action, arn, context in raw]
    start = perf_counter()
    for request in requests:
        authorize(request, policy_set)
    return perf_counter() - start


def time_authorize(scenario: str, raw: Sequence[RawRequest], policy_set: PolicySet,
                   n: int) -> Result:
    """Decisions/s of `authorize`, each decision on a new request object built untimed.

    Fresh objects matter: a request caches its parsed condition values (IPs, dates), so
    deciding the same object again would measure a warm cache no server request has.
    """
    rounds = max(1, -(-n // len(raw)))
    for _ in range(max(1, rounds // 20)):
        _timed_round(raw, policy_set)
    elapsed = sum(_timed_round(raw, policy_set) for _ in range(rounds))
    return Result(scenario, rounds * len(raw), elapsed)


def time_build_and_authorize(scenario: str, raw: Sequence[RawRequest], policy_set: PolicySet,
                             n: int) -> Result:
    """As `time_authorize`, but each decision also builds its AccessRequest (as a server does)."""
    sequence = cycled(raw, n)
    for action, arn, context in sequence[: warmup_count(len(raw), n)]:
        authorize(AccessRequest(action, arn, context), policy_set)
    start = perf_counter()
    for action, arn, context in sequence:
        authorize(AccessRequest(action, arn, context), policy_set)
    return Result(scenario, n, perf_counter() - start)


def time_reused(scenario: str, raw: Sequence[RawRequest], policy_set: PolicySet,
                n: int) -> Result:
    """The same request objects decided again and again (their parsed-value cache warm)."""
    sequence = cycled([AccessRequest(a, r, c) for a, r, c in raw], n)
    for request in sequence[: warmup_count(len(raw), n)]:
        authorize(request, policy_set)
    start = perf_counter()
    for request in sequence:
        authorize(request, policy_set)
    return Result(scenario, n, perf_counter() - start)


def effect_shares(raw: Sequence[RawRequest], policy_set: PolicySet) -> dict[str, float]:
    counts = Counter(authorize(AccessRequest(*request), policy_set).effect for request in raw)
    return {effect.value: counts[effect] / len(raw) for effect in DecisionEffect}


def format_shares(shares: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in shares.items())


# --------------------------------------------------------------------------- cedar translation

CEDAR_CONTEXT: Mapping[str, tuple[str, str]] = MappingProxyType({
    "acs:sourceip": ("source_ip", "ip"),
    "acs:securetransport": ("secure_transport", "bool"),
    "acs:mfapresent": ("mfa_present", "bool"),
    "acs:currenttime": ("current_time", "datetime"),
    "acs:sourcevpc": ("source_vpc", "string"),
})
_TAG_KEY = re.compile(r"^([a-z0-9-]+):tag/([A-Za-z_][A-Za-z0-9_]*)$")
# operator -> (negated, Cedar test with {a} the attribute and {v} the policy value)
CEDAR_OPERATORS: Mapping[str, tuple[bool, str]] = MappingProxyType({
    "StringEquals": (False, "{a} == {v}"),
    "StringNotEquals": (True, "{a} == {v}"),
    "StringLike": (False, "{a} like {v}"),
    "StringNotLike": (True, "{a} like {v}"),
    "Bool": (False, "{a} == {v}"),
    "IpAddress": (False, "{a}.isInRange({v})"),
    "NotIpAddress": (True, "{a}.isInRange({v})"),
    "DateLessThan": (False, "{a} < {v}"),
    "DateLessThanEquals": (False, "{a} <= {v}"),
    "DateGreaterThan": (False, "{a} > {v}"),
    "DateGreaterThanEquals": (False, "{a} >= {v}"),
})


def cedar_string(text: str) -> str:
    return json.dumps(text)


def cedar_pattern(glob: str) -> str:
    """A RAM glob as a Cedar `like` pattern (`*` is the same; `?` has no Cedar equivalent)."""
    if "?" in glob:
        raise ValueError(f"cannot translate {glob!r}: Cedar `like` has no single-char wildcard")
    return cedar_string(glob)


def cedar_attribute(key: str) -> tuple[str, str, str]:
    """A RAM condition key as (Cedar attribute path, presence guard, value kind)."""
    tag = _TAG_KEY.match(key)
    if tag is not None:
        service, name = tag.groups()
        guard = f"resource.service == {cedar_string(service)} && resource.tags has {name}"
        return f"resource.tags.{name}", guard, "string"
    attribute, kind = CEDAR_CONTEXT[key.lower()]
    return f"context.{attribute}", f"context has {attribute}", kind


def cedar_literal(kind: str, operator: str, value: str) -> str:
    if kind == "ip":
        return f"ip({cedar_string(value)})"
    if kind == "datetime":
        return f"datetime({cedar_string(value)})"
    if kind == "bool":
        return "true" if value.strip().lower() == "true" else "false"
    return cedar_pattern(value) if "Like" in operator else cedar_string(value)


def cedar_condition(operator: str, key: str, values: Sequence[str]) -> str:
    """One RAM `operator: {key: values}` test: values OR'd; absent key fails unless negated."""
    negated, template = CEDAR_OPERATORS[operator]
    path, guard, kind = cedar_attribute(key)
    tests = " || ".join(
        template.format(a=path, v=cedar_literal(kind, operator, value)) for value in values
    )
    if negated:
        return f"(!({guard}) || !({tests}))"
    return f"({guard} && ({tests}))"


def cedar_actions(patterns: Sequence[str], universe: Sequence[str]) -> str:
    """The action scope: RAM action globs expanded over the closed action universe."""
    if "*" in patterns:
        return "action"
    names = [name for name in universe
             if any(fnmatchcase(name.lower(), pattern.lower()) for pattern in patterns)]
    return "action in [" + ", ".join(f"Action::{cedar_string(n)}" for n in names) + "]"


def cedar_resources(patterns: Sequence[str]) -> str | None:
    if "*" in patterns:
        return None
    return "(" + " || ".join(f"resource.arn like {cedar_pattern(p)}" for p in patterns) + ")"


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def cedar_statement(policy: str, index: int, statement: Json, universe: Sequence[str]) -> str:
    """One RAM statement (Action/Resource/Condition only) as one Cedar permit or forbid."""
    effect = "permit" if statement["Effect"] == "Allow" else "forbid"
    actions = cedar_actions(_as_list(statement["Action"]), universe)
    tests = [cedar_resources(_as_list(statement["Resource"]))]
    for operator, keyed in statement.get("Condition", {}).items():
        tests += [cedar_condition(operator, key, _as_list(vals)) for key, vals in keyed.items()]
    body = " && ".join(t for t in tests if t is not None)
    when = f"\nwhen {{ {body} }}" if body else ""
    return f'@id("{policy}[{index}]")\n{effect} (principal, {actions}, resource){when};'


def cedar_policies(named: Sequence[tuple[str, Json]], universe: Sequence[str]) -> str:
    return "\n\n".join(
        cedar_statement(name, index, statement, universe)
        for name, document in named
        for index, statement in enumerate(document["Statement"])
    )


def cedar_entities() -> list[Json]:
    """Every resource of the universe as a Cedar entity: its ARN, service and tags."""
    return [
        {"uid": {"type": "Resource", "id": arn},
         "attrs": {"arn": arn, "service": arn.split(":")[1], "tags": dict(tags)},
         "parents": []}
        for arn, tags in RESOURCES
    ]


def cedar_context_value(kind: str, value: str) -> Any:
    if kind in ("ip", "datetime"):
        return {"__extn": {"fn": kind, "arg": value}}
    if kind == "bool":
        return value.strip().lower() == "true"
    return value


def cedar_request(spec: RequestSpec) -> Json:
    context = {}
    for key, value in spec.env:
        attribute, kind = CEDAR_CONTEXT[key.lower()]
        context[attribute] = cedar_context_value(kind, value)
    return {"principal": 'User::"alice"', "action": f"Action::{cedar_string(spec.action)}",
            "resource": {"type": "Resource", "id": spec.arn}, "context": context}


# --------------------------------------------------------------------------- cedar benchmark


@dataclass(frozen=True, slots=True)
class CedarReport:
    version: str
    statements: int
    agree_allow: int
    agree_three_way: int
    errors: int
    single: Result
    batch: Result
    disagreements: tuple[str, ...] = field(default=())

    @property
    def best(self) -> Result:
        return self.batch if self.batch.per_second > self.single.per_second else self.single

    @property
    def best_api(self) -> str:
        return "is_authorized_batch" if self.best is self.batch else "is_authorized"


def _cedar_effect(allowed: bool, reasons: Sequence[str]) -> DecisionEffect:
    if allowed:
        return DecisionEffect.ALLOW
    return DecisionEffect.EXPLICIT_DENY if reasons else DecisionEffect.IMPLICIT_DENY


def cedar_agreement(pool: Sequence[RequestSpec], policy_set: PolicySet, cedar_set: Any,
                    entities: Any) -> tuple[int, int, int, tuple[str, ...]]:
    """(allow/deny agreements, three-way agreements, cedar errors, disagreement notes)."""
    import cedarpy

    results = cedarpy.is_authorized_batch([cedar_request(s) for s in pool], cedar_set, entities)
    allow = three = errors = 0
    notes: list[str] = []
    for spec, result in zip(pool, results, strict=True):
        ours = authorize(ramparts_request(spec), policy_set).effect
        theirs = _cedar_effect(result.allowed, result.diagnostics.reasons)
        errors += bool(result.diagnostics.errors)
        allow += (ours is DecisionEffect.ALLOW) == (theirs is DecisionEffect.ALLOW)
        three += ours is theirs
        if ours is not theirs:
            notes.append(f"{spec.action} {spec.arn} {dict(spec.env)}: ramparts {ours}, "
                         f"cedar {theirs} {result.diagnostics.reasons}")
    return allow, three, errors, tuple(notes)


def time_cedar_single(requests: Sequence[Json], cedar_set: Any, entities: Any, n: int) -> Result:
    import cedarpy

    sequence = cycled(requests, n)
    for request in sequence[: warmup_count(len(requests), n)]:
        cedarpy.is_authorized(request, cedar_set, entities)
    start = perf_counter()
    for request in sequence:
        cedarpy.is_authorized(request, cedar_set, entities)
    return Result("cedarpy (b) is_authorized", n, perf_counter() - start)


def time_cedar_batch(requests: list[Json], cedar_set: Any, entities: Any, n: int) -> Result:
    """Whole pools per call; the decision count is rounded up to whole batches."""
    import cedarpy

    calls = max(1, -(-n // len(requests)))
    for _ in range(max(1, calls // 20)):
        cedarpy.is_authorized_batch(requests, cedar_set, entities)
    start = perf_counter()
    for _ in range(calls):
        cedarpy.is_authorized_batch(requests, cedar_set, entities)
    seconds = perf_counter() - start
    return Result(f"cedarpy (b) is_authorized_batch x{len(requests)}", calls * len(requests),
                  seconds)


def run_cedar(pool: Sequence[RequestSpec], policy_set: PolicySet, n: int) -> CedarReport:
    """Translate (b) to Cedar, check it decides as ramparts does, then time cedarpy."""
    import cedarpy

    universe = [action for actions in ACTIONS.values() for action in actions]
    named = [(name, to_document(specs)) for name, specs in POLICIES_B]
    text = cedar_policies(named, universe)
    cedar_set = cedarpy.PolicySet.from_str(text)
    entities = cedarpy.Entities.from_json_str(json.dumps(cedar_entities()))
    allow, three, errors, notes = cedar_agreement(pool, policy_set, cedar_set, entities)
    requests = [cedar_request(spec) for spec in pool]
    return CedarReport(
        version=importlib.metadata.version("cedarpy"), statements=len(cedar_set),
        agree_allow=allow, agree_three_way=three, errors=errors,
        single=time_cedar_single(requests, cedar_set, entities, n),
        batch=time_cedar_batch(requests, cedar_set, entities, n), disagreements=notes,
    )


# --------------------------------------------------------------------------- scenarios


def time_assembly(account: PolicyCache, repeat: int = 500) -> float:
    """Mean seconds to look up the principal's PolicySet from the cached compiled policies."""
    start = perf_counter()
    for _ in range(repeat):
        attached_set(account)
    return (perf_counter() - start) / repeat


def scenario_c(raw: Sequence[RawRequest], n: int) -> Iterator[tuple[Result, str]]:
    """The same 20 attached policies, in an account of 10,000 and of 100 custom policies."""
    for size in (ACCOUNT_LARGE, ACCOUNT_SMALL):
        start = perf_counter()
        account = compile_account(size)
        compiled_in = perf_counter() - start
        policy_set = attached_set(account)
        assembled_in = time_assembly(account)
        statements = len(policy_set.statements)
        note = (f"account of {size:,} policies compiled in {compiled_in:.2f} s; "
                f"PolicySet of {len(ATTACHED)} attached ({statements} statements) looked up in "
                f"{assembled_in * 1e6:.1f} us (mean of 500); "
                f"shares: {format_shares(effect_shares(raw, policy_set))}")
        yield time_authorize(f"(c) 20 attached, account of {size:,}", raw, policy_set, n), note


def print_result_line(result: Result, note: str) -> None:
    print(f"{result.scenario}: {result.per_second:,.0f} decisions/s "
          f"({result.micros:.2f} us/decision)")
    if note:
        print(f"    {note}")


def print_cedar(report: CedarReport, pool_size: int) -> None:
    print(f"cedarpy {report.version}: {report.statements} Cedar policies translated from (b)")
    print(f"    agreement allow-vs-deny: {report.agree_allow}/{pool_size}; "
          f"Allow/ExplicitDeny/ImplicitDeny: {report.agree_three_way}/{pool_size}; "
          f"cedar evaluation errors: {report.errors}")
    for note in report.disagreements:
        print(f"    DISAGREE {note}")
    for result in (report.single, report.batch):
        print_result_line(result, "")
    print(f"    using {report.best_api} (faster per decision) for the comparison")


def print_table(results: Sequence[Result], ratio: float | None,
                ratio_built: float | None) -> None:
    width = max(len(r.scenario) for r in results)
    print()
    print(f"{'scenario':<{width}}  {'decisions/s':>14}  {'us/decision':>12}")
    print(f"{'-' * width}  {'-' * 14}  {'-' * 12}")
    for r in results:
        print(f"{r.scenario:<{width}}  {r.per_second:>14,.0f}  {r.micros:>12.2f}")
    if ratio is not None:
        print(f"\nratio ramparts(b) / cedarpy: {ratio:.2f}x")
    if ratio_built is not None:
        print(f"ratio ramparts(b) incl. AccessRequest construction / cedarpy (whose time includes "
              f"its request marshalling): {ratio_built:.2f}x")


def print_targets(rate_b: float, ratio: float | None) -> dict[str, bool | None]:
    met_rate = rate_b >= TARGET_RATE_B
    met_ratio = None if ratio is None else ratio >= TARGET_RATIO
    print(f"target (b) >= {TARGET_RATE_B:,} decisions/s: "
          f"{'met' if met_rate else 'NOT met'} ({rate_b:,.0f})")
    if ratio is None:
        print(f"target >= {TARGET_RATIO:.0f}x cedarpy: not measured (cedarpy missing)")
    else:
        print(f"target >= {TARGET_RATIO:.0f}x cedarpy: {'met' if met_ratio else 'NOT met'} "
              f"({ratio:.2f}x)")
    return {"b_rate": met_rate, "cedar_ratio": met_ratio}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"N={QUICK_N:,} decisions")
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    parser.add_argument("-n", "--decisions", type=int, default=None,
                        help=f"decisions per scenario (default {DEFAULT_N:,})")
    return parser.parse_args()


def run_ramparts(raw: Sequence[RawRequest],
                 n: int) -> tuple[list[Result], dict[str, dict[str, float]], PolicySet]:
    """Scenarios (a), (b) and (c); returns results, effect shares and the (b) policy set."""
    set_a, set_b = policy_set_of([POLICY_A]), policy_set_of(POLICIES_B)
    shares = {"a": effect_shares(raw, set_a), "b": effect_shares(raw, set_b)}
    statements_a, statements_b = len(set_a.statements), len(set_b.statements)
    results = []
    for label, policy_set, key in (
        (f"(a) 1 policy, {statements_a} statements", set_a, "a"),
        (f"(b) {len(POLICIES_B)} policies, {statements_b} statements", set_b, "b"),
    ):
        result = time_authorize(label, raw, policy_set, n)
        print_result_line(result, f"shares: {format_shares(shares[key])}")
        results.append(result)
    for extra in (time_build_and_authorize("(b) incl. AccessRequest construction", raw, set_b, n),
                  time_reused("(b) same request objects reused", raw, set_b, n)):
        print_result_line(extra, "")
        results.append(extra)
    for result, note in scenario_c(raw, n):
        print_result_line(result, note)
        results.append(result)
    return results, shares, set_b


def maybe_run_cedar(pool: Sequence[RequestSpec], set_b: PolicySet, n: int) -> CedarReport | None:
    try:
        importlib.import_module("cedarpy")
    except ImportError:
        print("cedarpy is not installed: `.venv/bin/pip install cedarpy` "
              "(or `.venv/bin/pip install -e '.[bench]'`) to compare with Cedar; continuing")
        return None
    report = run_cedar(pool, set_b, n)
    print_cedar(report, len(pool))
    return report


def summary(n: int, shares: Json, results: Sequence[Result], report: CedarReport | None,
            ratios: tuple[float | None, float | None], targets: Json) -> Json:
    """Everything measured, as one JSON object."""
    ratio, ratio_built = ratios
    return {
        "python": platform.python_version(), "decisions": n, "pool": POOL_SIZE,
        "cedarpy": None if report is None else {
            "version": report.version, "api": report.best_api,
            "agreement_allow_deny": report.agree_allow,
            "agreement_three_way": report.agree_three_way,
            "single": report.single.as_json(), "batch": report.batch.as_json(),
        },
        "shares": shares, "results": [r.as_json() for r in results],
        "ratio_b_over_cedarpy": None if ratio is None else round(ratio, 3),
        "ratio_b_built_over_cedarpy": None if ratio_built is None else round(ratio_built, 3),
        "targets_met": targets,
    }


def main() -> None:
    args = parse_args()
    n = args.decisions or (QUICK_N if args.quick else DEFAULT_N)
    pool = request_pool(POOL_SIZE, POOL_SEED)
    print(f"Python {platform.python_version()} on {platform.machine()}; {n:,} decisions per "
          f"scenario, cycling a pool of {len(pool)} requests; single-threaded, perf_counter")
    results, shares, set_b = run_ramparts(raw_requests(pool), n)
    report = maybe_run_cedar(pool, set_b, n)
    rate_b, rate_built = results[1].per_second, results[2].per_second
    cedar_rate = None if report is None else report.best.per_second
    ratio = None if cedar_rate is None else rate_b / cedar_rate
    ratio_built = None if cedar_rate is None else rate_built / cedar_rate
    print_table(results + ([report.best] if report else []), ratio, ratio_built)
    targets = print_targets(rate_b, ratio)
    if args.json:
        print(json.dumps(summary(n, shares, results, report, (ratio, ratio_built), targets)))


if __name__ == "__main__":
    main()
