"""Conditions rendered as short readable text, e.g. ``wbc_10e9_l < 50 and age_years >= 10``."""

from __future__ import annotations

from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not, Test

#: The comparison operators as the symbols people read (also the review pack's table cells).
SYMBOLS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def test_in_words(test: Test) -> str:
    operator, operand = test.operator, test.operand
    if operator in SYMBOLS:
        return f"{test.input} {SYMBOLS[operator]} {_value(operand)}"
    if operator == "in":
        return f"{test.input} in {{{', '.join(_value(v) for v in operand)}}}"
    if operator == "between":
        return f"{_value(operand[0])} ≤ {test.input} ≤ {_value(operand[1])}"
    if operator == "present":
        return f"{test.input} known"
    if operator == "absent":
        return f"{test.input} unknown"
    return f"{test.input} in {', '.join(operand)}"


def in_words(condition: Condition) -> str:
    if isinstance(condition, Test):
        return test_in_words(condition)
    if isinstance(condition, AllOf):
        return " and ".join(_grouped(part) for part in condition.all)
    if isinstance(condition, AnyOf):
        return " or ".join(_grouped(part) for part in condition.any)
    assert isinstance(condition, Not)
    return f"not {_grouped(condition.negated)}"


def _grouped(condition: Condition) -> str:
    text = in_words(condition)
    return f"({text})" if isinstance(condition, AllOf | AnyOf) and " " in text else text
