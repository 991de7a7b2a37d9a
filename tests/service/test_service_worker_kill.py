"""A worker killed (SIGKILL) under load: every decision a client received has its audit
record, with the same decision; the supervisor replaces the worker and service goes on."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pedonc_routing.service.audit import open_audit_store
from service.postgres_server import PostgresServer
from service.server_process import API_KEY, AUDIT_KEY, ServerProcess
from service.service_examples import all_example_patients


def _load(
    url: str, patients: list[dict[str, Any]], stop: threading.Event, received: list[Any]
) -> None:
    with httpx.Client(headers={"X-API-Key": API_KEY}, timeout=30) as client:
        index = 0
        while not stop.is_set():
            try:
                response = client.post(f"{url}/route", json=patients[index % len(patients)])
            except httpx.HTTPError:
                continue  # the killed worker's connections: no answer, so nothing to audit
            index += 1
            if response.status_code == 200:
                received.append((int(response.headers["Audit-Record"]), response.json()))


@pytest.mark.parametrize("backend", ["sqlite", "sqlite-group-commit", "postgres"])
def test_every_returned_decision_is_audited_after_a_worker_is_killed(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    audit_url = None
    if backend == "postgres":
        database: PostgresServer = request.getfixturevalue("postgres")
        database.reset()
        audit_url = database.url
    extra = ["--audit-group-commit"] if backend == "sqlite-group-commit" else []
    server = ServerProcess(tmp_path, workers=2, audit_url=audit_url, extra=extra)
    patients = [patient for patient in all_example_patients() if "patient_id" in patient]
    received: list[Any] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(server.url, patients, stop, received))
        for _ in range(8)
    ]
    try:
        for client in clients:
            client.start()
        while len(received) < 200:
            time.sleep(0.05)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        before = len(received)
        deadline = time.monotonic() + 60
        while len(received) < before + 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for client in clients:
            client.join()
        assert len(received) >= before + 300, "the service did not go on after the kill"
        deadline = time.monotonic() + 30
        while victim in server.worker_pids() or len(server.worker_pids()) != 2:
            assert time.monotonic() < deadline, "the supervisor did not replace the worker"
            time.sleep(0.1)
    finally:
        stop.set()
        server.stop()
    store = open_audit_store(server.audit_url, bytes.fromhex(AUDIT_KEY))
    try:
        for record_id, decision in received:
            record = store.get(record_id)
            assert record is not None, f"decision returned without audit record {record_id}"
            assert record.decision == decision
    finally:
        store.close()
    assert len({record_id for record_id, _ in received}) == len(received)


def test_a_decision_is_withheld_while_the_audit_store_is_down(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    database = PostgresServer()  # its own server: this test stops it
    server = ServerProcess(tmp_path, audit_url=database.url)
    headers = {"X-API-Key": API_KEY}
    patient = {**all_example_patients()[0], "patient_id": "kz-down-6262"}
    try:
        assert httpx.post(f"{server.url}/route", json=patient, headers=headers).status_code == 200
        database.stop()
        down = httpx.post(f"{server.url}/route", json=patient, headers=headers, timeout=60)
        assert down.status_code == 503
        assert down.json()["error"] == "audit_unavailable"
        assert "status" not in down.json()  # no decision without its record
        assert httpx.get(f"{server.url}/readyz", timeout=60).status_code == 503
        assert "kz-down-6262" not in server.log()
    finally:
        server.stop()
