"""A real ``pedonc-routing serve`` on 127.0.0.1 in a subprocess, for the service tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from pedonc_routing.service.settings import hash_key

API_KEY = "test-api-key-0123456789"
ADMIN_KEY = "test-admin-key-9876543210"
AUDIT_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
SERVE = [sys.executable, "-c", "from pedonc_routing.cli import main; main()", "serve"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """Starts the service and waits until ``/readyz`` answers 200."""

    def __init__(
        self,
        workdir: Path,
        *,
        workers: int = 1,
        audit_url: str | None = None,
        protocols: Path | None = None,
        issuers: dict[str, Any] | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.audit_url = audit_url or f"sqlite:///{workdir / 'audit.sqlite3'}"
        keys = workdir / "admin-keys.txt"
        keys.write_text(hash_key(ADMIN_KEY) + "\n", encoding="utf-8")
        arguments = [
            *SERVE,
            "--port", str(self.port),
            "--workers", str(workers),
            "--api-key-hashes", hash_key(API_KEY),
            "--admin-keys-file", str(keys),
            "--audit", self.audit_url,
            "--audit-key", AUDIT_KEY,
            *extra,
        ]  # fmt: skip
        if protocols is not None:
            arguments += ["--protocols", str(protocols)]
        if issuers is not None:
            issuer_file = workdir / "issuers.json"
            issuer_file.write_text(json.dumps(issuers), encoding="utf-8")
            arguments += ["--cds-issuers", str(issuer_file)]
        self.log_path = workdir / f"server-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            arguments, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready in {timeout} s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        # multiprocessing's resource tracker is a child too; workers run spawn_main.
        return [pid for pid in pids if b"spawn_main" in _command_line(pid)]


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
