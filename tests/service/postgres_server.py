"""A throwaway PostgreSQL server on 127.0.0.1 (Debian's ``postgresql`` package, installed by
``make postgresql``): ``initdb`` in a temporary folder, ``pg_ctl start`` on a free port,
run as the ``postgres`` user when the tests run as root (PostgreSQL refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from service.server_process import free_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[4])
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


class PostgresServer:
    def __init__(self) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise FileNotFoundError("PostgreSQL is not installed (make postgresql)")
        self._bin = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pedonc-pg-"))
        self._user: str | None = None
        if os.getuid() == 0:
            self._user = "postgres"
            account = pwd.getpwnam(self._user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "pedonc", "-A", "trust", "--no-sync")
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=on", "start",
        )  # fmt: skip
        self._data = data
        self.url = f"postgresql://pedonc@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self._bin / program), *arguments]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def reset(self) -> None:
        """Empty the tables between tests."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute("DROP TABLE IF EXISTS decisions, token_ids")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
