"""A pathway graph as Mermaid (``flowchart TD``) or Graphviz DOT, guards as edge labels,
optionally with one child's route highlighted.

A *route* (:class:`Highlight`, usually made by :func:`route_highlight` from a decision) is
what a clinician asks of the drawing: where the child is now, the step the decision goes to,
and the transitions taken on the way (passthrough steps included). A route that leaves the
drawn protocol (an override, a hand-over, a ``to: return``) cannot be drawn edge by edge in
one protocol's picture, so it is said in words as a note on the drawing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pedonc_routing.compiler.pathway import RETURN_NODE, CompiledTransition, PathwayGraph
from pedonc_routing.decision.model import Decision
from pedonc_routing.render.words import in_words

#: The route's colour in every format (orange: readable on white and for most colour-blind).
ROUTE_COLOUR = "#d9480f"

_MERMAID_SHAPES = {
    "staging": ("{", "}"),
    "emergency": ("[[", "]]"),
    "terminal": ("([", "])"),
    "survivorship": ("([", "])"),
    "palliative": ("([", "])"),
}

Edge = tuple[str, str, str]  # (from node, to node, transition id) as in PathwayGraph.graph


@dataclass(frozen=True, slots=True)
class Highlight:
    """What to mark on a drawing of one pathway.

    Node ids are those of :attr:`PathwayGraph.graph` (``STEP``, ``PROTOCOL:STEP`` for steps
    of other protocols, ``<return>``); edges are ``(from, to, transition id)``.

    Attributes:
        steps: every node on the route (current and target included).
        edges: the transitions taken.
        current: the node where the child is now, if drawn.
        target: the node the decision goes to, if drawn.
        overrides: ids of this protocol's overrides that fired.
        notes: the parts of the route the drawing cannot show, in words.
    """

    steps: frozenset[str] = frozenset()
    edges: frozenset[Edge] = frozenset()
    current: str | None = None
    target: str | None = None
    overrides: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()


def route_highlight(
    graph: PathwayGraph, decision: Decision, position: tuple[str, str] | None = None
) -> Highlight:
    """The route of one decision on the drawing of ``graph``.

    ``position`` is the child's ``(protocol, step)`` before the decision (the decision only
    records the step, ``from_step``). Transitions come from the decision's explanation,
    whose rules are named ``PROTOCOL.STEP.TRANSITION`` and ``PROTOCOL.overrides.OVERRIDE``.
    """
    nodes: list[str] = []
    edges: set[Edge] = set()
    overrides: set[str] = set()
    notes: list[str] = []
    own = graph.protocol_id
    current = None
    if position is not None:
        current = _drawn(graph, graph.node_of(*position))
        if current is None:
            notes.append(f"The child is now at {position[0]}: {position[1]} (not drawn here).")
        else:
            nodes.append(current)
    own_overrides = {override.id: override for override in graph.overrides}
    for item in decision.explanation:
        parts = item.rule.split(".")
        if len(parts) != 3:
            continue
        protocol_id, middle, last = parts
        if middle == "overrides":
            if protocol_id == own and last in own_overrides:
                overrides.add(last)
                nodes.append(own_overrides[last].to_step)
            else:
                notes.append(f"An override of protocol {protocol_id} ({last}) interrupted.")
            continue
        transition = _transition(graph, protocol_id, middle, last)
        if transition is not None:
            to_node = graph.node_of(transition.to_protocol, transition.to_step)
            edges.add((middle, to_node, transition.id))
            nodes.extend((middle, to_node))
    target = None
    if decision.step is not None and decision.protocol is not None:
        target = _drawn(graph, graph.node_of(decision.protocol.id, decision.step.id))
        if decision.protocol.id != own:
            notes.append(
                f"The decision moves into protocol {decision.protocol.id}: "
                f"{decision.step.id} ({decision.step.title})."
            )
        if target is not None:
            nodes.append(target)
    notes.append(_status_note(decision))
    return Highlight(
        steps=frozenset(nodes),
        edges=frozenset(edges),
        current=current,
        target=target,
        overrides=frozenset(overrides),
        notes=tuple(notes),
    )


def _drawn(graph: PathwayGraph, node: str) -> str | None:
    return node if node in graph.graph else None


def _transition(
    graph: PathwayGraph, protocol_id: str, step_id: str, transition_id: str
) -> CompiledTransition | None:
    if protocol_id != graph.protocol_id or step_id not in graph.steps:
        return None
    step = graph.steps[step_id]
    for transition in (*step.transitions, step.otherwise):
        if transition is not None and transition.id == transition_id:
            return transition
    return None


def _status_note(decision: Decision) -> str:
    step = f" at {decision.step.id}" if decision.step else ""
    if decision.status == "routed":
        return f"Decision: routed to {decision.step.id if decision.step else '?'}."
    if decision.status == "needs_data":
        return f"Decision: needs data{step}: {', '.join(decision.missing)}."
    if decision.status == "no_route":
        return f"Decision: no route{step}."
    if decision.status == "completed":
        return f"Decision: the pathway is completed{step}."
    return "Decision: no shipped protocol applies to this child."


#: Step ids our id pattern allows but Mermaid's lexer reads as keywords (checked with
#: ``mermaid.parse`` 11.17): drawn as ``S_<id>``, which no step id can be (ids are lowercase).
_MERMAID_KEYWORDS = frozenset(
    {"end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "call",
     "href", "interpolate", "linkstyle", "direction"}
)  # fmt: skip


#: Ids of the nodes that are not steps: upper case, so no step id (lowercase) can be one.
_OVERRIDE_PREFIX = "OVERRIDE_"
_NOTE_ID = "ROUTE_NOTE"


def display_id(node: str) -> str:
    """A node id usable as a Mermaid id (no ``:`` or ``<>``, no keyword). Nodes that are not
    steps of the drawn protocol get upper-case ids, which no step id can collide with."""
    if node == RETURN_NODE:
        return "RETURN_TO_PATHWAY"
    if ":" in node:
        return "EXT_" + node.replace(":", "__")
    if node in _MERMAID_KEYWORDS:
        return f"S_{node}"
    return node


def _external_label(node: str) -> str:
    return "return to the interrupted pathway" if node == RETURN_NODE else node.replace(":", ": ")


def _label(text: str) -> str:
    """Text inside a quoted Mermaid label (entity codes keep ``<`` from reading as HTML)."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(graph: PathwayGraph, highlight: Highlight | None = None) -> str:
    """Mermaid ``flowchart TD``; with ``highlight``, the route in :data:`ROUTE_COLOUR`."""
    lines = ["flowchart TD"]
    for step_id, step in graph.steps.items():
        opening, closing = _MERMAID_SHAPES.get(step.model.kind, ("[", "]"))
        title = _label(step.model.title.en)
        node = display_id(step_id)
        lines.append(f'  {node}{opening}"{title}<br/><small>{step.model.kind}</small>"{closing}')
    for external in sorted(_external_nodes(graph)):
        lines.append(f'  {display_id(external)}["{_label(_external_label(external))}"]')
        lines.append(f"  style {display_id(external)} stroke-dasharray:5 5")
    links: list[Edge] = []
    for step_id, step in graph.steps.items():
        for transition in step.transitions:
            assert transition.condition is not None
            target = graph.node_of(transition.to_protocol, transition.to_step)
            guard = _label(in_words(transition.condition))
            lines.append(f'  {display_id(step_id)} -->|"{guard}"| {display_id(target)}')
            links.append((step_id, target, transition.id))
        if step.otherwise is not None:
            target = graph.node_of(step.otherwise.to_protocol, step.otherwise.to_step)
            lines.append(f"  {display_id(step_id)} -.->|otherwise| {display_id(target)}")
            links.append((step_id, target, step.otherwise.id))
    for override in graph.overrides:
        guard = _label(in_words(override.condition))
        target = display_id(override.to_step)
        lines.append(f'  {_OVERRIDE_PREFIX}{override.id}(("any pathway")) ==>|"{guard}"| {target}')
        links.append((f"{_OVERRIDE_PREFIX}{override.id}", override.to_step, override.id))
    if highlight is not None:
        lines.extend(_mermaid_highlight(highlight, links))
    return "\n".join(lines)


def _mermaid_highlight(highlight: Highlight, links: list[Edge]) -> list[str]:
    """classDef/class lines for route nodes, linkStyle lines (by link index) for its edges."""
    lines = [
        f"  classDef route stroke:{ROUTE_COLOUR},stroke-width:3px",
        f"  classDef current stroke:{ROUTE_COLOUR},stroke-width:4px,stroke-dasharray:6 3",
        f"  classDef target fill:#fff4e6,stroke:{ROUTE_COLOUR},stroke-width:4px",
    ]
    roles = _roles(highlight)
    for role in ("route", "current", "target"):
        members = [display_id(node) for node, node_role in roles if node_role == role]
        if members:
            lines.append(f"  class {','.join(members)} {role}")
    for override in sorted(highlight.overrides):
        lines.append(f"  class {_OVERRIDE_PREFIX}{override} target")
    used = [
        str(index)
        for index, (source, target, key) in enumerate(links)
        if (source, target, key) in highlight.edges
        or (source.startswith(_OVERRIDE_PREFIX) and key in highlight.overrides)
    ]
    if used:
        lines.append(f"  linkStyle {','.join(used)} stroke:{ROUTE_COLOUR},stroke-width:4px")
    if highlight.notes:
        text = "<br/>".join(_label(note) for note in ("Route:", *highlight.notes))
        lines.append(f'  {_NOTE_ID}["{text}"]')
        lines.append(f"  style {_NOTE_ID} fill:#fff4e6,stroke:{ROUTE_COLOUR}")
    return lines


def _roles(highlight: Highlight) -> list[tuple[str, str]]:
    """(node, role) in a stable order: the current node wins over the target (a child who
    stays, e.g. needs_data, is shown where they are)."""
    roles = []
    for node in sorted(highlight.steps | {n for n in (highlight.current, highlight.target) if n}):
        if node == highlight.current:
            roles.append((node, "current"))
        elif node == highlight.target:
            roles.append((node, "target"))
        else:
            roles.append((node, "route"))
    return roles


def _dot(text: str) -> str:
    """A DOT double-quoted string's content."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(graph: PathwayGraph, highlight: Highlight | None = None) -> str:
    """Graphviz DOT; with ``highlight``, the route in :data:`ROUTE_COLOUR` and its notes as
    the graph's label."""
    route_attrs = f'color="{ROUTE_COLOUR}", penwidth=3'
    roles = dict(_roles(highlight)) if highlight is not None else {}
    lines = [f'digraph "{_dot(graph.protocol_id)}" {{', "  rankdir=TB;", "  node [shape=box];"]
    for step_id, step in graph.steps.items():
        shape = "diamond" if step.model.passthrough else "box"
        extra = _dot_node_role(roles.get(step_id), route_attrs)
        lines.append(
            f'  "{_dot(step_id)}" [label="{_dot(step.model.title.en)}", shape={shape}{extra}];'
        )
    for node in _external_nodes(graph):
        extra = _dot_node_role(roles.get(node), route_attrs)
        lines.append(f'  "{_dot(node)}" [style=dashed{extra}];')
    for step_id, step in graph.steps.items():
        for transition in step.transitions:
            assert transition.condition is not None
            target = graph.node_of(transition.to_protocol, transition.to_step)
            label = _dot(in_words(transition.condition))
            extra = _dot_edge_role(highlight, (step_id, target, transition.id), route_attrs)
            lines.append(f'  "{_dot(step_id)}" -> "{_dot(target)}" [label="{label}"{extra}];')
        if step.otherwise is not None:
            target = graph.node_of(step.otherwise.to_protocol, step.otherwise.to_step)
            extra = _dot_edge_role(highlight, (step_id, target, step.otherwise.id), route_attrs)
            lines.append(
                f'  "{_dot(step_id)}" -> "{_dot(target)}" [label="otherwise", style=dashed{extra}];'
            )
    for override in graph.overrides:
        node = f"override:{override.id}"
        fired = highlight is not None and override.id in highlight.overrides
        extra = f", {route_attrs}" if fired else ""
        lines.append(
            f'  "{_dot(node)}" [label="any pathway: {_dot(override.id)}", '
            f"shape=octagon, style=dashed{extra}];"
        )
        lines.append(
            f'  "{_dot(node)}" -> "{_dot(override.to_step)}" '
            f'[label="{_dot(in_words(override.condition))}", style=bold{extra}];'
        )
    if highlight is not None and highlight.notes:
        notes = "\\l".join(_dot(note) for note in ("Route:", *highlight.notes))
        lines.append(f'  label="{notes}\\l"; labelloc=t; labeljust=l;')
    lines.append("}")
    return "\n".join(lines)


def _external_nodes(graph: PathwayGraph) -> Iterable[str]:
    """Nodes that are not steps of this protocol: other protocols' steps and ``<return>``."""
    return (node for node in graph.graph.nodes if node not in graph.steps)


def _dot_node_role(role: str | None, route_attrs: str) -> str:
    if role is None:
        return ""
    if role == "target":
        return f', {route_attrs}, style="filled,bold", fillcolor="#fff4e6", xlabel="next"'
    if role == "current":
        return f', {route_attrs}, style="dashed,bold", xlabel="now"'
    return f", {route_attrs}"


def _dot_edge_role(highlight: Highlight | None, edge: Edge, route_attrs: str) -> str:
    return f", {route_attrs}" if highlight is not None and edge in highlight.edges else ""
