"""Approvals bound to content: what a clinical governance body approved, and whether it still is.

A protocol's **content hash** is the SHA-256 of its parsed content in canonical JSON (sorted
keys, no whitespace), so reformatting the YAML or editing a comment keeps an approval, while
any change that can alter routing (a guard, a step, a threshold, a citation) voids it. Keys
left at their default value are left out, so a library upgrade that adds an optional key does
not void approvals. The governance fields themselves (``status``, ``reviewed_by``,
``reviewed_on``) are left out: setting ``status: reviewed`` after approval must not void the
approval it records.

Beside the whole-content hash, an approval stores a short digest per step, transition,
follow-up and override (``steps.<id>``, ``steps.<id>.next.<transition>``, ...) and per other
top-level key (``applies_to``, ``sources``, ...), so a refusal can name the place that
changed, with its ``file:line:col``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from pedonc_routing.loader.documents import DocumentSet, Sourced
from pedonc_routing.model.documents import Approval, ApprovalDecision, Approvals, Protocol
from pedonc_routing.source import LogicalPath, SourceSpan

#: The approvals file, beside the protocols it approves.
APPROVALS_FILE = "approvals.yaml"

#: Governance metadata inside a protocol: not part of the approved content.
GOVERNANCE_FIELDS = frozenset({"status", "reviewed_by", "reviewed_on"})

ApprovalStateName = Literal["approved", "changes_requested", "changed", "unapproved"]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _content(protocol: Protocol) -> dict[str, Any]:
    # Defaults left out: a later library version that adds an optional key (as `priority`
    # was added) must not void every approval; writing a default out explicitly is no change.
    return protocol.model_dump(
        mode="json", by_alias=True, exclude=set(GOVERNANCE_FIELDS), exclude_defaults=True
    )


def content_hash(protocol: Protocol) -> str:
    """``sha256:...`` of the protocol's content (governance fields left out)."""
    return "sha256:" + hashlib.sha256(_canonical(_content(protocol))).hexdigest()


def _digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()[:16]


def _located_parts(protocol: Protocol) -> dict[str, tuple[LogicalPath, str]]:
    """Each part's name, its logical path in the YAML, and its digest."""
    parts: dict[str, tuple[LogicalPath, str]] = {}
    for key, value in _content(protocol).items():
        if key == "steps":
            for step_id, step in value.items():
                # A step's transitions and follow-ups are parts of their own, so an edited
                # guard is named by its transition, not by its whole step.
                for listed in ("next", "follow_ups"):
                    for index, item in enumerate(step.get(listed) or ()):
                        name = f"steps.{step_id}.{listed}.{item['id']}"
                        parts[name] = (("steps", step_id, listed, index), _digest(item))
                rest = {k: v for k, v in step.items() if k not in ("next", "follow_ups")}
                parts[f"steps.{step_id}"] = (("steps", step_id), _digest(rest))
        elif key == "overrides":
            for index, override in enumerate(value):
                parts[f"overrides.{override['id']}"] = (("overrides", index), _digest(override))
        else:
            parts[key] = ((key,), _digest(value))
    return parts


def content_parts(protocol: Protocol) -> dict[str, str]:
    """A 16-hex-digit digest of each step, transition, follow-up, override and other
    top-level key, named like ``steps.diagnosis.next.to_risk_stratification``."""
    return {name: digest for name, (_, digest) in _located_parts(protocol).items()}


@dataclass(frozen=True)
class ChangedPart:
    """A place whose content differs from the approved version."""

    path: str  # e.g. "steps.risk_stratification", "applies_to"
    change: Literal["changed", "added", "removed"]
    span: SourceSpan | None  # where it is now; None for a removed part

    def __str__(self) -> str:
        where = f" at {self.span}" if self.span is not None else ""
        return f"{self.path} {self.change}{where}"


@dataclass(frozen=True)
class ApprovalState:
    """Whether one protocol's current content carries a governance approval.

    Attributes:
        protocol: the protocol id.
        version: the protocol's current version.
        state: ``approved`` (the latest decision approves exactly this content),
            ``changes_requested`` (the latest decision on this content asked for changes),
            ``changed`` (the content differs from what the latest decision saw) or
            ``unapproved`` (no decision recorded).
        approval: the latest recorded decision on this protocol, if any.
        changed: the places that differ from ``approval``'s content (``changed`` only).
    """

    protocol: str
    version: str
    state: ApprovalStateName
    approval: Approval | None
    changed: tuple[ChangedPart, ...] = ()

    @property
    def approved(self) -> bool:
        return self.state == "approved"

    def problem(self) -> str | None:
        """Why production mode refuses this protocol, in one line; None when approved."""
        if self.state == "approved":
            return None
        if self.state == "unapproved":
            return f"{self.protocol} {self.version}: no approval recorded"
        assert self.approval is not None
        seen = f"{self.approval.body} ({self.approval.role}), {self.approval.date}"
        if self.state == "changes_requested":
            return f"{self.protocol} {self.version}: changes requested by {seen}"
        places = "; ".join(str(part) for part in self.changed[:5])
        more = f" (and {len(self.changed) - 5} more)" if len(self.changed) > 5 else ""
        return (
            f"{self.protocol} {self.version}: content differs from version "
            f"{self.approval.version} approved by {seen}: {places}{more}"
        )

    def to_dict(self) -> dict[str, Any]:
        approval = self.approval
        return {
            "protocol": self.protocol,
            "version": self.version,
            "state": self.state,
            "approval": None
            if approval is None
            else {
                "version": approval.version,
                "content_hash": approval.content_hash,
                "date": approval.date,
                "body": approval.body,
                "role": approval.role,
                "decision": approval.decision,
            },
            "changed": [str(part) for part in self.changed],
        }


def _latest_approvals(approvals: Sequence[Sourced[Approvals]]) -> dict[str, Approval]:
    latest: dict[str, Approval] = {}
    for document in approvals:
        for approval in document.model.approvals:
            latest[approval.protocol] = approval  # newest last: a later entry wins
    return latest


def _changed_parts(sourced: Sourced[Protocol], approval: Approval) -> tuple[ChangedPart, ...]:
    now = _located_parts(sourced.model)
    changed: list[ChangedPart] = []
    for path, (logical, digest) in now.items():
        if approval.parts.get(path) != digest:
            change: Literal["changed", "added"] = "changed" if path in approval.parts else "added"
            changed.append(ChangedPart(path, change, sourced.source_map.span(logical)))
    changed.extend(ChangedPart(path, "removed", None) for path in approval.parts if path not in now)
    return tuple(changed)


def approval_states(documents: DocumentSet) -> dict[str, ApprovalState]:
    """The approval state of every protocol in ``documents``, by protocol id."""
    latest = _latest_approvals(documents.approvals)
    states: dict[str, ApprovalState] = {}
    for sourced in documents.protocols:
        protocol = sourced.model
        approval = latest.get(protocol.id)
        if approval is None:
            states[protocol.id] = ApprovalState(protocol.id, protocol.version, "unapproved", None)
        elif approval.content_hash != content_hash(protocol):
            changed = _changed_parts(sourced, approval)
            states[protocol.id] = ApprovalState(
                protocol.id, protocol.version, "changed", approval, changed
            )
        else:
            state: ApprovalStateName = (
                "approved" if approval.decision == "approved" else "changes_requested"
            )
            states[protocol.id] = ApprovalState(protocol.id, protocol.version, state, approval)
    return states


def approval_record(
    protocol: Protocol,
    *,
    body: str,
    role: str,
    decision: ApprovalDecision,
    on: date,
    note: str | None = None,
) -> Approval:
    """The record of a governance decision on ``protocol``'s current content."""
    return Approval(
        protocol=protocol.id,
        version=protocol.version,
        content_hash=content_hash(protocol),
        parts=content_parts(protocol),
        date=on.isoformat(),
        body=body,
        role=role,
        decision=decision,
        note=note,
    )


_HEADER = """\
# Clinical governance decisions on the protocols in this folder, newest last.
# Written by `pedonc-routing approve`; each entry binds a decision to the protocol's content
# hash (docs/governance.md). Names a body and a role, never a person's patients.
"""


def append_approval(approvals_file: Path, approval: Approval) -> None:
    """Add ``approval`` to the approvals file (created if absent), atomically: the file is
    either the old one or the new one, never half-written."""
    existing: list[Mapping[str, Any]] = []
    if approvals_file.exists():
        data = yaml.safe_load(approvals_file.read_text(encoding="utf-8")) or {}
        existing = Approvals.model_validate(data).model_dump(mode="json", exclude_none=True)[
            "approvals"
        ]
    entries = [*existing, approval.model_dump(mode="json", exclude_none=True)]
    text = _HEADER + yaml.safe_dump(
        {"kind": "approvals", "approvals": entries},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    handle, temporary = tempfile.mkstemp(dir=approvals_file.parent, prefix=".approvals-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(approvals_file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
