"""Compiled policies and policy sets kept by policy version, so each is compiled once.

A policy version's document never changes (RAM creates a new version instead), so
(type, name, version) identifies a compiled policy for as long as the version exists; deleting
a version or a policy must `forget` it. The cache is bounded and forgets the least recently used
entries first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from ramparts.policy.compiled import CompiledPolicy, PolicySource, compile_policy
from ramparts.policy.document import PolicyDocument
from ramparts.policy.evaluator import PolicySet

__all__ = ["PolicyCache"]


class PolicyCache:
    """Compiled policies by version, and the policy sets built from them."""

    def __init__(self, max_policies: int = 20_000, max_sets: int = 20_000) -> None:
        self._policies: OrderedDict[PolicySource, CompiledPolicy] = OrderedDict()
        self._sets: OrderedDict[frozenset[PolicySource], PolicySet] = OrderedDict()
        self._max_policies = max_policies
        self._max_sets = max_sets

    def policy(self, source: PolicySource, load: Callable[[], PolicyDocument]) -> CompiledPolicy:
        """The compiled policy for `source`, calling `load` for its document on a miss."""
        compiled = self._policies.get(source)
        if compiled is not None:
            self._policies.move_to_end(source)
            return compiled
        compiled = compile_policy(load(), source)
        self._policies[source] = compiled
        if len(self._policies) > self._max_policies:
            self._policies.popitem(last=False)
        return compiled

    def policy_set(self, policies: Sequence[CompiledPolicy]) -> PolicySet:
        """The policy set of exactly these policies (in any order), built once."""
        key = frozenset(p.source for p in policies)
        found = self._sets.get(key)
        if found is not None:
            self._sets.move_to_end(key)
            return found
        built = PolicySet(policies)
        self._sets[key] = built
        if len(self._sets) > self._max_sets:
            self._sets.popitem(last=False)
        return built

    def forget(self, name: str) -> None:
        """Drop every version of a policy, and every set that holds one of them."""
        for source in [s for s in self._policies if s.name == name]:
            del self._policies[source]
        for key in [k for k in self._sets if any(s.name == name for s in k)]:
            del self._sets[key]

    def __len__(self) -> int:
        return len(self._policies)
