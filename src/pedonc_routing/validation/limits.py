r"""Engine limits: a protocol whose guards the durable-rules engine cannot hold (``E001``).

### E001 error: protocol too large for durable-rules

Each guard becomes two durable-rules rules (see [engine.md](engine.md)). A protocol whose
guards (transitions and conditional follow-ups) make more than 1,000 rules is refused,
because durable-rules hangs, holding the GIL, on rulesets far larger.

FAIL: 501 transitions in one protocol.

```
demo.yaml:2:5: E001 error: 501 guards (overrides included) make 1002 engine rules, above the safe 1000 for durable-rules; split the protocol
```

Fix: split the protocol into smaller protocols linked with `PROTOCOL:STEP` targets.

The count includes the overrides of other protocols, which the engine adds to the same
ruleset. A single guard too large for one durable-rules rule (more than 15 nested
`all`/`any` groups) is not an error: the engine splits it over several rules.
"""

from __future__ import annotations

from collections.abc import Iterator

from pedonc_routing.issues import Issue
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("E001",)
GATE = Gate.ALWAYS

#: Rules per protocol ruleset the durable engine accepts (2 per guard); see engine/durable.py.
MAX_ENGINE_RULES = 1000


def check(context: CheckContext) -> Iterator[Issue]:
    """The engine size of each protocol's guard table: its own guards plus the overrides
    of the other protocols, which share its ruleset."""
    overrides = sum(len(sourced.model.overrides) for sourced in context.protocols)
    for sourced in context.protocols:
        graph = context.pathway(sourced)
        if graph is None:
            continue
        interrupting = overrides - len(sourced.model.overrides)
        guards = len(graph.guards) + interrupting
        rules = 2 * guards
        if rules <= MAX_ENGINE_RULES:
            continue
        yield Issue.at(
            sourced.source_map.span(("id",)),
            "E001",
            f"{guards} guards (overrides included) make {rules} engine rules, above the safe "
            f"{MAX_ENGINE_RULES} for durable-rules; split the protocol",
        )
