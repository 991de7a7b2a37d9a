"""The pure-Python SVG: well-formed, complete, deterministic, escaped, route highlighted."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from render_patients import PATIENT_BY_STATUS, read_patient

import pedonc_routing as pr
from conftest import PROTOCOLS_DIR
from pedonc_routing.render.diagram import route_highlight
from pedonc_routing.render.svg import to_svg, wrap

NS = {"svg": "http://www.w3.org/2000/svg"}


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{{{NS['svg']}}}g") if cls in g.get("class", "").split()]


@pytest.mark.parametrize(
    "protocol_id",
    [
        "all",
        "burkitt_lymphoma",
        "early_warning",
        "febrile_neutropenia",
        "supportive_care",
        "survivorship",
        "wilms_tumour",
    ],
)
def test_every_step_and_edge_is_drawn(shipped_bundle: pr.Bundle, protocol_id: str) -> None:
    graph = shipped_bundle.compiled.protocols[protocol_id].graph
    root = ET.fromstring(to_svg(graph).encode("utf-8"))
    drawn_nodes = {g.get("data-step") for g in _groups(root, "node")}
    assert drawn_nodes == set(graph.graph.nodes) | {f"override:{o.id}" for o in graph.overrides}
    drawn_edges = {
        (g.get("data-from"), g.get("data-to"), g.get("data-transition"))
        for g in _groups(root, "edge")
    }
    expected = set(graph.edges()) | {(f"override:{o.id}", o.to_step, o.id) for o in graph.overrides}
    assert drawn_edges == expected
    assert not _groups(root, "route")


def test_boxes_do_not_overlap(shipped_bundle: pr.Bundle) -> None:
    graph = shipped_bundle.compiled.protocols["all"].graph
    root = ET.fromstring(to_svg(graph).encode("utf-8"))
    boxes = []
    for group in [*_groups(root, "node"), *_groups(root, "edge")]:
        rect = group.find("svg:rect", NS)
        if rect is not None:  # steps, overrides and edge labels are rects (hexagons are not)
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            boxes.append((x, y, x + float(rect.get("width", 0)), y + float(rect.get("height", 0))))
    assert len(boxes) > 20
    for index, (ax1, ay1, ax2, ay2) in enumerate(boxes):
        for bx1, by1, bx2, by2 in boxes[index + 1 :]:
            assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1


def test_deterministic_across_processes_and_hash_seeds() -> None:
    """Same bundle, same bytes, even where set or dict order could leak in (string hashing
    is randomised per process: two processes with different seeds must agree)."""
    script = "from pedonc_routing.cli import main; main()"
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script, "graph", "all", "--format", "svg",
             "--protocols", str(PROTOCOLS_DIR)],
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, check=True,
        ).stdout
        for seed in ("1", "2")
    ]  # fmt: skip
    assert outputs[0].startswith(b"<?xml")
    assert outputs[0] == outputs[1]


def test_highlight_marks_current_target_and_edges(shipped_bundle: pr.Bundle) -> None:
    patient = read_patient(PATIENT_BY_STATUS["routed"])
    graph = shipped_bundle.compiled.protocols["all"].graph
    route = route_highlight(graph, shipped_bundle.route(patient), ("all", "diagnosis"))
    root = ET.fromstring(to_svg(graph, route).encode("utf-8"))
    on_route = {g.get("data-step") for g in _groups(root, "node") if "route" in g.get("class", "")}
    assert on_route == {"diagnosis", "risk_stratification", "induction_standard_risk"}
    assert [g.get("data-step") for g in _groups(root, "current")] == ["diagnosis"]
    assert [g.get("data-step") for g in _groups(root, "target")] == ["induction_standard_risk"]
    route_edges = {
        (g.get("data-from"), g.get("data-to"))
        for g in _groups(root, "edge")
        if "route" in g.get("class", "")
    }
    assert route_edges == {
        ("diagnosis", "risk_stratification"),
        ("risk_stratification", "induction_standard_risk"),
    }


def test_text_is_escaped(shipped_bundle: pr.Bundle) -> None:
    text = to_svg(shipped_bundle.compiled.protocols["all"].graph)
    assert "wbc_10e9_l &lt; 50" in text  # guards in words keep their "<"
    assert "<return>" not in text


def test_wrap_keeps_every_word() -> None:
    words = ["Maintenance", "and", "follow-up", "in", "the", "home", "region,", "with", "support"]
    lines = wrap(" ".join(words), 24)
    assert all(len(line) <= 24 for line in lines)
    assert " ".join(lines).split() == words
    assert wrap("Supercalifragilisticexpialidocious x", 10) == (
        "Supercalifragilisticexpialidocious",
        "x",
    )
