"""RAM policies through the official SDK: custom policies and their validation, versions,
attachments of system and custom policies to users, groups and roles, listing and paging, the
deletion conflicts, and a new default version taking effect on the very next call."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ram20150501 import models as ram_models

from tests.api.refusals import ISO_SECONDS, allowed, refused
from tests.api.sdk import SdkClients, make_user, policy_json

POLICY_FIELDS = {"PolicyName", "PolicyType", "Description", "DefaultVersion", "CreateDate"}
VERSION_FIELDS = {"VersionId", "IsDefaultVersion", "PolicyDocument", "CreateDate"}
ATTACHED_FIELDS = {"PolicyName", "PolicyType", "Description", "DefaultVersion", "AttachDate"}
LIST_USERS = {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*"}
LIST_GROUPS = {"Effect": "Allow", "Action": "ram:ListGroups", "Resource": "*"}


def document(*actions: str) -> str:
    return policy_json(*({"Effect": "Allow", "Action": a, "Resource": "*"} for a in actions))


def create_policy(admin: SdkClients, name: str, text: str, description: str | None = None
                  ) -> dict[str, Any]:
    return dict(admin.ram.create_policy(ram_models.CreatePolicyRequest(
        policy_name=name, policy_document=text, description=description)).body.to_map()[
        "Policy"])


def get_policy(admin: SdkClients, name: str, policy_type: str = "Custom") -> dict[str, Any]:
    return dict(admin.ram.get_policy(ram_models.GetPolicyRequest(
        policy_name=name, policy_type=policy_type)).body.to_map())


def new_version(admin: SdkClients, name: str, text: str, *, default: bool = False,
                rotate: bool = False) -> dict[str, Any]:
    strategy = "DeleteOldestNonDefaultVersionWhenLimitExceeded" if rotate else None
    return dict(admin.ram.create_policy_version(ram_models.CreatePolicyVersionRequest(
        policy_name=name, policy_document=text, set_as_default=default,
        rotate_strategy=strategy)).body.to_map()["PolicyVersion"])


def versions(admin: SdkClients, name: str) -> list[dict[str, Any]]:
    return list(admin.ram.list_policy_versions(ram_models.ListPolicyVersionsRequest(
        policy_name=name, policy_type="Custom")).body.to_map()["PolicyVersions"][
        "PolicyVersion"])


def version_ids(admin: SdkClients, name: str) -> list[str]:
    return [v["VersionId"] for v in versions(admin, name)]


def set_default(admin: SdkClients, name: str, version_id: str) -> None:
    admin.ram.set_default_policy_version(ram_models.SetDefaultPolicyVersionRequest(
        policy_name=name, version_id=version_id))


def delete_version(admin: SdkClients, name: str, version_id: str) -> None:
    admin.ram.delete_policy_version(ram_models.DeletePolicyVersionRequest(
        policy_name=name, version_id=version_id))


def delete_policy(admin: SdkClients, name: str) -> None:
    admin.ram.delete_policy(ram_models.DeletePolicyRequest(policy_name=name))


@pytest.fixture
def principals(admin: SdkClients, unique: str) -> Iterator[dict[str, str]]:
    """A user, a group and a role, by principal type; the group is deleted afterwards (an
    account holds at most 50 groups)."""
    ram, account = admin.ram, admin.server.account_id
    names = {"User": f"{unique}-user", "Group": f"{unique}-group", "Role": f"{unique}-role"}
    ram.create_user(ram_models.CreateUserRequest(user_name=names["User"]))
    ram.create_group(ram_models.CreateGroupRequest(group_name=names["Group"]))
    ram.create_role(ram_models.CreateRoleRequest(
        role_name=names["Role"], assume_role_policy_document=policy_json({
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"RAM": [f"acs:ram::{account}:root"]}})))
    yield names
    for policy in attached(admin, "Group", names["Group"]):
        attachment(admin, "Group", names["Group"], policy["PolicyType"], policy["PolicyName"],
                   attach=False)
    ram.delete_group(ram_models.DeleteGroupRequest(group_name=names["Group"]))


def attachment(admin: SdkClients, kind: str, principal: str, policy_type: str,
               policy_name: str, *, attach: bool = True) -> None:
    ram = admin.ram
    common = {"policy_type": policy_type, "policy_name": policy_name}
    if kind == "User":
        if attach:
            ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
                user_name=principal, **common))
        else:
            ram.detach_policy_from_user(ram_models.DetachPolicyFromUserRequest(
                user_name=principal, **common))
    elif kind == "Group":
        if attach:
            ram.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
                group_name=principal, **common))
        else:
            ram.detach_policy_from_group(ram_models.DetachPolicyFromGroupRequest(
                group_name=principal, **common))
    elif attach:
        ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
            role_name=principal, **common))
    else:
        ram.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
            role_name=principal, **common))


def attached(admin: SdkClients, kind: str, principal: str) -> list[dict[str, Any]]:
    ram = admin.ram
    if kind == "User":
        body = ram.list_policies_for_user(ram_models.ListPoliciesForUserRequest(
            user_name=principal)).body
    elif kind == "Group":
        body = ram.list_policies_for_group(ram_models.ListPoliciesForGroupRequest(
            group_name=principal)).body
    else:
        body = ram.list_policies_for_role(ram_models.ListPoliciesForRoleRequest(
            role_name=principal)).body
    return list(body.to_map()["Policies"]["Policy"])


def all_policies(admin: SdkClients, policy_type: str | None, max_items: int
                 ) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    marker = None
    while True:
        body = admin.ram.list_policies(ram_models.ListPoliciesRequest(
            policy_type=policy_type, marker=marker, max_items=max_items)).body.to_map()
        page = body["Policies"]["Policy"]
        assert len(page) <= max_items
        found += page
        if not body["IsTruncated"]:
            assert "Marker" not in body
            return found
        marker = body["Marker"]


# ---- custom policies


def test_custom_policy_lifecycle_and_shapes(admin: SdkClients, unique: str) -> None:
    name, text = f"{unique}-readers", document("ram:ListUsers")
    created = create_policy(admin, name, text, "lists users")
    assert set(created) == POLICY_FIELDS
    assert (created["PolicyName"], created["PolicyType"], created["Description"],
            created["DefaultVersion"]) == (name, "Custom", "lists users", "v1")
    assert re.fullmatch(ISO_SECONDS, created["CreateDate"])

    got = get_policy(admin, name)
    assert set(got["Policy"]) == POLICY_FIELDS | {"UpdateDate", "AttachmentCount",
                                                  "PolicyDocument"}
    assert got["Policy"]["PolicyDocument"] == text
    assert got["Policy"]["AttachmentCount"] == 0
    default = got["DefaultPolicyVersion"]
    assert set(default) == VERSION_FIELDS
    assert (default["VersionId"], default["IsDefaultVersion"], default["PolicyDocument"]) == (
        "v1", True, text)

    version = admin.ram.get_policy_version(ram_models.GetPolicyVersionRequest(
        policy_name=name, policy_type="Custom", version_id="v1")).body.to_map()["PolicyVersion"]
    assert set(version) == VERSION_FIELDS
    assert versions(admin, name) == [version]

    updated = admin.ram.update_policy_description(ram_models.UpdatePolicyDescriptionRequest(
        policy_name=name, new_description="reads")).body.to_map()["Policy"]
    assert set(updated) == POLICY_FIELDS | {"UpdateDate"}
    assert updated["Description"] == "reads"
    assert refused(lambda: admin.ram.update_policy_description(
        ram_models.UpdatePolicyDescriptionRequest(policy_name=name,
                                                  new_description="d" * 1025))) == (
        400, "InvalidParameter.NewDescription.Length")
    assert refused(lambda: admin.ram.update_policy_description(
        ram_models.UpdatePolicyDescriptionRequest(policy_name=f"{unique}-none",
                                                  new_description="x"))) == (
        404, "EntityNotExist.Policy")
    assert get_policy(admin, name)["Policy"]["Description"] == "reads"

    delete_policy(admin, name)
    assert refused(lambda: get_policy(admin, name)) == (404, "EntityNotExist.Policy")
    assert refused(lambda: delete_policy(admin, name)) == (404, "EntityNotExist.Policy")


def test_policy_names_and_duplicates(admin: SdkClients, unique: str) -> None:
    text = document("ram:ListUsers")
    for bad, code in (("p" * 129, "InvalidParameter.PolicyName.Length"),
                      ("under_score", "InvalidParameter.PolicyName.InvalidChars"),
                      ("dot.ted", "InvalidParameter.PolicyName.InvalidChars")):
        assert refused(lambda bad=bad: create_policy(  # type: ignore[misc]
            admin, bad, text)) == (400, code)
    create_policy(admin, f"{unique}-dup", text)
    assert refused(lambda: create_policy(admin, f"{unique}-dup", text)) == (
        409, "EntityAlreadyExists.Policy")
    assert refused(lambda: create_policy(admin, "ReadOnlyAccess", text)) == (
        409, "EntityAlreadyExists.Policy")
    assert refused(lambda: create_policy(admin, f"{unique}-described", text,
                                         "d" * 1025)) == (400,
                                                          "InvalidParameter.Description.Length")
    assert refused(lambda: get_policy(admin, f"{unique}-dup", "Managed")) == (
        400, "InvalidParameter.PolicyType")


@pytest.mark.parametrize("text", [
    "{",
    json.dumps({"Version": "1"}),
    json.dumps({"Version": "2", "Statement": [LIST_USERS]}),
    json.dumps({"Version": "1", "Statement": [{"Effect": "Permit", "Action": "ram:ListUsers",
                                               "Resource": "*"}]}),
    json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
    json.dumps({"Version": "1", "Statement": [{**LIST_USERS, "Principal": {"RAM": ["*"]}}]}),
])
def test_a_malformed_document_is_refused(admin: SdkClients, unique: str, text: str) -> None:
    name = f"{unique}-malformed"
    assert refused(lambda: create_policy(admin, name, text)) == (400, "MalformedPolicyDocument")
    assert refused(lambda: get_policy(admin, name)) == (404, "EntityNotExist.Policy")
    create_policy(admin, name, document("ram:ListUsers"))
    assert refused(lambda: new_version(admin, name, text)) == (400, "MalformedPolicyDocument")
    assert version_ids(admin, name) == ["v1"]


def test_the_document_size_limit(admin: SdkClients, unique: str) -> None:
    resources = [f"acs:ram:*:*:user/{unique}-{i:04d}" for i in range(400)]
    text = policy_json({"Effect": "Allow", "Action": "ram:GetUser", "Resource": resources})
    assert len(text) > 6144
    assert refused(lambda: create_policy(admin, f"{unique}-big", text)) == (
        400, "InvalidParameter.PolicyDocument.Length")
    create_policy(admin, f"{unique}-small", document("ram:GetUser"))
    assert refused(lambda: new_version(admin, f"{unique}-small", text)) == (
        400, "InvalidParameter.PolicyDocument.Length")
    fits = policy_json({"Effect": "Allow", "Action": "ram:GetUser", "Resource": resources[:100]})
    assert len(fits) <= 6144
    assert create_policy(admin, f"{unique}-fits", fits)["DefaultVersion"] == "v1"


# ---- versions


def test_versions_limit_default_and_deletion(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-versioned"
    create_policy(admin, name, document("ram:ListUsers"))
    for n in range(2, 6):
        created = new_version(admin, name, document("ram:ListUsers", f"ram:GetUser{n}"))
        assert set(created) == VERSION_FIELDS
        assert (created["VersionId"], created["IsDefaultVersion"]) == (f"v{n}", False)
    assert version_ids(admin, name) == ["v1", "v2", "v3", "v4", "v5"]
    assert refused(lambda: new_version(admin, name, document("ram:ListGroups"))) == (
        409, "LimitExceeded.Policy.Version")

    set_default(admin, name, "v3")
    policy = get_policy(admin, name)
    assert policy["Policy"]["DefaultVersion"] == "v3"
    assert policy["DefaultPolicyVersion"]["VersionId"] == "v3"
    assert [v["IsDefaultVersion"] for v in versions(admin, name)] == [
        False, False, True, False, False]
    assert refused(lambda: delete_version(admin, name, "v3")) == (
        409, "DeleteConflict.Policy.Version.Default")
    delete_version(admin, name, "v2")
    assert version_ids(admin, name) == ["v1", "v3", "v4", "v5"]
    assert refused(lambda: delete_version(admin, name, "v2")) == (
        404, "EntityNotExist.Policy.Version")
    assert refused(lambda: admin.ram.get_policy_version(ram_models.GetPolicyVersionRequest(
        policy_name=name, policy_type="Custom", version_id="v2"))) == (
        404, "EntityNotExist.Policy.Version")
    assert refused(lambda: set_default(admin, name, "v2")) == (
        404, "EntityNotExist.Policy.Version")
    for bad in ("2", "version2", "v"):
        assert refused(lambda bad=bad: set_default(admin, name, bad)) == (  # type: ignore[misc]
            400, "InvalidParameter.VersionId.Format")

    made = new_version(admin, name, document("ram:ListRoles"), default=True)
    assert (made["VersionId"], made["IsDefaultVersion"]) == ("v6", True)
    assert get_policy(admin, name)["Policy"]["DefaultVersion"] == "v6"

    assert refused(lambda: delete_policy(admin, name)) == (409, "DeleteConflict.Policy.Version")
    for version_id in ("v1", "v3", "v4", "v5"):
        delete_version(admin, name, version_id)
    delete_policy(admin, name)


def test_rotation_deletes_the_oldest_non_default_version(admin: SdkClients,
                                                         unique: str) -> None:
    name = f"{unique}-rotating"
    create_policy(admin, name, document("ram:ListUsers"))
    for _ in range(2, 10):  # v2..v9, keeping v1 and the newest ones only
        new_version(admin, name, document("ram:ListGroups"))
        if len(version_ids(admin, name)) == 5:
            delete_version(admin, name, version_ids(admin, name)[1])
    assert version_ids(admin, name) == ["v1", "v7", "v8", "v9"]
    new_version(admin, name, document("ram:ListGroups"))  # v10
    assert version_ids(admin, name) == ["v1", "v7", "v8", "v9", "v10"]

    made = new_version(admin, name, document("ram:ListRoles"), rotate=True)
    assert made["VersionId"] == "v11"
    # v1 is the default and stays; v7 is the oldest of the others, numerically
    assert version_ids(admin, name) == ["v1", "v8", "v9", "v10", "v11"]
    set_default(admin, name, "v9")
    new_version(admin, name, document("ram:ListRoles"), default=True, rotate=True)
    assert version_ids(admin, name) == ["v8", "v9", "v10", "v11", "v12"]
    assert get_policy(admin, name)["Policy"]["DefaultVersion"] == "v12"


def test_versions_of_a_system_policy(admin: SdkClients) -> None:
    policy = get_policy(admin, "ReadOnlyAccess", "System")
    assert policy["Policy"]["PolicyType"] == "System"
    default_id = policy["Policy"]["DefaultVersion"]
    assert policy["DefaultPolicyVersion"]["VersionId"] == default_id
    listed = admin.ram.list_policy_versions(ram_models.ListPolicyVersionsRequest(
        policy_name="ReadOnlyAccess", policy_type="System")).body.to_map()
    assert [v["VersionId"] for v in listed["PolicyVersions"]["PolicyVersion"]] == [default_id]
    version = admin.ram.get_policy_version(ram_models.GetPolicyVersionRequest(
        policy_name="ReadOnlyAccess", policy_type="System", version_id=default_id)).body
    assert version.policy_version.version_id == default_id
    assert refused(lambda: admin.ram.get_policy_version(ram_models.GetPolicyVersionRequest(
        policy_name="ReadOnlyAccess", policy_type="System", version_id="v999"))) == (
        404, "EntityNotExist.Policy.Version")
    assert refused(lambda: get_policy(admin, "NoSuchSystemPolicy", "System")) == (
        404, "EntityNotExist.Policy")


# ---- attachments


@pytest.mark.parametrize("kind", ["User", "Group", "Role"])
def test_attach_and_detach(admin: SdkClients, unique: str, principals: dict[str, str],
                           kind: str) -> None:
    principal = principals[kind]
    custom = f"{unique}-custom"
    create_policy(admin, custom, document("ram:ListUsers"), "custom one")
    attachment(admin, kind, principal, "System", "ReadOnlyAccess")
    attachment(admin, kind, principal, "Custom", custom)

    listed = {p["PolicyName"]: p for p in attached(admin, kind, principal)}
    assert set(listed) == {"ReadOnlyAccess", custom}
    for policy in listed.values():
        assert set(policy) == ATTACHED_FIELDS
        assert re.fullmatch(ISO_SECONDS, policy["AttachDate"])
    assert (listed[custom]["PolicyType"], listed[custom]["DefaultVersion"],
            listed[custom]["Description"]) == ("Custom", "v1", "custom one")
    assert listed["ReadOnlyAccess"]["PolicyType"] == "System"
    assert get_policy(admin, custom)["Policy"]["AttachmentCount"] == 1

    assert refused(lambda: attachment(admin, kind, principal, "Custom", custom)) == (
        409, f"EntityAlreadyExists.{kind}.Policy")
    assert refused(lambda: attachment(admin, kind, principal, "System", "ReadOnlyAccess")) == (
        409, f"EntityAlreadyExists.{kind}.Policy")
    assert refused(lambda: attachment(admin, kind, principal, "Custom", f"{unique}-none")) == (
        404, "EntityNotExist.Policy")
    assert refused(lambda: attachment(admin, kind, principal, "System", "NoSuchPolicy")) == (
        404, "EntityNotExist.Policy")
    assert refused(lambda: attachment(admin, kind, principal, "Managed", custom)) == (
        400, "InvalidParameter.PolicyType")
    assert refused(lambda: attachment(admin, kind, f"{unique}-none", "Custom", custom)) == (
        404, f"EntityNotExist.{kind}")

    assert refused(lambda: attached(admin, kind, f"{unique}-none")) == (
        404, f"EntityNotExist.{kind}")
    assert refused(lambda: attached(admin, kind, "bad name")) == (
        400, f"InvalidParameter.{kind}Name.InvalidChars")
    assert refused(lambda: attachment(admin, kind, principal, "Custom", "bad_name")) == (
        400, "InvalidParameter.PolicyName.InvalidChars")

    attachment(admin, kind, principal, "Custom", custom, attach=False)
    attachment(admin, kind, principal, "System", "ReadOnlyAccess", attach=False)
    assert attached(admin, kind, principal) == []
    assert get_policy(admin, custom)["Policy"]["AttachmentCount"] == 0
    assert refused(lambda: attachment(admin, kind, principal, "Custom", custom,
                                      attach=False)) == (404, f"EntityNotExist.{kind}.Policy")
    assert refused(lambda: attachment(admin, kind, principal, "Custom", f"{unique}-none",
                                      attach=False)) == (404, "EntityNotExist.Policy")
    assert refused(lambda: attachment(admin, kind, principal, "Managed", custom,
                                      attach=False)) == (400, "InvalidParameter.PolicyType")
    delete_policy(admin, custom)


def test_attachment_count_and_listing_across_principals(admin: SdkClients, unique: str,
                                                        principals: dict[str, str]) -> None:
    custom = f"{unique}-shared"
    create_policy(admin, custom, document("ram:ListUsers"))
    for kind, name in principals.items():
        attachment(admin, kind, name, "Custom", custom)
    assert get_policy(admin, custom)["Policy"]["AttachmentCount"] == 3
    listed = {p["PolicyName"]: p for p in all_policies(admin, "Custom", 1000)}
    assert listed[custom]["AttachmentCount"] == 3
    before = get_policy(admin, "ReadOnlyAccess", "System")["Policy"]["AttachmentCount"]
    attachment(admin, "User", principals["User"], "System", "readonlyaccess")  # any case
    after = get_policy(admin, "ReadOnlyAccess", "System")["Policy"]["AttachmentCount"]
    assert after == before + 1
    assert [p["PolicyName"] for p in attached(admin, "User", principals["User"])
            if p["PolicyType"] == "System"] == ["ReadOnlyAccess"]


@pytest.mark.parametrize(("kinds", "code"), [
    (("User",), "DeleteConflict.Policy.User"),
    (("Group",), "DeleteConflict.Policy.Group"),
    (("Role",), "DeleteConflict.Policy.Role"),
    (("User", "Group", "Role"), "DeleteConflict.Policy.User"),
])
def test_an_attached_custom_policy_cannot_be_deleted(admin: SdkClients, unique: str,
                                                     principals: dict[str, str],
                                                     kinds: tuple[str, ...], code: str) -> None:
    custom = f"{unique}-held"
    create_policy(admin, custom, document("ram:ListUsers"))
    for kind in kinds:
        attachment(admin, kind, principals[kind], "Custom", custom)
    assert refused(lambda: delete_policy(admin, custom)) == (409, code)
    assert get_policy(admin, custom)["Policy"]["AttachmentCount"] == len(kinds)
    for kind in kinds:
        attachment(admin, kind, principals[kind], "Custom", custom, attach=False)
    delete_policy(admin, custom)
    assert refused(lambda: get_policy(admin, custom)) == (404, "EntityNotExist.Policy")


# ---- listing


def test_list_policies_by_type_and_in_pages(admin: SdkClients, unique: str) -> None:
    mine = [f"{unique}-listed{i}" for i in range(5)]
    for name in mine:
        create_policy(admin, name, document("ram:ListUsers"))
    custom = all_policies(admin, "Custom", 1000)
    assert {p["PolicyType"] for p in custom} == {"Custom"}
    assert set(custom[0]) == POLICY_FIELDS | {"UpdateDate", "AttachmentCount"}
    system = all_policies(admin, "System", 1000)
    assert {p["PolicyType"] for p in system} == {"System"}
    assert "ReadOnlyAccess" in {p["PolicyName"] for p in system}
    everything = all_policies(admin, None, 1000)
    assert len(everything) == len(custom) + len(system)

    paged = all_policies(admin, "Custom", 2)
    assert [p["PolicyName"] for p in paged] == [p["PolicyName"] for p in custom]
    names = [p["PolicyName"] for p in paged]
    assert len(names) == len(set(names))
    assert [n for n in names if n in mine] == mine
    whole = [p["PolicyName"] for p in all_policies(admin, None, 7)]
    assert whole == [p["PolicyName"] for p in everything]

    assert refused(lambda: admin.ram.list_policies(ram_models.ListPoliciesRequest(
        policy_type="Managed"))) == (400, "InvalidParameter.PolicyType")


# ---- the effect of a new default version


def test_a_new_default_version_applies_on_the_very_next_call(admin: SdkClients,
                                                             unique: str) -> None:
    name = f"{unique}-rachel"
    rachel = make_user(admin, name, LIST_USERS)
    policy = f"{name}-policy"

    def can_list_users() -> bool:
        return allowed(lambda: rachel.ram.list_users(ram_models.ListUsersRequest(max_items=1)))

    def can_list_groups() -> bool:
        return allowed(lambda: rachel.ram.list_groups(ram_models.ListGroupsRequest(
            max_items=1)))

    assert (can_list_users(), can_list_groups()) == (True, False)
    new_version(admin, policy, policy_json(LIST_GROUPS), default=True)  # v2
    assert (can_list_users(), can_list_groups()) == (False, True)
    set_default(admin, policy, "v1")
    assert (can_list_users(), can_list_groups()) == (True, False)
    set_default(admin, policy, "v2")
    assert (can_list_users(), can_list_groups()) == (False, True)
    new_version(admin, policy, policy_json(LIST_USERS, LIST_GROUPS), default=True, rotate=True)
    assert (can_list_users(), can_list_groups()) == (True, True)
    attachment(admin, "User", name, "Custom", policy, attach=False)
    assert (can_list_users(), can_list_groups()) == (False, False)


def test_a_policy_deleted_and_created_again_is_not_served_from_before(admin: SdkClients,
                                                                     unique: str) -> None:
    name = f"{unique}-sam"
    sam = make_user(admin, name, LIST_USERS)
    policy = f"{name}-policy"
    sam.ram.list_users(ram_models.ListUsersRequest(max_items=1))
    attachment(admin, "User", name, "Custom", policy, attach=False)
    delete_policy(admin, policy)
    create_policy(admin, policy, policy_json(LIST_GROUPS))  # v1 again, other text
    attachment(admin, "User", name, "Custom", policy)
    assert refused(lambda: sam.ram.list_users(ram_models.ListUsersRequest(max_items=1))) == (
        403, "NoPermission")
    sam.ram.list_groups(ram_models.ListGroupsRequest(max_items=1))


def test_list_entities_for_policy_names_every_holder(admin: SdkClients, unique: str) -> None:
    ram = admin.ram
    name = f"{unique}-shared"
    create_policy(admin, name, document("ram:GetUser"))
    ram.create_user(ram_models.CreateUserRequest(user_name=f"{unique}-u", display_name="U"))
    ram.create_group(ram_models.CreateGroupRequest(group_name=f"{unique}-g", comments="G"))
    trust = json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{admin.server.account_id}:root"]}}]})
    ram.create_role(ram_models.CreateRoleRequest(role_name=f"{unique}-r",
                                                 assume_role_policy_document=trust))
    ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name=name, user_name=f"{unique}-u"))
    ram.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
        policy_type="Custom", policy_name=name, group_name=f"{unique}-g"))
    ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name=name, role_name=f"{unique}-r"))
    body = ram.list_entities_for_policy(ram_models.ListEntitiesForPolicyRequest(
        policy_type="Custom", policy_name=name)).body.to_map()
    users, groups, roles = (body["Users"]["User"], body["Groups"]["Group"],
                            body["Roles"]["Role"])
    assert [(u["UserName"], u["DisplayName"]) for u in users] == [(f"{unique}-u", "U")]
    assert [(g["GroupName"], g["Comments"]) for g in groups] == [(f"{unique}-g", "G")]
    assert [r["Arn"] for r in roles] == [
        f"acs:ram::{admin.server.account_id}:role/{unique}-r"]
    assert all(re.fullmatch(ISO_SECONDS, e["AttachDate"]) for e in [*users, *groups, *roles])
    system = ram.list_entities_for_policy(ram_models.ListEntitiesForPolicyRequest(
        policy_type="System", policy_name="AdministratorAccess")).body.to_map()
    assert "admin" in [u["UserName"] for u in system["Users"]["User"]]
    status, code = refused(lambda: ram.list_entities_for_policy(
        ram_models.ListEntitiesForPolicyRequest(policy_type="Custom",
                                                policy_name=f"{unique}-missing")))
    assert (status, code) == (404, "EntityNotExist.Policy")
