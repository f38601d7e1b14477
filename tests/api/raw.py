"""Hand-built HTTP requests to a test server, signed with either scheme, so a test controls
every byte the server receives."""

from __future__ import annotations

import hashlib
import http.client
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ramparts.protocol.signing import (
    ACS3,
    RPC,
    percent_encode,
    sign_acs3,
    sign_rpc,
    string_to_sign_acs3,
    string_to_sign_rpc,
)
from ramparts.protocol.wire import WireRequest
from ramparts.testing import RunningServer

__all__ = [
    "ERROR_FIELDS",
    "Answer",
    "Signer",
    "Target",
    "encode_query",
    "send",
    "timestamp",
]

# Every error body carries these [ALIBABA-API 3.2].
ERROR_FIELDS = ("RequestId", "HostId", "Code", "Message", "Recommend")
FORM = "application/x-www-form-urlencoded"


class Target(Protocol):
    """Where to send: a RunningServer or a ServerProcess."""

    @property
    def port(self) -> int: ...

    @property
    def endpoint(self) -> str: ...


@dataclass(frozen=True)
class Answer:
    """A response as received: status, lower-case headers, raw body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        value = json.loads(self.body.decode("utf-8"))
        assert isinstance(value, dict), value
        return value

    @property
    def code(self) -> str:
        return str(self.json().get("Code", ""))

    def error(self, status: int | None = None, code: str | None = None) -> dict[str, Any]:
        """The error body, after checking it is a complete Alibaba error in JSON (and, when
        given, has this status and code)."""
        assert self.headers.get("content-type", "").startswith("application/json"), self
        body = self.json()
        missing = [name for name in ERROR_FIELDS if not isinstance(body.get(name), str)
                   or not body[name]]
        assert not missing, (missing, body)
        assert 400 <= self.status < 600, (self.status, body)
        assert "Traceback" not in body["Message"], body
        if status is not None:
            assert self.status == status, (self.status, body)
        if code is not None:
            assert body["Code"] == code, body
        return body


def encode_query(pairs: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def timestamp(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def send(server: Target, method: str = "POST", target: str = "/", *,
         headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
         body: bytes = b"", host: str | None = None) -> Answer:
    """One request on a fresh connection; `host` replaces the Host header's value."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host if host is not None else server.endpoint)
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            connection.putheader(name, value)
        if body or method in ("POST", "PUT"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


@dataclass
class Signer:
    """Signs requests for one AccessKey the way the SDKs do."""

    server: Target
    access_key_id: str
    secret: str
    security_token: str | None = None

    @classmethod
    def admin(cls, server: RunningServer) -> Signer:
        key_id, secret = server.admin_key
        return cls(server, key_id, secret)

    # ---- RPC V1 (HMAC-SHA1, Signature parameter)

    def rpc_params(self, action: str, version: str, params: Sequence[tuple[str, str]] = (), *,
                   method: str = "POST", nonce: str | None = None, when: str | None = None,
                   form: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        """The query parameters of a signed RPC call (`form` pairs are signed too but sent in
        the body by the caller)."""
        common = [
            ("Action", action), ("Version", version), ("Format", "JSON"),
            ("AccessKeyId", self.access_key_id), ("SignatureMethod", RPC),
            ("SignatureVersion", "1.0"), ("SignatureNonce", nonce or secrets.token_hex(16)),
            ("Timestamp", when or timestamp()),
        ]
        if self.security_token is not None:
            common.append(("SecurityToken", self.security_token))
        signed = [*common, *params]
        signature = sign_rpc(string_to_sign_rpc(method, [*signed, *form]), self.secret)
        return [*signed, ("Signature", signature)]

    def rpc(self, action: str, version: str, params: Sequence[tuple[str, str]] = (), *,
            method: str = "POST", nonce: str | None = None, when: str | None = None,
            form: Sequence[tuple[str, str]] = ()) -> Answer:
        query = self.rpc_params(action, version, params, method=method, nonce=nonce, when=when,
                                form=form)
        body = encode_query(form).encode("ascii") if form else b""
        headers = {"accept": "application/json"}
        if form:
            headers["content-type"] = FORM
        return send(self.server, method, "/?" + encode_query(query), headers=headers, body=body)

    # ---- ACS3-HMAC-SHA256 (Authorization header)

    def acs3_headers(self, action: str, version: str, query: Sequence[tuple[str, str]] = (), *,
                     method: str = "POST", body: bytes = b"", content_type: str | None = None,
                     nonce: str | None = None, when: str | None = None,
                     host: str | None = None, extra: Mapping[str, str] | None = None
                     ) -> dict[str, str]:
        headers = {
            "host": host if host is not None else self.server.endpoint,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": when or timestamp(),
            "x-acs-signature-nonce": nonce or secrets.token_hex(16),
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
            "accept": "application/json",
            **(extra or {}),
        }
        if content_type is not None:
            headers["content-type"] = content_type
        if self.security_token is not None:
            headers["x-acs-accesskey-id"] = self.access_key_id
            headers["x-acs-security-token"] = self.security_token
        signed = sorted(headers)
        wire = WireRequest(method=method, path="/", query=list(query), headers=headers,
                           body=body)
        signature = sign_acs3(string_to_sign_acs3(wire, signed), self.secret)
        headers["authorization"] = (f"{ACS3} Credential={self.access_key_id},"
                                    f"SignedHeaders={';'.join(signed)},Signature={signature}")
        return headers

    def acs3(self, action: str, version: str, query: Sequence[tuple[str, str]] = (), *,
             method: str = "POST", body: bytes = b"", content_type: str | None = None,
             nonce: str | None = None, when: str | None = None, host: str | None = None,
             extra: Mapping[str, str] | None = None) -> Answer:
        headers = self.acs3_headers(action, version, query, method=method, body=body,
                                    content_type=content_type, nonce=nonce, when=when,
                                    host=host, extra=extra)
        target = "/?" + encode_query(query) if query else "/"
        sent = {k: v for k, v in headers.items() if k != "host"}
        return send(self.server, method, target, headers=sent, body=body,
                    host=headers["host"])
