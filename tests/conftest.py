"""Shared fixtures: where the shared corpus lies, and small policy builders."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ramparts.policy import (
    CompiledPolicy,
    PolicyKind,
    PolicySet,
    PolicySource,
    PolicyType,
    compile_policy,
    parse_policy,
)

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("RAMPARTS_SHARED", REPO.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = shared_dir() / "corpus"
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpus is missing at {path}")
        pytest.skip(f"the shared corpus is not at {path} (set RAMPARTS_SHARED)")
    return path


def statement(**fields: Any) -> dict[str, Any]:
    """A statement with Allow, every action and every resource unless told otherwise."""
    base: dict[str, Any] = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    base.update(fields)
    return base


def policy(*statements: dict[str, Any], name: str = "p", kind: PolicyKind = PolicyKind.IDENTITY,
           policy_type: PolicyType = PolicyType.CUSTOM) -> CompiledPolicy:
    document = parse_policy(
        json.dumps({"Version": "1", "Statement": list(statements)}), kind=kind
    )
    return compile_policy(document, PolicySource(name, "v1", policy_type))


def policy_set(*statements: dict[str, Any], kind: PolicyKind = PolicyKind.IDENTITY) -> PolicySet:
    return PolicySet([policy(*statements, kind=kind)])
