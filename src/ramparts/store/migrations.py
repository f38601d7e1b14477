"""Schema migrations: numbered steps of portable SQL, applied once each, in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ramparts.store.base import Store

__all__ = ["MAIN", "MIGRATIONS", "TRAIL_INDEX", "TRAIL_INDEX_MIGRATIONS", "Schema", "migrate"]

# Portable SQL only: TEXT, BIGINT and INTEGER columns, explicit keys, no autoincrement, no
# dialect functions; a table may end in WITHOUT ROWID, which only SQLite is given. Times are
# ISO 8601 UTC text (sortable); sealed values are base64 text.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "accounts, RAM identities, STS sessions, nonces and the trail", [
        """CREATE TABLE accounts (
            account_id TEXT PRIMARY KEY, alias TEXT NOT NULL, default_region TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE root_identities (
            account_id TEXT PRIMARY KEY REFERENCES accounts(account_id),
            password_sealed TEXT, mfa_serial TEXT, created_at TEXT NOT NULL,
            last_login_at TEXT)""",
        """CREATE TABLE users (
            account_id TEXT NOT NULL REFERENCES accounts(account_id), user_id TEXT NOT NULL,
            user_name TEXT NOT NULL, name_key TEXT NOT NULL, display_name TEXT NOT NULL,
            email TEXT NOT NULL, mobile_phone TEXT NOT NULL, comments TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_login_at TEXT,
            PRIMARY KEY (account_id, name_key), UNIQUE (user_id))""",
        """CREATE TABLE groups_ (
            account_id TEXT NOT NULL REFERENCES accounts(account_id), group_id TEXT NOT NULL,
            group_name TEXT NOT NULL, name_key TEXT NOT NULL, comments TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (account_id, name_key))""",
        """CREATE TABLE group_members (
            account_id TEXT NOT NULL, group_key TEXT NOT NULL, user_key TEXT NOT NULL,
            joined_at TEXT NOT NULL, PRIMARY KEY (account_id, group_key, user_key))""",
        """CREATE TABLE roles (
            account_id TEXT NOT NULL REFERENCES accounts(account_id), role_id TEXT NOT NULL,
            role_name TEXT NOT NULL, name_key TEXT NOT NULL, description TEXT NOT NULL,
            trust_policy TEXT NOT NULL, max_session_duration BIGINT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (account_id, name_key), UNIQUE (role_id))""",
        """CREATE TABLE policies (
            account_id TEXT NOT NULL REFERENCES accounts(account_id),
            policy_name TEXT NOT NULL, name_key TEXT NOT NULL, description TEXT NOT NULL,
            default_version TEXT NOT NULL, next_version BIGINT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (account_id, name_key))""",
        """CREATE TABLE policy_versions (
            account_id TEXT NOT NULL, policy_key TEXT NOT NULL, version_id TEXT NOT NULL,
            document TEXT NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (account_id, policy_key, version_id))""",
        """CREATE TABLE attachments (
            account_id TEXT NOT NULL, principal_type TEXT NOT NULL, principal_key TEXT NOT NULL,
            policy_type TEXT NOT NULL, policy_key TEXT NOT NULL, attached_at TEXT NOT NULL,
            PRIMARY KEY (account_id, principal_type, principal_key, policy_type, policy_key))""",
        """CREATE TABLE access_keys (
            access_key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, user_key TEXT NOT NULL,
            secret_sealed TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
            last_used_at TEXT, last_used_service TEXT)""",
        "CREATE INDEX access_keys_by_user ON access_keys (account_id, user_key)",
        """CREATE TABLE login_profiles (
            account_id TEXT NOT NULL, user_key TEXT NOT NULL, password_sealed TEXT NOT NULL,
            password_reset_required INTEGER NOT NULL, mfa_bind_required INTEGER NOT NULL,
            failed_attempts BIGINT NOT NULL, locked_until TEXT, password_changed_at TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (account_id, user_key))""",
        """CREATE TABLE password_history (
            account_id TEXT NOT NULL, user_key TEXT NOT NULL, seq BIGINT NOT NULL,
            password_sealed TEXT NOT NULL, PRIMARY KEY (account_id, user_key, seq))""",
        """CREATE TABLE account_settings (
            account_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (account_id, name))""",
        """CREATE TABLE mfa_devices (
            account_id TEXT NOT NULL, serial_number TEXT NOT NULL, device_name TEXT NOT NULL,
            seed_sealed TEXT NOT NULL, user_key TEXT, bound_at TEXT, last_step BIGINT,
            created_at TEXT NOT NULL, PRIMARY KEY (account_id, serial_number))""",
        """CREATE TABLE sts_sessions (
            access_key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,
            secret_sealed TEXT NOT NULL, token_digest TEXT NOT NULL, kind TEXT NOT NULL,
            principal_key TEXT NOT NULL, session_name TEXT NOT NULL,
            source_access_key_id TEXT, session_policy TEXT, mfa_present INTEGER NOT NULL,
            created_at TEXT NOT NULL, expires_at TEXT NOT NULL)""",
        "CREATE INDEX sts_sessions_by_source ON sts_sessions (source_access_key_id)",
        """CREATE TABLE nonces (
            nonce TEXT PRIMARY KEY, expires_at TEXT NOT NULL)""",
        "CREATE INDEX nonces_by_expiry ON nonces (expires_at)",
        """CREATE TABLE trail_events (
            seq BIGINT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
            event_time TEXT NOT NULL, event_name TEXT NOT NULL, event_rw TEXT NOT NULL,
            service_name TEXT NOT NULL, principal_name TEXT NOT NULL, access_key_id TEXT NOT NULL,
            error_code TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL)""",
        "CREATE INDEX trail_events_by_time ON trail_events (account_id, event_time)",
    ]),
    (2, "one MFA device per principal, and the stored credential report", [
        # NULLs are distinct in a unique index (SQLite and PostgreSQL alike): any number of
        # unbound devices, at most one bound to each user or to the root identity.
        "CREATE UNIQUE INDEX mfa_devices_by_user ON mfa_devices (account_id, user_key)",
        """CREATE TABLE credential_reports (
            account_id TEXT PRIMARY KEY REFERENCES accounts(account_id),
            generated_at TEXT NOT NULL, content TEXT NOT NULL)""",
    ]),
    (3, "the trail's lookup: an index per LookupEvents attribute, and referenced resources", [
        # Each attribute LookupEvents filters on has a column and an index ending in
        # (event_time, seq), the order pages are read in, so a filtered page is one index
        # range. Events written before this version have '' in the new columns.
        "ALTER TABLE trail_events ADD COLUMN source_ip TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE trail_events ADD COLUMN event_type TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE trail_events ADD COLUMN role_name TEXT NOT NULL DEFAULT ''",
        "DROP INDEX trail_events_by_time",
        "CREATE INDEX trail_events_by_time ON trail_events (account_id, event_time, seq)",
        "CREATE INDEX trail_events_by_name ON trail_events "
        "(account_id, event_name, event_time, seq)",
        "CREATE INDEX trail_events_by_user ON trail_events "
        "(account_id, principal_name, event_time, seq)",
        "CREATE INDEX trail_events_by_access_key ON trail_events "
        "(account_id, access_key_id, event_time, seq)",
        "CREATE INDEX trail_events_by_service ON trail_events "
        "(account_id, service_name, event_time, seq)",
        "CREATE INDEX trail_events_by_rw ON trail_events (account_id, event_rw, event_time, seq)",
        "CREATE INDEX trail_events_by_source_ip ON trail_events "
        "(account_id, source_ip, event_time, seq)",
        "CREATE INDEX trail_events_by_type ON trail_events "
        "(account_id, event_type, event_time, seq)",
        "CREATE INDEX trail_events_by_role ON trail_events "
        "(account_id, role_name, event_time, seq)",
        # An event's referencedResources, one row per (type, name), written with the event.
        """CREATE TABLE trail_event_resources (
            account_id TEXT NOT NULL, resource_name TEXT NOT NULL, event_time TEXT NOT NULL,
            seq BIGINT NOT NULL, resource_type TEXT NOT NULL,
            PRIMARY KEY (account_id, resource_name, event_time, seq, resource_type))""",
        "CREATE INDEX trail_event_resources_by_type ON trail_event_resources "
        "(account_id, resource_type, event_time, seq)",
    ]),
    (4, "ActionTrail trails, their deliveries and the trail signing key", [
        # A deleted trail stays as a tombstone (deleted_at set) so that its deliveries can
        # still be verified; names are unique among the trails that are not deleted.
        """CREATE TABLE trails (
            trail_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(account_id),
            name TEXT NOT NULL, home_region TEXT NOT NULL, trail_region TEXT NOT NULL,
            event_rw TEXT NOT NULL, oss_bucket_name TEXT NOT NULL, oss_key_prefix TEXT NOT NULL,
            oss_write_role_arn TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, start_logging_at TEXT, stop_logging_at TEXT,
            deleted_at TEXT, cursor_seq BIGINT NOT NULL, until_seq BIGINT,
            delivery_number BIGINT NOT NULL, latest_delivery_at TEXT,
            latest_delivery_error TEXT NOT NULL, chain_digest_name TEXT NOT NULL,
            chain_digest_sha256 TEXT NOT NULL, chain_digest_signature TEXT NOT NULL,
            plan TEXT, plan_owner TEXT, plan_lease_until TEXT)""",
        "CREATE UNIQUE INDEX trails_by_name ON trails (account_id, name) "
        "WHERE deleted_at IS NULL",
        """CREATE TABLE trail_deliveries (
            trail_id TEXT NOT NULL, number BIGINT NOT NULL, from_seq BIGINT NOT NULL,
            to_seq BIGINT NOT NULL, bucket TEXT NOT NULL, prefix TEXT NOT NULL,
            log_file TEXT NOT NULL, log_sha256 TEXT NOT NULL, digest_file TEXT NOT NULL,
            digest_sha256 TEXT NOT NULL, delivered_at TEXT NOT NULL,
            PRIMARY KEY (trail_id, number))""",
        """CREATE TABLE trail_signing_keys (
            account_id TEXT PRIMARY KEY REFERENCES accounts(account_id),
            fingerprint TEXT NOT NULL, public_key TEXT NOT NULL, private_sealed TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
    ]),
    (5, "the trail's lookup index moves out of the append, behind the chain", [
        # Appending an event writes one row with no secondary index: the lookup indexes of
        # migration 3 cost more than the rest of an append together. LookupEvents reads
        # the postings that the trail indexer writes in bulk behind the chain (the TRAIL_INDEX
        # schema below), and checks the few events after its watermark one by one.
        # `resources` holds the event's referenced resources as JSON pairs (NULL for events
        # written before this version: read them from the body).
        """CREATE TABLE trail_events_v5 (
            seq BIGINT PRIMARY KEY, event_id TEXT NOT NULL, account_id TEXT NOT NULL,
            event_time TEXT NOT NULL, event_name TEXT NOT NULL, event_rw TEXT NOT NULL,
            service_name TEXT NOT NULL, principal_name TEXT NOT NULL, access_key_id TEXT NOT NULL,
            error_code TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL, source_ip TEXT NOT NULL DEFAULT '',
            event_type TEXT NOT NULL DEFAULT '', role_name TEXT NOT NULL DEFAULT '',
            resources TEXT)""",
        """INSERT INTO trail_events_v5 (seq, event_id, account_id, event_time, event_name,
            event_rw, service_name, principal_name, access_key_id, error_code, body, prev_hash,
            hash, source_ip, event_type, role_name, resources)
           SELECT seq, event_id, account_id, event_time, event_name, event_rw, service_name,
            principal_name, access_key_id, error_code, body, prev_hash, hash, source_ip,
            event_type, role_name, NULL FROM trail_events""",
        "DROP TABLE trail_events",
        "ALTER TABLE trail_events_v5 RENAME TO trail_events",
        "DROP TABLE trail_event_resources",
    ]),
    (6, "KMS keys, their versions, aliases and tags", [
        # A key's material never leaves the service: each version's 32 bytes are sealed under
        # the root key, bound to the key and version ids. `state` is Enabled, Disabled or
        # PendingDeletion; `rotation_seconds` is NULL while automatic rotation is off.
        """CREATE TABLE kms_keys (
            key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(account_id),
            region TEXT NOT NULL, description TEXT NOT NULL, key_spec TEXT NOT NULL,
            key_usage TEXT NOT NULL, origin TEXT NOT NULL, protection_level TEXT NOT NULL,
            state TEXT NOT NULL, creator TEXT NOT NULL, created_at TEXT NOT NULL,
            delete_at TEXT, deletion_protection TEXT, primary_version_id TEXT NOT NULL,
            rotation_seconds BIGINT, last_rotation_at TEXT, next_rotation_at TEXT)""",
        "CREATE INDEX kms_keys_by_account ON kms_keys (account_id, created_at, key_id)",
        "CREATE INDEX kms_keys_by_rotation ON kms_keys (next_rotation_at)",
        "CREATE INDEX kms_keys_by_deletion ON kms_keys (delete_at)",
        """CREATE TABLE kms_key_versions (
            key_id TEXT NOT NULL REFERENCES kms_keys(key_id), version_id TEXT NOT NULL,
            number BIGINT NOT NULL, material_sealed TEXT NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (key_id, version_id), UNIQUE (key_id, number))""",
        """CREATE TABLE kms_aliases (
            account_id TEXT NOT NULL, alias_name TEXT NOT NULL, key_id TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (account_id, alias_name))""",
        "CREATE INDEX kms_aliases_by_key ON kms_aliases (key_id)",
        # Tags of keys and secrets: `resource` is `key/<id>` or `secret/<name>`.
        """CREATE TABLE kms_tags (
            account_id TEXT NOT NULL, resource TEXT NOT NULL, tag_key TEXT NOT NULL,
            tag_value TEXT NOT NULL, PRIMARY KEY (account_id, resource, tag_key))""",
    ]),
    (7, "Secrets Manager: secrets and their versions", [
        # A secret's metadata. `secret_type` is Generic (managed types are added beside it);
        # `extended_config` is the JSON text given (NULL: none); `automatic_rotation` is
        # Enabled, Disabled or Invalid, with its interval and dates; `planned_delete_at` is set
        # while the secret waits out its recovery window.
        """CREATE TABLE secrets (
            account_id TEXT NOT NULL REFERENCES accounts(account_id), region TEXT NOT NULL,
            secret_name TEXT NOT NULL, secret_type TEXT NOT NULL, description TEXT NOT NULL,
            encryption_key_id TEXT NOT NULL, extended_config TEXT,
            automatic_rotation TEXT NOT NULL, rotation_seconds BIGINT, last_rotation_at TEXT,
            next_rotation_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            planned_delete_at TEXT, next_version_number BIGINT NOT NULL,
            PRIMARY KEY (account_id, region, secret_name))""",
        "CREATE INDEX secrets_by_deletion ON secrets (planned_delete_at)",
        "CREATE INDEX secrets_by_rotation ON secrets (next_rotation_at)",
        # Each version's value is encrypted under a data key of its own (AES-256-GCM, bound to
        # the account, region, secret, version and data type); the data key is kept only as a
        # KMS CiphertextBlob of the secret's key, bound to the secret's ARN and the version.
        """CREATE TABLE secret_versions (
            account_id TEXT NOT NULL, region TEXT NOT NULL, secret_name TEXT NOT NULL,
            version_id TEXT NOT NULL, number BIGINT NOT NULL, data_type TEXT NOT NULL,
            data_key_blob TEXT NOT NULL, data_sealed TEXT NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (account_id, region, secret_name, version_id),
            UNIQUE (account_id, region, secret_name, number))""",
        # A stage label marks at most one version of its secret.
        """CREATE TABLE secret_version_stages (
            account_id TEXT NOT NULL, region TEXT NOT NULL, secret_name TEXT NOT NULL,
            stage TEXT NOT NULL, version_id TEXT NOT NULL,
            PRIMARY KEY (account_id, region, secret_name, stage))""",
    ]),
    (8, "rotations of managed secrets: asked for, and their last error", [
        # RotateSecret's VersionId until the scheduler has rotated the secret; the error of the
        # last rotation that failed (NULL once one succeeds).
        "ALTER TABLE secrets ADD COLUMN rotation_requested TEXT",
        "ALTER TABLE secrets ADD COLUMN last_rotation_error TEXT",
        # The rotator at work on the secret, until when: one at a time, across replicas and
        # across the transactions of one rotation; a crashed one's lease runs out.
        "ALTER TABLE secrets ADD COLUMN rotation_owner TEXT",
        "ALTER TABLE secrets ADD COLUMN rotation_lease_until TEXT",
    ]),
]

# The trail's lookup index: derived from the events, rebuilt from them at will. SQLite keeps it
# in a file of its own, written beside the database by the trail indexer; PostgreSQL in the
# same database.
TRAIL_INDEX_MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "terms, postings and event ids of the trail's events, and the indexer's watermark", [
        # A term is one (account, LookupAttribute key, value); the key '' with the value ''
        # stands for every event of the account. A posting says the event `seq` at
        # `event_second` (Unix time) has the term; a page is one range of the primary key.
        """CREATE TABLE trail_terms (
            term_id BIGINT PRIMARY KEY, account_id TEXT NOT NULL, attribute TEXT NOT NULL,
            value TEXT NOT NULL, UNIQUE (account_id, attribute, value))""",
        """CREATE TABLE trail_postings (
            term_id BIGINT NOT NULL, event_second BIGINT NOT NULL, seq BIGINT NOT NULL,
            PRIMARY KEY (term_id, event_second, seq)) WITHOUT ROWID""",
        # EventId names one event: the first 8 bytes of its SHA-256, as a signed integer.
        """CREATE TABLE trail_event_ids (
            digest BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (digest, seq))
            WITHOUT ROWID""",
        # How far the index has read the chain: the last event indexed and its hash (an index
        # ahead of the store, restored from a backup say, is rebuilt), and the generation of
        # its term ids (a rebuild starts a new one, so that no replica keeps using old ids).
        """CREATE TABLE trail_index_state (
            name TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL,
            generation BIGINT NOT NULL)""",
    ]),
]

# SQLite stores a table keyed by its primary key alone when asked; other databases have no
# such clause and always do, or need not.
_SQLITE_ONLY_SUFFIX = "WITHOUT ROWID"


def _for_dialect(statement: str, dialect: str) -> str:
    text = statement.rstrip()
    if dialect != "sqlite" and text.endswith(_SQLITE_ONLY_SUFFIX):
        return text.removesuffix(_SQLITE_ONLY_SUFFIX).rstrip()
    return statement


@dataclass(frozen=True)
class Schema:
    """Migrations applied in order, recorded in a table of their own."""

    versions_table: str
    lock: str  # taken while migrating, so that replicas starting together migrate once
    migrations: list[tuple[int, str, list[str]]]


MAIN = Schema("schema_migrations", "schema-migrations", MIGRATIONS)
TRAIL_INDEX = Schema("trail_index_migrations", "trail-index-migrations", TRAIL_INDEX_MIGRATIONS)


def migrate(store: Store, schema: Schema = MAIN) -> int:
    """Apply every migration of `schema` the database lacks; its version afterwards."""
    table = schema.versions_table
    with store.transaction() as tx:
        tx.lock(schema.lock)
        tx.execute(f"CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY, "
                   "description TEXT NOT NULL)")
        applied = {row["version"] for row in
                   tx.query(f"SELECT version FROM {table}")}  # noqa: S608 (a fixed name)
        for version, description, statements in schema.migrations:
            if version in applied:
                continue
            for statement in statements:
                tx.execute(_for_dialect(statement, store.dialect))
            tx.execute(f"INSERT INTO {table} (version, description) "  # noqa: S608
                       "VALUES (?, ?)", (version, description))
        return max((v for v, _, _ in schema.migrations), default=0)
