"""The service's settings: one frozen object, passed to worker processes as JSON.

``pedonc-routing serve`` builds it from its options (each with an environment variable), and
uvicorn's worker processes read it back from ``PEDONC_SERVICE_SETTINGS``, so every worker
runs with exactly the settings the command was given.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETTINGS_VARIABLE = "PEDONC_SERVICE_SETTINGS"


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the setting, never a secret."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything a worker needs; no state of its own besides the audit store.

    Attributes:
        protocols: the protocol folder (``None``: the shipped protocols).
        public_url: the service's own base URL as clients reach it (the CDS Hooks JWT
            ``aud`` and the family-guide links are built from it).
        api_key_hashes: SHA-256 hex digests of the accepted API keys of the JSON API.
        admin_key_hashes: SHA-256 hex digests of the keys that may reload the bundle.
        allow_anonymous: serve the JSON API without API keys (tests, a trusted sidecar).
        audit_url: ``sqlite:///PATH`` (the embedded default) or ``postgresql://...``.
        audit_key: the HMAC key (bytes as hex) for the patient key of audit records.
        audit_group_commit: SQLite: commit records that arrive together in one transaction
            (each still committed before its answer).
        require_approved: production mode: a bundle (at start or reload) is refused unless
            every protocol's content carries a governance approval.
        cds_issuers: CDS Hooks issuer -> ``{"jwks_url": ...}`` or ``{"jwks": {...}}``.
        jti_window_seconds: a JWT id seen within this window is a replay.
        max_body_bytes: the largest request body of a single-patient request.
        max_batch_bytes: the largest body of ``/route/batch``.
        request_timeout_seconds: the time a single-patient request may take.
        batch_timeout_seconds: the time a batch may take.
        cors_origins: origins allowed by CORS; empty (the default) turns CORS off.
        reload_signals_parent: set by ``serve`` with several workers: an admin reload also
            signals the supervisor, which passes it on to every worker.
    """

    protocols: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    api_key_hashes: tuple[str, ...] = ()
    admin_key_hashes: tuple[str, ...] = ()
    allow_anonymous: bool = False
    audit_url: str = "sqlite:///pedonc-audit.sqlite3"
    audit_key: str = ""
    audit_group_commit: bool = False
    require_approved: bool = False
    cds_issuers: dict[str, dict[str, Any]] = field(default_factory=dict)
    jti_window_seconds: int = 600
    max_body_bytes: int = 1024 * 1024
    max_batch_bytes: int = 64 * 1024 * 1024
    request_timeout_seconds: float = 10.0
    batch_timeout_seconds: float = 600.0
    cors_origins: tuple[str, ...] = ()
    reload_signals_parent: bool = False

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServiceSettings:
        data = json.loads(text)
        for name in ("api_key_hashes", "admin_key_hashes", "cors_origins"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)

    @classmethod
    def from_environment(cls) -> ServiceSettings:
        text = os.environ.get(SETTINGS_VARIABLE)
        if not text:
            raise SettingsError(
                f"{SETTINGS_VARIABLE} is not set (start with `pedonc-routing serve`)"
            )
        return cls.from_json(text)

    def replace(self, **changes: Any) -> ServiceSettings:
        return dataclasses.replace(self, **changes)


def hash_key(key: str) -> str:
    """The SHA-256 hex digest stored for an API key (the key itself is never stored)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def read_key_hashes(text: str, origin: str) -> tuple[str, ...]:
    """Hex SHA-256 digests, one a line or comma-separated; ``#`` starts a comment."""
    hashes = []
    for line in text.replace(",", "\n").splitlines():
        value = line.split("#", 1)[0].strip().lower()
        if not value:
            continue
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise SettingsError(f"{origin}: each key must be a SHA-256 hex digest (64 hex digits)")
        hashes.append(value)
    return tuple(hashes)


def read_key_file(path: Path) -> tuple[str, ...]:
    try:
        return read_key_hashes(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise SettingsError(f"cannot read key file {path}: {error.strerror}") from None


def audit_key_for(audit_url: str, given: str | None) -> str:
    """The audit HMAC key: ``given`` (hex), or for SQLite one kept beside the database.

    The key beside the database is created once (0600) so that every worker and every
    restart hashes a patient id the same way; PostgreSQL deployments must pass a key.
    """
    if given:
        try:
            if len(bytes.fromhex(given)) < 16:
                raise SettingsError("the audit key must be at least 16 bytes (32 hex digits)")
        except ValueError:
            raise SettingsError("the audit key must be hex") from None
        return given
    if not audit_url.startswith("sqlite:///"):
        raise SettingsError("a PostgreSQL audit store needs --audit-key (hex, >= 16 bytes)")
    key_path = Path(audit_url.removeprefix("sqlite:///") + ".hmac-key")
    try:
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(os.urandom(32).hex())
    return key_path.read_text(encoding="ascii").strip()
