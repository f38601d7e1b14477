"""Policy diagnostics: errors, security warnings, warnings and suggestions, never raising.

The severities follow RAM's own policy check [doc: Validate policies]: an error blocks saving
the policy, a security warning marks a grant wider than least privilege (administrator access,
privilege escalation), a warning marks something that is probably not what the author meant
(a statement that can never match), a suggestion tidies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ramparts.core.identifiers import parse_arn
from ramparts.policy.compiled import CompiledStatement, PolicySource, compile_policy
from ramparts.policy.conditions import OPERATORS, lookup_operator
from ramparts.policy.document import Condition, Effect, PolicyDocument, PolicyKind, Statement
from ramparts.policy.matching import action_service, has_wildcard
from ramparts.policy.parser import MAX_CHARS, read_policy

__all__ = ["Diagnostic", "Severity", "validate_document", "validate_policy"]


class Severity(StrEnum):
    ERROR = "error"
    SECURITY_WARNING = "security-warning"
    WARNING = "warning"
    SUGGESTION = "suggestion"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message} [{self.code}]"


_ACTION_SHAPE = re.compile(r"^[A-Za-z0-9*?][A-Za-z0-9_.*?-]*:[A-Za-z0-9*?][A-Za-z0-9_*?]*$")
_KEY_SHAPE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_./*-][^\s]*$")

# Keys whose type is known, and the operator family each must be tested with [doc: Policy
# elements, common condition keys].
_KEY_FAMILIES = {
    "acs:currenttime": "Date",
    "acs:securetransport": "Bool",
    "acs:sourceip": "IpAddress",
    "acs:mfapresent": "Bool",
}

# Grants that let a holder raise its own privileges. Each row: the action, whether only a
# grant over other principals' resources counts (a user managing its own keys is fine),
# and what the grant enables.
_ESCALATIONS: tuple[tuple[str, bool, str], ...] = (
    ("ram:AttachPolicyToUser", False, "attach any policy, AdministratorAccess included, to a user"),
    ("ram:AttachPolicyToGroup", False, "attach any policy to a group"),
    ("ram:AttachPolicyToRole", False, "attach any policy to a role"),
    ("ram:CreatePolicyVersion", False, "rewrite a policy already attached to someone"),
    ("ram:SetDefaultPolicyVersion", False, "switch a policy to a wider version"),
    ("ram:UpdateRole", False, "rewrite a role's trust policy to let anyone assume it"),
    ("ram:CreateAccessKey", True, "create AccessKeys for other users and act as them"),
    ("ram:UpdateLoginProfile", True, "reset other users' console passwords"),
    ("ram:CreateLoginProfile", True, "give other users console passwords"),
    ("ram:AddUserToGroup", False, "join any group and take its permissions"),
    ("sts:AssumeRole", True, "assume every role of the account"),
)


def validate_policy(
    source: str | bytes | Mapping[str, Any],
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    max_chars: int | None = -1,
    known_services: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Every diagnostic for one document; `max_chars=-1` applies RAM's limit for `kind`."""
    limit = MAX_CHARS[kind] if max_chars == -1 else max_chars
    document, problems = read_policy(source, kind=kind, max_chars=limit)
    if document is None:
        return [Diagnostic(Severity.ERROR, p.code, p.path, p.message) for p in problems]
    return validate_document(document, known_services=known_services)


def validate_document(
    document: PolicyDocument, *, known_services: Iterable[str] | None = None
) -> list[Diagnostic]:
    services = frozenset(s.lower() for s in known_services) if known_services else None
    compiled = compile_policy(document, PolicySource("(validated)"))
    diagnostics: list[Diagnostic] = []
    seen: dict[tuple[Any, ...], int] = {}
    sids: dict[str, int] = {}
    for statement in compiled.statements:
        written = statement.statement
        diagnostics += _statement_shape(written, services)
        diagnostics += _conditions(written)
        diagnostics += _grants(statement, document.kind)
        diagnostics += _never_matches(statement, document.kind)
        signature = (
            written.effect, frozenset(a.lower() for a in written.actions), written.actions_negated,
            frozenset(written.resources or ()), written.resources_negated,
            frozenset((c.operator, c.key.lower(), frozenset(c.values)) for c in written.conditions),
            frozenset(written.principals or ()),
        )
        if signature in seen:
            diagnostics.append(Diagnostic(
                Severity.WARNING, "duplicate-statement", written.path,
                f"the statement repeats Statement[{seen[signature]}]",
            ))
        else:
            seen[signature] = written.index
        if written.sid is not None:
            if written.sid in sids:
                diagnostics.append(Diagnostic(
                    Severity.WARNING, "duplicate-sid", f"{written.path}.Sid",
                    f"Sid {written.sid!r} is already used by Statement[{sids[written.sid]}]",
                ))
            sids.setdefault(written.sid, written.index)
    return diagnostics


def _duplicates(path: str, values: tuple[str, ...], fold: bool) -> list[Diagnostic]:
    seen: set[str] = set()
    found = []
    for position, value in enumerate(values):
        key = value.lower() if fold else value
        if key in seen:
            found.append(Diagnostic(Severity.SUGGESTION, "duplicate-value", f"{path}[{position}]",
                                    f"{value!r} is listed more than once"))
        seen.add(key)
    return found


def _statement_shape(statement: Statement, services: frozenset[str] | None) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    element = "NotAction" if statement.actions_negated else "Action"
    for position, action in enumerate(statement.actions):
        path = f"{statement.path}.{element}[{position}]"
        if action == "*":
            continue
        if not _ACTION_SHAPE.match(action):
            found.append(Diagnostic(Severity.ERROR, "invalid-action-format", path,
                                    f"action {action!r} is not of the form <ram-code>:<action>"))
            continue
        service = action_service(action)
        if services is not None and service is not None and service not in services:
            found.append(Diagnostic(Severity.WARNING, "unknown-service", path,
                                    f"{service!r} is not a known RAM service code"))
    found += _duplicates(f"{statement.path}.{element}", statement.actions, fold=True)
    resource_element = "NotResource" if statement.resources_negated else "Resource"
    for position, resource in enumerate(statement.resources or ()):
        path = f"{statement.path}.{resource_element}[{position}]"
        if resource == "*":
            continue
        arn = parse_arn(resource)
        if arn is None:
            found.append(Diagnostic(
                Severity.ERROR, "invalid-resource", path,
                f"resource {resource!r} is not '*' or acs:<service>:<region>:<account>:<id>",
            ))
        elif services is not None and not has_wildcard(arn.service) \
                and arn.service.lower() not in services:
            found.append(Diagnostic(Severity.WARNING, "unknown-service", path,
                                    f"{arn.service!r} is not a known RAM service code"))
    found += _duplicates(f"{statement.path}.{resource_element}", statement.resources or (),
                         fold=False)
    return found


def _operator_hint(operator: str) -> str:
    for name in OPERATORS:
        if name.lower() == operator.lower():
            return f"; did you mean {name!r}?"
    if operator.endswith("IfExists"):
        return "; RAM has no IfExists operators"
    if ":" in operator:
        return "; the only set qualifiers are ForAnyValue: and ForAllValues:"
    return f"; use one of {', '.join(sorted(OPERATORS))}"


def _conditions(statement: Statement) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for condition in statement.conditions:
        looked_up = lookup_operator(condition.operator)
        if looked_up is None:
            found.append(Diagnostic(
                Severity.ERROR, "invalid-condition-operator", condition.path,
                f"unknown condition operator {condition.operator!r}"
                f"{_operator_hint(condition.operator)}; a statement with it never allows",
            ))
            continue
        qualifier, spec = looked_up
        if qualifier == "ForAllValues" and statement.effect is Effect.ALLOW:
            found.append(Diagnostic(
                Severity.SECURITY_WARNING, "for-all-values-absent-key", condition.path,
                f"{condition.operator} also holds when the request has no {condition.key}, "
                "so this Allow applies to requests that omit the key",
            ))
        if not _KEY_SHAPE.match(condition.key):
            found.append(Diagnostic(Severity.ERROR, "invalid-condition-key-format", condition.path,
                                    f"condition key {condition.key!r} is not <ram-code>:<key>"))
        if spec.family == "Bool" and len(condition.values) > 1:
            found.append(Diagnostic(Severity.ERROR, "multiple-boolean-values", condition.path,
                                    "a Bool condition takes exactly one value"))
        for position, value in enumerate(condition.values):
            try:
                spec.read_policy_value(value)
            except ValueError:
                found.append(Diagnostic(
                    Severity.ERROR, "invalid-condition-value",
                    f"{condition.path}[{position}]" if len(condition.values) > 1
                    else condition.path,
                    f"{value!r} is not a valid {spec.family} value for {condition.operator}",
                ))
        expected = _KEY_FAMILIES.get(condition.key.lower())
        if expected is not None and expected != spec.family:
            found.append(Diagnostic(
                Severity.WARNING, "condition-type-mismatch", condition.path,
                f"{condition.key} holds a {expected} value; test it with a {expected} operator, "
                f"not {condition.operator}",
            ))
    return found


def _covers_others(statement: CompiledStatement, action: str) -> bool:
    """Whether the statement grants `action` beyond one named principal's own resource."""
    resources = statement.statement.resources
    if resources is None or statement.resources_negated:
        return True
    target = "role" if action.startswith("sts:") else "user"
    for resource in resources:
        arn = parse_arn(resource)
        if resource == "*" or arn is None:
            return True
        name = arn.relative_id
        if name == "*" or (name.startswith(f"{target}/") and has_wildcard(name)):
            return True
        if has_wildcard(arn.relative_id.partition("/")[0]):
            return True
    return False


def _grants(statement: CompiledStatement, kind: PolicyKind) -> list[Diagnostic]:
    written = statement.statement
    if written.effect is not Effect.ALLOW or kind is not PolicyKind.IDENTITY:
        return _public_grant(statement, kind)
    found: list[Diagnostic] = []
    everything = written.resources == ("*",) and not written.resources_negated
    unconditional = not written.conditions
    if written.actions == ("*",) and not written.actions_negated and everything:
        severity = Severity.SECURITY_WARNING
        found.append(Diagnostic(
            severity, "administrator-access", written.path,
            "allows every action on every resource (administrator access)"
            + ("" if unconditional else ", under conditions"),
        ))
        return found
    if written.actions_negated:
        found.append(Diagnostic(Severity.SECURITY_WARNING, "allow-not-action",
                                f"{written.path}.NotAction",
                                "Allow with NotAction grants every action not listed, including "
                                "actions added to services later"))
    if written.resources_negated:
        found.append(Diagnostic(Severity.SECURITY_WARNING, "allow-not-resource",
                                f"{written.path}.NotResource",
                                "Allow with NotResource grants every resource not listed"))
    whole = [a.partition(":")[0] for a in written.actions if a.partition(":")[2] == "*"]
    if everything and not written.actions_negated and whole:
        found.append(Diagnostic(
            Severity.SECURITY_WARNING, "service-wildcard", f"{written.path}.Action",
            f"allows every action of {', '.join(whole)} on every resource; list the actions "
            "needed",
        ))
    for action, only_others, effect in _ESCALATIONS:
        if statement.matches_action(action) and (not only_others or _covers_others(statement,
                                                                                   action)):
            found.append(Diagnostic(
                Severity.SECURITY_WARNING, "privilege-escalation", written.path,
                f"grants {action}, which lets the holder {effect}",
            ))
    return found


def _public_grant(statement: CompiledStatement, kind: PolicyKind) -> list[Diagnostic]:
    written = statement.statement
    if written.effect is not Effect.ALLOW or kind is PolicyKind.IDENTITY:
        return []
    public = any(e.value in ("*", "acs:ram::*:root") for e in written.principals or ())
    if public and not written.conditions:
        return [Diagnostic(Severity.SECURITY_WARNING, "public-principal",
                           f"{written.path}.Principal",
                           "allows any principal (\"*\") without a condition")]
    return []


def _bounds(conditions: Iterable[Condition]) -> dict[tuple[str, str], list[tuple[str, Any]]]:
    grouped: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for condition in conditions:
        spec = OPERATORS.get(condition.operator)
        if spec is None or spec.family not in ("Numeric", "Date") or len(condition.values) != 1:
            continue
        try:
            value = spec.read_policy_value(condition.values[0])
        except ValueError:
            continue
        grouped.setdefault((spec.family, condition.key.lower()), []).append(
            (condition.operator, value)
        )
    return grouped


def _empty_range(tests: list[tuple[str, Any]]) -> bool:
    low: Any = None
    high: Any = None
    low_open = high_open = False
    for operator, value in tests:
        if operator.endswith(("GreaterThan", "GreaterThanEquals")):
            strict = operator.endswith("GreaterThan")
            if low is None or value > low or (value == low and strict):
                low, low_open = value, strict
        elif operator.endswith(("LessThan", "LessThanEquals")):
            strict = operator.endswith("LessThan")
            if high is None or value < high or (value == high and strict):
                high, high_open = value, strict
    if low is None or high is None:
        return False
    return bool(low > high or (low == high and (low_open or high_open)))


def _never_matches(statement: CompiledStatement, kind: PolicyKind) -> list[Diagnostic]:
    written = statement.statement
    found: list[Diagnostic] = []
    if written.actions_negated and "*" in written.actions:
        found.append(Diagnostic(Severity.WARNING, "never-matches", f"{written.path}.NotAction",
                                'NotAction ["*"] excludes every action, so the statement never '
                                "applies"))
    if written.resources_negated and "*" in (written.resources or ()):
        found.append(Diagnostic(Severity.WARNING, "never-matches", f"{written.path}.NotResource",
                                'NotResource ["*"] excludes every resource, so the statement '
                                "never applies"))
    for (family, key), tests in _bounds(written.conditions).items():
        if _empty_range(tests):
            found.append(Diagnostic(
                Severity.WARNING, "never-matches", f"{written.path}.Condition",
                f"the {family} tests on {key} admit no value, so the statement never applies",
            ))
    networks: dict[str, dict[str, set[str]]] = {}
    for condition in written.conditions:
        if condition.operator in ("IpAddress", "NotIpAddress"):
            per_key = networks.setdefault(condition.key.lower(), {})
            per_key.setdefault(condition.operator, set()).update(condition.values)
    for key, by_operator in networks.items():
        allowed = by_operator.get("IpAddress")
        if allowed and allowed <= by_operator.get("NotIpAddress", set()):
            found.append(Diagnostic(
                Severity.WARNING, "never-matches", f"{written.path}.Condition",
                f"{key} must be both inside and outside the same networks, so the statement "
                "never applies",
            ))
    services = statement.services
    if services and kind is PolicyKind.IDENTITY:
        for condition in written.conditions:
            looked_up = lookup_operator(condition.operator)
            prefix = condition.key.partition(":")[0].lower()
            if looked_up is not None and not looked_up[1].negated and looked_up[0] is None \
                    and prefix != "acs" \
                    and ":" in condition.key and prefix not in services:
                found.append(Diagnostic(
                    Severity.WARNING, "never-matches", condition.path,
                    f"{condition.key} is set only on {prefix} requests, but the statement "
                    f"covers only {', '.join(sorted(services))} actions",
                ))
    return found
