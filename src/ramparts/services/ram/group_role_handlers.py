"""RAM's group and role actions on the wire."""

from __future__ import annotations

from typing import Any

from ramparts.services.call import Call
from ramparts.services.ram.groups import GroupBackend
from ramparts.services.ram.models import Group, Role
from ramparts.services.ram.names import key_of
from ramparts.services.ram.paging import paged_body, read_page
from ramparts.services.ram.product import RAM, every, named
from ramparts.services.ram.roles import RoleBackend

__all__: list[str] = []

GROUP, ROLE = "ACS::RAM::Group", "ACS::RAM::Role"


def _groups(call: Call) -> GroupBackend:
    return GroupBackend(call.tx, call.env, call.context.account_id)


def _roles(call: Call) -> RoleBackend:
    return RoleBackend(call.tx, call.env, call.context.account_id)


def _group_body(group: Group) -> dict[str, Any]:
    return {"GroupId": group.group_id, "GroupName": group.group_name,
            "Comments": group.comments, "CreateDate": group.created_at,
            "UpdateDate": group.updated_at}


def _role_body(role: Role) -> dict[str, Any]:
    return {"RoleId": role.role_id, "RoleName": role.role_name, "Arn": role.arn,
            "Description": role.description, "AssumeRolePolicyDocument": role.trust_policy,
            "MaxSessionDuration": role.max_session_duration, "CreateDate": role.created_at,
            "UpdateDate": role.updated_at}


def _paged(call: Call, outer: str, inner: str, items: list[dict[str, Any]],
           name_field: str) -> dict[str, Any]:
    chosen, following = read_page(call, items, lambda item: key_of(item[name_field]))
    return paged_body(outer, inner, chosen, following)


@RAM.action("CreateGroup", resource=named("group", "GroupName"), rw="Write")
def create_group(call: Call) -> dict[str, Any]:
    group = _groups(call).create(call.params.str("GroupName", required=True),
                                 call.params.str("Comments", default="") or "")
    call.touched(GROUP, group.group_name)
    body = _group_body(group)
    body.pop("UpdateDate")
    return {"Group": body}


@RAM.action("GetGroup", resource=named("group", "GroupName"), rw="Read")
def get_group(call: Call) -> dict[str, Any]:
    return {"Group": _group_body(_groups(call).get(call.params.str("GroupName",
                                                                   required=True)))}


@RAM.action("UpdateGroup", resource=named("group", "GroupName"), rw="Write")
def update_group(call: Call) -> dict[str, Any]:
    group = _groups(call).update(call.params.str("GroupName", required=True),
                                 call.params.str("NewGroupName"),
                                 call.params.str("NewComments"))
    call.touched(GROUP, group.group_name)
    return {"Group": _group_body(group)}


@RAM.action("ListGroups", resource=every("group"), rw="Read")
def list_groups(call: Call) -> dict[str, Any]:
    return _paged(call, "Groups", "Group", [_group_body(g) for g in _groups(call).listing()],
                  "GroupName")


@RAM.action("DeleteGroup", resource=named("group", "GroupName"), rw="Write")
def delete_group(call: Call) -> dict[str, Any]:
    name = call.params.str("GroupName", required=True)
    _groups(call).delete(name)
    call.touched(GROUP, name)
    return {}


@RAM.action("AddUserToGroup", resource=named("group", "GroupName"), rw="Write")
def add_user_to_group(call: Call) -> dict[str, Any]:
    group, user = (call.params.str("GroupName", required=True),
                   call.params.str("UserName", required=True))
    _groups(call).add_user(group, user)
    call.touched(GROUP, group)
    call.touched("ACS::RAM::User", user)
    return {}


@RAM.action("RemoveUserFromGroup", resource=named("group", "GroupName"), rw="Write")
def remove_user_from_group(call: Call) -> dict[str, Any]:
    group, user = (call.params.str("GroupName", required=True),
                   call.params.str("UserName", required=True))
    _groups(call).remove_user(group, user)
    call.touched(GROUP, group)
    call.touched("ACS::RAM::User", user)
    return {}


@RAM.action("ListGroupsForUser", resource=named("user", "UserName"), rw="Read")
def list_groups_for_user(call: Call) -> dict[str, Any]:
    groups = _groups(call).groups_of(call.params.str("UserName", required=True))
    return {"Groups": {"Group": [
        {"GroupId": g.group_id, "GroupName": g.group_name, "Comments": g.comments,
         "JoinDate": joined} for g, joined in groups]}}


@RAM.action("ListUsersForGroup", resource=named("group", "GroupName"), rw="Read")
def list_users_for_group(call: Call) -> dict[str, Any]:
    members = _groups(call).members(call.params.str("GroupName", required=True))
    return _paged(call, "Users", "User", [
        {"UserName": u.user_name, "DisplayName": u.display_name, "JoinDate": joined}
        for u, joined in members], "UserName")


@RAM.action("CreateRole", resource=named("role", "RoleName"), rw="Write")
def create_role(call: Call) -> dict[str, Any]:
    params = call.params
    role = _roles(call).create(
        params.str("RoleName", required=True), params.str("AssumeRolePolicyDocument",
                                                          required=True),
        params.str("Description", default="") or "",
        int(params.int("MaxSessionDuration", default=3600)))
    call.touched(ROLE, role.role_name)
    body = _role_body(role)
    body.pop("UpdateDate")
    return {"Role": body}


@RAM.action("GetRole", resource=named("role", "RoleName"), rw="Read")
def get_role(call: Call) -> dict[str, Any]:
    role = _roles(call).get(call.params.str("RoleName", required=True))
    return {"Role": {**_role_body(role), "IsServiceLinkedRole": False,
                     "RolePrincipalName": f"{role.role_name}@role.{call.context.account_id}"
                                          ".onaliyunservice.com"}}


@RAM.action("UpdateRole", resource=named("role", "RoleName"), rw="Write")
def update_role(call: Call) -> dict[str, Any]:
    params = call.params
    duration = params.int("NewMaxSessionDuration")
    role = _roles(call).update(params.str("RoleName", required=True),
                               params.str("NewAssumeRolePolicyDocument"),
                               int(duration) if duration is not None else None,
                               params.str("NewDescription"))
    call.touched(ROLE, role.role_name)
    return {"Role": _role_body(role)}


@RAM.action("ListRoles", resource=every("role"), rw="Read")
def list_roles(call: Call) -> dict[str, Any]:
    roles = []
    for role in _roles(call).listing():
        body = _role_body(role)
        body.pop("AssumeRolePolicyDocument")
        roles.append(body)
    return _paged(call, "Roles", "Role", roles, "RoleName")


@RAM.action("DeleteRole", resource=named("role", "RoleName"), rw="Write")
def delete_role(call: Call) -> dict[str, Any]:
    name = call.params.str("RoleName", required=True)
    _roles(call).delete(name)
    call.touched(ROLE, name)
    return {}
