"""Stage 4, the engine: evaluates guards on a child's facts and walks the pathway graph.

Two evaluators of the same guards: :class:`~.durable.DurableEvaluator` (durable-rules, the
default where it imports) and :class:`~.reference.ReferenceEvaluator` (pure Python, the
differential oracle). Only :mod:`.durable` imports durable-rules; nothing here imports the
loader.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

from pedonc_routing.compiler.guards import GuardTable
from pedonc_routing.engine.reference import ReferenceEvaluator, Truth
from pedonc_routing.errors import EngineError
from pedonc_routing.vocabulary.inputs import FactValue, InputSpec

EngineName = Literal["durable", "reference"]


class GuardEvaluator(Protocol):
    """What the walker needs from an engine."""

    name: str

    def prepare(self, table: GuardTable) -> None: ...

    def evaluate(
        self, table: GuardTable, facts: Mapping[str, FactValue]
    ) -> Callable[[str], Truth]: ...


def durable_available() -> bool:
    try:
        import durable_rules_engine  # noqa: F401
    except ImportError:
        return False
    return True


def make_evaluator(engine: EngineName | None, inputs: Mapping[str, InputSpec]) -> GuardEvaluator:
    """The evaluator asked for; ``None`` picks durable-rules where it imports."""
    if engine == "reference":
        return ReferenceEvaluator()
    if durable_available():
        from pedonc_routing.engine.durable import DurableEvaluator

        return DurableEvaluator(inputs)
    if engine == "durable":
        raise EngineError(
            "engine='durable' needs durable-rules, which does not import here "
            "(it supports Python < 3.13); use engine='reference'"
        )
    warnings.warn(
        "durable-rules is not importable on this Python; using the reference evaluator",
        RuntimeWarning,
        stacklevel=3,
    )
    return ReferenceEvaluator()


__all__ = ["EngineName", "GuardEvaluator", "Truth", "durable_available", "make_evaluator"]
