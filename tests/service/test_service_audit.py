"""The audit store on SQLite and on a real PostgreSQL server: records, lookups by keyed
patient hash, JWT-id replay claims, concurrent writers, and a writer killed mid-write."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pedonc_routing.service.audit import AuditStore, open_audit_store, patient_key
from service.postgres_server import PostgresServer

KEY = bytes.fromhex("aa" * 32)
DECISION = {"status": "routed", "bundle_hash": "sha256:abc", "step": {"id": "induction"}}


@pytest.fixture(params=["sqlite", "sqlite-group-commit", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    if request.param.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        server.reset()
        url = server.url
    opened = open_audit_store(url, KEY, group_commit=request.param == "sqlite-group-commit")
    yield opened
    opened.close()


def test_a_record_reads_back_and_is_found_by_the_keyed_patient_hash(store: AuditStore) -> None:
    first = store.record("kz-0042", "sha256:abc", {"all": "2025.1"}, DECISION)
    second = store.record(
        "kz-0042", "sha256:def", {"all": "2025.2"}, {**DECISION, "status": "needs_data"}
    )
    store.record("kz-0043", "sha256:abc", {"all": "2025.1"}, DECISION)
    store.record(None, "sha256:abc", {"all": "2025.1"}, DECISION)
    assert second > first
    found = store.find("kz-0042")
    assert [record.record_id for record in found] == [first, second]
    assert found[0].decision == DECISION
    assert found[0].protocols == {"all": "2025.1"}
    assert found[1].status == "needs_data"
    assert found[0].patient_key == patient_key(KEY, "kz-0042")
    assert found[0].patient_key != patient_key(bytes.fromhex("bb" * 32), "kz-0042")
    assert store.find("kz-9999") == []
    record = store.get(first)
    assert record is not None
    assert record.bundle_hash == "sha256:abc"
    assert store.get(10**9) is None
    store.check()


def test_a_jwt_id_is_claimed_once_within_its_lifetime(store: AuditStore) -> None:
    later = int(time.time()) + 300
    assert store.claim_token_id("https://ehr.example", "jti-1", later)
    assert not store.claim_token_id("https://ehr.example", "jti-1", later)
    assert store.claim_token_id("https://other.example", "jti-1", later)
    expired = int(time.time()) - 5
    assert store.claim_token_id("https://ehr.example", "jti-2", expired)
    # An expired claim is forgotten (the token itself would be refused for its exp).
    assert store.claim_token_id("https://ehr.example", "jti-2", later)


def test_concurrent_writers_lose_nothing(store: AuditStore) -> None:
    def write(index: int) -> int:
        return store.record(f"kz-{index % 7}", "sha256:abc", {"all": "1"}, {**DECISION, "n": index})

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(write, range(200)))
    assert len(set(ids)) == 200
    numbers = sorted(
        record.decision["n"] for index in range(7) for record in store.find(f"kz-{index}")
    )
    assert numbers == list(range(200))


_WRITER = """
import sys
from pedonc_routing.service.audit import open_audit_store
store = open_audit_store(sys.argv[1], bytes.fromhex("aa" * 32), group_commit=sys.argv[2] == "1")
decision = {"status": "routed", "pad": "x" * 2000}
n = 0
while True:
    record_id = store.record("kz-1", "sha256:abc", {"all": "1"}, {**decision, "n": n})
    print(record_id, n, flush=True)  # printed only after the commit returned
    n += 1
"""


@pytest.mark.parametrize("backend", ["sqlite", "sqlite-group-commit", "postgres"])
def test_a_writer_killed_mid_write_loses_no_committed_record(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        server.reset()
        url = server.url
    grouped = "1" if backend == "sqlite-group-commit" else "0"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url, grouped], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    committed: list[tuple[int, int]] = []
    deadline = time.monotonic() + 60
    while len(committed) < 300 and time.monotonic() < deadline:
        line = writer.stdout.readline()
        if line:
            record_id, n = line.split()
            committed.append((int(record_id), int(n)))
    writer.send_signal(signal.SIGKILL)  # mid-write: it never stops writing
    for line in writer.stdout.read().splitlines():  # lines printed before the kill
        record_id, n = line.split()
        committed.append((int(record_id), int(n)))
    writer.wait()
    assert len(committed) >= 300
    if backend.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = open_audit_store(url, KEY)
    try:
        for record_id, n in committed:
            record = store.get(record_id)
            assert record is not None, record_id
            assert record.decision["n"] == n
    finally:
        store.close()
