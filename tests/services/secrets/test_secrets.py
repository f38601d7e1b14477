"""The secrets backend on a SQLite store: stage labels move as documented, each version's value
opens only as the version it was written for, keys in any state but Enabled keep values shut,
recovery windows end in erasure, and no value is stored in any encoding."""

from __future__ import annotations

import base64
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ramparts.core.clock import FrozenClock, format_iso8601
from ramparts.core.errors import ServiceError
from ramparts.core.ids import SequentialIds
from ramparts.crypto.keyring import RootKey, Sealer
from ramparts.policy.cache import PolicyCache
from ramparts.policy.catalog import Catalog
from ramparts.services.call import ServiceEnv
from ramparts.services.kms.keys import KeyBackend
from ramparts.services.secrets.passwords import PUNCTUATION, random_password
from ramparts.services.secrets.secrets import (
    ACS_CURRENT,
    ACS_PREVIOUS,
    DEFAULT_KEY_ALIAS,
    DEFAULT_KEY_CREATOR,
    MAX_STAGES_PER_SECRET,
    MAX_VERSIONS,
    Secret,
    SecretBackend,
    SecretIntegrityError,
    parse_data,
    parse_rotation_interval,
    purge_due,
)
from ramparts.store.base import Store, Transaction
from ramparts.store.factory import SQLITE_FILE_NAME, open_store
from ramparts.store.migrations import migrate

ACCOUNT_ID = "1000000000000001"
REGION = "cn-hangzhou"
T = TypeVar("T")


@dataclass
class Vault:
    store: Store
    env: ServiceEnv
    clock: FrozenClock
    data_dir: Path

    def run(self, step: Callable[[SecretBackend], T]) -> T:
        """`step` on the backend in a transaction of its own."""
        with self.store.transaction() as tx:
            return step(SecretBackend(tx, self.env, ACCOUNT_ID, REGION))

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.store.transaction() as tx:
            if statement.lstrip().upper().startswith("SELECT"):
                return tx.query(statement, params)
            tx.execute(statement, params)
            return []


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    store = open_store(None, tmp_path)
    migrate(store)
    clock = FrozenClock()
    env = ServiceEnv(clock=clock, ids=SequentialIds(), sealer=Sealer(RootKey.generate()),
                     catalog=Catalog(), policies=PolicyCache())
    with store.transaction() as tx:
        tx.execute("INSERT INTO accounts (account_id, alias, default_region, created_at) "
                   "VALUES (?, ?, ?, ?)", (ACCOUNT_ID, "", REGION, format_iso8601(clock.now())))
    yield Vault(store, env, clock, tmp_path)
    store.close()


def code_of(vault: Vault, step: Callable[[SecretBackend], object]) -> str:
    with pytest.raises(ServiceError) as caught:
        vault.run(step)
    return caught.value.error_code


def create(vault: Vault, name: str, data: bytes = b"v1-value", **options: Any) -> Secret:
    return vault.run(lambda b: b.create(name, version_id=options.pop("version_id", "v1"),
                                        data=data, data_type=options.pop("data_type", "text"),
                                        **options)[0])


def put(vault: Vault, name: str, version_id: str, data: bytes,
        stages: list[str] | None = None) -> tuple[str, ...]:
    return vault.run(lambda b: b.put_value(b.get(name), version_id, data, "text",
                                           stages).stages)


def stages_of(vault: Vault, name: str) -> dict[str, tuple[str, ...]]:
    return {v.version_id: v.stages for v in vault.run(
        lambda b: b.versions(b.get(name), include_deprecated=True))}


def read(vault: Vault, name: str, **which: str) -> bytes:
    return vault.run(lambda b: b.value(b.get(name), **which).data)


# ---- versions and stage labels


def test_the_first_version_is_current_and_readable_by_stage_or_id(vault: Vault) -> None:
    create(vault, "prod/database/password", b"first")
    assert read(vault, "prod/database/password") == b"first"
    assert read(vault, "prod/database/password", stage=ACS_CURRENT) == b"first"
    assert read(vault, "prod/database/password", version_id="v1") == b"first"
    assert stages_of(vault, "prod/database/password") == {"v1": (ACS_CURRENT,)}
    assert code_of(vault, lambda b: b.value(b.get("prod/database/password"),
                                            stage=ACS_PREVIOUS)) == "Forbidden.ResourceNotFound"
    assert code_of(vault, lambda b: b.value(b.get("prod/database/password"),
                                            version_id="v9")) == "Forbidden.ResourceNotFound"


def test_new_values_move_current_to_previous_and_leave_older_ones_unlabelled(
        vault: Vault) -> None:
    create(vault, "app", b"one")
    assert put(vault, "app", "v2", b"two") == (ACS_CURRENT,)
    assert stages_of(vault, "app") == {"v1": (ACS_PREVIOUS,), "v2": (ACS_CURRENT,)}
    put(vault, "app", "v3", b"three")
    assert stages_of(vault, "app") == {"v1": (), "v2": (ACS_PREVIOUS,), "v3": (ACS_CURRENT,)}
    assert read(vault, "app") == b"three"
    assert read(vault, "app", stage=ACS_PREVIOUS) == b"two"
    assert read(vault, "app", version_id="v1") == b"one"  # kept, though deprecated
    listed = vault.run(lambda b: b.versions(b.get("app")))
    assert [v.version_id for v in listed] == ["v2", "v3"]


def test_the_same_version_id_is_idempotent_only_with_the_same_value(vault: Vault) -> None:
    create(vault, "app", b"one")
    put(vault, "app", "v2", b"two")
    assert put(vault, "app", "v2", b"two") == (ACS_CURRENT,)
    assert stages_of(vault, "app") == {"v1": (ACS_PREVIOUS,), "v2": (ACS_CURRENT,)}
    assert code_of(vault, lambda b: b.put_value(b.get("app"), "v2", b"other", "text")) \
        == "Rejected.ResourceExist"
    assert code_of(vault, lambda b: b.put_value(b.get("app"), "v2", b"two", "binary")) \
        == "Rejected.ResourceExist"
    assert read(vault, "app") == b"two"


def test_given_stages_replace_the_default_current(vault: Vault) -> None:
    create(vault, "app", b"one")
    assert put(vault, "app", "v2", b"two", ["Staging"]) == ("Staging",)
    assert stages_of(vault, "app") == {"v1": (ACS_CURRENT,), "v2": ("Staging",)}
    assert put(vault, "app", "v3", b"three", ["Staging", ACS_CURRENT]) == (ACS_CURRENT,
                                                                          "Staging")
    assert stages_of(vault, "app") == {"v1": (ACS_PREVIOUS,), "v2": (),
                                       "v3": (ACS_CURRENT, "Staging")}


def test_moving_current_makes_the_former_current_previous(vault: Vault) -> None:
    create(vault, "app", b"one")
    put(vault, "app", "v2", b"two")
    put(vault, "app", "v3", b"three")
    vault.run(lambda b: b.update_stage(b.get("app"), ACS_CURRENT, move_to="v1"))
    assert stages_of(vault, "app") == {"v1": (ACS_CURRENT,), "v2": (), "v3": (ACS_PREVIOUS,)}
    assert read(vault, "app") == b"one"
    # moving a label to where it is changes nothing
    vault.run(lambda b: b.update_stage(b.get("app"), ACS_CURRENT, move_to="v1"))
    assert stages_of(vault, "app")["v3"] == (ACS_PREVIOUS,)
    # remove and move in one: the label must be where RemoveFromVersion says
    vault.run(lambda b: b.update_stage(b.get("app"), ACS_PREVIOUS, move_to="v2",
                                       remove_from="v3"))
    assert stages_of(vault, "app") == {"v1": (ACS_CURRENT,), "v2": (ACS_PREVIOUS,), "v3": ()}
    assert code_of(vault, lambda b: b.update_stage(b.get("app"), ACS_CURRENT, move_to="v3",
                                                   remove_from="v2")) == "InvalidParameter"


def test_built_in_labels_cannot_be_removed_but_custom_ones_can(vault: Vault) -> None:
    create(vault, "app", b"one")
    put(vault, "app", "v2", b"two")
    for label in (ACS_CURRENT, ACS_PREVIOUS):
        def remove(b: SecretBackend, label: str = label) -> None:
            b.update_stage(b.get("app"), label, remove_from="v1")
        assert code_of(vault, remove) == "InvalidParameter"
    vault.run(lambda b: b.update_stage(b.get("app"), "Blue", move_to="v1"))
    assert stages_of(vault, "app")["v1"] == (ACS_PREVIOUS, "Blue")
    vault.run(lambda b: b.update_stage(b.get("app"), "Blue", remove_from="v1"))
    assert stages_of(vault, "app")["v1"] == (ACS_PREVIOUS,)
    assert code_of(vault, lambda b: b.update_stage(b.get("app"), "Blue")) == "InvalidParameter"
    assert code_of(vault, lambda b: b.update_stage(b.get("app"), "Blue", move_to="v7")) \
        == "Forbidden.ResourceNotFound"
    assert code_of(vault, lambda b: b.update_stage(b.get("app"), "has space", move_to="v1")) \
        == "InvalidParameter"


def test_a_secret_has_at_most_eight_stage_labels(vault: Vault) -> None:
    create(vault, "app", b"one")
    put(vault, "app", "v2", b"two")  # ACSCurrent and ACSPrevious
    for number in range(MAX_STAGES_PER_SECRET - 2):
        def label(b: SecretBackend, n: int = number) -> None:
            b.update_stage(b.get("app"), f"L{n}", move_to="v1")
        vault.run(label)
    assert code_of(vault, lambda b: b.update_stage(b.get("app"), "OneTooMany", move_to="v2")) \
        == "Rejected.LimitExceeded"
    assert code_of(vault, lambda b: b.put_value(b.get("app"), "v3", b"x", "text",
                                                ["OneTooMany"])) == "Rejected.LimitExceeded"
    # moving an existing label is not a new one
    vault.run(lambda b: b.update_stage(b.get("app"), "L0", move_to="v2"))
    assert "L0" in stages_of(vault, "app")["v2"]


def test_past_the_version_limit_the_earliest_unlabelled_versions_go(vault: Vault) -> None:
    create(vault, "app", b"v1")
    vault.run(lambda b: b.update_stage(b.get("app"), "Keep", move_to="v1"))
    for number in range(2, MAX_VERSIONS + 3):
        put(vault, "app", f"v{number}", f"value {number}".encode())
    kept = stages_of(vault, "app")
    assert len(kept) == MAX_VERSIONS
    assert kept["v1"] == ("Keep",)  # labelled: kept
    assert "v2" not in kept  # the earliest unlabelled ones
    assert "v3" not in kept
    assert kept["v4"] == ()
    assert kept[f"v{MAX_VERSIONS + 2}"] == (ACS_CURRENT,)
    assert read(vault, "app", version_id="v1") == b"v1"


# ---- encryption


def _version_row(vault: Vault, name: str, version_id: str) -> dict[str, Any]:
    rows = vault.sql("SELECT data_key_blob, data_sealed, data_type FROM secret_versions WHERE "
                     "secret_name = ? AND version_id = ?", (name, version_id))
    assert len(rows) == 1
    return rows[0]


def _overwrite(vault: Vault, name: str, version_id: str, row: dict[str, Any]) -> None:
    vault.sql("UPDATE secret_versions SET data_key_blob = ?, data_sealed = ?, data_type = ? "
              "WHERE secret_name = ? AND version_id = ?",
              (row["data_key_blob"], row["data_sealed"], row["data_type"], name, version_id))


def test_sealed_data_moved_to_another_secret_or_version_does_not_open(vault: Vault) -> None:
    create(vault, "first", b"first secret")
    create(vault, "second", b"second secret")
    put(vault, "first", "v2", b"first, second value")
    original = _version_row(vault, "second", "v1")
    _overwrite(vault, "second", "v1", _version_row(vault, "first", "v1"))
    with pytest.raises(SecretIntegrityError) as caught:
        read(vault, "second")
    assert "first secret" not in str(caught.value)
    _overwrite(vault, "second", "v1", original)
    assert read(vault, "second") == b"second secret"
    _overwrite(vault, "first", "v2", _version_row(vault, "first", "v1"))
    with pytest.raises(SecretIntegrityError):
        read(vault, "first", version_id="v2")
    assert read(vault, "first", version_id="v1") == b"first secret"


def test_the_data_type_and_each_part_are_authenticated(vault: Vault) -> None:
    create(vault, "app", b"\x00\x01binary", data_type="binary")
    row = _version_row(vault, "app", "v1")
    _overwrite(vault, "app", "v1", {**row, "data_type": "text"})
    with pytest.raises(SecretIntegrityError):
        read(vault, "app")
    sealed = bytearray(base64.b64decode(row["data_sealed"]))
    sealed[-1] ^= 1
    _overwrite(vault, "app", "v1", {**row, "data_sealed": base64.b64encode(sealed).decode()})
    with pytest.raises(SecretIntegrityError):
        read(vault, "app")
    _overwrite(vault, "app", "v1", {**row, "data_key_blob": "not a blob"})
    with pytest.raises(SecretIntegrityError):
        read(vault, "app")
    _overwrite(vault, "app", "v1", row)
    assert read(vault, "app") == b"\x00\x01binary"


def test_values_are_under_the_default_key_made_once_with_its_reserved_alias(
        vault: Vault) -> None:
    first = create(vault, "one")
    second = create(vault, "two")
    assert first.encryption_key_id == second.encryption_key_id
    aliases = vault.sql("SELECT alias_name, key_id FROM kms_aliases")
    assert aliases == [{"alias_name": DEFAULT_KEY_ALIAS, "key_id": first.encryption_key_id}]
    keys = vault.sql("SELECT key_id, creator, state FROM kms_keys")
    assert keys == [{"key_id": first.encryption_key_id, "creator": DEFAULT_KEY_CREATOR,
                     "state": "Enabled"}]
    blob_key = vault.run(lambda b: b.keys.get(DEFAULT_KEY_ALIAS)).key_id
    assert blob_key == first.encryption_key_id


def _new_key(vault: Vault) -> str:
    with vault.store.transaction() as tx:
        return KeyBackend(tx, vault.env, ACCOUNT_ID, REGION).create(
            description="", key_spec="Aliyun_AES_256", key_usage="ENCRYPT/DECRYPT",
            origin="Aliyun_KMS", protection_level="SOFTWARE", rotation=None,
            creator=ACCOUNT_ID).key_id


def _keys(tx: Transaction, vault: Vault) -> KeyBackend:
    return KeyBackend(tx, vault.env, ACCOUNT_ID, REGION)


def test_a_key_not_enabled_keeps_values_shut_until_it_is_again(vault: Vault) -> None:
    key_id = _new_key(vault)
    create(vault, "app", b"guarded", encryption_key_id=key_id)
    with vault.store.transaction() as tx:
        _keys(tx, vault).disable(_keys(tx, vault).get(key_id))
    assert code_of(vault, lambda b: b.value(b.get("app"))) == "Rejected.Disabled"
    assert code_of(vault, lambda b: b.put_value(b.get("app"), "v2", b"x", "text")) \
        == "Rejected.Disabled"
    assert code_of(vault, lambda b: b.create("other", version_id="v1", data=b"x",
                                             data_type="text", encryption_key_id=key_id)) \
        == "Rejected.Disabled"
    with vault.store.transaction() as tx:
        _keys(tx, vault).enable(_keys(tx, vault).get(key_id))
    assert read(vault, "app") == b"guarded"
    with vault.store.transaction() as tx:
        _keys(tx, vault).schedule_deletion(_keys(tx, vault).get(key_id), 7)
    assert code_of(vault, lambda b: b.value(b.get("app"))) == "Rejected.PendingDeletion"
    with vault.store.transaction() as tx:
        _keys(tx, vault).cancel_deletion(_keys(tx, vault).get(key_id))
    assert read(vault, "app") == b"guarded"


def test_values_written_before_a_key_rotation_still_open(vault: Vault) -> None:
    key_id = _new_key(vault)
    create(vault, "app", b"before", encryption_key_id=key_id)
    with vault.store.transaction() as tx:
        _keys(tx, vault).rotate(_keys(tx, vault).get(key_id))
    put(vault, "app", "v2", b"after")
    assert read(vault, "app", version_id="v1") == b"before"
    assert read(vault, "app") == b"after"


def test_an_unknown_or_alias_encryption_key(vault: Vault) -> None:
    assert code_of(vault, lambda b: b.create(
        "app", version_id="v1", data=b"x", data_type="text",
        encryption_key_id="00000000-0000-4000-8000-00000000dead")) == "Forbidden.KeyNotFound"
    assert code_of(vault, lambda b: b.create(
        "app", version_id="v1", data=b"x", data_type="text",
        encryption_key_id="alias/none")) == "Forbidden.AliasNotFound"


def test_no_value_is_stored_in_any_encoding(vault: Vault) -> None:
    text = "stored-canary-91d2-correct horse"
    binary = b"\x10\x20binary-canary-77ab"
    create(vault, "text", text.encode())
    create(vault, "binary", binary, data_type="binary")
    put(vault, "text", "v2", b"second-canary-0c3e")
    forms = [text.encode(), text.encode().hex().encode(), base64.b64encode(text.encode()),
             binary, binary.hex().encode(), base64.b64encode(binary),
             b"second-canary-0c3e"]
    rows = repr(vault.sql("SELECT * FROM secret_versions") + vault.sql("SELECT * FROM secrets"))
    raw = b"".join(path.read_bytes() for path in vault.data_dir.rglob(f"{SQLITE_FILE_NAME}*"))
    assert raw  # the database (and its WAL) were read
    for form in forms:
        assert form.decode("latin-1") not in rows
        assert form not in raw
    value = vault.run(lambda b: b.value(b.get("text"), version_id="v1"))
    assert text not in repr(value)
    assert value.wire_data() == text


# ---- deletion


def test_a_recovery_window_refuses_reads_until_restored(vault: Vault) -> None:
    create(vault, "app", b"one")
    planned = vault.run(lambda b: b.schedule_deletion(b.get("app"), 7))
    assert planned == format_iso8601(vault.clock.now() + timedelta(days=7))
    assert code_of(vault, lambda b: b.active("app")) == "Rejected.ResourceInDeleteWindow"
    assert code_of(vault, lambda b: b.schedule_deletion(b.get("app"), 10)) \
        == "Rejected.ResourceInDeleteWindow"
    assert code_of(vault, lambda b: b.create("app", version_id="v1", data=b"x",
                                             data_type="text")) \
        == "Rejected.ResourceInDeleteWindow"
    assert vault.run(lambda b: b.get("app")).planned_delete_at == planned
    vault.run(lambda b: b.restore(b.get("app")))
    assert read(vault, "app") == b"one"


@pytest.mark.parametrize("days", [6, 31])
def test_recovery_windows_are_seven_to_thirty_days(vault: Vault, days: int) -> None:
    create(vault, "app")
    assert code_of(vault, lambda b: b.schedule_deletion(b.get("app"), days)) \
        == "InvalidParameter"


def test_a_secret_is_gone_when_its_window_ends_and_its_name_is_free(vault: Vault) -> None:
    create(vault, "app", b"old", tags=[("team", "db")])
    create(vault, "other", b"old other")
    vault.run(lambda b: b.schedule_deletion(b.get("app"), 7))
    vault.run(lambda b: b.schedule_deletion(b.get("other"), 7))
    vault.clock.advance(timedelta(days=6, hours=23))
    assert vault.run(lambda b: b.get("app")).pending_deletion
    vault.clock.advance(timedelta(hours=2))
    assert code_of(vault, lambda b: b.get("app")) == "Forbidden.ResourceNotFound"
    create(vault, "other", b"new other", version_id="o2")  # creating erases what is due
    assert read(vault, "other") == b"new other"
    assert [s.secret_name for s in vault.run(lambda b: b.page(1, 10))[0]] == ["other"]
    assert vault.sql("SELECT secret_name FROM secret_versions") == [{"secret_name": "other"}]
    assert vault.sql("SELECT * FROM kms_tags") == []
    create(vault, "app", b"new", version_id="n1")
    assert read(vault, "app") == b"new"
    assert list(stages_of(vault, "app")) == ["n1"]


def test_the_scheduler_erases_every_secret_past_its_window(vault: Vault) -> None:
    for name in ("a", "b", "c"):
        create(vault, name)
    vault.run(lambda b: b.schedule_deletion(b.get("a"), 7))
    vault.run(lambda b: b.schedule_deletion(b.get("b"), 30))
    with vault.store.transaction() as tx:
        assert purge_due(tx, vault.clock.now() + timedelta(days=8)) == 1
    names = [row["secret_name"] for row in vault.sql("SELECT secret_name FROM secrets "
                                                     "ORDER BY secret_name")]
    assert names == ["b", "c"]


def test_deleting_at_once_takes_versions_labels_and_tags(vault: Vault) -> None:
    create(vault, "app", tags=[("team", "db")])
    put(vault, "app", "v2", b"two")
    vault.run(lambda b: b.delete_now(b.get("app")))
    for table in ("secrets", "secret_versions", "secret_version_stages", "kms_tags"):
        assert vault.sql(f"SELECT * FROM {table}") == [], table  # noqa: S608
    create(vault, "app", b"again")
    assert read(vault, "app") == b"again"


# ---- checks


@pytest.mark.parametrize("name", ["", "acs/ram/user", "ACS/mine", "has space", "a:b",
                                  "x" * 193, "naïve"])
def test_bad_secret_names_are_refused(vault: Vault, name: str) -> None:
    assert code_of(vault, lambda b: b.create(name, version_id="v1", data=b"x",
                                             data_type="text")) == "InvalidParameter"


def test_names_of_every_documented_character_are_accepted(vault: Vault) -> None:
    name = "prod/db_1+x=y.z@host-" + "a" * 171
    assert len(name) == 192
    assert create(vault, name).secret_name == name


def test_generic_secrets_do_not_rotate_and_unmanaged_types_are_not_created(
        vault: Vault) -> None:
    assert code_of(vault, lambda b: b.create("app", version_id="v1", data=b"x",
                                             data_type="text", rotation=timedelta(days=7))) \
        == "InvalidParameter"
    assert code_of(vault, lambda b: b.create("app", version_id="v1", data=b"x",
                                             data_type="text", secret_type="Redis")) \
        == "UnsupportedOperation"
    assert code_of(vault, lambda b: b.create("app", version_id="v1", data=b"x",
                                             data_type="text", secret_type="Nonsense")) \
        == "InvalidParameter"
    assert vault.sql("SELECT * FROM secrets") == []


def test_the_rotation_interval_is_six_hours_to_a_year() -> None:
    assert parse_rotation_interval("7d") == timedelta(days=7)
    assert parse_rotation_interval("604800s") == timedelta(days=7)
    assert parse_rotation_interval("6h") == timedelta(hours=6)
    assert parse_rotation_interval("525600m") == timedelta(hours=8760)
    for text in ("5h", "366d", "7", "d", "7 d", "-7d", "7w"):
        with pytest.raises(ServiceError):
            parse_rotation_interval(text)


def test_secret_data_is_at_most_30720_bytes_and_binary_data_is_base64() -> None:
    assert parse_data("a" * 30720, "text") == b"a" * 30720
    assert parse_data(base64.b64encode(b"\xff\x00").decode(), "binary") == b"\xff\x00"
    for text, data_type in (("a" * 30721, "text"), ("é" * 15361, "text"),
                            ("not base64!", "binary"), ("abc", "json")):
        with pytest.raises(ServiceError) as caught:
            parse_data(text, data_type)
        assert text not in caught.value.message


def test_filters_match_any_value_of_each_and_all_of_them(vault: Vault) -> None:
    create(vault, "a", tags=[("team", "db")], description="alpha")
    create(vault, "b", tags=[("team", "web")])
    create(vault, "c")

    def names(*filters: tuple[str, list[str]]) -> list[str]:
        found, total = vault.run(lambda b: b.page(1, 10, filters))
        assert total == len(found)
        return [s.secret_name for s in found]

    assert names() == ["a", "b", "c"]
    assert names(("SecretName", ["a", "c", "zz"])) == ["a", "c"]
    assert names(("TagKey", ["team"])) == ["a", "b"]
    assert names(("TagKey", ["team"]), ("TagValue", ["web"])) == ["b"]
    assert names(("Description", ["alpha"])) == ["a"]
    assert names(("SecretType", ["Generic"])) == ["a", "b", "c"]
    assert names(("DKMSInstanceId", ["kst-1"])) == []
    assert names(("SecretName", [])) == ["a", "b", "c"]
    assert vault.run(lambda b: b.page(2, 2, ()))[0][0].secret_name == "c"


# ---- random passwords


def test_random_passwords_have_each_class_asked_for_and_nothing_excluded() -> None:
    password = random_password(40, exclude_characters="aeiou0O")
    assert len(password) == 40
    assert not set(password) & set("aeiou0O")
    assert any(c in string.ascii_lowercase for c in password)
    assert any(c in string.ascii_uppercase for c in password)
    assert any(c in string.digits for c in password)
    assert any(c in PUNCTUATION for c in password)
    digits = random_password(8, exclude_lowercase=True, exclude_uppercase=True,
                             exclude_punctuation=True)
    assert digits.isdigit()
    assert len({random_password() for _ in range(20)}) == 20


@pytest.mark.parametrize("options", [
    {"length": 7}, {"length": 129},
    {"exclude_lowercase": True, "exclude_uppercase": True, "exclude_numbers": True,
     "exclude_punctuation": True},
    {"exclude_characters": string.digits, "exclude_lowercase": True, "exclude_uppercase": True,
     "exclude_punctuation": True},
])
def test_impossible_passwords_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ServiceError):
        random_password(**options)
