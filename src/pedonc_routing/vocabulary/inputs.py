"""The vocabulary as the engine sees it: every input's type, unit, range and precision.

:class:`FactSchema` is built once per bundle from the vocabulary files plus the built-in
inputs (age, sex, region, diagnosis codes). Numbers are fixed-point: a value of an input
with ``precision`` 2 is compared in hundredths. :func:`to_fixed` and :func:`from_fixed` are
the one conversion between a number and its fixed-point integer that the evaluators, the
guard analysis and the test generators share, so they can never disagree about a boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import cache
from typing import Literal

import pycountry

from pedonc_routing.model.documents import LocalizedText, Vocabulary

InputType = Literal["number", "integer", "boolean", "enum", "icd10", "morphology", "text"]
FactValue = bool | int | float | str

MAX_AGE_YEARS = 100


@dataclass(frozen=True, slots=True)
class InputSpec:
    """What the engine needs to know about one input."""

    name: str
    type: InputType
    precision: int = 0
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    unit: str | None = None
    group: str = "patient"
    builtin: bool = False
    terms: tuple[tuple[str, float], ...] = ()  # derived inputs: (input, factor) to sum
    description: LocalizedText | None = None  # for people (the family guide), never routing


BUILTIN_INPUTS: dict[str, InputSpec] = {
    "age_years": InputSpec("age_years", "integer", 0, 0, MAX_AGE_YEARS, builtin=True),
    "age_months": InputSpec("age_months", "integer", 0, 0, MAX_AGE_YEARS * 12, builtin=True),
    "sex": InputSpec("sex", "enum", values=("F", "M"), builtin=True),
    "home_region": InputSpec("home_region", "text", builtin=True),
    "icd10": InputSpec("icd10", "icd10", builtin=True),
    "icdo3_morphology": InputSpec("icdo3_morphology", "morphology", builtin=True),
    "icdo3_topography": InputSpec("icdo3_topography", "text", builtin=True),
}


@cache
def kz_region_codes() -> frozenset[str]:
    """ISO 3166-2:KZ subdivision codes, from pycountry."""
    subdivisions = pycountry.subdivisions.get(country_code="KZ")  # type: ignore[no-untyped-call]
    return frozenset(str(sub.code) for sub in subdivisions)


def quantize(value: float, precision: int) -> float:
    """Round half-even to ``precision`` decimals, exactly (via the shortest decimal repr)."""
    value = float(value)
    if value.is_integer() or round(value, precision) == value:
        return value  # already at the precision: the common case, without Decimal
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-precision), ROUND_HALF_EVEN)
    return float(exact)


def to_fixed(value: float | int, precision: int) -> Fraction:
    """``value`` in units of ``10**-precision``, exactly (an integer when it is on the grid).

    A float is read through its shortest repr, so ``0.1`` with precision 2 is exactly 10."""
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(int(value))
    return exact * Fraction(10) ** precision


def from_fixed(point: int, precision: int) -> float:
    """The number a fixed-point integer stands for: ``from_fixed(to_fixed(x, p), p) == x``
    for every ``x`` already at precision ``p``."""
    return float(Fraction(point, 10**precision))


class FactSchema:
    """Every input of a bundle: the built-ins plus the vocabulary's."""

    def __init__(self, vocabularies: Sequence[Vocabulary]) -> None:
        specs = dict(BUILTIN_INPUTS)
        for vocabulary in vocabularies:
            for name, item in vocabulary.inputs.items():
                if name in specs:
                    continue  # a repeated name is reported by validation (R009)
                low, high = item.range if item.range is not None else (None, None)
                specs[name] = InputSpec(
                    name=name,
                    type=item.type,
                    precision=item.precision if item.type == "number" else 0,
                    low=low,
                    high=high,
                    values=tuple(item.values or ()),
                    unit=item.unit,
                    group=item.group,
                    terms=tuple((term.input, term.factor) for term in item.formula.sum)
                    if item.formula is not None
                    else (),
                    description=item.description,
                )
        self.inputs: dict[str, InputSpec] = specs
        self._derived = tuple(spec for spec in specs.values() if spec.terms)
        self._groups = {
            group: frozenset(name for name, spec in specs.items() if spec.group == group)
            for group in ("observations", "exposures")
        }

    @property
    def derived(self) -> tuple[InputSpec, ...]:
        """Inputs computed from others (``formula``), in vocabulary order."""
        return self._derived

    def names_in(self, group: str) -> frozenset[str]:
        """The input names a patient may give under ``observations`` or ``exposures``."""
        return self._groups.get(group, frozenset())

    def base_inputs(self, name: str) -> tuple[str, ...]:
        """The inputs a patient provides for ``name``: its terms when it is derived."""
        spec = self.inputs.get(name)
        return tuple(term for term, _ in spec.terms) if spec and spec.terms else (name,)
