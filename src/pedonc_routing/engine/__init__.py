"""Stage 4, the engine: evaluates guards on a child's facts and walks the pathway graph.

Two evaluators of the same guards: :class:`~.durable.DurableEvaluator` (durable-rules, the
default where it imports) and :class:`~.reference.ReferenceEvaluator` (pure Python, the
differential oracle), both answering :class:`~.evaluator.GuardEvaluator`. Only the
:mod:`.durable` package imports durable-rules (its :mod:`.durable.session` module); nothing
here imports the loader.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal

from pedonc_routing.engine.evaluator import GuardEvaluator, Truth
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.errors import EngineError
from pedonc_routing.vocabulary.inputs import InputSpec

EngineName = Literal["durable", "reference"]


def durable_available() -> bool:
    """Whether durable-rules imports here (it builds on Python 3.13 but fails at import)."""
    try:
        # The durable package's session module is the one place that imports the C module.
        import pedonc_routing.engine.durable.session  # noqa: F401
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
