"""The audit store: every decision is recorded, and committed, before it is returned.

A record holds the bundle hash, the protocol versions, the decision JSON, the time and a
keyed HMAC-SHA256 of the patient id: a hospital that knows the child's id (and the key) can
find the child's decisions, while the store never holds the identifier itself.

SQLite is the embedded default (WAL, ``synchronous=FULL``: a commit is on disk when it
returns, so a crash mid-write loses no committed record); PostgreSQL (psycopg 3) is the
production option shared by every instance behind a load balancer. One transaction per
decision. Calls block: the app runs them in a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

#: JWT ids seen within the replay window, shared by every worker that uses the store.
_TOKEN_TABLE = (
    "CREATE TABLE IF NOT EXISTS token_ids ("
    " issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at BIGINT NOT NULL,"
    " PRIMARY KEY (issuer, jti))"
)


def _schema(id_column: str) -> tuple[str, ...]:
    """The tables, the same on both databases but for the auto-numbered id's type."""
    return (
        "CREATE TABLE IF NOT EXISTS decisions ("
        f" record_id {id_column},"
        " recorded_at TEXT NOT NULL, patient_key TEXT, bundle_hash TEXT NOT NULL,"
        " protocols TEXT NOT NULL, status TEXT NOT NULL, decision TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS decisions_patient_key ON decisions (patient_key)",
        _TOKEN_TABLE,
    )


_COLUMNS = "recorded_at, patient_key, bundle_hash, protocols, status, decision"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One recorded decision, as read back."""

    record_id: int
    recorded_at: str
    patient_key: str | None
    bundle_hash: str
    protocols: dict[str, str]
    status: str
    decision: dict[str, Any]


def patient_key(key: bytes, patient_id: str | None) -> str | None:
    """The HMAC-SHA256 (hex) of the patient id under the service's audit key."""
    if patient_id is None:
        return None
    return hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


class AuditStore(Protocol):
    """Where decisions are recorded; ``record`` returns only after the commit."""

    def record(
        self,
        patient_id: str | None,
        bundle_hash: str,
        protocols: Mapping[str, str],
        decision: Mapping[str, Any],
    ) -> int: ...

    def find(self, patient_id: str) -> list[AuditRecord]: ...

    def claim_token_id(self, issuer: str, jti: str, expires_at: int) -> bool:
        """Record a JWT id; False when it was already recorded and has not expired."""

    def get(self, record_id: int) -> AuditRecord | None: ...

    def check(self) -> None:
        """Raise when the store cannot be written (readiness)."""

    def close(self) -> None: ...


def _row_values(
    key: bytes,
    patient_id: str | None,
    bundle_hash: str,
    protocols: Mapping[str, str],
    decision: Mapping[str, Any],
) -> tuple[str, str | None, str, str, str, str]:
    return (
        datetime.now(UTC).isoformat(timespec="microseconds"),
        patient_key(key, patient_id),
        bundle_hash,
        json.dumps(dict(protocols), sort_keys=True),
        str(decision.get("status")),
        json.dumps(decision, ensure_ascii=False, sort_keys=True),
    )


def _record_of(row: tuple[Any, ...]) -> AuditRecord:
    record_id, recorded_at, key, bundle_hash, protocols, status, decision = row
    return AuditRecord(
        record_id=int(record_id),
        recorded_at=str(recorded_at),
        patient_key=key,
        bundle_hash=bundle_hash,
        protocols=json.loads(protocols),
        status=status,
        decision=json.loads(decision),
    )


#: The most records one group commit holds.
_GROUP_LIMIT = 256


@dataclass(frozen=True, slots=True)
class _Pending:
    values: tuple[str, str | None, str, str, str, str]
    result: Future[int]


class SqliteAuditStore:
    """The embedded store: one file, WAL, ``synchronous=FULL``, a transaction per record.

    Several worker processes may share the file (SQLite serialises the writers; a writer
    waits up to ``busy_timeout`` for the lock).

    ``group_commit=True`` (opt-in) lets one writer thread commit the records that arrive
    together in one transaction: each ``record`` call still returns only after the commit
    that holds its record, but one disk sync serves them all.
    """

    def __init__(self, path: Path, key: bytes, *, group_commit: bool = False) -> None:
        self._key = key
        self._lock = threading.Lock()  # one connection per process, used by one thread at a time
        self._connection = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            for statement in _schema("INTEGER PRIMARY KEY AUTOINCREMENT"):
                self._connection.execute(statement)
            self._connection.execute("COMMIT")
        self._pending: queue.SimpleQueue[_Pending | None] | None = None
        self._writer: threading.Thread | None = None
        if group_commit:
            self._pending = queue.SimpleQueue()
            self._writer = threading.Thread(
                target=self._write_groups, name="audit-group-commit", daemon=True
            )
            self._writer.start()

    def _insert(self, rows: list[tuple[str, str | None, str, str, str, str]]) -> list[int]:
        """The rows in one transaction; their record ids once it is committed."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                ids = []
                for values in rows:
                    cursor = self._connection.execute(
                        f"INSERT INTO decisions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", values
                    )
                    assert cursor.lastrowid is not None
                    ids.append(cursor.lastrowid)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        return ids

    def _write_groups(self) -> None:
        assert self._pending is not None
        while True:
            first = self._pending.get()
            if first is None:
                return
            group = [first]
            while len(group) < _GROUP_LIMIT:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._pending.put(None)  # stop after this group
                    break
                group.append(item)
            try:
                ids = self._insert([item.values for item in group])
            except Exception as error:
                for item in group:
                    item.result.set_exception(error)
                continue
            for item, record_id in zip(group, ids, strict=True):
                item.result.set_result(record_id)

    def record(
        self,
        patient_id: str | None,
        bundle_hash: str,
        protocols: Mapping[str, str],
        decision: Mapping[str, Any],
    ) -> int:
        values = _row_values(self._key, patient_id, bundle_hash, protocols, decision)
        if self._pending is None:
            return self._insert([values])[0]
        pending = _Pending(values, Future())
        self._pending.put(pending)
        return pending.result.result()  # returns once the group's commit returned

    def find(self, patient_id: str) -> list[AuditRecord]:
        with self._lock:
            rows = self._connection.execute(
                f"SELECT record_id, {_COLUMNS} FROM decisions WHERE patient_key = ?"
                " ORDER BY record_id",
                (patient_key(self._key, patient_id),),
            ).fetchall()
        return [_record_of(row) for row in rows]

    def claim_token_id(self, issuer: str, jti: str, expires_at: int) -> bool:
        now = int(time.time())
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.execute("DELETE FROM token_ids WHERE expires_at < ?", (now,))
                inserted = self._connection.execute(
                    "INSERT INTO token_ids (issuer, jti, expires_at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (issuer, jti, expires_at),
                ).rowcount
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        return inserted == 1

    def get(self, record_id: int) -> AuditRecord | None:
        with self._lock:
            row = self._connection.execute(
                f"SELECT record_id, {_COLUMNS} FROM decisions WHERE record_id = ?", (record_id,)
            ).fetchone()
        return None if row is None else _record_of(row)

    def check(self) -> None:
        with self._lock:
            self._connection.execute("SELECT 1 FROM decisions LIMIT 1").fetchall()

    def close(self) -> None:
        if self._pending is not None and self._writer is not None:
            self._pending.put(None)
            self._writer.join()
        with self._lock:
            self._connection.close()


class PostgresAuditStore:
    """The production store: PostgreSQL through psycopg 3, a small connection pool."""

    def __init__(self, url: str, key: bytes, *, pool_size: int = 4) -> None:
        from psycopg_pool import ConnectionPool  # only deployments on PostgreSQL need it

        self._key = key
        # A short wait for a connection: a down database must answer 503 within the
        # request time limit, not hold the request.
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=5)
        with self._pool.connection() as connection:
            # Two workers starting together may both create the table: serialise them.
            connection.execute("SELECT pg_advisory_xact_lock(4150215)")
            for statement in _schema("BIGSERIAL PRIMARY KEY"):
                connection.execute(statement)

    def record(
        self,
        patient_id: str | None,
        bundle_hash: str,
        protocols: Mapping[str, str],
        decision: Mapping[str, Any],
    ) -> int:
        values = _row_values(self._key, patient_id, bundle_hash, protocols, decision)
        # The pool's connection block commits on a clean exit (and rolls back otherwise);
        # synchronous_commit (on by default) makes the commit durable before it returns.
        with self._pool.connection() as connection:
            row = connection.execute(
                f"INSERT INTO decisions ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"
                " RETURNING record_id",
                values,
            ).fetchone()
        assert row is not None
        return int(row[0])

    def find(self, patient_id: str) -> list[AuditRecord]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                f"SELECT record_id, {_COLUMNS} FROM decisions WHERE patient_key = %s"
                " ORDER BY record_id",
                (patient_key(self._key, patient_id),),
            ).fetchall()
        return [_record_of(row) for row in rows]

    def claim_token_id(self, issuer: str, jti: str, expires_at: int) -> bool:
        with self._pool.connection() as connection:
            connection.execute("DELETE FROM token_ids WHERE expires_at < %s", (int(time.time()),))
            inserted = connection.execute(
                "INSERT INTO token_ids (issuer, jti, expires_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (issuer, jti, expires_at),
            ).rowcount
        return inserted == 1

    def get(self, record_id: int) -> AuditRecord | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                f"SELECT record_id, {_COLUMNS} FROM decisions WHERE record_id = %s",
                (record_id,),
            ).fetchone()
        return None if row is None else _record_of(row)

    def check(self) -> None:
        with self._pool.connection() as connection:
            connection.execute("SELECT 1").fetchall()

    def close(self) -> None:
        self._pool.close()


def open_audit_store(url: str, key: bytes, *, group_commit: bool = False) -> AuditStore:
    """``sqlite:///PATH`` or ``postgresql://...`` (``postgres://`` too).

    ``group_commit`` applies to SQLite (PostgreSQL groups concurrent commits itself, see
    its ``commit_delay`` setting).
    """
    if url.startswith("sqlite:///"):
        return SqliteAuditStore(
            Path(url.removeprefix("sqlite:///")), key, group_commit=group_commit
        )
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresAuditStore(url, key)
    raise ValueError("the audit store URL must start with sqlite:/// or postgresql://")
