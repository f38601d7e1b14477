"""The bootstrap administrator reaches RAM and STS through both signature schemes."""

from __future__ import annotations

from alibabacloud_ram20150501 import models as ram_models

from tests.api.sdk import SdkClients


def test_admin_creates_and_reads_a_user(admin: SdkClients, unique: str) -> None:
    created = admin.ram.create_user(ram_models.CreateUserRequest(user_name=f"{unique}-alice",
                                                                 display_name="Alice")).body
    assert created.user.user_name == f"{unique}-alice"
    got = admin.ram.get_user(ram_models.GetUserRequest(user_name=f"{unique}-alice")).body
    assert got.user.display_name == "Alice"
    assert got.user.user_id == created.user.user_id


def test_caller_identity_is_the_admin_user(admin: SdkClients) -> None:
    identity = admin.sts.get_caller_identity().body
    assert identity.account_id == admin.server.account_id
    assert identity.arn == f"acs:ram::{admin.server.account_id}:user/admin"
    assert identity.identity_type == "RAMUser"
