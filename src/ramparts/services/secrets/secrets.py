"""Secrets Manager's secrets in the store: versions under envelope encryption, stage labels
and recovery windows.

Each version's value is encrypted with AES-256-GCM under a data key of its own, the associated
data binding the account, region, secret name, version id and data type; the data key is kept
only as a KMS CiphertextBlob of the secret's key (its primary version when written), bound by
its EncryptionContext to the secret's ARN and the version id. Reading a version opens that blob
with the key it names, so a Disabled key, or one pending deletion, makes the value unreadable
until the key is usable again. Plaintext values exist only in memory, in `SecretValue`, whose
repr leaves them out.

Generic secrets do not rotate [doc: CreateSecret EnableAutomaticRotation]; the managed types
(services/secrets/managed.py) rotate by the scheduler (services/secrets/rotation.py).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from ramparts.core import jsontext
from ramparts.core.clock import format_iso8601
from ramparts.core.errors import RampartsError
from ramparts.crypto.primitives import KEY_SIZE, CryptoError, decrypt, encrypt, random_bytes
from ramparts.services.call import ServiceEnv
from ramparts.services.kms.envelope import open_blob, parse_blob, seal_blob
from ramparts.services.kms.errors import (
    InvalidCiphertext,
    InvalidParameter,
    KeyVersionNotFound,
    LimitExceeded,
    ResourceNotFound,
    UnsupportedOperation,
)
from ramparts.services.kms.keys import SERVICE_CREATOR, Key, KeyBackend
from ramparts.services.kms.tags import MAX_TAGS, ResourceTags
from ramparts.services.secrets.checks import (
    BINARY,
    DATA_TYPES,
    MAX_SECRET_DATA_BYTES,
    ROTATION_INTERVAL,
    TEXT,
    check_secret_name,
    check_stage,
    check_version_id,
    parse_data,
    parse_rotation_interval,
    secret_resource,
)
from ramparts.services.secrets.errors import ResourceExist, ResourceInDeleteWindow
from ramparts.services.secrets.records import Secret, SecretValue, SecretVersion
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = [
    "ACS_CURRENT",
    "ACS_PREVIOUS",
    "BINARY",
    "DATA_TYPES",
    "DEFAULT_KEY_ALIAS",
    "DEFAULT_KEY_CREATOR",
    "DEFAULT_RECOVERY_DAYS",
    "GENERIC",
    "MAX_SECRETS",
    "MAX_SECRET_DATA_BYTES",
    "MAX_STAGES_PER_SECRET",
    "MAX_TAGS",
    "MAX_VERSIONS",
    "RECOVERY_WINDOW_DAYS",
    "ROTATION_INTERVAL",
    "SECRET_FILTER_KEYS",
    "SUPPORTED_SECRET_TYPES",
    "TEXT",
    "ResourceTags",
    "Secret",
    "SecretBackend",
    "SecretIntegrityError",
    "SecretValue",
    "SecretVersion",
    "check_secret_name",
    "check_stage",
    "check_version_id",
    "erase_secret",
    "parse_data",
    "parse_rotation_interval",
    "purge_due",
    "secret_resource",
]

ACS_CURRENT, ACS_PREVIOUS = "ACSCurrent", "ACSPrevious"
GENERIC = "Generic"
# Types documented for CreateSecret [doc: CreateSecret SecretType]; these are created here:
# generic secrets, and the managed ones that rotate (services/secrets/managed.py).
KNOWN_SECRET_TYPES = frozenset({"Generic", "Rds", "Redis", "RAMCredentials", "ECS", "PolarDB"})
SUPPORTED_SECRET_TYPES = frozenset({GENERIC, "Rds", "RAMCredentials"})
ENABLED, DISABLED = "Enabled", "Disabled"
MAX_STAGES_PER_SECRET = 8  # [doc: UpdateSecretVersionStage: at most 8 stages per secret]
# [doc: Overview of generic secrets]: past the version limit the earliest version without a
# stage label is deleted. The limit itself is not documented; 100 is this service's choice.
MAX_VERSIONS = 100
MAX_SECRETS = 1000  # per account and region; a local guard against runaway scripts
MAX_TAG_LENGTH = 128  # [doc: CreateSecret Tags: keys and values up to 128 characters]
RECOVERY_WINDOW_DAYS = (7, 30)
DEFAULT_RECOVERY_DAYS = 30  # [doc: DeleteSecret RecoveryWindowInDays]
DEFAULT_KEY_ALIAS = "alias/acs/secretsmanager"
DEFAULT_KEY_CREATOR = SERVICE_CREATOR
SECRET_FILTER_KEYS = ("SecretName", "Description", "TagKey", "TagValue", "SecretType",
                      "DKMSInstanceId")  # [doc: ListSecrets Filters]

_AAD_LABEL = b"ramparts/v1/secret-version\x00"

_COLUMNS = (
    "account_id, region, secret_name, secret_type, description, encryption_key_id, "
    "extended_config, automatic_rotation, rotation_seconds, last_rotation_at, next_rotation_at, "
    "created_at, updated_at, planned_delete_at, next_version_number")


class SecretIntegrityError(RampartsError):
    """A stored version does not open: its records were altered or moved. The message names
    the secret and version, never any value."""


def _aad(secret: Secret, version_id: str, data_type: str) -> bytes:
    bound = [secret.account_id, secret.region, secret.secret_name, version_id, data_type]
    return _AAD_LABEL + jsontext.compact(bound).encode("utf-8")


def _context(secret: Secret, version_id: str) -> dict[str, str]:
    return {"SecretArn": secret.arn, "VersionId": version_id}


def _ordered_stages(stages: Iterable[str]) -> tuple[str, ...]:
    """Built-in labels first, then the others by name."""
    labels = set(stages)
    builtin = [stage for stage in (ACS_CURRENT, ACS_PREVIOUS) if stage in labels]
    return (*builtin, *sorted(labels - {ACS_CURRENT, ACS_PREVIOUS}))


# ---- the backend


class SecretBackend:
    """One account's secrets in one region, inside the call's transaction."""

    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str, region: str) -> None:
        self.tx, self.env, self.account_id, self.region = tx, env, account_id, region
        self.keys = KeyBackend(tx, env, account_id, region)
        self.tags = ResourceTags(tx, account_id)

    def _now(self) -> datetime:
        return self.env.clock.now()

    def _where(self) -> tuple[str, str]:
        return self.account_id, self.region

    def _lock(self, name: str) -> None:
        """Writers of one secret take turns (its version numbers and stage labels)."""
        self.tx.lock(f"secret:{self.account_id}:{self.region}:{name}")

    # ---- finding secrets

    def get(self, name: str) -> Secret:
        """The secret, also while it waits out its recovery window; Forbidden.ResourceNotFound
        when there is none, or its window has ended (it is erased then)."""
        row = self.tx.query_one(f"SELECT {_COLUMNS} FROM secrets WHERE account_id = ? "  # noqa: S608
                                "AND region = ? AND secret_name = ?", (*self._where(), name))
        if row is not None:
            secret = Secret.of(row)
            if secret.planned_delete_at is None \
                    or secret.planned_delete_at > format_iso8601(self._now()):
                return secret
            self._erase(secret.secret_name)
        raise ResourceNotFound(f"The secret {name[:192]} is not found.")

    def active(self, name: str) -> Secret:
        """The secret, refused while it waits out its recovery window."""
        secret = self.get(name)
        if secret.pending_deletion:
            raise ResourceInDeleteWindow(f"The secret {secret.secret_name} is planned to be "
                                         "deleted; restore it first.")
        return secret

    def page(self, number: int, size: int,
             filters: Sequence[tuple[str, Sequence[str]]] = ()) -> tuple[list[Secret], int]:
        """A page of secrets by name, those matching every filter (a filter matches any of its
        values; one with no values matches all)."""
        self._purge_due()
        where, params = ["s.account_id = ?", "s.region = ?"], list(self._where())
        for key, values in filters:
            if not values:
                continue
            marks = ", ".join("?" * len(values))
            if key in ("SecretName", "Description", "SecretType"):
                column = {"SecretName": "secret_name", "Description": "description",
                          "SecretType": "secret_type"}[key]
                where.append(f"s.{column} IN ({marks})")
            elif key in ("TagKey", "TagValue"):
                column = "tag_key" if key == "TagKey" else "tag_value"
                where.append("EXISTS (SELECT 1 FROM kms_tags t WHERE t.account_id = "  # noqa: S608
                             "s.account_id AND t.resource = 'secret/' || s.secret_name AND "
                             f"t.{column} IN ({marks}))")  # fixed names, values bound
            elif key == "DKMSInstanceId":
                where.append("1 = 0")  # no secret here belongs to a KMS instance
                continue
            else:
                raise InvalidParameter('The specified parameter "Filters" is not valid: the '
                                       f"keys are {', '.join(SECRET_FILTER_KEYS)}.")
            params.extend(values)
        clause = " AND ".join(where)
        total = self.tx.query_one(f"SELECT COUNT(*) AS n FROM secrets s WHERE {clause}",  # noqa: S608
                                  params)
        rows = self.tx.query(
            f"SELECT {', '.join('s.' + c.strip() for c in _COLUMNS.split(','))} "  # noqa: S608
            f"FROM secrets s WHERE {clause} ORDER BY s.secret_name LIMIT ? OFFSET ?",
            (*params, size, (number - 1) * size))
        return [Secret.of(row) for row in rows], int(total["n"]) if total else 0

    # ---- lifecycle

    def create(self, name: str, *, version_id: str, data: bytes, data_type: str,
               encryption_key_id: str | None = None, secret_type: str = GENERIC,
               description: str = "", extended_config: str | None = None,
               rotation: timedelta | None = None,
               tags: Sequence[tuple[str, str]] = ()) -> tuple[Secret, SecretVersion]:
        """A secret and its first version, marked ACSCurrent, encrypted under
        `encryption_key_id` (an id, alias or key ARN of this account, Enabled) or the account's
        default secrets key."""
        check_secret_name(name)
        check_version_id(version_id)
        self._lock(name)
        if secret_type not in KNOWN_SECRET_TYPES:
            raise InvalidParameter('The specified parameter "SecretType" is not valid: '
                                   f"{', '.join(sorted(KNOWN_SECRET_TYPES))}.")
        if secret_type not in SUPPORTED_SECRET_TYPES:
            raise UnsupportedOperation(f"Secrets of type {secret_type} are not supported here: "
                                       f"{', '.join(sorted(SUPPORTED_SECRET_TYPES))} only.")
        if rotation is not None and secret_type == GENERIC:
            raise InvalidParameter('The specified parameter "EnableAutomaticRotation" is not '
                                   "valid: generic secrets do not rotate automatically; store "
                                   "a new value with PutSecretValue.")
        if data_type not in DATA_TYPES:
            raise InvalidParameter('The specified parameter "SecretDataType" is not valid: '
                                   "text or binary.")
        self.tags.check(tags)
        if len(tags) > MAX_TAGS:
            raise LimitExceeded(f"A secret has at most {MAX_TAGS} tags.")
        try:
            existing = self.get(name)  # one whose recovery window has ended is erased here
        except ResourceNotFound:
            pass
        else:
            if existing.pending_deletion:
                raise ResourceInDeleteWindow(f"The secret {name} is planned to be deleted; "
                                             "restore it, or wait until it is gone.")
            raise ResourceExist(f"The secret {name} already exists.")
        count = self.tx.query_one("SELECT COUNT(*) AS n FROM secrets WHERE account_id = ? AND "
                                  "region = ?", self._where())
        if count is not None and int(count["n"]) >= MAX_SECRETS:
            raise LimitExceeded(f"An account holds at most {MAX_SECRETS} secrets in a region.")
        key = self._encryption_key(encryption_key_id)
        now = self._now()
        stamp = format_iso8601(now)
        try:
            self.tx.execute(
                f"INSERT INTO secrets ({_COLUMNS}) VALUES "  # noqa: S608 (fixed names)
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, 1)",
                (*self._where(), name, secret_type, description, key.key_id, extended_config,
                 ENABLED if rotation else DISABLED,
                 int(rotation.total_seconds()) if rotation else None,
                 format_iso8601(now + rotation) if rotation else None, stamp, stamp))
        except ConflictError:
            raise ResourceExist(f"The secret {name} already exists.") from None
        self.tags.add(secret_resource(name), tags)
        secret = self.get(name)
        version = self._add_version(secret, version_id, data, data_type, [ACS_CURRENT])
        return self.get(name), version

    def _encryption_key(self, given: str | None) -> Key:
        if given is None or given == "":
            return self._default_key()
        key_prefix = f"acs:kms:{self.region}:{self.account_id}:key/"
        key = self.keys.get(given.removeprefix(key_prefix))
        key.require_usable()
        return key

    def _default_key(self) -> Key:
        """The account's secrets key in this region: an ordinary KMS key made on first use,
        named by the alias the service reserves for it."""
        self.tx.lock(f"secrets-default-key:{self.account_id}:{self.region}")
        resolved = self.keys.resolve(DEFAULT_KEY_ALIAS)
        if resolved is not None:
            key = self.keys.get(resolved)
        else:
            key = self.keys.create(
                description="The default key of Secrets Manager", key_spec="Aliyun_AES_256",
                key_usage="ENCRYPT/DECRYPT", origin="Aliyun_KMS", protection_level="SOFTWARE",
                rotation=None, creator=DEFAULT_KEY_CREATOR)
            stamp = format_iso8601(self._now())
            self.tx.execute("INSERT INTO kms_aliases (account_id, alias_name, key_id, "
                            "created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                            (self.account_id, DEFAULT_KEY_ALIAS, key.key_id, stamp, stamp))
        key.require_usable()
        return key

    def update(self, secret: Secret, *, description: str | None = None,
               extended_config: str | None = None) -> Secret:
        """New metadata; None leaves a field as it is."""
        if description is None and extended_config is None:
            return secret
        self.tx.execute(
            "UPDATE secrets SET description = ?, extended_config = ?, updated_at = ? WHERE "
            "account_id = ? AND region = ? AND secret_name = ?",
            (secret.description if description is None else description,
             secret.extended_config if extended_config is None else extended_config,
             format_iso8601(self._now()), *self._where(), secret.secret_name))
        return self.get(secret.secret_name)

    def schedule_deletion(self, secret: Secret, days: int) -> str:
        """The secret is deleted when `days` have passed, unless restored; the planned time."""
        low, high = RECOVERY_WINDOW_DAYS
        if not low <= days <= high:
            raise InvalidParameter('The specified parameter "RecoveryWindowInDays" is not '
                                   f"valid: it must be from {low} to {high}.")
        if secret.pending_deletion:
            raise ResourceInDeleteWindow(f"The secret {secret.secret_name} is already planned "
                                         "to be deleted.")
        planned = format_iso8601(self._now() + timedelta(days=days))
        self.tx.execute("UPDATE secrets SET planned_delete_at = ? WHERE account_id = ? AND "
                        "region = ? AND secret_name = ?",
                        (planned, *self._where(), secret.secret_name))
        return planned

    def delete_now(self, secret: Secret) -> str:
        """The secret, its versions and tags are gone at once, beyond recovery; the time."""
        self._erase(secret.secret_name)
        return format_iso8601(self._now())

    def restore(self, secret: Secret) -> None:
        """Cancel a planned deletion (a secret not planned for deletion stays as it is)."""
        self.tx.execute("UPDATE secrets SET planned_delete_at = NULL WHERE account_id = ? AND "
                        "region = ? AND secret_name = ?", (*self._where(), secret.secret_name))

    def _erase(self, name: str) -> None:
        erase_secret(self.tx, self.account_id, self.region, name)

    def _purge_due(self) -> None:
        for row in self.tx.query("SELECT secret_name FROM secrets WHERE account_id = ? AND "
                                 "region = ? AND planned_delete_at <= ?",
                                 (*self._where(), format_iso8601(self._now()))):
            self._erase(str(row["secret_name"]))

    # ---- versions and values

    def put_value(self, secret: Secret, version_id: str, data: bytes, data_type: str,
                  stages: Sequence[str] | None = None) -> SecretVersion:
        """A new version marked with `stages` (default ACSCurrent; moving ACSCurrent makes the
        former current version ACSPrevious). The same version id with the same value is the
        same version again; with another value it is refused."""
        check_version_id(version_id)
        if data_type not in DATA_TYPES:
            raise InvalidParameter('The specified parameter "SecretDataType" is not valid: '
                                   "text or binary.")
        self._lock(secret.secret_name)
        labels = [ACS_CURRENT] if stages is None else list(dict.fromkeys(stages))
        for label in labels:
            check_stage(label, "VersionStages")
        row = self._version_row(secret, version_id)
        if row is not None:
            stored = self._open(secret, row)
            if row["data_type"] == data_type and hmac.compare_digest(stored, data):
                return self._version_of(row, self._stages(secret))
            raise ResourceExist(f"The version {version_id} of the secret "
                                f"{secret.secret_name} already exists with another value.")
        return self._add_version(secret, version_id, data, data_type, labels)

    def _add_version(self, secret: Secret, version_id: str, data: bytes, data_type: str,
                     labels: Sequence[str]) -> SecretVersion:
        if len(data) > MAX_SECRET_DATA_BYTES:
            raise InvalidParameter('The specified parameter "SecretData" is not valid: it is '
                                   f"longer than {MAX_SECRET_DATA_BYTES} bytes.")
        stages = self._stages(secret)
        self._check_stage_count(stages, labels)
        key = self.keys.get(secret.encryption_key_id)
        key.require_usable()
        material = self.keys.material(key.key_id, key.primary_version_id)
        data_key = random_bytes(KEY_SIZE)
        blob = seal_blob(key.key_id, key.primary_version_id, material, data_key,
                         _context(secret, version_id))
        sealed = encrypt(data_key, data, _aad(secret, version_id, data_type))
        stamp = format_iso8601(self._now())
        number = self.get(secret.secret_name).next_version_number  # as stored, never stale
        try:
            self.tx.execute(
                "INSERT INTO secret_versions (account_id, region, secret_name, version_id, "
                "number, data_type, data_key_blob, data_sealed, created_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*self._where(), secret.secret_name, version_id, number, data_type, blob,
                 base64.b64encode(sealed).decode("ascii"), stamp))
        except ConflictError:
            raise ResourceExist(f"The version {version_id} of the secret {secret.secret_name} "
                                "already exists.") from None
        self.tx.execute("UPDATE secrets SET next_version_number = ?, updated_at = ? WHERE "
                        "account_id = ? AND region = ? AND secret_name = ?",
                        (number + 1, stamp, *self._where(), secret.secret_name))
        for label in labels:
            self._move(secret, label, version_id)
        self._prune(secret)
        row = self._version_row(secret, version_id)
        assert row is not None
        return self._version_of(row, self._stages(secret))

    def value(self, secret: Secret, *, version_id: str | None = None,
              stage: str | None = None) -> SecretValue:
        """A version's value, by id or by stage (ACSCurrent when neither is given); when both
        are, the version must carry the stage."""
        if version_id is None:  # by stage: the labels and their versions in one read
            label = stage or ACS_CURRENT
            rows = self.tx.query(
                "SELECT s.stage, v.version_id, v.number, v.data_type, v.data_key_blob, "
                "v.data_sealed, v.created_at FROM secret_version_stages s JOIN secret_versions v "
                "ON v.account_id = s.account_id AND v.region = s.region AND v.secret_name = "
                "s.secret_name AND v.version_id = s.version_id WHERE s.account_id = ? AND "
                "s.region = ? AND s.secret_name = ?", (*self._where(), secret.secret_name))
            stages = {str(r["stage"]): str(r["version_id"]) for r in rows}
            marked = next((r for r in rows if r["stage"] == label), None)
            if marked is None:
                raise ResourceNotFound(f"No version of the secret {secret.secret_name} is "
                                       f"marked {label[:64]}.")
            return SecretValue(self._version_of(marked, stages), self._open(secret, marked))
        stages = self._stages(secret)
        row = self._version_row(secret, version_id)
        if row is None or (stage is not None and stages.get(stage) != version_id):
            raise ResourceNotFound(f"The version {version_id[:64]} of the secret "
                                   f"{secret.secret_name} is not found.")
        return SecretValue(self._version_of(row, stages), self._open(secret, row))

    def _open(self, secret: Secret, row: Row) -> bytes:
        version_id, data_type = str(row["version_id"]), str(row["data_type"])
        broken = SecretIntegrityError(f"The version {version_id} of the secret "
                                      f"{secret.secret_name} does not open.")
        try:
            blob = parse_blob(str(row["data_key_blob"]))
        except InvalidCiphertext:
            raise broken from None
        if blob.key_id != secret.encryption_key_id:
            raise broken
        try:
            material = self.keys.usable_material(blob.key_id, blob.version_id)
            data_key = open_blob(blob, material, _context(secret, version_id))
            return decrypt(data_key, base64.b64decode(str(row["data_sealed"])),
                           _aad(secret, version_id, data_type))
        except (InvalidCiphertext, KeyVersionNotFound, CryptoError, ValueError):
            raise broken from None

    def versions(self, secret: Secret, *, include_deprecated: bool = False
                 ) -> list[SecretVersion]:
        """The versions, oldest first; those without a stage label only when asked."""
        stages = self._stages(secret)
        rows = self.tx.query("SELECT version_id, number, data_type, created_at FROM "
                             "secret_versions WHERE account_id = ? AND region = ? AND "
                             "secret_name = ? ORDER BY number",
                             (*self._where(), secret.secret_name))
        versions = [self._version_of(row, stages) for row in rows]
        return [v for v in versions if include_deprecated or v.stages]

    def update_stage(self, secret: Secret, stage: str, *, move_to: str | None = None,
                     remove_from: str | None = None) -> None:
        """Move a stage label to a version, remove it from one, or both [doc:
        UpdateSecretVersionStage]. ACSCurrent and ACSPrevious only move; moving ACSCurrent
        makes the former current version ACSPrevious."""
        check_stage(stage)
        self._lock(secret.secret_name)
        if move_to is None and remove_from is None:
            raise InvalidParameter('The specified parameter "MoveToVersion" is not valid: give '
                                   "MoveToVersion, RemoveFromVersion or both.")
        if stage in (ACS_CURRENT, ACS_PREVIOUS) and move_to is None:
            raise InvalidParameter(f'The specified parameter "MoveToVersion" is not valid: '
                                   f"{stage} cannot be removed, only moved to another version.")
        stages = self._stages(secret)
        if remove_from is not None:
            self._require_version(secret, remove_from)
            if stages.get(stage) != remove_from:
                raise InvalidParameter('The specified parameter "RemoveFromVersion" is not '
                                       f"valid: the version {remove_from[:64]} is not marked "
                                       f"{stage}.")
        if move_to is None:
            self.tx.execute("DELETE FROM secret_version_stages WHERE account_id = ? AND "
                            "region = ? AND secret_name = ? AND stage = ?",
                            (*self._where(), secret.secret_name, stage))
        else:
            self._require_version(secret, move_to)
            self._check_stage_count(stages, [stage])
            self._move(secret, stage, move_to)
        self.tx.execute("UPDATE secrets SET updated_at = ? WHERE account_id = ? AND region = ? "
                        "AND secret_name = ?",
                        (format_iso8601(self._now()), *self._where(), secret.secret_name))

    # ---- stage labels

    def _stages(self, secret: Secret) -> dict[str, str]:
        """Stage label -> the version it marks."""
        rows = self.tx.query("SELECT stage, version_id FROM secret_version_stages WHERE "
                             "account_id = ? AND region = ? AND secret_name = ?",
                             (*self._where(), secret.secret_name))
        return {str(row["stage"]): str(row["version_id"]) for row in rows}

    def _check_stage_count(self, stages: dict[str, str], labels: Sequence[str]) -> None:
        after = set(stages) | set(labels)
        if ACS_CURRENT in labels and ACS_CURRENT in stages:
            after.add(ACS_PREVIOUS)
        if len(after) > MAX_STAGES_PER_SECRET and len(after) > len(stages):
            raise LimitExceeded(f"A secret has at most {MAX_STAGES_PER_SECRET} stage labels.")

    def _move(self, secret: Secret, stage: str, version_id: str) -> None:
        stages = self._stages(secret)
        former = stages.get(stage)
        if former == version_id:
            return
        if stage == ACS_CURRENT and former is not None:
            self._set_stage(secret, ACS_PREVIOUS, former)
        self._set_stage(secret, stage, version_id)

    def _set_stage(self, secret: Secret, stage: str, version_id: str) -> None:
        self.tx.execute("DELETE FROM secret_version_stages WHERE account_id = ? AND region = ? "
                        "AND secret_name = ? AND stage = ?",
                        (*self._where(), secret.secret_name, stage))
        self.tx.execute("INSERT INTO secret_version_stages (account_id, region, secret_name, "
                        "stage, version_id) VALUES (?, ?, ?, ?, ?)",
                        (*self._where(), secret.secret_name, stage, version_id))

    def _prune(self, secret: Secret) -> None:
        """Past MAX_VERSIONS, the earliest versions without a stage label go."""
        count = self.tx.query_one("SELECT COUNT(*) AS n FROM secret_versions WHERE "
                                  "account_id = ? AND region = ? AND secret_name = ?",
                                  (*self._where(), secret.secret_name))
        excess = (int(count["n"]) if count else 0) - MAX_VERSIONS
        if excess <= 0:
            return
        for version in self.versions(secret, include_deprecated=True):
            if excess <= 0:
                break
            if not version.stages:
                self.tx.execute("DELETE FROM secret_versions WHERE account_id = ? AND "
                                "region = ? AND secret_name = ? AND version_id = ?",
                                (*self._where(), secret.secret_name, version.version_id))
                excess -= 1

    # ---- rows

    def _version_row(self, secret: Secret, version_id: str) -> Row | None:
        return self.tx.query_one(
            "SELECT version_id, number, data_type, data_key_blob, data_sealed, created_at FROM "
            "secret_versions WHERE account_id = ? AND region = ? AND secret_name = ? AND "
            "version_id = ?", (*self._where(), secret.secret_name, version_id))

    def _require_version(self, secret: Secret, version_id: str) -> None:
        if self._version_row(secret, version_id) is None:
            raise ResourceNotFound(f"The version {version_id[:64]} of the secret "
                                   f"{secret.secret_name} is not found.")

    @staticmethod
    def _version_of(row: Row, stages: dict[str, str]) -> SecretVersion:
        version_id = str(row["version_id"])
        return SecretVersion(version_id, int(row["number"]), str(row["data_type"]),
                             str(row["created_at"]),
                             _ordered_stages(s for s, v in stages.items() if v == version_id))


def erase_secret(tx: Transaction, account_id: str, region: str, name: str) -> None:
    """A secret, its versions, stage labels and tags, gone."""
    where = (account_id, region, name)
    tx.execute("DELETE FROM secret_version_stages WHERE account_id = ? AND region = ? AND "
               "secret_name = ?", where)
    tx.execute("DELETE FROM secret_versions WHERE account_id = ? AND region = ? AND "
               "secret_name = ?", where)
    tx.execute("DELETE FROM kms_tags WHERE account_id = ? AND resource = ?",
               (account_id, secret_resource(name)))
    tx.execute("DELETE FROM secrets WHERE account_id = ? AND region = ? AND secret_name = ?",
               where)


def purge_due(tx: Transaction, now: datetime) -> int:
    """Erase every secret whose recovery window has ended (all accounts and regions), for a
    scheduler; how many. Secrets are also erased when next looked up after their window."""
    tx.lock("secrets-scheduler")
    rows = tx.query("SELECT account_id, region, secret_name FROM secrets WHERE "
                    "planned_delete_at <= ?", (format_iso8601(now),))
    for row in rows:
        erase_secret(tx, str(row["account_id"]), str(row["region"]), str(row["secret_name"]))
    return len(rows)

