"""The HTTP edge: what reaches the pipeline of a request, and the limits applied before it."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any, cast

import pytest

from ramparts.protocol.envelope import HttpResponse
from ramparts.protocol.pipeline import MAX_BODY, Pipeline
from ramparts.protocol.wire import WireRequest
from ramparts.server.asgi import MAX_HEADERS, MAX_QUERY, ApiApp


class _Recorder:
    """Stands in for the pipeline: keeps the request it is given, answers 200."""

    def __init__(self) -> None:
        self.seen: list[WireRequest] = []

    def handle(self, wire: WireRequest) -> HttpResponse:
        self.seen.append(wire)
        return HttpResponse(200, (("content-type", "application/json"),), b"{}")


def _serve(*, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
           chunks: tuple[bytes, ...] = (b"",), method: str = "POST"
           ) -> tuple[WireRequest, list[MutableMapping[str, Any]]]:
    recorder = _Recorder()
    app = ApiApp(cast(Pipeline, recorder))
    scope: dict[str, Any] = {"type": "http", "method": method, "path": "/",
                             "query_string": query, "headers": headers or [],
                             "client": ("10.0.0.7", 5000), "scheme": "https"}
    pending = list(chunks)
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert len(recorder.seen) == 1
    return recorder.seen[0], sent


def test_a_request_reaches_the_pipeline_as_sent() -> None:
    wire, sent = _serve(query=b"Action=ListUsers&UserName=a+b%2B", chunks=(b"x=", b"1"),
                        headers=[(b"Host", b"h"), (b"X-Acs-Action", b"A"),
                                 (b"x-acs-action", b"B")])
    assert wire.query == [("Action", "ListUsers"), ("UserName", "a b+")]
    assert wire.headers == {"host": "h", "x-acs-action": "A,B"}
    assert wire.body == b"x=1"
    assert (wire.source_ip, wire.secure, wire.malformed) == ("10.0.0.7", True, None)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"{}"


def test_at_every_limit_the_request_is_read() -> None:
    header = [(b"x-pad", b"p" * (MAX_HEADERS - 5))]
    wire, _ = _serve(query=b"a=" + b"q" * (MAX_QUERY - 2), headers=header,
                     chunks=(b"b" * MAX_BODY,))
    assert wire.malformed is None
    assert len(wire.body) == MAX_BODY


@pytest.mark.parametrize(("request_", "limit"), [
    ({"headers": [(b"x-pad", b"p" * MAX_HEADERS)]}, MAX_HEADERS),
    ({"headers": [(b"x-pad-%d" % i, b"p" * 1024) for i in range(70)]}, MAX_HEADERS),
    ({"query": b"a=" + b"q" * MAX_QUERY}, MAX_QUERY),
    ({"chunks": (b"b" * MAX_BODY, b"b")}, MAX_BODY),
], ids=["one-header", "many-headers", "query", "body"])
def test_over_a_limit_nothing_of_the_request_reaches_the_pipeline(request_: dict[str, Any],
                                                                  limit: int) -> None:
    """Only the refusal does: not the headers (the user agent goes to the trail), not the
    query, not the body."""
    wire, _ = _serve(**request_)
    assert wire.malformed is not None
    assert str(limit) in wire.malformed
    assert (wire.headers, list(wire.query), wire.body, wire.raw_query) == ({}, [], b"", "")


@pytest.mark.parametrize("query", [b"a=%FF", b"%C3%28=1", b"a=\xff"])
def test_a_query_that_is_not_utf8_is_malformed(query: bytes) -> None:
    wire, _ = _serve(query=query)
    assert wire.malformed is not None
    assert "UTF-8" in wire.malformed
    assert list(wire.query) == []
