"""The gateway's error codes: what the wire layer answers before any product sees a call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ramparts.core.errors import ServiceError

__all__ = [
    "ForbiddenRam",
    "GatewayError",
    "IncompleteSignature",
    "InternalError",
    "InvalidAccessKeyIdInactive",
    "InvalidAccessKeyIdNotFound",
    "InvalidApiNotFound",
    "InvalidParameter",
    "InvalidSecurityTokenExpired",
    "InvalidSecurityTokenMalformed",
    "InvalidSecurityTokenMismatch",
    "InvalidSignatureMethod",
    "InvalidTimeStampExpired",
    "InvalidTimeStampFormat",
    "MissingParameter",
    "NoPermission",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "SignatureNonceUsed",
    "UnsupportedHTTPMethod",
    "trail_message",
]

# Codes, statuses and message texts follow Alibaba's common gateway error table
# [doc: 管控OpenAPI的客户端公用错误码 / OpenAPI client-side error codes], ALIBABA-API 3.4.


class GatewayError(ServiceError):
    """A gateway error whose message defaults to the sentence Alibaba documents for its code.

    `trail_message` is what the ActionTrail event records: the message itself unless the
    message quotes request material the trail must not keep (a string to sign carries the
    SecurityToken of an RPC request).
    """

    default_message: ClassVar[str] = "The request processing has failed due to some unknown error."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        detail: Mapping[str, Any] | None = None,
        trail_message: str | None = None,
    ) -> None:
        super().__init__(message or self.default_message, code=code, detail=detail)
        self.trail_message = trail_message or self.message


def trail_message(error: ServiceError) -> str:
    """The message an error's trail event records (never a quoted string to sign)."""
    return error.trail_message if isinstance(error, GatewayError) else error.message


class InvalidApiNotFound(GatewayError):
    code = "InvalidApi.NotFound"
    http_status = 404
    default_message = "Specified api is not found, please check your url and method."


class MissingParameter(GatewayError):
    """`Missing<Name>`: the documented code names the parameter; `MissingParameter` is the
    generic form some products use."""

    code = "MissingParameter"
    http_status = 400
    default_message = "A mandatory parameter is not supplied."

    @classmethod
    def named(cls, name: str) -> MissingParameter:
        """`Missing{ParameterName}` with "{ParameterName} is mandatory for this action."."""
        return cls(f"{name} is mandatory for this action.", code=f"Missing{name}")


class InvalidParameter(GatewayError):
    """`InvalidParameter` and its family `InvalidParameter.<Name>` (STS and RAM name the
    parameter after a dot [doc: AssumeRole]); the documented `Invalid<Name>` form
    (`InvalidSignatureVersion`) is reached through `code=`."""

    code = "InvalidParameter"
    http_status = 400
    default_message = "The specified parameter is not valid."

    @classmethod
    def named(cls, name: str, message: str | None = None) -> InvalidParameter:
        """`InvalidParameter.<Name>`; the message names the parameter."""
        return cls(message or f"Specified parameter {name} is not valid.",
                   code=f"InvalidParameter.{name}")


class UnsupportedHTTPMethod(GatewayError):
    """RPC calls are `GET /` or `POST /`; the gateway's code for any other method. Its status
    is not documented; 400 as for the gateway's other request-shape errors."""

    code = "UnsupportedHTTPMethod"
    http_status = 400
    default_message = "This http method is not supported."


class InvalidAccessKeyIdNotFound(GatewayError):
    code = "InvalidAccessKeyId.NotFound"
    http_status = 404
    default_message = "Specified access key is not found."


class InvalidAccessKeyIdInactive(GatewayError):
    code = "InvalidAccessKeyId.Inactive"
    http_status = 400
    default_message = "Specified access key is disabled."


class IncompleteSignature(GatewayError):
    code = "IncompleteSignature"
    http_status = 400
    default_message = "The request signature does not conform to Aliyun standards."


class InvalidSignatureMethod(GatewayError):
    """An algorithm other than the two this server verifies (ACS3-HMAC-SHA256, HMAC-SHA1)."""

    code = "InvalidSignatureMethod"
    http_status = 400
    default_message = "Specified signature method is not valid."


class SignatureDoesNotMatch(GatewayError):
    """The message must contain a ':' followed by the server's string to sign: the old Python
    SDK does `Message.split(':')[1]` and crashes without it (ALIBABA-API 3.3)."""

    code = "SignatureDoesNotMatch"
    http_status = 400
    default_message = ("Specified signature does not match our calculation. server string to "
                       "sign is:")

    @classmethod
    def for_string_to_sign(cls, string_to_sign: str) -> SignatureDoesNotMatch:
        """The client gets the string to sign; the trail does not (an RPC string to sign
        holds the SecurityToken, and the trail keeps the request's parameters anyway)."""
        return cls(f"Specified signature does not match our calculation. "
                   f"server string to sign is:{string_to_sign}",
                   trail_message="Specified signature does not match our calculation.")


class InvalidTimeStampFormat(GatewayError):
    code = "InvalidTimeStamp.Format"
    http_status = 400
    default_message = "Specified time stamp or date value is not well formatted."


class InvalidTimeStampExpired(GatewayError):
    code = "InvalidTimeStamp.Expired"
    http_status = 400
    default_message = "Specified time stamp or date value is expired."


class SignatureNonceUsed(GatewayError):
    code = "SignatureNonceUsed"
    http_status = 400
    default_message = "Specified signature nonce was used already."


class InvalidSecurityTokenExpired(GatewayError):
    code = "InvalidSecurityToken.Expired"
    http_status = 400
    default_message = "Specified SecurityToken is expired."


class InvalidSecurityTokenMismatch(GatewayError):
    code = "InvalidSecurityToken.MismatchWithAccessKey"
    http_status = 400
    default_message = "Specified SecurityToken mismatch with the AccessKey."


class InvalidSecurityTokenMalformed(GatewayError):
    code = "InvalidSecurityToken.Malformed"
    http_status = 400
    default_message = "Specified SecurityToken is malformed."


class ForbiddenRam(GatewayError):
    """`Forbidden.RAM`: the gateway's refusal [doc: client error codes]; RAM and STS
    themselves answer `NoPermission`."""

    code = "Forbidden.RAM"
    http_status = 403
    default_message = ("User not authorized to operate on the specified resource, or this API "
                       "doesn't support RAM.")


class NoPermission(GatewayError):
    code = "NoPermission"
    http_status = 403
    default_message = "You are not authorized to do this action. You should be authorized by RAM."


class InternalError(GatewayError):
    code = "InternalError"
    http_status = 500
    default_message = "The request processing has failed due to some unknown error."


class ServiceUnavailable(GatewayError):
    code = "ServiceUnavailable"
    http_status = 503
    default_message = "The request has failed due to a temporary failure of the server."
