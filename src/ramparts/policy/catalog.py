"""The built-in catalog: system policies that ship with every account, and RAM service codes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from ramparts.policy.compiled import CompiledPolicy, PolicySource, PolicyType, compile_policy
from ramparts.policy.document import PolicyDocument
from ramparts.policy.parser import parse_policy

__all__ = ["Catalog", "SystemPolicy"]


@dataclass(frozen=True, slots=True)
class SystemPolicy:
    name: str
    description: str
    version: str
    origin: str
    source: str
    document: PolicyDocument
    text: str

    @property
    def compiled(self) -> CompiledPolicy:
        return compile_policy(
            self.document, PolicySource(self.name, self.version, PolicyType.SYSTEM)
        )


def _system_policy(raw: Mapping[str, Any]) -> SystemPolicy:
    document = raw["PolicyDocument"]
    return SystemPolicy(
        name=raw["PolicyName"],
        description=raw["Description"],
        version=raw.get("DefaultVersion", "v1"),
        origin=raw["Origin"],
        source=raw["Source"],
        document=parse_policy(document),
        text=json.dumps(document, indent=2),
    )


class Catalog:
    """Reads the packaged data once, on first use; an instance is passed to whoever needs it."""

    @cached_property
    def system_policies(self) -> Mapping[str, SystemPolicy]:
        folder = resources.files("ramparts.policy").joinpath("data", "system")
        found = {}
        for entry in folder.iterdir():
            if entry.name.endswith(".json"):
                policy = _system_policy(json.loads(entry.read_text(encoding="utf-8")))
                found[policy.name] = policy
        return dict(sorted(found.items()))

    @cached_property
    def service_codes(self) -> frozenset[str]:
        data = resources.files("ramparts.policy").joinpath("data", "services.json")
        raw = json.loads(data.read_text(encoding="utf-8"))
        return frozenset(entry["code"].lower() for entry in raw["services"])

    def system_policy(self, name: str) -> SystemPolicy | None:
        """A system policy by name; RAM matches policy names case-insensitively."""
        policy = self.system_policies.get(name)
        if policy is not None:
            return policy
        folded = name.lower()
        return next((p for n, p in self.system_policies.items() if n.lower() == folded), None)
