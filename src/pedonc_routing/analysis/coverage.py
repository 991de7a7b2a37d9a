"""Coverage: which steps, transitions, overrides and guard boundaries a set of cases exercises.

A protocol's test cases are its executable specification; coverage tells the working group
what that specification leaves unsaid. Everything is read from the decisions themselves (the
explanation rules, see :mod:`pedonc_routing.engine.walker`), not from instrumenting the
engine, so coverage measures exactly what a case demonstrates:

- a **step** is reached when a case starts at it (``position``), walks through it, or ends
  at it (the decision's step);
- a **transition** (``otherwise`` included) is taken when a rule
  ``PROTOCOL.STEP.TRANSITION_ID`` explains the decision;
- an **override** fired when ``PROTOCOL.overrides.ID`` does;
- a **guard boundary** is a numeric constant ``c`` compared by ``lt lte gt gte between eq``
  in a guard. It is exercised when cases on which that guard was evaluated had the input at
  ``c - u``, ``c`` and ``c + u`` (``u`` one unit of the input's precision; points outside
  the plausible range are dropped). "Evaluated" means: a transition's guard when the case
  decided at its step, an override's when the case was on a pathway it can interrupt, an
  ``applies_to`` when the case had no position, a follow-up's when the case was routed to
  its step. Values are the facts the guards read, so derived inputs (sums of exposures)
  and ages computed from birth dates count.

Off-by-one errors at thresholds are the classic fault of clinical rules (``<`` for ``<=``);
only the three points around a constant tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pedonc_routing.analysis.samples import (
    Case,
    boundary_points,
    from_grid,
    numeric_constants,
    to_grid,
)
from pedonc_routing.bundle import Bundle
from pedonc_routing.compiler.compiled import CompiledProtocol
from pedonc_routing.compiler.pathway import OTHERWISE
from pedonc_routing.decision.model import Decision
from pedonc_routing.errors import PatientDataError
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.model.conditions import Condition
from pedonc_routing.vocabulary.inputs import FactValue, InputSpec

GuardKind = Literal["transition", "override", "applies_to", "follow_up"]


@dataclass
class Boundary:
    """One constant of one guard, and which of its points the cases hit."""

    protocol: str
    guard: GuardKind
    owner: str  # "STEP.TRANSITION", "overrides.ID", "applies_to", "STEP.follow_ups.ID"
    span: str
    input: str
    operator: str
    constant: float | int
    points: tuple[int, ...]  # grid points (units of precision)
    spec: InputSpec
    hit: set[int] = field(default_factory=set)

    @property
    def exercised(self) -> bool:
        return all(point in self.hit for point in self.points)

    def missing_values(self) -> list[float | int]:
        return [from_grid(self.spec, p) for p in self.points if p not in self.hit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "span": self.span,
            "guard": self.guard,
            "owner": self.owner,
            "input": self.input,
            "operator": self.operator,
            "constant": self.constant,
            "points": [from_grid(self.spec, p) for p in self.points],
            "missing": self.missing_values(),
        }

    def describe(self) -> str:
        missing = ", ".join(f"{value:g}" for value in self.missing_values())
        return (
            f"{self.span} {self.owner}: {self.input} {self.operator} {self.constant:g}: "
            f"no case at {missing}"
        )


@dataclass
class ProtocolCoverage:
    """What the cases exercised of one protocol, and what exists to exercise."""

    protocol: str
    file: str
    steps: dict[str, str]  # step id -> span
    transitions: dict[tuple[str, str], str]  # (step, transition id) -> span
    overrides: dict[str, str]  # override id -> span
    boundaries: list[Boundary]
    cases: int = 0  # cases whose decision is in this protocol
    reached: set[str] = field(default_factory=set)
    taken: set[tuple[str, str]] = field(default_factory=set)
    fired: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        exercised = [b for b in self.boundaries if b.exercised]
        points = sum(len(b.points) for b in self.boundaries)
        points_hit = sum(len(b.hit & set(b.points)) for b in self.boundaries)
        return {
            "protocol": self.protocol,
            "file": self.file,
            "cases": self.cases,
            "steps": _part(
                len(self.reached & set(self.steps)),
                len(self.steps),
                [
                    {"step": s, "span": span}
                    for s, span in self.steps.items()
                    if s not in self.reached
                ],
            ),
            "transitions": _part(
                len(self.taken & set(self.transitions)),
                len(self.transitions),
                [
                    {"step": step, "transition": tid, "span": span}
                    for (step, tid), span in self.transitions.items()
                    if (step, tid) not in self.taken
                ],
            ),
            "overrides": _part(
                len(self.fired & set(self.overrides)),
                len(self.overrides),
                [
                    {"override": o, "span": span}
                    for o, span in self.overrides.items()
                    if o not in self.fired
                ],
            ),
            "boundaries": {
                **_part(
                    len(exercised),
                    len(self.boundaries),
                    [b.to_dict() for b in self.boundaries if not b.exercised],
                ),
                "points_hit": points_hit,
                "points_total": points,
            },
        }


def _part(covered: int, total: int, missed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "covered": covered,
        "total": total,
        "percent": percent(covered, total),
        "missed": missed,
    }


def percent(covered: int, total: int) -> float | None:
    """Rounded to one decimal; None when there is nothing to cover."""
    return round(100 * covered / total, 1) if total else None


@dataclass
class CoverageReport:
    """Coverage of every protocol of a bundle by a list of cases."""

    cases: int
    errors: list[dict[str, str]]  # {"case": FILE:LINE, "name", "problem"}: not routable
    protocols: list[ProtocolCoverage]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``pedonc-routing coverage --format json`` (see
        docs/coverage-and-diff.md)."""
        protocols = [p.to_dict() for p in self.protocols]
        totals = {
            kind: percent_total(protocols, kind)
            for kind in ("steps", "transitions", "overrides", "boundaries")
        }
        return {
            "cases": self.cases,
            "errors": self.errors,
            "totals": totals,
            "protocols": protocols,
        }


def percent_total(protocols: Sequence[Mapping[str, Any]], kind: str) -> dict[str, Any]:
    covered = sum(p[kind]["covered"] for p in protocols)
    total = sum(p[kind]["total"] for p in protocols)
    return {"covered": covered, "total": total, "percent": percent(covered, total)}


# -- measuring -----------------------------------------------------------------------------


def _boundaries_of(
    protocol_id: str,
    guard: GuardKind,
    owner: str,
    span: str,
    condition: Condition | None,
    inputs: Mapping[str, InputSpec],
) -> list[Boundary]:
    if condition is None:
        return []
    found: list[Boundary] = []
    seen: set[tuple[str, str, float | int]] = set()
    for test, constant in numeric_constants(condition, inputs):
        key = (test.input, test.operator, constant)
        if key in seen:
            continue
        seen.add(key)
        spec = inputs[test.input]
        points = boundary_points(spec, constant)
        if points:
            found.append(
                Boundary(
                    protocol_id,
                    guard,
                    owner,
                    span,
                    test.input,
                    test.operator,
                    constant,
                    points,
                    spec,
                )
            )
    return found


def _skeleton(protocol: CompiledProtocol, inputs: Mapping[str, InputSpec]) -> ProtocolCoverage:
    """Everything a protocol offers to cover, in file order."""
    pid = protocol.model.id
    graph = protocol.graph
    steps = {step_id: step.span for step_id, step in graph.steps.items()}
    transitions: dict[tuple[str, str], str] = {}
    boundaries: list[Boundary] = []
    if protocol.model.applies_to is not None:
        boundaries += _boundaries_of(
            pid,
            "applies_to",
            "applies_to",
            protocol.applies_span,
            protocol.model.applies_to,
            inputs,
        )
    for step_id, step in graph.steps.items():
        for transition in sorted(step.transitions, key=lambda t: t.order):
            transitions[(step_id, transition.id)] = transition.span
            boundaries += _boundaries_of(
                pid,
                "transition",
                f"{step_id}.{transition.id}",
                transition.span,
                transition.condition,
                inputs,
            )
        if step.otherwise is not None:
            transitions[(step_id, OTHERWISE)] = step.otherwise.span
        for follow_up in step.follow_ups:
            boundaries += _boundaries_of(
                pid,
                "follow_up",
                f"{step_id}.follow_ups.{follow_up.model.id}",
                follow_up.span,
                follow_up.model.when,
                inputs,
            )
    overrides = {o.id: o.span for o in graph.overrides}
    for override in graph.overrides:
        boundaries += _boundaries_of(
            pid, "override", f"overrides.{override.id}", override.span, override.condition, inputs
        )
    return ProtocolCoverage(pid, protocol.file, steps, transitions, overrides, boundaries)


@dataclass
class _Trace:
    """What one decision shows of the walk: steps reached, decided, transitions taken."""

    reached: set[tuple[str, str]] = field(default_factory=set)
    decided: set[tuple[str, str]] = field(default_factory=set)  # transitions evaluated
    taken: set[tuple[str, str, str]] = field(default_factory=set)
    fired: set[tuple[str, str]] = field(default_factory=set)
    followed: set[tuple[str, str]] = field(default_factory=set)  # follow-ups evaluated


def trace(bundle: Bundle, decision: Decision, position: tuple[str, str] | None) -> _Trace:
    """Parse a decision's explanation rules into the walk they record."""
    protocols = bundle.compiled.protocols
    result = _Trace()
    if position is not None:
        result.reached.add(position)
    if decision.protocol is not None and decision.step is not None:
        result.reached.add((decision.protocol.id, decision.step.id))
        if decision.status == "routed":
            result.followed.add((decision.protocol.id, decision.step.id))
    for item in decision.explanation:
        parts = item.rule.split(".")
        protocol = protocols.get(parts[0])
        if protocol is None or len(parts) < 2:
            continue  # facility.* rules
        pid = parts[0]
        if parts[1] == "overrides" and len(parts) == 3:
            result.fired.add((pid, parts[2]))
            continue
        step = protocol.graph.steps.get(parts[1])
        if step is None:
            continue  # applies_to
        result.reached.add((pid, step.id))
        if len(parts) == 2:
            result.decided.add((pid, step.id))
        elif parts[2] == "follow_ups":
            result.followed.add((pid, step.id))
        else:
            transition = next(
                (t for t in (*step.transitions, step.otherwise) if t and t.id == parts[2]), None
            )
            if transition is None:
                continue
            result.decided.add((pid, step.id))
            result.taken.add((pid, step.id, transition.id))
            if transition.to_protocol:
                result.reached.add((transition.to_protocol, transition.to_step))
    return result


def measure_coverage(bundle: Bundle, cases: Iterable[Case]) -> CoverageReport:
    """Route every case and measure what it exercises (see the module docstring)."""
    compiled = bundle.compiled
    inputs = compiled.schema.inputs
    by_protocol = {pid: _skeleton(p, inputs) for pid, p in compiled.protocols.items()}
    interrupted_by = {
        pid: {(o.protocol, o.id) for o in p.overrides} for pid, p in compiled.protocols.items()
    }
    errors: list[dict[str, str]] = []
    count = 0
    for case in cases:
        count += 1
        try:
            facts = read_patient(compiled.schema, case.patient, compiled.steps_by_protocol)
            decision = bundle.route(facts.state)
        except PatientDataError as error:
            errors.append({"case": case.where, "name": case.name, "problem": str(error)})
            continue
        state = facts.state
        position = (state.position.protocol, state.position.step) if state.position else None
        walked = trace(bundle, decision, position)
        if decision.protocol is not None and decision.protocol.id in by_protocol:
            by_protocol[decision.protocol.id].cases += 1
        for pid, step_id in walked.reached:
            by_protocol[pid].reached.add(step_id)
        for pid, step_id, tid in walked.taken:
            by_protocol[pid].taken.add((step_id, tid))
        for pid, override_id in walked.fired:
            by_protocol[pid].fired.add(override_id)
        evaluated = _evaluated_owners(walked, position, interrupted_by, compiled.selection_order)
        for coverage in by_protocol.values():
            for boundary in coverage.boundaries:
                if (
                    (boundary.protocol, boundary.owner) in evaluated
                    or (
                        boundary.guard == "transition"
                        and (boundary.protocol, boundary.owner.split(".")[0]) in walked.decided
                    )
                    or (
                        boundary.guard == "follow_up"
                        and (boundary.protocol, boundary.owner.split(".")[0]) in walked.followed
                    )
                ):
                    _hit(boundary, facts.facts)
    ordered = [by_protocol[pid] for pid in sorted(by_protocol)]
    return CoverageReport(count, errors, ordered)


def _evaluated_owners(
    walked: _Trace,
    position: tuple[str, str] | None,
    interrupted_by: Mapping[str, set[tuple[str, str]]],
    selection: Sequence[str],
) -> set[tuple[str, str]]:
    """(protocol, owner) of the applies_to and override guards the walk evaluated."""
    if position is None:
        return {(pid, "applies_to") for pid in selection}
    return {(pid, f"overrides.{oid}") for pid, oid in interrupted_by.get(position[0], set())}


def _hit(boundary: Boundary, facts: Mapping[str, FactValue]) -> None:
    grid = to_grid(boundary.spec, facts.get(boundary.input))
    if grid is not None and grid.denominator == 1:
        boundary.hit.add(int(grid))


# -- text ----------------------------------------------------------------------------------


def format_coverage(report: CoverageReport) -> str:
    """One table per protocol (covered/total and percent), then what each one misses."""
    data = report.to_dict()
    lines = [f"coverage of {data['cases']} case(s)"]
    for error in data["errors"]:
        lines.append(f"  {error['case']}: not routed ({error['name']}): {error['problem']}")
    labels = (
        ("steps", "steps reached"),
        ("transitions", "transitions taken"),
        ("overrides", "overrides fired"),
        ("boundaries", "guard boundaries"),
    )
    for protocol in data["protocols"]:
        lines.append("")
        lines.append(f"{protocol['protocol']} ({protocol['file']}): {protocol['cases']} case(s)")
        for kind, label in labels:
            part = protocol[kind]
            extra = (
                f"  ({part['points_hit']}/{part['points_total']} points)"
                if kind == "boundaries"
                else ""
            )
            lines.append(
                f"  {label:<19}{part['covered']:>4}/{part['total']:<4} "
                f"{_percent_text(part['percent'])}{extra}"
            )
        for item in protocol["steps"]["missed"]:
            lines.append(f"    missed step        {item['span']} {item['step']}")
        for item in protocol["transitions"]["missed"]:
            lines.append(
                f"    missed transition  {item['span']} {item['step']}.{item['transition']}"
            )
        for item in protocol["overrides"]["missed"]:
            lines.append(f"    missed override    {item['span']} overrides.{item['override']}")
        for item in protocol["boundaries"]["missed"]:
            missing = ", ".join(f"{value:g}" for value in item["missing"])
            lines.append(
                f"    missed boundary    {item['span']} {item['owner']}: "
                f"{item['input']} {item['operator']} {item['constant']:g}: no case at {missing}"
            )
    lines.append("")
    lines.append("total")
    for kind, label in labels:
        part = data["totals"][kind]
        lines.append(
            f"  {label:<19}{part['covered']:>4}/{part['total']:<4} {_percent_text(part['percent'])}"
        )
    return "\n".join(lines)


def _percent_text(value: float | None) -> str:
    return f"{value:5.1f}%" if value is not None else "    -"
