"""Ready-made properties of a bundle, to call inside a hypothesis ``@given`` test.

Why: a methodologist should state *what must always hold* ("every emergency is routed to a
24 h facility in time") once, and let hypothesis search the patient space for a child that
breaks it, instead of writing examples by hand. Each function routes the patient, checks
one property and raises :class:`PropertyFailed` (an ``AssertionError``, so pytest and
hypothesis treat it as a test failure and shrink the patient) whose message holds:

- the patient's *facts* (the checked, normalised inputs the guards read, plus position),
  never ``patient_id``: a failure report may be pasted into an issue tracker;
- the rule lines involved (``file:line`` of the transitions, overrides, facilities), so the
  author goes straight to the YAML to fix.

Every property accepts a :class:`~pedonc_routing.PatientState` or a mapping.
``PatientDataError`` is never turned into a failure: it is the documented answer to an
invalid patient, so it propagates (a strategy producing invalid patients is a bug to see).
"""

from __future__ import annotations

import json
import traceback
import weakref
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pedonc_routing.bundle import Bundle
from pedonc_routing.compiler.pathway import CompiledStep
from pedonc_routing.decision.model import Decision
from pedonc_routing.engine import durable_available
from pedonc_routing.engine.reference import ReferenceEvaluator, evaluate
from pedonc_routing.errors import PatientDataError
from pedonc_routing.intake.patient import PatientFacts, read_patient
from pedonc_routing.model.patient import PatientState
from pedonc_routing.routing.network import (
    ATTACHED_PRIMARY_CARE,
    at_least_level,
    attached_primary_care_serves,
)
from pedonc_routing.vocabulary.inputs import from_fixed

__all__ = [
    "PropertyFailed",
    "assert_capable_facility",
    "assert_deterministic",
    "assert_monotonic",
    "assert_timely",
    "assert_total",
    "assert_unique",
    "patient_facts",
]

Patient = PatientState | Mapping[str, Any]


class PropertyFailed(AssertionError):
    """A property does not hold for a patient.

    Attributes:
        property: the property's name (``"unique"``, ``"timely"``, ...).
        facts: the patient's facts (no identifier).
        rules: the ``file:line`` of every rule involved.
    """

    def __init__(
        self, name: str, message: str, facts: Mapping[str, Any], rules: Sequence[str] = ()
    ) -> None:
        self.property = name
        self.facts = dict(facts)
        self.rules = list(rules)
        lines = [f"property {name!r} failed: {message}", "patient facts:"]
        lines.extend(f"  {key}: {json.dumps(value, default=str)}" for key, value in facts.items())
        if self.rules:
            lines.append("rules involved:")
            lines.extend(f"  {rule}" for rule in self.rules)
        super().__init__("\n".join(lines))


# -- helpers -------------------------------------------------------------------------------


def _read(bundle: Bundle, patient: Patient) -> PatientFacts:
    compiled = bundle.compiled
    return read_patient(compiled.schema, patient, compiled.steps_by_protocol)


def patient_facts(bundle: Bundle, patient: Patient) -> dict[str, Any]:
    """The facts a failure report shows: checked inputs, position, current facility and
    ``as_of`` (never ``patient_id``). Raises ``PatientDataError`` for an invalid patient."""
    read = _read(bundle, patient)
    facts: dict[str, Any] = dict(sorted(read.facts.items()))
    state = read.state
    facts["as_of"] = state.as_of.isoformat()
    if state.position is not None:
        facts["position"] = f"{state.position.protocol}.{state.position.step}"
        if state.position.return_to is not None:
            back = state.position.return_to
            facts["position.return_to"] = f"{back.protocol}.{back.step}"
    if state.current_facility is not None:
        facts["current_facility"] = state.current_facility
    return facts


def _sources(decision: Decision) -> list[str]:
    return [f"{item.source} ({item.rule})" for item in decision.explanation]


def _route(bundle: Bundle, patient: Patient, name: str) -> Decision:
    try:
        return bundle.route(patient)
    except PatientDataError:
        raise
    except Exception as error:  # any other exception is the property failing
        summary = "".join(traceback.format_exception_only(type(error), error)).strip()
        raise PropertyFailed(
            name, f"routing raised {summary}", _safe_facts(bundle, patient)
        ) from error


def _safe_facts(bundle: Bundle, patient: Patient) -> dict[str, Any]:
    try:
        return patient_facts(bundle, patient)
    except Exception:  # the facts themselves could not be read: say so, never the raw state
        return {"(facts)": "could not be read"}


def _step(bundle: Bundle, decision: Decision) -> CompiledStep | None:
    if decision.protocol is None or decision.step is None:
        return None
    return bundle.compiled.protocols[decision.protocol.id].graph.steps[decision.step.id]


def _fail(
    bundle: Bundle,
    patient: Patient,
    name: str,
    message: str,
    decision: Decision | None = None,
    rules: Sequence[str] = (),
) -> PropertyFailed:
    involved = [*rules, *(_sources(decision) if decision is not None else [])]
    summary = f" (decision: {decision.summary()})" if decision is not None else ""
    return PropertyFailed(name, message + summary, patient_facts(bundle, patient), involved)


# -- total ---------------------------------------------------------------------------------


def assert_total(bundle: Bundle, patient: Patient) -> Decision:
    """Every valid state gets a decision: routing raises nothing but ``PatientDataError``,
    and a ``routed`` decision names a step, a facility and a specialist. Returns it."""
    decision = _route(bundle, patient, "total")
    if decision.status == "routed" and (
        decision.step is None or decision.facility is None or decision.specialist is None
    ):
        raise _fail(
            bundle, patient, "total", "routed without step, facility or specialist", decision
        )
    if decision.status == "needs_data" and not decision.missing:
        raise _fail(bundle, patient, "total", "needs_data with nothing missing", decision)
    return decision


# -- unique --------------------------------------------------------------------------------


def _decided_steps(bundle: Bundle, read: PatientFacts, decision: Decision) -> list[tuple[str, str]]:
    """(protocol, step) of every step whose transitions were weighed: the child's step and
    every step a transition in the explanation left from (passthrough hops)."""
    found: list[tuple[str, str]] = []
    position = read.state.position
    if position is not None:
        found.append((position.protocol, position.step))
    protocols = bundle.compiled.protocols
    for item in decision.explanation:
        parts = item.rule.split(".")
        if len(parts) < 2 or parts[0] not in protocols:
            continue
        if parts[1] in protocols[parts[0]].graph.steps:
            found.append((parts[0], parts[1]))
    return list(dict.fromkeys(found))


def assert_unique(bundle: Bundle, patient: Patient) -> None:
    """No two transitions of equal priority are both true at any step the child's walk
    weighs (its own step and every passthrough hop): evaluated with the reference
    evaluator, so the choice never silently depends on file order."""
    read = _read(bundle, patient)
    decision = _route(bundle, patient, "unique")
    for protocol_id, step_id in _decided_steps(bundle, read, decision):
        step = bundle.compiled.protocols[protocol_id].graph.steps[step_id]
        by_priority: dict[int, list[str]] = {}
        for transition in step.transitions:
            assert transition.condition is not None
            if evaluate(transition.condition, read.facts) is True:
                by_priority.setdefault(transition.priority, []).append(
                    f"{transition.span} ({protocol_id}.{step_id}.{transition.id},"
                    f" priority {transition.priority})"
                )
        for priority, spans in by_priority.items():
            if len(spans) > 1:
                raise _fail(
                    bundle,
                    patient,
                    "unique",
                    f"{len(spans)} transitions of priority {priority} hold at "
                    f"{protocol_id}.{step_id}",
                    rules=spans,
                )


# -- deterministic -------------------------------------------------------------------------

_TWINS: weakref.WeakKeyDictionary[Bundle, Bundle | None] = weakref.WeakKeyDictionary()


def _twin(bundle: Bundle) -> Bundle | None:
    """The same compiled bundle with the other engine (None when only one is available)."""
    if bundle in _TWINS:
        return _TWINS[bundle]
    twin: Bundle | None = None
    if bundle.engine != "reference":
        twin = Bundle(bundle.compiled, ReferenceEvaluator(), bundle.report)
    elif durable_available():
        from pedonc_routing.engine.durable import DurableEvaluator

        twin = Bundle(
            bundle.compiled, DurableEvaluator(bundle.compiled.schema.inputs), bundle.report
        )
    _TWINS[bundle] = twin
    return twin


def _without_engine(decision: Decision) -> dict[str, Any]:
    data = decision.to_dict()
    data.pop("engine", None)
    return data


def _first_difference(left: Mapping[str, Any], right: Mapping[str, Any]) -> str:
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            return f"{key}: {left.get(key)!r} != {right.get(key)!r}"
    return "(none)"


def assert_deterministic(bundle: Bundle, patient: Patient) -> None:
    """The same state twice gives the same decision, and the durable-rules engine agrees
    with the reference evaluator (decisions compared whole, minus ``engine``) when both
    are available."""
    first = _route(bundle, patient, "deterministic")
    second = _route(bundle, patient, "deterministic")
    if first.to_dict() != second.to_dict():
        raise _fail(
            bundle,
            patient,
            "deterministic",
            "two routings differ: " + _first_difference(first.to_dict(), second.to_dict()),
            first,
        )
    twin = _twin(bundle)
    if twin is None:
        return
    other = _route(twin, patient, "deterministic")
    if _without_engine(first) != _without_engine(other):
        raise _fail(
            bundle,
            patient,
            "deterministic",
            f"engines {first.engine!r} and {other.engine!r} differ: "
            + _first_difference(_without_engine(first), _without_engine(other)),
            first,
        )


# -- capable facility ----------------------------------------------------------------------


def assert_capable_facility(bundle: Bundle, patient: Patient) -> None:
    """A routed decision's facility offers every capability of the step, has its
    specialist, is at least the step's minimum level and serves the child's age (the
    attached polyclinic only for primary-level outpatient steps)."""
    decision = _route(bundle, patient, "capable_facility")
    if decision.status != "routed":
        return
    step = _step(bundle, decision)
    if step is None or decision.facility is None:
        raise _fail(
            bundle, patient, "capable_facility", "routed without step or facility", decision
        )
    care = step.model.care
    rules = [f"{step.span} (step {decision.protocol.id if decision.protocol else ''}.{step.id})"]
    if decision.facility.id == ATTACHED_PRIMARY_CARE:
        if not attached_primary_care_serves(care.min_level, care.setting):
            raise _fail(
                bundle,
                patient,
                "capable_facility",
                "attached polyclinic for a step above primary care or not outpatient",
                decision,
                rules,
            )
        return
    network = bundle.compiled.network
    facility = network.facilities.get(decision.facility.id)
    if facility is None:
        raise _fail(
            bundle,
            patient,
            "capable_facility",
            f"facility {decision.facility.id!r} is not in the registry",
            decision,
            rules,
        )
    rules.append(f"{network.spans[facility.id]} (facility {facility.id})")
    problems = []
    lacking = sorted(set(care.capabilities) - set(facility.capabilities))
    if lacking:
        problems.append(f"lacks capabilities {lacking}")
    if care.specialist not in facility.specialists:
        problems.append(f"has no {care.specialist}")
    if not at_least_level(facility.level, care.min_level):
        problems.append(f"level {facility.level} is below {care.min_level}")
    age = _read(bundle, patient).facts.get("age_years")
    low, high = facility.age_range_years
    if isinstance(age, int) and not low <= age < high:
        problems.append(f"serves ages {low:g}-{high:g}, the child is {age}")
    if problems:
        raise _fail(
            bundle,
            patient,
            "capable_facility",
            f"facility {facility.id!r} " + "; ".join(problems),
            decision,
            rules,
        )


# -- timely --------------------------------------------------------------------------------


def assert_timely(bundle: Bundle, patient: Patient) -> None:
    """An emergency step (``kind: emergency`` or ``urgency: emergency``) is routed to a
    facility with 24 h cover, reachable within the step's ``due_within_hours`` (travel
    time from where the child is, by the facility network) when the step has one."""
    decision = _route(bundle, patient, "timely")
    if decision.status != "routed":
        return
    step = _step(bundle, decision)
    if step is None or (step.model.kind != "emergency" and step.model.urgency != "emergency"):
        return
    rules = [f"{step.span} (emergency step {step.id})"]
    facility_ref = decision.facility
    network = bundle.compiled.network
    facility = network.facilities.get(facility_ref.id) if facility_ref is not None else None
    if facility is None:
        raise _fail(
            bundle,
            patient,
            "timely",
            "an emergency routed outside the registry (no 24 h cover known)",
            decision,
            rules,
        )
    rules.append(f"{network.spans[facility.id]} (facility {facility.id})")
    if not facility.cover_24h:
        raise _fail(
            bundle,
            patient,
            "timely",
            f"facility {facility.id!r} has no 24 h cover",
            decision,
            rules,
        )
    due = step.model.timing.due_within_hours
    if due is None:
        return
    hours = facility_ref.travel_hours if facility_ref is not None else None
    if hours is None:
        raise _fail(
            bundle,
            patient,
            "timely",
            f"travel time to {facility.id!r} unknown; the step is due within {due:g} h",
            decision,
            rules,
        )
    if hours > due:
        raise _fail(
            bundle,
            patient,
            "timely",
            f"travel to {facility.id!r} takes {hours:g} h; the step is due within {due:g} h",
            decision,
            rules,
        )


# -- monotonic -----------------------------------------------------------------------------


def _raised_values(bundle: Bundle, name: str, current: Any) -> list[Any]:
    """Values above ``current``: each guard constant above it (and one unit past it), and
    the top of the range; ``True`` for a false boolean."""
    spec = bundle.compiled.schema.inputs[name]
    if spec.type == "boolean":
        return [True] if current is False else []
    if spec.type not in ("number", "integer"):
        raise ValueError(f"assert_monotonic: {name!r} is {spec.type}, not orderable")
    unit = from_fixed(1, spec.precision) if spec.type == "number" else 1
    from pedonc_routing.testing.patients import guard_constants  # no import cycle at load

    candidates: set[float] = set()
    for constant in guard_constants(bundle).get(name, set()):
        candidates.update({constant, round(constant + unit, spec.precision)})
    if spec.high is not None:
        candidates.add(spec.high)
    low = spec.low if spec.low is not None else float("-inf")
    high = spec.high if spec.high is not None else float("inf")
    values = sorted(v for v in candidates if v > current and low <= v <= high)
    return [int(v) if spec.type == "integer" else v for v in values]


def _with_input(patient: Mapping[str, Any], group: str, name: str, value: Any) -> dict[str, Any]:
    changed = dict(patient)
    changed[group] = {**dict(patient.get(group) or {}), name: value}
    return changed


def _older(patient: Mapping[str, Any], years: int) -> dict[str, Any]:
    changed = dict(patient)
    born = patient.get("birth_date")
    if born is None:
        raise ValueError("assert_monotonic on age_years needs a birth_date")
    born_date = born if isinstance(born, date) else date.fromisoformat(str(born))
    try:
        changed["birth_date"] = born_date.replace(year=born_date.year - years).isoformat()
    except ValueError:  # 29 February
        changed["birth_date"] = born_date.replace(year=born_date.year - years, day=28).isoformat()
    return changed


def assert_monotonic(bundle: Bundle, patient: Patient, input: str, order: Sequence[str]) -> None:
    """Raising a risk input never lowers the risk group.

    ``order`` lists step ids from lowest to highest risk (e.g. ``["induction_standard_risk",
    "induction_high_risk"]``). The patient is routed as is and with ``input`` raised to
    every guard constant above its value (and one unit past it) and to the top of its range
    (``True`` for a boolean; ``age_years`` by an earlier birth date). Whenever both
    decisions land on steps of ``order``, the raised one must not be lower. Decisions
    elsewhere (another pathway, ``needs_data``) make no claim.
    """
    rank = {step: index for index, step in enumerate(order)}
    state = (
        patient.model_dump(mode="json", exclude_none=True)
        if isinstance(patient, PatientState)
        else dict(patient)
    )
    base = _route(bundle, state, "monotonic")
    if base.step is None or base.step.id not in rank:
        return
    read = _read(bundle, state)
    spec = bundle.compiled.schema.inputs.get(input)
    if spec is None:
        raise ValueError(f"assert_monotonic: unknown input {input!r}")
    current = read.facts.get(input)
    if current is None:
        return
    variants: list[tuple[Any, dict[str, Any]]] = []
    if input == "age_years":
        assert isinstance(current, int)
        for value in _raised_values(bundle, input, current):
            variants.append((value, _older(state, int(value) - current)))
    elif spec.builtin or spec.group == "derived":
        raise ValueError(f"assert_monotonic: raise the terms of {input!r}, not the input itself")
    else:
        for value in _raised_values(bundle, input, current):
            variants.append((value, _with_input(state, spec.group, input, value)))
    for value, raised in variants:
        decision = _route(bundle, raised, "monotonic")
        if decision.step is None or decision.step.id not in rank:
            continue
        if rank[decision.step.id] < rank[base.step.id]:
            raise _fail(
                bundle,
                state,
                "monotonic",
                f"raising {input} from {current!r} to {value!r} lowers the risk group from "
                f"{base.step.id!r} to {decision.step.id!r}",
                base,
                rules=[f"raised: {line}" for line in _sources(decision)],
            )
