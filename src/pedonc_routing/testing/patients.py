"""Hypothesis strategies for patients: valid children of a bundle, biased to its boundaries.

Why these exist: example-based tests only try the children someone thought of. The
validator proves guard-level facts (overlaps, gaps), but not end-to-end claims such as "every
child with febrile neutropenia reaches a 24 h facility". Methodologists state such claims as
properties (:mod:`pedonc_routing.testing.properties`) and let hypothesis search for a child
that breaks them. The search is only as good as the children it draws, so :func:`patients`
draws children the way the bundle itself sees them:

- every value comes from the vocabulary: its type, plausible range and precision, so every
  patient is *valid* (``bundle.route`` never raises ``PatientDataError`` for it);
- numbers are biased to the constants the guards mention, one unit of precision either side
  (``lt: 10`` with precision 2 gives 9.99, 10 and 10.01), and to the ends of the range,
  because that is where protocols go wrong;
- patients are complete for the inputs of their protocol unless ``allow_missing=True``, so
  a property about routing is not drowned in ``needs_data`` answers;
- a child with no position gets a diagnosis (ICD-10, ICD-O-3) and an age for which the
  protocol's ``applies_to`` holds, derived from its ``icd10_in``/``morphology_in`` patterns;
- ages are ``birth_date`` relative to a fixed ``as_of`` (:data:`AS_OF`), biased to
  birthdays at the age constants of the guards (the day before, the day of);
- derived inputs are never generated: the bundle computes them from their terms.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from pedonc_routing.bundle import Bundle
from pedonc_routing.compiler.compiled import CompiledProtocol
from pedonc_routing.compiler.guards import applies_key
from pedonc_routing.compiler.pathway import RETURN
from pedonc_routing.engine.reference import evaluate
from pedonc_routing.intake.patient import completed_years_and_months, read_patient
from pedonc_routing.model.conditions import Condition, iter_tests
from pedonc_routing.model.patient import PatientState
from pedonc_routing.testing.bundles import shipped_bundle
from pedonc_routing.validation.boxes import icd10_code
from pedonc_routing.vocabulary.codes import (
    CodeFormatError,
    icd10_key,
    icd10_pattern,
    morphology_pattern,
)
from pedonc_routing.vocabulary.inputs import FactSchema, InputSpec, kz_region_codes

__all__ = ["AS_OF", "guard_constants", "patients", "value_strategy"]

#: The fixed moment every generated patient is seen at: ages are exact relative to it, so a
#: failing example replays identically on any day.
AS_OF = datetime(2026, 11, 22, 9, 0, tzinfo=timezone(timedelta(hours=5)))

#: Top-level patient fields ``**fixed`` may set (anything else is taken as an input name).
PATIENT_FIELDS = frozenset(PatientState.model_fields)

#: Codes tried besides those the guards mention: common paediatric cancers, a few
#: non-neoplastic codes and follow-up codes (so "not in C00-D48" has something to hold for).
_ICD10_POOL = (
    "C91.0", "C91.00", "C92.0", "C81.9", "C83.7", "C64", "C69.2", "C71.9", "C22.0", "C40.2",
    "D33.1", "D61.9", "D69.0", "R50.9", "R59.0", "Z00.1", "Z08", "Z85.6",
)  # fmt: skip
_MORPHOLOGY_POOL = ("9836/3", "9837/3", "9811/3", "9650/3", "9687/3", "8960/3", "9510/3",
                    "9421/1", "9400/3", "8970/3")  # fmt: skip
#: The oldest age drawn: a little past the paediatric limit, so ``age_years lt 18`` is tested
#: at both sides when a protocol allows it.
MAX_AGE_DRAWN = 21


# -- constants the guards mention ---------------------------------------------------------------


def _conditions_of(protocol: CompiledProtocol) -> list[Condition]:
    return [guard.condition for guard in protocol.table.guards]


def _all_conditions(bundle: Bundle, protocol: str | None = None) -> list[Condition]:
    compiled = bundle.compiled
    chosen = [compiled.protocols[protocol]] if protocol else list(compiled.protocols.values())
    found = [condition for p in chosen for condition in _conditions_of(p)]
    found.extend(guard.condition for guard in compiled.selector.guards)
    return found


def guard_constants(bundle: Bundle, protocol: str | None = None) -> dict[str, set[float]]:
    """Numeric constants of the guards (of ``protocol``, overrides and ``applies_to``
    included, or of the whole bundle), by input: the boundaries worth testing."""
    found: dict[str, set[float]] = {}
    for condition in _all_conditions(bundle, protocol):
        for test in iter_tests(condition):
            operand = test.operand
            values = operand if isinstance(operand, list | tuple) else [operand]
            for value in values:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    found.setdefault(test.input, set()).add(float(value))
    return found


def _near_units(constants: Iterable[float], scale: int, low: int, high: int) -> list[int]:
    """Values (in units of the precision) at each constant and one unit either side."""
    found: set[int] = set()
    for constant in constants:
        exact = Decimal(repr(float(constant))) * scale
        floor = int(exact.to_integral_value(rounding="ROUND_FLOOR"))
        ceiling = int(exact.to_integral_value(rounding="ROUND_CEILING"))
        for base in {floor, ceiling}:
            found.update(unit for unit in (base - 1, base, base + 1) if low <= unit <= high)
    return sorted(found)


def value_strategy(spec: InputSpec, constants: Iterable[float] = ()) -> st.SearchStrategy[Any]:
    """Valid values of one vocabulary input, biased to ``constants`` +- one unit and to the
    ends of its range (numbers are multiples of the precision, so none is rounded)."""
    if spec.type in ("number", "integer"):
        scale = 10**spec.precision if spec.type == "number" else 1
        low = int(Decimal(repr(float(spec.low if spec.low is not None else 0))) * scale)
        high = int(Decimal(repr(float(spec.high if spec.high is not None else 1e6))) * scale)
        near = _near_units(constants, scale, low, high)
        units: st.SearchStrategy[int] = st.one_of(
            st.sampled_from(near) if near else st.nothing(),
            st.sampled_from([low, high]),
            st.integers(low, high),
        )
        if spec.type == "integer":
            return units
        return units.map(lambda unit: float(Decimal(unit) / scale))
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values)
    raise ValueError(f"input {spec.name!r} of type {spec.type} is not generated")


# -- diagnosis and age that make applies_to hold ---------------------------------------------


def _valid_icd10(code: str) -> bool:
    try:
        icd10_key(code)
    except CodeFormatError:
        return False
    return True


def _code_candidates(conditions: Sequence[Condition]) -> tuple[list[str], list[str]]:
    """ICD-10 and morphology codes at the ends of every pattern the conditions mention."""
    icd10: set[str] = set(_ICD10_POOL)
    morphology: set[str] = set(_MORPHOLOGY_POOL)
    for condition in conditions:
        for test in iter_tests(condition):
            if test.operator == "icd10_in":
                for pattern in test.operand:
                    low, high = icd10_pattern(pattern)
                    for key in (low, high, low - 1, high + 1):
                        code = icd10_code(key) if key >= 0 else ""
                        if _valid_icd10(code) and icd10_key(code) == key:
                            icd10.add(code)
            elif test.operator == "morphology_in":
                for pattern in test.operand:
                    item = morphology_pattern(pattern)
                    behaviours = [item.behaviour] if item.behaviour is not None else [1, 3]
                    for number in (item.low, item.high, item.low - 1, item.high + 1):
                        if 8000 <= number <= 9999:
                            morphology.update(f"{number:04d}/{b}" for b in behaviours)
    return sorted(icd10), sorted(morphology)


@functools.cache
def _applicable_diagnoses(
    bundle: Bundle, protocol: str
) -> tuple[tuple[str | None, str | None, int], ...]:
    """(icd10, morphology, age in years) combinations for which ``applies_to`` of
    ``protocol`` holds (cached per bundle and protocol: a few thousand evaluations)."""
    compiled = bundle.compiled
    key = applies_key(protocol)
    guard = compiled.selector.by_key.get(key)
    if guard is None:
        return ()
    icd10_codes, morphology_codes = _code_candidates([guard.condition])
    icd10s: list[str | None] = [None, *icd10_codes]
    morphologies: list[str | None] = [None, *morphology_codes]
    found: list[tuple[str | None, str | None, int]] = []
    for icd10, morphology, years in itertools.product(
        icd10s, morphologies, range(MAX_AGE_DRAWN + 1)
    ):
        facts: dict[str, Any] = {"age_years": years, "age_months": years * 12}
        if icd10 is not None:
            facts["icd10"] = icd10
        if morphology is not None:
            facts["icdo3_morphology"] = morphology
        if evaluate(guard.condition, facts) is True and _selected(bundle, protocol, facts):
            found.append((icd10, morphology, years))
    # Prefer complete diagnoses (a None is only kept when no code makes it hold).
    complete = [item for item in found if item[0] is not None]
    return tuple(complete or found)


def _selected(bundle: Bundle, protocol: str, facts: Mapping[str, Any]) -> bool:
    """True when ``protocol`` is the one the walker picks (the first true applies_to)."""
    compiled = bundle.compiled
    for candidate in compiled.selection_order:
        if evaluate(compiled.selector.by_key[applies_key(candidate)].condition, facts):
            return candidate == protocol
    return False


def _birth_date(years: int, days_before_birthday: int) -> date:
    """A birth date giving exactly ``years`` completed years at :data:`AS_OF`: on the
    birthday (``days_before_birthday == 0``) up to 364 days later in the year of age."""
    today = AS_OF.date()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    born = birthday - timedelta(days=days_before_birthday)
    got, _ = completed_years_and_months(born, today)
    return born if got == years else birthday


def _ages(constants: Iterable[float], allowed: Iterable[int]) -> st.SearchStrategy[date]:
    allowed_years = sorted(set(allowed))
    near = sorted({int(c) + d for c in constants for d in (-1, 0, 1)} & set(allowed_years))
    years = st.one_of(
        st.sampled_from(near) if near else st.nothing(), st.sampled_from(allowed_years)
    )
    # the birthday itself, the day before the next one, or any day of the year of age
    offsets = st.one_of(st.sampled_from([0, 364]), st.integers(0, 364))
    return st.builds(_birth_date, years, offsets)


# -- patients ------------------------------------------------------------------------------------


def _protocol_inputs(bundle: Bundle, protocol: str) -> list[str]:
    """The inputs a patient on ``protocol`` provides: declared inputs, and every input its
    guards read (overrides included), and the same for every protocol a transition leads
    to; derived inputs replaced by their terms."""
    compiled = bundle.compiled
    schema: FactSchema = compiled.schema
    names: set[str] = set()
    # A walk may continue into another protocol (e.g. the hand-over into survivorship):
    # its inputs are needed too.
    reachable, pending = {protocol}, [protocol]
    while pending:
        current = compiled.protocols[pending.pop()]
        names |= set(current.model.inputs) | set(current.table.inputs)
        for step in current.graph.steps.values():
            edges = [*step.transitions, *([step.otherwise] if step.otherwise else [])]
            for edge in edges:
                if edge.to_protocol and edge.to_protocol not in reachable:
                    reachable.add(edge.to_protocol)
                    pending.append(edge.to_protocol)
    provided: set[str] = set()
    for name in names:
        for base in schema.base_inputs(name):
            spec = schema.inputs.get(base)
            if spec is not None and not spec.builtin and spec.group != "derived":
                provided.add(base)
    return sorted(provided)


def _override_only_inputs(bundle: Bundle, protocol: str) -> frozenset[str]:
    """Inputs read by the overrides that can interrupt ``protocol`` and by none of its own
    transitions or follow-ups (derived inputs replaced by their terms)."""
    compiled = bundle.compiled
    schema = compiled.schema
    target = compiled.protocols[protocol]
    own = {
        base
        for guard in target.graph.guards
        for name in guard.inputs
        for base in schema.base_inputs(name)
    }
    by_overrides = {
        base
        for override in target.overrides
        for name in target.table.by_key[override.guard_key].inputs
        for base in schema.base_inputs(name)
    }
    return frozenset(by_overrides - own)


def _draw_input(
    draw: st.DrawFn,
    spec: InputSpec,
    constants: Mapping[str, set[float]],
    missing_odds: int,
    patient: dict[str, Any],
) -> None:
    """Draw one input into ``patient``; omitted one time in ``missing_odds + 1`` (never
    when ``missing_odds`` is 0)."""
    if spec.builtin or spec.group == "derived":
        return
    group = patient[spec.group]
    group.pop(spec.name, None)
    if missing_odds and draw(st.integers(0, missing_odds), label=f"{spec.name} missing?") == 0:
        return
    group[spec.name] = draw(value_strategy(spec, constants.get(spec.name, set())), label=spec.name)


def _as_strategy(value: Any) -> st.SearchStrategy[Any]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


@st.composite
def _patient(
    draw: st.DrawFn,
    bundle: Bundle,
    protocol: str | None,
    at_step: str | None,
    allow_missing: bool,
    interrupts: bool | None,
    fixed: Mapping[str, Any],
) -> dict[str, Any]:
    compiled = bundle.compiled
    schema = compiled.schema
    protocol_ids = sorted(compiled.protocols)
    if protocol is None:
        if at_step is not None:
            holders = [p for p in protocol_ids if at_step in compiled.steps_by_protocol[p]]
            if not holders:
                raise ValueError(f"no protocol has a step {at_step!r}")
            protocol = draw(st.sampled_from(holders), label="protocol")
        else:
            protocol = draw(st.sampled_from(protocol_ids), label="protocol")
    compiled_protocol = compiled.protocols[protocol]
    steps = sorted(compiled_protocol.graph.steps)
    applicable = _applicable_diagnoses(bundle, protocol)

    # position: the step asked for, or (any step | not yet on a pathway)
    position: dict[str, Any] | None
    if at_step is not None:
        position = {"protocol": protocol, "step": at_step}
    elif applicable:
        step = draw(st.one_of(st.none(), st.sampled_from(steps)), label="step")
        position = None if step is None else {"protocol": protocol, "step": step}
    else:  # entered only from other pathways: always on it
        position = {"protocol": protocol, "step": draw(st.sampled_from(steps), label="step")}
    if position is not None:
        hours = draw(st.integers(0, 24 * 120), label="hours on step")
        position["entered_at"] = (AS_OF - timedelta(hours=hours)).isoformat()
        step_model = compiled_protocol.graph.steps[position["step"]]
        if any(t.to_step == RETURN for t in step_model.transitions) or (
            step_model.otherwise is not None and step_model.otherwise.to_step == RETURN
        ):
            back = [
                (p, s) for p in protocol_ids if p != protocol for s in compiled.steps_by_protocol[p]
            ]
            keep = draw(st.booleans(), label="return_to given?") if allow_missing else True
            if back and keep:
                chosen = draw(st.sampled_from(sorted(back)), label="return_to")
                position["return_to"] = {"protocol": chosen[0], "step": chosen[1]}

    constants = guard_constants(bundle, protocol)
    # diagnosis and age
    if applicable:
        icd10, morphology, years = draw(st.sampled_from(applicable), label="diagnosis")
        same_code = [a[2] for a in applicable if a[0] == icd10 and a[1] == morphology]
        born = draw(_ages(constants.get("age_years", set()), same_code), label="birth_date")
        del years
    else:
        icd10 = draw(st.sampled_from(_ICD10_POOL), label="icd10")
        morphology = draw(st.sampled_from(_MORPHOLOGY_POOL), label="morphology")
        born = draw(_ages(constants.get("age_years", set()), range(18)), label="birth_date")
    diagnosis: dict[str, Any] = {}
    if icd10 is not None:
        diagnosis["icd10"] = icd10
    if morphology is not None:
        diagnosis["icdo3_morphology"] = morphology

    facilities = sorted(compiled.network.facilities)
    patient: dict[str, Any] = {
        "as_of": AS_OF.isoformat(),
        "birth_date": born.isoformat(),
        "sex": draw(st.sampled_from(["F", "M"]), label="sex"),
        "home_region": draw(st.sampled_from(sorted(kz_region_codes())), label="home_region"),
        "current_facility": draw(
            st.one_of(st.none(), st.sampled_from(facilities)) if facilities else st.none(),
            label="current_facility",
        ),
        "diagnosis": diagnosis,
        "observations": {},
        "exposures": {},
    }
    if position is not None:
        patient["position"] = position

    quiet = _override_only_inputs(bundle, protocol)
    for name in _protocol_inputs(bundle, protocol):
        if name in fixed or name in quiet:
            continue
        _draw_input(draw, schema.inputs[name], constants, 4 if allow_missing else 0, patient)
    # Inputs only the overrides read: when the child may not be interrupted, redraw them
    # (a few times) until no override holds, so the protocol's own steps get exercised.
    let_interrupt = (
        interrupts
        if interrupts is not None
        else draw(st.integers(0, 3), label="interrupt allowed?") == 0
    )
    overrides = [o.condition for o in compiled_protocol.overrides]
    for _attempt in range(8):
        for name in sorted(quiet - set(fixed)):
            # Absent is the usual state of an interrupt's input (nothing recorded), and
            # never makes the protocol's own choice needs_data: omit half of the time.
            omit = 1 if let_interrupt is not True else (4 if allow_missing else 0)
            _draw_input(draw, schema.inputs[name], constants, omit, patient)
        if let_interrupt is True or not overrides:
            break
        facts = read_patient(schema, patient, compiled.steps_by_protocol).facts
        if not any(evaluate(condition, facts) is True for condition in overrides):
            break
    else:
        if interrupts is False:
            reject()

    for name, value in fixed.items():
        drawn = draw(_as_strategy(value), label=f"fixed {name}")
        if name in PATIENT_FIELDS:
            if drawn is None and name not in ("as_of", "home_region"):
                patient.pop(name, None)
            else:
                patient[name] = drawn
            continue
        found = schema.inputs.get(name)
        if found is None or found.builtin:
            raise ValueError(f"{name!r} is neither a patient field nor a vocabulary input")
        spec = found
        if spec.group == "derived":
            raise ValueError(f"{name!r} is derived (computed from its terms): fix the terms")
        if drawn is None:
            patient[spec.group].pop(name, None)
        else:
            patient[spec.group][name] = drawn
    return patient


def patients(
    bundle: Bundle | None = None,
    protocol: str | None = None,
    at_step: str | None = None,
    *,
    allow_missing: bool = False,
    interrupts: bool | None = None,
    **fixed: Any,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid patient states (mappings shaped as DESIGN.md section 4) for ``bundle``.

    Args:
        bundle: the bundle; the shipped one when None.
        protocol: the pathway the child is on (or will be chosen for); any when None.
        at_step: the child's current step (a step of ``protocol``); when None the child is
            at a random step of the protocol, or not yet on a pathway (then the diagnosis
            and age make the protocol's ``applies_to`` hold).
        allow_missing: drop inputs at random (about one in five), to exercise ``needs_data``.
        interrupts: may an override (e.g. febrile neutropenia) interrupt the child's
            pathway? ``None`` (default): in about one patient in four; the others get
            values of the inputs only overrides read for which no override holds (redrawn
            up to 8 times), because with every flag drawn at random most patients would be
            interrupted and the protocol's own steps rarely reached. ``True``: no steering.
            ``False``: never (patients that still trigger one are rejected).
        fixed: values (or strategies) replacing any top-level field (``sex``,
            ``home_region``, ``position``, ``diagnosis``, ...) or any input by name
            (``anc_10e9_l=0.3``); ``None`` for an input removes it.

    ``patient_id`` is never generated: properties report facts, never identifiers.
    """
    chosen = bundle if bundle is not None else shipped_bundle()
    for name in fixed:  # fail at once, not at the first draw
        spec = chosen.compiled.schema.inputs.get(name)
        if name in PATIENT_FIELDS:
            continue
        if spec is None or spec.builtin:
            raise ValueError(f"{name!r} is neither a patient field nor a vocabulary input")
        if spec.group == "derived":
            raise ValueError(f"{name!r} is derived (computed from its terms): fix the terms")
    if protocol is not None:
        chosen.protocol(protocol)  # raises UnknownProtocolError with a suggestion
        if at_step is not None and at_step not in chosen.compiled.steps_by_protocol[protocol]:
            raise ValueError(f"{at_step!r} is not a step of protocol {protocol!r}")
    return _patient(chosen, protocol, at_step, allow_missing, interrupts, dict(fixed))


# -- type registration ---------------------------------------------------------------------


def _patient_states() -> st.SearchStrategy[PatientState]:
    return patients(shipped_bundle()).map(PatientState.model_validate)


#: ``st.from_type(PatientState)`` (and ``@given(patient=...)`` by annotation) draws valid
#: patients of the shipped bundle; deferred, so the bundle loads on first draw, not on import.
st.register_type_strategy(PatientState, st.deferred(_patient_states))
