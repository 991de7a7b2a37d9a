"""Fixtures of the service tests: a real server, example patients as JSON, API headers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from postgres_server import PostgresServer, postgres_bin
from server_process import API_KEY, ServerProcess

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patients"


def example_patient(relative: str) -> dict[str, Any]:
    """An example patient file as the JSON a hospital system would send."""
    data = yaml.safe_load((EXAMPLES / relative).read_text(encoding="utf-8"))
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def all_example_patients() -> list[dict[str, Any]]:
    paths = sorted(p for p in EXAMPLES.rglob("*.yaml") if p.name != "expected.yaml")
    return [example_patient(str(path.relative_to(EXAMPLES))) for path in paths]


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
