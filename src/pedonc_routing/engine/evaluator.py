"""What the walker asks of an engine: the truth of each guard of a table, three-valued."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from pedonc_routing.compiler.guards import GuardTable
from pedonc_routing.vocabulary.inputs import FactValue

#: A guard's truth on the facts given: ``None`` is *unknown* (it reads an input the child lacks).
Truth = bool | None


class GuardEvaluator(Protocol):
    """What the walker needs from an engine."""

    name: str

    def prepare(self, table: GuardTable) -> None: ...

    def evaluate(
        self, table: GuardTable, facts: Mapping[str, FactValue]
    ) -> Callable[[str], Truth]: ...
