"""Fixtures of the service tests: a real server, a real PostgreSQL server, API headers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from service.postgres_server import PostgresServer, postgres_bin
from service.server_process import API_KEY, ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("service"))
    yield process
    process.stop()


@pytest.fixture
def api_headers() -> dict[str, str]:
    return {"X-API-Key": API_KEY}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server; skipped where it is not installed, unless
    PEDONC_REQUIRE_POSTGRES=1 (``make test``), where its absence fails."""
    if postgres_bin() is None:
        if os.environ.get("PEDONC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not installed: run `make postgresql`")
        pytest.skip("PostgreSQL is not installed (make postgresql)")
    server = PostgresServer()
    yield server
    server.stop()
