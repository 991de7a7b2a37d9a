r"""Types and units: a guard's operator and constants must fit its input (``T001``-``T006``).

Conditions carry no units: each input fixes its unit in the vocabulary, so a unit slip
(a temperature in degrees Fahrenheit for ``temperature_c``) shows as a constant outside the
input's plausible range (``T002``).

### T001 error: operator or constant does not fit the input's type

| input type | operators allowed |
|---|---|
| `number`, `integer` | `eq ne lt lte gt gte in between present absent` |
| `boolean` | `eq ne present absent` |
| `enum` | `eq ne in present absent` |
| `icd10` (built-in `icd10`) | `icd10_in present absent` |
| `morphology` (built-in `icdo3_morphology`) | `morphology_in present absent` |
| `text` (built-in `home_region`, `icdo3_topography`) | `eq ne in present absent` |

A constant of the wrong type (a string for a number, a number for a boolean) is also `T001`,
and so is a number constant that is not finite (`.nan`, `.inf`): no child's value compares
with it.

FAIL:

```yaml
        when: {input: immunophenotype, gte: 50}
```

```
demo.yaml:22:45: T001 error: 'gte' does not apply to enum input 'immunophenotype' (use: absent, eq, in, ne, present)
```

Fix: use an allowed operator, and a constant of the input's type.

### T002 warning: constant outside the plausible range

FAIL:

```yaml
        when: {input: wbc_10e9_l, gte: 5000}
```

```
demo.yaml:22:40: T002 warning: 5000 lies outside 'wbc_10e9_l''s plausible range [0, 2000] 10^9/L
```

Such a guard can never (or always) hold for valid data. Fix: check the threshold and the unit.

### T003 error: enum value not declared

FAIL:

```yaml
        when: {input: immunophenotype, eq: b}
```

```
demo.yaml:22:44: T003 error: 'b' is not a value of 'immunophenotype' (B, T)
```

Fix: use a declared value (values are case-sensitive), or add it to the vocabulary.

### T004 error: input not listed in the protocol's `inputs`

Every vocabulary input a protocol's conditions use must be listed in its `inputs`.

FAIL:

```yaml
inputs: [immunophenotype]          # wbc_10e9_l is used but not listed
```

```
demo.yaml:22:23: T004 error: input 'wbc_10e9_l' is used but not listed in the protocol's inputs
```

Fix: add the input to `inputs`.

### T005 error: constant more precise than the input

A numeric constant has more decimals than the input's `precision`. Patient values are
rounded to that precision (see [patient-state.md](patient-state.md)), so such a threshold
cannot be told apart.

FAIL:

```yaml
        when: {input: wbc_10e9_l, gte: 49.995}
```

```
demo.yaml:22:40: T005 error: 49.995 has 3 decimals; 'wbc_10e9_l' keeps 2
```

Fix: round the constant, or raise the input's `precision` in the vocabulary.

### T006 error: bad code pattern

An `icd10_in` or `morphology_in` pattern does not parse, or a range runs backwards.
ICD-10 patterns: `C91`, `C91.0`, `C81-C85`. Morphology patterns: `9837/3`, `9811-9818/3`,
`9811/3-9818/3`, `9590-9597` (any behaviour).

FAIL:

```yaml
applies_to: {input: icd10, icd10_in: ["C91.0-C90"]}
```

```
demo.yaml:9:38: T006 error: ICD-10 range runs backwards: 'C91.0-C90'
```

Fix: write the range low to high.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal

from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import Sourced
from pedonc_routing.model.conditions import (
    NUMERIC_OPERATORS,
    Condition,
    Test,
    iter_tests_with_paths,
)
from pedonc_routing.model.documents import (
    Protocol,
)
from pedonc_routing.source import LogicalPath, SourceMap
from pedonc_routing.suggestions import with_hint
from pedonc_routing.validation.context import CheckContext, Gate, conditions_of
from pedonc_routing.vocabulary.codes import CodeFormatError, icd10_pattern, morphology_pattern
from pedonc_routing.vocabulary.inputs import FactSchema, InputSpec

CODES = ("T001", "T002", "T003", "T004", "T005", "T006")
GATE = Gate.ALWAYS

_NUMERIC = ("number", "integer")
_TYPE_OPERATORS: dict[str, frozenset[str]] = {
    "number": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "present", "absent"}
    ),
    "integer": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "present", "absent"}
    ),
    "boolean": frozenset({"eq", "ne", "present", "absent"}),
    "enum": frozenset({"eq", "ne", "in", "present", "absent"}),
    "icd10": frozenset({"icd10_in", "present", "absent"}),
    "morphology": frozenset({"morphology_in", "present", "absent"}),
    "text": frozenset({"eq", "ne", "in", "present", "absent"}),
}


def check(context: CheckContext) -> Iterator[Issue]:
    """Every condition of every protocol: inputs declared, operators and constants fit."""
    schema = context.schema
    # Unknown inputs, in formulas as in conditions, are R002 (:mod:`.references`).
    for name, where in context.formula_terms():
        spec = schema.inputs.get(name)
        if spec is not None and not spec.builtin and (spec.type not in _NUMERIC or spec.terms):
            yield Issue.at(
                where,
                "T001",
                f"formula term {name!r} must be a number or integer input "
                "that is not itself derived",
            )
    for sourced in context.protocols:
        yield from _protocol_type_issues(sourced, schema)


def _protocol_type_issues(sourced: Sourced[Protocol], schema: FactSchema) -> Iterator[Issue]:
    """Every condition of a protocol: inputs declared, operators and constants fit types."""
    protocol, source_map = sourced.model, sourced.source_map
    declared = set(protocol.inputs)
    for condition, where in conditions_of(protocol):
        yield from _condition_issues(condition, where, schema, declared, source_map)


def _condition_issues(
    condition: Condition,
    path: LogicalPath,
    schema: FactSchema,
    declared: set[str],
    source_map: SourceMap,
) -> Iterator[Issue]:
    for test, test_path in iter_tests_with_paths(condition, path):
        where = source_map.span((*test_path, "input"))
        spec = schema.inputs.get(test.input)
        if spec is None:
            continue  # R002, in :mod:`.references`
        if not spec.builtin and test.input not in declared:
            yield Issue.at(
                where,
                "T004",
                f"input {test.input!r} is used but not listed in the protocol's inputs",
            )
        yield from _operand_issues(test, spec, source_map.span((*test_path, _yaml_key(test))))


def _yaml_key(test: Test) -> str:
    return test.operator


def _operand_issues(test: Test, spec: InputSpec, where: object) -> Iterator[Issue]:
    from pedonc_routing.source import SourceSpan

    assert isinstance(where, SourceSpan)
    operator, operand = test.operator, test.operand
    if operator not in _TYPE_OPERATORS[spec.type]:
        allowed = ", ".join(sorted(_TYPE_OPERATORS[spec.type]))
        yield Issue.at(
            where,
            "T001",
            f"{operator!r} does not apply to {spec.type} input {spec.name!r} (use: {allowed})",
        )
        return
    values = list(operand) if isinstance(operand, list | tuple) else [operand]
    if operator in ("present", "absent"):
        return
    if operator == "icd10_in":
        for pattern in values:
            try:
                icd10_pattern(pattern)
            except CodeFormatError as error:
                yield Issue.at(where, "T006", str(error))
        return
    if operator == "morphology_in":
        for pattern in values:
            try:
                morphology_pattern(pattern)
            except CodeFormatError as error:
                yield Issue.at(where, "T006", str(error))
        return
    for value in values:
        if spec.type in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                yield Issue.at(
                    where, "T001", f"{spec.name!r} is a {spec.type}; compare it with a number"
                )
                continue
            if not math.isfinite(value):  # .nan/.inf: no patient value compares sensibly
                yield Issue.at(
                    where,
                    "T001",
                    f"{value!r} is not a finite number; compare {spec.name!r} with a finite number",
                )
                continue
            if (
                spec.low is not None
                and spec.high is not None
                and not spec.low <= value <= spec.high
            ):
                yield Issue.at(
                    where,
                    "T002",
                    f"{value!r} lies outside the plausible range of {spec.name!r} "
                    f"[{spec.low:g}, {spec.high:g}] {spec.unit or ''}".rstrip(),
                    "warning",
                )
            exponent = Decimal(repr(value)).normalize().as_tuple().exponent
            decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
            if decimals > spec.precision:
                yield Issue.at(
                    where,
                    "T005",
                    f"{value!r} has {decimals} decimals; {spec.name!r} keeps {spec.precision}",
                )
        elif spec.type == "boolean":
            if not isinstance(value, bool):
                yield Issue.at(
                    where, "T001", f"{spec.name!r} is boolean; compare it with true/false"
                )
        elif spec.type == "enum":
            if value not in spec.values:
                yield Issue.at(
                    where,
                    "T003",
                    with_hint(
                        f"{value!r} is not a value of {spec.name!r} ({', '.join(spec.values)})",
                        str(value),
                        spec.values,
                    ),
                )
        elif not isinstance(value, str):
            yield Issue.at(where, "T001", f"{spec.name!r} is text; compare it with a string")
    if operator in NUMERIC_OPERATORS and spec.type not in ("number", "integer"):
        yield Issue.at(where, "T001", f"{operator!r} needs a numeric input")
