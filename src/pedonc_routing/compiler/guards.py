"""Guards: every condition of a protocol, with a stable key, gathered into one table.

A :class:`GuardTable` is the unit an engine evaluates in one go: for a protocol, the guards of
all its transitions and follow-ups plus every override that can interrupt it; for the bundle,
the ``applies_to`` guards that select a protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pedonc_routing.model.conditions import Condition, inputs_of


@dataclass(frozen=True, slots=True)
class Guard:
    """One condition to evaluate, under a key unique within its table.

    Keys: ``t:STEP:N`` (transition N of STEP), ``f:STEP:N`` (follow-up), ``o:PROTOCOL:ID``
    (override), ``a:PROTOCOL`` (applies_to).
    """

    key: str
    condition: Condition
    inputs: frozenset[str]

    @classmethod
    def of(cls, key: str, condition: Condition) -> Guard:
        return cls(key, condition, inputs_of(condition))


@dataclass(frozen=True)
class GuardTable:
    """The guards an engine evaluates together; ``name`` is unique per bundle content."""

    name: str
    guards: tuple[Guard, ...]

    @cached_property
    def by_key(self) -> dict[str, Guard]:
        return {guard.key: guard for guard in self.guards}

    @cached_property
    def inputs(self) -> frozenset[str]:
        names: set[str] = set()
        for guard in self.guards:
            names |= guard.inputs
        return frozenset(names)


def transition_key(step: str, index: int) -> str:
    return f"t:{step}:{index}"


def follow_up_key(step: str, index: int) -> str:
    return f"f:{step}:{index}"


def override_key(protocol: str, override: str) -> str:
    return f"o:{protocol}:{override}"


def applies_key(protocol: str) -> str:
    return f"a:{protocol}"
