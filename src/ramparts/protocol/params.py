"""A request's parameters: the form body, the route (Version, Action), and typed reading."""

from __future__ import annotations

import builtins
import json as jsonlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl

from ramparts.protocol.errors import (
    InvalidApiNotFound,
    InvalidParameter,
    MissingParameter,
    UnsupportedHTTPMethod,
)
from ramparts.protocol.wire import WireRequest

__all__ = ["FORM_CONTENT_TYPE", "PROTOCOL_PARAMETERS", "Params", "parse_form", "route_of"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# The RPC common request parameters [doc: Request syntax and signature method V2 for RPC APIs]:
# they belong to signing and routing, not to the operation. RegionId stays a business
# parameter: ECS and VPC operations read it (ALIBABA-API 1.3).
PROTOCOL_PARAMETERS = frozenset({
    "AccessKeyId", "Action", "Format", "SecurityToken", "Signature", "SignatureMethod",
    "SignatureNonce", "SignatureType", "SignatureVersion", "Timestamp", "Version",
})

# RPC calls are `GET /` or `POST /` [doc: Request syntax and signature method V2 for RPC APIs].
RPC_METHODS = frozenset({"GET", "POST"})
RPC_PATH = "/"
# Longer than any action name or version; a longer value is refused before it is echoed in
# an error or written to the trail.
MAX_ROUTE_LENGTH = 128

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_INDEX = re.compile(r"[1-9][0-9]{0,5}", re.ASCII)


def parse_form(request: WireRequest, max_body: int) -> list[tuple[str, str]]:
    """The form-body parameters, in order; [] for an empty body.

    Some SDK calls put a few parameters in the body (KMS CreateSecret's SecretData), older
    product SDKs put all of them there, and KMS Decrypt sends an empty body with the form
    content type (ALIBABA-API 1.3, 1.4). A body in any other content type is refused rather
    than ignored: its parameters would silently go missing (and an RPC signature does not
    cover it).
    """
    if len(request.body) > max_body:
        # No Alibaba code is documented for an oversized body; InvalidParameter says what to do.
        raise InvalidParameter(f"The request body is larger than {max_body} bytes.")
    if not request.body:
        return []
    if request.content_type != FORM_CONTENT_TYPE:
        sent = request.content_type or "no Content-Type"
        raise InvalidParameter(f"The request body is sent as {sent[:100]}; parameters in a "
                               f"request body must be form-encoded ({FORM_CONTENT_TYPE}).")
    try:
        # `+` reads as a space; percent-escapes must decode to UTF-8 too.
        return parse_qsl(request.body.decode("utf-8"), keep_blank_values=True,
                         strict_parsing=False, encoding="utf-8", errors="strict")
    except UnicodeError:
        raise InvalidParameter("The request body is not valid UTF-8 form-encoded text.") from None


def _one_value(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    values = {value for key, value in pairs if key == name and value != ""}
    if len(values) > 1:
        raise InvalidParameter.named(name, f"Specified parameter {name} is given more than once "
                                           "with different values.")
    return values.pop() if values else None


def route_of(request: WireRequest, form: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """(Version, Action): from `x-acs-version`/`x-acs-action` (ACS3), else the `Version` and
    `Action` parameters (RPC) [ALIBABA-API 1.2, 6.2].

    When both are sent they must agree: an RPC request does not sign its headers, so a header
    that disagreed with the signed parameter would reroute a signed call. Every action is
    served on `GET /` and `POST /` only.
    """
    if request.method not in RPC_METHODS:
        raise UnsupportedHTTPMethod(f"This http method is not supported: {request.method[:16]} "
                                    "(API calls are sent with POST or GET).")
    if request.path != RPC_PATH:
        raise InvalidApiNotFound("Specified api is not found, please check your url and method: "
                                 "API calls are sent to the path /.")
    pairs = [*request.query, *form]
    route: list[str] = []
    for name, header in (("Version", "x-acs-version"), ("Action", "x-acs-action")):
        from_header = (request.header(header) or "").strip() or None
        from_param = _one_value(pairs, name)
        if from_header and from_param and from_header != from_param:
            raise InvalidParameter.named(name, f"Specified parameter {name} ({from_param}) "
                                               f"differs from the {header} header "
                                               f"({from_header}).")
        value = from_header or from_param
        if not value:
            raise MissingParameter.named(name)
        if "\x00" in value:
            raise InvalidParameter.named(name, f"Specified parameter {name} contains a NUL "
                                               "character.")
        if len(value) > MAX_ROUTE_LENGTH:
            raise InvalidParameter.named(name, f"Specified parameter {name} is longer than "
                                               f"{MAX_ROUTE_LENGTH} characters.")
        route.append(value)
    return route[0], route[1]


class Params:
    """The business parameters of one call: query, then form body, protocol keys removed.

    Every getter raises an Alibaba error naming the parameter. A name given twice with
    different values is refused as a whole (an ambiguous request could be read one way by the
    RAM check and another by the handler), as is any value holding a NUL character.
    """

    def __init__(self, query: Iterable[tuple[builtins.str, builtins.str]],
                 form: Iterable[tuple[builtins.str, builtins.str]] = ()) -> None:
        values: dict[builtins.str, builtins.str] = {}
        for name, value in (*query, *form):
            if name in PROTOCOL_PARAMETERS:
                continue
            if "\x00" in name or "\x00" in value:
                raise InvalidParameter.named(name.replace("\x00", ""),
                                             "A request parameter contains a NUL character.")
            if name in values and values[name] != value:
                raise InvalidParameter.named(name, f"Specified parameter {name} is given more "
                                                   "than once with different values.")
            values[name] = value
        self._values = values

    # ---- raw access, for the trail

    def names(self) -> builtins.list[builtins.str]:
        return builtins.list(self._values)

    def as_dict(self) -> dict[builtins.str, builtins.str]:
        return dict(self._values)

    def __contains__(self, name: object) -> builtins.bool:
        return name in self._values

    def __iter__(self) -> Iterator[builtins.str]:
        return iter(self._values)

    def __len__(self) -> builtins.int:
        return len(self._values)

    def raw(self, name: builtins.str) -> builtins.str | None:
        """The value as sent, or None when absent."""
        return self._values.get(name)

    # ---- typed getters

    def str(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.str | None = None,
            max_length: builtins.int | None = None) -> builtins.str | None:
        """The string value; an empty value is returned as sent unless the parameter is
        required (Missing<Name>: "{Name} is mandatory for this action." [doc: client error
        codes])."""
        value = self._values.get(name)
        if value is None or (required and value == ""):
            if required:
                raise MissingParameter.named(name)
            return default
        if max_length is not None and len(value) > max_length:
            raise InvalidParameter.named(name, f"Specified parameter {name} is longer than "
                                               f"{max_length} characters.")
        return value

    def _present(self, name: builtins.str, required: builtins.bool) -> builtins.str | None:
        # For typed values an empty string carries nothing: read it as absent.
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise MissingParameter.named(name)
            return None
        return value

    def int(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.int | None = None, minimum: builtins.int | None = None,
            maximum: builtins.int | None = None) -> builtins.int | None:
        """A decimal integer (ASCII digits, optional sign), within [minimum, maximum]."""
        text = self._present(name, required)
        if text is None:
            return default
        if _INTEGER.fullmatch(text) is None:
            raise InvalidParameter.named(name, f"Specified parameter {name} is not a valid "
                                               "integer.")
        number = builtins.int(text)
        if (minimum is not None and number < minimum) or (maximum is not None
                                                          and number > maximum):
            low = "" if minimum is None else f" at least {minimum}"
            high = "" if maximum is None else f" at most {maximum}"
            both = " and" if low and high else ""
            raise InvalidParameter.named(name, f"Specified parameter {name} must be{low}{both}"
                                               f"{high}.")
        return number

    def bool(self, name: builtins.str, *,
             default: builtins.bool | None = None) -> builtins.bool | None:
        """`true`/`false` in any case: the Python SDKs send `True`/`False`, the others
        `true`/`false` (ALIBABA-API 1.3)."""
        text = self._present(name, False)
        if text is None:
            return default
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise InvalidParameter.named(name, f"Specified parameter {name} must be true or "
                                               "false.")
        return lowered == "true"

    def json(self, name: builtins.str, *, required: builtins.bool = False,
             max_length: builtins.int | None = None) -> Any:
        """A parameter sent as one JSON string (KMS EncryptionContext, Tags; RAM
        CreatePolicy.Tag) (ALIBABA-API 1.3). None when absent. Duplicate object keys and
        NaN/Infinity are refused: they are ambiguous across JSON readers."""
        text = self._present(name, required)
        if text is None:
            return None
        if max_length is not None and len(text) > max_length:
            raise InvalidParameter.named(name, f"Specified parameter {name} is longer than "
                                               f"{max_length} characters.")
        try:
            return jsonlib.loads(text, object_pairs_hook=_unique_keys,
                                 parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise InvalidParameter.named(name, f"Specified parameter {name} is not valid "
                                               "JSON.") from None

    def list(self, prefix: builtins.str) -> builtins.list[Any]:
        """A flattened repeat list, ordered by its 1-based index: `Tag.N.Key`/`Tag.N.Value`
        give dicts ({"Key": ..., "Value": ...}), plain `Name.N` gives strings
        (ALIBABA-API 1.3)."""
        entries = self._entries(prefix)
        if any(field is not None for _, field, _ in entries):
            return builtins.list(self._records(prefix, entries))
        return [value for _, _, value in entries]

    def strings(self, prefix: builtins.str) -> builtins.list[builtins.str]:
        """`Name.1`, `Name.2`, ... as strings, in index order."""
        entries = self._entries(prefix)
        if any(field is not None for _, field, _ in entries):
            raise InvalidParameter.named(prefix, f"Specified parameter {prefix} must be a list "
                                                 f"of values ({prefix}.N).")
        return [value for _, _, value in entries]

    def records(self, prefix: builtins.str) -> builtins.list[dict[builtins.str, builtins.str]]:
        """`Name.N.Field` as dicts of Field -> value, in index order."""
        return self._records(prefix, self._entries(prefix))

    def _entries(self, prefix: builtins.str
                 ) -> builtins.list[tuple[builtins.int, builtins.str | None, builtins.str]]:
        """(index, field or None, value) for every `prefix.N[.field]`, sorted by index."""
        lead = prefix + "."
        found: builtins.list[tuple[builtins.int, builtins.str | None, builtins.str]] = []
        for key, value in self._values.items():
            if not key.startswith(lead):
                continue
            index, dot, field = key[len(lead):].partition(".")
            # `Tag.01` would alias `Tag.1`: only canonical 1-based indexes are accepted.
            if _INDEX.fullmatch(index) is None or (dot and not field):
                raise InvalidParameter.named(key, f"Specified parameter {key} has no valid "
                                                  "1-based index.")
            found.append((builtins.int(index), field or None, value))
        found.sort(key=lambda entry: (entry[0], entry[1] or ""))
        plain = {number for number, field, _ in found if field is None}
        nested = {number for number, field, _ in found if field is not None}
        if plain & nested:
            both = f"{prefix}.{min(plain & nested)}"
            raise InvalidParameter.named(both, f"Specified parameter {both} is given both as a "
                                               "value and as fields.")
        return found

    @staticmethod
    def _records(prefix: builtins.str,
                 entries: Sequence[tuple[builtins.int, builtins.str | None, builtins.str]]
                 ) -> builtins.list[dict[builtins.str, builtins.str]]:
        records: dict[builtins.int, dict[builtins.str, builtins.str]] = {}
        for index, field, value in entries:
            if field is None:
                raise InvalidParameter.named(f"{prefix}.{index}", f"Specified parameter "
                                             f"{prefix}.{index} must name a field "
                                             f"({prefix}.{index}.<Field>).")
            records.setdefault(index, {})[field] = value
        return [records[index] for index in sorted(records)]


def _unique_keys(pairs: builtins.list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
