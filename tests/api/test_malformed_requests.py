"""Hand-built bad requests: each one is answered with a complete Alibaba error in JSON, with
the right status and code, and the server keeps serving signed calls afterwards."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import RpcRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.protocol.params import MAX_ROUTE_LENGTH
from ramparts.protocol.pipeline import MAX_BODY
from ramparts.protocol.signing import (
    MAX_NONCE_LENGTH,
    string_to_sign_acs3,
    string_to_sign_rpc,
)
from ramparts.protocol.wire import WireRequest
from ramparts.server.asgi import MAX_HEADERS, MAX_QUERY
from ramparts.testing import RunningServer
from tests.api.raw import FORM, Answer, Signer, encode_query, send, timestamp
from tests.api.sdk import SdkClients, policy_json

RAM, STS = "2015-05-01", "2015-04-01"
WHO = ("GetCallerIdentity", STS)
SCHEMES = ("acs3", "rpc")


@pytest.fixture(autouse=True)
def still_serving(server: RunningServer) -> Iterator[None]:
    """After every bad request, a signed call through the SDK still works."""
    yield
    identity = SdkClients.admin(server).sts.get_caller_identity().body
    assert identity.account_id == server.account_id


@pytest.fixture
def admin_signer(server: RunningServer) -> Signer:
    return Signer.admin(server)


def _call(signer: Signer, scheme: str, action: str, version: str,
          params: list[tuple[str, str]] | None = None, *, method: str = "POST",
          nonce: str | None = None, when: str | None = None) -> Answer:
    if scheme == "acs3":
        return signer.acs3(action, version, params or [], method=method, nonce=nonce,
                           when=when)
    return signer.rpc(action, version, params or [], method=method, nonce=nonce, when=when)


# ---- the envelope


@pytest.mark.parametrize("headers", [{}, {"accept": "application/xml"}, {"accept": "*/*"}],
                         ids=["no-accept", "xml-accept", "any-accept"])
@pytest.mark.parametrize("fmt", [None, "XML", "JSON"])
def test_errors_are_json_whatever_format_is_asked(server: RunningServer, headers: dict[str, str],
                                                  fmt: str | None) -> None:
    """The SDKs ask for JSON; the server answers JSON whatever is asked (it speaks no XML)."""
    query = [("Action", "GetCallerIdentity"), ("Version", STS)]
    if fmt is not None:
        query.append(("Format", fmt))
    answer = send(server, "POST", "/?" + encode_query(query), headers=headers)
    body = answer.error(400, "IncompleteSignature")
    assert body["HostId"] == "sts.aliyuncs.com"
    assert body["Recommend"].startswith("https://")
    assert answer.headers["content-type"] == "application/json;charset=utf-8"


def test_success_and_error_request_ids_are_distinct(admin_signer: Signer) -> None:
    first = admin_signer.rpc(*WHO).json()["RequestId"]
    second = send(admin_signer.server, "POST", "/").error(400)["RequestId"]
    assert first != second


# ---- signatures


def test_no_signature_at_all(server: RunningServer) -> None:
    answer = send(server, "POST", "/?Action=ListUsers&Version=2015-05-01")
    body = answer.error(400, "IncompleteSignature")
    assert "Authorization" in body["Message"]
    assert "Signature" in body["Message"]
    assert body["HostId"] == "ram.aliyuncs.com"


def test_an_access_key_without_a_signature(server: RunningServer) -> None:
    query = [("Action", "ListUsers"), ("Version", RAM), ("AccessKeyId", server.admin_key[0])]
    send(server, "POST", "/?" + encode_query(query)).error(400, "MissingSignature")


def test_nothing_at_all(server: RunningServer) -> None:
    body = send(server, "POST", "/").error(400, "MissingVersion")
    assert body["Message"] == "Version is mandatory for this action."


def test_bad_rpc_signature_quotes_the_string_to_sign(admin_signer: Signer) -> None:
    """aliyun-python-sdk-core reads the server's string to sign after the message's colon."""
    wrong = Signer(admin_signer.server, admin_signer.access_key_id, "not-the-secret")
    query = wrong.rpc_params(*WHO)
    answer = send(admin_signer.server, "POST", "/?" + encode_query(query))
    body = answer.error(400, "SignatureDoesNotMatch")
    expected = string_to_sign_rpc("POST", [(k, v) for k, v in query if k != "Signature"])
    assert body["Message"].split(":")[1] == expected
    assert "not-the-secret" not in body["Message"]
    assert admin_signer.secret not in body["Message"]


def test_bad_acs3_signature_quotes_the_string_to_sign(admin_signer: Signer) -> None:
    wrong = Signer(admin_signer.server, admin_signer.access_key_id, "not-the-secret")
    headers = wrong.acs3_headers(*WHO)
    answer = send(admin_signer.server, "POST", "/",
                  headers={k: v for k, v in headers.items() if k != "host"},
                  host=headers["host"])
    body = answer.error(400, "SignatureDoesNotMatch")
    signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    wire = WireRequest("POST", "/", [], headers)
    assert body["Message"].split(":")[1] == string_to_sign_acs3(wire, signed)
    assert admin_signer.secret not in body["Message"]


def test_acs3_body_not_matching_its_declared_hash(admin_signer: Signer) -> None:
    headers = admin_signer.acs3_headers("CreateUser", RAM, body=b"UserName=a",
                                        content_type=FORM)
    answer = send(admin_signer.server, "POST", "/",
                  headers={k: v for k, v in headers.items() if k != "host"},
                  body=b"UserName=b", host=headers["host"])
    assert "x-acs-content-sha256" in answer.error(400, "SignatureDoesNotMatch")["Message"]


def test_old_sdk_reads_a_wrong_secret_as_such(server: RunningServer) -> None:
    """The quoted string to sign equals the old SDK's own, so it names the real cause."""
    client = AcsClient(server.admin_key[0], "not-the-secret", "cn-hangzhou", auto_retry=False,
                       timeout=20, connect_timeout=5)
    request = RpcRequest("Sts", STS, "GetCallerIdentity")
    request.set_endpoint(server.endpoint)
    request.set_protocol_type("http")
    request.set_method("POST")
    with pytest.raises(ServerException) as raised:
        client.do_action_with_exception(request)
    assert raised.value.get_error_code() == "InvalidAccessKeySecret"
    assert raised.value.get_http_status() == 400


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("key_id", ["LTAInoSuchKey0000000000", "STS.NoSuchSession000000000"])
def test_unknown_access_key(server: RunningServer, scheme: str, key_id: str) -> None:
    stranger = Signer(server, key_id, "whatever", "CAIS-token" if key_id[:4] == "STS." else None)
    body = _call(stranger, scheme, *WHO).error(404, "InvalidAccessKeyId.NotFound")
    assert key_id not in body["Message"]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("skew", [timedelta(hours=-1), timedelta(minutes=16),
                                  timedelta(days=-3650)], ids=["past", "future", "ancient"])
def test_timestamp_outside_the_window(admin_signer: Signer, scheme: str,
                                      skew: timedelta) -> None:
    when = timestamp(datetime.now(UTC) + skew)
    _call(admin_signer, scheme, *WHO, when=when).error(400, "InvalidTimeStamp.Expired")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("when", ["2026-01-01 00:00:00", "1700000000", "2026-02-30T10:00:00Z",
                                  "2026-01-01T00:00:00+08:00", "2026-01-01T00:00:00.000Z"])
def test_timestamp_badly_formatted(admin_signer: Signer, scheme: str, when: str) -> None:
    _call(admin_signer, scheme, *WHO, when=when).error(400, "InvalidTimeStamp.Format")


@pytest.mark.parametrize("second", SCHEMES)
@pytest.mark.parametrize("first", SCHEMES)
def test_reused_nonce(admin_signer: Signer, first: str, second: str) -> None:
    nonce = secrets.token_hex(16)
    assert _call(admin_signer, first, *WHO, nonce=nonce).status == 200
    _call(admin_signer, second, *WHO, nonce=nonce).error(400, "SignatureNonceUsed")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_nonce_length(admin_signer: Signer, scheme: str) -> None:
    """A nonce is stored until it expires: one too long to index is refused up front."""
    longest = secrets.token_urlsafe(MAX_NONCE_LENGTH)[:MAX_NONCE_LENGTH]
    assert _call(admin_signer, scheme, *WHO, nonce=longest).status == 200
    too_long = secrets.token_urlsafe(4 * MAX_NONCE_LENGTH)
    body = _call(admin_signer, scheme, *WHO, nonce=too_long).error(400)
    assert body["Code"].startswith("InvalidParameter.")
    assert too_long not in body["Message"]


# ---- routing


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("action", "version"), [("NoSuchAction", STS), ("GetCallerIdentity",
                                                 "1999-01-01"), ("GetCallerIdentity", RAM)])
def test_unknown_action_or_version(admin_signer: Signer, scheme: str, action: str,
                                   version: str) -> None:
    body = _call(admin_signer, scheme, action, version).error(404, "InvalidApi.NotFound")
    assert action in body["Message"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_overlong_action_is_not_echoed(admin_signer: Signer, scheme: str) -> None:
    action = "A" * (MAX_ROUTE_LENGTH + 1)
    body = _call(admin_signer, scheme, action, RAM).error(400, "InvalidParameter.Action")
    assert action not in body["Message"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_methods_other_than_get_and_post(admin_signer: Signer, method: str) -> None:
    """Even correctly signed for the method: RPC calls are GET or POST only."""
    query = admin_signer.rpc_params(*WHO, method=method)
    answer = send(admin_signer.server, method, "/?" + encode_query(query))
    answer.error(400, "UnsupportedHTTPMethod")


def test_head_gets_the_error_status_without_a_body(admin_signer: Signer) -> None:
    query = admin_signer.rpc_params(*WHO, method="HEAD")
    answer = send(admin_signer.server, "HEAD", "/?" + encode_query(query))
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.body == b""


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_get_and_post_both_serve(server: RunningServer, admin_signer: Signer, scheme: str,
                                 method: str) -> None:
    answer = _call(admin_signer, scheme, *WHO, method=method)
    assert answer.status == 200, answer
    assert answer.json()["AccountId"] == server.account_id


@pytest.mark.parametrize("path", ["/x", "/../../etc/passwd", "/favicon.ico", "//", "/%2e%2e/",
                                  "/ram/", "/%00"])
def test_garbage_paths(admin_signer: Signer, path: str) -> None:
    query = admin_signer.rpc_params(*WHO)  # RPC V1 signs "/" whatever the path
    answer = send(admin_signer.server, "POST", f"{path}?{encode_query(query)}")
    answer.error(404, "InvalidApi.NotFound")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_host_with_a_scheme_is_tolerated(admin_signer: Signer, scheme: str) -> None:
    """SDKs configured with `endpoint='http://…'` send (and sign) that as the Host."""
    host = f"http://{admin_signer.server.endpoint}"
    if scheme == "acs3":
        answer = admin_signer.acs3(*WHO, host=host)
    else:
        query = admin_signer.rpc_params(*WHO)
        answer = send(admin_signer.server, "POST", "/?" + encode_query(query), host=host)
    assert answer.status == 200, answer


# ---- parameters


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("action", "name"), [("GetRole", "RoleName"),
                                              ("CreateUser", "UserName"),
                                              ("CreatePolicy", "PolicyName")])
def test_missing_required_parameter_is_named(admin_signer: Signer, scheme: str, action: str,
                                             name: str) -> None:
    body = _call(admin_signer, scheme, action, RAM).error(400, f"Missing{name}")
    assert name in body["Message"]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("value", ["abc", "1.5", "0x10", "", "99999999999999999999"])
def test_integer_parameter_given_something_else(admin_signer: Signer, scheme: str,
                                                value: str) -> None:
    answer = _call(admin_signer, scheme, "ListUsers", RAM, [("MaxItems", value)])
    if value == "":  # an empty typed value reads as absent
        assert answer.status == 200, answer
        return
    body = answer.error(400, "InvalidParameter.MaxItems")
    assert "MaxItems" in body["Message"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_boolean_parameter_given_something_else(admin_signer: Signer, scheme: str,
                                                unique: str) -> None:
    document = policy_json({"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"})
    created = _call(admin_signer, scheme, "CreatePolicy", RAM,
                    [("PolicyName", f"{unique}-p"), ("PolicyDocument", document)])
    assert created.status == 200, created
    answer = _call(admin_signer, scheme, "CreatePolicyVersion", RAM,
                   [("PolicyName", f"{unique}-p"), ("PolicyDocument", document),
                    ("SetAsDefault", "maybe")])
    assert "SetAsDefault" in answer.error(400, "InvalidParameter.SetAsDefault")["Message"]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("document", ["{not json", "", "[1, 2", "\"a string\"", "null"])
def test_json_parameter_that_is_not_a_policy(admin_signer: Signer, scheme: str, unique: str,
                                             document: str) -> None:
    answer = _call(admin_signer, scheme, "CreatePolicy", RAM,
                   [("PolicyName", f"{unique}-p"), ("PolicyDocument", document)])
    expected = "MissingPolicyDocument" if document == "" else "MalformedPolicyDocument"
    answer.error(400, expected)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_session_policy_that_is_not_json(server: RunningServer, admin_signer: Signer,
                                         scheme: str, unique: str) -> None:
    account = server.account_id
    trust = policy_json({"Effect": "Allow", "Action": "sts:AssumeRole",
                         "Principal": {"RAM": [f"acs:ram::{account}:root"]}})
    created = _call(admin_signer, scheme, "CreateRole", RAM,
                    [("RoleName", f"{unique}-r"), ("AssumeRolePolicyDocument", trust)])
    assert created.status == 200, created
    answer = _call(admin_signer, scheme, "AssumeRole", STS,
                   [("RoleArn", f"acs:ram::{account}:role/{unique}-r"),
                    ("RoleSessionName", "s1"), ("Policy", "{not json")])
    answer.error(400, "InvalidParameter.PolicyGrammar")


# ---- bytes and sizes


def test_body_over_the_limit(server: RunningServer) -> None:
    body = send(server, "POST", "/", headers={"content-type": FORM},
                body=b"a=" + b"x" * (MAX_BODY - 1)).error(400, "InvalidParameter")
    assert str(MAX_BODY) in body["Message"]


def test_body_at_the_limit_is_read(server: RunningServer) -> None:
    body = b"Action=ListUsers&Version=2015-05-01&a="
    body += b"x" * (MAX_BODY - len(body))
    send(server, "POST", "/", headers={"content-type": FORM}, body=body).error(
        400, "IncompleteSignature")


def test_headers_over_the_limit(server: RunningServer) -> None:
    answer = send(server, "POST", "/?Action=ListUsers&Version=2015-05-01",
                  headers={"x-padding": "p" * MAX_HEADERS})
    assert str(MAX_HEADERS) in answer.error(400, "InvalidParameter")["Message"]


def test_long_query_is_read(server: RunningServer) -> None:
    """A policy document percent-encoded in the query can reach 55 kB."""
    target = "/?Action=ListUsers&Version=2015-05-01&a="
    target += "q" * (MAX_QUERY - 1024 - len(target))
    send(server, "GET", target).error(400, "IncompleteSignature")


def test_query_over_the_limit(server: RunningServer) -> None:
    """The HTTP parser refuses it before the application sees it (in plain text: no JSON
    answer is possible there); the application's own limit is tested in tests/server."""
    answer = send(server, "GET", "/?Action=ListUsers&Version=2015-05-01&a=" + "q" * MAX_QUERY)
    assert answer.status == 400


@pytest.mark.parametrize("body", [b"Action=\xff\xfe", b"UserName=%FF", b"%C3=1"])
def test_body_not_utf8(server: RunningServer, body: bytes) -> None:
    answer = send(server, "POST", "/", headers={"content-type": FORM}, body=body)
    assert "UTF-8" in answer.error(400, "InvalidParameter")["Message"]


@pytest.mark.parametrize("query", ["Action=%FF%FE", "UserName=%C3", "%80=1&Version=2015-05-01"])
def test_query_not_utf8(server: RunningServer, query: str) -> None:
    answer = send(server, "POST", "/?" + query)
    assert "UTF-8" in answer.error(400, "InvalidParameter")["Message"]


def test_signed_body_with_a_non_form_content_type(admin_signer: Signer) -> None:
    """ACS3 signs the body, but only a form body carries parameters: others are refused."""
    payload = json.dumps({"UserName": "someone"}).encode()
    answer = admin_signer.acs3("CreateUser", RAM, body=payload, content_type="application/json")
    assert FORM in answer.error(400, "InvalidParameter")["Message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data"])
def test_rpc_body_parameters_with_a_wrong_content_type(admin_signer: Signer, unique: str,
                                                       content_type: str | None) -> None:
    form = [("UserName", f"{unique}-u")]
    query = admin_signer.rpc_params("CreateUser", RAM, form=form)
    headers = {"content-type": content_type} if content_type else {}
    answer = send(admin_signer.server, "POST", "/?" + encode_query(query), headers=headers,
                  body=encode_query(form).encode())
    answer.error(400, "InvalidParameter")


def test_rpc_body_parameters_with_the_form_content_type(admin_signer: Signer,
                                                        unique: str) -> None:
    answer = admin_signer.rpc("CreateUser", RAM, form=[("UserName", f"{unique}-u")])
    assert answer.status == 200, answer
    assert answer.json()["User"]["UserName"] == f"{unique}-u"


# ---- anything at all


_NAMES = st.one_of(
    st.sampled_from(["Action", "Version", "AccessKeyId", "Signature", "SignatureMethod",
                     "SignatureVersion", "SignatureNonce", "Timestamp", "SecurityToken",
                     "Format", "UserName", "MaxItems", "RoleArn", "Tag.1.Key", "Tag.0",
                     "PolicyDocument"]),
    st.text(max_size=24))
_VALUES = st.one_of(
    st.sampled_from([RAM, STS, "GetUser", "ListUsers", "AssumeRole", "HMAC-SHA1", "1.0",
                     "2024-01-01T00:00:00Z", "STS.x", "", "%", "&=", "\x00"]),
    st.text(max_size=48))
_HEADERS = st.dictionaries(
    st.sampled_from(["authorization", "x-acs-action", "x-acs-version", "x-acs-date",
                     "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-security-token",
                     "x-acs-accesskey-id", "content-type", "accept", "user-agent"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
            max_size=80),
    max_size=6)
_FUZZ = settings(max_examples=100, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@_FUZZ
@given(pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=10), body=st.binary(max_size=300),
       method=st.sampled_from(["POST", "GET"]), headers=_HEADERS,
       form=st.booleans())
def test_unsigned_garbage_is_always_a_client_error(server: RunningServer,
                                                   pairs: list[tuple[str, str]], body: bytes,
                                                   method: str, headers: dict[str, str],
                                                   form: bool) -> None:
    if form:
        headers = {**headers, "content-type": FORM}
    answer = send(server, method, "/?" + encode_query(pairs),
                  headers=[(k, v.strip()) for k, v in headers.items()], body=body)
    answer.error()
    assert answer.status < 500, answer


@_FUZZ
@given(raw=st.binary(max_size=200), body=st.binary(max_size=200))
def test_raw_bytes_in_query_and_body_are_a_client_error(server: RunningServer, raw: bytes,
                                                        body: bytes) -> None:
    # Any bytes, escaped just enough to be a legal request target.
    target = "/?" + "".join(chr(b) if 0x21 <= b < 0x7F and chr(b) not in "#%" else f"%{b:02X}"
                            for b in raw)
    answer = send(server, "POST", target, headers={"content-type": FORM}, body=body)
    answer.error()
    assert answer.status < 500, answer


_READS = [("GetUser", RAM), ("ListUsers", RAM), ("GetRole", RAM), ("GetPolicy", RAM),
          ("ListPolicies", RAM), ("ListAccessKeys", RAM), ("GetGroup", RAM),
          ("ListPolicyVersions", RAM), ("GetCallerIdentity", STS)]


@_FUZZ
@given(route=st.sampled_from(_READS), scheme=st.sampled_from(SCHEMES),
       pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_signed_calls_with_random_parameters_never_fail_the_server(
        server: RunningServer, route: tuple[str, str], scheme: str,
        pairs: list[tuple[str, str]]) -> None:
    """Correctly signed read calls with anything as parameters: success or a 4xx error."""
    answer = _call(Signer.admin(server), scheme, *route, pairs)
    if answer.status != 200:
        answer.error()
        assert answer.status < 500, answer
