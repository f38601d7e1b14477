"""Every registered action is checked by RAM: a user without policies is denied each one, and a
policy granting exactly that action on exactly its resource lets the call through (and
nothing next to it)."""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import TeaException

from ramparts.core.context import Caller, CallerKind, RequestContext
from ramparts.core.errors import ServiceError
from ramparts.protocol.authorize import AccessDenied
from ramparts.protocol.registry import default_registry
from ramparts.services.actions import ActionSpec
from ramparts.services.call import Call
from ramparts.testing import RunningServer, start_server
from tests.api.sdk import SdkClients, error_of, make_user, policy_json
from tests.conftest import PostgresDatabases

REGISTRY = list(default_registry())
CHECKED = [spec for spec in REGISTRY if spec.authorize and not spec.public]
EXEMPT = [spec for spec in REGISTRY if not spec.authorize and not spec.public]


def _id(spec: ActionSpec) -> str:
    return f"{spec.product.name}.{spec.name}"


# ---- calling any action


@dataclass(frozen=True)
class Outcome:
    """A call's HTTP status, Code (empty on success) and error body."""

    status: int
    code: str
    data: dict[str, Any]

    @property
    def denied(self) -> bool:
        family = self.code == AccessDenied.code or self.code.startswith(AccessDenied.code + ".")
        return self.status == 403 and (family or self.code == "Forbidden.RAM")


def call_action(clients: SdkClients, spec: ActionSpec, params: dict[str, str]) -> Outcome:
    """Any action through the SDK's generic call, signed with the clients' scheme."""
    creds = clients.creds
    config = open_api_models.Config(
        access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
        security_token=creds.security_token, endpoint=clients.server.endpoint,
        protocol="http", region_id="cn-hangzhou", read_timeout=20000, connect_timeout=5000)
    if clients.algorithm is not None:
        config.signature_algorithm = clients.algorithm
    request = open_api_models.Params(
        action=spec.name, version=spec.product.version, protocol="HTTP", method="POST",
        auth_type="AK", style="RPC", pathname="/", req_body_type="formData", body_type="json")
    try:
        answer = OpenApiClient(config).call_api(
            request, open_api_models.OpenApiRequest(query=dict(params)), RuntimeOptions())
    except TeaException as exc:
        status, code = error_of(exc)
        return Outcome(status, code, dict(exc.data or {}))
    return Outcome(int(answer.get("statusCode", 200)), "", dict(answer.get("body") or {}))


# ---- dummy parameters, and the resource they name


class _Dummies:
    """A ParamSource that answers any name with a made-up value and remembers what was read:
    running an action's resource function on it tells which parameters name the resource."""

    def __init__(self, prefix: str, account_id: str) -> None:
        self.prefix, self.account_id = prefix, account_id
        self.read: dict[builtins.str, builtins.str] = {}

    def _value(self, name: builtins.str) -> builtins.str:
        if name not in self.read:
            if name == "PolicyType":
                value = "Custom"
            elif name.endswith("Arn"):
                value = f"acs:ram::{self.account_id}:role/{self.prefix}-role"
            else:
                value = f"{self.prefix}-{name.lower()}"[:64]
            self.read[name] = value
        return self.read[name]

    def str(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.str | None = None,
            max_length: builtins.int | None = None) -> builtins.str:
        return self._value(name)

    def int(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.int | None = None, minimum: builtins.int | None = None,
            maximum: builtins.int | None = None) -> builtins.int | None:
        return default

    def bool(self, name: builtins.str, *,
             default: builtins.bool | None = None) -> builtins.bool | None:
        return default

    def json(self, name: builtins.str, *, required: builtins.bool = False,
             max_length: builtins.int | None = None) -> Any:
        return None

    def list(self, prefix: builtins.str) -> Sequence[Any]:
        return []


def _caller(clients: SdkClients, user_name: str) -> Caller:
    account = clients.server.account_id
    return Caller(CallerKind.USER, account, "", user_name,
                  f"acs:ram::{account}:user/{user_name}", clients.creds.access_key_id)


def resource_and_params(spec: ActionSpec, clients: SdkClients, user_name: str,
                        prefix: str) -> tuple[str | None, dict[str, str]]:
    """The resource ARN the action computes from made-up parameters (None when its resource
    function needs more than the parameters), and those parameters."""
    server = clients.server
    dummies = _Dummies(prefix, server.account_id)
    context = RequestContext(
        request_id="local", account_id=server.account_id, region="cn-hangzhou",
        caller=_caller(clients, user_name), source_ip="127.0.0.1", secure=False,
        user_agent="", now=datetime.now(UTC), product=spec.product.name,
        version=spec.product.version, action=spec.name, host=spec.product.host)
    call = Call(context, dummies, cast(Any, None), cast(Any, None))
    try:
        resource: str | None = spec.resource(call)
    except (AttributeError, TypeError, ServiceError):  # it needs the store or the services
        resource = None
    return resource, dict(dummies.read)


def _denied_resource(outcome: Outcome, spec: ActionSpec, action: str | None = None) -> str:
    """The resource a denial names: `<action> on <resource>` in the explanation summary."""
    summary = outcome.data["AccessDeniedDetail"]["Explanation"]["summary"]
    marker = f"{action or spec.ram_action} on "
    assert marker in summary, summary
    return str(summary.split(marker, 1)[1].split(": ", 1)[0].split(" ", 1)[0])


# ---- fixtures: servers of this module's own, since granted calls with made-up parameters
# change account-wide settings (alias, password policy) other tests may rely on


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningServer]:
    url = None
    if request.param == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    with start_server(tmp_path_factory.mktemp(f"authz-{request.param}"),
                      database_url=url) as running:
        yield running


@pytest.fixture(scope="module", params=[None, "v2"], ids=["acs3", "rpc-v1"])
def admin(request: pytest.FixtureRequest, server: RunningServer) -> SdkClients:
    return SdkClients.admin(server, request.param)


@pytest.fixture(scope="module")
def nobody(admin: SdkClients) -> tuple[SdkClients, str]:
    """A RAM user with no policy at all (one per server and signature scheme)."""
    name = f"authz-{secrets.token_hex(4)}-nobody"
    return make_user(admin, name), name


# ---- the tests


def test_the_registry_is_populated_and_every_action_names_its_ram_action() -> None:
    assert CHECKED, "no action is checked by RAM"
    for spec in REGISTRY:
        prefix, _, name = spec.ram_action.partition(":")
        assert prefix == spec.product.ram_prefix, spec.ram_action
        assert name, spec.ram_action


@pytest.mark.parametrize("spec", CHECKED, ids=_id)
def test_a_user_without_policies_is_denied(spec: ActionSpec, nobody: tuple[SdkClients, str],
                                           unique: str) -> None:
    clients, user_name = nobody
    resource, params = resource_and_params(spec, clients, user_name, unique)
    outcome = call_action(clients, spec, params)
    assert outcome.denied, (outcome, params)
    detail = outcome.data.get("AccessDeniedDetail")
    assert isinstance(detail, dict), outcome
    assert detail["AuthAction"] == spec.ram_action
    assert detail["AuthPrincipalDisplayName"] == user_name
    assert detail["AuthPrincipalOwnerId"] == clients.server.account_id
    assert detail["NoPermissionType"] == "ImplicitDeny"
    if resource is not None:
        assert _denied_resource(outcome, spec) == resource
    assert outcome.data["Message"].startswith("You are not authorized to do this action.")


@pytest.mark.parametrize("spec", EXEMPT, ids=_id)
def test_actions_exempt_from_ram_are_not_denied(spec: ActionSpec,
                                                nobody: tuple[SdkClients, str],
                                                unique: str) -> None:
    clients, user_name = nobody
    _, params = resource_and_params(spec, clients, user_name, unique)
    outcome = call_action(clients, spec, params)
    assert not outcome.denied, outcome


def _grant(admin: SdkClients, user_name: str, action: str, resource: str,
           number: int = 0) -> None:
    policy_name = f"{user_name}-policy{number}"
    admin.ram.create_policy(ram_models.CreatePolicyRequest(
        policy_name=policy_name,
        policy_document=policy_json({"Effect": "Allow", "Action": action,
                                     "Resource": resource})))
    admin.ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name=policy_name, user_name=user_name))


@pytest.mark.parametrize("spec", CHECKED, ids=_id)
def test_exactly_the_granted_action_on_its_resource_is_let_through(
        spec: ActionSpec, admin: SdkClients, unique: str) -> None:
    user_name = f"{unique}-granted"
    clients = make_user(admin, user_name)
    resource, params = resource_and_params(spec, clients, user_name, unique)
    first = call_action(clients, spec, params)
    assert first.denied, first
    if resource is None:  # the resource function needs the store: take the denial's word
        resource = _denied_resource(first, spec)
    _grant(admin, user_name, spec.ram_action, resource)

    outcome = call_action(clients, spec, params)
    # An action that needs further permissions (KMS ReEncrypt: from one key, to another) is
    # denied next on each of them, by name, until each is granted too.
    # (A further check may not apply to these parameters: CreateSecret's RAM checks are for
    # RAMCredentials secrets only.)
    for number, (action, _) in enumerate(spec.also, start=1):
        if not outcome.denied:
            break
        assert outcome.data["AccessDeniedDetail"]["AuthAction"] == action
        _grant(admin, user_name, action, _denied_resource(outcome, spec, action), number)
        outcome = call_action(clients, spec, params)
    assert not outcome.denied, (outcome, params)
    assert outcome.status < 500, outcome

    # Nothing next to it: another resource of the same action, another action.
    other_resource, other_params = resource_and_params(spec, clients, user_name,
                                                       f"{unique}-other")
    if other_resource is not None and other_resource != resource:
        assert call_action(clients, spec, other_params).denied
    neighbour = next(s for s in CHECKED[CHECKED.index(spec) + 1:] + CHECKED
                     if s.ram_action != spec.ram_action)
    _, neighbour_params = resource_and_params(neighbour, clients, user_name, unique)
    assert call_action(clients, neighbour, neighbour_params).denied
