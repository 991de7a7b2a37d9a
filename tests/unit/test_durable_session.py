"""The durable-rules session seam (engine/durable/session.py): a failure in the middle of an
evaluation leaves no dirty sid in the pool, and durable-rules' error codes are parsed.

Failures are injected by replacing the C module's functions: a sid abandoned mid-evaluation
answers the next caller wrongly (measured: no rule fires at all), so these tests would catch
a sid returned to the pool without its state deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pedonc_routing.compiler.guards import Guard, GuardTable
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.errors import EngineError
from pedonc_routing.model.conditions import Test as ConditionTest
from pedonc_routing.vocabulary.inputs import BUILTIN_INPUTS, InputSpec

pytest.importorskip("durable_rules_engine")
import durable_rules_engine

from pedonc_routing.engine.durable import DurableEvaluator, session

INPUTS: dict[str, InputSpec] = {**BUILTIN_INPUTS, "x": InputSpec("x", "integer", 0, 0, 200)}
# Several guards true at once, so that collecting the matches takes several actions.
GUARDS = tuple(
    Guard.of(f"below{bound}", ConditionTest.model_validate({"input": "x", "lt": bound}))
    for bound in (10, 20, 30, 40)
)


def table(name: str) -> GuardTable:
    return GuardTable(name, GUARDS)


def answers(evaluator: DurableEvaluator, guards: GuardTable, x: int) -> list[bool | None]:
    truth = evaluator.evaluate(guards, {"x": x})
    return [truth(guard.key) for guard in guards.guards]


def expected(guards: GuardTable, x: int) -> list[bool | None]:
    truth = ReferenceEvaluator().evaluate(guards, {"x": x})
    return [truth(guard.key) for guard in guards.guards]


def ruleset_of(evaluator: DurableEvaluator, guards: GuardTable) -> session.Ruleset:
    evaluator.prepare(guards)
    (shard,) = evaluator._tables[guards.name].shards
    return shard.ruleset


def fail_once(monkeypatch: pytest.MonkeyPatch, function: str, failure: BaseException) -> None:
    """Make the C module's ``function`` raise ``failure`` on its next call only."""
    real: Callable[..., Any] = getattr(durable_rules_engine, function)
    calls = {"n": 0}

    def replacement(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise failure
        return real(*args)

    monkeypatch.setattr(durable_rules_engine, function, replacement)


@pytest.fixture
def deleted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sids whose state durable-rules is asked to delete."""
    sids: list[str] = []
    real_delete = durable_rules_engine.delete_state

    def spy_delete(handle: Any, sid: str) -> Any:
        sids.append(sid)
        return real_delete(handle, sid)

    monkeypatch.setattr(durable_rules_engine, "delete_state", spy_delete)
    return sids


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (durable_rules_engine.error("Could not complete action, error code: 102"), EngineError),
        (RuntimeError("injected"), RuntimeError),
        (KeyboardInterrupt(), KeyboardInterrupt),
    ],
    ids=["durable-error", "other-exception", "interrupt"],
)
def test_a_failure_mid_evaluation_deletes_the_sid_state(
    monkeypatch: pytest.MonkeyPatch,
    deleted: list[str],
    failure: BaseException,
    raised: type[BaseException],
) -> None:
    evaluator = DurableEvaluator(INPUTS)
    guards = table(f"session-mid-{type(failure).__name__}")
    ruleset = ruleset_of(evaluator, guards)
    fail_once(monkeypatch, "complete_and_start_action", failure)
    with pytest.raises(raised):
        evaluator.evaluate(guards, {"x": 5})
    assert deleted == ["1"]  # the only sid, deleted before it went back to the pool
    assert ruleset.live == 1
    assert ruleset.sids.qsize() == 1
    # The same sid serves the next evaluations, and answers them right.
    for x in (15, 5, 35, 100):
        assert answers(evaluator, guards, x) == expected(guards, x)
    assert ruleset.issued == 1


def test_a_failed_assert_deletes_the_sid_state(
    monkeypatch: pytest.MonkeyPatch, deleted: list[str]
) -> None:
    evaluator = DurableEvaluator(INPUTS)
    guards = table("session-assert")
    ruleset_of(evaluator, guards)
    fail_once(
        monkeypatch,
        "assert_fact",
        durable_rules_engine.error("Could not assert message, error code: 201"),
    )
    with pytest.raises(EngineError, match="error code: 201"):
        evaluator.evaluate(guards, {"x": 5})
    assert deleted == ["1"]
    assert answers(evaluator, guards, 25) == expected(guards, 25)


def test_a_sid_whose_state_cannot_be_deleted_is_discarded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluator = DurableEvaluator(INPUTS)
    guards = table("session-discard")
    ruleset = ruleset_of(evaluator, guards)
    fail_once(monkeypatch, "complete_and_start_action", RuntimeError("injected"))
    fail_once(
        monkeypatch,
        "delete_state",
        durable_rules_engine.error("Could not delete state, error code: 101"),
    )
    with pytest.raises(RuntimeError, match="injected"):
        evaluator.evaluate(guards, {"x": 5})
    assert ruleset.live == 0
    assert ruleset.sids.qsize() == 0  # sid "1" is never handed out again
    assert answers(evaluator, guards, 5) == expected(guards, 5)
    assert ruleset.issued == 2
    assert ruleset.sids.get_nowait() == "2"


def test_the_match_limit_is_recognised_by_its_code_not_a_substring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error whose text merely contains 303 is an engine failure, not the match limit."""
    evaluator = DurableEvaluator(INPUTS)
    guards = table("session-code")
    ruleset_of(evaluator, guards)
    fail_once(
        monkeypatch,
        "assert_fact",
        durable_rules_engine.error("Could not assert sid 303, error code: 102"),
    )
    with pytest.raises(EngineError, match="error code: 102"):
        evaluator.evaluate(guards, {"x": 5})


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Could not assert message, error code: 303", 303),
        ("Could not delete state, error code: 309", 309),
        ("Could not create ruleset, error code: 204", 204),
        ("error code 303 without the colon", None),
        ("Could not assert sid 303", None),
        ("", None),
    ],
)
def test_error_code_parses_the_trailing_code(message: str, code: int | None) -> None:
    assert session.error_code(durable_rules_engine.error(message)) == code


def test_error_code_of_a_real_durable_rules_error() -> None:
    with pytest.raises(durable_rules_engine.error) as raised:
        durable_rules_engine.create_ruleset(
            "pedonc_bad_number", '{"r":{"all":[{"m":{"x":1e-05}}]}}'
        )
    assert session.error_code(raised.value) == 204


def test_the_sid_stays_correct_after_the_match_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """At error 303 the fact is retracted (deleting the state there crashes durable-rules)
    and the sid goes back to the pool: later evaluations on it are still right."""
    from pedonc_routing.engine.durable import sharding

    monkeypatch.setattr(sharding, "MAX_MATCHES", 10_000)  # pack everything in one shard
    inputs = {**INPUTS, "flag": InputSpec("flag", "boolean")}
    many = tuple(
        Guard.of(f"n{i}", ConditionTest.model_validate({"input": "x", "ne": 1000 + i}))
        for i in range(80)
    )
    flag = Guard.of("flag", ConditionTest.model_validate({"input": "flag", "eq": True}))
    guards = GuardTable("session-limit", (*many, flag))
    evaluator = DurableEvaluator(inputs)
    ruleset = ruleset_of(evaluator, guards)
    reference = ReferenceEvaluator()
    for facts in ({"x": 5}, {"flag": True}, {"x": 7, "flag": False}, {"flag": False}) * 25:
        truth, expected_truth = evaluator.evaluate(guards, facts), reference.evaluate(guards, facts)
        assert [truth(g.key) for g in guards.guards] == [
            expected_truth(g.key) for g in guards.guards
        ], facts
    assert ruleset.issued == 1
