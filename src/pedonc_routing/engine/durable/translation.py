"""Guards and facts in durable-rules' terms: conditions -> JSON expressions, facts -> integers.

- **Three-valued logic.** durable-rules treats a missing field as "every comparison false".
  Each condition G becomes two expressions: ``T(G)`` (G is certainly true) and ``F(G)`` (G is
  certainly false, written with the comparisons negated). Neither holding means *unknown*,
  which is exactly the reference evaluator's Kleene logic.
- **Numbers are integers.** Every value is encoded as a fixed-point integer of its input's
  declared precision (enum values as indexes, booleans as 0/1, codes as ordered keys), so no
  exponent forms, NaN, or string-vs-number comparisons reach the engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from pedonc_routing.errors import EngineError
from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not, Test
from pedonc_routing.vocabulary.codes import (
    icd10_key,
    icd10_pattern,
    morphology_parts,
    morphology_pattern,
)
from pedonc_routing.vocabulary.inputs import FactValue, InputSpec, to_fixed

Expression = dict[str, Any]

_NEVER: Expression = {"$lt": {"pr": 0}}  # the fact's "pr" is always 1
_MORPH_CODE = "__code"
_MORPH_BEHAVIOUR = "__beh"


class GuardTranslator:
    """Condition -> (certainly-true, certainly-false) durable-rules expressions."""

    def __init__(self, inputs: Mapping[str, InputSpec]) -> None:
        self._inputs = inputs

    def both(self, condition: Condition) -> tuple[Expression, Expression]:
        if isinstance(condition, Test):
            return self._test(condition)
        if isinstance(condition, AllOf):
            parts = [self.both(part) for part in condition.all]
            return _and([t for t, _ in parts]), _or([f for _, f in parts])
        if isinstance(condition, AnyOf):
            parts = [self.both(part) for part in condition.any]
            return _or([t for t, _ in parts]), _and([f for _, f in parts])
        assert isinstance(condition, Not)
        true, false = self.both(condition.negated)
        return false, true

    def _test(self, test: Test) -> tuple[Expression, Expression]:
        spec = self._inputs.get(test.input)
        if spec is None:
            raise EngineError(f"guard reads an undeclared input {test.input!r}")
        field, operator, operand = test.input, test.operator, test.operand
        if operator == "present":
            return {"$ex": {_field_of(spec): 1}}, {"$nex": {_field_of(spec): 1}}
        if operator == "absent":
            return {"$nex": {_field_of(spec): 1}}, {"$ex": {_field_of(spec): 1}}
        if operator == "icd10_in":
            intervals = [icd10_pattern(pattern) for pattern in operand]
            return (
                _or(
                    [
                        _and([_cmp("$gte", field, lo), _cmp("$lte", field, hi)])
                        for lo, hi in intervals
                    ]
                ),
                _and(
                    [_or([_cmp("$lt", field, lo), _cmp("$gt", field, hi)]) for lo, hi in intervals]
                ),
            )
        if operator == "morphology_in":
            return self._morphology(field, operand)
        if operator in ("eq", "ne", "in"):
            values = [operand] if operator != "in" else list(operand)
            equal = _or([self._equals(spec, value) for value in values])
            differ = _and([self._differs(spec, value) for value in values])
            return (differ, equal) if operator == "ne" else (equal, differ)
        if operator == "between":
            low, high = operand
            return (
                _and([self._compare(spec, "gte", low), self._compare(spec, "lte", high)]),
                _or([self._compare(spec, "lt", low), self._compare(spec, "gt", high)]),
            )
        opposite = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt"}[operator]
        return self._compare(spec, operator, operand), self._compare(spec, opposite, operand)

    def _morphology(self, field: str, patterns: list[str]) -> tuple[Expression, Expression]:
        code, behaviour = field + _MORPH_CODE, field + _MORPH_BEHAVIOUR
        true_parts: list[Expression] = []
        false_parts: list[Expression] = []
        for pattern in patterns:
            item = morphology_pattern(pattern)
            inside = [_cmp("$gte", code, item.low), _cmp("$lte", code, item.high)]
            outside = [_cmp("$lt", code, item.low), _cmp("$gt", code, item.high)]
            if item.behaviour is not None:
                inside.append({behaviour: item.behaviour})
                outside.append({"$neq": {behaviour: item.behaviour}})
            true_parts.append(_and(inside))
            false_parts.append(_or(outside))
        return _or(true_parts), _and(false_parts)

    def _scaled(self, spec: InputSpec, value: Any) -> Fraction | str | None:
        """The constant as the engine sees it; None when it cannot equal any valid value."""
        if spec.type in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return to_fixed(value, spec.precision)
        if spec.type == "boolean":
            return Fraction(int(value)) if isinstance(value, bool) else None
        if spec.type == "enum":
            return Fraction(spec.values.index(value)) if value in spec.values else None
        if spec.type == "icd10":
            return Fraction(icd10_key(value)) if isinstance(value, str) else None
        return str(value) if isinstance(value, str) else None

    def _equals(self, spec: InputSpec, value: Any) -> Expression:
        scaled = self._scaled(spec, value)
        if scaled is None or (isinstance(scaled, Fraction) and scaled.denominator != 1):
            return _NEVER
        return {spec.name: int(scaled) if isinstance(scaled, Fraction) else scaled}

    def _differs(self, spec: InputSpec, value: Any) -> Expression:
        scaled = self._scaled(spec, value)
        if scaled is None or (isinstance(scaled, Fraction) and scaled.denominator != 1):
            return {"$ex": {spec.name: 1}}
        return {"$neq": {spec.name: int(scaled) if isinstance(scaled, Fraction) else scaled}}

    def _compare(self, spec: InputSpec, operator: str, value: Any) -> Expression:
        scaled = self._scaled(spec, value)
        if not isinstance(scaled, Fraction):
            raise EngineError(f"{operator} needs a number for input {spec.name!r}")
        # The fact is an integer X: X < k <=> X < ceil(k); X <= k <=> X <= floor(k); and so on.
        bound = math.ceil(scaled) if operator in ("lt", "gte") else math.floor(scaled)
        return _cmp("$" + operator, spec.name, bound)


def _field_of(spec: InputSpec) -> str:
    return spec.name + _MORPH_CODE if spec.type == "morphology" else spec.name


def _cmp(operator: str, field: str, value: int) -> Expression:
    return {operator: {field: value}}


def _and(parts: list[Expression]) -> Expression:
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _or(parts: list[Expression]) -> Expression:
    return parts[0] if len(parts) == 1 else {"$or": parts}


def encode_facts(
    facts: Mapping[str, FactValue], fields: Mapping[str, InputSpec]
) -> dict[str, int | str]:
    """Facts as the engine reads them: integers (fixed-point, indexes, keys) or plain text."""
    encoded: dict[str, int | str] = {}
    for name, spec in fields.items():
        value = facts.get(name)
        if value is None:
            continue
        kind = spec.type
        if kind == "number":
            # Facts are quantized at intake, so this float product rounds to the exact
            # to_fixed() integer; the Fraction path would cost ~2 us per number here.
            encoded[name] = round(float(value) * 10**spec.precision)
        elif kind in ("integer", "boolean"):
            encoded[name] = int(value)
        elif kind == "enum":
            encoded[name] = spec.values.index(str(value))
        elif kind == "icd10":
            encoded[name] = icd10_key(str(value))
        elif kind == "morphology":
            code, behaviour = morphology_parts(str(value))
            encoded[name + _MORPH_CODE] = code
            encoded[name + _MORPH_BEHAVIOUR] = behaviour
        else:
            encoded[name] = str(value)
    return encoded
