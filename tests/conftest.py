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


POSTGRES_ADMIN_URL = os.environ.get(
    "RAMPARTS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_url() -> Any:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a runtime dependency
        pytest.fail("psycopg is not installed")
    name = f"ramparts_test_{os.getpid()}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
