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


class PostgresDatabases:
    """Creates fresh PostgreSQL databases for a test session and drops them at its end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def create(self) -> str:
        import psycopg

        name = f"ramparts_test_{os.getpid()}_{len(self.created)}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for name in self.created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_databases() -> Any:
    """A factory of fresh PostgreSQL databases; fails in CI and skips elsewhere when
    PostgreSQL is not reachable."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a runtime dependency
        pytest.fail("psycopg is not installed")
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5).close()
    except psycopg.Error as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    return postgres_databases.create()
