"""Alibaba's response shapes: the JSON of a success, and of an error, rendered in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ramparts.core import jsontext
from ramparts.core.errors import ServiceError

__all__ = ["HttpResponse", "error_response", "success_response"]

RECOMMEND = "https://api.aliyun.com/troubleshoot?q={code}&product={product}"
_JSON = (("content-type", "application/json;charset=utf-8"),)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _encode(body: Mapping[str, Any]) -> bytes:
    return jsontext.compact(body).encode("utf-8")


def success_response(request_id: str, body: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(200, _JSON, _encode({"RequestId": request_id, **body}))


def error_response(error: ServiceError, request_id: str, host: str,
                   product: str = "") -> HttpResponse:
    """`{RequestId, HostId, Code, Message, Recommend[, AccessDeniedDetail]}` with the error's
    HTTP status [ALIBABA-API 3.2]."""
    body: dict[str, Any] = {
        "RequestId": request_id,
        "HostId": host,
        "Code": error.error_code,
        "Message": error.message,
        "Recommend": RECOMMEND.format(code=error.error_code, product=product),
    }
    if error.detail is not None:
        body["AccessDeniedDetail"] = error.detail
    return HttpResponse(error.http_status, _JSON, _encode(body))
