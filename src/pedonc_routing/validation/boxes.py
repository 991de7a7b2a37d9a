"""Symbolic guard analysis: conditions as unions of boxes over discretised input domains.

Every input of a complete patient takes values in a finite, ordered, integer domain:

- numbers in units of their declared precision (``wbc_10e9_l`` with precision 2: 0.01 steps),
  integers and booleans as themselves, enum values by index, text by index of the values the
  guards mention plus one "any other" value, ICD-10 codes by their ordered key (see
  :mod:`pedonc_routing.vocabulary.codes`), ICD-O-3 morphology as code and behaviour.

A condition becomes a union of *boxes* (one :class:`IntervalSet` per constrained dimension).
Because the domains are integers, strict and non-strict bounds are exact (``lt 10`` and
``gte 10`` share no point, and ``lt 10`` with precision 2 ends at 9.99), so the analysis is
boundary-exact without sampling. Patients are assumed complete (every input present):
missing data is ``needs_data`` at run time, not a gap.

:func:`find_uncovered` sweeps one dimension at a time over the boxes' breakpoints, so a step
whose transitions partition a range costs O(n log n) in the number of transitions.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Not, Test, iter_tests
from pedonc_routing.vocabulary.codes import icd10_key, icd10_pattern, morphology_pattern
from pedonc_routing.vocabulary.inputs import InputSpec, from_fixed, to_fixed

Interval = tuple[int, int]  # closed, low <= high
MAX_BOXES = 20_000


class TooComplex(Exception):
    """The condition expands past :data:`MAX_BOXES`: the analysis is skipped."""


@dataclass(frozen=True, slots=True)
class IntervalSet:
    """A union of disjoint, sorted, non-adjacent closed integer intervals."""

    parts: tuple[Interval, ...]

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> IntervalSet:
        merged: list[list[int]] = []
        for low, high in sorted(i for i in intervals if i[0] <= i[1]):
            if merged and low <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        return cls(tuple((low, high) for low, high in merged))

    @property
    def empty(self) -> bool:
        return not self.parts

    def intersect(self, other: IntervalSet) -> IntervalSet:
        result: list[Interval] = []
        i = j = 0
        while i < len(self.parts) and j < len(other.parts):
            low = max(self.parts[i][0], other.parts[j][0])
            high = min(self.parts[i][1], other.parts[j][1])
            if low <= high:
                result.append((low, high))
            if self.parts[i][1] < other.parts[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(result))

    def complement(self, domain: Interval) -> IntervalSet:
        result: list[Interval] = []
        cursor = domain[0]
        for low, high in self.parts:
            if low > cursor:
                result.append((cursor, min(low - 1, domain[1])))
            cursor = max(cursor, high + 1)
        if cursor <= domain[1]:
            result.append((cursor, domain[1]))
        return IntervalSet.of(result)

    def contains(self, value: int) -> bool:
        index = bisect.bisect_right(self.parts, (value, math.inf)) - 1
        return index >= 0 and self.parts[index][0] <= value <= self.parts[index][1]


Box = Mapping[str, IntervalSet]  # dimension -> allowed values; absent = unconstrained


@dataclass(frozen=True)
class Dimension:
    """One discretised axis: an input, or a part of one (morphology code / behaviour)."""

    name: str
    input: str
    low: int
    high: int
    spec: InputSpec
    labels: tuple[str, ...] = ()  # text inputs: index -> value ("" = any other)

    @property
    def domain(self) -> Interval:
        return (self.low, self.high)


_ICD10_DOMAIN = (0, icd10_key("Z99.99"))


class Space:
    """The dimensions of a set of conditions, and how to turn tests into boxes."""

    def __init__(self, inputs: Mapping[str, InputSpec], conditions: Sequence[Condition]) -> None:
        self.inputs = inputs
        self.dimensions: dict[str, Dimension] = {}
        mentioned: dict[str, list[str]] = {}
        for condition in conditions:
            for test in iter_tests(condition):
                operand = test.operand
                values = operand if isinstance(operand, list) else [operand]
                mentioned.setdefault(test.input, []).extend(
                    str(v) for v in values if isinstance(v, str)
                )
        for name in mentioned:
            spec = inputs.get(name)
            if spec is None:
                continue  # an unknown input is reported elsewhere (R002)
            for dimension in self._dimensions_of(spec, mentioned[name]):
                self.dimensions[dimension.name] = dimension

    def _dimensions_of(self, spec: InputSpec, mentioned: list[str]) -> list[Dimension]:
        if spec.type == "number":
            low = math.ceil(to_fixed(spec.low if spec.low is not None else 0, spec.precision))
            high = math.floor(to_fixed(spec.high if spec.high is not None else 0, spec.precision))
            return [Dimension(spec.name, spec.name, low, high, spec)]
        if spec.type == "integer":
            low = math.ceil(spec.low if spec.low is not None else 0)
            high = math.floor(spec.high if spec.high is not None else 0)
            return [Dimension(spec.name, spec.name, low, high, spec)]
        if spec.type == "boolean":
            return [Dimension(spec.name, spec.name, 0, 1, spec)]
        if spec.type == "enum":
            return [Dimension(spec.name, spec.name, 0, len(spec.values) - 1, spec)]
        if spec.type == "icd10":
            return [Dimension(spec.name, spec.name, *_ICD10_DOMAIN, spec)]
        if spec.type == "morphology":
            return [
                Dimension(spec.name + "#code", spec.name, 8000, 9999, spec),
                Dimension(spec.name + "#behaviour", spec.name, 0, 9, spec),
            ]
        labels = tuple(dict.fromkeys([*mentioned, ""]))  # "" stands for any other value
        return [Dimension(spec.name, spec.name, 0, len(labels) - 1, spec, labels)]

    # -- conditions -> boxes ------------------------------------------------------------

    def boxes(self, condition: Condition) -> list[dict[str, IntervalSet]]:
        """The condition as a union of boxes (empty list: never true)."""
        if isinstance(condition, Test):
            return self._test(condition)
        if isinstance(condition, AllOf):
            result: list[dict[str, IntervalSet]] = [{}]
            for part in condition.all:
                result = self._and(result, self.boxes(part))
                if not result:
                    break
            return result
        if isinstance(condition, AnyOf):
            union: list[dict[str, IntervalSet]] = []
            for part in condition.any:
                union.extend(self.boxes(part))
                _check_size(union)
            return union
        assert isinstance(condition, Not)
        return self.complement(self.boxes(condition.negated))

    def complement(self, boxes: list[dict[str, IntervalSet]]) -> list[dict[str, IntervalSet]]:
        result: list[dict[str, IntervalSet]] = [{}]
        for box in boxes:
            outside = [
                {name: allowed.complement(self.dimensions[name].domain)}
                for name, allowed in box.items()
            ]
            result = self._and(result, [b for b in outside if not b[next(iter(b))].empty])
            if not result:
                break
        return result

    def _and(
        self, left: list[dict[str, IntervalSet]], right: list[dict[str, IntervalSet]]
    ) -> list[dict[str, IntervalSet]]:
        result = []
        for a in left:
            for b in right:
                merged = intersect_boxes(a, b)
                if merged is not None:
                    result.append(merged)
        _check_size(result)
        return result

    def _test(self, test: Test) -> list[dict[str, IntervalSet]]:
        spec = self.inputs.get(test.input)
        if spec is None:
            return [{}]
        operator, operand = test.operator, test.operand
        if operator == "present":
            return [{}]  # complete patients: every input is present
        if operator == "absent":
            return []
        if spec.type == "morphology":
            ranges = [morphology_pattern(pattern) for pattern in operand]
            boxes = []
            for item in ranges:
                box = {test.input + "#code": IntervalSet.of([(item.low, item.high)])}
                if item.behaviour is not None:
                    box[test.input + "#behaviour"] = IntervalSet.of(
                        [(item.behaviour, item.behaviour)]
                    )
                boxes.append(box)
            return boxes
        dimension = self.dimensions[test.input]
        allowed = self._allowed(dimension, operator, operand)
        allowed = allowed.intersect(IntervalSet.of([dimension.domain]))
        return [] if allowed.empty else [{test.input: allowed}]

    def _allowed(self, dimension: Dimension, operator: str, operand: Any) -> IntervalSet:
        low, high = dimension.domain
        if operator == "icd10_in":
            return IntervalSet.of(icd10_pattern(pattern) for pattern in operand)
        if operator in ("eq", "ne", "in"):
            points = [self._point(dimension, value) for value in _listed(operand, operator)]
            exact = IntervalSet.of((p, p) for p in points if p is not None)
            return exact.complement(dimension.domain) if operator == "ne" else exact
        if operator == "between":
            lo, hi = (self._scaled(dimension, value) for value in operand)
            return IntervalSet.of([(math.ceil(lo), math.floor(hi))])
        bound = self._scaled(dimension, operand)
        if operator == "lt":
            return IntervalSet.of([(low, math.ceil(bound) - 1)])
        if operator == "lte":
            return IntervalSet.of([(low, math.floor(bound))])
        if operator == "gt":
            return IntervalSet.of([(math.floor(bound) + 1, high)])
        return IntervalSet.of([(math.ceil(bound), high)])  # gte

    def _scaled(self, dimension: Dimension, value: Any) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Fraction(dimension.low - 1)  # type errors are reported by T001
        precision = dimension.spec.precision if dimension.spec.type == "number" else 0
        return to_fixed(value, precision)

    def _point(self, dimension: Dimension, value: Any) -> int | None:
        spec = dimension.spec
        if spec.type == "boolean":
            return int(value) if isinstance(value, bool) else None
        if spec.type == "enum":
            return spec.values.index(value) if value in spec.values else None
        if dimension.labels:
            return dimension.labels.index(value) if value in dimension.labels else None
        scaled = self._scaled(dimension, value)
        return int(scaled) if scaled.denominator == 1 else None

    # -- back to a patient --------------------------------------------------------------

    def value_of(self, dimension: Dimension, point: int) -> Any:
        spec = dimension.spec
        if spec.type == "number":
            return from_fixed(point, spec.precision)
        if spec.type == "integer":
            return point
        if spec.type == "boolean":
            return bool(point)
        if spec.type == "enum":
            return spec.values[point]
        if spec.type == "icd10":
            return icd10_code(point)
        if dimension.labels:
            label = dimension.labels[point]
            return label if label else "(any other value)"
        return point

    def patient_of(self, point: Mapping[str, int]) -> dict[str, Any]:
        """A patient snippet (shaped like the patient state) from a point of the space."""
        patient: dict[str, Any] = {}
        morphology: dict[str, dict[str, int]] = {}
        for name, dimension in sorted(self.dimensions.items()):
            value = point.get(name, dimension.low)
            spec = dimension.spec
            if spec.type == "morphology":
                morphology.setdefault(spec.name, {})[name.rsplit("#", 1)[1]] = value
                continue
            _place(patient, spec, self.value_of(dimension, value))
        for name, parts in morphology.items():
            code = f"{parts.get('code', 8000):04d}/{parts.get('behaviour', 3)}"
            _place(patient, self.inputs[name], code)
        return patient


def _listed(operand: Any, operator: str) -> list[Any]:
    return list(operand) if operator == "in" else [operand]


def _check_size(boxes: list[dict[str, IntervalSet]]) -> None:
    if len(boxes) > MAX_BOXES:
        raise TooComplex


def _place(patient: dict[str, Any], spec: InputSpec, value: Any) -> None:
    if spec.name in ("icd10", "icdo3_morphology", "icdo3_topography"):
        patient.setdefault("diagnosis", {})[spec.name] = value
    elif spec.builtin:
        patient[spec.name] = value
    else:
        patient.setdefault(spec.group, {})[spec.name] = value


def icd10_code(key: int) -> str:
    """The ICD-10 code string of an ordered key (inverse of :func:`icd10_key`)."""
    letter_index, rest = divmod(key, 100 * 200)
    digits, sub = divmod(rest, 200)
    code = f"{chr(ord('A') + letter_index)}{digits:02d}"
    if sub:
        first, second = divmod(sub, 11)
        code += f".{first - 1}" + (f"{second - 1}" if second else "")
    return code


def intersect_boxes(
    a: Mapping[str, IntervalSet], b: Mapping[str, IntervalSet]
) -> dict[str, IntervalSet] | None:
    merged = dict(a)
    for name, allowed in b.items():
        if name in merged:
            both = merged[name].intersect(allowed)
            if both.empty:
                return None
            merged[name] = both
        else:
            merged[name] = allowed
    return merged


def find_uncovered(
    boxes: Sequence[Mapping[str, IntervalSet]],
    dimensions: Sequence[Dimension],
    within: Mapping[str, IntervalSet] | None = None,
) -> dict[str, int] | None:
    """A point covered by no box, or None when the boxes cover it all.

    With ``within``, only points inside that box are considered.
    """
    region = within or {}
    if not dimensions:
        return None if boxes else {}
    first, rest = dimensions[0], dimensions[1:]
    inside = region.get(first.name)
    if not boxes:  # nothing covers this part of the space: any point of the region will do
        return {d.name: region[d.name].parts[0][0] for d in dimensions if d.name in region}
    # Sweep the first dimension: events where some box's allowed set starts or stops.
    events: dict[int, list[tuple[int, int]]] = {first.low: [], first.high + 1: []}
    for low, high in inside.parts if inside is not None else ():
        events.setdefault(low, [])
        events.setdefault(high + 1, [])
    for index, box in enumerate(boxes):
        allowed = box.get(first.name)
        parts = allowed.parts if allowed is not None else (first.domain,)
        for low, high in parts:
            low, high = max(low, first.low), min(high, first.high)
            if low <= high:
                events.setdefault(low, []).append((1, index))
                events.setdefault(high + 1, []).append((-1, index))
    active: set[int] = set()
    seen: set[frozenset[int]] = set()
    edges = sorted(events)
    for start, _stop in itertools.pairwise(edges):
        for change, index in events[start]:
            if change > 0:
                active.add(index)
            else:
                active.discard(index)
        if start > first.high:
            break
        if inside is not None and not inside.contains(start):
            continue
        key = frozenset(active)
        if key in seen:
            continue  # the same boxes cover this segment: already explored
        seen.add(key)
        below = find_uncovered([boxes[i] for i in sorted(active)], rest, region)
        if below is not None:
            return {first.name: start, **below}
    return None


def find_overlap(
    left: Sequence[Mapping[str, IntervalSet]], right: Sequence[Mapping[str, IntervalSet]]
) -> dict[str, IntervalSet] | None:
    """A box where both unions hold, or None."""
    for a in left:
        for b in right:
            both = intersect_boxes(a, b)
            if both is not None:
                return both
    return None


def point_in(box: Mapping[str, IntervalSet], dimensions: Mapping[str, Dimension]) -> dict[str, int]:
    """One point of a (non-empty) box; unconstrained dimensions take their lowest value."""
    point = {name: dimension.low for name, dimension in dimensions.items()}
    for name, allowed in box.items():
        point[name] = allowed.parts[0][0]
    return point
