"""The pure-Python reference evaluator: three-valued (Kleene) logic over the condition AST.

It is the differential oracle for the durable-rules engine and the evaluator behind
explanations. ``None`` means *unknown*: a test of an input the patient lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from pedonc_routing.compiler.guards import GuardTable
from pedonc_routing.engine.evaluator import Truth
from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not, Test
from pedonc_routing.vocabulary.codes import (
    MorphologyRange,
    icd10_key,
    icd10_pattern,
    morphology_parts,
    morphology_pattern,
)
from pedonc_routing.vocabulary.inputs import FactValue


@cache
def _icd10_intervals(patterns: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(icd10_pattern(pattern) for pattern in patterns)


@cache
def _morphology_ranges(patterns: tuple[str, ...]) -> tuple[MorphologyRange, ...]:
    return tuple(morphology_pattern(pattern) for pattern in patterns)


def evaluate_test(test: Test, facts: Mapping[str, FactValue]) -> Truth:
    value = facts.get(test.input)
    operator = test.operator
    if value is None:
        if operator == "present":
            return False
        if operator == "absent":
            return True
        return None
    operand = test.operand
    if operator == "eq":
        return bool(value == operand)
    if operator == "ne":
        return bool(value != operand)
    if operator == "lt":
        return bool(value < operand)
    if operator == "lte":
        return bool(value <= operand)
    if operator == "gt":
        return bool(value > operand)
    if operator == "gte":
        return bool(value >= operand)
    if operator == "in":
        return value in operand
    if operator == "between":
        return bool(operand[0] <= value <= operand[1])
    if operator == "present":
        return True
    if operator == "absent":
        return False
    if operator == "icd10_in":
        key = icd10_key(str(value))
        return any(low <= key <= high for low, high in _icd10_intervals(tuple(operand)))
    if operator == "morphology_in":
        code, behaviour = morphology_parts(str(value))
        return any(item.contains(code, behaviour) for item in _morphology_ranges(tuple(operand)))
    raise AssertionError(f"unhandled operator {operator}")  # pragma: no cover


def evaluate(condition: Condition, facts: Mapping[str, FactValue]) -> Truth:
    """Evaluate a condition: True, False, or None when it depends on a missing input."""
    if isinstance(condition, Test):
        return evaluate_test(condition, facts)
    if isinstance(condition, AllOf):
        unknown = False
        for part in condition.all:
            result = evaluate(part, facts)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True
    if isinstance(condition, AnyOf):
        unknown = False
        for part in condition.any:
            result = evaluate(part, facts)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False
    assert isinstance(condition, Not)
    result = evaluate(condition.negated, facts)
    return None if result is None else not result


class ReferenceEvaluator:
    """Evaluates a guard table lazily: only the guards the walker asks for."""

    name = "reference"

    def evaluate(self, table: GuardTable, facts: Mapping[str, FactValue]) -> Callable[[str], Truth]:
        guards = table.by_key
        memo: dict[str, Truth] = {}

        def truth(key: str) -> Truth:
            if key not in memo:
                memo[key] = evaluate(guards[key].condition, facts)
            return memo[key]

        return truth

    def prepare(self, table: GuardTable) -> None:
        """Nothing to build ahead: conditions are interpreted."""
