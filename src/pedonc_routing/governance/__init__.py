"""Clinical governance: approvals bound to protocol content, and the release manifest.

See docs/governance.md. Production mode (``load_bundle(require_approved=True)``) refuses any
protocol whose current content lacks a matching approval.
"""

from pedonc_routing.governance.approvals import (
    APPROVALS_FILE,
    ApprovalState,
    ChangedPart,
    append_approval,
    approval_record,
    approval_states,
    content_hash,
    content_parts,
)
from pedonc_routing.governance.release import release_manifest

__all__ = [
    "APPROVALS_FILE",
    "ApprovalState",
    "ChangedPart",
    "append_approval",
    "approval_record",
    "approval_states",
    "content_hash",
    "content_parts",
    "release_manifest",
]
