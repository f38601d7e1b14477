"""Checking the trail: the in-store hash chain, the delivered files and their signed digests.

Each problem found is a Finding of one kind: a changed, deleted or inserted event, reordered
events, a missing, altered or unlisted file, a forged digest (its signature does not verify
with the public key given) or a broken digest chain. The first finding is the first broken
link: the store's chain is checked first, in order, then each trail's digests in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ramparts.services.actiontrail.layout import (
    DIGEST_DIR,
    digest_signature_valid,
    read_log_file,
    sha256_hex,
)
from ramparts.services.actiontrail.recorder import GENESIS_HASH, canonical, event_hash
from ramparts.store.base import Row, Transaction

__all__ = [
    "ALTERED_FILE", "BROKEN_DIGEST_CHAIN", "CHANGED_EVENT", "DELETED_EVENT", "FORGED_DIGEST",
    "INSERTED_EVENT", "MISSING_FILE", "REORDERED_EVENTS", "UNLISTED_FILE", "Finding", "Report",
    "verify_chain", "verify_trail",
]

CHANGED_EVENT = "changed event"
DELETED_EVENT = "deleted event"
INSERTED_EVENT = "inserted event"
REORDERED_EVENTS = "reordered events"
MISSING_FILE = "missing file"
ALTERED_FILE = "altered file"
UNLISTED_FILE = "unlisted file"
FORGED_DIGEST = "forged digest"
BROKEN_DIGEST_CHAIN = "broken digest chain"

_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    where: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}


@dataclass
class Report:
    events: int = 0
    digests: int = 0
    log_files: int = 0
    delivered_events: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "firstBreak": self.first.to_dict() if self.first else None,
            "findings": [finding.to_dict() for finding in self.findings],
            "checked": {"events": self.events, "digests": self.digests,
                        "logFiles": self.log_files, "deliveredEvents": self.delivered_events},
        }


# ---- the chain in the store


def _rows(tx: Transaction) -> Iterator[Row]:
    after = 0
    while True:
        batch = tx.query("SELECT seq, event_id, body, prev_hash, hash FROM trail_events "
                         "WHERE seq > ? ORDER BY seq LIMIT ?", (after, _BATCH))
        if not batch:
            return
        yield from batch
        after = int(batch[-1]["seq"])


def _classify(row: Row, following: Row | None, expected: int, previous: str,
              before_previous: str | None, seen: set[str]) -> Finding | None:
    """What is wrong at `row`, expected to be event `expected` linking to `previous`."""
    seq, body = int(row["seq"]), str(row["body"])
    linked = row["prev_hash"] == previous
    intact = row["hash"] == event_hash(str(row["prev_hash"]), body)
    if seq != expected:
        missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
        return Finding(DELETED_EVENT, f"event {expected}",
                       f"the chain has no event {missing}: it goes from {expected - 1} to {seq}")
    if linked and intact:
        return None
    if linked:
        if following is not None and row["hash"] == event_hash(previous,
                                                               str(following["body"])):
            return Finding(REORDERED_EVENTS, f"events {seq} and {seq + 1}",
                           "the event bodies at these positions were swapped")
        return Finding(CHANGED_EVENT, f"event {seq}",
                       "the event's body does not hash to the hash the chain recorded for it")
    if before_previous is not None and row["prev_hash"] == before_previous:
        return Finding(INSERTED_EVENT, f"event {seq - 1}",
                       f"event {seq} links past event {seq - 1}, which is not in the chain")
    if following is not None and following["prev_hash"] == previous:
        if row["prev_hash"] == following["hash"]:
            return Finding(REORDERED_EVENTS, f"events {seq} and {seq + 1}",
                           "the two events are in each other's places")
        return Finding(INSERTED_EVENT, f"event {seq}",
                       f"event {seq + 1} links past event {seq}, which is not in the chain")
    if row["prev_hash"] in seen:
        return Finding(REORDERED_EVENTS, f"event {seq}",
                       f"event {seq} links to an earlier event than {seq - 1}")
    return Finding(DELETED_EVENT, f"event {seq}",
                   f"event {seq} links to an event the chain no longer holds")


def verify_chain(tx: Transaction, report: Report) -> dict[int, str]:
    """Walk the whole chain, adding its first break to `report`; the hash of each event up to
    the first break (for the digests' checkpoints)."""
    hashes: dict[int, str] = {0: GENESIS_HASH}
    seen: set[str] = {GENESIS_HASH}
    previous, before_previous, expected = GENESIS_HASH, None, 1
    rows = _rows(tx)
    current = next(rows, None)
    while current is not None:
        following = next(rows, None)
        finding = _classify(current, following, expected, previous, before_previous, seen)
        if finding is not None:
            report.findings.append(finding)
            return hashes
        report.events += 1
        before_previous, previous = previous, str(current["hash"])
        hashes[expected] = previous
        seen.add(previous)
        expected += 1
        current = following
    return hashes


# ---- the delivered files


@dataclass
class _Digest:
    path: Path
    bucket_root: Path
    relative: str
    data: bytes
    body: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.body.get("digestNumber", 0))

    @property
    def trail(self) -> tuple[str, str]:
        return str(self.body.get("trailArn", "")), str(self.body.get("trailCreateTime", ""))


def _bucket_root(path: Path, body: dict[str, Any]) -> Path:
    """The bucket directory a digest lies in: above `<prefix>/AliyunLogs/...-Digest/<region>/
    YYYY/MM/DD/`."""
    prefix = str(body.get("ossKeyPrefix") or "")
    depth = 6 + (len(prefix.split("/")) if prefix else 0)
    return path.parents[depth]


def _load_digests(root: Path, report: Report) -> list[_Digest]:
    digests: list[_Digest] = []
    for path in sorted(root.rglob("Actiontrail-Digest_*.json")):
        if DIGEST_DIR not in path.as_posix():
            continue
        data = path.read_bytes()
        try:
            body = json.loads(data)
            if not isinstance(body, dict):
                raise ValueError("not an object")
            bucket_root = _bucket_root(path, body)
        except (ValueError, IndexError, TypeError):
            report.findings.append(Finding(FORGED_DIGEST, str(path),
                                           "the digest file is not a digest ramparts wrote"))
            continue
        relative = path.relative_to(bucket_root).as_posix()
        digests.append(_Digest(path, bucket_root, relative, data, body))
    return digests


def _check_chain_link(previous: _Digest | None, digest: _Digest) -> Finding | None:
    body = digest.body
    named = body.get("previousDigestFile")
    if named is None:
        if previous is None:
            return None
        return None if previous.number < digest.number else Finding(
            BROKEN_DIGEST_CHAIN, digest.relative, "two digests carry the same number")
    if previous is None:
        return Finding(BROKEN_DIGEST_CHAIN, digest.relative,
                       f"the digest before it ({named}) is missing")
    if previous.relative != named or previous.number != digest.number - 1:
        return Finding(BROKEN_DIGEST_CHAIN, digest.relative,
                       f"it follows {named}, which is missing (the digest present before it "
                       f"is {previous.relative})")
    if body.get("previousDigestSha256") != sha256_hex(previous.data):
        return Finding(BROKEN_DIGEST_CHAIN, digest.relative,
                       f"the SHA-256 it records for {named} is not that file's")
    if body.get("previousDigestSignature") != previous.body.get("signature"):
        return Finding(BROKEN_DIGEST_CHAIN, digest.relative,
                       f"the signature it records for {named} is not that digest's")
    return None


def _check_log_files(digest: _Digest, report: Report, listed: set[Path],
                     delivered: dict[str, str]) -> None:
    for entry in digest.body.get("logFiles") or []:
        name = str(entry.get("name", ""))
        path = digest.bucket_root / name
        listed.add(path)
        if not path.is_file():
            report.findings.append(Finding(MISSING_FILE, name,
                                           f"listed by digest {digest.relative}"))
            continue
        data = path.read_bytes()
        report.log_files += 1
        if sha256_hex(data) != entry.get("sha256"):
            report.findings.append(Finding(ALTERED_FILE, name,
                                           "its SHA-256 is not the one its signed digest lists"))
            continue
        try:
            events = read_log_file(data)
        except ValueError as exc:
            report.findings.append(Finding(ALTERED_FILE, name, str(exc)))
            continue
        for event in events:
            report.delivered_events += 1
            delivered[str(event.get("eventId", ""))] = canonical(event)


def _check_checkpoints(digest: _Digest, hashes: dict[int, str] | None,
                       report: Report) -> None:
    """The store's chain must still hold the hashes a signed digest recorded."""
    if hashes is None:
        return
    body = digest.body
    for seq, key in ((int(body.get("chainFirstSeq", 1)) - 1, "chainPreviousHash"),
                     (int(body.get("chainLastSeq", 0)), "chainLastHash")):
        if seq in hashes and hashes[seq] != body.get(key):
            report.findings.append(Finding(
                CHANGED_EVENT, f"event {seq}",
                f"the chain was rewritten: its hash at event {seq} is not the one digest "
                f"{digest.relative} signed"))


def verify_delivered(root: Path, public_pem: str, report: Report, *,
                     hashes: dict[int, str] | None = None,
                     expected: Sequence[tuple[str, str, str]] = ()) -> dict[str, str]:
    """Check every digest under `root` (a delivery root or a bucket directory) and the files
    they list; `expected` (bucket, digest file, SHA-256) are the digests the store says were
    delivered. The delivered events by eventId (canonical JSON), for comparing with the store.
    """
    digests = _load_digests(root, report) if root.is_dir() else []
    delivered: dict[str, str] = {}
    listed: set[Path] = set()
    trusted: list[_Digest] = []
    for digest in digests:
        if not digest_signature_valid(digest.body, public_pem):
            report.findings.append(Finding(
                FORGED_DIGEST, digest.relative,
                "its signature does not verify with the trail's public key"))
        else:
            trusted.append(digest)
    by_trail: dict[tuple[str, str], list[_Digest]] = {}
    for digest in trusted:
        by_trail.setdefault(digest.trail, []).append(digest)
    for trail_digests in by_trail.values():
        trail_digests.sort(key=lambda d: d.number)
        previous: _Digest | None = None
        for digest in trail_digests:
            report.digests += 1
            finding = _check_chain_link(previous, digest)
            if finding is not None:
                report.findings.append(finding)
            _check_checkpoints(digest, hashes, report)
            _check_log_files(digest, report, listed, delivered)
            previous = digest
    present = {(d.bucket_root, d.relative): d for d in digests}
    # `root` is one bucket's directory when it bears a delivered bucket's name and holds no
    # directory of that name; otherwise it is the delivery root, holding every bucket.
    one_bucket = any(bucket == root.name and not (root / bucket).is_dir()
                     for bucket, _, _ in expected)
    for bucket, name, sha in expected:
        if one_bucket and bucket != root.name:
            continue
        found = present.get((root if one_bucket else root / bucket, name))
        if found is None:
            report.findings.append(Finding(MISSING_FILE, name,
                                           f"a digest the store says was delivered to {bucket}"))
        elif sha256_hex(found.data) != sha:
            report.findings.append(Finding(ALTERED_FILE, name,
                                           "not the digest the store says was delivered"))
    for path in sorted(root.rglob("Actiontrail_*.gz")) if root.is_dir() else []:
        if path not in listed:
            report.findings.append(Finding(UNLISTED_FILE, str(path.relative_to(root)),
                                           "a log file no signed digest lists"))
    return delivered


def _compare_with_store(tx: Transaction, delivered: dict[str, str], report: Report) -> None:
    """Each delivered event against the stored one, in one pass over the store in chain order
    (event ids have no index of their own: the trail index is not evidence)."""
    unseen = dict(delivered)
    for row in _rows(tx):
        if not unseen:
            break
        body = unseen.pop(str(row["event_id"]), None)
        if body is not None and str(row["body"]) != body:
            report.findings.append(Finding(
                CHANGED_EVENT, f"event {row['seq']}",
                "the stored event differs from its delivered, signed copy"))
    for event_id in delivered:
        if event_id in unseen:
            report.findings.append(Finding(
                DELETED_EVENT, f"event {event_id}",
                "a delivered event is no longer in the store"))


def verify_trail(tx: Transaction | None, delivered_root: Path | None,
                 public_pem: str | None) -> Report:
    """Check the store's chain (when `tx` is given) and what was delivered under
    `delivered_root` (when given, with the public key), and the two against each other."""
    report = Report()
    hashes: dict[int, str] | None = None
    expected: list[tuple[str, str, str]] = []
    if tx is not None:
        hashes = verify_chain(tx, report)
        expected = [(str(row["bucket"]), str(row["digest_file"]), str(row["digest_sha256"]))
                    for row in tx.query("SELECT bucket, digest_file, digest_sha256 FROM "
                                        "trail_deliveries ORDER BY trail_id, number")]
    if delivered_root is not None and public_pem is not None:
        delivered = verify_delivered(delivered_root, public_pem, report, hashes=hashes,
                                     expected=expected)
        if tx is not None:
            _compare_with_store(tx, delivered, report)
    return report
