"""Account settings: the security preference with its defaults and checks, the read helpers
sign-in code uses, and the account alias."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.core.errors import ServiceError
from ramparts.services.ram import account_settings
from ramparts.services.ram.account_settings import (
    AccountSettingsBackend,
    SecurityPreference,
    source_ip_allowed,
)
from tests.services.ram.account_env import AccountEnv, account_env


@pytest.fixture
def acct(tmp_path: Path) -> Iterator[AccountEnv]:
    env = account_env(tmp_path)
    yield env
    env.store.close()


def _run(acct: AccountEnv, method: str, *args: Any, **kwargs: Any) -> Any:
    with acct.tx() as tx:
        return getattr(AccountSettingsBackend(tx, acct.env, acct.account_id), method)(
            *args, **kwargs)


def _code(acct: AccountEnv, method: str, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        _run(acct, method, *args, **kwargs)
    return caught.value.error_code


def _helper(acct: AccountEnv, name: str) -> Any:
    with acct.tx() as tx:
        return getattr(account_settings, name)(tx, acct.account_id)


def test_the_documented_defaults(acct: AccountEnv) -> None:
    assert _run(acct, "security_preference") == SecurityPreference(
        enable_save_mfa_ticket=False, allow_user_to_change_password=True,
        allow_user_to_manage_access_keys=False, allow_user_to_manage_mfa_devices=True,
        allow_user_to_manage_public_keys=False, login_session_duration=6,
        login_network_masks="", mfa_operation_for_login="independent")


def test_every_field_is_stored_and_omitted_ones_keep_their_values(acct: AccountEnv) -> None:
    _run(acct, "set_security_preference", enable_save_mfa_ticket=True,
         allow_user_to_change_password=False, allow_user_to_manage_access_keys=True,
         allow_user_to_manage_mfa_devices=False, allow_user_to_manage_public_keys=True,
         login_session_duration=12, login_network_masks="10.0.0.0/8",
         mfa_operation_for_login="mandatory")
    _run(acct, "set_security_preference", login_session_duration=24)
    assert _run(acct, "security_preference") == SecurityPreference(
        enable_save_mfa_ticket=True, allow_user_to_change_password=False,
        allow_user_to_manage_access_keys=True, allow_user_to_manage_mfa_devices=False,
        allow_user_to_manage_public_keys=True, login_session_duration=24,
        login_network_masks="10.0.0.0/8", mfa_operation_for_login="mandatory")


@pytest.mark.parametrize(("hours", "valid"), [(0, False), (1, True), (24, True), (25, False)])
def test_login_session_duration_is_one_to_24_hours(acct: AccountEnv, hours: int,
                                                   valid: bool) -> None:
    if valid:
        assert _run(acct, "set_security_preference",
                    login_session_duration=hours).login_session_duration == hours
    else:
        assert _code(acct, "set_security_preference", login_session_duration=hours) == \
            "InvalidParameter.LoginSessionDuration.Range"


def test_masks_are_normalized_and_blank_clears_them(acct: AccountEnv) -> None:
    preference = _run(acct, "set_security_preference",
                      login_network_masks=" 10.0.0.0/8 ; 192.168.1.7;2001:db8::/32")
    assert preference.login_network_masks == "10.0.0.0/8;192.168.1.7;2001:db8::/32"
    assert _run(acct, "set_security_preference",
                login_network_masks="").login_network_masks == ""


@pytest.mark.parametrize(("masks", "code", "says"), [
    ("10.0.0.0/33", "Format", "'10.0.0.0/33'"),
    ("10.0.0.0/8;;", "Format", "''"),
    ("example.com", "Format", "'example.com'"),
    (";".join(f"10.0.0.{i}" for i in range(41)), "Length", "more than 40 masks"),
    (";".join(f"10.{i}.{i}.100/32" for i in range(40)), "Length", "512 characters"),
])
def test_bad_masks_are_refused(acct: AccountEnv, masks: str, code: str, says: str) -> None:
    with pytest.raises(ServiceError) as caught:
        _run(acct, "set_security_preference", login_network_masks=masks)
    assert caught.value.error_code == f"InvalidParameter.LoginNetworkMasks.{code}"
    assert says in caught.value.message
    assert _run(acct, "security_preference").login_network_masks == ""


def test_forty_masks_within_512_characters_are_accepted(acct: AccountEnv) -> None:
    masks = ";".join(f"10.0.{i}.0/24" for i in range(40))
    assert len(masks) <= 512
    assert len(_run(acct, "set_security_preference",
                    login_network_masks=masks).networks) == 40


def test_the_mfa_operation_is_one_of_the_documented_values(acct: AccountEnv) -> None:
    assert _code(acct, "set_security_preference", mfa_operation_for_login="always") == \
        "InvalidParameter.MFAOperationForLogin.Format"
    assert _helper(acct, "enforce_mfa_for_login") is False
    _run(acct, "set_security_preference", mfa_operation_for_login="adaptive")
    assert _helper(acct, "enforce_mfa_for_login") is False
    _run(acct, "set_security_preference", mfa_operation_for_login="mandatory")
    assert _helper(acct, "enforce_mfa_for_login") is True


def test_the_allow_helpers_read_the_preference(acct: AccountEnv) -> None:
    names = ["allow_user_to_change_password", "allow_user_to_manage_access_keys",
             "allow_user_to_manage_mfa_devices"]
    assert [_helper(acct, name) for name in names] == [True, False, True]
    _run(acct, "set_security_preference", allow_user_to_change_password=False,
         allow_user_to_manage_access_keys=True, allow_user_to_manage_mfa_devices=False)
    assert [_helper(acct, name) for name in names] == [False, True, False]


def test_login_network_masks_and_source_checks(acct: AccountEnv) -> None:
    assert _helper(acct, "login_network_masks") == ()
    assert source_ip_allowed((), "203.0.113.9")
    _run(acct, "set_security_preference", login_network_masks="10.0.0.0/8;192.168.1.7")
    networks = _helper(acct, "login_network_masks")
    assert networks == (ipaddress.ip_network("10.0.0.0/8"),
                        ipaddress.ip_network("192.168.1.7/32"))
    assert source_ip_allowed(networks, "10.200.3.4")
    assert source_ip_allowed(networks, "192.168.1.7")
    assert not source_ip_allowed(networks, "192.168.1.8")
    assert not source_ip_allowed(networks, "not-an-address")


# ---- the alias


def test_alias_set_get_clear(acct: AccountEnv) -> None:
    assert _run(acct, "alias") == ""
    _run(acct, "set_alias", "my-company-01")
    assert _run(acct, "alias") == "my-company-01"
    _run(acct, "set_alias", "renamed")
    assert _run(acct, "alias") == "renamed"
    _run(acct, "clear_alias")
    assert _run(acct, "alias") == ""


@pytest.mark.parametrize(("alias", "code"), [
    ("ab", "InvalidParameter.AccountAlias.Length"),
    ("a" * 64, "InvalidParameter.AccountAlias.Length"),
    ("My-Company", "InvalidParameter.AccountAlias.Format"),
    ("-company", "InvalidParameter.AccountAlias.Format"),
    ("company-", "InvalidParameter.AccountAlias.Format"),
    ("my--company", "InvalidParameter.AccountAlias.Format"),
    ("my_company", "InvalidParameter.AccountAlias.Format"),
])
def test_bad_aliases_are_refused(acct: AccountEnv, alias: str, code: str) -> None:
    assert _code(acct, "set_alias", alias) == code


def test_alias_bounds_are_accepted(acct: AccountEnv) -> None:
    _run(acct, "set_alias", "abc")
    _run(acct, "set_alias", "a" * 63)


def test_an_alias_belongs_to_one_account(acct: AccountEnv) -> None:
    with acct.tx() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES ('1000000000000002', 'taken-alias', 'cn-hangzhou', "
                   "'2026-01-01T00:00:00Z')")
    assert _code(acct, "set_alias", "taken-alias") == "EntityAlreadyExists.AccountAlias"
    _run(acct, "set_alias", "free-alias")
    _run(acct, "set_alias", "free-alias")  # setting one's own alias again is fine
