"""Group commit: calls that arrive together are committed by one transaction, each answered
only once durable, each trailed once, each still failing alone; a group that cannot be kept is
served again call by call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import pytest

from ramparts.protocol.envelope import HttpResponse
from ramparts.protocol.pipeline import Pipeline
from ramparts.protocol.wire import WireRequest
from ramparts.server.group_commit import GroupCommitter
from ramparts.server.runtime import Runtime, initialize, open_runtime
from ramparts.services.actiontrail.recorder import first_break
from ramparts.store import StoreError
from ramparts.store.sqlite import CommitGroup, SQLiteStore
from tests.api.raw import Signer

STS_VERSION = "2015-04-01"
CALLS = 12


@dataclass(frozen=True)
class _Endpoint:
    port: int = 1
    endpoint: str = "127.0.0.1:1"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Runtime, Signer]]:
    """A runtime on a fresh SQLite data dir, and a signer for its administrator's key."""
    bootstrap = initialize(tmp_path / "data", {})
    assert bootstrap is not None
    opened = open_runtime(tmp_path / "data", {})
    yield opened, Signer(_Endpoint(), bootstrap.admin_access_key_id,
                         bootstrap.admin_access_key_secret)
    opened.close()


@pytest.fixture
def runtime(served: tuple[Runtime, Signer]) -> Runtime:
    return served[0]


@pytest.fixture
def signer(served: tuple[Runtime, Signer]) -> Signer:
    return served[1]


def _identity_call(signer: Signer, nonce: str | None = None) -> WireRequest:
    headers = signer.acs3_headers("GetCallerIdentity", STS_VERSION, nonce=nonce)
    return WireRequest(method="POST", path="/", query=[], headers=headers)


def _serve(committer: GroupCommitter, wires: Sequence[WireRequest]) -> list[HttpResponse]:
    async def together() -> list[HttpResponse]:
        return list(await asyncio.gather(*(committer.handle(wire) for wire in wires)))

    return asyncio.run(together())


def _count_groups(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[CommitGroup]:
    store = cast(SQLiteStore, runtime.store)
    opened: list[CommitGroup] = []
    original = store.open_group

    def counting() -> CommitGroup:
        opened.append(original())
        return opened[-1]

    monkeypatch.setattr(store, "open_group", counting)
    return opened


def _trail(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.store.transaction() as tx:
        assert first_break(tx) is None
        rows = tx.query("SELECT body FROM trail_events ORDER BY seq")
    return [json.loads(row["body"]) for row in rows]


def _code(response: HttpResponse) -> str:
    return str(json.loads(response.body).get("Code", ""))


def _committer(runtime: Runtime) -> GroupCommitter:
    return GroupCommitter(runtime.pipeline, cast(SQLiteStore, runtime.store))


def test_calls_that_arrive_together_share_one_commit(runtime: Runtime, signer: Signer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    groups = _count_groups(runtime, monkeypatch)
    before = len(_trail(runtime))
    responses = _serve(_committer(runtime), [_identity_call(signer) for _ in range(CALLS)])
    assert [r.status for r in responses] == [200] * CALLS
    assert len(groups) == 1
    events = _trail(runtime)[before:]
    ids = {json.loads(r.body)["RequestId"] for r in responses}
    assert {event["requestId"] for event in events} == ids
    assert len(events) == CALLS


def test_each_call_of_a_group_fails_alone_and_is_trailed(runtime: Runtime, signer: Signer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    groups = _count_groups(runtime, monkeypatch)
    before = len(_trail(runtime))
    good = _identity_call(signer, nonce="group-nonce-1")
    forged = _identity_call(signer)
    tampered = dict(forged.headers)
    tampered["authorization"] = tampered["authorization"][:-4] + "0000"
    wires = [good, replace(forged, headers=tampered), good, _identity_call(signer)]
    responses = _serve(_committer(runtime), wires)
    assert len(groups) == 1
    assert [(r.status, _code(r)) for r in responses] == [
        (200, ""), (400, "SignatureDoesNotMatch"), (400, "SignatureNonceUsed"), (200, "")]
    events = _trail(runtime)[before:]
    assert [event["errorCode"] for event in events] == [
        "", "SignatureDoesNotMatch", "SignatureNonceUsed", ""]


def test_a_group_whose_commit_fails_is_served_again_call_by_call(
        runtime: Runtime, signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[CommitGroup] = []
    original = CommitGroup.commit

    def fail_once(group: CommitGroup) -> None:
        if failures:
            original(group)
            return
        failures.append(group)
        group.rollback()
        raise StoreError("commit failed: disk I/O error")

    monkeypatch.setattr(CommitGroup, "commit", fail_once)
    before = len(_trail(runtime))
    responses = _serve(_committer(runtime), [_identity_call(signer) for _ in range(CALLS)])
    assert failures, "the first group's commit should have failed"
    # Served again: the nonces the failed group claimed were not kept, so no replay refusal.
    assert [r.status for r in responses] == [200] * CALLS
    events = _trail(runtime)[before:]
    assert len(events) == CALLS
    assert {event["requestId"] for event in events} == {
        json.loads(r.body)["RequestId"] for r in responses}


class _LosesTheTransaction:
    """Serves through the real pipeline; before the call at `index` SQLite loses the group's
    transaction, as it does on some I/O errors."""

    def __init__(self, pipeline: Pipeline, index: int) -> None:
        self.pipeline, self.index, self.calls = pipeline, index, 0

    def handle(self, wire: WireRequest) -> HttpResponse:
        self.calls += 1
        if self.calls == self.index:
            with pytest.raises(StoreError), self.pipeline.store.transaction() as tx:
                tx.execute("ROLLBACK")
        return self.pipeline.handle(wire)


def test_a_group_that_lost_its_transaction_answers_nothing_from_it(
        runtime: Runtime, signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = _count_groups(runtime, monkeypatch)
    before = len(_trail(runtime))
    losing = _LosesTheTransaction(runtime.pipeline, index=3)
    committer = GroupCommitter(cast(Pipeline, losing), cast(SQLiteStore, runtime.store))
    responses = _serve(committer, [_identity_call(signer) for _ in range(CALLS)])
    assert len(groups) == 1
    assert groups[0].broken
    assert [r.status for r in responses] == [200] * CALLS
    events = _trail(runtime)[before:]
    assert {event["requestId"] for event in events} == {
        json.loads(r.body)["RequestId"] for r in responses}
    assert len(events) == CALLS


def test_groups_are_bounded(runtime: Runtime, signer: Signer,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    groups = _count_groups(runtime, monkeypatch)
    committer = GroupCommitter(runtime.pipeline, cast(SQLiteStore, runtime.store), max_group=5)
    responses = _serve(committer, [_identity_call(signer) for _ in range(CALLS)])
    assert [r.status for r in responses] == [200] * CALLS
    assert len(groups) == -(-CALLS // 5)

