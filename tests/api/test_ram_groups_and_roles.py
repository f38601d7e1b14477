"""RAM groups and roles through the official SDK: the documented shapes and error codes,
membership both ways, deletion conflicts, a group's policies applying to its members, and role
trust policies and session durations."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from alibabacloud_ram20150501 import models as ram_models

from tests.api.refusals import ISO_SECONDS, refused
from tests.api.sdk import SdkClients, make_user, policy_json

GROUP_FIELDS = {"GroupId", "GroupName", "Comments", "CreateDate"}
ROLE_FIELDS = {"RoleId", "RoleName", "Arn", "Description", "AssumeRolePolicyDocument",
               "MaxSessionDuration", "CreateDate"}
LIST_USERS = {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*"}


def trust(account_id: str) -> str:
    return policy_json({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"RAM": [f"acs:ram::{account_id}:root"]}})


@pytest.fixture
def groups(admin: SdkClients) -> Iterator[list[str]]:
    """Names of groups the test creates; they are emptied and deleted afterwards (an account
    holds at most 50 groups, and the servers are shared)."""
    created: list[str] = []
    yield created
    ram = admin.ram
    existing = {g["GroupName"] for g in ram.list_groups(ram_models.ListGroupsRequest(
        max_items=1000)).body.to_map()["Groups"]["Group"]}
    for name in created:
        if name not in existing:  # deleted or renamed by the test
            continue
        users = ram.list_users_for_group(ram_models.ListUsersForGroupRequest(
            group_name=name)).body.to_map()["Users"]["User"]
        for user in users:
            ram.remove_user_from_group(ram_models.RemoveUserFromGroupRequest(
                group_name=name, user_name=user["UserName"]))
        policies = ram.list_policies_for_group(ram_models.ListPoliciesForGroupRequest(
            group_name=name)).body.to_map()["Policies"]["Policy"]
        for policy in policies:
            ram.detach_policy_from_group(ram_models.DetachPolicyFromGroupRequest(
                group_name=name, policy_name=policy["PolicyName"],
                policy_type=policy["PolicyType"]))
        ram.delete_group(ram_models.DeleteGroupRequest(group_name=name))


def create_group(admin: SdkClients, created: list[str], name: str,
                 comments: str | None = None) -> dict[str, str]:
    body = admin.ram.create_group(ram_models.CreateGroupRequest(group_name=name,
                                                                comments=comments)).body
    created.append(name)
    return dict(body.to_map()["Group"])


def get_group(admin: SdkClients, name: str) -> dict[str, str]:
    return dict(admin.ram.get_group(ram_models.GetGroupRequest(
        group_name=name)).body.to_map()["Group"])


def members(admin: SdkClients, group: str) -> list[str]:
    body = admin.ram.list_users_for_group(ram_models.ListUsersForGroupRequest(
        group_name=group)).body.to_map()
    return [u["UserName"] for u in body["Users"]["User"]]


def groups_of(admin: SdkClients, user: str) -> list[str]:
    body = admin.ram.list_groups_for_user(ram_models.ListGroupsForUserRequest(
        user_name=user)).body.to_map()
    return [g["GroupName"] for g in body["Groups"]["Group"]]


def add(admin: SdkClients, group: str, user: str) -> None:
    admin.ram.add_user_to_group(ram_models.AddUserToGroupRequest(group_name=group,
                                                                 user_name=user))


def remove(admin: SdkClients, group: str, user: str) -> None:
    admin.ram.remove_user_from_group(ram_models.RemoveUserFromGroupRequest(
        group_name=group, user_name=user))


def list_users(clients: SdkClients) -> object:
    return clients.ram.list_users(ram_models.ListUsersRequest())


# ---- groups


def test_group_lifecycle_and_response_shapes(admin: SdkClients, unique: str,
                                             groups: list[str]) -> None:
    ram, name = admin.ram, f"{unique}-devs"
    created = create_group(admin, groups, name, comments="developers")
    assert set(created) == GROUP_FIELDS
    assert (created["GroupName"], created["Comments"]) == (name, "developers")
    assert created["GroupId"]
    assert re.fullmatch(ISO_SECONDS, created["CreateDate"])

    got = get_group(admin, name)
    assert set(got) == GROUP_FIELDS | {"UpdateDate"}
    assert got["GroupId"] == created["GroupId"]

    updated = ram.update_group(ram_models.UpdateGroupRequest(
        group_name=name, new_group_name=f"{unique}-engineers",
        new_comments="engineers")).body.to_map()["Group"]
    groups.append(f"{unique}-engineers")
    assert set(updated) == GROUP_FIELDS | {"UpdateDate"}
    assert (updated["GroupName"], updated["Comments"], updated["GroupId"]) == (
        f"{unique}-engineers", "engineers", created["GroupId"])
    assert refused(lambda: get_group(admin, name)) == (404, "EntityNotExist.Group")

    listed = {g["GroupName"]: g for g in ram.list_groups(ram_models.ListGroupsRequest(
        max_items=1000)).body.to_map()["Groups"]["Group"]}
    assert set(listed[f"{unique}-engineers"]) == GROUP_FIELDS | {"UpdateDate"}
    assert name not in listed

    ram.delete_group(ram_models.DeleteGroupRequest(group_name=f"{unique}-engineers"))
    assert refused(lambda: get_group(admin, f"{unique}-engineers")) == (
        404, "EntityNotExist.Group")
    assert refused(lambda: ram.delete_group(ram_models.DeleteGroupRequest(
        group_name=f"{unique}-engineers"))) == (404, "EntityNotExist.Group")


def test_group_parameters_are_validated(admin: SdkClients, unique: str,
                                        groups: list[str]) -> None:
    ram, name = admin.ram, f"{unique}-ops"
    create_group(admin, groups, name, comments="ops")
    create_group(admin, groups, f"{unique}-sec")
    cases = [
        (lambda: ram.create_group(ram_models.CreateGroupRequest(group_name="g" * 65)),
         "InvalidParameter.GroupName.Length"),
        (lambda: ram.create_group(ram_models.CreateGroupRequest(group_name="a b")),
         "InvalidParameter.GroupName.InvalidChars"),
        (lambda: ram.create_group(ram_models.CreateGroupRequest(
            group_name=f"{unique}-x", comments="c" * 129)), "InvalidParameter.Comments.Length"),
        (lambda: ram.update_group(ram_models.UpdateGroupRequest(
            group_name=name, new_group_name="g" * 65)), "InvalidParameter.NewGroupName.Length"),
        (lambda: ram.update_group(ram_models.UpdateGroupRequest(
            group_name=name, new_group_name="a/b")), "InvalidParameter.NewGroupName.InvalidChars"),
        (lambda: ram.update_group(ram_models.UpdateGroupRequest(
            group_name=name, new_comments="c" * 129)), "InvalidParameter.NewComments.Length"),
    ]
    for call, code in cases:
        assert refused(call) == (400, code)
    assert refused(lambda: create_group(admin, [], name)) == (409, "EntityAlreadyExists.Group")
    assert refused(lambda: ram.update_group(ram_models.UpdateGroupRequest(
        group_name=f"{unique}-sec", new_group_name=name))) == (409, "EntityAlreadyExists.Group")
    assert refused(lambda: ram.update_group(ram_models.UpdateGroupRequest(
        group_name=f"{unique}-none", new_comments="x"))) == (404, "EntityNotExist.Group")
    assert get_group(admin, name)["Comments"] == "ops"


def test_membership_both_ways(admin: SdkClients, unique: str, groups: list[str]) -> None:
    ram = admin.ram
    user, group = f"{unique}-mia", f"{unique}-band"
    ram.create_user(ram_models.CreateUserRequest(user_name=user, display_name="Mia"))
    create_group(admin, groups, group, comments="band")
    create_group(admin, groups, f"{unique}-choir")
    assert members(admin, group) == []
    assert groups_of(admin, user) == []

    add(admin, group, user)
    add(admin, f"{unique}-choir", user)
    listed = ram.list_users_for_group(ram_models.ListUsersForGroupRequest(
        group_name=group)).body.to_map()
    assert listed["IsTruncated"] is False
    (member,) = listed["Users"]["User"]
    assert set(member) == {"UserName", "DisplayName", "JoinDate"}
    assert (member["UserName"], member["DisplayName"]) == (user, "Mia")
    assert re.fullmatch(ISO_SECONDS, member["JoinDate"])
    joined = ram.list_groups_for_user(ram_models.ListGroupsForUserRequest(
        user_name=user)).body.to_map()["Groups"]["Group"]
    assert [g["GroupName"] for g in joined] == [group, f"{unique}-choir"]
    assert set(joined[0]) == {"GroupId", "GroupName", "Comments", "JoinDate"}
    assert joined[0]["Comments"] == "band"

    assert refused(lambda: add(admin, group, user)) == (409, "EntityAlreadyExists.User.Group")
    assert refused(lambda: add(admin, group, f"{unique}-nobody")) == (404, "EntityNotExist.User")
    assert refused(lambda: add(admin, f"{unique}-none", user)) == (404, "EntityNotExist.Group")

    remove(admin, group, user)
    assert members(admin, group) == []
    assert groups_of(admin, user) == [f"{unique}-choir"]
    assert refused(lambda: remove(admin, group, user)) == (404, "EntityNotExist.User.Group")
    assert refused(lambda: members(admin, f"{unique}-none")) == (404, "EntityNotExist.Group")
    assert refused(lambda: groups_of(admin, f"{unique}-nobody")) == (404, "EntityNotExist.User")


def test_a_user_joins_at_most_five_groups(admin: SdkClients, unique: str,
                                          groups: list[str]) -> None:
    user = f"{unique}-ned"
    admin.ram.create_user(ram_models.CreateUserRequest(user_name=user))
    for i in range(6):
        create_group(admin, groups, f"{unique}-g{i}")
    for i in range(5):
        add(admin, f"{unique}-g{i}", user)
    assert refused(lambda: add(admin, f"{unique}-g5", user)) == (409, "LimitExceeded.User.Group")
    assert members(admin, f"{unique}-g5") == []


def test_list_users_for_group_pages(admin: SdkClients, unique: str, groups: list[str]) -> None:
    group = f"{unique}-crowd"
    create_group(admin, groups, group)
    names = [f"{unique}-m{i}" for i in range(5)]
    for name in names:
        admin.ram.create_user(ram_models.CreateUserRequest(user_name=name))
        add(admin, group, name)
    seen: list[str] = []
    marker = None
    while True:
        body = admin.ram.list_users_for_group(ram_models.ListUsersForGroupRequest(
            group_name=group, marker=marker, max_items=2)).body.to_map()
        seen += [u["UserName"] for u in body["Users"]["User"]]
        if not body["IsTruncated"]:
            break
        marker = body["Marker"]
    assert seen == names


def test_a_group_with_members_or_policies_cannot_be_deleted(admin: SdkClients, unique: str,
                                                           groups: list[str]) -> None:
    ram, group, user = admin.ram, f"{unique}-staff", f"{unique}-olga"
    ram.create_user(ram_models.CreateUserRequest(user_name=user))
    create_group(admin, groups, group)

    def delete() -> object:
        return ram.delete_group(ram_models.DeleteGroupRequest(group_name=group))

    add(admin, group, user)
    assert refused(delete) == (409, "DeleteConflict.Group.User")
    remove(admin, group, user)
    ram.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
        policy_type="System", policy_name="ReadOnlyAccess", group_name=group))
    assert refused(delete) == (409, "DeleteConflict.Group.Policy")
    ram.detach_policy_from_group(ram_models.DetachPolicyFromGroupRequest(
        policy_type="System", policy_name="ReadOnlyAccess", group_name=group))
    delete()
    assert refused(lambda: get_group(admin, group)) == (404, "EntityNotExist.Group")


def test_a_groups_policies_apply_to_its_members(admin: SdkClients, unique: str,
                                               groups: list[str]) -> None:
    ram, group, name = admin.ram, f"{unique}-readers", f"{unique}-pat"
    pat = make_user(admin, name)
    create_group(admin, groups, group)
    ram.create_policy(ram_models.CreatePolicyRequest(policy_name=f"{unique}-list-users",
                                                     policy_document=policy_json(LIST_USERS)))
    ram.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
        policy_type="Custom", policy_name=f"{unique}-list-users", group_name=group))
    assert refused(lambda: list_users(pat)) == (403, "NoPermission")

    add(admin, group, name)
    list_users(pat)
    assert refused(lambda: pat.ram.list_groups(ram_models.ListGroupsRequest())) == (
        403, "NoPermission")  # only what the group's policy allows

    remove(admin, group, name)
    assert refused(lambda: list_users(pat)) == (403, "NoPermission")

    add(admin, group, name)
    list_users(pat)
    ram.detach_policy_from_group(ram_models.DetachPolicyFromGroupRequest(
        policy_type="Custom", policy_name=f"{unique}-list-users", group_name=group))
    assert refused(lambda: list_users(pat)) == (403, "NoPermission")


def test_a_renamed_group_keeps_members_and_policies(admin: SdkClients, unique: str,
                                                   groups: list[str]) -> None:
    ram, name = admin.ram, f"{unique}-quinn"
    quinn = make_user(admin, name)
    create_group(admin, groups, f"{unique}-old")
    add(admin, f"{unique}-old", name)
    ram.create_policy(ram_models.CreatePolicyRequest(policy_name=f"{unique}-lu",
                                                     policy_document=policy_json(LIST_USERS)))
    ram.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
        policy_type="Custom", policy_name=f"{unique}-lu", group_name=f"{unique}-old"))
    ram.update_group(ram_models.UpdateGroupRequest(group_name=f"{unique}-old",
                                                   new_group_name=f"{unique}-new"))
    groups.append(f"{unique}-new")
    assert members(admin, f"{unique}-new") == [name]
    assert groups_of(admin, name) == [f"{unique}-new"]
    list_users(quinn)


# ---- roles


def create_role(admin: SdkClients, name: str, document: str, **fields: object) -> dict[str, object]:
    body = admin.ram.create_role(ram_models.CreateRoleRequest(
        role_name=name, assume_role_policy_document=document, **fields)).body
    return dict(body.to_map()["Role"])


def get_role(admin: SdkClients, name: str) -> dict[str, object]:
    return dict(admin.ram.get_role(ram_models.GetRoleRequest(role_name=name)).body.to_map()[
        "Role"])


def test_role_lifecycle_and_response_shapes(admin: SdkClients, unique: str) -> None:
    ram, account = admin.ram, admin.server.account_id
    name = f"{unique}-deployer"
    document = trust(account)
    created = create_role(admin, name, document, description="deploys")
    assert set(created) == ROLE_FIELDS
    assert created["Arn"] == f"acs:ram::{account}:role/{name}"
    assert created["RoleName"] == name
    assert created["Description"] == "deploys"
    assert created["MaxSessionDuration"] == 3600
    assert json.loads(str(created["AssumeRolePolicyDocument"])) == json.loads(document)
    assert re.fullmatch(ISO_SECONDS, str(created["CreateDate"]))

    got = get_role(admin, name)
    assert set(got) == ROLE_FIELDS | {"UpdateDate", "RolePrincipalName", "IsServiceLinkedRole"}
    assert got["IsServiceLinkedRole"] is False
    assert got["RolePrincipalName"] == f"{name}@role.{account}.onaliyunservice.com"
    assert got["RoleId"] == created["RoleId"]
    assert got["Arn"] == created["Arn"]
    assert got["AssumeRolePolicyDocument"] == created["AssumeRolePolicyDocument"]

    listed = {r["RoleName"]: r for r in ram.list_roles(ram_models.ListRolesRequest(
        max_items=1000)).body.to_map()["Roles"]["Role"]}
    assert listed[name]["Arn"] == created["Arn"]
    assert set(listed[name]) == ROLE_FIELDS - {"AssumeRolePolicyDocument"} | {"UpdateDate"}

    ram.delete_role(ram_models.DeleteRoleRequest(role_name=name))
    assert refused(lambda: get_role(admin, name)) == (404, "EntityNotExist.Role")
    assert refused(lambda: ram.delete_role(ram_models.DeleteRoleRequest(role_name=name))) == (
        404, "EntityNotExist.Role")


def test_role_names_and_duplicates(admin: SdkClients, unique: str) -> None:
    document = trust(admin.server.account_id)
    for bad, code in (("r" * 65, "InvalidParameter.RoleName.Length"),
                      ("under_score", "InvalidParameter.RoleName.InvalidChars"),
                      ("a b", "InvalidParameter.RoleName.InvalidChars")):
        assert refused(lambda bad=bad: create_role(  # type: ignore[misc]
            admin, bad, document)) == (400, code)
    create_role(admin, f"{unique}-dup", document)
    assert refused(lambda: create_role(admin, f"{unique}-dup", document)) == (
        409, "EntityAlreadyExists.Role")
    assert refused(lambda: create_role(admin, f"{unique}-long", document,
                                       description="d" * 1025)) == (
        400, "InvalidParameter.Description.Length")


@pytest.mark.parametrize("duration", [3599, 43201, 0, -1])
def test_max_session_duration_out_of_bounds(admin: SdkClients, unique: str,
                                            duration: int) -> None:
    name = f"{unique}-bounded"
    document = trust(admin.server.account_id)
    assert refused(lambda: create_role(admin, name, document,
                                       max_session_duration=duration)) == (
        400, "InvalidParameter.MaxSessionDuration.Range")
    assert refused(lambda: get_role(admin, name)) == (404, "EntityNotExist.Role")
    create_role(admin, name, document, max_session_duration=7200)
    assert refused(lambda: admin.ram.update_role(ram_models.UpdateRoleRequest(
        role_name=name, new_max_session_duration=duration))) == (
        400, "InvalidParameter.NewMaxSessionDuration.Range")
    assert get_role(admin, name)["MaxSessionDuration"] == 7200


def test_max_session_duration_bounds_are_inclusive(admin: SdkClients, unique: str) -> None:
    document = trust(admin.server.account_id)
    assert create_role(admin, f"{unique}-low", document,
                       max_session_duration=3600)["MaxSessionDuration"] == 3600
    assert create_role(admin, f"{unique}-high", document,
                       max_session_duration=43200)["MaxSessionDuration"] == 43200


def test_update_role(admin: SdkClients, unique: str) -> None:
    account, name = admin.server.account_id, f"{unique}-builder"
    created = create_role(admin, name, trust(account), description="builds")
    new_trust = policy_json({"Effect": "Allow", "Action": "sts:AssumeRole",
                             "Principal": {"Service": ["ecs.aliyuncs.com"]}})
    updated = admin.ram.update_role(ram_models.UpdateRoleRequest(
        role_name=name, new_assume_role_policy_document=new_trust,
        new_max_session_duration=43200)).body.to_map()["Role"]
    assert set(updated) == ROLE_FIELDS | {"UpdateDate"}
    assert json.loads(updated["AssumeRolePolicyDocument"]) == json.loads(new_trust)
    assert updated["MaxSessionDuration"] == 43200
    assert updated["Description"] == "builds"  # not given: unchanged
    assert updated["RoleId"] == created["RoleId"]
    got = get_role(admin, name)
    assert (got["AssumeRolePolicyDocument"], got["MaxSessionDuration"]) == (new_trust, 43200)

    assert refused(lambda: admin.ram.update_role(ram_models.UpdateRoleRequest(
        role_name=name, new_description="d" * 1025))) == (
        400, "InvalidParameter.NewDescription.Length")
    assert get_role(admin, name)["Description"] == "builds"
    admin.ram.update_role(ram_models.UpdateRoleRequest(role_name=name, new_description=""))
    assert get_role(admin, name)["Description"] == ""
    assert refused(lambda: admin.ram.update_role(ram_models.UpdateRoleRequest(
        role_name=f"{unique}-none", new_description="x"))) == (404, "EntityNotExist.Role")


@pytest.mark.parametrize("document", [
    "not json",
    json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
    json.dumps({"Version": "1", "Statement": [{"Effect": "Maybe", "Action": "sts:AssumeRole",
                                               "Principal": {"RAM": ["*"]}}]}),
    json.dumps({"Statement": []}),
])
def test_a_malformed_trust_policy_is_refused(admin: SdkClients, unique: str,
                                            document: str) -> None:
    name = f"{unique}-trusting"
    assert refused(lambda: create_role(admin, name, document)) == (400,
                                                                  "MalformedPolicyDocument")
    assert refused(lambda: get_role(admin, name)) == (404, "EntityNotExist.Role")
    good = trust(admin.server.account_id)
    create_role(admin, name, good)
    assert refused(lambda: admin.ram.update_role(ram_models.UpdateRoleRequest(
        role_name=name, new_assume_role_policy_document=document))) == (
        400, "MalformedPolicyDocument")
    assert get_role(admin, name)["AssumeRolePolicyDocument"] == good


def test_a_trust_policy_beyond_the_length_limit(admin: SdkClients, unique: str) -> None:
    principals = [f"acs:ram::{n:016d}:root" for n in range(400)]
    document = policy_json({"Effect": "Allow", "Action": "sts:AssumeRole",
                            "Principal": {"RAM": principals}})
    assert refused(lambda: create_role(admin, f"{unique}-wide", document)) == (
        400, "InvalidParameter.AssumeRolePolicyDocument.Length")


def test_a_role_with_policies_cannot_be_deleted(admin: SdkClients, unique: str) -> None:
    ram, name = admin.ram, f"{unique}-auditor"
    create_role(admin, name, trust(admin.server.account_id))
    ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="System", policy_name="ReadOnlyAccess", role_name=name))

    def delete() -> object:
        return ram.delete_role(ram_models.DeleteRoleRequest(role_name=name))

    assert refused(delete) == (409, "DeleteConflict.Role.Policy")
    assert get_role(admin, name)["RoleName"] == name
    ram.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
        policy_type="System", policy_name="ReadOnlyAccess", role_name=name))
    delete()
    assert refused(lambda: get_role(admin, name)) == (404, "EntityNotExist.Role")
