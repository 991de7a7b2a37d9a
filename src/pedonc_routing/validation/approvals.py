r"""Clinical governance: approvals that no longer match the content (``A001``, ``A002``).

The approvals file (``approvals.yaml``, written by ``pedonc-routing approve``) binds each
governance decision to a protocol's content hash; see [governance.md](governance.md).

### A001 warning: protocol content differs from its approval

The latest approval of a protocol was given to other content: someone edited the protocol
after the committee decided. The message names each changed step, transition, follow-up or
key; the issue points at the first. Production mode (`load_bundle(require_approved=True)`)
refuses such a protocol.

FAIL: an approved guard edited afterwards.

```yaml
- {input: wbc_10e9_l, lt: 60}   # was lt: 50 when approved
```

```
protocols/all.yaml:250:9: A001 warning: 'all' 2026.1 differs from version 2026.1 approved by Protocol committee (Chair) on 2026-12-01: steps.risk_stratification.next.nci_standard_risk changed
```

Fix: undo the edit, or have the body review the new content and record its decision with
`pedonc-routing approve`.

### A002 warning: approval of an unknown protocol

An approvals entry names a protocol id that no protocol of the bundle has (a renamed or
removed protocol, or a typo).

FAIL:

```yaml
- protocol: hodgkin
```

```
protocols/approvals.yaml:62:3: A002 warning: approval of unknown protocol 'hodgkin'; did you mean 'hodgkin_lymphoma'?
```

Fix: correct the id, or remove the entry of a protocol that left the bundle.
"""

from __future__ import annotations

from collections.abc import Iterator

from pedonc_routing.governance.approvals import approval_states
from pedonc_routing.issues import Issue
from pedonc_routing.suggestions import with_hint
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("A001", "A002")
GATE = Gate.ALWAYS


def check(context: CheckContext) -> Iterator[Issue]:
    """Approvals that name unknown protocols, and protocols changed since their approval."""
    known = {sourced.model.id: sourced for sourced in context.protocols}
    for document in context.documents.approvals:
        for index, approval in enumerate(document.model.approvals):
            if approval.protocol not in known:
                yield Issue.at(
                    document.source_map.span(("approvals", index)),
                    "A002",
                    with_hint(
                        f"approval of unknown protocol {approval.protocol!r}",
                        approval.protocol,
                        known,
                    ),
                    severity="warning",
                )
    if not context.documents.approvals:
        return
    for protocol_id, state in approval_states(context.documents).items():
        if state.state != "changed" or protocol_id not in known:
            continue
        assert state.approval is not None
        approval = state.approval
        places = ", ".join(f"{part.path} {part.change}" for part in state.changed[:5])
        more = f" and {len(state.changed) - 5} more" if len(state.changed) > 5 else ""
        located = next((part.span for part in state.changed if part.span is not None), None)
        yield Issue.at(
            located or known[protocol_id].source_map.span(("id",)),
            "A001",
            f"{protocol_id!r} {state.version} differs from version {approval.version} approved "
            f"by {approval.body} ({approval.role}) on {approval.date}: {places}{more}",
            severity="warning",
        )
