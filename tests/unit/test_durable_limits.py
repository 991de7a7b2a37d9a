"""durable-rules refuses a rule with more than 15 nested and/or groups (error 113, measured):
guards that large are split over several rules and recombined, and still agree with the
reference evaluator on every value of the input."""

from __future__ import annotations

import json

import pytest

from pedonc_routing.compiler.guards import Guard, GuardTable
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not
from pedonc_routing.model.conditions import Test as ConditionTest
from pedonc_routing.vocabulary.inputs import BUILTIN_INPUTS, InputSpec

pytest.importorskip("durable_rules_engine")
import durable_rules_engine

from pedonc_routing.engine.durable import MAX_GROUPS, MAX_MATCHES, DurableEvaluator

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
    rules = sum(len(shard.rules) for shard in durable.definition(table))
    assert rules > 2  # really split over several rules
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


def test_an_assert_firing_more_than_64_rules_fails_in_durable_rules() -> None:
    """The measured limit behind sharding: 64 matching rules work, 65 fail (error 303)."""
    for count, works in ((MAX_MATCHES, True), (MAX_MATCHES + 1, False)):
        rules = {
            f"r{i}": {"all": [{"m": {"$and": [{"pr": 1}, {"$lt": {"x": 1000 + i}}]}}]}
            for i in range(count)
        }
        handle = durable_rules_engine.create_ruleset(f"pedonc_matches_{count}", json.dumps(rules))
        fact = json.dumps({"id": 1, "sid": "1", "pr": 1, "x": 5})
        if works:
            durable_rules_engine.assert_fact(handle, fact)
        else:
            with pytest.raises(durable_rules_engine.error, match="303"):
                durable_rules_engine.assert_fact(handle, fact)


def test_tables_with_many_known_guards_are_sharded_and_agree() -> None:
    """200 guards that are all decided for one fact (far over 64 matches) still evaluate,
    over several shards, exactly as the reference evaluator does."""
    guards = tuple(
        Guard.of(f"g{i}", ConditionTest.model_validate({"input": "x", "lt": i})) for i in range(200)
    )
    table = GuardTable("limits-many", guards)
    durable = DurableEvaluator(INPUTS)
    assert len(durable.definition(table)) >= 200 // MAX_MATCHES
    reference = ReferenceEvaluator()
    for x in (0, 63, 64, 150, 199, 200):
        truth, expected = durable.evaluate(table, {"x": x}), reference.evaluate(table, {"x": x})
        assert [truth(g.key) for g in guards] == [expected(g.key) for g in guards]


def test_match_limit_falls_back_to_the_reference_evaluator(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If a shard still exceeds durable-rules' match limit at run time (error 303), its
    guards are decided by the reference evaluator: same answers, a warning, no failure."""
    from pedonc_routing.engine.durable import sharding

    monkeypatch.setattr(sharding, "MAX_MATCHES", 10_000)  # pack everything in one shard
    guards = tuple(
        Guard.of(f"a{i}", ConditionTest.model_validate({"input": "x", "ne": 1000 + i}))
        for i in range(80)
    )
    table = GuardTable("limits-fallback", guards)
    durable = DurableEvaluator(INPUTS)
    assert len(durable.definition(table)) == 1
    truth = durable.evaluate(table, {"x": 5})
    assert [truth(g.key) for g in guards] == [True] * 80
    assert "match limit" in caplog.text
