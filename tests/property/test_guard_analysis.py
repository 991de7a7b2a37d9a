"""The symbolic guard analysis (validation/boxes.py) against brute force.

On a small vocabulary whose whole domain can be enumerated (13 x 31 x 3 x 2 points), random
conditions are analysed symbolically and by evaluating the reference evaluator at every
point: "never true", overlap and gap must agree exactly, and every counterexample the
analysis gives must really be one.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pedonc_routing.engine.reference import evaluate
from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not
from pedonc_routing.model.conditions import Test as ConditionTest
from pedonc_routing.validation.boxes import Space, find_uncovered, intersect_boxes, point_in
from pedonc_routing.vocabulary.inputs import InputSpec

INPUTS = {
    "x": InputSpec("x", "integer", 0, 0, 12),
    "y": InputSpec("y", "number", 1, 0, 3),
    "e": InputSpec("e", "enum", values=("A", "B", "C")),
    "b": InputSpec("b", "boolean"),
}
DOMAIN = {
    "x": list(range(13)),
    "y": [round(i / 10, 1) for i in range(31)],
    "e": ["A", "B", "C"],
    "b": [False, True],
}
ALL_POINTS = [
    dict(zip(DOMAIN, values, strict=True)) for values in itertools.product(*DOMAIN.values())
]


def leaf_tests() -> st.SearchStrategy[ConditionTest]:
    number = st.sampled_from([-1, 0, 0.05, 1.5, 1.55, 2.9, 3, 3.5])
    integer = st.integers(-1, 14)
    return st.one_of(
        st.builds(
            lambda op, v: ConditionTest.model_validate({"input": "x", op: v}),
            st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]),
            integer,
        ),
        st.builds(
            lambda op, v: ConditionTest.model_validate({"input": "y", op: v}),
            st.sampled_from(["lt", "lte", "gt", "gte", "eq", "ne"]),
            number,
        ),
        st.builds(
            lambda lo, hi: ConditionTest.model_validate(
                {"input": "x", "between": [min(lo, hi), max(lo, hi)]}
            ),
            integer,
            integer,
        ),
        st.builds(
            lambda op, v: ConditionTest.model_validate({"input": "e", op: v}),
            st.sampled_from(["eq", "ne"]),
            st.sampled_from(["A", "B", "C"]),
        ),
        st.builds(
            lambda vs: ConditionTest.model_validate({"input": "e", "in": vs}),
            st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=2),
        ),
        st.builds(lambda v: ConditionTest.model_validate({"input": "b", "eq": v}), st.booleans()),
    )


conditions: st.SearchStrategy[Condition] = st.recursive(
    leaf_tests(),
    lambda inner: st.one_of(
        st.builds(lambda parts: AllOf(all=parts), st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: AnyOf(any=parts), st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: Not.model_validate({"not": part}), inner),
    ),
    max_leaves=6,
)


def facts_at(space: Space, point: dict[str, int]) -> dict[str, Any]:
    facts = {name: DOMAIN[name][0] for name in DOMAIN}
    for name, dimension in space.dimensions.items():
        facts[name] = space.value_of(dimension, point.get(name, dimension.low))
    return facts


@given(conditions)
def test_never_true_matches_brute_force(condition: Condition) -> None:
    space = Space(INPUTS, [condition])
    symbolic_empty = not space.boxes(condition)
    brute_empty = not any(evaluate(condition, point) for point in ALL_POINTS)
    assert symbolic_empty == brute_empty


@given(conditions, conditions)
def test_overlap_matches_brute_force(first: Condition, second: Condition) -> None:
    space = Space(INPUTS, [first, second])
    common = [
        both
        for a in space.boxes(first)
        for b in space.boxes(second)
        if (both := intersect_boxes(a, b)) is not None
    ]
    brute = any(evaluate(first, point) and evaluate(second, point) for point in ALL_POINTS)
    assert bool(common) == brute
    if common:
        facts = facts_at(space, point_in(common[0], space.dimensions))
        assert evaluate(first, facts) is True
        assert evaluate(second, facts) is True


@given(st.lists(conditions, min_size=1, max_size=4))
def test_gap_matches_brute_force(guards: list[Condition]) -> None:
    space = Space(INPUTS, guards)
    boxes = [box for guard in guards for box in space.boxes(guard)]
    point = find_uncovered(boxes, list(space.dimensions.values()))
    brute = any(not any(evaluate(g, p) for g in guards) for p in ALL_POINTS)
    assert (point is not None) == brute
    if point is not None:
        facts = facts_at(space, point)
        assert not any(evaluate(guard, facts) for guard in guards)


@given(conditions, st.lists(conditions, min_size=1, max_size=3))
def test_uncovered_within_a_box_matches_brute_force(
    target: Condition, earlier: list[Condition]
) -> None:
    """The "never chosen" check (G009): is some patient of ``target`` left by ``earlier``?"""
    space = Space(INPUTS, [target, *earlier])
    prior = [box for guard in earlier for box in space.boxes(guard)]
    dimensions = list(space.dimensions.values())
    symbolic = [find_uncovered(prior, dimensions, within=box) for box in space.boxes(target)]
    brute = any(
        evaluate(target, p) and not any(evaluate(g, p) for g in earlier) for p in ALL_POINTS
    )
    assert any(point is not None for point in symbolic) == brute
    for point in symbolic:
        if point is not None:
            facts = facts_at(space, point)
            assert evaluate(target, facts) is True
            assert not any(evaluate(guard, facts) for guard in earlier)
