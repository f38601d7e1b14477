"""One HTTP request as the API sees it, before any Alibaba-specific interpretation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["WireRequest"]


@dataclass(frozen=True, slots=True)
class WireRequest:
    """The parts of an HTTP request that signing and parameter parsing need.

    `query` holds the decoded query parameters in the order received (`+` already read as a
    space); `headers` maps lower-case header names to values (a repeated header's values joined
    with ","); `body` is the raw body; `source_ip` and `secure` describe the connection;
    `malformed` says why the HTTP layer could not read the request (bad encoding, body too
    large), in which case the request is answered with an error and recorded.
    """

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    secure: bool = False
    raw_query: str = field(default="", compare=False)
    malformed: str | None = None

    def header(self, name: str) -> str | None:
        """A header's value by name in any case (names are stored in lower case)."""
        value = self.headers.get(name)
        return value if value is not None or name.islower() else self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()
