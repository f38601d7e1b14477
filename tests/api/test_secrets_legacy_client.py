"""aliyun-secret-manager-client (on aliyun-python-sdk-core, RPC V1) reads a secret from the
server exactly as an application does, and sees a new value after its refresh. The client pins
libraries the project cannot share, so it runs in .venv-legacy-client (made by bin/bootstrap)."""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path
from typing import IO, Any

import pytest
from alibabacloud_kms20160120 import models as kms

from ramparts.testing import RunningServer
from tests.api.sdk import SdkClients

ROOT = Path(__file__).resolve().parents[2]
LEGACY_PYTHON = ROOT / ".venv-legacy-client" / "bin" / "python"
SCRIPT = ROOT / "tests" / "clients" / "legacy_secret_client.py"


def _line(stream: IO[str], timeout: float = 60.0) -> dict[str, Any]:
    """The client's next answer, waited for at most `timeout` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "the client answered nothing"
    return dict(json.loads(stream.readline() or "{}"))


@pytest.fixture
def legacy_python() -> Path:
    if not LEGACY_PYTHON.exists():
        message = f"{LEGACY_PYTHON} is missing: run bin/bootstrap dev"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return LEGACY_PYTHON


def test_the_older_client_reads_a_secret_and_its_next_version(
        server: RunningServer, legacy_python: Path, unique: str) -> None:
    admin = SdkClients.admin(server)
    name = f"prod/{unique}/database/password"
    admin.kms.create_secret(kms.CreateSecretRequest(
        secret_name=name, version_id="v1", secret_data="first-password"))
    key_id, secret = server.admin_key
    process = subprocess.Popen(
        [str(legacy_python), str(SCRIPT), f"http://{server.endpoint}", name],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id,
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret})
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        first = _line(process.stdout)
        assert first == {"value": "first-password", "version": "v1", "type": "text",
                         "secret_type": "Generic"}, process.stderr.read() if process.stderr \
            else ""
        admin.kms.put_secret_value(kms.PutSecretValueRequest(
            secret_name=name, version_id="v2", secret_data="second-password"))
        process.stdin.write("refresh\n")
        process.stdin.flush()
        second = _line(process.stdout)
        assert (second["value"], second["version"]) == ("second-password", "v2")
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None and not stream.closed:
                stream.close()
