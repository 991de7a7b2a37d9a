"""The condition language: guards as data (all/any/not and input tests), never code.

A condition is one of :class:`AllOf`, :class:`AnyOf`, :class:`Not` or :class:`Test`. YAML picks
the form by its keys (``all``, ``any``, ``not``, or ``input``), see :data:`Condition`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    model_validator,
)

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
Number = StrictInt | StrictFloat

#: Operators of a :class:`Test`, in the order they are documented.
OPERATORS: tuple[str, ...] = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "between",
    "present",
    "absent",
    "icd10_in",
    "morphology_in",
)
NUMERIC_OPERATORS = frozenset({"lt", "lte", "gt", "gte", "between"})

#: Tags pydantic inserts into error locations for the condition union; stripped when mapping
#: an error back to its YAML position.
CONDITION_TAGS = frozenset({"cond:all", "cond:any", "cond:not", "cond:test"})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllOf(_Frozen):
    """Every condition holds."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_Frozen):
    """At least one condition holds."""

    any: list[Condition] = Field(min_length=1)


class Not(_Frozen):
    """The condition does not hold."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    negated: Condition = Field(alias="not")


class Test(_Frozen):
    """A test of one input with exactly one operator, e.g. ``{input: wbc_10e9_l, lt: 50}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    input: StrictStr
    eq: Scalar | None = None
    ne: Scalar | None = None
    lt: Number | None = None
    lte: Number | None = None
    gt: Number | None = None
    gte: Number | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    between: tuple[Number, Number] | None = None
    present: Literal[True] | None = None
    absent: Literal[True] | None = None
    icd10_in: list[StrictStr] | None = Field(default=None, min_length=1)
    morphology_in: list[StrictStr] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Test:
        used = [name for name in OPERATORS if self.operand_of(name) is not None]
        if len(used) != 1:
            found = ", ".join(used) if used else "none"
            raise ValueError(
                f"a test needs exactly one operator of {', '.join(OPERATORS)} (found: {found})"
            )
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between: [LO, HI] needs LO <= HI")
        return self

    def operand_of(self, name: str) -> Any:
        return getattr(self, "in_" if name == "in" else name)

    @property
    def operator(self) -> str:
        for name in OPERATORS:
            if self.operand_of(name) is not None:
                return name
        raise AssertionError("validated Test has an operator")  # pragma: no cover

    @property
    def operand(self) -> Any:
        return self.operand_of(self.operator)


def _condition_form(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {AllOf: "cond:all", AnyOf: "cond:any", Not: "cond:not", Test: "cond:test"}.get(
            type(value)
        )
    if not isinstance(value, dict):
        return None
    for key, tag in (("all", "cond:all"), ("any", "cond:any"), ("not", "cond:not")):
        if key in value:
            return tag
    return "cond:test" if "input" in value else None


Condition = Annotated[
    Annotated[AllOf, Tag("cond:all")]
    | Annotated[AnyOf, Tag("cond:any")]
    | Annotated[Not, Tag("cond:not")]
    | Annotated[Test, Tag("cond:test")],
    Discriminator(
        _condition_form,
        custom_error_type="condition_form",
        custom_error_message="a condition needs one of the keys all, any, not or input",
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def iter_tests(condition: Condition) -> Iterator[Test]:
    """Every :class:`Test` in a condition, depth first, in file order."""
    if isinstance(condition, Test):
        yield condition
    elif isinstance(condition, AllOf):
        for part in condition.all:
            yield from iter_tests(part)
    elif isinstance(condition, AnyOf):
        for part in condition.any:
            yield from iter_tests(part)
    else:
        yield from iter_tests(condition.negated)


def iter_tests_with_paths(
    condition: Condition, path: tuple[str | int, ...]
) -> Iterator[tuple[Test, tuple[str | int, ...]]]:
    """Every :class:`Test` with its logical path inside the YAML document."""
    if isinstance(condition, Test):
        yield condition, path
    elif isinstance(condition, AllOf):
        for index, part in enumerate(condition.all):
            yield from iter_tests_with_paths(part, (*path, "all", index))
    elif isinstance(condition, AnyOf):
        for index, part in enumerate(condition.any):
            yield from iter_tests_with_paths(part, (*path, "any", index))
    else:
        yield from iter_tests_with_paths(condition.negated, (*path, "not"))


def inputs_of(condition: Condition) -> frozenset[str]:
    """The input names a condition reads."""
    return frozenset(test.input for test in iter_tests(condition))
