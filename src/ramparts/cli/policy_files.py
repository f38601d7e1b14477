"""Reading policy documents named on the command line: files, or `system:<Name>`."""

from __future__ import annotations

import json
from pathlib import Path

from ramparts.cli.errors import UsageError
from ramparts.policy.catalog import Catalog
from ramparts.policy.compiled import CompiledPolicy, PolicySource, PolicyType, compile_policy
from ramparts.policy.document import PolicyKind
from ramparts.policy.parser import PolicyParseError, parse_policy

__all__ = ["SYSTEM_PREFIX", "detect_kind", "load_policy", "read_text"]

SYSTEM_PREFIX = "system:"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"no such file: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc


def detect_kind(text: str) -> PolicyKind:
    """Trust policy if every statement names a Principal and only sts:AssumeRole, resource
    policy if statements name a Principal otherwise, identity policy else."""
    try:
        data = json.loads(text)
        statements = data.get("Statement") if isinstance(data, dict) else None
    except ValueError:
        return PolicyKind.IDENTITY
    if not isinstance(statements, list) or not statements:
        return PolicyKind.IDENTITY
    if not all(isinstance(s, dict) and "Principal" in s for s in statements):
        return PolicyKind.IDENTITY
    actions: list[object] = []
    for statement in statements:
        value = statement.get("Action", [])
        actions += value if isinstance(value, list) else [value]
    if actions and all(isinstance(a, str) and a.lower() == "sts:assumerole" for a in actions):
        return PolicyKind.TRUST
    return PolicyKind.RESOURCE


def load_policy(
    name: str,
    catalog: Catalog,
    *,
    kind: PolicyKind | None = None,
    policy_type: PolicyType = PolicyType.CUSTOM,
) -> CompiledPolicy:
    """Compile the policy a command-line argument names, or raise UsageError saying why not."""
    if name.startswith(SYSTEM_PREFIX):
        policy_name = name[len(SYSTEM_PREFIX):]
        system = catalog.system_policy(policy_name)
        if system is None:
            raise UsageError(
                f"no system policy named {policy_name!r}; see 'ramparts policy list-system'"
            )
        return system.compiled
    path = Path(name)
    text = read_text(path)
    chosen = kind or detect_kind(text)
    try:
        document = parse_policy(text, kind=chosen)
    except PolicyParseError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    source_type = {PolicyKind.TRUST: PolicyType.TRUST, PolicyKind.RESOURCE: PolicyType.RESOURCE}
    return compile_policy(
        document, PolicySource(path.name, "v1", source_type.get(chosen, policy_type))
    )
