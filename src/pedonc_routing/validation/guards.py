r"""Checks of the guards of one step, by symbolic analysis (see :mod:`.boxes`).

Every counterexample is a patient snippet (``Issue.example``) in the shape of the patient
state, with each input the guards read; the analysis assumes every input present (a missing
input is ``needs_data`` at run time, not a gap). The sections below are rendered into
docs/checks.md by :mod:`pedonc_routing.validation.checks_doc`.

### G004 warning: guards overlap

Two transitions of one step, at equal priority, are both true for some patient. File order
then decides, which is rarely what the author meant. The analysis is symbolic and
boundary-exact (see [engine.md](engine.md)): it assumes every input is present, and the
message and `Issue.example` give a counterexample patient.

FAIL:

```yaml
    next:
      - {id: high_count, to: done, when: {input: wbc_10e9_l, gte: 50}, because: "High"}
      - {id: t_lineage, to: done, when: {input: immunophenotype, eq: T}, because: "T"}
```

```
protocol.yaml:19:9: G004 warning: transitions 'high_count' (line 18) and 't_lineage' (line 19) of step 'start' both hold at priority 0 for this patient: {observations: {immunophenotype: T, wbc_10e9_l: 50.0}}
    example patient:
      observations:
        immunophenotype: T
        wbc_10e9_l: 50.0
```

PASS: give the more specific transition a higher `priority`, or make the guards exclusive
(`{all: [{input: immunophenotype, eq: T}, {input: wbc_10e9_l, lt: 50}]}`).

### G005 warning: guard never true

A transition, follow-up or override whose condition no patient with plausible values
satisfies: contradictory bounds, or a constant outside the input's range.

FAIL:

```yaml
      - {id: never, to: done, when: {all: [{input: wbc_10e9_l, lt: 1}, {input: wbc_10e9_l, gte: 1}]}, because: "Never"}
```

```
protocol.yaml:19:9: G005 warning: transition 'never' can never be true (no patient with plausible values satisfies its condition)
```

PASS: fix the bounds (`lt: 1` with `gte: 0`), or remove the transition.

### G006 warning: gap: no transition holds

A step without `otherwise` where some complete patient satisfies no transition: routing
would answer `no_route` for that child (explained, never a guess). A warning so that a
pathway under construction still loads; `validate --strict` fails on it.

FAIL (2 decimals of precision leave exactly 49.99 uncovered):

```yaml
    next:
      - {id: high_count, to: done, when: {input: wbc_10e9_l, gte: 50}, because: "High"}
      - {id: low_count, to: done, when: {input: wbc_10e9_l, lt: 49.99}, because: "Low"}
```

```
protocol.yaml:12:3: G006 warning: no transition of step 'start' holds, and it has no `otherwise`, for this patient: {observations: {wbc_10e9_l: 49.99}}
```

PASS: `lt: 50` in the second transition, or an `otherwise`.

### G007 warning: protocols overlap

Two protocols of equal `priority` (a protocol's top-level `priority`, default 0) both have
`applies_to` holding for the same child; the first in file order is chosen. Protocols of
different priority may overlap on purpose (a catch-all pathway declares a lower priority
than the disease protocols): the higher one is chosen, and not reported. Non-overlapping
`applies_to` at equal priority is also what lets routing choose a protocol whose guard is
true while another is unknown for lack of data.

FAIL: `other.yaml` applies to `C91`, `protocol.yaml` to `C91.0`.

```
protocol.yaml:9:1: G007 warning: protocols 'other' (other.yaml:9:1) and 'mini' both apply to this child; 'other' is chosen (file order): {diagnosis: {icd10: C91.0}}
```

PASS: narrow one of them (`icd10_in: ["C91.1-C91.9"]`), or give the broader one a lower
`priority` when the precedence is deliberate.

### G008 warning: guards too complex to analyse

A step whose guards expand to more than 20,000 boxes in the symbolic analysis: the overlap,
gap and never-true checks are skipped for that step (routing is unaffected).

PASS: split deeply nested `not`/`any` conditions into separate transitions.

### G009 warning: transition never chosen

A transition that some patient satisfies, but every such patient is taken first by
transitions ranked before it (higher priority, or equal priority earlier in the file).
Mis-ordered age or count bands show up here.

FAIL (`gte: 100` listed after `gte: 50` at the same priority):

```yaml
      - {id: high_count, to: done, when: {input: wbc_10e9_l, gte: 50}, because: "High"}
      - {id: shadowed, to: done, when: {input: wbc_10e9_l, gte: 100}, because: "Shadowed"}
```

```
protocol.yaml:19:9: G009 warning: transition 'shadowed' is never chosen: every patient it matches is taken first by 'high_count' (higher priority or earlier in the file)
```

PASS: list the narrower band first, or give it a higher `priority`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pedonc_routing.compiler.facts import InputSpec
from pedonc_routing.loader.documents import Sourced
from pedonc_routing.model.conditions import Condition
from pedonc_routing.model.documents import Protocol
from pedonc_routing.source import SourceSpan
from pedonc_routing.validation.boxes import (
    Dimension,
    IntervalSet,
    Space,
    TooComplex,
    find_uncovered,
    intersect_boxes,
    point_in,
)
from pedonc_routing.validation.issues import Issue

BoxList = list[dict[str, IntervalSet]]


@dataclass(frozen=True)
class _Guarded:
    """A guard to analyse: what it belongs to and where it is."""

    label: str
    priority: int
    condition: Condition
    span: SourceSpan


def step_guard_issues(
    sourced: Sourced[Protocol], inputs: Mapping[str, InputSpec]
) -> Iterator[Issue]:
    """G004, G005, G006 (and G008) for every step, override and follow-up of a protocol."""
    protocol, source_map = sourced.model, sourced.source_map
    for step_id, step in protocol.steps.items():
        guards = [
            _Guarded(
                transition.id,
                transition.priority,
                transition.when,
                source_map.span(("steps", step_id, "next", index)),
            )
            for index, transition in enumerate(step.next)
        ]
        yield from _analyse_step(
            step_id, guards, step.otherwise is None, inputs, source_map.key_span(("steps", step_id))
        )
        for index, follow_up in enumerate(step.follow_ups):
            if follow_up.when is not None:
                where = source_map.span(("steps", step_id, "follow_ups", index))
                yield from _never_true(
                    [_Guarded(follow_up.id, 0, follow_up.when, where)], inputs, "follow-up"
                )
    overrides = [
        _Guarded(o.id, o.priority, o.when, source_map.span(("overrides", index)))
        for index, o in enumerate(protocol.overrides)
    ]
    yield from _never_true(overrides, inputs, "override")


def applies_to_issues(
    protocols: Sequence[Sourced[Protocol]], inputs: Mapping[str, InputSpec]
) -> Iterator[Issue]:
    """G007: two protocols of equal ``priority`` that apply to the same child (a different
    declared priority is a deliberate precedence, e.g. a catch-all pathway)."""
    selected = [
        _Guarded(
            s.model.id, s.model.priority, s.model.applies_to, s.source_map.key_span(("applies_to",))
        )
        for s in protocols
        if s.model.applies_to is not None
    ]
    space = Space(inputs, [g.condition for g in selected])
    try:
        boxes = [space.boxes(guard.condition) for guard in selected]
    except TooComplex:
        return
    for first, second, box in _overlapping_pairs(selected, boxes, space):
        yield Issue.at(
            second.span,
            "G007",
            f"protocols {first.label!r} ({first.span}) and {second.label!r} both apply to "
            f"this child; {first.label!r} is chosen (file order): "
            f"{_brief(space.patient_of(point_in(box, space.dimensions)))}",
            "warning",
            example=space.patient_of(point_in(box, space.dimensions)),
        )


def _analyse_step(
    step_id: str,
    guards: Sequence[_Guarded],
    needs_cover: bool,
    inputs: Mapping[str, InputSpec],
    step_span: SourceSpan,
) -> Iterator[Issue]:
    if not guards:
        return
    space = Space(inputs, [guard.condition for guard in guards])
    try:
        boxes = [space.boxes(guard.condition) for guard in guards]
    except TooComplex:
        yield Issue.at(
            step_span,
            "G008",
            f"the guards of step {step_id!r} are too complex to analyse",
            "warning",
        )
        return
    for guard, guard_boxes in zip(guards, boxes, strict=True):
        if not guard_boxes:
            yield _never_issue(guard, "transition")
    for first, second, box in _overlapping_pairs(guards, boxes, space):
        patient = space.patient_of(point_in(box, space.dimensions))
        yield Issue.at(
            second.span,
            "G004",
            f"transitions {first.label!r} (line {first.span.line}) and {second.label!r} "
            f"(line {second.span.line}) of step {step_id!r} both hold at priority "
            f"{first.priority} for this patient: {_brief(patient)}",
            "warning",
            example=patient,
        )
    yield from _shadowed(guards, boxes, space)
    if needs_cover:
        every_box = [box for guard_boxes in boxes for box in guard_boxes]
        order = _sweep_order(space.dimensions, every_box)
        point = find_uncovered(every_box, order)
        if point is not None:
            full = {name: d.low for name, d in space.dimensions.items()} | point
            patient = space.patient_of(full)
            yield Issue.at(
                step_span,
                "G006",
                f"no transition of step {step_id!r} holds, and it has no `otherwise`, "
                f"for this patient: {_brief(patient)}",
                "warning",
                example=patient,
            )


def _shadowed(
    guards: Sequence[_Guarded], boxes: Sequence[BoxList], space: Space
) -> Iterator[Issue]:
    """G009: a transition that some patient satisfies, but every such patient is taken by a
    transition ranked before it (higher priority, or equal priority earlier in the file)."""
    ranked = sorted(range(len(guards)), key=lambda i: -guards[i].priority)  # stable: file order
    rank = {index: position for position, index in enumerate(ranked)}
    earlier: dict[int, set[int]] = {index: set() for index in range(len(guards))}
    for first, second, _ in _overlapping_pairs(guards, boxes, space, any_priority=True):
        a, b = guards.index(first), guards.index(second)
        before, after = (a, b) if rank[a] < rank[b] else (b, a)
        earlier[after].add(before)
    for index, guard in enumerate(guards):
        if not boxes[index] or not earlier[index]:
            continue
        prior = [box for other in earlier[index] for box in boxes[other]]
        reachable = False
        for box in boxes[index]:
            # Is some point of this box left uncovered by the transitions ranked before?
            touching = [p for p in prior if intersect_boxes(p, box) is not None]
            order = _sweep_order(space.dimensions, touching)
            if find_uncovered(touching, order, within=box) is not None:
                reachable = True
                break
        if not reachable:
            names = ", ".join(repr(guards[other].label) for other in sorted(earlier[index]))
            yield Issue.at(
                guard.span,
                "G009",
                f"transition {guard.label!r} is never chosen: every patient it matches is "
                f"taken first by {names} (higher priority or earlier in the file)",
                "warning",
            )


def _never_true(
    guards: Sequence[_Guarded], inputs: Mapping[str, InputSpec], what: str
) -> Iterator[Issue]:
    for guard in guards:
        space = Space(inputs, [guard.condition])
        try:
            if not space.boxes(guard.condition):
                yield _never_issue(guard, what)
        except TooComplex:
            continue


def _never_issue(guard: _Guarded, what: str) -> Issue:
    return Issue.at(
        guard.span,
        "G005",
        f"{what} {guard.label!r} can never be true (no patient with plausible values "
        "satisfies its condition)",
        "warning",
    )


def _overlapping_pairs(
    guards: Sequence[_Guarded],
    boxes: Sequence[BoxList],
    space: Space,
    *,
    any_priority: bool = False,
) -> Iterator[tuple[_Guarded, _Guarded, dict[str, IntervalSet]]]:
    """Pairs of guards at equal priority with a common patient, each pair once.

    Boxes are swept along the dimension most boxes constrain: only boxes whose extents
    there overlap are intersected, so guards that partition a range cost O(n log n).
    """
    flat = [(index, box) for index, guard_boxes in enumerate(boxes) for box in guard_boxes]
    if not flat:
        return
    order = _sweep_order(space.dimensions, [box for _, box in flat])
    axis = order[0] if order else None

    def extent(box: Mapping[str, IntervalSet]) -> tuple[int, int]:
        if axis is None or axis.name not in box:
            return (axis.low, axis.high) if axis is not None else (0, 0)
        parts = box[axis.name].parts
        return parts[0][0], parts[-1][1]

    ranked = sorted(((extent(box), index, box) for index, box in flat), key=lambda e: e[0])
    active: list[tuple[tuple[int, int], int, dict[str, IntervalSet]]] = []
    reported: set[tuple[int, int]] = set()
    for span, index, box in ranked:
        active = [entry for entry in active if entry[0][1] >= span[0]]
        for _, other, other_box in active:
            pair = (min(index, other), max(index, other))
            if other == index or pair in reported:
                continue
            if not any_priority and guards[index].priority != guards[other].priority:
                continue
            both = intersect_boxes(box, other_box)
            if both is not None:
                reported.add(pair)
                yield guards[pair[0]], guards[pair[1]], both
        active.append((span, index, box))


def _sweep_order(
    dimensions: Mapping[str, Dimension], boxes: Sequence[Mapping[str, IntervalSet]]
) -> list[Dimension]:
    """Dimensions ordered by how many boxes constrain them, then by how finely (distinct
    bounds): sweeping the finest axis keeps few boxes active at once."""
    counts = dict.fromkeys(dimensions, 0)
    bounds: dict[str, set[int]] = {name: set() for name in dimensions}
    for box in boxes:
        for name, allowed in box.items():
            counts[name] = counts.get(name, 0) + 1
            bounds.setdefault(name, set()).update(low for low, _ in allowed.parts)
    return sorted(
        dimensions.values(),
        key=lambda d: (-counts.get(d.name, 0), -len(bounds.get(d.name, ())), d.name),
    )


def _brief(patient: Mapping[str, object]) -> str:
    """A one-line rendering of a patient snippet for the issue message."""
    parts = []
    for key, value in patient.items():
        if isinstance(value, Mapping):
            inner = ", ".join(f"{k}: {v}" for k, v in value.items())
            parts.append(f"{key}: {{{inner}}}")
        else:
            parts.append(f"{key}: {value}")
    return "{" + ", ".join(parts) + "}"
