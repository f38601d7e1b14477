"""Secrets written or issued through the API (passwords, AccessKey secrets, STS secrets and
tokens, MFA seeds) are found nowhere at rest or in logs: not in the SQLite files (WAL
included), not in the trail, not in the server's log output, in any usual encoding."""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_sts20150401 import models as sts_models
from Tea.exceptions import TeaException

from ramparts.protocol.registry import default_registry
from ramparts.protocol.signing import percent_encode
from ramparts.testing import RunningServer, start_server
from tests.api.raw import FORM, Answer, Signer, encode_query, send
from tests.api.sdk import Credentials, SdkClients, error_of, make_user, policy_json

RAM, STS, SIGNIN = "2015-05-01", "2015-04-01", "2026-01-01"
REGISTERED = {(spec.product.version, spec.name) for spec in default_registry()}
SERVER_LOGGERS = ("ramparts", "uvicorn")


def encodings(secret: str) -> set[bytes]:
    """The secret as text, hex, percent-encoded (once and twice, as in a string to sign) and
    base64 (standard and URL-safe, at each of the three byte alignments it could have inside
    a larger encoded value)."""
    raw = secret.encode("utf-8")
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode(),
             percent_encode(secret).encode(), percent_encode(percent_encode(secret)).encode()}
    for shift, start in ((0, 0), (1, 2), (2, 3)):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * shift + raw)
            # The first `start` characters depend on the bytes before the secret, the last
            # group on the bytes after it (or on the padding).
            forms.add(text[start:len(text) - 4])
    return forms


@dataclass
class Vault:
    """A private server, the canaries written through it, and where to look for them."""

    server: RunningServer
    caplog: pytest.LogCaptureFixture
    canaries: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> SdkClients:
        return SdkClients.admin(self.server)

    def canary(self, label: str, value: str) -> str:
        assert len(value) >= 12, f"{label} is too short to look for"
        self.canaries[label] = value
        return value

    def stored_files(self) -> dict[str, bytes]:
        data_dir = self.server.data_dir
        return {str(path.relative_to(data_dir)): path.read_bytes()
                for path in sorted(data_dir.rglob("*")) if path.is_file()}

    def trail(self) -> str:
        with self.server.runtime.store.transaction() as tx:
            rows = tx.query("SELECT * FROM trail_events ORDER BY seq")
        return "\n".join(repr(dict(row)) for row in rows)

    def server_logs(self) -> str:
        return "\n".join(
            f"{record.getMessage()}\n{record.exc_text or ''}\n{record.stack_info or ''}"
            for record in self.caplog.records if record.name.startswith(SERVER_LOGGERS))

    def assert_nowhere(self, places: dict[str, bytes]) -> None:
        found = [(label, place) for label, value in self.canaries.items()
                 for form in encodings(value) for place, data in places.items() if form in data]
        assert not found, f"secrets found: {sorted(set(found))}"


@pytest.fixture
def vault(tmp_path: Path, caplog: pytest.LogCaptureFixture,
          capfd: pytest.CaptureFixture[str]) -> Iterator[Vault]:
    """A server on SQLite of this test's own; after the test, every place is scanned (the
    files again once the server has stopped and checkpointed its WAL)."""
    with start_server(tmp_path / "data") as server:
        for name in SERVER_LOGGERS:  # the server sets its own level when it starts
            caplog.set_level(logging.DEBUG, logger=name)
        vault = Vault(server, caplog)
        yield vault
        assert vault.canaries, "the test wrote no canary"
        files = vault.stored_files()
        assert any(name.endswith("-wal") for name in files), sorted(files)
        trail = vault.trail()
        # The scans can find things: names written in the same calls are there.
        assert vault.server.account_id in trail
        vault.assert_nowhere({**{f"file {name}": data for name, data in files.items()},
                              "trail": trail.encode()})
        _invalid_http_request(server, vault.canaries)
    vault.assert_nowhere({f"file {name} (stopped)": data
                          for name, data in vault.stored_files().items()})
    captured = capfd.readouterr()
    assert "Invalid HTTP request" in captured.err + vault.server_logs()
    vault.assert_nowhere({"server logs": vault.server_logs().encode(),
                          "stdout": captured.out.encode(), "stderr": captured.err.encode()})


def _invalid_http_request(server: RunningServer, canaries: dict[str, str]) -> None:
    """One request the HTTP layer itself refuses and logs, carrying every canary."""
    target = "/?" + encode_query(list(canaries.items())) + "&pad=" + "p" * 70_000
    assert send(server, "GET", target).status == 400


# ---- the canaries


def test_access_key_secrets(vault: Vault) -> None:
    vault.canary("bootstrap admin secret", vault.server.admin_key[1])
    user = make_user(vault.admin, "keyholder")
    vault.canary("CreateAccessKey secret", user.creds.access_key_secret)
    # The key in use, with both schemes, and refused with a wrong secret.
    for algorithm in (None, "v2"):
        identity = SdkClients(vault.server, user.creds, algorithm).sts.get_caller_identity()
        assert identity.body.arn.endswith(":user/keyholder")
    stranger = Signer(vault.server, user.creds.access_key_id, "not-the-secret")
    assert stranger.rpc("GetCallerIdentity", STS).status == 400
    keys = vault.admin.ram.list_access_keys(ram_models.ListAccessKeysRequest(
        user_name="keyholder")).body
    assert keys.access_keys.access_key[0].access_key_id == user.creds.access_key_id


def test_sts_credentials(vault: Vault) -> None:
    account = vault.server.account_id
    trust = policy_json({"Effect": "Allow", "Action": "sts:AssumeRole",
                         "Principal": {"RAM": [f"acs:ram::{account}:root"]}})
    vault.admin.ram.create_role(ram_models.CreateRoleRequest(
        role_name="vaulted", assume_role_policy_document=trust))
    issued = vault.admin.sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=f"acs:ram::{account}:role/vaulted", role_session_name="canary",
        duration_seconds=900)).body.credentials
    vault.canary("STS AccessKey secret", issued.access_key_secret)
    vault.canary("STS security token", issued.security_token)
    session = Credentials(issued.access_key_id, issued.access_key_secret, issued.security_token)
    for algorithm in (None, "v2"):
        identity = SdkClients(vault.server, session, algorithm).sts.get_caller_identity().body
        assert identity.identity_type == "AssumedRoleUser"
    # A wrong signature: the answer quotes the string to sign (with the token, for RPC).
    wrong = Signer(vault.server, issued.access_key_id, "not-the-secret", issued.security_token)
    refused = wrong.rpc("GetCallerIdentity", STS)
    assert refused.json()["Code"] == "SignatureDoesNotMatch"
    assert issued.security_token in refused.json()["Message"]
    assert wrong.acs3("GetCallerIdentity", STS).json()["Code"] == "SignatureDoesNotMatch"
    # The token with another key, and a token that is not the session's.
    mismatched = Signer(vault.server, issued.access_key_id, issued.access_key_secret,
                        issued.security_token[:-4] + "AAAA")
    assert mismatched.rpc("GetCallerIdentity", STS).status == 400


@pytest.mark.skipif((RAM, "CreateLoginProfile") not in REGISTERED,
                    reason="CreateLoginProfile is not registered yet: no password can be set")
def test_login_passwords(vault: Vault) -> None:
    def password(label: str) -> str:
        return vault.canary(label, f"Cn{secrets.token_hex(10)}!Qz9")

    user = make_user(vault.admin, "signer",
                     {"Effect": "Allow", "Action": "ram:ChangePassword", "Resource": "*"})
    vault.admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name="signer", password=password("CreateLoginProfile password")))
    if (RAM, "UpdateLoginProfile") in REGISTERED:
        vault.admin.ram.update_login_profile(ram_models.UpdateLoginProfileRequest(
            user_name="signer", password=password("UpdateLoginProfile password")))
    if (RAM, "ChangePassword") in REGISTERED:
        old = vault.canaries.get("UpdateLoginProfile password",
                                 vault.canaries["CreateLoginProfile password"])
        user.ram.change_password(ram_models.ChangePasswordRequest(
            old_password=old, new_password=password("ChangePassword password")))
        with pytest.raises(TeaException):  # a wrong old password, itself a canary
            user.ram.change_password(ram_models.ChangePasswordRequest(
                old_password=password("wrong old password"),
                new_password=password("refused new password")))
    # Refused calls carry passwords too: no such user, no signature, a bad signature, and a
    # password in the form body.
    with pytest.raises(TeaException) as raised:
        vault.admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
            user_name="nobody-here", password=password("password for a missing user")))
    assert error_of(raised.value)[0] == 404
    unsigned = [("Action", "CreateLoginProfile"), ("Version", RAM), ("UserName", "signer"),
                ("Password", password("unsigned password"))]
    assert send(vault.server, "POST", "/?" + encode_query(unsigned)).status == 400
    wrong = Signer(vault.server, user.creds.access_key_id, "not-the-secret")
    assert wrong.rpc("UpdateLoginProfile", RAM, [("UserName", "signer"), (
        "Password", password("badly signed password"))]).status == 400
    signer = Signer(vault.server, *vault.server.admin_key)
    answer = signer.rpc("UpdateLoginProfile", RAM, [("UserName", "signer")],
                        form=[("Password", password("form body password"))])
    assert answer.status == 200, answer
    assert send(vault.server, "POST", "/", headers={"content-type": FORM}, body=encode_query(
        [("Password", password("unrouted password"))]).encode()).status == 400


@pytest.mark.skipif((SIGNIN, "ConsoleSignin") not in REGISTERED,
                    reason="ConsoleSignin is not registered yet")
def test_console_sign_in(vault: Vault) -> None:
    password = vault.canary("user password", f"Cn{secrets.token_hex(10)}!Qz9")
    make_user(vault.admin, "console")
    vault.admin.ram.create_login_profile(ram_models.CreateLoginProfileRequest(
        user_name="console", password=password))

    def sign_in(principal: str, secret: str) -> Answer:
        params = [("Action", "ConsoleSignin"), ("Version", SIGNIN),
                  ("PrincipalName", principal), ("Password", secret)]
        return send(vault.server, "POST", "/", headers={"content-type": FORM},
                    body=encode_query(params).encode())

    for principal, secret in (("console", password),
                              ("root", vault.canary("root password",
                                                    vault.server.bootstrap.root_password))):
        answer = sign_in(principal, secret)
        assert answer.status == 200, answer
        issued = answer.json()["Credentials"]
        vault.canary(f"{principal} session secret", issued["AccessKeySecret"])
        vault.canary(f"{principal} session token", issued["SecurityToken"])
    assert sign_in("console", vault.canary("wrong password", "Wr0ng-" + secrets.token_hex(8))
                   ).status >= 400


@pytest.mark.skipif((RAM, "CreateVirtualMFADevice") not in REGISTERED,
                    reason="CreateVirtualMFADevice is not registered yet")
def test_mfa_seeds(vault: Vault) -> None:
    device = vault.admin.ram.create_virtual_mfadevice(ram_models.CreateVirtualMFADeviceRequest(
        virtual_mfadevice_name="vaulted")).body.virtual_mfadevice
    vault.canary("MFA seed", device.base_32string_seed)
    vault.canary("MFA QR code", device.qrcode_png)
    listed = vault.admin.ram.list_virtual_mfadevices().body.to_map()
    assert device.serial_number in repr(listed)
    assert device.base_32string_seed not in repr(listed)
