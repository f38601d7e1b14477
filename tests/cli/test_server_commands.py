"""`ramparts init`, `serve` and `up` as a user runs them: real processes, real SDK calls."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions

from ramparts.cli.main import main
from ramparts.testing.process import ServerProcess, free_port


def _init(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "ramparts", "init", "--data-dir", str(data_dir),
                          "--json", *extra], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})})
    return dict(json.loads(out.stdout))


def _sts(creds: dict[str, str], endpoint: str, protocol: str = "http") -> StsClient:
    return StsClient(Config(access_key_id=creds["AccessKeyId"],
                            access_key_secret=creds["AccessKeySecret"], endpoint=endpoint,
                            protocol=protocol, region_id="cn-hangzhou"))


def _ram(creds: dict[str, str], endpoint: str) -> RamClient:
    return RamClient(Config(access_key_id=creds["AccessKeyId"],
                            access_key_secret=creds["AccessKeySecret"], endpoint=endpoint,
                            protocol="https", region_id="cn-hangzhou"))


def test_init_prints_the_bootstrap_credentials_once(tmp_path: Path) -> None:
    creds = _init(tmp_path / "data")
    assert set(creds) >= {"AccountId", "AccessKeyId", "AccessKeySecret", "Endpoint"}
    assert creds["AccessKeyId"].startswith("LTAI")
    assert len(creds["AccessKeyId"]) == 24
    assert len(creds["AccountId"]) == 16
    assert creds["AccountId"].isdigit()
    key_file = tmp_path / "data" / "root.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data" / "ramparts.db").stat().st_mode & 0o077 == 0
    raw = (tmp_path / "data" / "ramparts.db").read_bytes()
    assert creds["AccessKeySecret"].encode() not in raw
    assert creds["RootPassword"].encode() not in raw
    again = subprocess.run([sys.executable, "-m", "ramparts", "init", "--data-dir",
                            str(tmp_path / "data")], capture_output=True, text=True)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert creds["AccessKeySecret"] not in again.stdout + again.stderr


def test_serve_answers_the_official_sdk(tmp_path: Path) -> None:
    creds = _init(tmp_path / "data")
    with ServerProcess(tmp_path / "data") as server:
        identity = _sts(creds, server.endpoint).get_caller_identity().body
    assert identity.account_id == creds["AccountId"]
    assert identity.arn.endswith(":user/admin")


def test_serve_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    _init(tmp_path / "data")
    (tmp_path / "data" / "root.key").chmod(0o644)
    with pytest.raises(RuntimeError, match="accessible by group or others"):
        ServerProcess(tmp_path / "data").start()


def test_the_root_key_may_come_from_the_environment(tmp_path: Path) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    creds = _init(tmp_path / "data", env={"RAMPARTS_ROOT_KEY": key})
    assert not (tmp_path / "data" / "root.key").exists()
    with pytest.raises(RuntimeError, match=r"RAMPARTS_ROOT_KEY is set but empty"):
        ServerProcess(tmp_path / "data", environ={"RAMPARTS_ROOT_KEY": ""}).start()
    other = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(RuntimeError, match=r"is not the one this account's values were sealed"):
        ServerProcess(tmp_path / "data", environ={"RAMPARTS_ROOT_KEY": other}).start()
    with ServerProcess(tmp_path / "data", environ={"RAMPARTS_ROOT_KEY": key}) as right:
        assert _sts(creds, right.endpoint).get_caller_identity().body.arn.endswith("admin")


def test_up_initializes_then_serves_and_says_how_to_connect(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ramparts", "up", "--data-dir",
                                    str(tmp_path / "data"), "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "Stop with Ctrl-C" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = log.read_text()
        key_id = text.split("AccessKeyId", 1)[1].split()[0]
        secret = text.split("AccessKeySecret", 1)[1].split()[0]
        assert f"endpoint='127.0.0.1:{port}'" in text
        creds = {"AccessKeyId": key_id, "AccessKeySecret": secret}
        for _ in range(100):
            try:
                body = _sts(creds, f"127.0.0.1:{port}").get_caller_identity().body
                break
            except Exception:
                time.sleep(0.1)
        assert body.arn.endswith(":user/admin")
    finally:
        process.terminate()
        process.wait(timeout=30)
    second = subprocess.Popen([sys.executable, "-m", "ramparts", "up", "--data-dir",
                               str(tmp_path / "data"), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert second.stdout is not None
        first_line = second.stdout.readline().decode()
        assert "existing account" in first_line
    finally:
        second.terminate()
        second.wait(timeout=30)
        if second.stdout is not None:
            second.stdout.close()


def test_tls_serving_sets_secure_transport(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    creds = _init(tmp_path / "data")
    with ServerProcess(tmp_path / "data", extra_args=["--tls-cert", str(tmp_path / "cert.pem"),
                                                      "--tls-key", str(tmp_path / "key.pem")]
                       ) as server:
        trusted = RuntimeOptions(ca=str(tmp_path / "cert.pem"))
        client = _sts(creds, server.endpoint, protocol="https")
        body = client.get_caller_identity_with_options(trusted).body
        assert body.arn.endswith(":user/admin")
        # A policy that allows only over TLS lets this user in: acs:SecureTransport is true.
        admin = _ram(creds, server.endpoint)
        admin.create_user_with_options(ram_models.CreateUserRequest(user_name="tls-only"),
                                       trusted)
        admin.create_policy_with_options(ram_models.CreatePolicyRequest(
            policy_name="tls-only", policy_document=json.dumps({"Version": "1", "Statement": [{
                "Effect": "Allow", "Action": "ram:GetUser", "Resource": "*",
                "Condition": {"Bool": {"acs:SecureTransport": "true"}}}]})), trusted)
        admin.attach_policy_to_user_with_options(ram_models.AttachPolicyToUserRequest(
            policy_type="Custom", policy_name="tls-only", user_name="tls-only"), trusted)
        key = admin.create_access_key_with_options(
            ram_models.CreateAccessKeyRequest(user_name="tls-only"), trusted).body.access_key
        user = _ram({"AccessKeyId": key.access_key_id,
                     "AccessKeySecret": key.access_key_secret}, server.endpoint)
        got = user.get_user_with_options(ram_models.GetUserRequest(user_name="tls-only"),
                                         trusted).body
        assert got.user.user_name == "tls-only"


def test_serve_without_init_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "ramparts", "serve", "--data-dir",
                             str(tmp_path / "empty")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "ramparts init" in result.stderr


def test_tls_flags_go_together() -> None:
    assert main(["serve", "--tls-cert", "x.pem"]) == 2


def test_sigterm_stops_serve_cleanly(tmp_path: Path) -> None:
    _init(tmp_path / "data")
    server = ServerProcess(tmp_path / "data").start()
    server.stop()
    assert server.process is not None
    assert server.process.returncode == 0, server.output()
    assert not (tmp_path / "data" / "ramparts.db-wal").exists()
