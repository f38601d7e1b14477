"""RAM's user and AccessKey actions on the wire."""

from __future__ import annotations

from typing import Any

from ramparts.services.call import Call
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.services.ram.models import AccessKey, User
from ramparts.services.ram.names import key_of
from ramparts.services.ram.paging import paged_body, read_page
from ramparts.services.ram.product import RAM, every, named, own_user
from ramparts.services.ram.users import UserBackend

__all__ = ["user_body"]

USER = "ACS::RAM::User"


def user_body(user: User, *, with_login: bool = False) -> dict[str, Any]:
    body = {
        "UserId": user.user_id, "UserName": user.user_name, "DisplayName": user.display_name,
        "Email": user.email, "MobilePhone": user.mobile_phone, "Comments": user.comments,
        "CreateDate": user.created_at, "UpdateDate": user.updated_at,
    }
    if with_login:
        body["LastLoginDate"] = user.last_login_at or ""
    return body


def _users(call: Call) -> UserBackend:
    return UserBackend(call.tx, call.env, call.context.account_id)


def _keys(call: Call) -> AccessKeyBackend:
    return AccessKeyBackend(call.tx, call.env, call.context.account_id)


def _key_body(key: AccessKey) -> dict[str, Any]:
    return {"AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": key.created_at}


@RAM.action("CreateUser", resource=named("user", "UserName"), rw="Write")
def create_user(call: Call) -> dict[str, Any]:
    params = call.params
    user = _users(call).create(
        params.str("UserName", required=True), params.str("DisplayName", default="") or "",
        params.str("Email", default="") or "", params.str("MobilePhone", default="") or "",
        params.str("Comments", default="") or "")
    call.touched(USER, user.user_name)
    body = user_body(user)
    body.pop("UpdateDate")
    return {"User": body}


@RAM.action("GetUser", resource=named("user", "UserName"), rw="Read")
def get_user(call: Call) -> dict[str, Any]:
    user = _users(call).get(own_user(call))
    call.touched(USER, user.user_name)
    return {"User": user_body(user, with_login=True)}


@RAM.action("UpdateUser", resource=named("user", "UserName"), rw="Write")
def update_user(call: Call) -> dict[str, Any]:
    params = call.params
    user = _users(call).update(
        params.str("UserName", required=True), new_name=params.str("NewUserName"),
        display_name=params.str("NewDisplayName"), email=params.str("NewEmail"),
        mobile_phone=params.str("NewMobilePhone"), comments=params.str("NewComments"))
    call.touched(USER, user.user_name)
    return {"User": user_body(user)}


@RAM.action("ListUsers", resource=every("user"), rw="Read")
def list_users(call: Call) -> dict[str, Any]:
    users, following = read_page(call, _users(call).listing(), lambda u: key_of(u.user_name))
    return paged_body("Users", "User", [user_body(u) for u in users], following)


@RAM.action("DeleteUser", resource=named("user", "UserName"), rw="Write")
def delete_user(call: Call) -> dict[str, Any]:
    name = call.params.str("UserName", required=True)
    _users(call).delete(name)
    call.touched(USER, name)
    return {}


@RAM.action("CreateAccessKey", resource=named("user", "UserName"), rw="Write",
            secret_response=("AccessKeySecret",))
def create_access_key(call: Call) -> dict[str, Any]:
    user_name = own_user(call)
    key, secret = _keys(call).create(user_name)
    call.touched(USER, key.user_name)
    return {"AccessKey": {**_key_body(key), "AccessKeySecret": secret}}


@RAM.action("ListAccessKeys", resource=named("user", "UserName"), rw="Read")
def list_access_keys(call: Call) -> dict[str, Any]:
    keys = _keys(call).listing(own_user(call))
    return {"AccessKeys": {"AccessKey": [_key_body(k) for k in keys]}}


@RAM.action("UpdateAccessKey", resource=named("user", "UserName"), rw="Write")
def update_access_key(call: Call) -> dict[str, Any]:
    user_name = own_user(call)
    _keys(call).update(user_name, call.params.str("UserAccessKeyId", required=True),
                       call.params.str("Status", required=True))
    call.touched(USER, user_name)
    return {}


@RAM.action("DeleteAccessKey", resource=named("user", "UserName"), rw="Write")
def delete_access_key(call: Call) -> dict[str, Any]:
    user_name = own_user(call)
    _keys(call).delete(user_name, call.params.str("UserAccessKeyId", required=True))
    call.touched(USER, user_name)
    return {}


@RAM.action("GetAccessKeyLastUsed", resource=named("user", "UserName"), rw="Read")
def get_access_key_last_used(call: Call) -> dict[str, Any]:
    key = _keys(call).last_used(own_user(call), call.params.str("UserAccessKeyId",
                                                                 required=True))
    return {"AccessKeyLastUsed": {"LastUsedDate": key.last_used_at or ""}}
