"""Delivering each logging trail's events to its bucket directory, out of the database's reach.

A delivery is planned, written, then committed:

1. Under the trail's lock, a plan is stored: the next digest number, the chain range
   (cursor, head] it covers (at most `max_events` events), the window, the destination and the
   previous digest. A plan left by another replica is taken over once its lease has run out.
2. The plan's log file (the trail's events of that range, by EventRW and TrailRegion) and its
   signed digest are written atomically (temporary file, fsync, rename, fsync of the
   directory). Everything in them follows from the plan and the immutable chain, so writing a
   plan twice writes the same bytes to the same names.
3. Under the lock again, if the plan is still the trail's, the cursor moves past the range.

A crash between 2 and 3 re-delivers the same files: at least once, with no gap, and no
duplicate either. An unwritable destination keeps the plan, is retried on the next pass and is
reported by GetTrailStatus (LatestDeliveryError). A chain that does not verify is not
delivered at all: a digest never signs a tampered range.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ramparts.core.clock import Clock, format_iso8601, parse_iso8601
from ramparts.core.errors import RampartsError
from ramparts.crypto.primitives import CryptoError
from ramparts.crypto.signing import SigningKey, public_key_fingerprint
from ramparts.services.actiontrail.layout import (
    DIGEST_VERSION,
    digest_file_name,
    log_file_bytes,
    log_file_name,
    sha256_hex,
    sign_digest,
)
from ramparts.services.actiontrail.recorder import GENESIS_HASH, event_hash
from ramparts.services.actiontrail.signing_keys import ensure_signing_key, load_signing_key
from ramparts.services.actiontrail.trails import STATUS_ENABLED, Trail, trail_arn
from ramparts.services.call import Sealing
from ramparts.store.base import Row, Store, StoreError, Transaction

__all__ = [
    "DEFAULT_MAX_EVENTS", "DeliveryError", "DeliveryPlan", "TrailDelivery", "bucket_dir",
    "trail_lock",
]

log = logging.getLogger("ramparts.delivery")
DEFAULT_MAX_EVENTS = 5000
_DIR_MODE = 0o750
_FILE_MODE = 0o640


class DeliveryError(RampartsError):
    """A plan could not be delivered: the destination or the chain; the message says which."""


def trail_lock(trail_id: str) -> str:
    return f"actiontrail-delivery:{trail_id}"


def bucket_dir(root: Path, bucket: str) -> Path:
    """The directory standing for an OSS bucket: `<delivery root>/<bucket>`."""
    return root / bucket


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """Everything a delivery's files follow from (with the chain's events)."""

    number: int
    from_seq: int
    to_seq: int
    window_start: str
    window_end: str
    bucket: str
    prefix: str
    event_rw: str
    trail_region: str
    previous_file: str
    previous_sha256: str
    previous_signature: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeliveryPlan:
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True)
class _Written:
    log_file: str
    log_sha256: str
    digest_file: str
    digest_sha256: str
    signature: str


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents, making each new entry durable."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=_DIR_MODE)
        _fsync_dir(path.parent)


def write_atomically(base: Path, relative: str, data: bytes) -> None:
    """`base/relative` holds `data` in full or not at all, and survives a crash once this
    returns."""
    target = base / relative
    _make_dirs(target.parent)
    temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 _FILE_MODE)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


class TrailDelivery:
    """One server's deliverer; `owner` names it in the plans it holds."""

    def __init__(self, store: Store, sealer: Sealing, clock: Clock, root: Path, *,
                 owner: str | None = None, lease: timedelta = timedelta(seconds=30),
                 max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.store, self.sealer, self.clock, self.root = store, sealer, clock, root
        self.owner = owner or secrets.token_hex(8)
        self.lease, self.max_events = lease, max_events

    def run_once(self) -> int:
        """Deliver what every trail owes; the number of deliveries made."""
        with self.store.transaction() as tx:
            rows = tx.query("SELECT trail_id FROM trails WHERE status = ? OR (until_seq IS NOT "
                            "NULL AND cursor_seq < until_seq) ORDER BY trail_id",
                            (STATUS_ENABLED,))
        made = 0
        for row in rows:
            trail_id = str(row["trail_id"])
            try:
                while True:
                    outcome = self.deliver(trail_id)
                    made += outcome > 0
                    if outcome < 2:
                        break
            except (StoreError, CryptoError) as exc:
                log.warning("trail delivery of %s failed: %s", trail_id, exc)
        return made

    # ---- one delivery: 0 nothing done, 1 delivered, 2 delivered and more is owed

    def deliver(self, trail_id: str) -> int:
        claimed = self._claim(trail_id)
        if claimed is None:
            return 0
        trail, plan, key = claimed
        try:
            written = self._write(trail, plan, key)
        except (OSError, DeliveryError) as exc:
            self._failed(trail_id, plan, exc)
            return 0
        more = self._commit(trail_id, plan, written)
        return 2 if more else 1

    def _claim(self, trail_id: str) -> tuple[Trail, DeliveryPlan, SigningKey] | None:
        now = self.clock.now()
        with self.store.transaction() as tx:
            tx.lock(trail_lock(trail_id))
            row = tx.query_one("SELECT * FROM trails WHERE trail_id = ?", (trail_id,))
            if row is None:
                return None
            trail = Trail.of(row)
            if row["plan"]:
                lease_until = row["plan_lease_until"] or ""
                if row["plan_owner"] != self.owner and lease_until > format_iso8601(now):
                    return None  # another replica is delivering it
                plan = DeliveryPlan.from_json(str(row["plan"]))
            else:
                made = self._plan(tx, trail, row, now)
                if made is None:
                    return None
                plan = made
            tx.execute("UPDATE trails SET plan = ?, plan_owner = ?, plan_lease_until = ? "
                       "WHERE trail_id = ?",
                       (plan.to_json(), self.owner, format_iso8601(now + self.lease), trail_id))
            ensure_signing_key(tx, self.sealer, trail.account_id, now)
            key = load_signing_key(tx, self.sealer, trail.account_id)
        assert key is not None
        return trail, plan, key

    def _plan(self, tx: Transaction, trail: Trail, row: Row, now: datetime
              ) -> DeliveryPlan | None:
        head_row = tx.query_one("SELECT MAX(seq) AS head FROM trail_events")
        head = int(head_row["head"]) if head_row and head_row["head"] is not None else 0
        limit = head if trail.until_seq is None else min(head, trail.until_seq)
        if limit <= trail.cursor_seq:
            return None
        to_seq = min(limit, trail.cursor_seq + self.max_events)
        start = trail.latest_delivery_at or trail.start_logging_at or trail.created_at
        return DeliveryPlan(
            number=trail.delivery_number + 1, from_seq=trail.cursor_seq + 1, to_seq=to_seq,
            window_start=start, window_end=max(format_iso8601(now), start),
            bucket=trail.oss_bucket_name, prefix=trail.oss_key_prefix,
            event_rw=trail.event_rw, trail_region=trail.trail_region,
            previous_file=str(row["chain_digest_name"]),
            previous_sha256=str(row["chain_digest_sha256"]),
            previous_signature=str(row["chain_digest_signature"]))

    def _events(self, trail: Trail, plan: DeliveryPlan) -> tuple[str, list[Row]]:
        """The hash before the range, and the range's events, each link checked."""
        with self.store.transaction() as tx:
            before = GENESIS_HASH
            if plan.from_seq > 1:
                row = tx.query_one("SELECT hash FROM trail_events WHERE seq = ?",
                                   (plan.from_seq - 1,))
                if row is None:
                    raise DeliveryError(f"the event chain lacks event {plan.from_seq - 1}; "
                                        "delivery is held (run `ramparts trail verify`)")
                before = str(row["hash"])
            rows = tx.query("SELECT seq, event_id, account_id, event_rw, body, prev_hash, hash "
                            "FROM trail_events WHERE seq >= ? AND seq <= ? ORDER BY seq",
                            (plan.from_seq, plan.to_seq))
        previous, expected = before, plan.from_seq
        for row in rows:
            body = str(row["body"])
            if (int(row["seq"]) != expected or row["prev_hash"] != previous
                    or row["hash"] != event_hash(previous, body)):
                raise DeliveryError(f"the event chain does not verify at event {expected}; "
                                    "delivery is held (run `ramparts trail verify`)")
            previous, expected = str(row["hash"]), expected + 1
        if expected != plan.to_seq + 1:
            raise DeliveryError(f"the event chain lacks event {expected}; delivery is held "
                                "(run `ramparts trail verify`)")
        return before, rows

    @staticmethod
    def _matches(trail: Trail, plan: DeliveryPlan, row: Row) -> bool:
        if row["account_id"] != trail.account_id:
            return False
        if plan.event_rw != "All" and row["event_rw"] != plan.event_rw:
            return False
        if plan.trail_region == "All":
            return True
        region = json.loads(str(row["body"])).get("acsRegion")
        return bool(region == plan.trail_region)

    def _write(self, trail: Trail, plan: DeliveryPlan, key: SigningKey) -> _Written:
        before, rows = self._events(trail, plan)
        mine = [row for row in rows if self._matches(trail, plan, row)]
        moment = parse_iso8601(plan.window_end)
        base = bucket_dir(self.root, plan.bucket)
        log_files: list[dict[str, Any]] = []
        log_name = log_sha = ""
        if mine:
            data = log_file_bytes([str(row["body"]) for row in mine])
            log_name = log_file_name(plan.prefix, trail.home_region, moment, len(mine), data)
            log_sha = sha256_hex(data)
            log_files.append({
                "name": log_name, "sha256": log_sha, "eventCount": len(mine),
                "firstSeq": int(mine[0]["seq"]), "lastSeq": int(mine[-1]["seq"]),
                "firstEventHash": str(mine[0]["hash"]), "lastEventHash": str(mine[-1]["hash"]),
            })
        digest = self._digest(trail, plan, key, before, rows, log_files)
        digest_name = digest_file_name(plan.prefix, trail.home_region, moment, trail.name,
                                       plan.number)
        digest_bytes = sign_digest(digest, key)
        try:
            if mine:
                write_atomically(base, log_name, data)
            write_atomically(base, digest_name, digest_bytes)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DeliveryError(f"write oss failed: {reason}: bucket {plan.bucket} "
                                f"({base})") from None
        signature = str(json.loads(digest_bytes)["signature"])
        return _Written(log_name, log_sha, digest_name, sha256_hex(digest_bytes), signature)

    @staticmethod
    def _digest(trail: Trail, plan: DeliveryPlan, key: SigningKey, before: str,
                rows: Sequence[Row], log_files: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "digestVersion": DIGEST_VERSION, "accountId": trail.account_id,
            "trailName": trail.name,
            "trailArn": trail_arn(trail.home_region, trail.account_id, trail.name),
            "trailCreateTime": trail.created_at, "region": trail.home_region,
            "ossBucketName": plan.bucket, "ossKeyPrefix": plan.prefix,
            "digestNumber": plan.number, "windowStart": plan.window_start,
            "windowEnd": plan.window_end, "eventRW": plan.event_rw,
            "trailRegion": plan.trail_region, "chainFirstSeq": plan.from_seq,
            "chainLastSeq": plan.to_seq, "chainPreviousHash": before,
            "chainLastHash": str(rows[-1]["hash"]), "logFiles": log_files,
            "previousDigestFile": plan.previous_file or None,
            "previousDigestSha256": plan.previous_sha256 or None,
            "previousDigestSignature": plan.previous_signature or None,
            "publicKeyFingerprint": public_key_fingerprint(key.public_pem),
        }

    def _failed(self, trail_id: str, plan: DeliveryPlan, error: Exception) -> None:
        message = str(error)[:500]
        now = format_iso8601(self.clock.now())
        with self.store.transaction() as tx:
            tx.lock(trail_lock(trail_id))
            # The plan stays for the next attempt, by any replica.
            changed = tx.execute(
                "UPDATE trails SET latest_delivery_error = ?, plan_lease_until = ? "
                "WHERE trail_id = ? AND plan = ? AND latest_delivery_error <> ?",
                (message, now, trail_id, plan.to_json(), message))
        if changed:  # said once, not on every retry
            log.warning("trail delivery %s #%d failed: %s", trail_id, plan.number, message)

    def _commit(self, trail_id: str, plan: DeliveryPlan, written: _Written) -> bool:
        """Advance past the plan (unless another replica did already); whether more is owed."""
        with self.store.transaction() as tx:
            tx.lock(trail_lock(trail_id))
            row = tx.query_one("SELECT * FROM trails WHERE trail_id = ?", (trail_id,))
            if row is None or row["plan"] != plan.to_json():
                return False
            trail = Trail.of(row)
            moved = (trail.oss_bucket_name, trail.oss_key_prefix) != (plan.bucket, plan.prefix)
            chain = ("", "", "") if moved else (
                written.digest_file, written.digest_sha256, written.signature)
            tx.execute(
                "UPDATE trails SET cursor_seq = ?, delivery_number = ?, latest_delivery_at = ?, "
                "latest_delivery_error = '', chain_digest_name = ?, chain_digest_sha256 = ?, "
                "chain_digest_signature = ?, plan = NULL, plan_owner = NULL, "
                "plan_lease_until = NULL WHERE trail_id = ?",
                (plan.to_seq, plan.number, plan.window_end, *chain, trail_id))
            tx.execute(
                "INSERT INTO trail_deliveries (trail_id, number, from_seq, to_seq, bucket, "
                "prefix, log_file, log_sha256, digest_file, digest_sha256, delivered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trail_id, number) "
                "DO NOTHING",
                (trail_id, plan.number, plan.from_seq, plan.to_seq, plan.bucket, plan.prefix,
                 written.log_file, written.log_sha256, written.digest_file,
                 written.digest_sha256, plan.window_end))
            head = tx.query_one("SELECT MAX(seq) AS head FROM trail_events")
            owed = int(head["head"]) if head and head["head"] is not None else 0
            if trail.until_seq is not None:
                owed = min(owed, trail.until_seq)
            return plan.to_seq < owed and plan.to_seq - plan.from_seq + 1 >= self.max_events
