"""The HTTP edge: an ASGI application that turns each request into a WireRequest for the
pipeline and writes its answer back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from ramparts.protocol.envelope import HttpResponse
from ramparts.protocol.pipeline import MAX_BODY, Pipeline
from ramparts.protocol.wire import WireRequest
from ramparts.server.group_commit import GroupCommitter

__all__ = ["MAX_HEADERS", "MAX_QUERY", "ApiApp", "read_body", "send_response",
           "serve_lifespan"]

# Bytes of header names and values together: an SDK request sends about 1 kB (an STS token
# adds a few hundred bytes). Larger requests are answered with an error and nothing of their
# headers or query reaches the pipeline (the user agent would go to the trail).
MAX_HEADERS = 64 * 1024
# Bytes of the raw query string, where RPC calls carry every business parameter (a 6 kB
# policy document percent-encodes to at most 55 kB). uvicorn's httptools parser refuses a
# request target over 64 kB itself, before this application sees it.
MAX_QUERY = 64 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


def _query(raw: bytes) -> tuple[list[tuple[str, str]], str | None]:
    try:
        return parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8",
                         errors="strict"), None
    except UnicodeError:
        return [], "The query string is not valid UTF-8 percent-encoded text."


async def send_response(send: Send, status: int, headers: list[tuple[bytes, bytes]],
                        body: bytes) -> None:
    """An HTTP answer, with its Content-Length."""
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, and whether it was larger than `limit` (then it is dropped)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Answer uvicorn's lifespan messages (nothing to start or stop)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class ApiApp:
    """Serves every API call on `POST /` (and `GET /`, which RPC permits)."""

    def __init__(self, pipeline: Pipeline, *, grouped: GroupCommitter | None = None) -> None:
        """`grouped`: serve calls in commit groups (one fsync for the calls that arrive
        together); without it each call is served in a transaction of its own."""
        self.pipeline = pipeline
        self._grouped = grouped

    async def _serve(self, wire: WireRequest) -> HttpResponse:
        if self._grouped is not None:
            return await self._grouped.handle(wire)
        return self.pipeline.handle(wire)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body, too_large = await read_body(receive, MAX_BODY)
        raw_headers = scope.get("headers", [])
        raw_query = scope.get("query_string", b"")
        header_bytes = sum(len(name) + len(value) for name, value in raw_headers)
        malformed: str | None = None
        if header_bytes > MAX_HEADERS:
            malformed = f"The request headers are larger than {MAX_HEADERS} bytes."
        elif len(raw_query) > MAX_QUERY:
            malformed = f"The request query string is larger than {MAX_QUERY} bytes."
        elif too_large:
            malformed = f"The request body is larger than {MAX_BODY} bytes."
        if malformed is not None:
            raw_headers, raw_query, body = [], b"", b""
        query, unreadable = _query(raw_query)
        client = scope.get("client") or ("127.0.0.1", 0)
        wire = WireRequest(
            method=scope["method"], path=scope.get("path", "/"), query=query,
            headers=_headers(raw_headers), body=body, source_ip=client[0],
            secure=scope.get("scheme") == "https", raw_query=raw_query.decode("latin-1"),
            malformed=malformed or unreadable,
        )
        response = await self._serve(wire)
        await send_response(send, response.status,
                            [(k.encode(), v.encode()) for k, v in response.headers],
                            response.body)
