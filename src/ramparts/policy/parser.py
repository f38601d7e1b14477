"""JSON text -> PolicyDocument, with every structural problem reported by its JSON path."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ramparts.core.errors import RampartsError
from ramparts.policy.document import (
    Condition,
    Effect,
    PolicyDocument,
    PolicyKind,
    PrincipalEntry,
    Statement,
)

__all__ = [
    "MAX_CHARS",
    "MAX_SESSION_POLICY_CHARS",
    "ParseProblem",
    "PolicyParseError",
    "parse_policy",
    "read_policy",
]

# Character limits of a document as RAM accepts it. Custom identity policies: 6,144 characters
# [doc: CreatePolicy]; STS session policies: 2,048 [doc: AssumeRole]; OSS bucket policies:
# 16 KB [doc: OSS bucket policy]. RAM rejects long trust policies
# (InvalidParameter.AssumeRolePolicyDocument.Length) without publishing the limit; the session
# policy limit is applied to them.
MAX_CHARS: Mapping[PolicyKind, int] = {
    PolicyKind.IDENTITY: 6144,
    PolicyKind.TRUST: 2048,
    PolicyKind.RESOURCE: 16384,
}
MAX_SESSION_POLICY_CHARS = 2048
PRINCIPAL_KINDS = ("RAM", "Service", "Federated")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal"}
)
_DOCUMENT_KEYS = frozenset({"Version", "Statement"})


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """One reason a document is not a policy: where (a JSON path) and what was expected."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PolicyParseError(RampartsError, ValueError):
    """The document is not a valid policy; `problems` lists every reason, first one first."""

    def __init__(self, problems: Sequence[ParseProblem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid policy document"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(source: str | bytes, problems: list[ParseProblem]) -> Any:
    try:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
        return json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except _DuplicateKeyError as exc:
        problems.append(
            ParseProblem("$", "duplicate-key", f"key {exc.key!r} appears twice in one object")
        )
    except UnicodeDecodeError:
        problems.append(ParseProblem("$", "not-json", "the document is not UTF-8 text"))
    except RecursionError:
        problems.append(ParseProblem("$", "not-json", "the document is nested too deeply"))
    except ValueError as exc:
        problems.append(ParseProblem("$", "not-json", f"the document is not valid JSON: {exc}"))
    return None


def read_policy(
    source: str | bytes | Mapping[str, Any],
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    max_chars: int | None = None,
) -> tuple[PolicyDocument | None, list[ParseProblem]]:
    """Parse leniently: the document (None if unusable) and every problem found.

    A document is returned only when there are no problems; the problems are the parser's
    complete findings, so a validator can report all of them at once.
    """
    problems: list[ParseProblem] = []
    if isinstance(source, str | bytes):
        if max_chars is not None and len(source) > max_chars:
            problems.append(
                ParseProblem(
                    "$",
                    "too-long",
                    f"the document has {len(source)} characters; at most {max_chars} allowed",
                )
            )
            return None, problems
        data = _decode(source, problems)
        if problems:
            return None, problems
    else:
        data = source
    document = _Reader(kind, problems).document(data)
    if problems:
        return None, problems
    return document, problems


def parse_policy(
    source: str | bytes | Mapping[str, Any],
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    max_chars: int | None = None,
) -> PolicyDocument:
    """Parse a policy document or raise `PolicyParseError` naming every problem."""
    document, problems = read_policy(source, kind=kind, max_chars=max_chars)
    if document is None:
        raise PolicyParseError(problems)
    return document


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _scalar_text(value: Any) -> str | None:
    """A condition value as policy text: strings as they are, numbers and booleans as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and value == value and value not in (
        float("inf"),
        float("-inf"),
    ):
        return json.dumps(value)
    return None


class _Reader:
    """Walks decoded JSON, building the document and recording problems as it goes."""

    def __init__(self, kind: PolicyKind, problems: list[ParseProblem]) -> None:
        self.kind = kind
        self.problems = problems

    def fail(self, path: str, code: str, message: str) -> None:
        self.problems.append(ParseProblem(path, code, message))

    def document(self, data: Any) -> PolicyDocument | None:
        if not isinstance(data, Mapping):
            self.fail("$", "not-object", f"a policy must be a JSON object, got {_type_name(data)}")
            return None
        for key in data:
            if key not in _DOCUMENT_KEYS:
                self.fail(
                    str(key), "unknown-element", f"unknown element {key!r}; expected Version, "
                    "Statement"
                )
        version = data.get("Version")
        if version is None:
            self.fail("Version", "missing-version", 'the "Version" element is required ("1")')
        elif version != "1":
            self.fail(
                "Version", "invalid-version", f'Version must be the string "1", got {version!r}'
            )
        raw_statements = data.get("Statement")
        if raw_statements is None:
            self.fail("Statement", "missing-statement", 'the "Statement" element is required')
            return None
        if not isinstance(raw_statements, list):
            self.fail(
                "Statement",
                "wrong-type",
                f"Statement must be a list of statements, got {_type_name(raw_statements)}",
            )
            return None
        statements = []
        for index, raw in enumerate(raw_statements):
            statement = self.statement(index, raw)
            if statement is not None:
                statements.append(statement)
        return PolicyDocument(version="1", statements=tuple(statements), kind=self.kind)

    def statement(self, index: int, raw: Any) -> Statement | None:
        path = f"Statement[{index}]"
        if not isinstance(raw, Mapping):
            self.fail(path, "wrong-type", f"a statement must be an object, got {_type_name(raw)}")
            return None
        for key in raw:
            if key not in _STATEMENT_KEYS:
                self.fail(f"{path}.{key}", "unknown-element", f"unknown statement element {key!r}")
        sid = raw.get("Sid")
        if sid is not None and not isinstance(sid, str):
            self.fail(f"{path}.Sid", "wrong-type", f"Sid must be a string, got {_type_name(sid)}")
            sid = None
        effect = self.effect(path, raw.get("Effect"))
        actions, actions_negated = self.either(path, raw, "Action", "NotAction", required=True)
        resources, resources_negated = self.either(
            path, raw, "Resource", "NotResource", required=self.kind is not PolicyKind.TRUST
        )
        principals = self.principal(path, raw)
        conditions = self.conditions(path, raw.get("Condition"))
        if effect is None or actions is None:
            return None
        return Statement(
            index=index,
            effect=effect,
            sid=sid,
            actions=actions,
            actions_negated=actions_negated,
            resources=resources,
            resources_negated=resources_negated,
            conditions=conditions,
            principals=principals,
        )

    def effect(self, path: str, value: Any) -> Effect | None:
        if value is None:
            self.fail(f"{path}.Effect", "missing-effect", 'Effect is required: "Allow" or "Deny"')
            return None
        if value == "Allow":
            return Effect.ALLOW
        if value == "Deny":
            return Effect.DENY
        self.fail(f"{path}.Effect", "invalid-effect", f'Effect must be "Allow" or "Deny", got '
                  f"{value!r}")
        return None

    def either(
        self, path: str, raw: Mapping[str, Any], name: str, negated_name: str, *, required: bool
    ) -> tuple[tuple[str, ...] | None, bool]:
        has_plain, has_negated = name in raw, negated_name in raw
        if has_plain and has_negated:
            self.fail(
                f"{path}.{negated_name}",
                "conflicting-elements",
                f"a statement may have {name} or {negated_name}, not both",
            )
            return None, False
        if not has_plain and not has_negated:
            if required:
                self.fail(
                    f"{path}.{name}", f"missing-{name.lower()}", f"{name} (or {negated_name}) "
                    "is required"
                )
            return None, False
        key = name if has_plain else negated_name
        return self.strings(f"{path}.{key}", raw[key]), has_negated

    def strings(self, path: str, value: Any) -> tuple[str, ...] | None:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.fail(path, "wrong-type", f"expected a string or a list of strings, got "
                      f"{_type_name(value)}")
            return None
        if not items:
            self.fail(path, "empty-list", "expected at least one value")
            return None
        result = []
        for position, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{path}[{position}]", "wrong-type", f"expected a string, got "
                          f"{_type_name(item)}")
            elif not item:
                self.fail(f"{path}[{position}]", "empty-value", "expected a non-empty string")
            else:
                result.append(item)
        return tuple(result) if len(result) == len(items) else None

    def principal(self, path: str, raw: Mapping[str, Any]) -> tuple[PrincipalEntry, ...] | None:
        here = f"{path}.Principal"
        if "Principal" not in raw:
            if self.kind is not PolicyKind.IDENTITY:
                self.fail(here, "missing-principal", f"a {self.kind} policy statement must name "
                          "a Principal")
            return None
        if self.kind is PolicyKind.IDENTITY:
            self.fail(here, "unexpected-principal", "Principal is only allowed in trust and "
                      "resource policies, not in identity policies")
            return None
        value = raw["Principal"]
        if isinstance(value, Mapping):
            entries: list[PrincipalEntry] = []
            if not value:
                self.fail(here, "empty-list", "Principal names no principal")
            for kind, members in value.items():
                if kind not in PRINCIPAL_KINDS:
                    self.fail(f"{here}.{kind}", "invalid-principal-type",
                              f"principal type must be one of {', '.join(PRINCIPAL_KINDS)}, "
                              f"got {kind!r}")
                    continue
                names = self.strings(f"{here}.{kind}", members)
                entries.extend(PrincipalEntry(kind, name) for name in names or ())
            return tuple(entries)
        names = self.strings(here, value)
        return tuple(PrincipalEntry("", name) for name in names or ())

    def conditions(self, path: str, block: Any) -> tuple[Condition, ...]:
        here = f"{path}.Condition"
        if block is None:
            return ()
        if not isinstance(block, Mapping):
            self.fail(here, "wrong-type", f"Condition must be an object, got {_type_name(block)}")
            return ()
        result: list[Condition] = []
        for operator, tests in block.items():
            op_path = f"{here}.{operator}"
            if not isinstance(tests, Mapping) or not tests:
                self.fail(op_path, "wrong-type", "a condition operator must map one or more keys "
                          f"to values, got {_type_name(tests)}")
                continue
            for key, raw_values in tests.items():
                key_path = f"{op_path}.{key}"
                values = self.condition_values(key_path, raw_values)
                if values is not None:
                    result.append(Condition(operator, key, values, key_path))
        return tuple(result)

    def condition_values(self, path: str, raw: Any) -> tuple[str, ...] | None:
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            self.fail(path, "empty-list", "a condition key needs at least one value")
            return None
        values = []
        for position, item in enumerate(items):
            text = _scalar_text(item)
            if text is None:
                where = f"{path}[{position}]" if isinstance(raw, list) else path
                self.fail(where, "wrong-type", "a condition value must be a string, number or "
                          f"boolean, got {_type_name(item)}")
                return None
            values.append(text)
        return tuple(values)
