"""The condition operator table and the evaluation of one compiled condition.

One row per operator [doc: Policy elements; Conditional operators]: its family (how values are
read), whether it is negated, and its test. A key's values are OR'd; the caller ANDs keys and
operators. When the request lacks the key, a plain operator fails and a negated one
(`StringNotEquals`, `NotIpAddress`, ...) holds, the reading of a negated test that the
documentation's examples rely on (a Deny with `NotIpAddress` on `acs:SourceIp`). Set qualifiers
`ForAnyValue:` and `ForAllValues:` (found in Alibaba's own policy templates) test a key with
several values: any of them, or all of them, must match; `ForAllValues:` holds when the key is
absent, as AWS defines it. Anything the
engine cannot read, an unknown operator, a malformed policy value or a malformed request value,
is an ERROR outcome, which the evaluator resolves against the caller (fail closed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from ramparts.policy.document import Condition
from ramparts.policy.matching import compile_glob

__all__ = [
    "OPERATORS",
    "CompiledCondition",
    "OperatorSpec",
    "Outcome",
    "compile_condition",
    "lookup_operator",
    "parse_bool",
    "parse_date",
    "parse_ip",
    "parse_network",
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


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(text: str) -> IpAddress:
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(text: str) -> IpNetwork:
    return ipaddress.ip_network(text.strip(), strict=False)


def _in_network(address: Any, network: Any) -> bool:
    return bool(address.version == network.version and address in network)


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """One row of the operator table."""

    name: str
    family: str
    negated: bool
    read_policy_value: Callable[[str], Any]
    read_request_value: Callable[[str], Any]
    test: Callable[[Any, Any], bool]


def _identity(text: str) -> str:
    return text


def _casefold(text: str) -> str:
    return text.casefold()


def _glob_matcher(text: str) -> Callable[[str], bool]:
    return compile_glob(text)


def _equals(request_value: Any, policy_value: Any) -> bool:
    return bool(request_value == policy_value)


def _glob_test(request_value: Any, matcher: Any) -> bool:
    return bool(matcher(request_value))


def _rows() -> list[OperatorSpec]:
    rows = []
    for negated in (False, True):
        n = "Not" if negated else ""
        rows += [
            OperatorSpec(f"String{n}Equals", "String", negated, _identity, _identity, _equals),
            OperatorSpec(
                f"String{n}EqualsIgnoreCase", "String", negated, _casefold, _casefold, _equals
            ),
            OperatorSpec(f"String{n}Like", "String", negated, _glob_matcher, _identity, _glob_test),
            OperatorSpec(f"Numeric{n}Equals", "Numeric", negated, parse_number, parse_number,
                         _equals),
            OperatorSpec(f"Date{n}Equals", "Date", negated, parse_date, parse_date, _equals),
        ]
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "LessThan": lambda a, b: bool(a < b),
        "LessThanEquals": lambda a, b: bool(a <= b),
        "GreaterThan": lambda a, b: bool(a > b),
        "GreaterThanEquals": lambda a, b: bool(a >= b),
    }
    for suffix, compare in comparisons.items():
        rows.append(OperatorSpec(f"Numeric{suffix}", "Numeric", False, parse_number,
                                 parse_number, compare))
        rows.append(OperatorSpec(f"Date{suffix}", "Date", False, parse_date, parse_date, compare))
    rows.append(OperatorSpec("Bool", "Bool", False, parse_bool, parse_bool, _equals))
    rows.append(OperatorSpec("IpAddress", "IpAddress", False, parse_network, parse_ip,
                             _in_network))
    rows.append(OperatorSpec("NotIpAddress", "IpAddress", True, parse_network, parse_ip,
                             _in_network))
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
    """A condition with its operator looked up and its policy values read once."""

    __slots__ = ("condition", "error", "key", "qualifier", "spec", "values")

    def __init__(self, condition: Condition) -> None:
        self.condition = condition
        self.key = condition.key.lower()
        found = lookup_operator(condition.operator)
        self.qualifier: str | None = found[0] if found is not None else None
        self.spec: OperatorSpec | None = found[1] if found is not None else None
        self.values: tuple[Any, ...] = ()
        self.error: str | None = None
        if self.spec is None:
            self.error = f"unknown condition operator {condition.operator!r}"
            return
        try:
            self.values = tuple(self.spec.read_policy_value(v) for v in condition.values)
        except ValueError as exc:
            self.error = f"{condition.operator} cannot use the policy value: {exc}"

    def evaluate(self, context: Mapping[str, Sequence[str]]) -> Outcome:
        """The outcome of this condition against the request's condition keys."""
        spec = self.spec
        if spec is None or self.error is not None:
            return Outcome.ERROR
        present = context.get(self.key)
        if not present:
            if self.qualifier is not None:
                return Outcome.MET if self.qualifier == "ForAllValues" else Outcome.FAILED
            return Outcome.MET if spec.negated else Outcome.FAILED
        try:
            request_values = [spec.read_request_value(value) for value in present]
        except ValueError:
            return Outcome.ERROR
        test, negated, values = spec.test, spec.negated, self.values
        if self.qualifier is None:
            matched = any(test(mine, theirs) for mine in request_values for theirs in values)
            return Outcome.MET if matched is not negated else Outcome.FAILED
        each = [any(test(mine, theirs) for theirs in values) is not negated
                for mine in request_values]
        held = all(each) if self.qualifier == "ForAllValues" else any(each)
        return Outcome.MET if held else Outcome.FAILED

    def describe_failure(self, context: Mapping[str, Sequence[str]]) -> str:
        """Why this condition did not hold (or could not be decided), in one line."""
        condition = self.condition
        written = f"{condition.operator} {{{condition.key!r}: {list(condition.values)}}}"
        if self.error is not None:
            return f"condition {written} is invalid: {self.error}"
        present = context.get(self.key)
        if not present:
            return f"condition {written} failed: key {condition.key!r} absent from the request"
        shown = present[0] if len(present) == 1 else list(present)
        if self.evaluate(context) is Outcome.ERROR:
            return f"condition {written} failed: request value {shown!r} is not a valid " \
                   f"{self.spec.family if self.spec else ''} value".replace("  ", " ")
        return f"condition {written} failed for {shown}"


def compile_condition(condition: Condition) -> CompiledCondition:
    return CompiledCondition(condition)
