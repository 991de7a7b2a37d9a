"""Prometheus metrics (``GET /metrics``). Labels are route templates, methods, status codes
and decision statuses: never a path with a value in it, never patient data.

With several workers ``serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` so that each worker writes
its samples there and any worker's ``/metrics`` reports the sum of all of them.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

REQUESTS = Counter(
    "pedonc_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "pedonc_http_request_duration_seconds", "Time to answer", ["route"], buckets=_BUCKETS
)
DECISIONS = Counter("pedonc_decisions_total", "Decisions returned (and audited)", ["status"])
AUDIT_WRITES = Histogram(
    "pedonc_audit_write_duration_seconds", "Time to commit one audit record", buckets=_BUCKETS
)
RELOADS = Counter("pedonc_bundle_reloads_total", "Bundle reloads", ["outcome"])
REJECTED = Counter("pedonc_requests_rejected_total", "Requests refused by a limit", ["reason"])


def exposition() -> tuple[bytes, str]:
    """The metrics text, summed over every worker when running several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route: Any = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(label, scope["method"], str(status[0])).inc()
            LATENCY.labels(label).observe(time.perf_counter() - started)


FEEDBACK = Counter("pedonc_cds_feedback_total", "CDS Hooks card feedback", ["outcome"])
