"""The policy cache compiles each version once, builds each set once, and forgets on demand."""

from __future__ import annotations

from ramparts.policy import PolicySource, parse_policy
from ramparts.policy.cache import PolicyCache
from ramparts.policy.document import PolicyDocument

DOCUMENT = (
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}'
)


class _Loader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> PolicyDocument:
        self.calls += 1
        return parse_policy(DOCUMENT)


def test_each_version_is_compiled_once() -> None:
    cache, load = PolicyCache(), _Loader()
    v1 = cache.policy(PolicySource("ops", "v1"), load)
    assert cache.policy(PolicySource("ops", "v1"), load) is v1
    v2 = cache.policy(PolicySource("ops", "v2"), load)
    assert v2 is not v1
    recreated = cache.policy(PolicySource("ops", "v1"), load, revision="2026-02-01T00:00:00Z")
    assert recreated is not v1
    assert load.calls == 3


def test_sets_are_shared_whatever_the_order() -> None:
    cache, load = PolicyCache(), _Loader()
    a = cache.policy(PolicySource("a"), load)
    b = cache.policy(PolicySource("b"), load)
    assert cache.policy_set([a, b]) is cache.policy_set([b, a])


def test_bounded_and_forgetting() -> None:
    cache, load = PolicyCache(max_policies=2, max_sets=1), _Loader()
    first = cache.policy(PolicySource("a"), load)
    cache.policy(PolicySource("b"), load)
    cache.policy(PolicySource("c"), load)
    assert len(cache) == 2
    assert cache.policy(PolicySource("a"), load) is not first
    policy_set = cache.policy_set([first])
    cache.forget("a")
    assert cache.policy_set([first]) is not policy_set
    assert all(source.name != "a" for source, _ in cache._policies)


def test_a_set_never_serves_a_policy_recompiled_at_another_revision() -> None:
    """A version deleted and created again elsewhere (another replica) gets a new revision:
    the set built from its old text is not reused for the new one."""
    cache, load = PolicyCache(), _Loader()
    old = cache.policy(PolicySource("ops", "v1"), load, revision="old text")
    old_set = cache.policy_set([old])
    new = cache.policy(PolicySource("ops", "v1"), load, revision="new text")
    new_set = cache.policy_set([new])
    assert new_set is not old_set
    assert new_set.policies == (new,)
