"""Hot reload under load, on a real server with two workers: SIGHUP to the supervisor (or
the admin endpoint) swaps the bundle in every worker; requests in flight finish and no
request fails; an invalid bundle is refused and the previous one keeps serving."""

from __future__ import annotations

import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from service.server_process import ADMIN_KEY, API_KEY, ServerProcess
from service.service_examples import REPO, example_patient

PATIENT = example_patient("hodgkin_lymphoma/03_stage_ib_tg1.yaml")


def _load(
    url: str, stop: threading.Event, seen: list[tuple[float, str, str]], failures: list[Any]
) -> None:
    with httpx.Client(headers={"X-API-Key": API_KEY}, timeout=30) as client:
        while not stop.is_set():
            try:
                response = client.post(f"{url}/route", json=PATIENT)
            except httpx.HTTPError as error:
                failures.append(repr(error))
                continue
            if response.status_code != 200:
                failures.append((response.status_code, response.text[:200]))
                continue
            decision = response.json()
            seen.append(
                (time.monotonic(), decision["bundle_hash"], decision["protocol"]["version"])
            )


def _wait_for(
    seen: list[tuple[float, str, str]], version: str, after: float, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recent = [entry for entry in seen if entry[0] > after]
        # Both workers answer: once 40 answers in a row carry the version, every worker has it.
        if len(recent) >= 40 and all(entry[2] == version for entry in recent[-40:]):
            return
        time.sleep(0.1)
    raise AssertionError(f"version {version} not served by every worker in {timeout} s")


def _wait_for_swaps(server: ServerProcess, count: int, timeout: float = 90) -> None:
    """Each worker logs its swap: wait until ``count`` swaps are logged in all."""
    deadline = time.monotonic() + timeout
    while server.log().count("bundle swapped to") < count:
        assert time.monotonic() < deadline, f"fewer than {count} swaps logged in {timeout} s"
        time.sleep(0.1)


def _set_version(folder: Path, old: str, new: str) -> None:
    path = folder / "hodgkin_lymphoma.yaml"
    text = path.read_text(encoding="utf-8")
    assert f'version: "{old}"' in text
    path.write_text(text.replace(f'version: "{old}"', f'version: "{new}"', 1), encoding="utf-8")


def test_reload_under_load_swaps_atomically_and_refuses_an_invalid_bundle(tmp_path: Path) -> None:
    protocols = tmp_path / "protocols"
    shutil.copytree(REPO / "protocols", protocols)
    server = ServerProcess(tmp_path, workers=2, protocols=protocols)
    seen: list[tuple[float, str, str]] = []
    failures: list[Any] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(server.url, stop, seen, failures)) for _ in range(6)
    ]
    try:
        for client in clients:
            client.start()
        _wait_for(seen, "2026.1", 0)

        _set_version(protocols, "2026.1", "2099.1")
        marked = time.monotonic()
        server.process.send_signal(signal.SIGHUP)  # the supervisor passes it to each worker
        _wait_for_swaps(server, 2)  # both workers
        _wait_for(seen, "2099.1", marked)

        (protocols / "hodgkin_lymphoma.yaml").write_text("steps: [unclosed\n", encoding="utf-8")
        marked = time.monotonic()
        server.process.send_signal(signal.SIGHUP)
        refused = httpx.post(
            f"{server.url}/admin/reload", headers={"X-API-Key": ADMIN_KEY}, timeout=60
        )
        assert refused.status_code == 422
        assert refused.json()["error"] == "invalid_bundle"
        time.sleep(3)  # the signalled reloads have failed by now
        after = [entry for entry in seen if entry[0] > marked]
        assert len(after) > 40
        assert {entry[2] for entry in after} == {"2099.1"}

        shutil.copy(
            REPO / "protocols" / "hodgkin_lymphoma.yaml", protocols / "hodgkin_lymphoma.yaml"
        )
        _set_version(protocols, "2026.1", "2099.2")
        marked = time.monotonic()
        swapped = httpx.post(
            f"{server.url}/admin/reload", headers={"X-API-Key": ADMIN_KEY}, timeout=60
        )
        assert swapped.status_code == 200
        _wait_for_swaps(server, 5)  # the endpoint's worker, then both on the signal it sends
        _wait_for(seen, "2099.2", marked)
        # Either worker's /metrics sums both: each refused the signalled reload, one the
        # admin reload too.
        metrics = httpx.get(f"{server.url}/metrics").text
        refused = re.search(
            r'^pedonc_bundle_reloads_total\{outcome="refused"\} (\S+)$', metrics, re.M
        )
        assert refused is not None
        assert float(refused.group(1)) >= 3
    finally:
        stop.set()
        for client in clients:
            client.join()
        server.stop()
    assert failures == []
    versions = [entry[2] for entry in seen]
    assert set(versions) == {"2026.1", "2099.1", "2099.2"}
    hashes: dict[str, set[str]] = {entry[2]: set() for entry in seen}
    for _, bundle_hash, version in seen:
        hashes[version].add(bundle_hash)
    assert all(len(values) == 1 for values in hashes.values())  # never a mixed bundle
    text = server.log()
    assert "reload refused" in text
