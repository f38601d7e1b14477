"""The gateway's error table: one class per Alibaba code, with its HTTP status and message."""

from __future__ import annotations

import pytest

from ramparts.core.errors import ServiceError
from ramparts.protocol import errors

# (class, Code, HTTP status) [doc: OpenAPI client-side error codes], ALIBABA-API 3.4.
TABLE: list[tuple[type[errors.GatewayError], str, int]] = [
    (errors.InvalidApiNotFound, "InvalidApi.NotFound", 404),
    (errors.UnsupportedHTTPMethod, "UnsupportedHTTPMethod", 400),
    (errors.MissingParameter, "MissingParameter", 400),
    (errors.InvalidParameter, "InvalidParameter", 400),
    (errors.InvalidAccessKeyIdNotFound, "InvalidAccessKeyId.NotFound", 404),
    (errors.InvalidAccessKeyIdInactive, "InvalidAccessKeyId.Inactive", 400),
    (errors.IncompleteSignature, "IncompleteSignature", 400),
    (errors.InvalidSignatureMethod, "InvalidSignatureMethod", 400),
    (errors.SignatureDoesNotMatch, "SignatureDoesNotMatch", 400),
    (errors.InvalidTimeStampFormat, "InvalidTimeStamp.Format", 400),
    (errors.InvalidTimeStampExpired, "InvalidTimeStamp.Expired", 400),
    (errors.SignatureNonceUsed, "SignatureNonceUsed", 400),
    (errors.InvalidSecurityTokenExpired, "InvalidSecurityToken.Expired", 400),
    (errors.InvalidSecurityTokenMismatch, "InvalidSecurityToken.MismatchWithAccessKey", 400),
    (errors.InvalidSecurityTokenMalformed, "InvalidSecurityToken.Malformed", 400),
    (errors.ForbiddenRam, "Forbidden.RAM", 403),
    (errors.NoPermission, "NoPermission", 403),
    (errors.InternalError, "InternalError", 500),
    (errors.ServiceUnavailable, "ServiceUnavailable", 503),
]


def test_every_exported_error_is_in_the_table() -> None:
    exported = {getattr(errors, name) for name in errors.__all__} - {errors.GatewayError,
                                                                     errors.trail_message}
    assert exported == {cls for cls, _, _ in TABLE}


@pytest.mark.parametrize(("cls", "code", "status"), TABLE, ids=[c for _, c, _ in TABLE])
def test_code_status_and_default_message(cls: type[errors.GatewayError], code: str,
                                         status: int) -> None:
    error = cls()
    assert isinstance(error, ServiceError)
    assert (cls.code, cls.http_status) == (code, status)
    assert (error.error_code, error.http_status) == (code, status)
    assert error.message.endswith((".", ":"))
    assert cls("Custom text.").message == "Custom text."


def test_documented_messages() -> None:
    assert errors.SignatureNonceUsed().message == "Specified signature nonce was used already."
    assert errors.InvalidTimeStampExpired().message == \
        "Specified time stamp or date value is expired."
    assert errors.InvalidAccessKeyIdNotFound().message == "Specified access key is not found."


def test_families_name_the_parameter() -> None:
    missing = errors.MissingParameter.named("UserName")
    assert (missing.error_code, missing.message) == (
        "MissingUserName", "UserName is mandatory for this action.")
    invalid = errors.InvalidParameter.named("RoleArn")
    assert (invalid.error_code, invalid.message) == (
        "InvalidParameter.RoleArn", "Specified parameter RoleArn is not valid.")
    assert errors.InvalidParameter("x", code="InvalidSignatureVersion").error_code == \
        "InvalidSignatureVersion"


def test_signature_mismatch_message_survives_the_old_sdk_split() -> None:
    """aliyun-python-sdk-core does `Message.split(':')[1]` (ALIBABA-API 3.3)."""
    string_to_sign = "POST&%2F&AccessKeyId%3Dak"
    error = errors.SignatureDoesNotMatch.for_string_to_sign(string_to_sign)
    assert error.message.split(":")[1] == string_to_sign
    assert ":" in errors.SignatureDoesNotMatch().message


def test_the_trail_never_gets_the_string_to_sign() -> None:
    """An RPC string to sign quotes the SecurityToken; the client needs it, the trail not."""
    string_to_sign = "POST&%2F&SecurityToken%3DCAIStoken"
    error = errors.SignatureDoesNotMatch.for_string_to_sign(string_to_sign)
    assert string_to_sign in error.message
    assert "CAIS" not in errors.trail_message(error)
    assert errors.trail_message(errors.InvalidParameter("Plain.")) == "Plain."
    assert errors.trail_message(ServiceError("Not a gateway error.")) == "Not a gateway error."
