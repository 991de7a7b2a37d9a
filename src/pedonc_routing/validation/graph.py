r"""Pathway graph checks: reachability, dead ends, cycles (``G001``-``G003``, ``G010``).

The guard analysis (``G004``-``G009``) is in :mod:`.guards`.

### G001 warning: unreachable step

No path from the `entry` step, or from the step an override of the protocol leads to,
reaches the step.

FAIL: a step `orphan` that no transition names.

```yaml
  orphan:
    kind: terminal
    ...
```

```
demo.yaml:25:3: G001 warning: step 'orphan' cannot be reached from the entry 'diagnosis'
```

Fix: add a transition to it, or remove it. (An override's target step is an entry point:
it and the steps it leads to are reachable.)

### G002 error: dead end

A step with no `next` and no `otherwise` must be of kind `terminal`, `survivorship` or
`palliative`.

FAIL:

```yaml
  done:
    kind: follow_up
```

```
demo.yaml:27:5: G002 error: step 'done' (follow_up) has no way out; only palliative, survivorship, terminal steps may end a pathway
```

Fix: add a way out, or make the step an ending kind.

### G003 error: passthrough cycle

Passthrough steps are walked through at once, so a cycle made only of passthrough steps would
never stop.

FAIL:

```yaml
  diagnosis:
    kind: diagnostic
    passthrough: true
    ...
    otherwise: {to: diagnosis, because: "WBC < 50", source: src}
```

```
demo.yaml:12:3: G003 error: passthrough steps form a cycle: diagnosis --> diagnosis
```

Fix: make at least one step of the cycle a normal (waiting) step.

### G010 warning: cycle with no exit

Steps that lead only to each other, none of them an ending step (`terminal`,
`survivorship`, `palliative`): a child who enters is routed round them for ever. A step
whose `otherwise` returns to itself ("continue the phase") is fine when the step also has a
transition out.

FAIL:

```yaml
  block_a:
    otherwise: {to: block_b, because: "Next block"}
  block_b:
    otherwise: {to: block_a, because: "Back to A"}
```

```
protocol.yaml:18:3: G010 warning: steps 'block_a', 'block_b' only lead to each other and none ends the pathway: a child who enters is never routed out
```

PASS: a transition out of the loop (e.g. `when: {input: therapy_completed, eq: true}`).
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from pedonc_routing.compiler.pathway import PathwayGraph
from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import Sourced
from pedonc_routing.model.documents import (
    ENDING_KINDS,
    Protocol,
)
from pedonc_routing.source import SourceMap
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("G001", "G002", "G003", "G010")
GATE = Gate.ALWAYS


def check(context: CheckContext) -> Iterator[Issue]:
    """Reachability, dead ends, passthrough cycles and cycles with no exit."""
    for sourced in context.protocols:
        graph = context.pathway(sourced)
        if graph is not None:
            yield from _graph_issues(sourced, graph)


def _graph_issues(sourced: Sourced[Protocol], graph: PathwayGraph) -> Iterator[Issue]:
    protocol, source_map = sourced.model, sourced.source_map
    for step_id, step in protocol.steps.items():
        if not step.next and step.otherwise is None and step.kind not in ENDING_KINDS:
            yield Issue.at(
                source_map.span(("steps", step_id)),
                "G002",
                f"step {step_id!r} ({step.kind}) has no way out; only "
                f"{', '.join(sorted(ENDING_KINDS))} steps may end a pathway",
            )
    for step_id in graph.unreachable():
        yield Issue.at(
            source_map.key_span(("steps", step_id)),
            "G001",
            f"step {step_id!r} cannot be reached from the entry {protocol.entry!r}",
            "warning",
        )
    passthrough = [s for s, step in protocol.steps.items() if step.passthrough]
    subgraph = graph.graph.subgraph(passthrough)
    for cycle in nx.simple_cycles(subgraph):
        ring = " --> ".join([*cycle, cycle[0]])
        yield Issue.at(
            source_map.key_span(("steps", cycle[0])),
            "G003",
            f"passthrough steps form a cycle: {ring}",
        )
    yield from _trapping_cycles(protocol, source_map, graph)


def _trapping_cycles(
    protocol: Protocol, source_map: SourceMap, graph: PathwayGraph
) -> Iterator[Issue]:
    """G010: steps that lead only to each other, none of them an ending step: a child who
    enters is never routed out ("continue the phase" loops are fine when the phase also has
    a transition out)."""
    for component in nx.strongly_connected_components(graph.graph):
        steps = sorted(node for node in component if node in protocol.steps)
        if not steps:
            continue
        looped = len(component) > 1 or graph.graph.has_edge(steps[0], steps[0])
        leaves = any(
            target not in component for step in steps for target in graph.graph.successors(step)
        )
        ends = any(protocol.steps[step].kind in ENDING_KINDS for step in steps)
        if looped and not leaves and not ends:
            yield Issue.at(
                source_map.key_span(("steps", steps[0])),
                "G010",
                f"steps {', '.join(repr(s) for s in steps)} only lead to each other and none "
                "ends the pathway: a child who enters is never routed out",
                "warning",
            )
