"""A pathway as a standalone SVG picture: pure Python, no Graphviz, same input -> same bytes.

Layout, a small Sugiyama-style layered drawing:

1. **Layers.** Back edges (found by a depth-first search from the entry step, successors in
   file order) are reversed so the graph is acyclic; each node's layer is then its longest
   path from a source. Overrides get a band of their own above the entry.
2. **Rows.** Steps sit on even rows. Every edge gets a label box on the odd row just below
   its upper end, and a waypoint on each further row it crosses, so labels are boxes like
   any other and never overlap (Graphviz does the same with its label nodes).
3. **Order in a row.** First-seen order, then a few barycentre sweeps (stable sorts).
4. **Coordinates.** Boxes packed left to right, each row centred; rows stacked.

Text widths are estimated (no font metrics without a browser): generous for DejaVu Sans,
so text stays inside its box. All text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise

from pedonc_routing.compiler.pathway import OTHERWISE, RETURN_NODE, PathwayGraph
from pedonc_routing.model.documents import ENDING_KINDS
from pedonc_routing.render.diagram import ROUTE_COLOUR, Edge, Highlight
from pedonc_routing.render.words import in_words

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
CHAR_WIDTH = 0.62  # of the font size: a safe average for Latin and Cyrillic in DejaVu Sans
TITLE_SIZE, SMALL_SIZE, LABEL_SIZE = 13, 10, 11
TITLE_CHARS, LABEL_CHARS = 24, 30  # wrap widths, in characters
PAD, H_GAP, V_GAP, MARGIN = 8, 24, 18, 20
SWEEPS = 4

#: (fill, stroke, legend text) per step kind.
KIND_STYLES: dict[str, tuple[str, str, str]] = {
    "referral": ("#e7f5ff", "#1c7ed6", "referral"),
    "diagnostic": ("#e6fcf5", "#0ca678", "diagnostic"),
    "staging": ("#fff9db", "#f08c00", "staging"),
    "treatment_phase": ("#f3f0ff", "#7048e8", "treatment phase"),
    "procedure": ("#f8f0fc", "#ae3ec9", "procedure"),
    "emergency": ("#fff5f5", "#e03131", "emergency (octagon)"),
    "follow_up": ("#ebfbee", "#37b24d", "follow-up"),
    "survivorship": ("#e3fafc", "#1098ad", "survivorship (pathway may end)"),
    "palliative": ("#fff0f6", "#c2255c", "palliative (pathway may end)"),
    "terminal": ("#f1f3f5", "#495057", "end of pathway"),
}
EXTERNAL_STYLE = ("#ffffff", "#868e96", "step of another protocol (dashed)")
OVERRIDE_STYLE = ("#fff5f5", "#e03131", "override: interrupts any pathway (dashed edge)")


@dataclass(slots=True)
class _Box:
    """One item of the layout: a step, an override, an edge label or an edge waypoint."""

    id: str
    row: int
    width: float
    height: float
    lines: tuple[str, ...] = ()
    role: str = "step"  # step | external | override | label | waypoint
    x: float = 0.0
    y: float = 0.0
    up: list[_Box] = field(default_factory=list)
    down: list[_Box] = field(default_factory=list)

    @property
    def cx(self) -> float:
        return self.x + self.width / 2


@dataclass(slots=True)
class _DrawnEdge:
    edge: Edge
    chain: list[_Box]  # upper end, label, waypoints..., lower end
    reversed: bool
    dashed: bool
    self_loop_label: _Box | None = None


def wrap(text: str, width: int) -> tuple[str, ...]:
    """Words into lines of at most ``width`` characters (a longer word gets its own line)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return tuple(lines) or ("",)


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


class _Layout:
    def __init__(self, graph: PathwayGraph) -> None:
        self.graph = graph
        self.boxes: dict[str, _Box] = {}
        self.edges: list[_DrawnEdge] = []
        nodes = list(graph.graph.nodes)
        edge_list: list[Edge] = list(graph.edges())
        override_edges = [
            (f"override:{o.id}", o.to_step, o.id) for o in graph.overrides if o.to_step in nodes
        ]
        back = _back_edges(nodes, edge_list, graph.entry)
        layers = _longest_path_layers(nodes, [_upright(e, back) for e in edge_list])
        shift = 1 if override_edges else 0
        for node in nodes:
            self.boxes[node] = self._node_box(node, 2 * (layers[node] + shift))
        for override_id, _, _ in override_edges:
            self.boxes[override_id] = self._override_box(override_id)
        for edge in [*edge_list, *override_edges]:
            self._add_edge(edge, edge in back)

    # -- boxes ------------------------------------------------------------------------------

    def _node_box(self, node: str, row: int) -> _Box:
        step = self.graph.steps.get(node)
        if step is not None:
            lines = wrap(step.model.title.en, TITLE_CHARS)
            role = "step"
        elif node == RETURN_NODE:
            lines, role = ("Return to the", "interrupted pathway"), "external"
        else:
            protocol, _, step_id = node.partition(":")
            lines, role = (f"protocol {protocol}:", step_id), "external"
        width = max(text_width(line, TITLE_SIZE) for line in lines) + 2 * PAD
        width = max(width, text_width(self._caption(node), SMALL_SIZE) + 2 * PAD, 120.0)
        if step is not None and step.model.passthrough:
            width += 24  # the hexagon's points
        height = len(lines) * (TITLE_SIZE + 3) + SMALL_SIZE + 3 * PAD
        return _Box(node, row, width, height, lines, role)

    def _override_box(self, node: str) -> _Box:
        lines = ("Any pathway:", node.removeprefix("override:"))
        width = max(max(text_width(line, TITLE_SIZE) for line in lines) + 2 * PAD, 120.0)
        return _Box(node, 0, width, 2 * (TITLE_SIZE + 3) + 2 * PAD, lines, "override")

    def _caption(self, node: str) -> str:
        step = self.graph.steps.get(node)
        if step is None:
            return ""
        kind = KIND_STYLES[step.model.kind][2].split(" (")[0]
        return f"{kind} · {node}" + (" · decision point" if step.model.passthrough else "")

    def _label_box(self, edge: Edge, row: int, text: str) -> _Box:
        lines = wrap(text, LABEL_CHARS)
        width = max(text_width(line, LABEL_SIZE) for line in lines) + 2 * PAD
        height = len(lines) * (LABEL_SIZE + 3) + PAD
        return _Box(f"label:{'|'.join(edge)}", row, width, height, lines, "label")

    def _guard_text(self, edge: Edge) -> str:
        source, _, key = edge
        if source.startswith("override:"):
            override = next(o for o in self.graph.overrides if o.id == key)
            return in_words(override.condition)
        if key == OTHERWISE:
            return "otherwise"
        transition = next(t for t in self.graph.steps[source].transitions if t.id == key)
        assert transition.condition is not None
        return in_words(transition.condition)

    def _add_edge(self, edge: Edge, is_back: bool) -> None:
        source, target, key = edge
        dashed = key == OTHERWISE or source.startswith("override:")
        upper, lower = (
            (self.boxes[target], self.boxes[source])
            if is_back
            else (
                self.boxes[source],
                self.boxes[target],
            )
        )
        text = self._guard_text(edge)
        if source == target:
            label = self._label_box(edge, upper.row, text)
            self.edges.append(_DrawnEdge(edge, [upper, upper], False, dashed, label))
            return
        chain = [upper]
        for row in range(upper.row + 1, lower.row):
            box = (
                self._label_box(edge, row, text)
                if row == upper.row + 1
                else _Box(f"via:{'|'.join(edge)}:{row}", row, 8.0, 0.0, (), "waypoint")
            )
            chain.append(box)
        chain.append(lower)
        for above, below in pairwise(chain):
            above.down.append(below)
            below.up.append(above)
        self.edges.append(_DrawnEdge(edge, chain, is_back, dashed))

    # -- placement ------------------------------------------------------------------------------

    def rows(self) -> list[list[_Box]]:
        items: list[_Box] = list(self.boxes.values())
        for drawn in self.edges:
            items.extend(drawn.chain[1:-1])
        count = max(box.row for box in items) + 1
        rows: list[list[_Box]] = [[] for _ in range(count)]
        for box in items:
            rows[box.row].append(box)
        return rows

    def place(self) -> tuple[float, float]:
        """Order and position every box; returns the drawing's (width, height)."""
        rows = self.rows()
        for _ in range(SWEEPS):
            for index in range(1, len(rows)):
                rows[index] = _by_barycentre(rows[index], rows[index - 1], upward=True)
            for index in range(len(rows) - 2, -1, -1):
                rows[index] = _by_barycentre(rows[index], rows[index + 1], upward=False)
        loop_room = {
            drawn.chain[0].id: drawn.self_loop_label.width + 30
            for drawn in self.edges
            if drawn.self_loop_label is not None
        }
        widths = [
            sum(box.width + loop_room.get(box.id, 0.0) for box in row)
            + H_GAP * max(len(row) - 1, 0)
            for row in rows
        ]
        y = 0.0
        for row, row_width in zip(rows, widths, strict=True):
            x = (max(widths) - row_width) / 2
            height = max((box.height for box in row), default=0.0)
            for box in row:
                box.x, box.y = x, y + (height - box.height) / 2
                x += box.width + loop_room.get(box.id, 0.0) + H_GAP
            y += height + V_GAP
        for _ in range(SWEEPS):
            for row in [*rows[1:], *reversed(rows[:-1])]:
                _straighten(row, loop_room)
        left = min(box.x for row in rows for box in row)
        right = max(box.x + box.width + loop_room.get(box.id, 0.0) for row in rows for box in row)
        for row in rows:
            for box in row:
                box.x -= left
        for drawn in self.edges:
            if drawn.self_loop_label is not None:
                owner = drawn.chain[0]
                label = drawn.self_loop_label
                label.x = owner.x + owner.width + 24
                label.y = owner.y + (owner.height - label.height) / 2
        return right - left, y - V_GAP


def _upright(edge: Edge, back: set[Edge]) -> tuple[str, str]:
    source, target, _ = edge
    return (target, source) if edge in back else (source, target)


def _back_edges(nodes: Sequence[str], edges: Sequence[Edge], entry: str) -> set[Edge]:
    """Edges that close a cycle in a depth-first search from ``entry`` (then from any node
    not reached), successors in file order; self-loops count as back edges."""
    successors: dict[str, list[Edge]] = {node: [] for node in nodes}
    for edge in edges:
        successors[edge[0]].append(edge)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[Edge] = set()
    for root in [entry, *nodes] if entry in successors else nodes:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, Iterator[Edge]]] = [(root, iter(successors[root]))]
        while stack:
            node, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            edge, target = step, step[1]
            if state.get(target) == 1:
                back.add(edge)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(successors[target])))
    return back


def _longest_path_layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Layer = longest path from a source, on an acyclic graph (self-loops ignored)."""
    incoming = dict.fromkeys(nodes, 0)
    outgoing: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source != target:
            incoming[target] += 1
            outgoing[source].append(target)
    layer = dict.fromkeys(nodes, 0)
    ready = [node for node in nodes if incoming[node] == 0]
    while ready:
        node = ready.pop(0)
        for target in outgoing[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return layer


def _straighten(row: list[_Box], room: dict[str, float]) -> None:
    """Move each box towards the mean centre of its neighbours, keeping order and gaps:
    the mean of a push-right and a push-left placement, both feasible, is feasible."""
    wanted = []
    for box in row:
        linked = [n.cx for n in (*box.up, *box.down)]
        wanted.append(sum(linked) / len(linked) - box.width / 2 if linked else box.x)
    right_pushed: list[float] = []
    edge = -1e9
    for box, x in zip(row, wanted, strict=True):
        right_pushed.append(max(x, edge))
        edge = right_pushed[-1] + box.width + room.get(box.id, 0.0) + H_GAP
    left_pushed = [0.0] * len(row)
    edge = 1e9
    for index in range(len(row) - 1, -1, -1):
        box = row[index]
        left_pushed[index] = min(wanted[index], edge - box.width - room.get(box.id, 0.0))
        edge = left_pushed[index] - H_GAP
    for box, pushed_right, pushed_left in zip(row, right_pushed, left_pushed, strict=True):
        box.x = (pushed_right + pushed_left) / 2


def _by_barycentre(row: list[_Box], neighbours: list[_Box], *, upward: bool) -> list[_Box]:
    position = {id(box): index for index, box in enumerate(neighbours)}

    def key(item: tuple[int, _Box]) -> tuple[float, int]:
        index, box = item
        linked = [position[id(n)] for n in (box.up if upward else box.down) if id(n) in position]
        return (sum(linked) / len(linked) if linked else float(index), index)

    return [box for _, box in sorted(enumerate(row), key=key)]


# -- drawing ---------------------------------------------------------------------------------


def _n(value: float) -> str:
    """Coordinates with one decimal: stable text for the same layout."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, size: float, **attrs: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attrs.items())
    return f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}"{extra}>{escape(text)}</text>'


def _shape(box: _Box, kind: str | None, passthrough: bool, fill: str, stroke: str) -> str:
    x, y, w, h = box.x, box.y, box.width, box.height
    style = f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"'
    if box.role in ("external", "override"):
        style += ' stroke-dasharray="5 3"'
    if passthrough:
        points = [
            (x, y + h / 2),
            (x + 12, y),
            (x + w - 12, y),
            (x + w, y + h / 2),
            (x + w - 12, y + h),
            (x + 12, y + h),
        ]
        return f'<polygon points="{_points(points)}" {style}/>'
    if kind == "emergency":
        c = min(10.0, h / 3)
        points = [
            (x + c, y),
            (x + w - c, y),
            (x + w, y + c),
            (x + w, y + h - c),
            (x + w - c, y + h),
            (x + c, y + h),
            (x, y + h - c),
            (x, y + c),
        ]
        return f'<polygon points="{_points(points)}" {style}/>'
    radius = h / 2 if kind in ENDING_KINDS or box.id == RETURN_NODE else 6.0
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
        f'rx="{_n(radius)}" {style}/>'
    )


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_n(px)},{_n(py)}" for px, py in points)


def to_svg(graph: PathwayGraph, highlight: Highlight | None = None) -> str:
    """The pathway as a standalone SVG document (UTF-8 text)."""
    layout = _Layout(graph)
    width, height = layout.place()
    header = _header(graph, highlight)
    top = MARGIN + len(header) * 18 + 10
    canvas_width = max(width, 640.0) + 2 * MARGIN
    offset_x = MARGIN + (canvas_width - 2 * MARGIN - width) / 2
    body: list[str] = [f'<g transform="translate({_n(offset_x)},{_n(top)})">']
    body.extend(_edges(layout, highlight))
    body.extend(_nodes(layout, graph, highlight))
    body.append("</g>")
    legend, legend_height = _legend(graph, highlight, canvas_width, top + height + 24)
    total_height = top + height + 24 + legend_height + MARGIN
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(canvas_width)}" '
        f'height="{_n(total_height)}" viewBox="0 0 {_n(canvas_width)} {_n(total_height)}" '
        f'font-family="{FONT}" role="img" aria-labelledby="pathway-title">',
        f'<title id="pathway-title">Pathway {escape(graph.protocol_id)}</title>',
        "<defs>",
        _marker("arrow", "#495057"),
        _marker("arrow-route", ROUTE_COLOUR),
        "</defs>",
        f'<rect width="{_n(canvas_width)}" height="{_n(total_height)}" fill="#ffffff"/>',
    ]
    for index, line in enumerate(header):
        weight = {"font_weight": "bold"} if index == 0 else {}
        colour = ROUTE_COLOUR if index > 0 else "#212529"
        out.append(
            _text(
                MARGIN,
                MARGIN + 14 + index * 18,
                line,
                15 if index == 0 else 12,
                fill=colour,
                **weight,
            )
        )
    out.extend(body)
    out.extend(legend)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _header(graph: PathwayGraph, highlight: Highlight | None) -> list[str]:
    lines = [f"Pathway: {graph.protocol_id} (entry: {graph.entry})"]
    if highlight is not None:
        lines.extend(highlight.notes)
    return lines


def _marker(marker_id: str, colour: str) -> str:
    return (
        f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
    )


def _edges(layout: _Layout, highlight: Highlight | None) -> list[str]:
    out: list[str] = []
    for drawn in layout.edges:
        source, target, key = drawn.edge
        on_route = highlight is not None and (
            drawn.edge in highlight.edges
            or (source.startswith("override:") and key in highlight.overrides)
        )
        colour = ROUTE_COLOUR if on_route else "#495057"
        stroke = (
            f'fill="none" stroke="{colour}" stroke-width="{3.5 if on_route else 1.3}"'
            + (' stroke-dasharray="6 4"' if drawn.dashed else "")
            + f' marker-end="url(#{"arrow-route" if on_route else "arrow"})"'
        )
        classes = "edge route" if on_route else "edge"
        out.append(
            f'<g class="{classes}" data-from="{escape(source)}" data-to="{escape(target)}" '
            f'data-transition="{escape(key)}">'
        )
        label = drawn.self_loop_label
        if label is not None:
            box = drawn.chain[0]
            right = box.x + box.width
            top, bottom = box.y + box.height * 0.3, box.y + box.height * 0.7
            out.append(
                f'<path d="M{_n(right)},{_n(top)} C{_n(right + 28)},{_n(top - 6)} '
                f'{_n(right + 28)},{_n(bottom + 6)} {_n(right)},{_n(bottom)}" {stroke}/>'
            )
        else:
            out.append(f'<path d="{_path(drawn)}" {stroke}/>')
            label = next((box for box in drawn.chain if box.role == "label"), None)
        if label is not None:
            out.extend(_label_drawing(label, on_route))
        out.append("</g>")
    return out


def _path(drawn: _DrawnEdge) -> str:
    """Cubic segments with vertical tangents through the chain, in the edge's direction."""
    points: list[tuple[float, float]] = []
    for box in drawn.chain:
        points.append((box.cx, box.y))
        if box.height:
            points.append((box.cx, box.y + box.height))
    points = points[1:-1]  # leave the upper end from its bottom, enter the lower at its top
    if drawn.reversed:
        points.reverse()
    parts = [f"M{_n(points[0][0])},{_n(points[0][1])}"]
    for (x1, y1), (x2, y2) in pairwise(points):
        if x1 == x2:
            parts.append(f"L{_n(x2)},{_n(y2)}")
        else:
            middle = (y1 + y2) / 2
            parts.append(f"C{_n(x1)},{_n(middle)} {_n(x2)},{_n(middle)} {_n(x2)},{_n(y2)}")
    return " ".join(parts)


def _label_drawing(label: _Box, on_route: bool) -> list[str]:
    colour = ROUTE_COLOUR if on_route else "#868e96"
    out = [
        f'<rect x="{_n(label.x)}" y="{_n(label.y)}" width="{_n(label.width)}" '
        f'height="{_n(label.height)}" rx="3" fill="#ffffff" stroke="{colour}" '
        f'stroke-width="{1.5 if on_route else 0.6}"/>'
    ]
    for index, line in enumerate(label.lines):
        style = {"font_style": "italic"} if line == "otherwise" else {}
        out.append(
            _text(
                label.x + PAD,
                label.y + PAD / 2 + LABEL_SIZE + index * (LABEL_SIZE + 3),
                line,
                LABEL_SIZE,
                fill="#343a40",
                **style,
            )
        )
    return out


def _nodes(layout: _Layout, graph: PathwayGraph, highlight: Highlight | None) -> list[str]:
    out: list[str] = []
    for box in layout.boxes.values():
        step = graph.steps.get(box.id)
        kind = step.model.kind if step is not None else None
        fill, stroke, _ = (
            KIND_STYLES[kind]
            if kind is not None
            else OVERRIDE_STYLE
            if box.role == "override"
            else EXTERNAL_STYLE
        )
        classes = ["node", box.role]
        tag = None
        if highlight is not None:
            override_fired = box.role == "override" and box.id.removeprefix("override:") in (
                highlight.overrides
            )
            if box.id in highlight.steps or override_fired:
                classes.append("route")
                stroke = ROUTE_COLOUR
            if box.id == highlight.current:
                classes.append("current")
                tag = "now"
            elif box.id == highlight.target:
                classes.append("target")
                tag = "next"
        on_route = "route" in classes or tag is not None
        if on_route:
            stroke = ROUTE_COLOUR
        kind_attr = f' data-kind="{kind}"' if kind else ""
        out.append(f'<g class="{" ".join(classes)}" data-step="{escape(box.id)}"{kind_attr}>')
        out.append(f"<title>{escape(box.id)}{f' ({kind})' if kind else ''}</title>")
        shape = _shape(box, kind, bool(step and step.model.passthrough), fill, stroke)
        if on_route:
            shape = shape.replace('stroke-width="1.5"', 'stroke-width="4"')
        out.append(shape)
        for index, line in enumerate(box.lines):
            out.append(
                _text(
                    box.cx,
                    box.y + PAD + TITLE_SIZE + index * (TITLE_SIZE + 3),
                    line,
                    TITLE_SIZE,
                    text_anchor="middle",
                    fill="#212529",
                )
            )
        caption = layout._caption(box.id)
        if caption:
            out.append(
                _text(
                    box.cx,
                    box.y + box.height - PAD,
                    caption,
                    SMALL_SIZE,
                    text_anchor="middle",
                    fill="#495057",
                )
            )
        if tag is not None:
            out.append(
                _text(box.x, box.y - 4, tag, SMALL_SIZE + 1, fill=ROUTE_COLOUR, font_weight="bold")
            )
        out.append("</g>")
    return out


def _legend(
    graph: PathwayGraph, highlight: Highlight | None, width: float, top: float
) -> tuple[list[str], float]:
    """Swatches for the kinds drawn (and route, overrides, other protocols), in flowing rows."""
    drawn_kinds = {step.model.kind for step in graph.steps.values()}
    entries = [style for kind, style in KIND_STYLES.items() if kind in drawn_kinds]
    if any(node not in graph.steps for node in graph.graph.nodes):
        entries.append(EXTERNAL_STYLE)
    if graph.overrides:
        entries.append(OVERRIDE_STYLE)
    if any(step.model.passthrough for step in graph.steps.values()):
        entries.append(("#ffffff", "#495057", "hexagon: decision point, passed at once"))
    entries.append(("#ffffff", "#495057", "dashed edge: otherwise"))
    if highlight is not None:
        entries.append(("#fff4e6", ROUTE_COLOUR, "this child's route (now / next)"))
    out = ['<g class="legend">', _text(MARGIN, top, "Legend", 12, font_weight="bold")]
    x, y = float(MARGIN), top + 12
    for fill, stroke, text in entries:
        item_width = 26 + text_width(text, SMALL_SIZE + 1) + 18
        if x + item_width > width - MARGIN and x > MARGIN:
            x, y = MARGIN, y + 22
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="18" height="14" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"/>'
        )
        out.append(_text(x + 24, y + 11, text, SMALL_SIZE + 1, fill="#343a40"))
        x += item_width
    out.append("</g>")
    return out, y + 22 - top
