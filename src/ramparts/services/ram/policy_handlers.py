"""RAM's policy actions on the wire: custom policies, versions and attachments."""

from __future__ import annotations

from typing import Any

from ramparts.services.call import Call
from ramparts.services.ram.errors import EntityNotExist
from ramparts.services.ram.models import Policy, PolicyVersion
from ramparts.services.ram.names import key_of
from ramparts.services.ram.paging import paged_body, read_page
from ramparts.services.ram.policies import PolicyBackend, check_policy_type, check_version_id
from ramparts.services.ram.product import RAM, every, named, policy_resource

__all__: list[str] = []

POLICY = "ACS::RAM::Policy"


def _policies(call: Call) -> PolicyBackend:
    return PolicyBackend(call.tx, call.env, call.context.account_id)


def _policy_body(policy: Policy) -> dict[str, Any]:
    return {"PolicyName": policy.policy_name, "PolicyType": policy.policy_type,
            "Description": policy.description, "DefaultVersion": policy.default_version,
            "CreateDate": policy.created_at, "UpdateDate": policy.updated_at,
            "AttachmentCount": policy.attachment_count}


def _version_body(version: PolicyVersion) -> dict[str, Any]:
    return {"VersionId": version.version_id, "IsDefaultVersion": version.is_default,
            "PolicyDocument": version.document, "CreateDate": version.created_at}


def _type(call: Call) -> str:
    return check_policy_type(call.params.str("PolicyType", required=True))


@RAM.action("CreatePolicy", resource=policy_resource, rw="Write")
def create_policy(call: Call) -> dict[str, Any]:
    params = call.params
    policy = _policies(call).create(params.str("PolicyName", required=True),
                                    params.str("PolicyDocument", required=True),
                                    params.str("Description", default="") or "")
    call.touched(POLICY, policy.policy_name)
    body = _policy_body(policy)
    for field in ("UpdateDate", "AttachmentCount"):
        body.pop(field)
    return {"Policy": body}


@RAM.action("GetPolicy", resource=policy_resource, rw="Read")
def get_policy(call: Call) -> dict[str, Any]:
    backend = _policies(call)
    policy_type, name = _type(call), call.params.str("PolicyName", required=True)
    policy, document = backend.get(policy_type, name)
    default = {"VersionId": policy.default_version, "IsDefaultVersion": True,
               "PolicyDocument": document, "CreateDate": policy.created_at}
    if policy_type == "Custom":
        default = _version_body(backend.version(name, policy.default_version))
    call.touched(POLICY, policy.policy_name)
    return {"Policy": {**_policy_body(policy), "PolicyDocument": document},
            "DefaultPolicyVersion": default}


@RAM.action("ListPolicies", resource=every("policy"), rw="Read")
def list_policies(call: Call) -> dict[str, Any]:
    policies, following = read_page(call, _policies(call).listing(
        call.params.str("PolicyType")), _listing_key)
    return paged_body("Policies", "Policy", [_policy_body(p) for p in policies], following)


def _listing_key(policy: Policy) -> str:
    """System policies first, then custom ones, each by name."""
    return f"{0 if policy.policy_type == 'System' else 1}:{key_of(policy.policy_name)}"


@RAM.action("UpdatePolicyDescription", resource=policy_resource, rw="Write")
def update_policy_description(call: Call) -> dict[str, Any]:
    policy = _policies(call).update_description(call.params.str("PolicyName", required=True),
                                                call.params.str("NewDescription", default="")
                                                or "")
    call.touched(POLICY, policy.policy_name)
    body = _policy_body(policy)
    body.pop("AttachmentCount")
    return {"Policy": body}


@RAM.action("DeletePolicy", resource=policy_resource, rw="Write")
def delete_policy(call: Call) -> dict[str, Any]:
    name = call.params.str("PolicyName", required=True)
    _policies(call).delete(name)
    call.touched(POLICY, name)
    return {}


@RAM.action("CreatePolicyVersion", resource=policy_resource, rw="Write")
def create_policy_version(call: Call) -> dict[str, Any]:
    params = call.params
    rotate = params.str("RotateStrategy") == "DeleteOldestNonDefaultVersionWhenLimitExceeded"
    version = _policies(call).create_version(
        params.str("PolicyName", required=True), params.str("PolicyDocument", required=True),
        bool(params.bool("SetAsDefault", default=False)), rotate)
    return {"PolicyVersion": _version_body(version)}


@RAM.action("GetPolicyVersion", resource=policy_resource, rw="Read")
def get_policy_version(call: Call) -> dict[str, Any]:
    name, version_id = (call.params.str("PolicyName", required=True),
                        call.params.str("VersionId", required=True))
    if _type(call) == "System":  # a system policy shows its one current version
        policy, document = _policies(call).get("System", name)
        if check_version_id(version_id) != policy.default_version:
            raise EntityNotExist("Policy.Version",
                                 f"The policy version does not exist: {name} {version_id}.")
        return {"PolicyVersion": {"VersionId": policy.default_version, "IsDefaultVersion": True,
                                  "PolicyDocument": document, "CreateDate": policy.created_at}}
    return {"PolicyVersion": _version_body(_policies(call).version(name, version_id))}


@RAM.action("ListPolicyVersions", resource=policy_resource, rw="Read")
def list_policy_versions(call: Call) -> dict[str, Any]:
    name = call.params.str("PolicyName", required=True)
    if _type(call) == "System":
        policy, document = _policies(call).get("System", name)
        versions = [{"VersionId": policy.default_version, "IsDefaultVersion": True,
                     "PolicyDocument": document, "CreateDate": policy.created_at}]
    else:
        versions = [_version_body(v) for v in _policies(call).versions(name)]
    return {"PolicyVersions": {"PolicyVersion": versions}}


@RAM.action("SetDefaultPolicyVersion", resource=policy_resource, rw="Write")
def set_default_policy_version(call: Call) -> dict[str, Any]:
    _policies(call).set_default(call.params.str("PolicyName", required=True),
                                call.params.str("VersionId", required=True))
    return {}


@RAM.action("DeletePolicyVersion", resource=policy_resource, rw="Write")
def delete_policy_version(call: Call) -> dict[str, Any]:
    _policies(call).delete_version(call.params.str("PolicyName", required=True),
                                   call.params.str("VersionId", required=True))
    return {}


def _attachment(principal_type: str, parameter: str, attach: bool) -> Any:
    def handler(call: Call) -> dict[str, Any]:
        backend = _policies(call)
        principal = call.params.str(parameter, required=True)
        operation = backend.attach if attach else backend.detach
        operation(_type(call), call.params.str("PolicyName", required=True), principal_type,
                  principal)
        call.touched(f"ACS::RAM::{principal_type}", principal)
        call.touched(POLICY, call.params.str("PolicyName", required=True))
        return {}

    return handler


def _listing(principal_type: str, parameter: str) -> Any:
    def handler(call: Call) -> dict[str, Any]:
        attached = _policies(call).attached(principal_type, call.params.str(parameter,
                                                                           required=True))
        return {"Policies": {"Policy": [
            {"PolicyName": p.policy_name, "PolicyType": p.policy_type,
             "Description": p.description, "DefaultVersion": p.default_version,
             "AttachDate": when} for p, when in attached]}}

    return handler


for _kind, _param in (("User", "UserName"), ("Group", "GroupName"), ("Role", "RoleName")):
    _resource = named(_kind.lower(), _param)
    RAM.action(f"AttachPolicyTo{_kind}", resource=_resource, rw="Write")(
        _attachment(_kind, _param, attach=True))
    RAM.action(f"DetachPolicyFrom{_kind}", resource=_resource, rw="Write")(
        _attachment(_kind, _param, attach=False))
    RAM.action(f"ListPoliciesFor{_kind}", resource=_resource, rw="Read")(
        _listing(_kind, _param))


@RAM.action("ListEntitiesForPolicy", resource=policy_resource, rw="Read")
def list_entities_for_policy(call: Call) -> dict[str, Any]:
    """The users, groups and roles a policy is attached to [doc: ListEntitiesForPolicy]."""
    account = call.context.account_id
    found = _policies(call).entities_for(_type(call),
                                         call.params.str("PolicyName", required=True))
    return {
        "Users": {"User": [
            {"UserId": r["user_id"], "UserName": r["user_name"],
             "DisplayName": r["display_name"], "AttachDate": r["attached_at"]}
            for r in found["User"]]},
        "Groups": {"Group": [
            {"GroupName": r["group_name"], "Comments": r["comments"],
             "AttachDate": r["attached_at"]} for r in found["Group"]]},
        "Roles": {"Role": [
            {"RoleId": r["role_id"], "RoleName": r["role_name"],
             "Arn": f"acs:ram::{account}:role/{r['role_name']}",
             "Description": r["description"], "AttachDate": r["attached_at"]}
            for r in found["Role"]]},
    }
