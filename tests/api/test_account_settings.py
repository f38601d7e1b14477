"""The security preference and the account alias through the official SDK: the nested
response, partial updates, error codes, and the RAM check on the account's `*` resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_ram20150501 import models as ram_models
from Tea.exceptions import TeaException

from tests.api.sdk import SdkClients, error_of, make_user

DEFAULTS: dict[str, Any] = {
    "enable_save_mfaticket": False, "allow_user_to_change_password": True,
    "allow_user_to_manage_access_keys": False, "allow_user_to_manage_mfadevices": True,
    "allow_user_to_manage_public_keys": False, "login_session_duration": 6,
    "login_network_masks": "",
}


def _refused(call: Any) -> tuple[int, str]:
    with pytest.raises(TeaException) as raised:
        call()
    return error_of(raised.value)


def _set(admin: SdkClients, **fields: Any) -> Any:
    return admin.ram.set_security_preference(
        ram_models.SetSecurityPreferenceRequest(**fields)).body.security_preference


@pytest.fixture
def preference_restored(admin: SdkClients) -> Iterator[None]:
    """The preference is account-wide and the server is shared: put the defaults back."""
    yield
    restored = _set(admin, **DEFAULTS).login_profile_preference
    assert restored.login_network_masks == ""


@pytest.fixture
def alias_restored(admin: SdkClients) -> Iterator[str]:
    before = admin.ram.get_account_alias().body.account_alias
    yield before
    if before:
        admin.ram.set_account_alias(ram_models.SetAccountAliasRequest(account_alias=before))
    else:
        admin.ram.clear_account_alias()


@pytest.mark.usefixtures("preference_restored")
def test_security_preference_round_trip(admin: SdkClients) -> None:
    set_body = _set(admin, enable_save_mfaticket=True, allow_user_to_change_password=False,
                    allow_user_to_manage_access_keys=True,
                    allow_user_to_manage_mfadevices=False, login_session_duration=12,
                    login_network_masks="10.0.0.0/8;192.168.0.0/16")
    expected = {
        "LoginProfilePreference": {"EnableSaveMFATicket": True,
                                   "AllowUserToChangePassword": False,
                                   "LoginSessionDuration": 12,
                                   "LoginNetworkMasks": "10.0.0.0/8;192.168.0.0/16"},
        "AccessKeyPreference": {"AllowUserToManageAccessKeys": True},
        "MFAPreference": {"AllowUserToManageMFADevices": False},
        "PublicKeyPreference": {"AllowUserToManagePublicKeys": False},
    }
    assert set_body.to_map() == expected
    assert admin.ram.get_security_preference().body.security_preference.to_map() == expected


@pytest.mark.usefixtures("preference_restored")
def test_omitted_fields_keep_their_values(admin: SdkClients) -> None:
    _set(admin, login_session_duration=8, allow_user_to_manage_access_keys=True)
    after = _set(admin, enable_save_mfaticket=True)
    assert after.login_profile_preference.login_session_duration == 8
    assert after.access_key_preference.allow_user_to_manage_access_keys is True
    assert after.login_profile_preference.enable_save_mfaticket is True


@pytest.mark.usefixtures("preference_restored")
@pytest.mark.parametrize(("fields", "code"), [
    ({"login_session_duration": 0}, "InvalidParameter.LoginSessionDuration.Range"),
    ({"login_session_duration": 25}, "InvalidParameter.LoginSessionDuration.Range"),
    ({"login_network_masks": "10.0.0.0/40"}, "InvalidParameter.LoginNetworkMasks.Format"),
    ({"login_network_masks": ";".join(f"10.0.0.{i}" for i in range(41))},
     "InvalidParameter.LoginNetworkMasks.Length"),
])
def test_bad_preferences_are_refused(admin: SdkClients, fields: dict[str, Any],
                                     code: str) -> None:
    assert _refused(lambda: _set(admin, **fields)) == (400, code)
    assert admin.ram.get_security_preference().body.security_preference.to_map()[
        "LoginProfilePreference"]["LoginSessionDuration"] == 6


def test_account_alias_set_get_clear(admin: SdkClients, unique: str,
                                     alias_restored: str) -> None:
    alias = f"{unique}-company"
    admin.ram.set_account_alias(ram_models.SetAccountAliasRequest(account_alias=alias))
    assert admin.ram.get_account_alias().body.account_alias == alias
    admin.ram.clear_account_alias()
    assert admin.ram.get_account_alias().body.account_alias == ""


@pytest.mark.parametrize(("alias", "code"), [
    ("ab", "InvalidParameter.AccountAlias.Length"),
    ("a" * 64, "InvalidParameter.AccountAlias.Length"),
    ("Upper-Case", "InvalidParameter.AccountAlias.Format"),
    ("double--hyphen", "InvalidParameter.AccountAlias.Format"),
    ("-leading", "InvalidParameter.AccountAlias.Format"),
])
def test_bad_aliases_are_refused(admin: SdkClients, alias: str, code: str,
                                 alias_restored: str) -> None:
    assert _refused(lambda: admin.ram.set_account_alias(
        ram_models.SetAccountAliasRequest(account_alias=alias))) == (400, code)
    assert admin.ram.get_account_alias().body.account_alias == alias_restored


def test_a_missing_alias_is_refused(admin: SdkClients) -> None:
    assert _refused(lambda: admin.ram.set_account_alias(
        ram_models.SetAccountAliasRequest())) == (400, "MissingAccountAlias")


def test_settings_are_checked_on_the_accounts_resource(admin: SdkClients, unique: str) -> None:
    account = admin.server.account_id
    reader = make_user(admin, f"{unique}-reader", {
        "Effect": "Allow", "Action": ["ram:GetSecurityPreference", "ram:GetAccountAlias"],
        "Resource": f"acs:ram:*:{account}:*"})
    assert reader.ram.get_security_preference().body.security_preference is not None
    reader.ram.get_account_alias()
    assert _refused(lambda: reader.ram.set_security_preference(
        ram_models.SetSecurityPreferenceRequest(login_session_duration=7))) == \
        (403, "NoPermission")
    assert _refused(lambda: reader.ram.clear_account_alias()) == (403, "NoPermission")
    assert _refused(lambda: reader.ram.get_password_policy()) == (403, "NoPermission")
