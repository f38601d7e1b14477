"""A small signed client of the Alibaba RPC wire (RPC V1 signatures), for ramparts' own command
line: no SDK needed to sign in or to ask who the caller is."""

from __future__ import annotations

import json
import secrets
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ramparts.core.errors import RampartsError
from ramparts.protocol.signing import RPC, percent_encode, sign_rpc, string_to_sign_rpc

__all__ = ["ApiClient", "ApiError", "ClientCredentials"]

TIMEOUT = 30.0  # seconds


class ApiError(RampartsError):
    """The server answered with an Alibaba error (or could not be reached: status 0)."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code}: {message}" + (f" (RequestId {request_id})"
                                                 if request_id else ""))
        self.status, self.code, self.request_id = status, code, request_id


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None

    def __repr__(self) -> str:
        return f"ClientCredentials(access_key_id={self.access_key_id!r}, <secret hidden>)"


def _encode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


class ApiClient:
    """Calls `Action` of API `version` on `endpoint` (`host:port`), over HTTPS when `secure`
    (verifying against `ca_file` when given, else the system's trust store)."""

    def __init__(self, endpoint: str, *, secure: bool = False,
                 ca_file: str | None = None) -> None:
        self.endpoint, self.secure = endpoint, secure
        self._context = ssl.create_default_context(cafile=ca_file) if secure else None

    def call(self, version: str, action: str, params: Mapping[str, str],
             credentials: ClientCredentials | None) -> dict[str, Any]:
        """A signed call (unsigned when `credentials` is None: only public actions accept
        that). Parameters travel in the POST body, never in the URL."""
        pairs = [("Action", action), ("Version", version), ("Format", "JSON")]
        pairs += list(params.items())
        if credentials is not None:
            pairs += [("AccessKeyId", credentials.access_key_id), ("SignatureMethod", RPC),
                      ("SignatureVersion", "1.0"), ("SignatureNonce", secrets.token_hex(16)),
                      ("Timestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))]
            if credentials.security_token:
                pairs.append(("SecurityToken", credentials.security_token))
            signature = sign_rpc(string_to_sign_rpc("POST", pairs),
                                 credentials.access_key_secret)
            pairs.append(("Signature", signature))
        return self._post(_encode(pairs).encode("ascii"))

    def _post(self, body: bytes) -> dict[str, Any]:
        scheme = "https" if self.secure else "http"
        request = urllib.request.Request(  # noqa: S310 (the scheme is http or https)
            f"{scheme}://{self.endpoint}/", data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json", "User-Agent": "ramparts-cli"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT,  # noqa: S310
                                        context=self._context) as response:
                return dict(json.loads(response.read().decode("utf-8")))
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read().decode("utf-8"))
            except ValueError:
                answer = {}
            raise ApiError(error.code, str(answer.get("Code", "HTTPError")),
                           str(answer.get("Message", error.reason)),
                           str(answer.get("RequestId", ""))) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(0, "EndpointUnreachable",
                           f"cannot reach {scheme}://{self.endpoint}: {reason}") from None
