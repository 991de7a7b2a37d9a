"""Throughput and latency of ``pedonc-routing serve`` on loopback (docs/service.md).

Starts the real service (uvicorn, 1 and 2 workers, SQLite audit store with synchronous=FULL
in a temporary folder), then for ``/route`` and for a CDS Hooks ``patient-view`` call with
its prefetch measures requests/s and p50/p99 latency at 1, 16 and 64 concurrent
connections. Bounded: ``--requests`` per configuration (default 2,000) and ``--seconds``
per configuration (default 20), whichever comes first.

The load generator runs on the same machine as the server: ``wrk`` (if on PATH) for
``/route``, otherwise and for CDS Hooks (each call needs its own signed JWT, made before
timing) an httpx asyncio client. Its CPU use competes with the server's.

    python bench/service_bench.py [--workers 1 2] [--concurrency 1 16 64] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import yaml
from cryptography.hazmat.primitives.asymmetric import ec

from pedonc_routing.interop.fhir import patient_to_fhir
from pedonc_routing.service.settings import hash_key

REPO = Path(__file__).resolve().parents[1]
PATIENT_FILE = REPO / "examples" / "patients" / "hodgkin_lymphoma" / "03_stage_ib_tg1.yaml"
API_KEY = "bench-key-0123456789"
ISSUER = "https://ehr.bench.example"
SERVICE = "pedonc-routing-patient-view"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _patient() -> dict[str, Any]:
    data = yaml.safe_load(PATIENT_FILE.read_text(encoding="utf-8"))
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def _prefetch_request(patient: dict[str, Any]) -> dict[str, Any]:
    resources = [entry["resource"] for entry in patient_to_fhir(patient)["entry"]]
    prefetch: dict[str, Any] = {
        "patient": next(r for r in resources if r["resourceType"] == "Patient")
    }
    for key, kind in {
        "conditions": "Condition",
        "observations": "Observation",
        "medicationAdministrations": "MedicationAdministration",
        "procedures": "Procedure",
        "carePlans": "CarePlan",
    }.items():
        found = [r for r in resources if r["resourceType"] == kind]
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in found],
        }
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": prefetch["patient"].get("id", "p")},
        "prefetch": prefetch,
    }


class Server:
    def __init__(
        self, workers: int, folder: Path, private: ec.EllipticCurvePrivateKey, audit: str | None
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
        issuers = folder / "issuers.json"
        issuers.write_text(json.dumps({ISSUER: {"jwks": {"keys": [{**public, "kid": "k1"}]}}}))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from pedonc_routing.cli import main; main()", "serve",
             "--port", str(self.port), "--workers", str(workers),
             "--api-key-hashes", hash_key(API_KEY), "--cds-issuers", str(issuers),
             "--audit", audit or f"sqlite:///{folder / f'audit-{workers}.sqlite3'}",
             "--audit-key", "ab" * 32, "--jti-window", "3600"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("the service did not become ready")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def _summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    if not ordered:
        return {"requests": 0, "errors": errors}
    return {
        "requests": len(ordered),
        "errors": errors,
        "requests_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


async def _httpx_load(
    url: str, bodies: list[bytes], headers: list[dict[str, str]], concurrency: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.monotonic() + seconds

        async def one_connection() -> None:
            nonlocal next_index, errors
            while next_index < len(bodies) and time.monotonic() < deadline:
                index = next_index
                next_index += 1
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=bodies[index], headers=headers[index])
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {**_summary(latencies, elapsed, errors), "client": "httpx"}


_WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def _wrk_load(
    url: str, body: bytes, concurrency: int, seconds: float, folder: Path
) -> dict[str, Any]:
    script = folder / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-API-Key"] = "{API_KEY}"\n'
    )
    output = subprocess.run(
        ["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{int(seconds)}s",
         "--latency", "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    percentiles = {m[0]: float(m[1]) * scale[m[2]] for m in _WRK_LATENCY.findall(output)}
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "requests_per_s": rate,
        "p50_ms": round(percentiles["50"], 2),
        "p99_ms": round(percentiles["99"], 2),
        "client": "wrk",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--requests", type=int, default=2000, help="per configuration (httpx)")
    parser.add_argument("--seconds", type=float, default=10, help="per configuration")
    parser.add_argument(
        "--audit", default=None, help="audit store URL (default: SQLite in a temporary folder)"
    )
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()

    patient = _patient()
    route_body = json.dumps(patient).encode()
    cds_body = json.dumps(_prefetch_request(patient)).encode()
    private = ec.generate_private_key(ec.SECP384R1())
    use_wrk = shutil.which("wrk") is not None
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pedonc-bench-") as temporary:
        folder = Path(temporary)
        for workers in arguments.workers:
            server = Server(workers, folder, private, arguments.audit)
            try:
                route_url = f"{server.url}/route"
                cds_url = f"{server.url}/cds-services/{SERVICE}"
                # Warm up every worker (imports, first decision, first audit write).
                with httpx.Client(headers={"X-API-Key": API_KEY}) as warm:
                    for _ in range(50):
                        warm.post(route_url, content=route_body)
                for concurrency in arguments.concurrency:
                    if use_wrk:
                        route = _wrk_load(
                            route_url, route_body, concurrency, arguments.seconds, folder
                        )
                    else:
                        plain = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
                        route = asyncio.run(
                            _httpx_load(
                                route_url,
                                [route_body] * arguments.requests,
                                [plain] * arguments.requests,
                                concurrency,
                                arguments.seconds,
                            )
                        )
                    results.append(
                        {
                            "endpoint": "/route",
                            "workers": workers,
                            "connections": concurrency,
                            **route,
                        }
                    )
                    now = time.time()
                    tokens = [
                        jwt.encode(
                            {"iss": ISSUER, "sub": "bench", "aud": cds_url, "iat": int(now),
                             "exp": int(now + 1800), "jti": str(uuid.uuid4())},
                            private, algorithm="ES384", headers={"kid": "k1"},
                        )
                        for _ in range(arguments.requests)
                    ]  # fmt: skip
                    headers = [
                        {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}
                        for t in tokens
                    ]
                    bodies = [cds_body] * arguments.requests
                    cds = asyncio.run(
                        _httpx_load(cds_url, bodies, headers, concurrency, arguments.seconds)
                    )
                    results.append(
                        {
                            "endpoint": "cds patient-view",
                            "workers": workers,
                            "connections": concurrency,
                            **cds,
                        }
                    )
                    if not arguments.json:
                        for row in results[-2:]:
                            print(row, flush=True)
            finally:
                server.stop()
    report = {
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "audit": arguments.audit or "sqlite (temporary folder)",
        "results": results,
    }
    print(json.dumps(report, indent=2) if arguments.json else json.dumps(report))


if __name__ == "__main__":
    main()
