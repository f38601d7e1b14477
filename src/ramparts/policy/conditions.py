"""The condition operator table and the evaluation of one compiled condition.

One row per operator [doc: Policy elements; Conditional operators]: its family (how values are
read), whether it is negated, and how a request value is tested against the policy's values.
A key's values are OR'd; the caller ANDs keys and operators. When the request lacks the key, a
plain operator fails and a negated one (`StringNotEquals`, `NotIpAddress`, ...) holds, the
reading of a negated test that the documentation's examples rely on (a Deny with
`NotIpAddress` on `acs:SourceIp`). Set qualifiers `ForAnyValue:` and `ForAllValues:` (found in
Alibaba's own policy templates) test a key with several values: any of them, or all of them,
must match; `ForAllValues:` holds when the key is absent, as AWS defines it. Anything the engine
cannot read, an unknown operator, a malformed policy value or a malformed request value, is an
ERROR outcome, which the evaluator resolves against the caller (fail closed).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from ramparts.policy.document import Condition
from ramparts.policy.matching import compile_glob
from ramparts.policy.request import AccessRequest

__all__ = [
    "OPERATORS",
    "QUALIFIERS",
    "CompiledCondition",
    "OperatorSpec",
    "Outcome",
    "lookup_operator",
    "parse_bool",
    "parse_date",
    "parse_ip",
    "parse_ip_range",
    "parse_number",
]


class Outcome(Enum):
    MET = "met"
    FAILED = "failed"
    ERROR = "error"


def parse_number(text: str) -> float:
    value = float(text.strip())
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def parse_date(text: str) -> datetime:
    """ISO 8601 date or date-time (`2012-11-11T23:59:59Z`); without an offset, UTC."""
    stripped = text.strip()
    try:
        moment = datetime.fromisoformat(stripped.replace("z", "Z"))
    except ValueError:
        moment = datetime.combine(date.fromisoformat(stripped), datetime.min.time())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_bool(text: str) -> bool:
    folded = text.strip().lower()
    if folded == "true":
        return True
    if folded == "false":
        return False
    raise ValueError(f"{text!r} is not true or false")


IpKey = tuple[int, int]
IpRange = tuple[int, int, int]


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(r"\.".join([_OCTET] * 4))


def parse_ip(text: str) -> IpKey:
    """An address as (IP version, integer); IPv4-mapped IPv6 addresses read as IPv4."""
    dotted = _IPV4.fullmatch(text)
    if dotted is not None:
        a, b, c, d = dotted.groups()
        return 4, (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.version, int(address)


def parse_ip_range(text: str) -> IpRange:
    """A CIDR block or single address as (IP version, first, last)."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    return network.version, int(network.network_address), int(network.broadcast_address)


ValueTest = Callable[[Any], bool]


def _equal_to(values: tuple[Any, ...]) -> ValueTest:
    return frozenset(values).__contains__


def _like(patterns: tuple[str, ...]) -> ValueTest:
    matchers = [compile_glob(pattern) for pattern in patterns]
    if len(matchers) == 1:
        return matchers[0]
    return lambda value: any(match(value) for match in matchers)


def _within(ranges: tuple[IpRange, ...]) -> ValueTest:
    def test(address: IpKey) -> bool:
        version, number = address
        return any(v == version and low <= number <= high for v, low, high in ranges)

    return test


def _compare(check: Callable[[Any, Any], bool]) -> Callable[[tuple[Any, ...]], ValueTest]:
    def build(values: tuple[Any, ...]) -> ValueTest:
        return lambda value: any(check(value, bound) for bound in values)

    return build


def _identity(text: str) -> str:
    return text


def _casefold(text: str) -> str:
    return text.casefold()


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """One row of the operator table: how to read values on each side, and the test built
    from the policy's values that a single request value must pass."""

    name: str
    family: str
    negated: bool
    read_policy_value: Callable[[str], Any]
    read_request_value: Callable[[str], Any]
    build_test: Callable[[tuple[Any, ...]], ValueTest]


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "LessThan": lambda value, bound: bool(value < bound),
    "LessThanEquals": lambda value, bound: bool(value <= bound),
    "GreaterThan": lambda value, bound: bool(value > bound),
    "GreaterThanEquals": lambda value, bound: bool(value >= bound),
}


def _rows() -> list[OperatorSpec]:
    rows = []
    for negated in (False, True):
        n = "Not" if negated else ""
        rows += [
            OperatorSpec(f"String{n}Equals", "String", negated, _identity, _identity, _equal_to),
            OperatorSpec(f"String{n}EqualsIgnoreCase", "String", negated, _casefold, _casefold,
                         _equal_to),
            OperatorSpec(f"String{n}Like", "String", negated, _identity, _identity, _like),
            OperatorSpec(f"Numeric{n}Equals", "Numeric", negated, parse_number, parse_number,
                         _equal_to),
            OperatorSpec(f"Date{n}Equals", "Date", negated, parse_date, parse_date, _equal_to),
        ]
    for suffix, check in _COMPARISONS.items():
        rows.append(OperatorSpec(f"Numeric{suffix}", "Numeric", False, parse_number,
                                 parse_number, _compare(check)))
        rows.append(OperatorSpec(f"Date{suffix}", "Date", False, parse_date, parse_date,
                                 _compare(check)))
    rows.append(OperatorSpec("Bool", "Bool", False, parse_bool, parse_bool, _equal_to))
    rows.append(OperatorSpec("IpAddress", "IpAddress", False, parse_ip_range, parse_ip, _within))
    rows.append(OperatorSpec("NotIpAddress", "IpAddress", True, parse_ip_range, parse_ip,
                             _within))
    return rows


OPERATORS: Mapping[str, OperatorSpec] = {row.name: row for row in _rows()}
QUALIFIERS = ("ForAnyValue", "ForAllValues")


def lookup_operator(name: str) -> tuple[str | None, OperatorSpec] | None:
    """The set qualifier (or None) and the operator row a written operator names."""
    qualifier, separator, base = name.rpartition(":")
    if separator and qualifier not in QUALIFIERS:
        return None
    spec = OPERATORS.get(base)
    if spec is None:
        return None
    return (qualifier or None), spec


class CompiledCondition:
    """A condition with its operator looked up and its test built once."""

    __slots__ = ("condition", "error", "key", "qualifier", "spec", "test")

    def __init__(self, condition: Condition) -> None:
        self.condition = condition
        self.key = condition.key.lower()
        found = lookup_operator(condition.operator)
        self.qualifier: str | None = found[0] if found is not None else None
        self.spec: OperatorSpec | None = found[1] if found is not None else None
        self.test: ValueTest | None = None
        self.error: str | None = None
        if self.spec is None:
            self.error = f"unknown condition operator {condition.operator!r}"
            return
        try:
            values = tuple(self.spec.read_policy_value(v) for v in condition.values)
        except ValueError as exc:
            self.error = f"{condition.operator} cannot use the policy value: {exc}"
            return
        self.test = self.spec.build_test(values)

    def evaluate(self, request: AccessRequest) -> Outcome:
        """The outcome of this condition for the request."""
        spec, test = self.spec, self.test
        if spec is None or test is None:
            return Outcome.ERROR
        if not request.context.get(self.key):
            if self.qualifier is not None:
                return Outcome.MET if self.qualifier == "ForAllValues" else Outcome.FAILED
            return Outcome.MET if spec.negated else Outcome.FAILED
        # Request values are read into their type once per request and key, then shared by
        # every condition that tests the key; an unreadable value is remembered as None.
        slot = (self.key, spec.read_request_value)
        cache = request.typed
        if slot in cache:
            values = cache[slot]
        else:
            raw = request.context[self.key]
            read = spec.read_request_value
            try:
                values = (read(raw[0]),) if len(raw) == 1 else tuple(map(read, raw))
            except ValueError:
                values = None
            cache[slot] = values
        if values is None:
            return Outcome.ERROR
        negated = spec.negated
        if self.qualifier is None:
            matched = (
                test(values[0]) if len(values) == 1 else any(test(value) for value in values)
            )
            return Outcome.MET if matched is not negated else Outcome.FAILED
        each = (test(value) is not negated for value in values)
        held = all(each) if self.qualifier == "ForAllValues" else any(each)
        return Outcome.MET if held else Outcome.FAILED

    def describe_failure(self, request: AccessRequest) -> str:
        """Why this condition did not hold (or could not be decided), in one line."""
        condition = self.condition
        written = f"{condition.operator} {{{condition.key!r}: {list(condition.values)}}}"
        if self.error is not None:
            return f"condition {written} is invalid: {self.error}"
        present: Sequence[str] = request.context.get(self.key, ())
        if not present:
            return f"condition {written} failed: key {condition.key!r} absent from the request"
        shown = present[0] if len(present) == 1 else list(present)
        if self.evaluate(request) is Outcome.ERROR and self.spec is not None:
            return (f"condition {written} failed: request value {shown!r} is not a valid "
                    f"{self.spec.family} value")
        return f"condition {written} failed for {shown}"
