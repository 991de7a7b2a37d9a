"""A guard of the condition language as FHIRPath text, for standard PlanDefinition consumers.

Each input is an external constant (``%temperature_c``), which the consumer supplies from
the patient's state, so the text is FHIRPath that any engine parses and evaluates:

    {all: [{input: on_chemotherapy, eq: true}, {input: anc_10e9_l, lt: 0.5}]}
    -> (%on_chemotherapy = true) and (%anc_10e9_l < 0.5)

Code tests keep their meaning: an ICD-10 prefix is ``startsWith``, an ICD-10 range compares
the code as text (the codes are fixed-width, so text order is code order), an ICD-O-3
morphology range compares the four digits and the behaviour. A missing input is empty in
FHIRPath, so a comparison with it is empty (not true): the router asks for it first
(``needs_data``), as it does for our own language.
"""

from __future__ import annotations

from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not, Test
from pedonc_routing.vocabulary.codes import morphology_pattern

_COMPARISONS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def to_fhirpath(condition: Condition) -> str:
    """The condition as one FHIRPath boolean expression."""
    if isinstance(condition, AllOf):
        return " and ".join(f"({to_fhirpath(part)})" for part in condition.all)
    if isinstance(condition, AnyOf):
        return " or ".join(f"({to_fhirpath(part)})" for part in condition.any)
    if isinstance(condition, Not):
        return f"({to_fhirpath(condition.negated)}).not()"
    return _test(condition)


def _test(test: Test) -> str:
    name = f"%{test.input}"
    operator, operand = test.operator, test.operand
    if operator in _COMPARISONS:
        return f"{name} {_COMPARISONS[operator]} {_literal(operand)}"
    if operator == "in":
        return f"{name} in ({' | '.join(_literal(value) for value in operand)})"
    if operator == "between":
        low, high = operand
        return f"{name} >= {_literal(low)} and {name} <= {_literal(high)}"
    if operator == "present":
        return f"{name}.exists()"
    if operator == "absent":
        return f"{name}.empty()"
    if operator == "icd10_in":
        return " or ".join(f"({_icd10(name, pattern)})" for pattern in operand)
    if operator == "morphology_in":
        return " or ".join(f"({_morphology(name, pattern)})" for pattern in operand)
    raise AssertionError(f"operator without a FHIRPath form: {operator}")  # pragma: no cover


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _icd10(name: str, pattern: str) -> str:
    """A prefix (C91.0 covers C91.0 and C91.01) or an inclusive range (C81-C85.9)."""
    if "-" not in pattern:
        return f"{name}.startsWith({_literal(pattern.strip())})"
    first, _, last = (part.strip() for part in pattern.partition("-"))
    up_to_last = f"{name} <= {_literal(last)} or {name}.startsWith({_literal(last)})"
    return f"{name} >= {_literal(first)} and ({up_to_last})"


def _morphology(name: str, pattern: str) -> str:
    """``9811-9818/3``: the code's four digits in the range, and its behaviour."""
    found = morphology_pattern(pattern)
    digits = f"{name}.substring(0, 4)"
    text = f"{digits} >= '{found.low:04d}' and {digits} <= '{found.high:04d}'"
    if found.behaviour is not None:
        text += f" and {name}.substring(5) = '{found.behaviour}'"
    return text
