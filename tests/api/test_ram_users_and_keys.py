"""RAM users and their AccessKeys through the official SDK: the documented response shapes, name
rules, deletion conflicts, paging, the two-key limit, a secret shown once, and key status as
authentication sees it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_ram20150501 import models as ram_models

from ramparts.core.clock import parse_iso8601
from ramparts.protocol.client import ApiClient
from tests.api.refusals import ISO_SECONDS, refused
from tests.api.sdk import Credentials, SdkClients, make_user

USER_FIELDS = {"UserId", "UserName", "DisplayName", "Email", "MobilePhone", "Comments",
               "CreateDate"}
KEY_FIELDS = {"AccessKeyId", "Status", "CreateDate"}
PASSWORD = "Sign-In-Password-42"
SIGNIN_VERSION = "2026-01-01"


def create_user(admin: SdkClients, name: str, **fields: str) -> ram_models.CreateUserResponseBody:
    return admin.ram.create_user(ram_models.CreateUserRequest(user_name=name, **fields)).body


def get_user(admin: SdkClients, name: str) -> dict[str, str]:
    user = admin.ram.get_user(ram_models.GetUserRequest(user_name=name)).body.to_map()["User"]
    return dict(user)


def create_key(admin: SdkClients, user: str | None) -> dict[str, str]:
    body = admin.ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name=user)).body
    return dict(body.to_map()["AccessKey"])


def list_keys(admin: SdkClients, user: str) -> list[dict[str, str]]:
    body = admin.ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name=user)).body
    return list(body.to_map()["AccessKeys"]["AccessKey"])


def set_status(admin: SdkClients, user: str, key_id: str, status: str) -> None:
    admin.ram.update_access_key(ram_models.UpdateAccessKeyRequest(
        user_name=user, user_access_key_id=key_id, status=status))


def all_user_names(admin: SdkClients, max_items: int) -> list[str]:
    """Every user name ListUsers returns, walking the pages `max_items` at a time."""
    names: list[str] = []
    marker = None
    while True:
        body = admin.ram.list_users(ram_models.ListUsersRequest(
            marker=marker, max_items=max_items)).body.to_map()
        page = body["Users"]["User"]
        assert len(page) <= max_items
        names += [u["UserName"] for u in page]
        if not body["IsTruncated"]:
            assert "Marker" not in body
            return names
        assert page
        assert body["Marker"]
        marker = body["Marker"]


# ---- users


def test_user_lifecycle_and_response_shapes(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-alice"
    created = create_user(admin, name, display_name="Alice", email="alice@example.com",
                          mobile_phone="86-18600008888", comments="first").to_map()["User"]
    assert set(created) == USER_FIELDS
    assert re.fullmatch(r"[1-9]\d{15}", created["UserId"])
    assert (created["UserName"], created["DisplayName"], created["Email"],
            created["MobilePhone"], created["Comments"]) == (
        name, "Alice", "alice@example.com", "86-18600008888", "first")
    assert re.fullmatch(ISO_SECONDS, created["CreateDate"])

    got = get_user(admin, name)
    assert set(got) == USER_FIELDS | {"UpdateDate", "LastLoginDate"}
    assert got["UserId"] == created["UserId"]

    renamed = admin.ram.update_user(ram_models.UpdateUserRequest(
        user_name=name, new_user_name=f"{unique}-alicia", new_display_name="Alicia",
        new_comments="renamed")).body.to_map()["User"]
    assert set(renamed) == USER_FIELDS | {"UpdateDate"}
    assert (renamed["UserName"], renamed["DisplayName"], renamed["Comments"]) == (
        f"{unique}-alicia", "Alicia", "renamed")
    assert renamed["UserId"] == created["UserId"]
    assert renamed["Email"] == "alice@example.com"  # untouched fields stay
    assert refused(lambda: get_user(admin, name)) == (404, "EntityNotExist.User")
    assert get_user(admin, f"{unique}-alicia")["UserId"] == created["UserId"]

    listed = {u["UserName"]: u for u in admin.ram.list_users(
        ram_models.ListUsersRequest(max_items=1000)).body.to_map()["Users"]["User"]}
    assert set(listed[f"{unique}-alicia"]) == USER_FIELDS | {"UpdateDate"}

    admin.ram.delete_user(ram_models.DeleteUserRequest(user_name=f"{unique}-alicia"))
    assert refused(lambda: get_user(admin, f"{unique}-alicia")) == (404, "EntityNotExist.User")
    assert refused(lambda: admin.ram.delete_user(ram_models.DeleteUserRequest(
        user_name=f"{unique}-alicia"))) == (404, "EntityNotExist.User")


def test_a_rename_keeps_what_the_user_has(admin: SdkClients, unique: str) -> None:
    """Keys, groups and policies follow the user to its new name; its key still signs."""
    name, new_name = f"{unique}-bob", f"{unique}-robert"
    bob = make_user(admin, name, {"Effect": "Allow", "Action": "ram:GetUser",
                                  "Resource": f"acs:ram:*:*:user/{new_name}"})
    admin.ram.update_user(ram_models.UpdateUserRequest(user_name=name, new_user_name=new_name))
    assert [k["AccessKeyId"] for k in list_keys(admin, new_name)] == [bob.creds.access_key_id]
    assert bob.ram.get_user(ram_models.GetUserRequest(
        user_name=new_name)).body.user.user_name == new_name
    policies = admin.ram.list_policies_for_user(ram_models.ListPoliciesForUserRequest(
        user_name=new_name)).body.to_map()["Policies"]["Policy"]
    assert [p["PolicyName"] for p in policies] == [f"{name}-policy"]


@pytest.mark.parametrize(("fields", "code"), [
    ({"user_name": "x" * 65}, "InvalidParameter.UserName.Length"),
    ({"user_name": "has space"}, "InvalidParameter.UserName.InvalidChars"),
    ({"user_name": "slash/name"}, "InvalidParameter.UserName.InvalidChars"),
    ({"user_name": "at@sign"}, "InvalidParameter.UserName.InvalidChars"),
    ({"user_name": "ok", "display_name": "d" * 129}, "InvalidParameter.DisplayName.Length"),
    ({"user_name": "ok", "email": "not-an-address"}, "InvalidParameter.Email.Format"),
    ({"user_name": "ok", "mobile_phone": "12345"}, "InvalidParameter.MobilePhone.Format"),
    ({"user_name": "ok", "comments": "c" * 129}, "InvalidParameter.Comments.Length"),
])
def test_create_user_validates_its_parameters(admin: SdkClients, unique: str,
                                              fields: dict[str, str], code: str) -> None:
    if fields["user_name"] == "ok":
        fields = {**fields, "user_name": f"{unique}-ok"}
    assert refused(lambda: admin.ram.create_user(ram_models.CreateUserRequest(**fields))) == (
        400, code)
    assert refused(lambda: get_user(admin, f"{unique}-ok"))[1] == "EntityNotExist.User"


def test_user_names_of_every_allowed_shape_and_length(admin: SdkClients, unique: str) -> None:
    longest = f"{unique}-" + "a" * (64 - len(unique) - 1)
    for name in (longest, f"{unique}-A.b_c-9"):
        assert create_user(admin, name).user.user_name == name
        admin.ram.delete_user(ram_models.DeleteUserRequest(user_name=name))


@pytest.mark.parametrize(("fields", "code"), [
    ({"new_user_name": "n" * 65}, "InvalidParameter.NewUserName.Length"),
    ({"new_user_name": "bad name"}, "InvalidParameter.NewUserName.InvalidChars"),
    ({"new_display_name": "d" * 129}, "InvalidParameter.NewDisplayName.Length"),
    ({"new_email": "nope"}, "InvalidParameter.NewEmail.Format"),
    ({"new_mobile_phone": "86 1860000"}, "InvalidParameter.NewMobilePhone.Format"),
    ({"new_comments": "c" * 129}, "InvalidParameter.NewComments.Length"),
])
def test_update_user_validates_its_parameters(admin: SdkClients, unique: str,
                                              fields: dict[str, str], code: str) -> None:
    name = f"{unique}-carol"
    create_user(admin, name, display_name="Carol")
    assert refused(lambda: admin.ram.update_user(ram_models.UpdateUserRequest(
        user_name=name, **fields))) == (400, code)
    assert get_user(admin, name)["DisplayName"] == "Carol"


def test_duplicate_user_names_are_refused(admin: SdkClients, unique: str) -> None:
    create_user(admin, f"{unique}-dave")
    create_user(admin, f"{unique}-erin")
    assert refused(lambda: create_user(admin, f"{unique}-dave")) == (
        409, "EntityAlreadyExists.User")
    assert refused(lambda: create_user(admin, f"{unique}-DAVE")) == (
        409, "EntityAlreadyExists.User")
    assert refused(lambda: admin.ram.update_user(ram_models.UpdateUserRequest(
        user_name=f"{unique}-erin", new_user_name=f"{unique}-dave"))) == (
        409, "EntityAlreadyExists.User")
    assert get_user(admin, f"{unique}-erin")["UserName"] == f"{unique}-erin"


def test_deleting_a_user_is_refused_while_it_has_dependents(admin: SdkClients,
                                                            unique: str) -> None:
    name, group = f"{unique}-frank", f"{unique}-team"
    ram = admin.ram
    create_user(admin, name)
    key = create_key(admin, name)

    def delete() -> object:
        return ram.delete_user(ram_models.DeleteUserRequest(user_name=name))

    assert refused(delete) == (409, "DeleteConflict.User.AccessKey")
    ram.delete_access_key(ram_models.DeleteAccessKeyRequest(
        user_name=name, user_access_key_id=key["AccessKeyId"]))

    ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="System", policy_name="ReadOnlyAccess", user_name=name))
    assert refused(delete) == (409, "DeleteConflict.User.Policy")
    ram.detach_policy_from_user(ram_models.DetachPolicyFromUserRequest(
        policy_type="System", policy_name="ReadOnlyAccess", user_name=name))

    ram.create_group(ram_models.CreateGroupRequest(group_name=group))
    ram.add_user_to_group(ram_models.AddUserToGroupRequest(group_name=group, user_name=name))
    assert refused(delete) == (409, "DeleteConflict.User.Group")
    ram.remove_user_from_group(ram_models.RemoveUserFromGroupRequest(group_name=group,
                                                                     user_name=name))
    ram.delete_group(ram_models.DeleteGroupRequest(group_name=group))

    assert get_user(admin, name)["UserName"] == name  # every refusal left it in place
    delete()
    assert refused(lambda: get_user(admin, name)) == (404, "EntityNotExist.User")


def test_list_users_pages_show_every_user_exactly_once(admin: SdkClients, unique: str) -> None:
    mine = [f"{unique}-page{i}" for i in range(7)]
    for name in mine:
        create_user(admin, name)
    everyone = all_user_names(admin, 1000)
    for size in (1, 2, 3):
        paged = all_user_names(admin, size)
        assert paged == everyone
    assert sorted(n for n in everyone if n.startswith(f"{unique}-")) == mine
    assert len(everyone) == len(set(everyone))


def test_a_page_boundary_survives_deletions(admin: SdkClients, unique: str) -> None:
    """Users deleted from pages already read shift no later user out of sight."""
    mine = [f"{unique}-walk{i}" for i in range(6)]
    for name in mine:
        create_user(admin, name)
    seen: list[str] = []
    marker, deleted = None, False
    while True:
        body = admin.ram.list_users(ram_models.ListUsersRequest(
            marker=marker, max_items=2)).body.to_map()
        page = [u["UserName"] for u in body["Users"]["User"]]
        seen += page
        if not deleted and any(n in mine for n in page):
            for name in page:
                if name in mine:
                    admin.ram.delete_user(ram_models.DeleteUserRequest(user_name=name))
            deleted = True
        if not body["IsTruncated"]:
            break
        marker = body["Marker"]
    assert [n for n in seen if n in mine] == mine


def test_list_users_refuses_a_marker_it_did_not_issue(admin: SdkClients) -> None:
    status, code = refused(lambda: admin.ram.list_users(ram_models.ListUsersRequest(
        marker="not a marker", max_items=10)))
    assert (status, code) == (400, "InvalidParameter.Marker.Format")


def test_list_users_max_items_bounds(admin: SdkClients) -> None:
    for bad in (0, 1001):
        status, code = refused(lambda bad=bad: admin.ram.list_users(  # type: ignore[misc]
            ram_models.ListUsersRequest(max_items=bad)))
        assert (status, code) == (400, "InvalidParameter.MaxItems")


# ---- AccessKeys


def test_access_key_shape_and_a_secret_shown_once(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-gina"
    create_user(admin, name)
    key = create_key(admin, name)
    assert set(key) == KEY_FIELDS | {"AccessKeySecret"}
    assert re.fullmatch(r"LTAI[A-Za-z0-9]{20}", key["AccessKeyId"])
    secret = key["AccessKeySecret"]
    assert re.fullmatch(r"[A-Za-z0-9]{30}", secret)
    assert key["Status"] == "Active"
    assert re.fullmatch(ISO_SECONDS, key["CreateDate"])

    listed = list_keys(admin, name)
    assert listed == [{k: key[k] for k in KEY_FIELDS}]
    answers = [
        admin.ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name=name)).body,
        admin.ram.get_user(ram_models.GetUserRequest(user_name=name)).body,
        admin.ram.get_access_key_last_used(ram_models.GetAccessKeyLastUsedRequest(
            user_name=name, user_access_key_id=key["AccessKeyId"])).body,
        admin.ram.update_access_key(ram_models.UpdateAccessKeyRequest(
            user_name=name, user_access_key_id=key["AccessKeyId"], status="Active")).body,
    ]
    for answer in answers:
        assert secret not in json.dumps(answer.to_map())
    with admin.server.runtime.store.transaction() as tx:
        bodies = [str(r["body"]) for r in tx.query("SELECT body FROM trail_events")]
    assert not [b for b in bodies if secret in b]
    assert [b for b in bodies if key["AccessKeyId"] in b and '"CreateAccessKey"' in b]


def test_at_most_two_keys_per_user(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-hank"
    hank = make_user(admin, name, {"Effect": "Allow", "Action": "ram:CreateAccessKey",
                                   "Resource": f"acs:ram:*:*:user/{name}"})
    own = create_key(hank, None)  # no UserName: the caller's own key
    assert {k["AccessKeyId"] for k in list_keys(admin, name)} == {
        hank.creds.access_key_id, own["AccessKeyId"]}
    assert refused(lambda: create_key(admin, name)) == (409, "LimitExceeded.User.AccessKey")
    assert refused(lambda: create_key(hank, None)) == (409, "LimitExceeded.User.AccessKey")
    assert len(list_keys(admin, name)) == 2


def test_key_status_is_what_authentication_sees(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-ivy"
    ivy = make_user(admin, name)
    key_id = ivy.creds.access_key_id
    assert ivy.sts.get_caller_identity().body.user_id

    set_status(admin, name, key_id, "Inactive")
    assert list_keys(admin, name)[0]["Status"] == "Inactive"
    assert refused(lambda: ivy.sts.get_caller_identity()) == (400,
                                                              "InvalidAccessKeyId.Inactive")
    assert refused(lambda: ivy.ram.get_user(ram_models.GetUserRequest(user_name=name))) == (
        400, "InvalidAccessKeyId.Inactive")

    set_status(admin, name, key_id, "Active")
    assert ivy.sts.get_caller_identity().body.user_id

    assert refused(lambda: set_status(admin, name, key_id, "Disabled"))[0] == 400
    assert refused(lambda: set_status(admin, name, "LTAI" + "0" * 20, "Inactive")) == (
        404, "EntityNotExist.User.AccessKey")
    assert refused(lambda: set_status(admin, f"{unique}-nobody", key_id, "Inactive")) == (
        404, "EntityNotExist.User")

    admin.ram.delete_access_key(ram_models.DeleteAccessKeyRequest(
        user_name=name, user_access_key_id=key_id))
    assert list_keys(admin, name) == []
    assert refused(lambda: ivy.sts.get_caller_identity()) == (404,
                                                              "InvalidAccessKeyId.NotFound")
    assert refused(lambda: admin.ram.delete_access_key(ram_models.DeleteAccessKeyRequest(
        user_name=name, user_access_key_id=key_id))) == (404, "EntityNotExist.User.AccessKey")


def test_a_key_is_managed_only_under_its_own_user(admin: SdkClients, unique: str) -> None:
    jack = make_user(admin, f"{unique}-jack")
    create_user(admin, f"{unique}-jill")
    other = (f"{unique}-jill", jack.creds.access_key_id)
    assert refused(lambda: set_status(admin, *other, "Inactive")) == (
        404, "EntityNotExist.User.AccessKey")
    assert refused(lambda: admin.ram.delete_access_key(ram_models.DeleteAccessKeyRequest(
        user_name=other[0], user_access_key_id=other[1]))) == (
        404, "EntityNotExist.User.AccessKey")
    assert jack.sts.get_caller_identity().body.user_id


def test_last_used_reflects_a_real_call(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-kate"
    kate = make_user(admin, name)
    key_id = kate.creds.access_key_id

    def last_used() -> str:
        body = admin.ram.get_access_key_last_used(ram_models.GetAccessKeyLastUsedRequest(
            user_name=name, user_access_key_id=key_id)).body.to_map()
        assert set(body["AccessKeyLastUsed"]) <= {"LastUsedDate"}
        return str(body["AccessKeyLastUsed"].get("LastUsedDate") or "")

    assert last_used() == ""
    before = datetime.now(UTC).replace(microsecond=0)
    kate.sts.get_caller_identity()
    after = datetime.now(UTC) + timedelta(seconds=1)
    used = last_used()
    assert re.fullmatch(ISO_SECONDS, used)
    assert before <= parse_iso8601(used) <= after
    with admin.server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT last_used_service FROM access_keys WHERE "
                           "access_key_id = ?", (key_id,))
    assert row is not None
    assert row["last_used_service"] == "Sts"

    assert refused(lambda: admin.ram.get_access_key_last_used(
        ram_models.GetAccessKeyLastUsedRequest(user_name=name,
                                               user_access_key_id="LTAI" + "1" * 20))) == (
        404, "EntityNotExist.User.AccessKey")


def test_a_deleted_key_cannot_sign_even_with_its_secret(admin: SdkClients, unique: str) -> None:
    name = f"{unique}-liam"
    create_user(admin, name)
    key = create_key(admin, name)
    clients = SdkClients(admin.server, Credentials(key["AccessKeyId"], key["AccessKeySecret"]),
                         admin.algorithm)
    assert clients.sts.get_caller_identity().body.user_id
    admin.ram.delete_access_key(ram_models.DeleteAccessKeyRequest(
        user_name=name, user_access_key_id=key["AccessKeyId"]))
    assert refused(lambda: clients.sts.get_caller_identity()) == (
        404, "InvalidAccessKeyId.NotFound")
    admin.ram.delete_user(ram_models.DeleteUserRequest(user_name=name))


# ---- sign-in sessions follow their user


def sign_in(admin: SdkClients, name: str) -> SdkClients:
    """A console sign-in session of `name`, as SDK clients."""
    admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name=name, password=PASSWORD))
    answer = ApiClient(admin.server.endpoint).call(
        SIGNIN_VERSION, "ConsoleSignin", {"PrincipalName": name, "Password": PASSWORD}, None)
    creds = answer["Credentials"]
    return SdkClients(admin.server, Credentials(creds["AccessKeyId"], creds["AccessKeySecret"],
                                                creds["SecurityToken"]), admin.algorithm)


def arn_of(clients: SdkClients) -> str:
    return str(clients.sts.get_caller_identity().body.arn)


def test_a_new_user_of_a_deleted_users_name_inherits_no_session(admin: SdkClients,
                                                                unique: str) -> None:
    name, account = f"{unique}-mona", admin.server.account_id
    create_user(admin, name)
    session = sign_in(admin, name)
    assert arn_of(session) == f"acs:ram::{account}:user/{name}"
    admin.ram.delete_login_profile(ram_models.DeleteLoginProfileRequest(user_name=name))
    admin.ram.delete_user(ram_models.DeleteUserRequest(user_name=name))
    create_user(admin, name)
    admin.ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="System", policy_name="ReadOnlyAccess", user_name=name))
    assert refused(lambda: arn_of(session)) == (404, "InvalidAccessKeyId.NotFound")
    assert refused(lambda: session.ram.list_users(ram_models.ListUsersRequest())) == (
        404, "InvalidAccessKeyId.NotFound")


def test_a_renamed_users_session_stays_its_own(admin: SdkClients, unique: str) -> None:
    name, new_name, account = f"{unique}-nora", f"{unique}-norah", admin.server.account_id
    create_user(admin, name)
    session = sign_in(admin, name)
    admin.ram.update_user(ram_models.UpdateUserRequest(user_name=name, new_user_name=new_name))
    assert arn_of(session) == f"acs:ram::{account}:user/{new_name}"
    create_user(admin, name)  # the old name, now someone else's
    assert arn_of(session) == f"acs:ram::{account}:user/{new_name}"
