"""Route highlighting on Mermaid and DOT: the current step, the target, the transitions
taken (passthrough steps included) and notes for a route that leaves the protocol."""

from __future__ import annotations

import re
from pathlib import Path

from render_patients import PATIENT_BY_STATUS, read_patient

import pedonc_routing as pr
from conftest import write_bundle
from pedonc_routing.render.diagram import Highlight, route_highlight, to_dot, to_mermaid
from unit.test_walker import ALWAYS, protocol, step, transition


def _route(bundle: pr.Bundle, protocol_id: str, status: str) -> Highlight:
    patient = read_patient(PATIENT_BY_STATUS[status])
    decision = bundle.route(patient)
    position = patient["position"]
    graph = bundle.compiled.protocols[protocol_id].graph
    return route_highlight(graph, decision, (position["protocol"], position["step"]))


def test_route_through_a_passthrough_step(shipped_bundle: pr.Bundle) -> None:
    route = _route(shipped_bundle, "all", "routed")
    assert route.current == "diagnosis"
    assert route.target == "induction_standard_risk"
    assert route.steps == {"diagnosis", "risk_stratification", "induction_standard_risk"}
    assert {(a, b) for a, b, _ in route.edges} == {
        ("diagnosis", "risk_stratification"),
        ("risk_stratification", "induction_standard_risk"),
    }
    graph = shipped_bundle.compiled.protocols["all"].graph
    assert all(graph.graph.has_edge(a, b, key=key) for a, b, key in route.edges)


def test_override_into_another_protocol_is_said_in_words(shipped_bundle: pr.Bundle) -> None:
    route = _route(shipped_bundle, "all", "routed_override")
    assert route.current == "consolidation"
    assert route.target is None  # the emergency step is not on the ALL drawing
    assert not route.edges
    assert any("moves into protocol febrile_neutropenia" in note for note in route.notes)
    # Drawn on the protocol it moves into, the target and the override are marked.
    on_fn = _route(shipped_bundle, "febrile_neutropenia", "routed_override")
    assert on_fn.target == "emergency_assessment"
    assert on_fn.overrides == {"febrile_neutropenia"}
    assert any("all: consolidation" in note for note in on_fn.notes)


def test_needs_data_stays_at_the_current_step(shipped_bundle: pr.Bundle) -> None:
    route = _route(shipped_bundle, "all", "needs_data")
    assert route.current == route.target == "end_of_induction_assessment"
    assert any("mrd_end_induction_percent" in note for note in route.notes)


def test_mermaid_marks_the_route_links_by_index(shipped_bundle: pr.Bundle) -> None:
    graph = shipped_bundle.compiled.protocols["all"].graph
    route = _route(shipped_bundle, "all", "routed")
    text = to_mermaid(graph, route)
    links = [line for line in text.splitlines() if re.search(r" (-->|-\.->|==>)", line)]
    styled = re.search(r"linkStyle ([\d,]+) stroke:", text)
    assert styled is not None
    chosen = [links[int(index)].strip() for index in styled.group(1).split(",")]
    assert [line.split(" ")[0] for line in chosen] == ["diagnosis", "risk_stratification"]
    assert chosen[1].endswith("induction_standard_risk")
    assert "class diagnosis current" in text
    assert "class induction_standard_risk target" in text
    assert "class risk_stratification route" in text
    assert to_mermaid(graph) == text.split("\n  classDef route")[0]  # highlight only appends


def test_mermaid_ids_have_no_colons_or_angle_brackets(shipped_bundle: pr.Bundle) -> None:
    text = to_mermaid(shipped_bundle.compiled.protocols["supportive_care"].graph)
    assert "  RETURN_TO_PATHWAY[" in text  # supportive care returns to the interrupted pathway
    for line in text.splitlines()[1:]:
        if line.startswith("  style "):  # CSS, not ids
            continue
        outside_labels = re.sub(r'"[^"]*"|\|[^|]*\|', "", line)
        assert ":" not in outside_labels, line
        assert "<" not in outside_labels, line


def test_dot_marks_route_and_shows_overrides(shipped_bundle: pr.Bundle) -> None:
    graph = shipped_bundle.compiled.protocols["febrile_neutropenia"].graph
    route = _route(shipped_bundle, "febrile_neutropenia", "routed_override")
    text = to_dot(graph, route)
    override_lines = [
        line for line in text.splitlines() if '"override:febrile_neutropenia"' in line
    ]
    assert len(override_lines) == 2
    assert all('color="#d9480f"' in line for line in override_lines)
    target = next(
        line for line in text.splitlines() if line.startswith('  "emergency_assessment" [')
    )
    assert 'xlabel="next"' in target
    assert 'label="Route:' in text
    plain = to_dot(graph)
    assert "#d9480f" not in plain
    assert '"override:febrile_neutropenia" ->' in plain


def test_step_ids_that_are_mermaid_keywords_are_drawn_under_a_safe_id(tmp_path: Path) -> None:
    """``end``, ``graph``, ``click``... are valid step ids but Mermaid keywords (mermaid.parse
    11.17 rejects ``  end(["..."])``): they are drawn as ``S_<id>``, never bare."""
    steps = [
        step("graph", kind="diagnostic", next_=[transition("go", "click", ALWAYS)]),
        step("click", otherwise="end"),
        step("end", kind="terminal"),
    ]
    root = write_bundle(
        tmp_path / "b", protocol("keywords", steps, entry="graph", inputs=["wbc_10e9_l"])
    )
    graph = pr.load_bundle(root, engine="reference").compiled.protocols["keywords"].graph
    lines = to_mermaid(graph).splitlines()
    assert any(line.startswith("  S_end([") for line in lines)
    assert any(line.startswith("  S_graph -->|") and line.endswith("| S_click") for line in lines)
    assert "  S_click -.->|otherwise| S_end" in lines
    for keyword in ("end", "graph", "click"):
        assert not any(re.match(rf"  {keyword}\b", line) for line in lines)


def test_drawing_ids_never_clash_with_step_ids(tmp_path: Path) -> None:
    """Steps named like the route note or an override's node keep their own box."""
    steps = [
        step("route_note", kind="diagnostic", next_=[transition("go", "override_x", ALWAYS)]),
        step("override_x", kind="terminal"),
    ]
    override = f'{{id: x, to: route_note, priority: 100, when: {ALWAYS}, because: "x"}}'
    clash = protocol(
        "clash", steps, entry="route_note", inputs=["wbc_10e9_l"], overrides=[override]
    )
    root = write_bundle(tmp_path / "b", clash)
    graph = pr.load_bundle(root, engine="reference").compiled.protocols["clash"].graph
    lines = to_mermaid(graph, Highlight(notes=("Decision: routed.",))).splitlines()
    for step_id in ("route_note", "override_x"):
        defined = [line for line in lines if re.match(rf"  {step_id}[\[({{]", line)]
        assert len(defined) == 1, defined  # one box, not redefined by the note or a node
        assert not any(line.startswith(f"  style {step_id} ") for line in lines)
