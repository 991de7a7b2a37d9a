"""Differential tests: the durable-rules evaluator against the pure-Python reference
evaluator (the oracle).

1. Every guard of every GuardTable of the shipped bundle (transitions, follow-ups, overrides
   and the applies_to selector), on random facts drawn within each input's range at its
   declared precision, biased to the guards' constants +- one unit, with random omissions.
2. Whole decisions of both shipped bundles (to_dict minus ``engine``) on random patients.
3. Random condition ASTs (all/any/not, depth <= 3, every operator) over a small vocabulary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import pedonc_routing as pr
from pedonc_routing.compiler.guards import Guard, GuardTable
from pedonc_routing.engine.durable import DurableEvaluator
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.model.conditions import OPERATORS, Condition, iter_tests
from pedonc_routing.vocabulary.inputs import InputSpec, kz_region_codes

pytestmark = pytest.mark.skipif(
    not __import__("pedonc_routing.engine", fromlist=["x"]).durable_available(),
    reason="durable-rules does not import on this Python",
)

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
#: Fixed-size pool of settings for the ruleset-creating test: each example builds one small
#: durable-rules ruleset (~0.5 MiB that is never freed), so the deep profile is capped.
GENERATED_EXAMPLES = min(settings.default.max_examples, 400)

ICD10_CODES = ["C91.0", "C91", "C91.00", "C91.1", "C92.0", "C81.9", "C83.7", "C22.0", "D61.9"]
MORPHOLOGY_CODES = ["9811/3", "9818/3", "9837/3", "9836/3", "9836/1", "8970/3", "9590/3"]


# -- facts for the shipped bundle -------------------------------------------------------------


def tables(bundle: pr.Bundle) -> list[GuardTable]:
    compiled = bundle.compiled
    return [protocol.table for protocol in compiled.protocols.values()] + [compiled.selector]


def guard_constants(bundle: pr.Bundle) -> dict[str, set[float]]:
    """Numeric constants of every guard, by input."""
    found: dict[str, set[float]] = {}
    for table in tables(bundle):
        for guard in table.guards:
            for test in iter_tests(guard.condition):
                operand = test.operand
                values = operand if isinstance(operand, list | tuple) else [operand]
                for value in values:
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        found.setdefault(test.input, set()).add(float(value))
    return found


def number_strategy(spec: InputSpec, constants: set[float]) -> st.SearchStrategy[Any]:
    """Values in range at the declared precision, often at a constant +- one unit."""
    scale = 10**spec.precision
    assert spec.low is not None
    assert spec.high is not None
    low, high = round(spec.low * scale), round(spec.high * scale)
    near = sorted(
        {
            round(Decimal(repr(c)) * scale) + delta
            for c in constants
            for delta in (-1, 0, 1)
            if low <= round(Decimal(repr(c)) * scale) + delta <= high
        }
    )
    units = st.integers(low, high)
    if near:
        units = st.one_of(st.sampled_from(near), st.sampled_from([low, high]), units)
    if spec.type == "integer":
        return units
    return units.map(lambda k: k / scale)


def value_strategy(spec: InputSpec, constants: set[float]) -> st.SearchStrategy[Any]:
    if spec.type in ("number", "integer"):
        return number_strategy(spec, constants)
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values)
    if spec.type == "icd10":
        return st.sampled_from(ICD10_CODES)
    if spec.type == "morphology":
        return st.sampled_from(MORPHOLOGY_CODES)
    if spec.name == "home_region":
        return st.sampled_from(sorted(kz_region_codes()))
    return st.sampled_from(["C42.1", "C22.0"])


def facts_strategy(bundle: pr.Bundle) -> st.SearchStrategy[dict[str, Any]]:
    constants = guard_constants(bundle)
    fields = {
        name: st.one_of(st.none(), value_strategy(spec, constants.get(name, set())))
        for name, spec in bundle.compiled.schema.inputs.items()
    }

    def drop_none(values: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in values.items() if value is not None}

    return st.fixed_dictionaries(fields).map(drop_none)


def truths(
    evaluator: DurableEvaluator | ReferenceEvaluator, table: GuardTable, facts: Mapping[str, Any]
) -> dict[str, bool | None]:
    truth = evaluator.evaluate(table, facts)
    return {guard.key: truth(guard.key) for guard in table.guards}


@pytest.fixture(scope="module")
def evaluators(shipped_bundle: pr.Bundle) -> tuple[DurableEvaluator, ReferenceEvaluator]:
    durable = DurableEvaluator(shipped_bundle.compiled.schema.inputs)
    for table in tables(shipped_bundle):
        durable.prepare(table)
    return durable, ReferenceEvaluator()


def test_guard_constants_found(shipped_bundle: pr.Bundle) -> None:
    constants = guard_constants(shipped_bundle)
    assert 100.0 in constants["wbc_10e9_l"]
    assert 50.0 in constants["wbc_10e9_l"]
    assert 0.01 in constants["mrd_end_induction_percent"]
    assert {1.0, 10.0, 18.0} <= constants["age_years"]


def test_facts_hit_the_boundaries(shipped_bundle: pr.Bundle) -> None:
    spec = shipped_bundle.compiled.schema.inputs["mrd_end_induction_percent"]
    strategy = number_strategy(spec, {0.01})
    seen: set[float] = set()

    @given(strategy)
    @settings(max_examples=300, derandomize=True)
    def collect(value: float) -> None:
        seen.add(value)

    collect()
    assert {0.0099, 0.01, 0.0101} <= seen


@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_every_shipped_guard_agrees(
    shipped_bundle: pr.Bundle,
    evaluators: tuple[DurableEvaluator, ReferenceEvaluator],
    data: st.DataObject,
) -> None:
    durable, reference = evaluators
    facts = data.draw(facts_strategy(shipped_bundle), label="facts")
    for table in tables(shipped_bundle):
        assert truths(durable, table, facts) == truths(reference, table, facts), table.name


# -- whole decisions ---------------------------------------------------------------------------

AS_OF = date(2026, 11, 22)


@st.composite
def patients(draw: st.DrawFn, bundle: pr.Bundle) -> dict[str, Any]:
    schema = bundle.compiled.schema
    constants = guard_constants(bundle)
    groups: dict[str, dict[str, Any]] = {"observations": {}, "exposures": {}}
    for name, spec in schema.inputs.items():
        if spec.builtin or spec.group == "derived" or not draw(st.booleans()):
            continue
        groups[spec.group][name] = draw(value_strategy(spec, constants.get(name, set())))
    steps = sorted(
        (protocol_id, step)
        for protocol_id, protocol in bundle.compiled.protocols.items()
        for step in protocol.graph.steps
    )
    position = draw(st.one_of(st.none(), st.sampled_from(steps)))
    age_days = draw(st.one_of(st.integers(0, 25 * 366), st.sampled_from([364, 365, 3652, 3653])))
    patient: dict[str, Any] = {
        "patient_id": "anon-diff",
        "as_of": f"{AS_OF.isoformat()}T09:00:00+05:00",
        "sex": draw(st.sampled_from(["F", "M"])),
        "home_region": draw(st.sampled_from(sorted(kz_region_codes()))),
        "current_facility": draw(
            st.one_of(st.none(), st.sampled_from(sorted(bundle.compiled.network.facilities)))
        ),
        "diagnosis": {
            "icd10": draw(st.sampled_from(ICD10_CODES)),
            "icdo3_morphology": draw(st.sampled_from(MORPHOLOGY_CODES)),
        },
        **groups,
    }
    if draw(st.integers(0, 9)) > 0:
        patient["birth_date"] = (AS_OF - timedelta(days=age_days)).isoformat()
    if position is not None:
        patient["position"] = {"protocol": position[0], "step": position[1]}
    return patient


def without_engine(decision: pr.Decision) -> dict[str, Any]:
    data = decision.to_dict()
    data.pop("engine")
    return data


@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_whole_decisions_agree(
    shipped_bundle: pr.Bundle, reference_bundle: pr.Bundle, data: st.DataObject
) -> None:
    patient = data.draw(patients(shipped_bundle), label="patient")
    assert without_engine(shipped_bundle.route(patient)) == without_engine(
        reference_bundle.route(patient)
    )


# -- generated conditions over a small vocabulary ------------------------------------------

SMALL: dict[str, InputSpec] = {
    "x": InputSpec("x", "number", precision=1, low=0, high=50),
    "n": InputSpec("n", "integer", low=0, high=20),
    "b": InputSpec("b", "boolean"),
    "e": InputSpec("e", "enum", values=("A", "B", "C")),
    "t": InputSpec("t", "text"),
    "icd10": InputSpec("icd10", "icd10", builtin=True),
    "icdo3_morphology": InputSpec("icdo3_morphology", "morphology", builtin=True),
}
TEXTS = ["KZ-11", "KZ-75", "KZ-71"]
ICD10_PATTERNS = ["C91", "C91.0", "C91.00", "C81-C85", "C91.0-C91.2", "C00-D09", "C22"]
MORPHOLOGY_PATTERNS = ["9811/3-9818/3", "9811-9818/3", "9837/3", "9590-9597", "9836"]

#: Typical constants (the facts are biased to whatever constants the guards use).
X_POINTS = [0.0, 0.1, 2.5, 9.9, 10.0, 10.1, 49.9, 50.0]
N_POINTS = [0, 1, 9, 10, 11, 20]
# x: one and two decimals (a constant finer than the precision), and outside the range
x_points = st.sampled_from(X_POINTS)
n_points = st.sampled_from(N_POINTS)
x_constants = st.one_of(
    x_points,
    st.integers(-20, 520).map(lambda k: k / 10),
    st.integers(0, 5000).map(lambda k: k / 100),
)
n_constants = st.one_of(n_points, st.integers(-2, 22), st.integers(0, 40).map(lambda k: k / 2))


NUMERIC = {"x": x_constants, "n": n_constants}
EQUALITY: dict[str, list[Any]] = {"b": [True, False], "e": ["A", "B", "C"], "t": TEXTS}


def comparison(operator: str) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    """``{input: x|n, OP: constant}`` for one numeric operator."""
    return st.one_of(
        [
            constants.map(lambda c, n=name: {"input": n, operator: c})
            for name, constants in NUMERIC.items()
        ]
    )


def equality(operator: str) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    """eq/ne on any input type."""
    return st.one_of(
        comparison(operator),
        *[
            st.sampled_from(values).map(lambda v, n=name: {"input": n, operator: v})
            for name, values in EQUALITY.items()
        ],
    )


def membership() -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    pools: list[st.SearchStrategy[Any]] = [
        *NUMERIC.values(),
        st.sampled_from(EQUALITY["e"]),
        st.sampled_from(TEXTS),
    ]
    names = [*NUMERIC, "e", "t"]
    return st.one_of(
        [
            st.lists(pool, min_size=1, max_size=3).map(lambda v, n=name: {"input": n, "in": v})
            for name, pool in zip(names, pools, strict=True)
        ]
    )


def between() -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    return st.one_of(
        [
            st.tuples(c, c).map(lambda pair, n=name: {"input": n, "between": sorted(pair)})
            for name, c in NUMERIC.items()
        ]
    )


def presence(operator: str) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    return st.sampled_from(sorted(SMALL)).map(lambda name: {"input": name, operator: True})


#: One branch per operator, so every operator is drawn about equally often.
leaves = st.one_of(
    equality("eq"),
    equality("ne"),
    comparison("lt"),
    comparison("lte"),
    comparison("gt"),
    comparison("gte"),
    membership(),
    between(),
    presence("present"),
    presence("absent"),
    st.lists(st.sampled_from(ICD10_PATTERNS), min_size=1, max_size=3).map(
        lambda v: {"input": "icd10", "icd10_in": v}
    ),
    st.lists(st.sampled_from(MORPHOLOGY_PATTERNS), min_size=1, max_size=3).map(
        lambda v: {"input": "icdo3_morphology", "morphology_in": v}
    ),
)


def conditions(depth: int) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    if depth == 0:
        return leaves
    inner = conditions(depth - 1)
    return st.one_of(
        leaves,
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
        inner.map(lambda part: {"not": part}),
    )


def near(constants: set[float], scale: int, low: int, high: int) -> list[int]:
    """Units (value * scale) at and one unit either side of each constant, in range."""
    found: set[int] = set()
    for constant in constants:
        exact = Decimal(repr(constant)) * scale
        for base in {
            int(exact.to_integral_value(rounding="ROUND_FLOOR")),
            int(exact.to_integral_value(rounding="ROUND_CEILING")),
        }:
            found.update(u for u in (base - 1, base, base + 1) if low <= u <= high)
    return sorted(found)


def small_facts(guards: list[Condition]) -> st.SearchStrategy[dict[str, Any]]:
    """Facts for the small vocabulary, biased to the guards' constants +- one unit."""
    constants: dict[str, set[float]] = {"x": set(), "n": set()}
    for guard in guards:
        for test in iter_tests(guard):
            values = test.operand if isinstance(test.operand, list | tuple) else [test.operand]
            for value in values:
                if test.input in constants and not isinstance(value, bool):
                    constants[test.input].add(float(value))

    def number(units: st.SearchStrategy[int], points: list[int], scale: int) -> Any:
        pool = st.one_of(st.sampled_from(points), units) if points else units
        return pool.map(lambda u: u / scale) if scale > 1 else pool

    fields: dict[str, st.SearchStrategy[Any]] = {
        "x": number(st.integers(0, 500), near(constants["x"], 10, 0, 500), 10),
        "n": number(st.integers(0, 20), near(constants["n"], 1, 0, 20), 1),
        "b": st.booleans(),
        "e": st.sampled_from(["A", "B", "C"]),
        "t": st.sampled_from(TEXTS),
        "icd10": st.sampled_from(ICD10_CODES),
        "icdo3_morphology": st.sampled_from(MORPHOLOGY_CODES),
    }
    return st.fixed_dictionaries(
        {name: st.one_of(st.none(), strategy) for name, strategy in fields.items()}
    ).map(lambda values: {k: v for k, v in values.items() if v is not None})


def test_generated_conditions_cover_every_operator() -> None:
    seen: set[str] = set()

    @given(conditions(3))
    @settings(max_examples=500, derandomize=True)
    def collect(data: dict) -> None:  # type: ignore[type-arg]
        for test in iter_tests(CONDITION.validate_python(data)):
            seen.add(test.operator)
        seen.update(key for key in data if key in ("all", "any", "not"))

    collect()
    assert seen >= {*OPERATORS, "all", "any", "not"}


@given(data=st.data())
@settings(max_examples=GENERATED_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
def test_generated_conditions_agree(data: st.DataObject) -> None:
    raw = data.draw(st.lists(conditions(3), min_size=1, max_size=5), label="guards")
    parsed = [CONDITION.validate_python(guard) for guard in raw]
    name = "gen:" + hashlib.sha256(repr(raw).encode()).hexdigest()[:16]
    table = GuardTable(name, tuple(Guard.of(f"g{i}", c) for i, c in enumerate(parsed)))
    facts_list = data.draw(st.lists(small_facts(parsed), min_size=1, max_size=8), label="facts")
    durable, reference = DurableEvaluator(SMALL), ReferenceEvaluator()
    for facts in facts_list:
        assert truths(durable, table, facts) == truths(reference, table, facts), facts
