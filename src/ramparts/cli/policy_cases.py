"""Decision cases in YAML: each names policies, a request and the decision it must get."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ramparts.cli.errors import UsageError
from ramparts.cli.policy_files import SYSTEM_PREFIX, load_policy, read_text
from ramparts.policy.catalog import Catalog
from ramparts.policy.compiled import CompiledPolicy, PolicyType
from ramparts.policy.document import PolicyKind
from ramparts.policy.evaluator import DecisionEffect, PolicySet, authorize
from ramparts.policy.explanation import explain, explanation_to_dict
from ramparts.policy.request import AccessRequest, Principal, PrincipalType

__all__ = ["CaseResult", "load_cases", "resolve_root", "run_cases"]

_EXPECTED = {
    "allow": DecisionEffect.ALLOW,
    "deny": DecisionEffect.EXPLICIT_DENY,
    "explicitdeny": DecisionEffect.EXPLICIT_DENY,
    "implicitdeny": DecisionEffect.IMPLICIT_DENY,
}
_PATH_FIELDS = ("policies", "session_policies", "trust_policy", "resource_policy")


@dataclass(frozen=True, slots=True)
class CaseResult:
    id: str
    expected: DecisionEffect
    actual: DecisionEffect
    explanation: dict[str, Any]

    @property
    def passed(self) -> bool:
        return self.expected is self.actual

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "expected": str(self.expected),
            "actual": str(self.actual),
            "passed": self.passed,
            "explanation": self.explanation,
        }


def load_cases(path: Path) -> list[Mapping[str, Any]]:
    try:
        data = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(case, Mapping) for case in data):
        raise UsageError(f"{path} must be a YAML list of cases (mappings)")
    for index, case in enumerate(data):
        for field in ("id", "action", "expected"):
            if field not in case:
                raise UsageError(f"{path}: case {index + 1} has no {field!r}")
        if str(case["expected"]).lower() not in _EXPECTED:
            raise UsageError(
                f"{path}: case {case['id']}: expected must be Allow, Deny or ImplicitDeny"
            )
        if "policies" not in case and "trust_policy" not in case:
            raise UsageError(f"{path}: case {case['id']} names no policies and no trust_policy")
    return data


def _paths(case: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for field in _PATH_FIELDS:
        value = case.get(field)
        values = value if isinstance(value, list) else [value] if value else []
        found += [str(v) for v in values if not str(v).startswith(SYSTEM_PREFIX)]
    return found


def resolve_root(cases_file: Path, cases: Sequence[Mapping[str, Any]]) -> Path:
    """The nearest folder at or above the cases file from which every policy path resolves."""
    needed = {p for case in cases for p in _paths(case)}
    for folder in [cases_file.resolve().parent, *cases_file.resolve().parents]:
        if all((folder / p).is_file() for p in needed):
            return folder
    raise UsageError(
        f"the policy paths in {cases_file} do not resolve from any folder above it; pass --root"
    )


def _principal(case: Mapping[str, Any]) -> Principal | None:
    raw = case.get("principal")
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or "type" not in raw or "id" not in raw:
        raise UsageError(f"case {case['id']}: principal needs a type and an id")
    try:
        return Principal(PrincipalType(str(raw["type"])), str(raw["id"]))
    except ValueError as exc:
        raise UsageError(
            f"case {case['id']}: principal type must be RAM, Service or Federated"
        ) from exc


def _context(case: Mapping[str, Any]) -> dict[str, str | list[str]]:
    raw = case.get("context") or {}
    if not isinstance(raw, Mapping):
        raise UsageError(f"case {case['id']}: context must be a mapping of keys to values")
    context: dict[str, str | list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            context[str(key)] = [_text(v) for v in value]
        else:
            context[str(key)] = _text(value)
    return context


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class _Runner:
    def __init__(self, root: Path, catalog: Catalog) -> None:
        self.root = root
        self.catalog = catalog
        self.compiled: dict[tuple[str, PolicyKind], CompiledPolicy] = {}

    def policy(self, name: str, kind: PolicyKind, policy_type: PolicyType) -> CompiledPolicy:
        key = (name, kind)
        if key not in self.compiled:
            target = name if name.startswith(SYSTEM_PREFIX) else str(self.root / name)
            self.compiled[key] = load_policy(
                target, self.catalog, kind=kind, policy_type=policy_type
            )
        return self.compiled[key]

    def policy_set(self, case: Mapping[str, Any], field: str, kind: PolicyKind,
                   policy_type: PolicyType) -> PolicySet | None:
        value = case.get(field)
        if value is None:
            return None
        names = value if isinstance(value, list) else [value]
        return PolicySet(self.policy(str(n), kind, policy_type) for n in names)

    def run(self, case: Mapping[str, Any]) -> CaseResult:
        request = AccessRequest(
            action=str(case["action"]),
            resource=str(case.get("resource", "*")),
            context=_context(case),
            principal=_principal(case),
        )
        identity = self.policy_set(case, "policies", PolicyKind.IDENTITY, PolicyType.CUSTOM)
        session = self.policy_set(case, "session_policies", PolicyKind.IDENTITY,
                                  PolicyType.SESSION)
        trust = self.policy_set(case, "trust_policy", PolicyKind.TRUST, PolicyType.TRUST)
        resource = self.policy_set(case, "resource_policy", PolicyKind.RESOURCE,
                                   PolicyType.RESOURCE)
        if trust is not None and resource is not None:
            raise UsageError(f"case {case['id']}: give a trust_policy or a resource_policy")
        # A trust-policy case asks about the trust policy alone unless identity policies are
        # given too, in which case both must allow, as for a real sts:AssumeRole.
        decision = authorize(
            request, identity, session=session, resource=trust or resource,
            requires_both=trust is not None and identity is not None,
        )
        return CaseResult(
            id=str(case["id"]),
            expected=_EXPECTED[str(case["expected"]).lower()],
            actual=decision.effect,
            explanation=explanation_to_dict(explain(decision)),
        )


def run_cases(
    cases: Sequence[Mapping[str, Any]], root: Path, catalog: Catalog
) -> list[CaseResult]:
    runner = _Runner(root, catalog)
    return [runner.run(case) for case in cases]
