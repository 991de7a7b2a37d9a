"""durable-rules refuses a rule with more than 15 nested and/or groups (error 113, measured):
guards that large are split over several rules and recombined, and still agree with the
reference evaluator on every value of the input."""

from __future__ import annotations

import json

import pytest

from pedonc_routing.compiler.facts import BUILTIN_INPUTS, InputSpec
from pedonc_routing.compiler.guards import Guard, GuardTable
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not
from pedonc_routing.model.conditions import Test as ConditionTest

pytest.importorskip("durable_rules_engine")
import durable_rules_engine

from pedonc_routing.engine.durable import MAX_GROUPS, DurableEvaluator

INPUTS: dict[str, InputSpec] = {
    **BUILTIN_INPUTS,
    "x": InputSpec("x", "integer", 0, 0, 200),
    "flag": InputSpec("flag", "boolean"),
}


def band(low: int) -> AllOf:
    return AllOf(
        all=[
            ConditionTest.model_validate({"input": "x", "gte": low}),
            ConditionTest.model_validate({"input": "x", "lt": low + 3}),
        ]
    )


# 30 bands: the certainly-true form is an $or of 30 $and groups, the certainly-false form an
# $and of 30 $or groups: both far over the limit.
BANDS: Condition = AnyOf(any=[band(low) for low in range(0, 180, 6)])
NESTED: Condition = AllOf(
    all=[
        Not.model_validate({"not": BANDS}),
        ConditionTest.model_validate({"input": "flag", "eq": True}),
    ]
)


@pytest.mark.parametrize("condition", [BANDS, NESTED], ids=["bands", "nested"])
def test_large_guards_agree_with_reference(condition: Condition) -> None:
    table = GuardTable(f"limits-{id(condition)}", (Guard.of("g", condition),))
    durable = DurableEvaluator(INPUTS)
    reference = ReferenceEvaluator()
    assert len(durable.definition(table)[0]) > 2  # really split over several rules
    for x in range(0, 201):
        for flag in (False, True, None):
            facts = {"x": x} if flag is None else {"x": x, "flag": flag}
            assert durable.evaluate(table, facts)("g") == reference.evaluate(table, facts)("g"), (
                x,
                flag,
            )


def chain(groups: int) -> dict[str, object]:
    """A rule whose expression nests ``groups`` and/or groups, the outermost included."""
    expression: dict[str, object] = {"$lt": {"z": 1}}
    for level in range(groups - 1):
        expression = {"$and" if level % 2 else "$or": [{"$lt": {f"c{level}": 5}}, expression]}
    return {"r": {"all": [{"m": {"$and": [{"pr": 1}, expression]}}]}}


def test_the_limit_is_what_durable_rules_accepts() -> None:
    durable_rules_engine.create_ruleset("pedonc_limit_ok", json.dumps(chain(MAX_GROUPS)))
    with pytest.raises(durable_rules_engine.error, match="113"):
        durable_rules_engine.create_ruleset("pedonc_limit_over", json.dumps(chain(MAX_GROUPS + 1)))
