"""API tests run against real servers on free ports, one per store backend: every test that
takes `server` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from ramparts.testing import RunningServer, start_server
from tests.api.sdk import SdkClients
from tests.conftest import PostgresDatabases


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp(f"server-{request.param}")
    url = None
    if request.param == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        url = databases.create()
    with start_server(data_dir, database_url=url) as running:
        yield running


@pytest.fixture(scope="session", params=[None, "v2"], ids=["acs3", "rpc-v1"])
def admin(request: pytest.FixtureRequest, server: RunningServer) -> SdkClients:
    """The bootstrap administrator, signing with each scheme in turn."""
    return SdkClients.admin(server, request.param)


_names = itertools.count(1)


@pytest.fixture
def unique() -> str:
    """A name prefix no other test uses (servers are shared by the tests of a session)."""
    return f"t{next(_names)}"
