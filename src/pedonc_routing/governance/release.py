"""The release manifest: one file naming what a hospital's change control approves.

It names the bundle's content hash, the library version, and each protocol's version,
content hash and approval, so the hospital can check that what runs is what was approved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pedonc_routing._version import __version__
from pedonc_routing.governance.approvals import ApprovalState, content_hash
from pedonc_routing.model.documents import Protocol


def release_manifest(
    bundle_hash: str,
    protocols: Mapping[str, Protocol],
    states: Mapping[str, ApprovalState],
    *,
    on: date,
) -> dict[str, Any]:
    """The manifest as JSON-able data; ``all_approved`` says whether production mode loads it."""
    entries = []
    for protocol_id in sorted(protocols):
        protocol = protocols[protocol_id]
        state = states[protocol_id]
        entries.append(
            {
                "id": protocol_id,
                "version": protocol.version,
                "status": protocol.status,
                "content_hash": content_hash(protocol),
                "approval": state.to_dict(),
            }
        )
    return {
        "kind": "release_manifest",
        "date": on.isoformat(),
        "library": {"name": "pedonc-routing", "version": __version__},
        "bundle_hash": bundle_hash,
        "all_approved": all(state.approved for state in states.values()),
        "protocols": entries,
    }
