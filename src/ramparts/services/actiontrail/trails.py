"""Trails: where an account's events are delivered, which of them, and whether logging is on.

A trail's destination is a bucket directory under the server's delivery root (see delivery.py);
`cursor_seq` is the last event of the chain the trail has delivered (or skipped, as not its
own), and `until_seq`, once logging stops or the trail is deleted, the last event it still
owes: the StopLogging or DeleteTrail event itself, so that the trail's own files record it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.services.actiontrail.recorder import CHAIN_LOCK
from ramparts.services.actiontrail.signing_keys import ensure_signing_key
from ramparts.services.actiontrail.trail_errors import (
    BucketDoesNotExist,
    InvalidDeliveryConfiguration,
    InvalidPrefix,
    InvalidQueryParameter,
    InvalidTrailName,
    MaximumNumberOfTrailsExceeded,
    NotAllowCreateOrganizationTrail,
    RepeatOssBucket,
    SlsProjectDoesNotExist,
    TrailAlreadyExists,
    TrailNotFound,
)
from ramparts.services.call import ServiceEnv
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = [
    "EVENT_RW", "MAX_TRAILS", "STATUS_DISABLED", "STATUS_ENABLED", "STATUS_FRESH", "Trail",
    "TrailBackend", "TrailSettings", "trail_arn",
]

MAX_TRAILS = 5  # per account and region [catalog: MaximumNumberOfTrailsExceededException]
EVENT_RW = ("Read", "Write", "All")
STATUS_FRESH, STATUS_ENABLED, STATUS_DISABLED = "Fresh", "Enable", "Disable"

# [doc: CreateTrail, DescribeTrails (2020-07-06)]: 6-36 characters, a lowercase letter first,
# then lowercase letters, digits, hyphens and underscores.
_TRAIL_NAME = re.compile(r"[a-z][a-z0-9_-]{5,35}", re.ASCII)
# OSS bucket names: 3-63 lowercase letters, digits and hyphens, starting and ending with a
# letter or digit. They name a directory here, so no dot, slash or `..` can ever pass.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", re.ASCII)
# [doc: ALIYUN::ACTIONTRAIL::Trail OssKeyPrefix]: 6-32 characters, a letter first, then letters,
# digits, hyphens, slashes and underscores.
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_/-]{5,31}", re.ASCII)
_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+", re.ASCII)


_SETTABLE = frozenset({
    "event_rw", "trail_region", "oss_bucket_name", "oss_key_prefix", "oss_write_role_arn",
    "updated_at", "status", "until_seq", "cursor_seq", "start_logging_at", "stop_logging_at",
    "deleted_at", "chain_digest_name", "chain_digest_sha256", "chain_digest_signature",
})


def trail_arn(region: str, account_id: str, name: str) -> str:
    return f"acs:actiontrail:{region}:{account_id}:trail/{name}"


@dataclass(frozen=True, slots=True)
class Trail:
    trail_id: str
    account_id: str
    name: str
    home_region: str
    trail_region: str
    event_rw: str
    oss_bucket_name: str
    oss_key_prefix: str
    oss_write_role_arn: str
    status: str
    created_at: str
    updated_at: str
    start_logging_at: str | None
    stop_logging_at: str | None
    deleted_at: str | None
    cursor_seq: int
    until_seq: int | None
    delivery_number: int
    latest_delivery_at: str | None
    latest_delivery_error: str

    @property
    def arn(self) -> str:
        return trail_arn(self.home_region, self.account_id, self.name)

    @property
    def is_logging(self) -> bool:
        return self.status == STATUS_ENABLED

    @classmethod
    def of(cls, row: Row) -> Trail:
        until = row["until_seq"]
        return cls(
            trail_id=str(row["trail_id"]), account_id=str(row["account_id"]),
            name=str(row["name"]), home_region=str(row["home_region"]),
            trail_region=str(row["trail_region"]), event_rw=str(row["event_rw"]),
            oss_bucket_name=str(row["oss_bucket_name"]),
            oss_key_prefix=str(row["oss_key_prefix"]),
            oss_write_role_arn=str(row["oss_write_role_arn"]), status=str(row["status"]),
            created_at=str(row["created_at"]), updated_at=str(row["updated_at"]),
            start_logging_at=row["start_logging_at"], stop_logging_at=row["stop_logging_at"],
            deleted_at=row["deleted_at"], cursor_seq=int(row["cursor_seq"]),
            until_seq=None if until is None else int(until),
            delivery_number=int(row["delivery_number"]),
            latest_delivery_at=row["latest_delivery_at"],
            latest_delivery_error=str(row["latest_delivery_error"]))


@dataclass(frozen=True, slots=True)
class TrailSettings:
    """What CreateTrail and UpdateTrail may set; None keeps (or, creating, defaults) a value."""

    event_rw: str | None = None
    trail_region: str | None = None
    oss_bucket_name: str | None = None
    oss_key_prefix: str | None = None
    oss_write_role_arn: str | None = None
    sls_project_arn: str | None = None
    sls_write_role_arn: str | None = None
    max_compute_project_arn: str | None = None
    max_compute_write_role_arn: str | None = None


def _check_name(name: str) -> str:
    if not _TRAIL_NAME.fullmatch(name):
        raise InvalidTrailName(
            "The specified Trail name is invalid. A trail name is 6 to 36 characters: a "
            "lowercase letter, then lowercase letters, digits, hyphens (-) and underscores (_).")
    return name


def _check_settings(settings: TrailSettings) -> None:
    if settings.sls_project_arn or settings.sls_write_role_arn:
        raise SlsProjectDoesNotExist(
            "The specified Log Service project does not exist: ramparts has no Log Service; "
            "deliver to a bucket directory with OssBucketName.")
    if settings.max_compute_project_arn or settings.max_compute_write_role_arn:
        raise InvalidDeliveryConfiguration(
            "ramparts delivers to bucket directories only (OssBucketName); MaxCompute "
            "projects are not available.")
    if settings.event_rw is not None and settings.event_rw not in EVENT_RW:
        raise InvalidQueryParameter(
            "The specified query parameter is invalid: EventRW must be Read, Write or All.")
    region = settings.trail_region
    if region is not None and region != "All" and not _REGION.fullmatch(region):
        raise InvalidQueryParameter(
            "The specified query parameter is invalid: TrailRegion must be All or a region ID.")
    bucket = settings.oss_bucket_name
    if bucket is not None and not _BUCKET.fullmatch(bucket):
        raise BucketDoesNotExist(
            "The specified OSS bucket does not exist: a bucket name is 3 to 63 lowercase "
            "letters, digits and hyphens (-), starting and ending with a letter or digit.")
    prefix = settings.oss_key_prefix
    if prefix and (not _PREFIX.fullmatch(prefix) or "//" in prefix or prefix.endswith("/")):
        raise InvalidPrefix(
            "The specified OSS bucket prefix is invalid: 6 to 32 characters, a letter first, "
            "then letters, digits, hyphens (-), underscores (_) and single slashes (/), not "
            "ending with a slash.")


class TrailBackend:
    """The trails of one account, inside a call's transaction."""

    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str, region: str) -> None:
        self.tx, self.env, self.account_id, self.region = tx, env, account_id, region

    # ---- reading

    def _row(self, name: str) -> Row | None:
        return self.tx.query_one(
            "SELECT * FROM trails WHERE account_id = ? AND name = ? AND deleted_at IS NULL",
            (self.account_id, name))

    def get(self, name: str) -> Trail:
        row = self._row(name) if _TRAIL_NAME.fullmatch(name) else None
        if row is None:
            raise TrailNotFound(f"The specified Trail does not exist: {name[:64]}.")
        return Trail.of(row)

    def listing(self, names: list[str] | None = None) -> list[Trail]:
        rows = self.tx.query("SELECT * FROM trails WHERE account_id = ? AND deleted_at IS NULL "
                             "ORDER BY name", (self.account_id,))
        trails = [Trail.of(row) for row in rows]
        if names is not None:
            wanted = set(names)
            trails = [trail for trail in trails if trail.name in wanted]
        return trails

    # ---- changing

    def _head(self) -> int:
        """The chain's last sequence number, with the chain lock held until commit, so that the
        event of this very call is the next one (head + 1)."""
        self.tx.lock(CHAIN_LOCK)
        row = self.tx.query_one("SELECT MAX(seq) AS head FROM trail_events")
        return int(row["head"]) if row is not None and row["head"] is not None else 0

    def _check_destination(self, bucket: str, prefix: str, exclude: str | None) -> None:
        for trail in self.listing():
            if trail.trail_id == exclude:
                continue
            if trail.oss_bucket_name == bucket and trail.oss_key_prefix == prefix:
                raise RepeatOssBucket(
                    f"The specified OSS bucket is already in use. We recommend that you modify "
                    f"the existing Trail or specify another bucket (trail {trail.name} delivers "
                    "to the same bucket and prefix).")

    def create(self, name: str, settings: TrailSettings, *, organization: bool) -> Trail:
        _check_name(name)
        if organization:
            raise NotAllowCreateOrganizationTrail(
                "Your account does not allow you to create organization trail: ramparts has no "
                "resource directory.")
        _check_settings(settings)
        if not settings.oss_bucket_name:
            raise InvalidDeliveryConfiguration(
                "You must specify at least one Log Service project or OSS bucket for a Trail.")
        if self._row(name) is not None:
            raise TrailAlreadyExists(f"The specified Trail name already exists: {name}.")
        if len(self.listing()) >= MAX_TRAILS:
            raise MaximumNumberOfTrailsExceeded(
                f"The number of Trails in the same region exceeds the upper limit "
                f"({MAX_TRAILS}).")
        prefix = settings.oss_key_prefix or ""
        self._check_destination(settings.oss_bucket_name, prefix, None)
        now = format_iso8601(self.env.clock.now())
        ensure_signing_key(self.tx, self.env.sealer, self.account_id, self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO trails (trail_id, account_id, name, home_region, trail_region, "
                "event_rw, oss_bucket_name, oss_key_prefix, oss_write_role_arn, status, "
                "created_at, updated_at, cursor_seq, delivery_number, latest_delivery_error, "
                "chain_digest_name, chain_digest_sha256, chain_digest_signature) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', '', '')",
                (self.env.ids.request_id(), self.account_id, name, self.region,
                 settings.trail_region or "All", settings.event_rw or "Write",
                 settings.oss_bucket_name, prefix, settings.oss_write_role_arn or "",
                 STATUS_FRESH, now, now, self._head()))
        except ConflictError:  # a replica created it a moment ago
            raise TrailAlreadyExists(f"The specified Trail name already exists: {name}.") from None
        return self.get(name)

    def update(self, name: str, settings: TrailSettings) -> Trail:
        trail = self.get(name)
        _check_settings(settings)
        if settings.oss_bucket_name == "":
            raise InvalidDeliveryConfiguration(
                "You must specify at least one Log Service project or OSS bucket for a Trail.")
        bucket = settings.oss_bucket_name or trail.oss_bucket_name
        prefix = trail.oss_key_prefix if settings.oss_key_prefix is None \
            else settings.oss_key_prefix
        moved = (bucket, prefix) != (trail.oss_bucket_name, trail.oss_key_prefix)
        if moved:
            self._check_destination(bucket, prefix, trail.trail_id)
        values: dict[str, Any] = {
            "event_rw": settings.event_rw or trail.event_rw,
            "trail_region": settings.trail_region or trail.trail_region,
            "oss_bucket_name": bucket, "oss_key_prefix": prefix,
            "oss_write_role_arn": trail.oss_write_role_arn
            if settings.oss_write_role_arn is None else settings.oss_write_role_arn,
            "updated_at": format_iso8601(self.env.clock.now()),
        }
        if moved:  # a new destination starts a digest chain of its own
            values.update(chain_digest_name="", chain_digest_sha256="",
                          chain_digest_signature="")
        self._set(trail, values)
        return self.get(name)

    def start_logging(self, name: str) -> Trail:
        trail = self.get(name)
        if trail.is_logging:
            return trail
        values: dict[str, Any] = {"status": STATUS_ENABLED, "until_seq": None,
                                  "start_logging_at": format_iso8601(self.env.clock.now())}
        head = self._head()
        if trail.until_seq is None or trail.cursor_seq >= trail.until_seq:
            # Events from while logging was off are not the trail's; this call's event is.
            values["cursor_seq"] = max(trail.cursor_seq, head)
        ensure_signing_key(self.tx, self.env.sealer, self.account_id, self.env.clock.now())
        self._set(trail, values)
        return self.get(name)

    def stop_logging(self, name: str) -> Trail:
        trail = self.get(name)
        if not trail.is_logging:
            return trail
        self._set(trail, {"status": STATUS_DISABLED, "until_seq": self._head() + 1,
                          "stop_logging_at": format_iso8601(self.env.clock.now())})
        return self.get(name)

    def delete(self, name: str) -> Trail:
        trail = self.get(name)
        now = format_iso8601(self.env.clock.now())
        values: dict[str, Any] = {"deleted_at": now, "updated_at": now}
        if trail.is_logging:
            values.update(status=STATUS_DISABLED, until_seq=self._head() + 1,
                          stop_logging_at=now)
        self._set(trail, values)
        return trail

    def _set(self, trail: Trail, values: dict[str, Any]) -> None:
        unknown = set(values) - _SETTABLE
        if unknown:
            raise ValueError(f"not a trail column: {sorted(unknown)}")
        columns = ", ".join(f"{column} = ?" for column in values)  # names from _SETTABLE only
        self.tx.execute(f"UPDATE trails SET {columns} WHERE trail_id = ?",  # noqa: S608
                        (*values.values(), trail.trail_id))
