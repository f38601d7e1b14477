"""The seed's example users, end to end: created through the SDK with their least-privilege
policies, each allowed exactly its job and denied the rest by the server's own authorizer, and
denied every identity-management action the server serves."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from alibabacloud_ram20150501 import models as ram_models

from ramparts.core.context import Caller, CallerKind, RequestContext
from ramparts.policy.evaluator import DecisionEffect
from ramparts.protocol.authorize import decide
from ramparts.protocol.params import Params
from ramparts.protocol.registry import default_registry
from ramparts.services.actions import ActionSpec
from ramparts.services.call import Call
from ramparts.testing import RunningServer
from tests.api.sdk import Credentials, SdkClients
from tests.api.test_every_action_is_authorized import call_action

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_ACCOUNT = "123456789012"
SEED_USERS = ("terraform-deployer", "logger-app", "database-backup", "alice-dev")
CASES: list[dict[str, Any]] = yaml.safe_load((EXAMPLES / "cases.yaml").read_text())
EXPECTED = {"Allow": DecisionEffect.ALLOW, "Deny": DecisionEffect.EXPLICIT_DENY,
            "ImplicitDeny": DecisionEffect.IMPLICIT_DENY}


def _attach(admin: SdkClients, user: str, policy: str, prefix: str) -> None:
    ram = admin.ram
    if policy.startswith("system:"):
        ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
            policy_type="System", policy_name=policy.removeprefix("system:"), user_name=user))
        return
    document = (EXAMPLES / policy).read_text().replace(EXAMPLE_ACCOUNT,
                                                        admin.server.account_id)
    name = f"{prefix}-{Path(policy).stem}"
    ram.create_policy(ram_models.CreatePolicyRequest(policy_name=name,
                                                     policy_document=document))
    ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name=name, user_name=user))


def _identity(admin: SdkClients, prefix: str, policies: list[str]) -> tuple[str, Credentials]:
    """A RAM user with exactly these policies, created through the SDK, and its AccessKey."""
    name = f"{prefix}-{'-'.join(Path(p).stem.removeprefix('system:') for p in policies)}"[:64]
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))
    for policy in policies:
        _attach(admin, name, policy, f"{prefix}-{len(policies)}")
    key = admin.ram.create_access_key(ram_models.CreateAccessKeyRequest(
        user_name=name)).body.access_key
    return name, Credentials(key.access_key_id, key.access_key_secret)


def _context(server: RunningServer, caller: Caller, keys: dict[str, str]) -> RequestContext:
    return RequestContext(
        request_id="seed-case", account_id=server.account_id, region="cn-hangzhou",
        caller=caller, source_ip=keys.get("acs:SourceIp", "127.0.0.1"),
        secure=keys.get("acs:SecureTransport") == "true", user_agent="seed-test",
        now=server.runtime.env.clock.now(), product="", version="", action="", host="")


def _decide(server: RunningServer, user: str, case: dict[str, Any]) -> DecisionEffect:
    """The server's authorizer on the stored identity, for an action of a service this server
    does not serve yet (ECS, SLS, KMS, OSS): the same `decide` every served call goes through."""
    spec = ActionSpec(product=next(iter(default_registry())).product, name=case["action"],
                      ram_action=case["action"],
                      resource=lambda _call: case["resource"].replace(EXAMPLE_ACCOUNT,
                                                                      server.account_id),
                      rw="Read", handler=lambda _call: {})
    with server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT user_id FROM users WHERE account_id = ? AND user_name = ?",
                           (server.account_id, user))
        assert row is not None
        caller = Caller(CallerKind.USER, server.account_id, row["user_id"], user,
                        f"acs:ram::{server.account_id}:user/{user}", "LTAI-test")
        call = Call(_context(server, caller, {k: str(v) for k, v in
                                              (case.get("context") or {}).items()}),
                    Params([], []), tx, server.runtime.env)
        return decide(call, spec, None).effect


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_each_seed_user_can_do_exactly_its_job(admin: SdkClients, unique: str,
                                               case: dict[str, Any]) -> None:
    user, _ = _identity(admin, unique, case["policies"])
    assert _decide(admin.server, user, case) is EXPECTED[case["expected"]]


SERVED = [spec for spec in default_registry() if spec.authorize and not spec.public]


@pytest.mark.parametrize("seed_user", SEED_USERS)
def test_seed_users_are_denied_every_served_identity_action(admin: SdkClients, unique: str,
                                                            seed_user: str) -> None:
    """None of the four has any RAM, STS or IMS permission: every such call is refused by
    RAM (terraform-deployer by its explicit Deny of ram:*), before any handler runs."""
    _, creds = _identity(admin, unique, [f"policies/{seed_user}.json"])
    clients = replace(admin, creds=creds)
    assert clients.sts.get_caller_identity().body.identity_type == "RAMUser"
    refused = {}
    for spec in SERVED:
        outcome = call_action(clients, spec, {
            "UserName": "admin", "RoleName": "r", "GroupName": "g", "PolicyName": "p",
            "PolicyType": "Custom", "RoleSessionName": "s",
            "RoleArn": f"acs:ram::{admin.server.account_id}:role/r"})
        refused[spec.name] = outcome.denied
        if seed_user == "terraform-deployer" and spec.ram_action.startswith("ram:"):
            detail = outcome.data["AccessDeniedDetail"]
            assert detail["NoPermissionType"] == "ExplicitDeny", (spec.name, detail)
    allowed = sorted(name for name, denied in refused.items() if not denied)
    assert not allowed, f"{seed_user} was not refused: {allowed}"
