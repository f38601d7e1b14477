"""Delivery's guarantees, driven by hand: a crash between writing and committing re-delivers
the same files (no gap, no duplicate), a replica's plan is left alone while its lease runs, and
a chain that does not verify is never delivered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alibabacloud_actiontrail20200706 import models as at_models
from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config

from ramparts.core.clock import FrozenClock, SystemClock
from ramparts.services.actiontrail.delivery import DeliveryPlan, TrailDelivery
from ramparts.services.actiontrail.signing_keys import public_key_of
from ramparts.services.actiontrail.verify import verify_trail
from ramparts.testing import RunningServer, start_server

BUCKET = "hand-bucket"
LEASE = timedelta(seconds=30)


class Crash(BaseException):
    """The process dies here."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server without a delivery runner, whose one trail logs all events."""
    with start_server(tmp_path / "data", trail_delivery_interval=None) as running:
        config = Config(access_key_id=running.admin_key[0],
                        access_key_secret=running.admin_key[1], endpoint=running.endpoint,
                        protocol="http", region_id="cn-hangzhou")
        at = ActionTrailClient(config)
        at.create_trail(at_models.CreateTrailRequest(name="by-hand", oss_bucket_name=BUCKET,
                                                     event_rw="All"))
        at.start_logging(at_models.StartLoggingRequest(name="by-hand"))
        ram = RamClient(config)
        for n in range(5):
            ram.create_user(ram_models.CreateUserRequest(user_name=f"hand-{n}"))
        yield running


def _trail(server: RunningServer) -> dict[str, object]:
    with server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT * FROM trails")
    assert row is not None
    return dict(row)


def _deliverer(server: RunningServer, owner: str, clock: FrozenClock | None = None
               ) -> TrailDelivery:
    runtime = server.runtime
    return TrailDelivery(runtime.store, runtime.env.sealer, clock or FrozenClock(),
                         server.data_dir / "delivery", owner=owner, lease=LEASE)


def _files(server: RunningServer) -> dict[str, bytes]:
    bucket = server.data_dir / "delivery" / BUCKET
    return {p.relative_to(bucket).as_posix(): p.read_bytes()
            for p in bucket.rglob("*") if p.is_file()}


def _clean(server: RunningServer) -> None:
    with server.runtime.store.transaction() as tx:
        report = verify_trail(tx, server.data_dir / "delivery",
                              public_key_of(tx, server.account_id))
    assert report.clean, report.to_dict()


def test_a_crash_before_the_commit_redelivers_the_same_files(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FrozenClock(SystemClock().now())
    first = _deliverer(server, "first", clock)

    def crash(*args: object) -> bool:
        raise Crash

    monkeypatch.setattr(first, "_commit", crash)
    trail_id = str(_trail(server)["trail_id"])
    with pytest.raises(Crash):
        first.deliver(trail_id)
    written = _files(server)
    assert any(name.endswith(".gz") for name in written)
    assert any(name.endswith(".json") for name in written)
    held = _trail(server)
    assert held["plan"] is not None
    assert held["delivery_number"] == 0

    second = _deliverer(server, "second", clock)
    assert second.deliver(trail_id) == 0, "a live replica's plan is left alone"
    clock.advance(LEASE + timedelta(seconds=1))
    assert second.deliver(trail_id) >= 1
    assert _files(server) == written, "the same files, byte for byte: no duplicate"
    done = _trail(server)
    plan = DeliveryPlan.from_json(str(held["plan"]))
    assert (done["plan"], done["cursor_seq"], done["delivery_number"]) == \
        (None, plan.to_seq, 1)
    _clean(server)


def test_the_next_delivery_continues_the_digest_chain(server: RunningServer) -> None:
    deliverer = _deliverer(server, "only", FrozenClock(SystemClock().now()))
    assert deliverer.run_once() == 1
    RamClient(Config(access_key_id=server.admin_key[0], access_key_secret=server.admin_key[1],
                     endpoint=server.endpoint, protocol="http", region_id="cn-hangzhou")
              ).create_user(ram_models.CreateUserRequest(user_name="hand-later"))
    assert deliverer.run_once() == 1
    assert deliverer.run_once() == 0, "nothing is owed"
    digests = sorted((json.loads(data) for name, data in _files(server).items()
                      if name.endswith(".json")), key=lambda d: d["digestNumber"])
    assert [d["digestNumber"] for d in digests] == [1, 2]
    assert digests[0]["previousDigestFile"] is None
    assert digests[1]["chainFirstSeq"] == digests[0]["chainLastSeq"] + 1
    assert digests[1]["previousDigestSignature"] == digests[0]["signature"]
    _clean(server)


def test_a_chain_that_does_not_verify_is_not_delivered(server: RunningServer) -> None:
    with server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT MAX(seq) AS head FROM trail_events")
        assert row is not None
        tx.execute("UPDATE trail_events SET body = body || ' ' WHERE seq = ?", (row["head"],))
    deliverer = _deliverer(server, "only")
    assert deliverer.run_once() == 0
    assert _files(server) == {}
    error = str(_trail(server)["latest_delivery_error"])
    assert "does not verify" in error
