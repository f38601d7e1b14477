"""Benchmark KMS Encrypt and Decrypt and Secrets Manager GetSecretValue calls per second over
HTTP, signed, authorized and durably trailed, with moto's KMS and Secrets Manager alongside."""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

from api_throughput import (
    DEFAULT_CONNECTIONS,
    DEFAULT_N,
    HOST,
    MOTO_SHARE,
    QUICK_CONNECTIONS,
    QUICK_N,
    WARMUP_SHARE,
    ChildServer,
    PhaseResult,
    TrailCheck,
    Workload,
    check_trail,
    moto_available,
    print_table,
    print_verdict,
    ratios,
    report_line,
    run_phase,
    summary,
    trail_length,
)

Json = dict[str, Any]
KMS_VERSION = "2016-01-20"
SECRET_NAME = "prod/database/password"  # noqa: S105 (a name, not a secret)
SECRET_VALUE = "correct-horse-battery-staple-42"  # noqa: S105 (the benchmark's own data)
PLAINTEXT = base64.b64encode(b"card 4111 1111 1111 1111").decode()
ACTIONS = ("Encrypt", "Decrypt", "GetSecretValue")


def _ramparts_setup(endpoint: str, key: tuple[str, str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """A key, a blob of it and a secret, made through the API; each action's parameters."""
    from ramparts.protocol.client import ApiClient, ClientCredentials

    client, credentials = ApiClient(endpoint), ClientCredentials(*key)

    def call(action: str, params: dict[str, str]) -> Json:
        return client.call(KMS_VERSION, action, params, credentials)

    key_id = str(call("CreateKey", {"Description": "benchmark"})["KeyMetadata"]["KeyId"])
    blob = str(call("Encrypt", {"KeyId": key_id, "Plaintext": PLAINTEXT})["CiphertextBlob"])
    call("CreateSecret", {"SecretName": SECRET_NAME, "VersionId": "v1",
                          "SecretData": SECRET_VALUE, "EncryptionKeyId": key_id})
    return {"Encrypt": (("KeyId", key_id), ("Plaintext", PLAINTEXT)),
            "Decrypt": (("CiphertextBlob", blob),),
            "GetSecretValue": (("SecretName", SECRET_NAME),)}


def run_ramparts(calls: int, connections: int, scheme: str, root: Path
                 ) -> tuple[list[PhaseResult], TrailCheck, int]:
    from ramparts.server.runtime import initialize
    from ramparts.testing.process import ServerProcess

    data_dir = root / "ramparts"
    bootstrap = initialize(data_dir, {}, alias="bench")
    assert bootstrap is not None
    key = (bootstrap.admin_access_key_id, bootstrap.admin_access_key_secret)
    results, sent = [], 0
    with ServerProcess(data_dir) as server:
        assert server.process is not None
        params = _ramparts_setup(server.endpoint, key)
        before = trail_length(data_dir)
        for action in ACTIONS:
            work = Workload(f"ramparts {action}", "ramparts", action, server.port, calls,
                            int(calls * WARMUP_SHARE), connections, *key, scheme,
                            KMS_VERSION, params[action])
            results.append(report_line(run_phase(work, 1, server.process.pid)))
            sent += work.calls + work.warmup
    return results, check_trail(data_dir, before), sent


def run_moto(calls: int, connections: int) -> list[PhaseResult]:
    import boto3

    calls = max(50, int(calls * MOTO_SHARE))
    results = []
    with ChildServer("moto") as server:
        endpoint = f"http://{HOST}:{server.port}"
        options: Json = {"endpoint_url": endpoint, "region_name": "us-east-1",
                         "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        kms = boto3.client("kms", **options)
        key_id = kms.create_key(Description="benchmark")["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT.encode())["CiphertextBlob"]
        boto3.client("secretsmanager", **options).create_secret(
            Name=SECRET_NAME, SecretString=SECRET_VALUE)
        bodies = {
            "Encrypt": ("kms", "TrentService.Encrypt",
                        {"KeyId": key_id, "Plaintext": PLAINTEXT}),
            "Decrypt": ("kms", "TrentService.Decrypt",
                        {"CiphertextBlob": base64.b64encode(blob).decode()}),
            "GetSecretValue": ("secretsmanager", "secretsmanager.GetSecretValue",
                               {"SecretId": SECRET_NAME}),
        }
        for action in ACTIONS:
            service, target, body = bodies[action]
            work = Workload(f"moto {action}", "moto", action, server.port, calls,
                            int(calls * WARMUP_SHARE), connections, "testing", "testing",
                            moto_service=service, moto_target=target,
                            moto_json=json.dumps(body))
            results.append(report_line(run_phase(work, 1, server.pid)))
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_N} calls per phase over {QUICK_CONNECTIONS} connections")
    parser.add_argument("-n", "--calls", type=int, default=None,
                        help=f"timed calls per ramparts phase (default {DEFAULT_N:,}; moto "
                             f"gets {MOTO_SHARE:.0%} of that)")
    parser.add_argument("-c", "--connections", type=int, default=None,
                        help=f"concurrent keep-alive connections (default {DEFAULT_CONNECTIONS})")
    parser.add_argument("--scheme", choices=("acs3", "rpc"), default="acs3",
                        help="how ramparts calls are signed (default acs3)")
    parser.add_argument("--no-moto", action="store_true", help="skip the moto phases")
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    calls = args.calls or (QUICK_N if args.quick else DEFAULT_N)
    connections = args.connections or (QUICK_CONNECTIONS if args.quick else DEFAULT_CONNECTIONS)
    with_moto = not args.no_moto and moto_available()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{calls:,} timed calls per ramparts phase over {connections} keep-alive connections; "
          f"ramparts calls signed with {args.scheme.upper()}, each with a new nonce, "
          "authorized and trailed, committed to disk before the answer (SQLite). moto's server "
          "verifies no signature, authorizes nothing and records nothing.", flush=True)
    with tempfile.TemporaryDirectory(prefix="ramparts-kms-bench-") as root:
        ours, trail, sent = run_ramparts(calls, connections, args.scheme, Path(root))
    moto = run_moto(calls, connections) if with_moto else []
    results = ours + moto
    print_table(results)
    ratio = ratios(ours, moto) if moto else {}
    trailed = print_verdict(ratio, trail, sent, ours)
    sound = trailed and all(r.errors == 0 and r.warmup_errors == 0 for r in results)
    if args.json:
        settings = {"calls": calls, "connections": connections, "scheme": args.scheme}
        print(json.dumps(summary(settings, results, ratio, trail, sent, sound)))
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
