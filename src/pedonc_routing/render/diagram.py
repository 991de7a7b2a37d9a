"""A pathway graph as Mermaid (``flowchart TD``) or Graphviz DOT, guards as edge labels."""

from __future__ import annotations

from pedonc_routing.compiler.pathway import PathwayGraph
from pedonc_routing.render.words import in_words

_MERMAID_SHAPES = {
    "staging": ("{", "}"),
    "emergency": ("[[", "]]"),
    "terminal": ("([", "])"),
    "survivorship": ("([", "])"),
    "palliative": ("([", "])"),
}


def _label(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(graph: PathwayGraph) -> str:
    lines = ["flowchart TD"]
    for step_id, step in graph.steps.items():
        opening, closing = _MERMAID_SHAPES.get(step.model.kind, ("[", "]"))
        title = _label(step.model.title.en)
        lines.append(f'  {step_id}{opening}"{title}<br/><small>{step.model.kind}</small>"{closing}')
    for step_id, step in graph.steps.items():
        for transition in step.transitions:
            assert transition.condition is not None
            target = (
                graph.node_of(transition.to_protocol, transition.to_step)
                .replace(":", "__")
                .replace("<return>", "return_to_pathway")
            )
            lines.append(f'  {step_id} -->|"{_label(in_words(transition.condition))}"| {target}')
        if step.otherwise is not None:
            target = graph.node_of(step.otherwise.to_protocol, step.otherwise.to_step)
            lines.append(f"  {step_id} -.->|otherwise| {target.replace(':', '__')}")
    for override in graph.overrides:
        guard = _label(in_words(override.condition))
        lines.append(f'  override_{override.id}(("any pathway")) ==>|"{guard}"| {override.to_step}')
    return "\n".join(lines)


def to_dot(graph: PathwayGraph) -> str:
    lines = [f'digraph "{graph.protocol_id}" {{', "  rankdir=TB;", "  node [shape=box];"]
    for step_id, step in graph.steps.items():
        shape = "diamond" if step.model.passthrough else "box"
        lines.append(f'  "{step_id}" [label="{_label(step.model.title.en)}", shape={shape}];')
    for step_id, step in graph.steps.items():
        for transition in step.transitions:
            assert transition.condition is not None
            target = graph.node_of(transition.to_protocol, transition.to_step)
            label = _label(in_words(transition.condition))
            lines.append(f'  "{step_id}" -> "{target}" [label="{label}"];')
        if step.otherwise is not None:
            target = graph.node_of(step.otherwise.to_protocol, step.otherwise.to_step)
            lines.append(f'  "{step_id}" -> "{target}" [label="otherwise", style=dashed];')
    lines.append("}")
    return "\n".join(lines)
