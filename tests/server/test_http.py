"""The uvicorn server as built for the API: the caller's address is the connection's own, and
answers are framed by Content-Length."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.testing import RunningServer, start_server
from tests.api.raw import Signer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_server(tmp_path / "data") as running:
        yield running


def _last_event(server: RunningServer) -> dict[str, object]:
    with server.runtime.store.transaction() as tx:
        row = tx.query_one("SELECT body FROM trail_events ORDER BY seq DESC LIMIT 1")
    assert row is not None
    event = json.loads(row["body"])
    assert isinstance(event, dict)
    return event


@pytest.mark.parametrize("header", ["x-forwarded-for", "forwarded", "x-real-ip"])
def test_a_forwarded_for_header_does_not_change_the_source_ip(server: RunningServer,
                                                              header: str) -> None:
    value = "for=203.0.113.9" if header == "forwarded" else "203.0.113.9"
    answer = Signer.admin(server).acs3("GetCallerIdentity", "2015-04-01", extra={header: value})
    assert answer.status == 200
    event = _last_event(server)
    assert event["requestId"] == answer.json()["RequestId"]
    assert event["sourceIpAddress"] == "127.0.0.1"


def test_answers_carry_their_length(server: RunningServer) -> None:
    answer = Signer.admin(server).acs3("GetCallerIdentity", "2015-04-01")
    assert answer.headers.get("content-length") == str(len(answer.body))
    assert "transfer-encoding" not in answer.headers
