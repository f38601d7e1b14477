"""Tampering with the trail is detected and named: in the store (a changed, removed, swapped or
inserted event, a rewritten chain) and in the delivered files (a deleted or altered log file,
a digest re-signed with another key, a digest removed from the chain); a clean trail verifies,
through the module and through `ramparts trail verify`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from alibabacloud_actiontrail20200706 import models as at_models
from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config

from ramparts.crypto.signing import SigningKey
from ramparts.services.actiontrail import verify
from ramparts.services.actiontrail.layout import sign_digest
from ramparts.services.actiontrail.recorder import event_hash
from ramparts.services.actiontrail.signing_keys import public_key_of
from ramparts.store.base import Store
from ramparts.store.factory import open_store
from ramparts.testing import start_server

TRAIL, BUCKET = "tamper-trail", "tamper-bucket"
ROUNDS = 3  # deliveries, so that the digests form a chain
TIMEOUT = 20.0


@dataclass(frozen=True)
class Baseline:
    data_dir: Path
    account_id: str
    public_key: str


def _config(endpoint: str, key: tuple[str, str]) -> Config:
    return Config(access_key_id=key[0], access_key_secret=key[1], endpoint=endpoint,
                  protocol="http", region_id="cn-hangzhou", read_timeout=20000,
                  connect_timeout=5000)


def _delivered_numbers(bucket: Path) -> int:
    return len(list(bucket.rglob("Actiontrail-Digest_*.json"))) if bucket.is_dir() else 0


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """A stopped server's data dir whose trail delivered ROUNDS times, the last one holding
    the StopLogging event."""
    data_dir = tmp_path_factory.mktemp("tamper") / "data"
    with start_server(data_dir, trail_delivery_interval=0.1) as server:
        config = _config(server.endpoint, server.admin_key)
        at, ram = ActionTrailClient(config), RamClient(config)
        at.create_trail(at_models.CreateTrailRequest(name=TRAIL, oss_bucket_name=BUCKET,
                                                     event_rw="All"))
        at.start_logging(at_models.StartLoggingRequest(name=TRAIL))
        bucket = data_dir / "delivery" / BUCKET
        for round_ in range(ROUNDS):
            for n in range(4):
                ram.create_user(ram_models.CreateUserRequest(user_name=f"u{round_}-{n}"))
            if round_ == ROUNDS - 1:
                at.stop_logging(at_models.StopLoggingRequest(name=TRAIL))
            deadline = time.monotonic() + TIMEOUT
            while _delivered_numbers(bucket) < round_ + 1 or not _settled(server.runtime.store):
                assert time.monotonic() < deadline, "the trail did not deliver"
                time.sleep(0.05)
        with server.runtime.store.transaction() as tx:
            pem = public_key_of(tx, server.account_id)
        assert pem is not None
        account_id = server.account_id
    return Baseline(data_dir, account_id, pem)


def _settled(store: Store) -> bool:
    """No delivery under way: nothing planned, and a logging trail's cursor at the head."""
    with store.transaction() as tx:
        row = tx.query_one("SELECT plan, cursor_seq, until_seq, status FROM trails")
        head = tx.query_one("SELECT MAX(seq) AS head FROM trail_events")
    assert row is not None
    assert head is not None
    if row["plan"] is not None:
        return False
    owed = row["until_seq"] if row["until_seq"] is not None else head["head"]
    return int(row["cursor_seq"]) >= int(owed)


@pytest.fixture
def copy(baseline: Baseline, tmp_path: Path) -> Path:
    """A copy of the baseline data dir, for one test to tamper with."""
    target = tmp_path / "data"
    shutil.copytree(baseline.data_dir, target)
    return target


def _sql(data_dir: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    store = open_store(None, data_dir)
    try:
        with store.transaction() as tx:
            for sql, params in statements:
                tx.execute(sql, params)
    finally:
        store.close()


def _row(data_dir: Path, seq: int) -> dict[str, object]:
    store = open_store(None, data_dir)
    try:
        with store.transaction() as tx:
            row = tx.query_one("SELECT * FROM trail_events WHERE seq = ?", (seq,))
    finally:
        store.close()
    assert row is not None
    return dict(row)


def _delivered_seq(data_dir: Path) -> int:
    """An event in the middle of what the trail delivered."""
    store = open_store(None, data_dir)
    try:
        with store.transaction() as tx:
            row = tx.query_one("SELECT MIN(from_seq) AS first, MAX(to_seq) AS last "
                               "FROM trail_deliveries")
    finally:
        store.close()
    assert row is not None
    return (int(row["first"]) + int(row["last"])) // 2


def _report(data_dir: Path, pem: str) -> verify.Report:
    store = open_store(None, data_dir)
    try:
        with store.transaction() as tx:
            return verify.verify_trail(tx, data_dir / "delivery", pem)
    finally:
        store.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ramparts", "trail", *args],
                          capture_output=True, text=True, timeout=120)


def _first(report: verify.Report) -> verify.Finding:
    assert not report.clean, "the tampering went unnoticed"
    first = report.first
    assert first is not None
    return first


def _files(data_dir: Path, pattern: str) -> list[Path]:
    return sorted((data_dir / "delivery" / BUCKET).rglob(pattern))


# ---- a clean trail


def test_a_clean_trail_verifies(copy: Path, baseline: Baseline) -> None:
    report = _report(copy, baseline.public_key)
    assert report.clean, report.to_dict()
    assert report.digests >= ROUNDS
    assert report.log_files >= ROUNDS
    assert report.events > report.delivered_events > 4 * ROUNDS

    done = _cli("verify", "--data-dir", str(copy), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["clean"] is True


def test_the_cli_prints_the_public_key_and_verifies_delivered_files_alone(
        copy: Path, baseline: Baseline, tmp_path: Path) -> None:
    printed = _cli("public-key", "--data-dir", str(copy))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == baseline.public_key
    assert printed.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    key_file = tmp_path / "trail.pem"
    key_file.write_text(printed.stdout)
    alone = _cli("verify", "--delivered", str(copy / "delivery"), "--public-key", str(key_file))
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "trail verify: clean" in alone.stdout
    missing_key = _cli("verify", "--delivered", str(copy / "delivery"))
    assert missing_key.returncode == 2
    assert "--public-key" in missing_key.stderr


# ---- the store's chain


def test_one_byte_changed_in_one_event_body(copy: Path, baseline: Baseline) -> None:
    seq = _delivered_seq(copy)
    body = str(_row(copy, seq)["body"])
    changed = body.replace('"eventVersion":1', '"eventVersion":2', 1)
    assert changed != body
    assert len(changed) == len(body)
    _sql(copy, ("UPDATE trail_events SET body = ? WHERE seq = ?", (changed, seq)))
    first = _first(_report(copy, baseline.public_key))
    assert (first.kind, first.where) == (verify.CHANGED_EVENT, f"event {seq}")

    done = _cli("verify", "--data-dir", str(copy))
    assert done.returncode == 1
    assert f"first broken link: changed event at event {seq}" in done.stdout


def test_one_event_removed(copy: Path, baseline: Baseline) -> None:
    seq = _delivered_seq(copy)
    _sql(copy, ("DELETE FROM trail_events WHERE seq = ?", (seq,)))
    first = _first(_report(copy, baseline.public_key))
    assert (first.kind, first.where) == (verify.DELETED_EVENT, f"event {seq}")


def test_one_event_removed_and_the_rest_renumbered(copy: Path, baseline: Baseline) -> None:
    seq = _delivered_seq(copy)
    _sql(copy, ("DELETE FROM trail_events WHERE seq = ?", (seq,)),
         ("UPDATE trail_events SET seq = -seq WHERE seq > ?", (seq,)),
         ("UPDATE trail_events SET seq = -seq - 1 WHERE seq < 0", ()))
    first = _first(_report(copy, baseline.public_key))
    assert (first.kind, first.where) == (verify.DELETED_EVENT, f"event {seq}")


def test_two_events_swapped(copy: Path, baseline: Baseline) -> None:
    seq = _delivered_seq(copy)
    _sql(copy, ("UPDATE trail_events SET seq = -1 WHERE seq = ?", (seq,)),
         ("UPDATE trail_events SET seq = ? WHERE seq = ?", (seq, seq + 1)),
         ("UPDATE trail_events SET seq = ? WHERE seq = -1", (seq + 1,)))
    first = _first(_report(copy, baseline.public_key))
    assert (first.kind, first.where) == (verify.REORDERED_EVENTS,
                                         f"events {seq} and {seq + 1}")


def test_one_event_inserted(copy: Path, baseline: Baseline) -> None:
    seq = _delivered_seq(copy)
    before = _row(copy, seq - 1)
    forged = dict(json.loads(str(_row(copy, seq)["body"])), eventId="forged-event",
                  eventName="DeleteUser")
    body = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    previous = str(before["hash"])
    _sql(copy,
         ("UPDATE trail_events SET seq = -seq WHERE seq >= ?", (seq,)),
         ("UPDATE trail_events SET seq = -seq + 1 WHERE seq < 0", ()),
         ("INSERT INTO trail_events (seq, event_id, account_id, event_time, event_name, "
          "event_rw, service_name, principal_name, access_key_id, error_code, body, prev_hash, "
          "hash) VALUES (?, 'forged-event', ?, ?, 'DeleteUser', 'Write', 'Ram', 'admin', '', "
          "'', ?, ?, ?)",
          (seq, baseline.account_id, forged["eventTime"], body, previous,
           event_hash(previous, body))))
    first = _first(_report(copy, baseline.public_key))
    assert (first.kind, first.where) == (verify.INSERTED_EVENT, f"event {seq}")


def test_a_rewritten_chain_is_caught_by_the_signed_digests(copy: Path,
                                                           baseline: Baseline) -> None:
    """Changing an event and recomputing every hash after it leaves a chain that links, but
    no longer the one the digests signed."""
    seq = _delivered_seq(copy)
    store = open_store(None, copy)
    try:
        with store.transaction() as tx:
            rows = tx.query("SELECT seq, body FROM trail_events WHERE seq >= ? ORDER BY seq",
                            (seq,))
            previous = str(tx.query_one("SELECT hash FROM trail_events WHERE seq = ?",
                                        (seq - 1,))["hash"])  # type: ignore[index]
            for row in rows:
                body = str(row["body"])
                if int(row["seq"]) == seq:
                    body = body.replace('"eventVersion":1', '"eventVersion":2', 1)
                digest = event_hash(previous, body)
                tx.execute("UPDATE trail_events SET body = ?, prev_hash = ?, hash = ? "
                           "WHERE seq = ?", (body, previous, digest, row["seq"]))
                previous = digest
    finally:
        store.close()
    first = _first(_report(copy, baseline.public_key))
    assert first.kind == verify.CHANGED_EVENT


# ---- the delivered files


def test_a_delivered_file_deleted(copy: Path, baseline: Baseline) -> None:
    victim = _files(copy, "Actiontrail_*.gz")[1]
    victim.unlink()
    first = _first(_report(copy, baseline.public_key))
    assert first.kind == verify.MISSING_FILE
    assert first.where.endswith(victim.name)


def test_a_delivered_file_altered(copy: Path, baseline: Baseline) -> None:
    victim = _files(copy, "Actiontrail_*.gz")[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    first = _first(_report(copy, baseline.public_key))
    assert first.kind == verify.ALTERED_FILE
    assert first.where.endswith(victim.name)


def test_a_digest_re_signed_with_another_key(copy: Path, baseline: Baseline,
                                             tmp_path: Path) -> None:
    victim = _files(copy, "Actiontrail-Digest_*.json")[-1]
    digest = json.loads(victim.read_text())
    digest["logFiles"] = []  # hide a file, and sign the lie with a key of one's own
    victim.write_bytes(sign_digest(digest, SigningKey.generate()))
    first = _first(_report(copy, baseline.public_key))
    assert first.kind == verify.FORGED_DIGEST
    assert first.where.endswith(victim.name)

    key_file = tmp_path / "trail.pem"
    key_file.write_text(baseline.public_key)
    alone = _cli("verify", "--delivered", str(copy / "delivery" / BUCKET), "--public-key",
                 str(key_file), "--json")
    assert alone.returncode == 1
    assert json.loads(alone.stdout)["firstBreak"]["kind"] == verify.FORGED_DIGEST


def test_a_digest_removed_breaks_the_digest_chain(copy: Path, baseline: Baseline) -> None:
    digests = _files(copy, "Actiontrail-Digest_*.json")
    assert len(digests) >= 3
    digests[1].unlink()
    first = _first(_report(copy, baseline.public_key))
    assert first.kind == verify.BROKEN_DIGEST_CHAIN
    assert first.where.endswith(digests[2].name)


def test_the_whole_delivery_removed(copy: Path, baseline: Baseline) -> None:
    shutil.rmtree(copy / "delivery")
    first = _first(_report(copy, baseline.public_key))
    assert first.kind == verify.MISSING_FILE
    done = _cli("verify", "--data-dir", str(copy))
    assert done.returncode == 1
    assert "first broken link: missing file" in done.stdout
