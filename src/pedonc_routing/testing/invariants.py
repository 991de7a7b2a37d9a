"""Invariants written in YAML by protocol authors, checked statically and by hypothesis.

Why: the most important promises of a bundle are cross-cutting ("fever with neutropenia on
chemotherapy always reaches a 24 h facility as an emergency") and belong to no single
protocol. Authors write them as data, in the same condition language as guards, next to the
protocols; the library checks them two ways:

- :func:`check_invariant` on one patient (inside ``@given(patients(...))``), and
- :func:`invariant_counterexample`, a static search that needs no test run.

File format (``kind: invariants``)::

    kind: invariants
    invariants:
      - id: fn_is_an_emergency
        description: "Fever with neutropenia on chemotherapy is an emergency at a 24 h facility"
        when:                      # a condition over inputs, as in guards; also the
          all:                     # pseudo-inputs position.protocol / position.step (text)
            - {input: on_chemotherapy, eq: true}
            - {input: anc_10e9_l, lt: 0.5}
            - {input: temperature_c, gte: 38.3}
            - {input: position.protocol, present: true}
        then:                      # every key optional; all given keys must hold
          status: routed
          urgency: emergency
          facility_cover_24h: true
          facility_level_at_least: regional
          step_kind: emergency
          protocol: febrile_neutropenia

An invariant holds for a patient when ``when`` is not *true* for it (unknown counts as not
applying: a missing input is ``needs_data`` territory) or every ``then`` key matches the
decision.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from pedonc_routing.bundle import Bundle
from pedonc_routing.decision.builder import decide
from pedonc_routing.decision.model import Decision, Status
from pedonc_routing.engine.reference import ReferenceEvaluator, evaluate
from pedonc_routing.errors import InvariantsError
from pedonc_routing.intake.patient import PatientFacts, read_patient
from pedonc_routing.loader.yaml_reader import read_yaml_file
from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not, Test
from pedonc_routing.model.documents import Level, StepKind, Urgency
from pedonc_routing.model.patient import Position
from pedonc_routing.routing.network import at_least_level
from pedonc_routing.testing.patients import AS_OF
from pedonc_routing.testing.properties import (
    Patient,
    PropertyFailed,
    patient_facts,
)
from pedonc_routing.validation.boxes import Space, TooComplex
from pedonc_routing.vocabulary.inputs import FactValue

__all__ = [
    "POSITION_INPUTS",
    "Invariant",
    "InvariantFile",
    "InvariantsError",
    "Then",
    "check_invariant",
    "invariant_counterexample",
    "load_invariants",
]

#: Pseudo-inputs an invariant's ``when`` may test besides the vocabulary: where the child is.
POSITION_INPUTS = ("position.protocol", "position.step")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Then(_Frozen):
    """What the decision must be when ``when`` holds (only the keys given are checked)."""

    status: Status | None = None
    urgency: Urgency | None = None
    facility_cover_24h: StrictBool | None = None
    facility_level_at_least: Level | None = None
    step_kind: StepKind | None = None
    protocol: StrictStr | None = None


class Invariant(_Frozen):
    id: StrictStr = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: StrictStr = Field(min_length=1)
    when: Condition
    then: Then


class InvariantFile(_Frozen):
    kind: Literal["invariants"]
    invariants: list[Invariant] = Field(min_length=1)


def load_invariants(path: str | Path) -> list[Invariant]:
    """Read a ``kind: invariants`` file (safe YAML: no tags, no duplicate keys, bounded);
    raise :class:`InvariantsError` with every problem, each as ``FILE:LINE:COL``."""
    file = Path(path)
    loaded, issues = read_yaml_file(file, str(file))
    errors = [issue for issue in issues if issue.severity == "error"]
    if loaded is None or errors:
        raise InvariantsError([str(issue) for issue in errors] or [f"{file}: unreadable"])
    try:
        return InvariantFile.model_validate(loaded.data).invariants
    except ValidationError as error:
        lines = []
        for detail in error.errors(include_url=False, include_input=False):
            loc = tuple(part for part in detail["loc"] if not str(part).startswith("cond:"))
            span = loaded.source_map.span(loc)
            lines.append(f"{span.short}: {'.'.join(map(str, loc))}: {detail['msg']}")
        raise InvariantsError(lines) from None


# -- one patient -------------------------------------------------------------------------------


def _facts_with_position(bundle: Bundle, patient: Patient) -> dict[str, FactValue]:
    compiled = bundle.compiled
    read = read_patient(compiled.schema, patient, compiled.steps_by_protocol)
    facts: dict[str, FactValue] = dict(read.facts)
    position = read.state.position
    if position is not None:
        facts["position.protocol"] = position.protocol
        facts["position.step"] = position.step
    return facts


def violations(bundle: Bundle, then: Then, decision: Decision) -> list[str]:
    """What in ``decision`` breaks ``then`` (empty: it holds)."""
    problems: list[str] = []
    if then.status is not None and decision.status != then.status:
        problems.append(f"status is {decision.status!r}, not {then.status!r}")
    if then.urgency is not None and decision.urgency != then.urgency:
        problems.append(f"urgency is {decision.urgency!r}, not {then.urgency!r}")
    kind = decision.step.kind if decision.step else None
    if then.step_kind is not None and kind != then.step_kind:
        problems.append(f"step kind is {kind!r}, not {then.step_kind!r}")
    if then.protocol is not None:
        got = decision.protocol.id if decision.protocol else None
        if got != then.protocol:
            problems.append(f"protocol is {got!r}, not {then.protocol!r}")
    if then.facility_cover_24h is not None or then.facility_level_at_least is not None:
        ref = decision.facility
        facility = bundle.compiled.network.facilities.get(ref.id) if ref is not None else None
        if facility is None:
            problems.append("no registry facility was chosen")
        else:
            cover = then.facility_cover_24h
            if cover is not None and facility.cover_24h != cover:
                problems.append(f"facility {facility.id!r} cover_24h is {facility.cover_24h}")
            wanted = then.facility_level_at_least
            if wanted is not None and not at_least_level(facility.level, wanted):
                problems.append(f"facility {facility.id!r} is {facility.level}, below {wanted}")
    return problems


def check_invariant(bundle: Bundle, invariant: Invariant, patient: Patient) -> Decision | None:
    """Check one invariant on one patient: None when ``when`` does not hold, else the
    decision; raises :class:`PropertyFailed` (facts and rule lines) when ``then`` fails."""
    facts = _facts_with_position(bundle, patient)
    if evaluate(invariant.when, facts) is not True:
        return None
    decision = bundle.route(patient)
    problems = violations(bundle, invariant.then, decision)
    if problems:
        raise PropertyFailed(
            f"invariant {invariant.id}",
            f"{invariant.description}: " + "; ".join(problems) + f" ({decision.summary()})",
            patient_facts(bundle, patient),
            [f"{item.source} ({item.rule})" for item in decision.explanation],
        )
    return decision


# -- the static check --------------------------------------------------------------------------


@dataclass(frozen=True)
class Counterexample:
    """A patient for whom ``when`` holds and ``then`` fails, with what failed."""

    patient: dict[str, Any]
    decision: Decision
    problems: list[str]

    def __str__(self) -> str:
        return f"{'; '.join(self.problems)} for {self.patient} ({self.decision.summary()})"


def _guard_conditions(bundle: Bundle) -> list[Condition]:
    compiled = bundle.compiled
    found = [g.condition for p in compiled.protocols.values() for g in p.table.guards]
    found.extend(g.condition for g in compiled.selector.guards)
    return found


def _breakpoints(space: Space, conditions: Sequence[Condition]) -> dict[str, set[int]]:
    """Every interval end of every guard, and one unit either side, per dimension."""
    points: dict[str, set[int]] = {}
    for condition in conditions:
        try:
            boxes = space.boxes(condition)
        except TooComplex:
            continue
        for box in boxes:
            for name, allowed in box.items():
                for low, high in allowed.parts:
                    points.setdefault(name, set()).update({low - 1, low, high, high + 1})
    return points


def _positions(bundle: Bundle) -> list[tuple[str, str] | None]:
    compiled = bundle.compiled
    return [None] + [
        (protocol, step)
        for protocol in sorted(compiled.protocols)
        for step in sorted(compiled.protocols[protocol].graph.steps)
    ]


def _patient_at(
    bundle: Bundle,
    space: Space,
    point: Mapping[str, int],
    position: tuple[str, str] | None,
    filler: int,
    home_region: str,
) -> dict[str, Any]:
    """A complete, valid patient at ``point``; every dimension not in it at the low
    (``filler == 0``) or high end of its domain, and every input no guard reads likewise."""
    schema = bundle.compiled.schema
    full = dict(point)
    for name, dimension in space.dimensions.items():
        if name not in full and not dimension.spec.builtin:
            full[name] = dimension.low if filler == 0 else dimension.high
    snippet = space.patient_of(full)
    patient: dict[str, Any] = {
        "as_of": AS_OF.isoformat(),
        "sex": snippet.get("sex") if snippet.get("sex") in ("F", "M") else "F",
        "home_region": home_region,
        "diagnosis": {
            key: value
            for key, value in (snippet.get("diagnosis") or {}).items()
            if key in full or f"{key}#code" in full
        },
        "observations": {},
        "exposures": {},
    }
    years = int(snippet["age_years"]) if "age_years" in point else 5
    patient["birth_date"] = AS_OF.date().replace(year=AS_OF.year - years).isoformat()
    for spec in schema.inputs.values():
        if spec.builtin or spec.group == "derived":
            continue
        value = snippet.get(spec.group, {}).get(spec.name)
        if value is None:
            bound = spec.low if filler == 0 else spec.high
            if spec.type == "boolean":
                value = bool(filler)
            elif spec.type == "enum":
                value = spec.values[0 if filler == 0 else -1]
            else:
                value = float(bound if bound is not None else 0)
                value = int(value) if spec.type == "integer" else value
        patient[spec.group][spec.name] = value
    if position is not None:
        patient["position"] = _position_of(bundle, position)
    return patient


def _without_position(condition: Condition) -> Condition | None:
    """``condition`` with its position tests dropped (None: nothing left to constrain).
    Positions are enumerated, not analysed, so the box analysis must not see them."""
    if isinstance(condition, Test):
        return None if condition.input in POSITION_INPUTS else condition
    if isinstance(condition, AllOf):
        parts = [p for p in (_without_position(c) for c in condition.all) if p is not None]
        return AllOf(all=parts) if parts else None
    if isinstance(condition, AnyOf):
        kept = [p for p in (_without_position(c) for c in condition.any) if p is not None]
        if len(kept) < len(condition.any):
            return None  # one branch is unconstrained here: so is the whole
        return AnyOf(any=kept)
    assert isinstance(condition, Not)
    inner = _without_position(condition.negated)
    return None if inner is None else Not.model_validate({"not": inner})


@functools.cache
def _position_cache(bundle: Bundle, position: tuple[str, str]) -> Position:
    return Position.model_validate(_position_of(bundle, position))


def _position_of(bundle: Bundle, position: tuple[str, str]) -> dict[str, Any]:
    """A position at ``position``; a step that may resume an interrupted pathway gets a
    ``return_to`` (the entry of another protocol), so it is not ``needs_data``."""
    placed: dict[str, Any] = {"protocol": position[0], "step": position[1]}
    step = bundle.compiled.protocols[position[0]].graph.steps[position[1]]
    if any(t.to_step == "return" for t in step.transitions):
        other = next(p for p in sorted(bundle.compiled.protocols) if p != position[0])
        entry = bundle.compiled.protocols[other].model.entry
        placed["return_to"] = {"protocol": other, "step": entry}
    return placed


def _points(
    space: Space, when: Condition, breakpoints: Mapping[str, set[int]], limit: int
) -> Iterator[dict[str, int]]:
    """Boundary points inside ``when``'s boxes: each box's interval ends, and every guard
    breakpoint inside them; at most ``limit`` (a seeded sample past that)."""
    seen: set[tuple[tuple[str, int], ...]] = set()
    stripped = _without_position(when)
    for box in space.boxes(stripped) if stripped is not None else [{}]:
        names = sorted(name for name in box if name in space.dimensions)
        axes = []
        for name in names:
            allowed = box[name]
            values = {v for low, high in allowed.parts for v in (low, high)}
            values |= {v for v in breakpoints.get(name, ()) if allowed.contains(v)}
            axes.append(sorted(values))
        combos = list(itertools.islice(itertools.product(*axes), limit * 20))
        if len(combos) > limit:
            combos = random.Random(0).sample(combos, limit)
        for combo in combos:
            key = tuple(zip(names, combo, strict=True))
            if key not in seen:
                seen.add(key)
                yield dict(key)


def invariant_counterexample(
    bundle: Bundle, invariant: Invariant, *, limit: int = 400
) -> Counterexample | None:
    """Search for a patient who satisfies ``when`` and breaks ``then``, without hypothesis.

    What it covers, exactly: the inputs ``when`` tests are set to the boundary points of
    ``when`` (each end of its intervals) and to every guard boundary of the bundle inside
    them (each guard constant and one unit of precision either side: where an override or
    a transition starts or stops holding), at most ``limit`` combinations per box of
    ``when``. Each combination is tried at every position of the bundle (and with no
    position) that ``when`` admits, with every other input filled in (all at the low end
    of its range / false / first enum value, then all at the high end / true / last), from
    every home region with no current facility when ``then`` constrains the facility
    (``facility_cover_24h``, ``facility_level_at_least``), else from one region.

    It is therefore complete for invariants whose ``then`` depends only on which override
    or step is chosen (``status``, ``urgency``, ``step_kind``, ``protocol``) *when* the
    other inputs cannot change that choice, and a bounded search otherwise; hypothesis
    (:func:`check_invariant` under ``@given``) covers the rest. Returns the first
    counterexample found, or None.
    """
    schema = bundle.compiled.schema
    inputs = {name: spec for name, spec in schema.inputs.items() if name not in ("home_region",)}
    guards = _guard_conditions(bundle)
    space = Space(inputs, [invariant.when, *guards])
    breakpoints = _breakpoints(space, guards)
    facility_matters = (
        invariant.then.facility_cover_24h is not None
        or invariant.then.facility_level_at_least is not None
    )
    regions = sorted(bundle.compiled.network.catchments) if facility_matters else ["KZ-75"]
    regions = regions or ["KZ-75"]
    compiled = bundle.compiled
    evaluator = ReferenceEvaluator()  # the same rules; the engines are tested to agree
    rotation = itertools.cycle(regions)
    for point in _points(space, invariant.when, breakpoints, limit):
        for filler in (0, 1):
            patient = _patient_at(bundle, space, point, None, filler, next(rotation))
            try:  # read once per point; only the position changes below
                read = read_patient(compiled.schema, patient, compiled.steps_by_protocol)
            except ValueError:
                continue  # not a valid patient (e.g. a code the point made up)
            for position in _positions(bundle):
                facts: dict[str, FactValue] = dict(read.facts)
                state = read.state
                if position is not None:
                    facts["position.protocol"], facts["position.step"] = position
                    state = state.model_copy(update={"position": _position_cache(bundle, position)})
                if evaluate(invariant.when, facts) is not True:
                    continue
                decision = decide(compiled, evaluator, PatientFacts(state, read.facts))
                problems = violations(bundle, invariant.then, decision)
                if problems:
                    found = state.model_dump(mode="json", exclude_none=True)
                    return Counterexample(found, decision, problems)
    return None
