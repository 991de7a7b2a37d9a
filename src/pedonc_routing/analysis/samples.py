"""Patients to analyse a bundle with: recorded YAML test cases, and boundary patients.

Recorded cases are read in the ``tests/cases/*.yaml`` format (see ``tests/test_cases.py``):
a ``cases:`` list whose items give a patient inline (``patient:``) or by path (``file:``).

Boundary patients are built without hypothesis, from the symbolic view of the guards in
:mod:`pedonc_routing.validation.boxes`: every input a set of conditions mentions is a
discretised dimension, and each dimension is *cut* at every constant the conditions compare it
with, one unit of precision below, at, and above it (and at the edges of every code range).
A threshold that moves between two versions therefore always has a generated value on each
side of both its old and its new position, so a version diff cannot miss it by sampling.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from pedonc_routing.errors import CaseFileError as CaseFileError  # public here too
from pedonc_routing.model.conditions import Condition, Test, iter_tests
from pedonc_routing.model.patient import PatientState
from pedonc_routing.validation.boxes import Dimension, Space, TooComplex, icd10_code
from pedonc_routing.vocabulary.codes import CodeFormatError, icd10_key
from pedonc_routing.vocabulary.inputs import InputSpec, kz_region_codes

#: Operators whose numeric constant is a boundary worth testing on both sides.
BOUNDARY_OPERATORS = frozenset({"lt", "lte", "gt", "gte", "between", "eq"})
#: The moment every generated patient is observed at (fixed, so a diff is reproducible).
GENERATED_AS_OF = "2026-01-01T09:00:00+05:00"
GENERATED_REGION = "KZ-75"
#: Age given to generated patients whose guards do not mention age (facility choice and
#: ``applies_to`` read it; 5 years is inside every shipped paediatric range).
DEFAULT_AGE_YEARS = 5


# -- recorded cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One recorded case: where it is written, its name, and its patient state."""

    file: str
    line: int
    name: str
    patient: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def case_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML case files named, folders expanded (recursively, sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")]))
        elif path.exists():
            found.append(path)
        else:
            raise CaseFileError(f"{path}: no such file or folder")
    return found


def read_cases(paths: Iterable[Path]) -> list[Case]:
    """Every case of the files (or folders of files) given, in file and list order.

    A ``file:`` path is resolved against the case file's folder and then each folder above
    it, so the shipped ``tests/cases`` (whose paths start at the repository root) work from
    any working directory.
    """
    cases: list[Case] = []
    for path in case_files(paths):
        cases.extend(_read_case_file(path))
    return cases


def _read_case_file(path: Path) -> Iterator[Case]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CaseFileError(f"{path}: cannot read: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise CaseFileError(f"{path}:1: expected a mapping with a `cases:` list")
    lines = _case_lines(node, len(document["cases"]))
    for index, case in enumerate(document["cases"]):
        line = lines[index]
        if not isinstance(case, dict):
            raise CaseFileError(f"{path}:{line}: a case must be a mapping")
        name = str(case.get("name", f"case {index}"))
        if "patient" in case:
            patient = case["patient"]
        elif "file" in case:
            patient = _read_patient_file(path, line, str(case["file"]))
        else:
            raise CaseFileError(f"{path}:{line}: a case needs `patient:` or `file:`")
        if not isinstance(patient, dict):
            raise CaseFileError(f"{path}:{line}: the patient must be a mapping")
        yield Case(str(path), line, name, patient)


def _case_lines(node: Any, count: int) -> list[int]:
    """The 1-based line of each item of the ``cases:`` list (1 when not found)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "cases" and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return [1] * count


def _read_patient_file(case_file: Path, line: int, name: str) -> Any:
    relative = Path(name)
    candidates = (
        [relative]
        if relative.is_absolute()
        else [folder / relative for folder in case_file.resolve().parents]
    )
    for candidate in [*candidates, Path.cwd() / relative]:
        if candidate.is_file():
            try:
                return yaml.safe_load(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                raise CaseFileError(f"{case_file}:{line}: cannot read {name}: {error}") from None
    raise CaseFileError(f"{case_file}:{line}: patient file not found: {name}")


# -- numeric boundaries --------------------------------------------------------------------


def unit_scale(spec: InputSpec) -> int:
    """How many grid points one unit of the input holds (10**precision for numbers)."""
    return 10**spec.precision if spec.type == "number" else 1


def to_grid(spec: InputSpec, value: Any) -> Fraction | None:
    """A number in units of the input's precision (None for a non-number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    return exact * unit_scale(spec)


def from_grid(spec: InputSpec, point: int) -> float | int:
    """The value of a grid point, as a patient would send it."""
    if spec.type == "number":
        return float(Fraction(point, unit_scale(spec)))
    return point


def numeric_constants(
    condition: Condition, inputs: Mapping[str, InputSpec]
) -> Iterator[tuple[Test, float | int]]:
    """Every (test, constant) of a number or integer input compared by a boundary operator."""
    for test in iter_tests(condition):
        spec = inputs.get(test.input)
        if spec is None or spec.type not in ("number", "integer"):
            continue
        if test.operator not in BOUNDARY_OPERATORS:
            continue
        operands = test.operand if test.operator == "between" else (test.operand,)
        for constant in operands:
            if to_grid(spec, constant) is not None:
                yield test, constant


def boundary_points(spec: InputSpec, constant: float | int) -> tuple[int, ...]:
    """The grid points one unit below, at, and one unit above a constant, inside the
    input's plausible range (a point no valid patient can have is not a gap in testing).

    A constant between two grid points (``lt: 0.015`` at precision 2) yields the two points
    around it, since the guard cannot tell the values in between apart.
    """
    grid = to_grid(spec, constant)
    assert grid is not None
    if grid.denominator == 1:
        points = [int(grid) - 1, int(grid), int(grid) + 1]
    else:
        points = [math.floor(grid), math.ceil(grid)]
    low = to_grid(spec, spec.low) if spec.low is not None else None
    high = to_grid(spec, spec.high) if spec.high is not None else None
    return tuple(p for p in points if (low is None or p >= low) and (high is None or p <= high))


# -- boundary patients ---------------------------------------------------------------------


def guard_patients(
    inputs: Mapping[str, InputSpec],
    conditions: Sequence[Condition],
    template: Mapping[str, Any],
    max_examples: int,
) -> list[dict[str, Any]]:
    """Patients (``template`` plus inputs) on every boundary of ``conditions``.

    Each dimension of the conditions' :class:`Space` is cut (see the module docstring). When
    the product of the cuts has at most ``max_examples`` points, all of them are used. Above
    that, each box of each condition (the region where one branch of it holds) is taken as
    an anchor, and every dimension is swept over its cuts from that anchor with the others
    held: a threshold matters only where the rest of its guard holds, which the anchor
    ensures. The result is cut to ``max_examples`` evenly, deterministically.
    """
    space = Space(inputs, conditions)
    dimensions = sorted(space.dimensions.values(), key=lambda d: d.name)
    if not dimensions:
        return [_complete(dict(template), {}, inputs)]
    boxes: list[Mapping[str, Any]] = []
    for condition in conditions:
        try:
            boxes.extend(space.boxes(condition))
        except TooComplex:
            continue  # its constants are still cut below; only its anchors are lost
    optional = _optional_inputs(conditions)
    cuts = {d.name: _cuts(d, conditions, boxes, d.input in optional) for d in dimensions}
    size = math.prod(len(values) for values in cuts.values())
    points: list[dict[str, int]]
    if size <= max_examples:
        names = [d.name for d in dimensions]
        points = [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(cuts[name] for name in names))
        ]
    else:
        base = {d.name: _base(d, cuts[d.name], boxes) for d in dimensions}
        anchors = [base]
        for box in boxes:
            anchor = dict(base)
            for name, allowed in box.items():
                anchor[name] = allowed.parts[0][0]
            anchors.append(anchor)
        seen: set[tuple[tuple[str, int], ...]] = set()
        points = []
        for anchor in anchors:
            for dimension in dimensions:
                for value in cuts[dimension.name]:
                    point = {**anchor, dimension.name: value}
                    key = tuple(sorted(point.items()))
                    if key not in seen:
                        seen.add(key)
                        points.append(point)
        if len(points) > max_examples:
            stride = len(points) / max_examples
            points = [points[int(index * stride)] for index in range(max_examples)]
    return [_patient_at(space, point, template, inputs) for point in points]


def _optional_inputs(conditions: Sequence[Condition]) -> set[str]:
    """Inputs some condition tests with ``present`` or ``absent``: generated patients must
    also lack them (the symbolic space assumes every input present)."""
    return {
        test.input
        for condition in conditions
        for test in iter_tests(condition)
        if test.operator in ("present", "absent")
    }


def _absent(dimension: Dimension) -> int:
    """The point standing for "input not given": just below the domain."""
    return dimension.low - 1


def _patient_at(
    space: Space,
    point: Mapping[str, int],
    template: Mapping[str, Any],
    inputs: Mapping[str, InputSpec],
) -> dict[str, Any]:
    dropped = {
        space.dimensions[name].spec
        for name, value in point.items()
        if value == _absent(space.dimensions[name])
    }
    inside = {
        name: (space.dimensions[name].low if space.dimensions[name].spec in dropped else value)
        for name, value in point.items()
    }
    patient = _merge(dict(template), space.patient_of(inside))
    for spec in dropped:
        _drop(patient, spec)
    return _complete(patient, space.dimensions, inputs)


def _drop(patient: dict[str, Any], spec: InputSpec) -> None:
    if spec.name in ("icd10", "icdo3_morphology", "icdo3_topography"):
        patient.get("diagnosis", {}).pop(spec.name, None)
    elif spec.builtin:
        patient.pop(spec.name, None)
    else:
        patient.get(spec.group, {}).pop(spec.name, None)


def _cuts(
    dimension: Dimension,
    conditions: Sequence[Condition],
    boxes: Sequence[Mapping[str, Any]],
    optional: bool,
) -> list[int]:
    """The values of one dimension worth trying, sorted (the "absent" point first)."""
    absent = [_absent(dimension)] if optional else []
    low, high = dimension.domain
    spec = dimension.spec
    if high - low <= 24 and spec.type not in ("number", "integer"):
        return [*absent, *range(low, high + 1)]  # booleans, enums, text labels: every value
    values: set[int] = {low}
    if spec.type in ("number", "integer"):
        # Numbers are cut at their constants only: the boxes' far ends are the range's
        # edges, which a derived input cannot always reach through its terms.
        for condition in conditions:
            for test, constant in numeric_constants(condition, {spec.name: spec}):
                if test.input == spec.name:
                    values.update(boundary_points(spec, constant))
        return [*absent, *sorted(v for v in values if low <= v <= high)]
    for box in boxes:
        allowed = box.get(dimension.name)
        if allowed is None:
            continue
        for part_low, part_high in allowed.parts:
            values.update((part_low - 1, part_low, part_high, part_high + 1))
    if spec.type == "icd10":
        values = {code for code in (_valid_icd10(v, low, high) for v in values) if code is not None}
    return [*absent, *sorted(v for v in values if low <= v <= high)]


def _valid_icd10(key: int, low: int, high: int) -> int | None:
    """The nearest key at or above ``key`` that is a real ICD-10 code (keys have gaps)."""
    for candidate in range(max(key, low), min(key + 400, high + 1)):
        try:
            if icd10_key(icd10_code(candidate)) == candidate:
                return candidate
        except CodeFormatError:
            continue
    return None


def _base(dimension: Dimension, cuts: Sequence[int], boxes: Sequence[Mapping[str, Any]]) -> int:
    """The cut inside the fewest boxes: a neutral value, so that (for instance) an override
    guard on this dimension does not fire for every anchored patient and hide the step."""

    def inside(value: int) -> int:
        if value == _absent(dimension):
            return -1  # an input only tested for presence: leave it out by default
        return sum(
            1 for box in boxes if dimension.name in box and box[dimension.name].contains(value)
        )

    return min(cuts, key=lambda value: (inside(value), value))


def _merge(into: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value
    return into


def _complete(
    patient: dict[str, Any], dimensions: Mapping[str, Dimension], inputs: Mapping[str, InputSpec]
) -> dict[str, Any]:
    """Make a space point a valid patient state: derived inputs given through their terms,
    a real region for "any other region", and an age when the guards do not fix one."""
    for key in [k for k in patient if k not in PatientState.model_fields]:
        for name, value in patient.pop(key).items():
            _place_derived(patient, inputs[name], value, inputs)
    if patient.get("home_region") == "(any other value)":
        named = {label for d in dimensions.values() for label in d.labels}
        patient["home_region"] = min(kz_region_codes() - named)
    if "age_years" not in patient and "age_months" not in patient:
        patient["age_years"] = DEFAULT_AGE_YEARS
    return patient


def _place_derived(
    patient: dict[str, Any], spec: InputSpec, value: Any, inputs: Mapping[str, InputSpec]
) -> None:
    """Give a derived input's value through its terms: all on one term (the one with factor
    1 when there is one), the others zero, so the sum the schema computes is the value."""
    if not spec.terms:
        return
    carrier, factor = next(
        ((name, factor) for name, factor in spec.terms if factor == 1), spec.terms[0]
    )
    for name, _ in spec.terms:
        term = inputs[name]
        amount: Any = 0
        if name == carrier:
            amount = float(Fraction(repr(float(value))) / Fraction(repr(factor)))
            if term.type == "integer":
                amount = round(amount)
        patient.setdefault(term.group, {})[name] = amount
