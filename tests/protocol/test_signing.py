"""ACS3-HMAC-SHA256 and RPC V1 HMAC-SHA1 verification: every applicable shared vector, the
vectors quoted in ALIBABA-API 2.7, tampering, and the official SDK signers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from ramparts.core.errors import ServiceError
from ramparts.protocol.errors import trail_message
from ramparts.protocol.signing import (
    ACS3,
    RPC,
    SignedIdentity,
    canonical_request_acs3,
    check_timestamp,
    percent_encode,
    read_signature,
    sign_acs3,
    sign_rpc,
    string_to_sign_acs3,
    string_to_sign_rpc,
    verify_signature,
)
from ramparts.protocol.wire import WireRequest

# ---- the shared corpus (/work/shared/corpus/signatures/vectors.json)

RPC_VECTORS = (
    "rpc-ram-doc-createuser", "rpc-sts-doc-assumerole", "rpc-ims-doc-createuser",
    "rpc-ecs-describeregions", "rpc-openapi-util-body-query", "rpc-openapi-util-empty-method",
    "rpc-pysdk-core-accesskey-signer", "rpc-pysdk-core-composer",
)
ACS3_VECTORS = (
    "v3-doc-runinstances", "v3-openapi-util-python", "v3-openapi-util-go",
    "v3-openapi-util-java", "v3-openapi-util-php", "v3-openapi-util-php-noquery",
)
PAYLOAD_HASH_VECTORS = ("hash-sha256-test",)
# Vectors that do not exercise either served scheme, and why.
NOT_APPLICABLE = {
    "hmac-sha1-ascii": "raw-key HMAC-SHA1; RPC V1 always keys with secret + '&'",
    "hmac-sha1-utf8": "raw-key HMAC-SHA1; RPC V1 always keys with secret + '&'",
    "roa-pysdk-core-get-signature": "ROA V1 is not served",
    "roa-openapi-util-empty-request": "ROA V1 is not served",
    "roa-openapi-util-literal": "ROA V1 is not served",
    "roa-openapi-util-java-null-pathname": "ROA V1 is not served",
    "hash-sm3-test": "ACS3-HMAC-SM3 is not served",
    "hmac-sm3-source": "ACS3-HMAC-SM3 is not served",
    "hmac-sm3-empty-message": "ACS3-HMAC-SM3 is not served",
}
# RPC vectors carrying every common parameter, so read_signature accepts them as sent.
COMPLETE_RPC_VECTORS = (
    "rpc-ram-doc-createuser", "rpc-sts-doc-assumerole", "rpc-ims-doc-createuser",
    "rpc-pysdk-core-accesskey-signer",
)
# The darabonba-openapi-util tests give their inputs in code, not in the vector: the query
# {"test": "ok", "empty": ""}, a header sent as x-acs-test: http and x-acs-TEST: https (which a
# server receives joined, "http,https"; the Java and PHP clients keep one value), and the
# method GET or "" (vector notes).
UTIL_QUERY = (("test", "ok"), ("empty", ""))
V3_UTIL_INPUTS: dict[str, tuple[str, tuple[tuple[str, str], ...], str]] = {
    "v3-openapi-util-python": ("GET", UTIL_QUERY, "http,https"),
    "v3-openapi-util-go": ("", UTIL_QUERY, "http,https"),
    "v3-openapi-util-java": ("GET", UTIL_QUERY, "http"),
    "v3-openapi-util-php": ("", UTIL_QUERY, "https"),
    "v3-openapi-util-php-noquery": ("", (), "https"),
}


@pytest.fixture(scope="module")
def vectors(corpus: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((corpus / "signatures" / "vectors.json").read_text(encoding="utf-8"))
    return {vector["id"]: vector for vector in data["vectors"]}


def test_every_corpus_vector_is_run_or_excluded_for_a_reason(
        vectors: dict[str, dict[str, Any]]) -> None:
    listed = [*RPC_VECTORS, *ACS3_VECTORS, *PAYLOAD_HASH_VECTORS, *NOT_APPLICABLE]
    assert sorted(listed) == sorted(vectors), "classify new vectors in this module"
    for vector_id, vector in vectors.items():
        served_rpc = vector["style"] == "RPC" and vector["algorithm"] == "HMAC-SHA1"
        served_acs3 = vector["style"] == "V3" and vector["algorithm"] == ACS3
        assert served_rpc == (vector_id in RPC_VECTORS)
        assert served_acs3 == (vector_id in ACS3_VECTORS)


@pytest.mark.parametrize("vector_id", RPC_VECTORS)
def test_rpc_corpus_vector(vectors: dict[str, dict[str, Any]], vector_id: str) -> None:
    vector = vectors[vector_id]
    params = list(vector["params"].items())
    secret = vector["access_key_secret"]
    assert vector["hmac_key"] == secret + "&"
    string_to_sign = string_to_sign_rpc(vector["http_method"], params)
    assert string_to_sign == vector["string_to_sign"]
    assert sign_rpc(string_to_sign, secret) == vector["expected_signature"]
    # The whole server path: the signature arrives as a query parameter.
    request = WireRequest(vector["http_method"], "/",
                          [*params, ("Signature", vector["expected_signature"])], {})
    identity = SignedIdentity(RPC, vector["params"].get("AccessKeyId", ""), None, "n",
                              datetime(2026, 1, 1, tzinfo=UTC))
    verify_signature(request, [], identity, secret)
    with pytest.raises(ServiceError) as raised:
        verify_signature(request, [], identity, secret + "x")
    assert raised.value.error_code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("vector_id", COMPLETE_RPC_VECTORS)
def test_rpc_corpus_vector_reads_and_verifies(vectors: dict[str, dict[str, Any]],
                                              vector_id: str) -> None:
    vector = vectors[vector_id]
    params = vector["params"]
    request = WireRequest(vector["http_method"], "/",
                          [*params.items(), ("Signature", vector["expected_signature"])], {})
    identity = read_signature(request, [])
    assert identity.scheme == RPC
    assert identity.access_key_id == params["AccessKeyId"]
    assert identity.nonce == params["SignatureNonce"]
    assert identity.timestamp == datetime.fromisoformat(params["Timestamp"])
    assert identity.security_token is None
    verify_signature(request, [], identity, vector["access_key_secret"])


def _v3_vector_request(vector: Mapping[str, Any]) -> WireRequest:
    if vector["id"] in V3_UTIL_INPUTS:
        method, query, header = V3_UTIL_INPUTS[vector["id"]]
        return WireRequest(method, "/", list(query), {"x-acs-test": header})
    return WireRequest(vector["http_method"], vector["canonical_uri"],
                       list(vector["query"].items()), dict(vector["headers"]),
                       vector["body"].encode("utf-8"))


def _authorization_fields(authorization: str) -> dict[str, str]:
    _, _, rest = authorization.partition(" ")
    return dict(part.split("=", 1) for part in rest.split(","))


@pytest.mark.parametrize("vector_id", ACS3_VECTORS)
def test_acs3_corpus_vector(vectors: dict[str, dict[str, Any]], vector_id: str) -> None:
    vector = vectors[vector_id]
    request = _v3_vector_request(vector)
    signed = _authorization_fields(vector["expected_authorization"])["SignedHeaders"].split(";")
    payload = vector.get("hashed_payload")
    canonical = canonical_request_acs3(request, signed, hashed_payload=payload)
    assert canonical == vector["canonical_request"]
    assert hashlib.sha256(canonical.encode()).hexdigest() == vector["hashed_canonical_request"]
    string_to_sign = string_to_sign_acs3(request, signed, hashed_payload=payload)
    assert string_to_sign == vector["string_to_sign"]
    signature = sign_acs3(string_to_sign, vector["access_key_secret"])
    assert signature == vector["expected_signature"]
    assert (f"{ACS3} Credential={vector['access_key_id']},SignedHeaders={';'.join(signed)},"
            f"Signature={signature}") == vector["expected_authorization"]


def test_acs3_doc_vector_through_the_server_path(vectors: dict[str, dict[str, Any]]) -> None:
    vector = vectors["v3-doc-runinstances"]
    request = _with_header(_v3_vector_request(vector), "authorization",
                           vector["expected_authorization"])
    identity = read_signature(request, [])
    assert identity.access_key_id == "YourAccessKeyId"
    assert identity.nonce == vector["headers"]["x-acs-signature-nonce"]
    verify_signature(request, [], identity, vector["access_key_secret"])


@pytest.mark.parametrize("vector_id", PAYLOAD_HASH_VECTORS)
def test_payload_hash_vector(vectors: dict[str, dict[str, Any]], vector_id: str) -> None:
    """x-acs-content-sha256 is checked against the body: a correct hash passes that check (and
    then fails on the signature, which the vector does not give), a wrong one is named."""
    vector = vectors[vector_id]
    base = _acs3_form_request()
    body = vector["message"].encode("utf-8")
    request = dataclasses.replace(base, body=body)
    identity = read_signature(_with_header(request, "x-acs-content-sha256",
                                           vector["expected_hex"]), [])
    with pytest.raises(ServiceError) as raised:
        verify_signature(_with_header(request, "x-acs-content-sha256", vector["expected_hex"]),
                         [], identity, "testSecret")
    assert "server string to sign is:" in raised.value.message
    with pytest.raises(ServiceError) as raised:
        verify_signature(_with_header(request, "x-acs-content-sha256", "0" * 64), [], identity,
                         "testSecret")
    assert "x-acs-content-sha256" in raised.value.message


# ---- the vectors quoted in ALIBABA-API 2.7

DOC_RPC_VECTORS: list[dict[str, Any]] = [
    {   # [doc: Request syntax and signature method V2 for RPC APIs]
        "id": "rpc-doc-describededicatedhosts",
        "method": "GET",
        "query": [("AccessKeyId", "testid"), ("Action", "DescribeDedicatedHosts"),
                  ("Format", "JSON"), ("RegionId", "cn-beijing"),
                  ("SignatureMethod", "HMAC-SHA1"),
                  ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
                  ("SignatureVersion", "1.0"), ("Timestamp", "2023-03-13T08:34:30Z"),
                  ("Version", "2014-05-26")],
        "body": b"",
        "secret": "testsecret",
        "string_to_sign": "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26"
                          "Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26"
                          "SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D"
                          "1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26",
        "signature": "9NaGiOspFP5UPcwX8Iwt2YJXXuk=",
    },
    {   # captured: KMS CreateSecret, SecretData in the form body (signed with the query)
        "id": "rpc-captured-createsecret-form-body",
        "method": "POST",
        "query": [("AccessKeyId", "testAK"), ("Action", "CreateSecret"),
                  ("EncryptionKeyId", "key-abc"),
                  ("ExtendedConfig", '{"CustomData":{"k":"v"}}'), ("Format", "json"),
                  ("SecretDataType", "text"), ("SecretName", "s1"),
                  ("SignatureMethod", "HMAC-SHA1"),
                  ("SignatureNonce", "55c64139b1fb4a1d4b157f5072dbd3cc"),
                  ("SignatureVersion", "1.0"), ("Timestamp", "2026-11-28T07:13:49Z"),
                  ("Version", "2016-01-20"), ("VersionId", "v1")],
        "body": b"SecretData=hunter2+%26%3D%2B%25",
        "secret": "testSecret",
        "string_to_sign": "POST&%2F&AccessKeyId%3DtestAK%26Action%3DCreateSecret%26"
                          "EncryptionKeyId%3Dkey-abc%26ExtendedConfig%3D%257B%2522CustomData%2522"
                          "%253A%257B%2522k%2522%253A%2522v%2522%257D%257D%26Format%3Djson%26"
                          "SecretData%3Dhunter2%2520%2526%253D%252B%2525%26SecretDataType%3Dtext"
                          "%26SecretName%3Ds1%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D"
                          "55c64139b1fb4a1d4b157f5072dbd3cc%26SignatureVersion%3D1.0%26Timestamp"
                          "%3D2026-11-28T07%253A13%253A49Z%26Version%3D2016-01-20%26VersionId%3Dv1",
        "signature": "ds62iz47SUF0VZo+cTrJJslcGD8=",
    },
]

FORM = "application/x-www-form-urlencoded"
ACS3_FORM_BODY = b"SecretData=hunter2+%26%3D%2B%25"
DOC_ACS3_VECTORS: list[dict[str, Any]] = [
    {   # [doc: V3 request structure and signature]
        "id": "acs3-doc-runinstances",
        "raw_query": "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"
                     "&RegionId=cn-shanghai",
        "headers": {
            "host": "ecs.cn-shanghai.aliyuncs.com",
            "x-acs-action": "RunInstances",
            "x-acs-content-sha256":
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "x-acs-date": "2023-10-26T10:22:32Z",
            "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
            "x-acs-version": "2014-05-26",
        },
        "body": b"",
        "access_key_id": "YourAccessKeyId",
        "secret": "YourAccessKeySecret",
        "hashed_canonical_request":
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259",
        "signature": "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
    },
    {   # captured: KMS CreateSecret, every header signed, SecretData in the hashed body
        "id": "acs3-captured-createsecret-form-body",
        "raw_query": "EncryptionKeyId=key-abc&ExtendedConfig=%7B%22CustomData%22%3A%7B%22k%22%3A"
                     "%22v%22%7D%7D&SecretDataType=text&SecretName=s1&VersionId=v1",
        "headers": {
            "accept": "application/json",
            "content-type": FORM,
            "host": "127.0.0.1:18080",
            "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
            "x-acs-action": "CreateSecret",
            "x-acs-content-sha256":
                "5494a31989a980de83e1ade304c04a559bd07fe0615e9e674b27db1406f1c5fc",
            "x-acs-credentials-provider": "static_ak",
            "x-acs-date": "2026-11-28T07:13:48Z",
            "x-acs-signature-nonce": "4b1db635069afeed3fb4a72aa9266d8e",
            "x-acs-version": "2016-01-20",
        },
        "body": ACS3_FORM_BODY,
        "access_key_id": "testAK",
        "secret": "testSecret",
        "hashed_canonical_request":
            "2e1fdc1c923e22369bd0afd338b7a98ca4e724dc6e65d90434e0bc7abccdb775",
        "signature": "27e8c9f1edbe2b95ce1a90670401d43ccde15085f8e05768336aa75fd3113c4d",
    },
]


def _form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


@pytest.mark.parametrize("vector", DOC_RPC_VECTORS, ids=lambda v: v["id"])
def test_rpc_doc_vector(vector: dict[str, Any]) -> None:
    form = _form(vector["body"])
    string_to_sign = string_to_sign_rpc(vector["method"], [*vector["query"], *form])
    assert string_to_sign == vector["string_to_sign"]
    assert sign_rpc(string_to_sign, vector["secret"]) == vector["signature"]
    headers = {"content-type": FORM} if vector["body"] else {}
    request = WireRequest(vector["method"], "/", [*vector["query"],
                                                  ("Signature", vector["signature"])],
                          headers, vector["body"])
    identity = read_signature(request, form)
    verify_signature(request, form, identity, vector["secret"])


def test_rpc_form_vector_with_every_parameter_in_the_body() -> None:
    """Older product SDKs send everything as a form body; the same signature holds."""
    vector = DOC_RPC_VECTORS[1]
    pairs = [*vector["query"], *_form(vector["body"]), ("Signature", vector["signature"])]
    body = urlencode(pairs).encode()
    request = WireRequest("POST", "/", [], {"content-type": FORM}, body)
    form = _form(body)
    identity = read_signature(request, form)
    verify_signature(request, form, identity, vector["secret"])


def _acs3_doc_request(vector: Mapping[str, Any]) -> WireRequest:
    signed = ";".join(sorted(vector["headers"]))
    authorization = (f"{ACS3} Credential={vector['access_key_id']},SignedHeaders={signed},"
                     f"Signature={vector['signature']}")
    return WireRequest("POST", "/", parse_qsl(vector["raw_query"], keep_blank_values=True),
                       {**vector["headers"], "authorization": authorization}, vector["body"],
                       raw_query=vector["raw_query"])


@pytest.mark.parametrize("vector", DOC_ACS3_VECTORS, ids=lambda v: v["id"])
def test_acs3_doc_vector(vector: dict[str, Any]) -> None:
    request = _acs3_doc_request(vector)
    assert hashlib.sha256(request.body).hexdigest() == vector["headers"]["x-acs-content-sha256"]
    signed = sorted(vector["headers"])
    canonical = canonical_request_acs3(request, signed)
    assert hashlib.sha256(canonical.encode()).hexdigest() == vector["hashed_canonical_request"]
    string_to_sign = string_to_sign_acs3(request, signed)
    assert string_to_sign == f"{ACS3}\n{vector['hashed_canonical_request']}"
    assert sign_acs3(string_to_sign, vector["secret"]) == vector["signature"]
    form = _form(vector["body"]) if vector["body"] else []
    identity = read_signature(request, form)
    assert identity.scheme == ACS3
    assert identity.signed_headers == tuple(signed)
    verify_signature(request, form, identity, vector["secret"])


# ---- tampering, on the captured (valid) requests

NOW = datetime(2026, 11, 28, 7, 13, 48, tzinfo=UTC)
CAPTURED_SECRET = "testSecret"  # the captured vectors' secret (ALIBABA-API 2.7)


def _with_header(request: WireRequest, name: str, value: str | None) -> WireRequest:
    headers = {k: v for k, v in request.headers.items() if k != name}
    if value is not None:
        headers[name] = value
    return dataclasses.replace(request, headers=headers)


def _acs3_form_request() -> WireRequest:
    return _acs3_doc_request(DOC_ACS3_VECTORS[1])


def _rpc_form_request() -> tuple[WireRequest, list[tuple[str, str]]]:
    vector = DOC_RPC_VECTORS[1]
    request = WireRequest("POST", "/", [*vector["query"], ("Signature", vector["signature"])],
                          {"content-type": FORM}, vector["body"])
    return request, _form(vector["body"])


def _verify(request: WireRequest, form: list[tuple[str, str]] | None = None,
            secret: str = CAPTURED_SECRET) -> None:
    form = _form(request.body) if form is None and request.body else (form or [])
    verify_signature(request, form, read_signature(request, form), secret)


def _refused(request: WireRequest, form: list[tuple[str, str]] | None = None,
             secret: str = CAPTURED_SECRET) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        _verify(request, form, secret)
    return raised.value


def test_the_captured_requests_verify() -> None:
    _verify(_acs3_form_request())
    request, form = _rpc_form_request()
    _verify(request, form)


def _replace_query(query: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == name else v) for k, v in query]


def test_acs3_changed_query_parameter_is_refused_with_the_string_to_sign() -> None:
    base = _acs3_form_request()
    tampered = dataclasses.replace(base, query=_replace_query(list(base.query), "SecretName",
                                                              "s2"))
    error = _refused(tampered)
    assert error.error_code == "SignatureDoesNotMatch"
    assert error.http_status == 400
    expected = string_to_sign_acs3(tampered, sorted(DOC_ACS3_VECTORS[1]["headers"]))
    assert error.message == ("Specified signature does not match our calculation. server "
                             f"string to sign is:{expected}")
    # aliyun-python-sdk-core reads the part after the first ':' (ALIBABA-API 3.3).
    assert error.message.split(":")[1] == expected
    assert "testSecret" not in error.message


@pytest.mark.parametrize(("header", "value"), [
    ("x-acs-action", "DeleteSecret"),
    ("user-agent", "curl/8"),
    ("host", "127.0.0.1:18081"),
    ("x-acs-signature-nonce", "4b1db635069afeed3fb4a72aa9266d8f"),
])
def test_acs3_changed_signed_header_is_refused(header: str, value: str) -> None:
    error = _refused(_with_header(_acs3_form_request(), header, value))
    assert error.error_code == "SignatureDoesNotMatch"


def test_acs3_unsigned_headers_may_be_added() -> None:
    request = _with_header(_acs3_form_request(), "accept-encoding", "identity")
    _verify(_with_header(request, "content-length", str(len(ACS3_FORM_BODY))))


def test_acs3_changed_body_is_refused_as_a_payload_mismatch() -> None:
    tampered = dataclasses.replace(_acs3_form_request(), body=b"SecretData=hunter3")
    error = _refused(tampered)
    assert error.error_code == "SignatureDoesNotMatch"
    assert "x-acs-content-sha256" in error.message
    assert error.message.split(":")[1] == hashlib.sha256(b"SecretData=hunter3").hexdigest()
    # A hash of a body holding a secret is no business of the trail.
    assert hashlib.sha256(b"SecretData=hunter3").hexdigest() not in trail_message(error)


def test_acs3_changed_body_with_matching_hash_header_is_refused() -> None:
    body = b"SecretData=hunter3"
    tampered = _with_header(dataclasses.replace(_acs3_form_request(), body=body),
                            "x-acs-content-sha256", hashlib.sha256(body).hexdigest())
    error = _refused(tampered)
    assert error.error_code == "SignatureDoesNotMatch"
    assert "server string to sign is:" in error.message


def test_wrong_secret_is_refused_without_revealing_either_secret() -> None:
    for request, form in ((_acs3_form_request(), None), _rpc_form_request()):
        error = _refused(request, form, secret="not-the-secret")
        assert error.error_code == "SignatureDoesNotMatch"
        assert "not-the-secret" not in error.message
        assert "testSecret" not in error.message


def test_rpc_changed_query_parameter_is_refused() -> None:
    request, form = _rpc_form_request()
    tampered = dataclasses.replace(request, query=_replace_query(list(request.query),
                                                                 "SecretName", "s2"))
    error = _refused(tampered, form)
    assert error.error_code == "SignatureDoesNotMatch"
    assert error.message.split(":")[1].startswith("POST&%2F&AccessKeyId%3DtestAK")


def test_rpc_changed_form_parameter_is_refused() -> None:
    request, _ = _rpc_form_request()
    error = _refused(dataclasses.replace(request, body=b"SecretData=other"),
                     [("SecretData", "other")])
    assert error.error_code == "SignatureDoesNotMatch"


def test_rpc_method_is_signed() -> None:
    request, form = _rpc_form_request()
    assert _refused(dataclasses.replace(request, method="GET"), form).error_code == \
        "SignatureDoesNotMatch"


def test_rpc_added_security_token_is_refused() -> None:
    request, form = _rpc_form_request()
    tampered = dataclasses.replace(request, query=[*request.query, ("SecurityToken", "t")])
    assert _refused(tampered, form).error_code == "SignatureDoesNotMatch"


def test_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    request, form = _rpc_form_request()
    tampered = dataclasses.replace(request,
                                   query=_replace_query(list(request.query), "Signature", "é"))
    assert _refused(tampered, form).error_code == "SignatureDoesNotMatch"


def _authorization(request: WireRequest) -> str:
    return request.header("authorization") or ""


def test_acs3_required_header_left_unsigned_is_incomplete() -> None:
    base = _acs3_form_request()
    signed = [h for h in sorted(DOC_ACS3_VECTORS[1]["headers"]) if h != "x-acs-date"]
    authorization = _authorization(base).replace(
        _authorization_fields(_authorization(base))["SignedHeaders"], ";".join(signed))
    with pytest.raises(ServiceError) as raised:
        read_signature(_with_header(base, "authorization", authorization), _form(base.body))
    assert raised.value.error_code == "IncompleteSignature"
    assert "x-acs-date" in raised.value.message


def test_acs3_signed_header_missing_from_the_request_is_incomplete() -> None:
    base = _with_header(_acs3_form_request(), "user-agent", None)
    with pytest.raises(ServiceError) as raised:
        read_signature(base, _form(base.body))
    assert raised.value.error_code == "IncompleteSignature"
    assert "user-agent" in raised.value.message


@pytest.mark.parametrize("skew", [timedelta(0), timedelta(minutes=15), -timedelta(minutes=15)])
def test_timestamp_inside_the_window_is_accepted(skew: timedelta) -> None:
    identity = read_signature(_acs3_form_request(), [])
    check_timestamp(identity, NOW + skew)


@pytest.mark.parametrize("skew", [timedelta(minutes=15, seconds=1),
                                  -timedelta(minutes=15, seconds=1), timedelta(days=400)])
def test_timestamp_outside_the_window_is_expired(skew: timedelta) -> None:
    """Both ways: a request from the past, and one dated in the future."""
    identity = read_signature(_acs3_form_request(), [])
    with pytest.raises(ServiceError) as raised:
        check_timestamp(identity, NOW + skew)
    assert raised.value.error_code == "InvalidTimeStamp.Expired"
    assert raised.value.http_status == 400


def test_timestamp_window_is_configurable() -> None:
    request, form = _rpc_form_request()
    identity = read_signature(request, form)
    check_timestamp(identity, identity.timestamp + timedelta(minutes=30),
                    window=timedelta(minutes=31))
    with pytest.raises(ServiceError):
        check_timestamp(identity, identity.timestamp + timedelta(minutes=2),
                        window=timedelta(minutes=1))


def _signed_acs3(host: str, *, token: str | None = None) -> WireRequest:
    """Client side, with the pure helpers (the vectors above pin them)."""
    headers = {
        "host": host, "x-acs-action": "CreateUser", "x-acs-version": "2015-05-01",
        "x-acs-date": "2026-11-28T07:13:48Z", "x-acs-signature-nonce": "abc",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    if token is not None:
        headers["x-acs-security-token"] = token
        headers["x-acs-accesskey-id"] = "STS.key"
    request = WireRequest("POST", "/", [("UserName", "a")], headers)
    signed = sorted(headers)
    signature = sign_acs3(string_to_sign_acs3(request, signed), "sk")
    ak = "STS.key" if token is not None else "LTAIkey"
    return _with_header(request, "authorization",
                        f"{ACS3} Credential={ak},SignedHeaders={';'.join(signed)},"
                        f"Signature={signature}")


def test_host_with_scheme_is_signed_as_sent() -> None:
    """Endpoints configured as `http://127.0.0.1:PORT` make the SDK send that Host literally
    (ALIBABA-API 1.1)."""
    request = _signed_acs3("http://127.0.0.1:18080")
    _verify(request, [], secret="sk")
    stripped = _with_header(request, "host", "127.0.0.1:18080")
    assert _refused(stripped, [], secret="sk").error_code == "SignatureDoesNotMatch"


def test_acs3_security_token_is_read_from_its_header() -> None:
    request = _signed_acs3("127.0.0.1:1", token="tok")
    identity = read_signature(request, [])
    assert identity.access_key_id == "STS.key"
    assert identity.security_token == "tok"
    verify_signature(request, [], identity, "sk")


def test_rpc_security_token_is_read_from_its_parameter() -> None:
    params = [("AccessKeyId", "STS.key"), ("Action", "GetCallerIdentity"),
              ("SecurityToken", "tok"), ("SignatureMethod", "HMAC-SHA1"),
              ("SignatureNonce", "n1"), ("SignatureVersion", "1.0"),
              ("Timestamp", "2026-11-28T07:13:48Z"), ("Version", "2015-04-01")]
    signature = sign_rpc(string_to_sign_rpc("POST", params), "sk")
    request = WireRequest("POST", "/", [*params, ("Signature", signature)], {})
    identity = read_signature(request, [])
    assert (identity.access_key_id, identity.security_token) == ("STS.key", "tok")
    verify_signature(request, [], identity, "sk")


# ---- reading claims: what is refused before any secret is looked up

def _acs3_auth(**fields: str) -> str:
    base = _authorization_fields(_authorization(_acs3_form_request()))
    base.update(fields)
    return f"{ACS3} " + ",".join(f"{k}={v}" for k, v in base.items() if v != "-")


def _rpc_params(**changes: str) -> list[tuple[str, str]]:
    request, _ = _rpc_form_request()
    params = [(k, changes.get(k, v)) for k, v in request.query]
    return [(k, v) for k, v in params if v != "-"]


READ_FAILURES: list[tuple[str, WireRequest, str]] = [
    ("anonymous", WireRequest("POST", "/", [], {}), "IncompleteSignature"),
    ("rpc without Signature", WireRequest("POST", "/", [("AccessKeyId", "a")], {}),
     "MissingSignature"),
    ("acs3 sm3", _with_header(_acs3_form_request(), "authorization",
                              "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=b"),
     "InvalidSignatureMethod"),
    ("acs4", _with_header(_acs3_form_request(), "authorization",
                          "ACS4-HMAC-SHA256 Credential=a/b,SignedHeaders=host,Signature=b"),
     "InvalidSignatureMethod"),
    ("roa", _with_header(WireRequest("POST", "/", [], {}), "authorization", "acs ak:sig"),
     "InvalidSignatureMethod"),
    ("acs3 without Signature",
     _with_header(_acs3_form_request(), "authorization", _acs3_auth(Signature="-")),
     "IncompleteSignature"),
    ("acs3 empty Credential",
     _with_header(_acs3_form_request(), "authorization", _acs3_auth(Credential="")),
     "IncompleteSignature"),
    ("acs3 part without =",
     _with_header(_acs3_form_request(), "authorization", f"{ACS3} Credential"),
     "IncompleteSignature"),
    ("acs3 repeated signed header",
     _with_header(_acs3_form_request(), "authorization",
                  _acs3_auth(SignedHeaders="host;host;x-acs-action")),
     "IncompleteSignature"),
    ("acs3 content-type unsigned with a body",
     _with_header(_acs3_form_request(), "authorization", _acs3_auth(
         SignedHeaders="host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                       "x-acs-signature-nonce;x-acs-version")),
     "IncompleteSignature"),
    ("acs3 bad date", _with_header(_acs3_form_request(), "x-acs-date", "2026-11-28 07:13:48"),
     "InvalidTimeStamp.Format"),
    ("acs3 impossible date",
     _with_header(_acs3_form_request(), "x-acs-date", "2026-02-30T07:13:48Z"),
     "InvalidTimeStamp.Format"),
    ("acs3 empty nonce", _with_header(_acs3_form_request(), "x-acs-signature-nonce", " "),
     "IncompleteSignature"),
    ("acs3 NUL nonce", _with_header(_acs3_form_request(), "x-acs-signature-nonce", "a\x00"),
     "InvalidParameter.x-acs-signature-nonce"),
    ("acs3 overlong nonce",
     _with_header(_acs3_form_request(), "x-acs-signature-nonce", "n" * 257),
     "InvalidParameter.x-acs-signature-nonce"),
    ("acs3 unsigned security token",
     _with_header(_acs3_form_request(), "x-acs-security-token", "tok"), "IncompleteSignature"),
    ("acs3 accesskey-id differs from Credential",
     _with_header(_acs3_form_request(), "x-acs-accesskey-id", "other"), "IncompleteSignature"),
    *[(f"rpc missing {name}", WireRequest("POST", "/", _rpc_params(**{name: "-"}), {}),
       f"Missing{name}")
      for name in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce",
                   "Timestamp", "Action", "Version")],
    ("rpc empty AccessKeyId", WireRequest("POST", "/", _rpc_params(AccessKeyId=""), {}),
     "MissingAccessKeyId"),
    ("rpc HMAC-SHA256", WireRequest("POST", "/", _rpc_params(SignatureMethod="HMAC-SHA256"), {}),
     "InvalidSignatureMethod"),
    ("rpc version 2.0", WireRequest("POST", "/", _rpc_params(SignatureVersion="2.0"), {}),
     "InvalidSignatureVersion"),
    ("rpc bad timestamp", WireRequest("POST", "/", _rpc_params(Timestamp="1700000000"), {}),
     "InvalidTimeStamp.Format"),
    ("rpc overlong nonce",
     WireRequest("POST", "/", _rpc_params(SignatureNonce="n" * 257), {}),
     "InvalidParameter.SignatureNonce"),
    ("rpc two AccessKeyIds",
     WireRequest("POST", "/", [*_rpc_params(), ("AccessKeyId", "other")], {}),
     "InvalidParameter.AccessKeyId"),
]


@pytest.mark.parametrize(("request_", "code"), [(r, c) for _, r, c in READ_FAILURES],
                         ids=[name for name, _, _ in READ_FAILURES])
def test_read_signature_refuses(request_: WireRequest, code: str) -> None:
    with pytest.raises(ServiceError) as raised:
        read_signature(request_, _form(request_.body) if request_.body else [])
    assert raised.value.error_code == code
    assert raised.value.http_status == 400


def test_acs3_wins_over_a_stray_signature_parameter() -> None:
    base = _acs3_form_request()
    request = dataclasses.replace(base, query=[*base.query, ("Signature", "x")])
    assert read_signature(request, _form(base.body)).scheme == ACS3


def test_percent_encode_follows_rfc_3986() -> None:
    assert percent_encode("a b*c~d-_.") == "a%20b%2Ac~d-_."
    assert percent_encode("/:+&=%") == "%2F%3A%2B%26%3D%25"
    assert percent_encode("中") == "%E4%B8%AD"
    with pytest.raises(ServiceError) as raised:
        percent_encode("\ud800")  # a lone surrogate has no UTF-8 form
    assert raised.value.error_code == "InvalidParameter"


def test_rpc_keeps_empty_values_and_drops_only_the_signature() -> None:
    assert string_to_sign_rpc("POST", [("SignatureType", ""), ("A", "1")]) == \
        "POST&%2F&A%3D1%26SignatureType%3D"


# ---- round trips through the official SDK signers (offline: signing functions only)

TRICKY = (("Comments", "a b*c~d+e&f=g/h%i"), ("DisplayName", "中文"), ("Empty", ""),
          ("Tag.1.Key", "k"))


def test_round_trip_tea_openapi_acs3_signer() -> None:
    utils = pytest.importorskip("alibabacloud_tea_openapi.utils")
    body = urlencode({"SecretData": "hunter2 &=+%"}).encode()
    headers = {
        "host": "http://127.0.0.1:18080", "x-acs-version": "2016-01-20",
        "x-acs-action": "CreateSecret", "user-agent": "AlibabaCloud Python/3.11 TeaDSL/2",
        "x-acs-date": "2026-11-28T07:13:48Z", "x-acs-signature-nonce": "0123456789abcdef",
        "accept": "application/json", "content-type": FORM,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    sdk_request = SimpleNamespace(pathname="/", method="POST", query=dict(TRICKY),
                                  headers=dict(headers))
    authorization = utils.Utils.get_authorization(
        sdk_request, ACS3, headers["x-acs-content-sha256"], "LTAIkey", "s3cr3t")
    # On the wire the query is urlencoded; the HTTP layer decodes it (`+` is a space).
    query = parse_qsl(urlencode(TRICKY), keep_blank_values=True)
    request = WireRequest("POST", "/", query, {**headers, "authorization": authorization}, body)
    _verify(request, secret="s3cr3t")
    assert _refused(request, secret="s3cr3t-").error_code == "SignatureDoesNotMatch"


def test_round_trip_tea_openapi_rpc_signer() -> None:
    utils = pytest.importorskip("alibabacloud_tea_openapi.utils")
    params = {**dict(TRICKY), "AccessKeyId": "LTAIkey", "Action": "CreateUser",
              "Format": "json", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "0123456789abcdef", "SignatureVersion": "1.0",
              "Timestamp": "2026-11-28T07:13:48Z", "Version": "2015-05-01"}
    signature = utils.Utils.get_rpcsignature(params, "POST", "s3cr3t")
    query = parse_qsl(urlencode({**params, "Signature": signature}), keep_blank_values=True)
    _verify(WireRequest("POST", "/", query, {}), secret="s3cr3t")


def test_round_trip_aliyun_python_sdk_core_signer() -> None:
    composer = pytest.importorskip("aliyunsdkcore.auth.composer.rpc_signature_composer")
    body_params = {"SecretData": "hunter2 &=+%"}
    url, _ = composer.get_signed_url({**dict(TRICKY), "Action": "CreateSecret",
                                      "Version": "2016-01-20", "RegionId": "cn-hangzhou"},
                                     "LTAIkey", "s3cr3t", "JSON", "POST", body_params)
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    body = urlencode(body_params).encode()
    request = WireRequest("POST", "/", query, {"content-type": FORM}, body)
    _verify(request, secret="s3cr3t")
    assert _refused(dataclasses.replace(request, body=b"SecretData=x"),
                    secret="s3cr3t").error_code == "SignatureDoesNotMatch"
