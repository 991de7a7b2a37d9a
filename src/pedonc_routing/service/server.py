"""Run the service under uvicorn: one process, or a supervisor with N worker processes.

Workers are separate processes (routing is CPU-bound Python; threads would share one core).
Each worker reads the same settings from ``PEDONC_SERVICE_SETTINGS`` and loads the bundle
itself. ``SIGHUP`` to the supervisor is passed on to every worker, and each worker swaps its
bundle atomically (uvicorn's own SIGHUP handling would restart the workers instead, and a
restart on an invalid bundle would leave no worker serving).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile

import uvicorn
from uvicorn.supervisors import Multiprocess

from pedonc_routing.service.settings import SETTINGS_VARIABLE, ServiceSettings

APP_FACTORY = "pedonc_routing.service.app:create_app_from_environment"


class _ForwardingSupervisor(Multiprocess):
    """uvicorn's supervisor (restarts a worker that dies), with SIGHUP passed on."""

    def handle_hup(self) -> None:
        for process in self.processes:
            if process.pid is not None and process.process.is_alive():
                os.kill(process.pid, signal.SIGHUP)


def serve(settings: ServiceSettings, *, host: str, port: int, workers: int) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests finish before a worker exits."""
    metrics_dir = None
    if workers > 1:
        settings = settings.replace(reload_signals_parent=True)
        metrics_dir = tempfile.mkdtemp(prefix="pedonc-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ[SETTINGS_VARIABLE] = settings.to_json()
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # a request line may carry query values; our metrics count instead
        timeout_graceful_shutdown=30,
        server_header=False,
    )
    try:
        if workers > 1:
            socket = config.bind_socket()
            _ForwardingSupervisor(config, sockets=[socket]).run()
        else:
            uvicorn.Server(config).run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
