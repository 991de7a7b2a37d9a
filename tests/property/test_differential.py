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
from pedonc_routing.compiler.facts import InputSpec, kz_region_codes
from pedonc_routing.compiler.guards import Guard, GuardTable
from pedonc_routing.engine.durable import DurableEvaluator
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.model.conditions import Condition, iter_tests

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
        if spec.builtin or not draw(st.booleans()):
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

# x: one and two decimals (a constant finer than the precision), and outside the range
x_constants = st.one_of(
    st.integers(-20, 520).map(lambda k: k / 10), st.integers(0, 5000).map(lambda k: k / 100)
)
n_constants = st.one_of(st.integers(-2, 22), st.integers(0, 40).map(lambda k: k / 2))


def numeric_tests(name: str, constants: st.SearchStrategy[Any]) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    single = st.tuples(st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]), constants).map(
        lambda pair: {"input": name, pair[0]: pair[1]}
    )
    between = st.tuples(constants, constants).map(
        lambda pair: {"input": name, "between": sorted(pair)}
    )
    member = st.lists(constants, min_size=1, max_size=3).map(lambda v: {"input": name, "in": v})
    return st.one_of(single, between, member)


def equality_tests(name: str, values: list[Any]) -> st.SearchStrategy[dict]:  # type: ignore[type-arg]
    single = st.tuples(st.sampled_from(["eq", "ne"]), st.sampled_from(values)).map(
        lambda pair: {"input": name, pair[0]: pair[1]}
    )
    member = st.lists(st.sampled_from(values), min_size=1, max_size=3).map(
        lambda v: {"input": name, "in": v}
    )
    return st.one_of(single, member) if name != "b" else single


presence = st.tuples(st.sampled_from(sorted(SMALL)), st.sampled_from(["present", "absent"])).map(
    lambda pair: {"input": pair[0], pair[1]: True}
)
leaves = st.one_of(
    numeric_tests("x", x_constants),
    numeric_tests("n", n_constants),
    equality_tests("b", [True, False]),
    equality_tests("e", ["A", "B", "C"]),
    equality_tests("t", TEXTS),
    st.lists(st.sampled_from(ICD10_PATTERNS), min_size=1, max_size=3).map(
        lambda v: {"input": "icd10", "icd10_in": v}
    ),
    st.lists(st.sampled_from(MORPHOLOGY_PATTERNS), min_size=1, max_size=3).map(
        lambda v: {"input": "icdo3_morphology", "morphology_in": v}
    ),
    presence,
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


small_facts = st.fixed_dictionaries(
    {
        "x": st.one_of(st.none(), st.integers(0, 500).map(lambda k: k / 10)),
        "n": st.one_of(st.none(), st.integers(0, 20)),
        "b": st.one_of(st.none(), st.booleans()),
        "e": st.one_of(st.none(), st.sampled_from(["A", "B", "C"])),
        "t": st.one_of(st.none(), st.sampled_from(TEXTS)),
        "icd10": st.one_of(st.none(), st.sampled_from(ICD10_CODES)),
        "icdo3_morphology": st.one_of(st.none(), st.sampled_from(MORPHOLOGY_CODES)),
    }
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
    assert seen >= {
        "eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "present", "absent",
        "icd10_in", "morphology_in", "all", "any", "not",
    }  # fmt: skip


@given(
    guards=st.lists(conditions(3), min_size=1, max_size=5),
    facts_list=st.lists(small_facts, min_size=1, max_size=8),
)
@settings(max_examples=GENERATED_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
def test_generated_conditions_agree(guards: list[dict], facts_list: list[dict]) -> None:  # type: ignore[type-arg]
    parsed = [CONDITION.validate_python(guard) for guard in guards]
    name = "gen:" + hashlib.sha256(repr(guards).encode()).hexdigest()[:16]
    table = GuardTable(name, tuple(Guard.of(f"g{i}", c) for i, c in enumerate(parsed)))
    durable, reference = DurableEvaluator(SMALL), ReferenceEvaluator()
    for facts in facts_list:
        assert truths(durable, table, facts) == truths(reference, table, facts), facts
