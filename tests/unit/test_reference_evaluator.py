"""The reference evaluator (engine/reference.py): Kleene three-valued logic for all/any/not
with missing inputs, every operator of the condition language, present/absent, and the
lazy, memoised ReferenceEvaluator over a GuardTable.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import TypeAdapter

from pedonc_routing.compiler.guards import Guard, GuardTable
from pedonc_routing.engine.evaluator import Truth
from pedonc_routing.engine.reference import ReferenceEvaluator, evaluate
from pedonc_routing.model.conditions import Condition

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


def cond(data: Any) -> Condition:
    return CONDITION.validate_python(data)


#: One boolean input per truth value: a test ``{input: X, eq: true}`` gives that value.
LEAF = {True: "yes", False: "no", None: "unknown"}
FACTS: dict[str, Any] = {"yes": True, "no": False}


def leaf(value: Truth) -> dict[str, Any]:
    return {"input": LEAF[value], "eq": True}


RANK = {False: 0, None: 1, True: 2}  # Kleene order F < U < T


def kleene_and(values: tuple[Truth, ...]) -> Truth:
    return min(values, key=RANK.__getitem__)


def kleene_or(values: tuple[Truth, ...]) -> Truth:
    return max(values, key=RANK.__getitem__)


TRUTHS: tuple[Truth, ...] = (True, False, None)


def test_leaves() -> None:
    for value in TRUTHS:
        assert evaluate(cond(leaf(value)), FACTS) is value


@pytest.mark.parametrize("size", [1, 2, 3])
def test_all_is_kleene_and(size: int) -> None:
    for values in itertools.product(TRUTHS, repeat=size):
        condition = cond({"all": [leaf(v) for v in values]})
        assert evaluate(condition, FACTS) is kleene_and(values), values


@pytest.mark.parametrize("size", [1, 2, 3])
def test_any_is_kleene_or(size: int) -> None:
    for values in itertools.product(TRUTHS, repeat=size):
        condition = cond({"any": [leaf(v) for v in values]})
        assert evaluate(condition, FACTS) is kleene_or(values), values


def test_not_is_kleene_not() -> None:
    assert evaluate(cond({"not": leaf(True)}), FACTS) is False
    assert evaluate(cond({"not": leaf(False)}), FACTS) is True
    assert evaluate(cond({"not": leaf(None)}), FACTS) is None
    assert evaluate(cond({"not": {"not": leaf(None)}}), FACTS) is None
    assert evaluate(cond({"not": {"not": leaf(True)}}), FACTS) is True


def test_false_dominates_unknown_in_all_and_true_in_any() -> None:
    # the key property behind needs_data: a decided part settles the whole
    assert evaluate(cond({"all": [leaf(None), leaf(False)]}), FACTS) is False
    assert evaluate(cond({"any": [leaf(None), leaf(True)]}), FACTS) is True
    assert evaluate(cond({"all": [leaf(None), leaf(True)]}), FACTS) is None
    assert evaluate(cond({"any": [leaf(None), leaf(False)]}), FACTS) is None


def test_de_morgan_holds_in_three_values() -> None:
    for a, b in itertools.product(TRUTHS, repeat=2):
        left = cond({"not": {"all": [leaf(a), leaf(b)]}})
        right = cond({"any": [{"not": leaf(a)}, {"not": leaf(b)}]})
        assert evaluate(left, FACTS) is evaluate(right, FACTS)


NUMBER_FACTS: dict[str, Any] = {"wbc": 50.0, "age": 9, "phen": "B", "flag": False}


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ({"input": "wbc", "eq": 50}, True),
        ({"input": "wbc", "eq": 50.01}, False),
        ({"input": "wbc", "ne": 50}, False),
        ({"input": "wbc", "ne": 49.99}, True),
        ({"input": "wbc", "lt": 50}, False),
        ({"input": "wbc", "lt": 50.01}, True),
        ({"input": "wbc", "lte": 50}, True),
        ({"input": "wbc", "lte": 49.99}, False),
        ({"input": "wbc", "gt": 50}, False),
        ({"input": "wbc", "gt": 49.99}, True),
        ({"input": "wbc", "gte": 50}, True),
        ({"input": "wbc", "gte": 50.01}, False),
        ({"input": "wbc", "between": [50, 100]}, True),
        ({"input": "wbc", "between": [0, 50]}, True),
        ({"input": "wbc", "between": [50.01, 100]}, False),
        ({"input": "wbc", "in": [10, 50]}, True),
        ({"input": "wbc", "in": [10, 20]}, False),
        ({"input": "age", "lt": 10}, True),
        ({"input": "age", "gte": 10}, False),
        ({"input": "phen", "eq": "B"}, True),
        ({"input": "phen", "eq": "T"}, False),
        ({"input": "phen", "ne": "T"}, True),
        ({"input": "phen", "in": ["B", "T"]}, True),
        ({"input": "phen", "in": ["T"]}, False),
        ({"input": "flag", "eq": False}, True),
        ({"input": "flag", "eq": True}, False),
        ({"input": "flag", "ne": True}, True),
        ({"input": "wbc", "present": True}, True),
        ({"input": "wbc", "absent": True}, False),
        ({"input": "flag", "present": True}, True),  # a false value is still present
        ({"input": "flag", "absent": True}, False),
    ],
)
def test_operators_on_known_values(test: dict[str, Any], expected: bool) -> None:
    assert evaluate(cond(test), NUMBER_FACTS) is expected


@pytest.mark.parametrize(
    "test",
    [
        {"input": "gone", "eq": 1},
        {"input": "gone", "ne": 1},
        {"input": "gone", "lt": 1},
        {"input": "gone", "lte": 1},
        {"input": "gone", "gt": 1},
        {"input": "gone", "gte": 1},
        {"input": "gone", "in": [1, 2]},
        {"input": "gone", "between": [1, 2]},
        {"input": "gone", "icd10_in": ["C91"]},
        {"input": "gone", "morphology_in": ["9811/3"]},
    ],
)
def test_every_comparison_of_a_missing_input_is_unknown(test: dict[str, Any]) -> None:
    assert evaluate(cond(test), NUMBER_FACTS) is None


def test_present_and_absent_are_never_unknown() -> None:
    assert evaluate(cond({"input": "gone", "present": True}), NUMBER_FACTS) is False
    assert evaluate(cond({"input": "gone", "absent": True}), NUMBER_FACTS) is True
    # so "absent OR x" is decided even when x is missing
    either = cond({"any": [{"input": "gone", "absent": True}, {"input": "gone", "gt": 1}]})
    assert evaluate(either, NUMBER_FACTS) is True


@pytest.mark.parametrize(
    ("patterns", "code", "expected"),
    [
        (["C91.0"], "C91.0", True),
        (["C91.0"], "C91", False),
        (["C91"], "C91.0", True),
        (["C81-C85", "C91.0"], "C83.7", True),
        (["C81-C85", "C91.0"], "C92.0", False),
    ],
)
def test_icd10_in(patterns: list[str], code: str, expected: bool) -> None:
    assert evaluate(cond({"input": "icd10", "icd10_in": patterns}), {"icd10": code}) is expected


@pytest.mark.parametrize(
    ("patterns", "code", "expected"),
    [
        (["9811/3-9818/3", "9837/3"], "9837/3", True),
        (["9811/3-9818/3", "9837/3"], "9815/3", True),
        (["9811/3-9818/3", "9837/3"], "9836/3", False),
        (["9811/3-9818/3"], "9815/1", False),
        (["9590-9597"], "9591/1", True),
    ],
)
def test_morphology_in(patterns: list[str], code: str, expected: bool) -> None:
    facts = {"icdo3_morphology": code}
    condition = cond({"input": "icdo3_morphology", "morphology_in": patterns})
    assert evaluate(condition, facts) is expected


def test_evaluator_is_lazy_and_memoised() -> None:
    table = GuardTable(
        "t",
        (
            Guard.of("g1", cond({"input": "wbc", "gte": 50})),
            Guard.of("g2", cond({"input": "gone", "eq": 1})),
        ),
    )
    calls: list[str] = []

    class CountingFacts(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            calls.append(key)
            return super().get(key, default)

    truth = ReferenceEvaluator().evaluate(table, CountingFacts(NUMBER_FACTS))
    assert calls == []  # nothing evaluated before it is asked for
    assert truth("g1") is True
    assert truth("g1") is True
    assert calls == ["wbc"]  # the second answer came from the memo
    assert truth("g2") is None
    with pytest.raises(KeyError):
        truth("no-such-guard")
