"""Form bodies, routing, and the typed reading of a call's parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ramparts.core.context import ParamSource
from ramparts.core.errors import ServiceError
from ramparts.protocol.params import PROTOCOL_PARAMETERS, Params, parse_form, route_of
from ramparts.protocol.wire import WireRequest

FORM = "application/x-www-form-urlencoded"


def wire(body: bytes = b"", content_type: str | None = FORM,
         query: list[tuple[str, str]] | None = None,
         headers: Mapping[str, str] | None = None) -> WireRequest:
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    return WireRequest("POST", "/", query or [], all_headers, body)


def error_of(call: Any, *args: Any, **kwargs: Any) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        call(*args, **kwargs)
    return raised.value


# ---- parse_form

def test_form_body_is_decoded_in_order_with_plus_as_space() -> None:
    body = b"SecretData=hunter2+%26%3D%2B%25&Empty=&Bare&Name=%E4%B8%AD"
    assert parse_form(wire(body), 1024) == [
        ("SecretData", "hunter2 &=+%"), ("Empty", ""), ("Bare", ""), ("Name", "中")]


def test_form_content_type_parameters_are_ignored() -> None:
    assert parse_form(wire(b"a=1", content_type=f"{FORM}; charset=UTF-8"), 1024) == [("a", "1")]


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_other_bodies_are_refused_not_ignored(content_type: str | None) -> None:
    """Ignored, their parameters would silently go missing (and RPC does not sign them)."""
    error = error_of(parse_form, wire(b"a=1", content_type=content_type), 1024)
    assert (error.error_code, error.http_status) == ("InvalidParameter", 400)
    assert FORM in error.message
    assert parse_form(wire(b"", content_type=content_type), 1024) == []


def test_empty_form_body_is_no_parameters() -> None:
    """KMS Decrypt sends an empty body with the form content type (ALIBABA-API 1.4)."""
    assert parse_form(wire(b""), 1024) == []


@pytest.mark.parametrize("body", [b"a=\xff\xfe", b"a=%FF", b"%C3=1"])
def test_non_utf8_form_body_is_refused(body: bytes) -> None:
    error = error_of(parse_form, wire(body), 1024)
    assert error.error_code == "InvalidParameter"
    assert "UTF-8" in error.message
    assert error.http_status == 400


def test_body_over_the_limit_is_refused_and_at_the_limit_accepted() -> None:
    assert parse_form(wire(b"a=1234"), 6) == [("a", "1234")]
    error = error_of(parse_form, wire(b"a=12345"), 6)
    assert error.error_code == "InvalidParameter"
    assert "6 bytes" in error.message
    # The limit holds whatever the content type.
    assert error_of(parse_form, wire(b"x" * 7, content_type=None), 6).error_code == \
        "InvalidParameter"


# ---- route_of

def test_route_from_acs3_headers() -> None:
    request = wire(headers={"x-acs-action": "CreateUser", "x-acs-version": "2015-05-01"})
    assert route_of(request, []) == ("2015-05-01", "CreateUser")


def test_route_from_query_or_form_parameters() -> None:
    query = [("Action", "AssumeRole"), ("Version", "2015-04-01")]
    assert route_of(wire(query=query), []) == ("2015-04-01", "AssumeRole")
    assert route_of(wire(), query) == ("2015-04-01", "AssumeRole")


def test_route_header_and_parameter_may_agree() -> None:
    """The V2 SDKs in RPC mode send both (ALIBABA-API 1.3)."""
    request = wire(query=[("Action", "CreateUser"), ("Version", "2015-05-01")],
                   headers={"x-acs-action": "CreateUser", "x-acs-version": "2015-05-01"})
    assert route_of(request, []) == ("2015-05-01", "CreateUser")


def test_route_header_disagreeing_with_the_signed_parameter_is_refused() -> None:
    """RPC does not sign headers: a header must not reroute a signed call."""
    request = wire(query=[("Action", "ListUsers"), ("Version", "2015-05-01")],
                   headers={"x-acs-action": "DeleteUser"})
    error = error_of(route_of, request, [])
    assert error.error_code == "InvalidParameter.Action"
    assert "x-acs-action" in error.message


def test_route_parameter_given_twice_differently_is_refused() -> None:
    request = wire(query=[("Action", "ListUsers"), ("Version", "2015-05-01")])
    error = error_of(route_of, request, [("Action", "DeleteUser")])
    assert error.error_code == "InvalidParameter.Action"


@pytest.mark.parametrize(("query", "code"), [
    ([("Version", "2015-05-01")], "MissingAction"),
    ([("Action", "ListUsers")], "MissingVersion"),
    ([("Action", ""), ("Version", "2015-05-01")], "MissingAction"),
    ([], "MissingVersion"),
])
def test_route_missing_is_named(query: list[tuple[str, str]], code: str) -> None:
    error = error_of(route_of, wire(query=query), [])
    assert error.error_code == code
    assert error.message == f"{code.removeprefix('Missing')} is mandatory for this action."


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"])
def test_route_refuses_methods_other_than_get_and_post(method: str) -> None:
    request = WireRequest(method, "/", [("Action", "ListUsers"), ("Version", "2015-05-01")],
                          {})
    error = error_of(route_of, request, [])
    assert (error.error_code, error.http_status) == ("UnsupportedHTTPMethod", 400)


@pytest.mark.parametrize("path", ["", "/x", "//", "/ram/", "/../"])
def test_route_refuses_paths_other_than_the_root(path: str) -> None:
    request = WireRequest("GET", path, [("Action", "ListUsers"), ("Version", "2015-05-01")],
                          {})
    error = error_of(route_of, request, [])
    assert (error.error_code, error.http_status) == ("InvalidApi.NotFound", 404)


@pytest.mark.parametrize("name", ["Action", "Version"])
def test_route_refuses_overlong_values(name: str) -> None:
    query = {"Action": "ListUsers", "Version": "2015-05-01"}
    query[name] = "A" * 129
    error = error_of(route_of, wire(query=list(query.items())), [])
    assert error.error_code == f"InvalidParameter.{name}"
    assert "A" * 129 not in error.message


def test_route_empty_header_falls_back_to_the_parameter() -> None:
    request = wire(query=[("Action", "ListUsers"), ("Version", "2015-05-01")],
                   headers={"x-acs-action": " "})
    assert route_of(request, []) == ("2015-05-01", "ListUsers")


# ---- Params: merging, duplicates, NUL

def test_params_merge_query_then_form_without_protocol_keys() -> None:
    query = [("UserName", "alice"), ("Action", "CreateUser"), ("AccessKeyId", "ak"),
             ("Signature", "s"), ("SignatureType", ""), ("RegionId", "cn-hangzhou"),
             ("Timestamp", "t"), ("Format", "JSON")]
    params = Params(query, [("SecretData", "x"), ("SecurityToken", "tok")])
    assert params.names() == ["UserName", "RegionId", "SecretData"]
    assert params.as_dict() == {"UserName": "alice", "RegionId": "cn-hangzhou",
                                "SecretData": "x"}
    assert "RegionId" in params
    assert "Signature" not in params
    assert len(params) == 3
    assert list(params) == params.names()
    assert params.raw("SecretData") == "x"
    assert params.raw("Nope") is None


def test_protocol_parameters_are_the_rpc_common_ones() -> None:
    assert "RegionId" not in PROTOCOL_PARAMETERS
    assert {"Action", "Version", "Signature", "SecurityToken"} <= PROTOCOL_PARAMETERS


def test_as_dict_is_a_copy() -> None:
    params = Params([("a", "1")])
    params.as_dict()["a"] = "2"
    assert params.raw("a") == "1"


def test_same_value_twice_is_one_parameter() -> None:
    assert Params([("UserName", "a")], [("UserName", "a")]).as_dict() == {"UserName": "a"}


@pytest.mark.parametrize(("query", "form"), [
    ([("UserName", "a"), ("UserName", "b")], []),
    ([("UserName", "a")], [("UserName", "b")]),
    ([("UserName", "a")], [("UserName", "")]),
])
def test_different_values_for_one_name_are_refused(query: list[tuple[str, str]],
                                                   form: list[tuple[str, str]]) -> None:
    error = error_of(Params, query, form)
    assert error.error_code == "InvalidParameter.UserName"
    assert "UserName" in error.message


@pytest.mark.parametrize("pair", [("UserName", "al\x00ice"), ("User\x00Name", "alice")])
def test_nul_characters_are_refused(pair: tuple[str, str]) -> None:
    error = error_of(Params, [pair])
    assert error.error_code.startswith("InvalidParameter")
    assert "NUL" in error.message


def test_params_satisfy_the_handlers_protocol() -> None:
    source: ParamSource = Params([("a", "1")])
    assert source.str("a") == "1"


# ---- str

def test_str_returns_value_default_or_empty() -> None:
    params = Params([("UserName", "alice"), ("Comments", "")])
    assert params.str("UserName") == "alice"
    assert params.str("Absent") is None
    assert params.str("Absent", default="x") == "x"
    assert params.str("Comments", default="x") == ""  # sent empty: kept (clears a field)


@pytest.mark.parametrize("query", [[], [("UserName", "")]])
def test_str_required_names_the_missing_parameter(query: list[tuple[str, str]]) -> None:
    error = error_of(Params(query).str, "UserName", required=True)
    assert error.error_code == "MissingUserName"
    assert error.message == "UserName is mandatory for this action."
    assert error.http_status == 400


def test_str_max_length() -> None:
    params = Params([("UserName", "abcd")])
    assert params.str("UserName", max_length=4) == "abcd"
    error = error_of(params.str, "UserName", max_length=3)
    assert error.error_code == "InvalidParameter.UserName"
    assert "3 characters" in error.message


# ---- int

@pytest.mark.parametrize(("text", "number"), [("0", 0), ("3600", 3600), ("-5", -5), ("+7", 7),
                                              ("007", 7)])
def test_int_parses_decimal(text: str, number: int) -> None:
    assert Params([("N", text)]).int("N") == number


def test_int_absent_or_empty_gives_the_default() -> None:
    assert Params([]).int("N") is None
    assert Params([]).int("N", default=3600) == 3600
    assert Params([("N", "")]).int("N", default=1) == 1
    assert error_of(Params([]).int, "N", required=True).error_code == "MissingN"


@pytest.mark.parametrize("text", ["1.5", "abc", "1_000", " 5", "5 ", "٣", "0x10", "1e3",
                                  "9" * 19, "--1"])
def test_int_refuses_what_is_not_a_decimal_integer(text: str) -> None:
    error = error_of(Params([("MaxItems", text)]).int, "MaxItems")
    assert error.error_code == "InvalidParameter.MaxItems"
    assert "MaxItems" in error.message


def test_int_range_is_inclusive() -> None:
    def read(text: str) -> int | None:
        return Params([("MaxItems", text)]).int("MaxItems", minimum=1, maximum=1000)

    assert read("1") == 1
    assert read("1000") == 1000
    for text in ("0", "1001"):
        error = error_of(read, text)
        assert error.error_code == "InvalidParameter.MaxItems"
        assert error.message == "Specified parameter MaxItems must be at least 1 and at most 1000."


def test_int_one_sided_ranges() -> None:
    assert error_of(Params([("N", "-1")]).int, "N", minimum=0).message == \
        "Specified parameter N must be at least 0."
    assert error_of(Params([("N", "11")]).int, "N", maximum=10).message == \
        "Specified parameter N must be at most 10."


# ---- bool

@pytest.mark.parametrize(("text", "value"), [("True", True), ("False", False), ("true", True),
                                             ("FALSE", False), ("tRuE", True)])
def test_bool_is_case_insensitive(text: str, value: bool) -> None:
    assert Params([("DryRun", text)]).bool("DryRun") is value


def test_bool_default() -> None:
    assert Params([]).bool("DryRun") is None
    assert Params([]).bool("DryRun", default=False) is False
    assert Params([("DryRun", "")]).bool("DryRun", default=True) is True


@pytest.mark.parametrize("text", ["yes", "1", "0", "T", " true"])
def test_bool_refuses_other_words(text: str) -> None:
    error = error_of(Params([("DryRun", text)]).bool, "DryRun")
    assert error.error_code == "InvalidParameter.DryRun"
    assert "true or false" in error.message


# ---- json

def test_json_parses_objects_and_arrays() -> None:
    params = Params([("EncryptionContext", '{"k": "v", "n": "1"}'),
                     ("VersionStages", '["ACSCurrent", "custom"]')])
    assert params.json("EncryptionContext") == {"k": "v", "n": "1"}
    assert params.json("VersionStages") == ["ACSCurrent", "custom"]
    assert params.json("Absent") is None
    assert error_of(params.json, "Absent", required=True).error_code == "MissingAbsent"


@pytest.mark.parametrize("text", ['{"k": ', "{'k': 'v'}", '{"k": "v", "k": "w"}', "NaN",
                                  '{"n": Infinity}', "[" * 100_000])
def test_json_refuses_malformed_or_ambiguous(text: str) -> None:
    error = error_of(Params([("Tags", text)]).json, "Tags")
    assert error.error_code == "InvalidParameter.Tags"
    assert "JSON" in error.message


def test_json_max_length() -> None:
    params = Params([("Policy", '{"a": 1}')])
    assert params.json("Policy", max_length=8) == {"a": 1}
    assert error_of(params.json, "Policy", max_length=7).error_code == "InvalidParameter.Policy"


# ---- flattened lists

def test_list_of_records_is_ordered_by_numeric_index() -> None:
    query = [(f"Tag.{n}.{field}", f"{field.lower()}{n}") for n in (10, 2, 1)
             for field in ("Value", "Key")]
    expected = [{"Key": f"key{n}", "Value": f"value{n}"} for n in (1, 2, 10)]
    params = Params(query)
    assert params.list("Tag") == expected
    assert params.records("Tag") == expected


def test_list_of_lookup_attributes_with_a_gap() -> None:
    params = Params([("LookupAttribute.2.Key", "EventName"),
                     ("LookupAttribute.2.Value", "CreateUser"), ("MaxResults", "50")])
    assert params.list("LookupAttribute") == [{"Key": "EventName", "Value": "CreateUser"}]


def test_list_of_plain_values() -> None:
    params = Params([("InstanceId.2", "i-2"), ("InstanceId.1", "i-1"), ("InstanceIds", "x")])
    assert params.list("InstanceId") == ["i-1", "i-2"]
    assert params.strings("InstanceId") == ["i-1", "i-2"]


def test_list_absent_is_empty() -> None:
    params = Params([("Tags", "[]"), ("Tag", "x")])
    assert params.list("Tag") == []
    assert params.records("Tag") == []
    assert params.strings("Tag") == []


def test_list_fields_may_contain_dots() -> None:
    params = Params([("Permissions.1.Source.Cidr", "10.0.0.0/8")])
    assert params.records("Permissions") == [{"Source.Cidr": "10.0.0.0/8"}]


@pytest.mark.parametrize("key", ["Tag.0.Key", "Tag.01.Key", "Tag.x.Key", "Tag..Key", "Tag.1.",
                                 "Tag.-1.Key", "Tag.1000000.Key"])
def test_list_refuses_bad_indexes(key: str) -> None:
    error = error_of(Params([(key, "v")]).list, "Tag")
    assert error.error_code == f"InvalidParameter.{key}"
    assert key in error.message


def test_list_refuses_a_value_and_fields_at_one_index() -> None:
    error = error_of(Params([("Tag.1", "v"), ("Tag.1.Key", "k")]).list, "Tag")
    assert error.error_code == "InvalidParameter.Tag.1"


def test_strings_and_records_refuse_the_other_shape() -> None:
    assert error_of(Params([("Tag.1.Key", "k")]).strings, "Tag").error_code == \
        "InvalidParameter.Tag"
    assert error_of(Params([("Tag.1", "k")]).records, "Tag").error_code == \
        "InvalidParameter.Tag.1"
