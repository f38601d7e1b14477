"""Where delivered files go and what a digest says: the layout shared by delivery and verify.

Log files follow ActionTrail's OSS layout [doc: What is the storage path of an event that is
delivered to an OSS bucket]: `<prefix>/AliyunLogs/Actiontrail/<region>/<YYYY>/<MM>/<DD>/
Actiontrail_<region>_<YYYYMMDDHHMMSS>_1002_<event count>_<file size>_<md5>.gz`. Alibaba has no
digest files; ramparts writes them beside, CloudTrail-style, under `AliyunLogs/
Actiontrail-Digest/...`, one per delivery, signed with the account's Ed25519 trail key and
chained to the one before.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ramparts.crypto.signing import SIGNATURE_ALGORITHM, SigningKey, verify_signature

__all__ = [
    "DIGEST_DIR",
    "DIGEST_VERSION",
    "LOG_DIR",
    "digest_file_name",
    "digest_payload",
    "digest_signature_valid",
    "log_file_bytes",
    "log_file_name",
    "read_log_file",
    "sha256_hex",
    "sign_digest",
]

LOG_DIR = "AliyunLogs/Actiontrail"
DIGEST_DIR = "AliyunLogs/Actiontrail-Digest"
DIGEST_VERSION = "1.0"
_FILE_KIND = "1002"  # the fixed field of ActionTrail's single-account file names


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dated(prefix: str, kind: str, region: str, moment: datetime) -> str:
    base = f"{prefix}/{kind}" if prefix else kind
    return f"{base}/{region}/{moment:%Y/%m/%d}"


def log_file_bytes(bodies: Sequence[str]) -> bytes:
    """A gzip'd JSON array of the events as the chain stores them (canonical JSON), with a
    fixed gzip header time, so the same events always make the same bytes."""
    text = "[\n" + ",\n".join(bodies) + "\n]\n"
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def read_log_file(data: bytes) -> list[dict[str, Any]]:
    """The events of a delivered log file (ValueError if it is not one)."""
    try:
        events = json.loads(gzip.decompress(data).decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a gzip'd JSON log file: {exc}") from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ValueError("a log file holds a JSON array of events")
    return events


def log_file_name(prefix: str, region: str, moment: datetime, count: int, data: bytes) -> str:
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    name = f"Actiontrail_{region}_{moment:%Y%m%d%H%M%S}_{_FILE_KIND}_{count}_{len(data)}_{md5}.gz"
    return f"{_dated(prefix, LOG_DIR, region, moment)}/{name}"


def digest_file_name(prefix: str, region: str, moment: datetime, trail: str,
                     number: int) -> str:
    name = f"Actiontrail-Digest_{region}_{moment:%Y%m%d%H%M%S}_{trail}_{number:08d}.json"
    return f"{_dated(prefix, DIGEST_DIR, region, moment)}/{name}"


def digest_payload(digest: dict[str, Any]) -> bytes:
    """The signed bytes: the digest without its signature, as canonical JSON."""
    unsigned = {key: value for key, value in digest.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign_digest(digest: dict[str, Any], key: SigningKey) -> bytes:
    """The digest file's bytes, its `signature` set (deterministic: Ed25519 signs the same
    message the same way)."""
    signed = dict(digest, signatureAlgorithm=SIGNATURE_ALGORITHM)
    signed["signature"] = base64.b64encode(key.sign(digest_payload(signed))).decode("ascii")
    return (json.dumps(signed, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def digest_signature_valid(digest: dict[str, Any], public_pem: str) -> bool:
    signature = digest.get("signature")
    if not isinstance(signature, str) or digest.get("signatureAlgorithm") != SIGNATURE_ALGORITHM:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    return verify_signature(public_pem, digest_payload(digest), raw)
