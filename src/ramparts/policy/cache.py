"""Compiled policies and policy sets kept by policy version, so each is compiled once.

A policy version's document never changes (RAM creates a new version instead), so (type, name,
version) plus a revision that tells apart a version deleted and created again (its document
text) identifies a compiled policy; `forget` drops a policy's entries early. The cache is
bounded and forgets the least recently used entries first.
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
        self._policies: OrderedDict[tuple[PolicySource, str], CompiledPolicy] = OrderedDict()
        self._sets: OrderedDict[frozenset[tuple[PolicySource, int]], PolicySet] = OrderedDict()
        self._max_policies = max_policies
        self._max_sets = max_sets

    def policy(self, source: PolicySource, load: Callable[[], PolicyDocument],
               revision: str = "") -> CompiledPolicy:
        """The compiled policy for `source` at `revision`, calling `load` on a miss."""
        key = (source, revision)
        compiled = self._policies.get(key)
        if compiled is not None:
            self._policies.move_to_end(key)
            return compiled
        compiled = compile_policy(load(), source)
        self._policies[key] = compiled
        if len(self._policies) > self._max_policies:
            self._policies.popitem(last=False)
        return compiled

    def policy_set(self, policies: Sequence[CompiledPolicy]) -> PolicySet:
        """The policy set of exactly these compiled policies (in any order), built once. A set
        is keyed by the compiled policies themselves, not only by their sources: a version
        recompiled at another revision (deleted and created again, here or by another replica)
        never reaches a set built from its old text. The cached set holds its policies, so
        their identities cannot be reused while it lives."""
        key = frozenset((p.source, id(p)) for p in policies)
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
        for entry in [k for k in self._policies if k[0].name == name]:
            del self._policies[entry]
        for members in [k for k in self._sets if any(s.name == name for s, _ in k)]:
            del self._sets[members]

    def __len__(self) -> int:
        return len(self._policies)
