"""Schemathesis fuzzes every operation of the running service from its OpenAPI document
(bounded: a few dozen examples per operation, no deadline); no input gives a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from service.server_process import API_KEY, ServerProcess


@schemathesis.serializer("application/x-ndjson")
def _json_lines(context: Any, value: Any) -> bytes:
    """A generated batch body: its text as is (a JSON value per line or not, both tested)."""
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("fuzz"), issuers={})
    yield process
    process.stop()


def _fuzz(operation: Any, url: str, calls: list[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples on every run
    )
    def fuzz(case: Any) -> None:
        # The JSON API's key is sent, so the generated bodies reach the handlers.
        response = case.call(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30)
        calls.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()


def test_no_input_gives_a_server_error(fuzzed_server: ServerProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12
    statuses: dict[str, list[int]] = {}
    for operation in operations:
        statuses[operation.label] = []
        _fuzz(operation, fuzzed_server.url, statuses[operation.label])
    assert all(statuses.values()), statuses
    # The fuzzing reached the routing itself, not only the refusals around it.
    assert 200 in statuses["POST /route"] or 422 in statuses["POST /route"]
