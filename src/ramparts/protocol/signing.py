"""Server-side verification of Alibaba's ACS3-HMAC-SHA256 and RPC V1 HMAC-SHA1 signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from ramparts.protocol.errors import (
    IncompleteSignature,
    InvalidParameter,
    InvalidSignatureMethod,
    InvalidTimeStampExpired,
    InvalidTimeStampFormat,
    MissingParameter,
    SignatureDoesNotMatch,
)
from ramparts.protocol.wire import WireRequest

__all__ = [
    "ACS3",
    "MAX_NONCE_LENGTH",
    "REQUIRED_SIGNED_HEADERS",
    "RPC",
    "TIMESTAMP_WINDOW",
    "Scheme",
    "SignedIdentity",
    "canonical_request_acs3",
    "check_timestamp",
    "percent_encode",
    "read_signature",
    "sign_acs3",
    "sign_rpc",
    "string_to_sign_acs3",
    "string_to_sign_rpc",
    "verify_signature",
]

Scheme = Literal["ACS3-HMAC-SHA256", "HMAC-SHA1"]
ACS3: Scheme = "ACS3-HMAC-SHA256"
RPC: Scheme = "HMAC-SHA1"

# [doc: V3 request structure and signature] "every common header except Authorization must be
# signed"; these are the ones every V3 signer sends (ALIBABA-API 2.1).
REQUIRED_SIGNED_HEADERS = (
    "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce",
    "x-acs-version",
)
# The gateway error doc allows 15 minutes of skew either way (ALIBABA-API 2.6).
TIMESTAMP_WINDOW = timedelta(minutes=15)
# SDKs send 32 hex digits or a UUID; a nonce is stored (and indexed) until it expires, so an
# unbounded one could not be (PostgreSQL indexes at most ~2.7 kB per key).
MAX_NONCE_LENGTH = 256

# `YYYY-MM-DDTHH:MM:SSZ`, UTC, as both schemes document it [doc: V3 request structure and
# signature; Request syntax and signature method V2 for RPC APIs].
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)
_ACS_ALGORITHM = re.compile(r"ACS\d-[A-Z0-9-]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class SignedIdentity:
    """Who claims to have signed a request, read before any secret is known.

    `signed_headers` is the ACS3 SignedHeaders list in the order the client sent it (empty for
    RPC); `timestamp` is `x-acs-date` or the `Timestamp` parameter.
    """

    scheme: Scheme
    access_key_id: str
    security_token: str | None
    nonce: str
    timestamp: datetime
    signed_headers: tuple[str, ...] = ()
    signature: str = field(default="", repr=False)  # ACS3: the Authorization's Signature


@dataclass(frozen=True, slots=True)
class _Authorization:
    algorithm: str
    credential: str
    signed_headers: tuple[str, ...]
    signature: str


# ---- pure helpers (also used by tests and client-side signing helpers)


def percent_encode(text: str) -> str:
    """RFC 3986 encoding of the UTF-8 bytes: `A-Z a-z 0-9 - _ . ~` kept, the rest `%XX`
    (space -> `%20`, `*` -> `%2A`) [doc: Signature mechanism (RAM), ALIBABA-API 2]."""
    try:
        return quote(text, safe="~", encoding="utf-8", errors="strict")
    except UnicodeEncodeError:
        raise InvalidParameter("A request parameter is not valid UTF-8 text.") from None


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    # Sorted by name (then value, so that a repeated name still canonicalizes one way).
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(pairs))


def canonical_request_acs3(request: WireRequest, signed_headers: Sequence[str], *,
                           hashed_payload: str | None = None) -> str:
    """The V3 CanonicalRequest [doc: V3 request structure and signature].

    Only the query is canonicalized (a form body is bound through the payload hash). The
    payload hash is the one the client declared in `x-acs-content-sha256` (that is what it
    signed; `verify_signature` checks it against the body separately), else the body's own.
    """
    headers = "".join(f"{name}:{(request.header(name) or '').strip()}\n"
                      for name in signed_headers)
    if hashed_payload is None:
        hashed_payload = request.header("x-acs-content-sha256")
    if hashed_payload is None:
        hashed_payload = _sha256_hex(request.body)
    return "\n".join([
        request.method,
        request.path or "/",  # the Python SDK signs the path unencoded (ALIBABA-API 2.1)
        _canonical_query(request.query),
        headers,  # ends in "\n", hence the documented empty line
        ";".join(signed_headers),
        hashed_payload,
    ])


def string_to_sign_acs3(request: WireRequest, signed_headers: Sequence[str], *,
                        hashed_payload: str | None = None) -> str:
    """`ACS3-HMAC-SHA256\\n` + hex SHA-256 of the canonical request."""
    canonical = canonical_request_acs3(request, signed_headers, hashed_payload=hashed_payload)
    return f"{ACS3}\n{_sha256_hex(canonical.encode('utf-8'))}"


def sign_acs3(string_to_sign: str, secret: str) -> str:
    """Hex HMAC-SHA256 keyed with the AccessKey secret itself (no suffix)."""
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def string_to_sign_rpc(method: str, params: Iterable[tuple[str, str]]) -> str:
    """`METHOD&%2F&pct(canonical query)` over every parameter given (callers drop Signature;
    empty values are kept: aliyun-python-sdk-core signs `SignatureType=`) [doc: Request syntax
    and signature method V2 for RPC APIs]."""
    return f"{method}&{percent_encode('/')}&{percent_encode(_canonical_query(params))}"


def sign_rpc(string_to_sign: str, secret: str) -> str:
    """Base64 HMAC-SHA1 keyed with the AccessKey secret followed by `&`."""
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


# ---- reading a request's claims


def _parse_timestamp(text: str) -> datetime:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise InvalidTimeStampFormat()
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 2026-02-30T25:00:00Z matches the pattern but is no time
        raise InvalidTimeStampFormat() from None


def _clean(name: str, value: str) -> str:
    # A NUL cannot be stored (PostgreSQL text) nor logged safely; refuse it at the door.
    if "\x00" in value:
        raise InvalidParameter.named(name, f"Specified parameter {name} contains a NUL "
                                           "character.")
    return value


def _nonce(name: str, value: str) -> str:
    if len(value) > MAX_NONCE_LENGTH:
        raise InvalidParameter.named(name, f"Specified parameter {name} is longer than "
                                           f"{MAX_NONCE_LENGTH} characters.")
    return value


def _single(params: Sequence[tuple[str, str]], name: str) -> str | None:
    """A protocol parameter's one value; the same name with two values is refused."""
    values = {value for key, value in params if key == name}
    if len(values) > 1:
        raise InvalidParameter.named(name, f"Specified parameter {name} is given more than "
                                           "once with different values.")
    return _clean(name, values.pop()) if values else None


def _parse_authorization(header: str) -> _Authorization:
    """`<ALGO> Credential=<AK>,SignedHeaders=<h1;h2>,Signature=<hex>`; the SDK writes no
    spaces after the commas, others may, so parts are trimmed (ALIBABA-API 2.1)."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ACS3:
        raise InvalidSignatureMethod(f"Specified signature method is not valid: {algorithm} is "
                                     f"not supported; sign with {ACS3} or {RPC}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or key in fields:
            raise IncompleteSignature("The request signature does not conform to Aliyun "
                                      "standards: the Authorization header is malformed.")
        fields[key] = value.strip()
    for key in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(key):
            raise IncompleteSignature(f"The request signature does not conform to Aliyun "
                                      f"standards: the Authorization header has no {key}.")
    names = tuple(fields["SignedHeaders"].split(";"))
    if any(not name for name in names) or len(set(names)) != len(names):
        raise IncompleteSignature("The request signature does not conform to Aliyun standards: "
                                  "SignedHeaders lists an empty or repeated header name.")
    return _Authorization(algorithm, _clean("Credential", fields["Credential"]), names,
                          fields["Signature"])


def _read_acs3(request: WireRequest, header: str) -> SignedIdentity:
    auth = _parse_authorization(header)
    signed = {name.lower() for name in auth.signed_headers}
    required = list(REQUIRED_SIGNED_HEADERS)
    if request.header("x-acs-security-token") is not None:
        required.append("x-acs-security-token")
    if request.body and request.header("content-type") is not None:
        # The content type decides whether the (hashed) body is read as parameters.
        required.append("content-type")
    unsigned = [name for name in required if name not in signed]
    if unsigned:
        raise IncompleteSignature(f"The request signature does not conform to Aliyun standards: "
                                  f"SignedHeaders must include {', '.join(unsigned)}.")
    absent = [name for name in auth.signed_headers if request.header(name) is None]
    if absent:
        raise IncompleteSignature(f"The request signature does not conform to Aliyun standards: "
                                  f"the signed header {', '.join(absent)} is not in the request.")
    declared_key = request.header("x-acs-accesskey-id")
    if declared_key is not None and declared_key.strip() != auth.credential:
        raise IncompleteSignature("The request signature does not conform to Aliyun standards: "
                                  "x-acs-accesskey-id differs from the Credential.")
    nonce = _clean("x-acs-signature-nonce", (request.header("x-acs-signature-nonce") or "").strip())
    if not nonce:
        raise IncompleteSignature("The request signature does not conform to Aliyun standards: "
                                  "x-acs-signature-nonce is empty.")
    token = request.header("x-acs-security-token")
    return SignedIdentity(
        scheme=ACS3,
        access_key_id=auth.credential,
        security_token=_clean("x-acs-security-token", token.strip()) if token else None,
        nonce=_nonce("x-acs-signature-nonce", nonce),
        timestamp=_parse_timestamp((request.header("x-acs-date") or "").strip()),
        signed_headers=auth.signed_headers,
        signature=auth.signature,
    )


def _read_rpc(params: Sequence[tuple[str, str]]) -> SignedIdentity:
    values: dict[str, str] = {}
    # Required by [doc: Request syntax and signature method V2 for RPC APIs]; Action and
    # Version are checked here too because only the signed parameters may route a call.
    for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion",
                 "SignatureNonce", "Timestamp", "Action", "Version"):
        value = _single(params, name)
        if not value:
            raise MissingParameter.named(name)
        values[name] = value
    if values["SignatureMethod"] != RPC:
        raise InvalidSignatureMethod(f"Specified signature method is not valid: "
                                     f"{values['SignatureMethod']} is not supported; sign with "
                                     f"{RPC} or {ACS3}.")
    if values["SignatureVersion"] != "1.0":
        raise InvalidParameter("Specified parameter SignatureVersion is not valid: only 1.0 is "
                               "supported.", code="InvalidSignatureVersion")
    return SignedIdentity(
        scheme=RPC,
        access_key_id=values["AccessKeyId"],
        security_token=_single(params, "SecurityToken") or None,
        nonce=_nonce("SignatureNonce", values["SignatureNonce"]),
        timestamp=_parse_timestamp(values["Timestamp"]),
    )


def _rpc_params(request: WireRequest, form: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*request.query, *form]


def read_signature(request: WireRequest, form: Sequence[tuple[str, str]]) -> SignedIdentity:
    """The signer's claims, checked for presence and format without any secret.

    The scheme is chosen by an `Authorization: ACS…` header, else a `Signature` parameter
    (ALIBABA-API 6.1).
    """
    header = request.header("authorization")
    if header is not None and _ACS_ALGORITHM.match(header.strip()):
        return _read_acs3(request, header)
    params = _rpc_params(request, form)
    if any(key == "Signature" for key, _ in params):
        return _read_rpc(params)
    if header is not None and header.strip():
        scheme = header.strip().split(" ", 1)[0]
        raise InvalidSignatureMethod(f"Specified signature method is not valid: {scheme} is not "
                                     f"supported; sign with {ACS3} or {RPC}.")
    if any(key == "AccessKeyId" for key, _ in params):
        raise MissingParameter.named("Signature")
    raise IncompleteSignature("The request signature does not conform to Aliyun standards: the "
                              "request has neither an Authorization header nor a Signature "
                              "parameter.")


def check_timestamp(identity: SignedIdentity, now: datetime,
                    window: timedelta = TIMESTAMP_WINDOW) -> None:
    """Refuse a request signed more than `window` before or after `now`."""
    if abs(now - identity.timestamp) > window:
        raise InvalidTimeStampExpired()


# ---- verification


def _same(provided: str, expected: str) -> bool:
    # compare_digest on str refuses non-ASCII input with TypeError; compare bytes instead.
    return hmac.compare_digest(provided.encode("utf-8"), expected.encode("utf-8"))


def verify_signature(request: WireRequest, form: Sequence[tuple[str, str]],
                     identity: SignedIdentity, secret: str) -> None:
    """Recompute the signature with `secret` and refuse the request unless it matches.

    The error carries the server's string to sign (never the secret), as Alibaba's does, so a
    client can find the difference.
    """
    if identity.scheme == ACS3:
        declared = (request.header("x-acs-content-sha256") or "").strip()
        actual = _sha256_hex(request.body)
        if not _same(declared.lower(), actual):
            # The trail gets no hash of the body: it may hold a password.
            raise SignatureDoesNotMatch(
                f"Specified signature does not match our calculation. x-acs-content-sha256 "
                f"differs from the SHA-256 of the request body; server payload hash is:{actual}",
                trail_message="Specified signature does not match our calculation. "
                              "x-acs-content-sha256 differs from the SHA-256 of the request "
                              "body.")
        string_to_sign = string_to_sign_acs3(request, identity.signed_headers,
                                             hashed_payload=declared)
        provided = identity.signature
        expected = sign_acs3(string_to_sign, secret)
    else:
        params = _rpc_params(request, form)
        provided = _single(params, "Signature") or ""
        string_to_sign = string_to_sign_rpc(
            request.method, [(k, v) for k, v in params if k != "Signature"])
        expected = sign_rpc(string_to_sign, secret)
    if not _same(provided, expected):
        raise SignatureDoesNotMatch.for_string_to_sign(string_to_sign)
