"""Protocols -> :class:`PathwayGraph`: a typed wrapper over ``networkx.MultiDiGraph``.

Nodes are step ids (and ``PROTOCOL:STEP`` for steps of other protocols); edges are
transitions, keyed by transition id, carrying guard key, priority, file order and source
span. The walker reads the pre-sorted transitions of each step; the validator reads the graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from pedonc_routing.compiler.guards import (
    Guard,
    follow_up_key,
    override_key,
    transition_key,
)
from pedonc_routing.model.conditions import Condition
from pedonc_routing.model.documents import FollowUp, Override, Protocol, Step
from pedonc_routing.source import SourceMap

OTHERWISE = "otherwise"
#: A transition target that resumes the pathway an override interrupted
#: (``position.return_to`` of the patient state).
RETURN = "return"
RETURN_NODE = "<return>"


@dataclass(frozen=True, slots=True)
class CompiledTransition:
    """One edge of the pathway. ``guard_key`` is None for an ``otherwise``."""

    id: str
    from_step: str
    to_protocol: str
    to_step: str
    priority: int
    order: int
    guard_key: str | None
    condition: Condition | None
    because: str
    source_id: str | None
    span: str  # file:line


@dataclass(frozen=True, slots=True)
class CompiledFollowUp:
    model: FollowUp
    guard_key: str | None
    span: str


@dataclass(frozen=True, slots=True)
class CompiledStep:
    id: str
    model: Step
    transitions: tuple[CompiledTransition, ...]  # sorted: priority desc, then file order
    otherwise: CompiledTransition | None
    follow_ups: tuple[CompiledFollowUp, ...]
    span: str

    @property
    def is_end(self) -> bool:
        """No way onward: the pathway ends here."""
        return not self.transitions and self.otherwise is None


@dataclass(frozen=True, slots=True)
class CompiledOverride:
    id: str
    protocol: str
    to_step: str
    priority: int
    order: int
    guard_key: str
    condition: Condition
    during: frozenset[str] | None
    because: str
    source_id: str | None
    span: str


def split_target(target: str, protocol_id: str) -> tuple[str, str]:
    """``STEP`` or ``PROTOCOL:STEP`` -> (protocol, step); ``return`` -> ("", "return")."""
    if target == RETURN:
        return "", RETURN
    protocol, colon, step = target.partition(":")
    return (protocol, step) if colon else (protocol_id, target)


class PathwayGraph:
    """The steps and transitions of one protocol as a networkx multigraph."""

    def __init__(self, protocol: Protocol, source_map: SourceMap) -> None:
        self.protocol_id = protocol.id
        self.entry = protocol.entry
        self.graph: Any = nx.MultiDiGraph()
        self.steps: dict[str, CompiledStep] = {}
        self.guards: list[Guard] = []
        for step_id, step in protocol.steps.items():
            path = ("steps", step_id)
            self.graph.add_node(step_id, kind=step.kind, passthrough=step.passthrough)
            transitions: list[CompiledTransition] = []
            for order, transition in enumerate(step.next):
                key = transition_key(step_id, order)
                self.guards.append(Guard.of(key, transition.when))
                to_protocol, to_step = split_target(transition.to, protocol.id)
                transitions.append(
                    CompiledTransition(
                        id=transition.id,
                        from_step=step_id,
                        to_protocol=to_protocol,
                        to_step=to_step,
                        priority=transition.priority,
                        order=order,
                        guard_key=key,
                        condition=transition.when,
                        because=transition.because,
                        source_id=transition.source,
                        span=source_map.span((*path, "next", order)).short,
                    )
                )
            otherwise = None
            if step.otherwise is not None:
                to_protocol, to_step = split_target(step.otherwise.to, protocol.id)
                otherwise = CompiledTransition(
                    id=OTHERWISE,
                    from_step=step_id,
                    to_protocol=to_protocol,
                    to_step=to_step,
                    priority=-(2**31),
                    order=len(step.next),
                    guard_key=None,
                    condition=None,
                    because=step.otherwise.because,
                    source_id=step.otherwise.source,
                    span=source_map.span((*path, "otherwise")).short,
                )
            for edge in [*transitions, *([otherwise] if otherwise else [])]:
                target = self.node_of(edge.to_protocol, edge.to_step)
                if target not in self.graph:
                    self.graph.add_node(target, external=edge.to_protocol != protocol.id)
                self.graph.add_edge(
                    step_id,
                    target,
                    key=edge.id,
                    priority=edge.priority,
                    order=edge.order,
                    guard=edge.guard_key,
                    span=edge.span,
                )
            follow_ups = []
            for index, follow_up in enumerate(step.follow_ups):
                follow_key = None
                if follow_up.when is not None:
                    follow_key = follow_up_key(step_id, index)
                    self.guards.append(Guard.of(follow_key, follow_up.when))
                follow_ups.append(
                    CompiledFollowUp(
                        follow_up, follow_key, source_map.span((*path, "follow_ups", index)).short
                    )
                )
            self.steps[step_id] = CompiledStep(
                id=step_id,
                model=step,
                transitions=tuple(sorted(transitions, key=lambda t: (-t.priority, t.order))),
                otherwise=otherwise,
                follow_ups=tuple(follow_ups),
                span=source_map.key_span(path).short,
            )
        self.overrides = tuple(
            _compile_override(protocol.id, order, override, source_map)
            for order, override in enumerate(protocol.overrides)
        )

    def node_of(self, protocol_id: str, step_id: str) -> str:
        if not protocol_id:
            return RETURN_NODE
        return step_id if protocol_id == self.protocol_id else f"{protocol_id}:{step_id}"

    def unreachable(self) -> list[str]:
        """Steps of this protocol that no path from the entry, or from an override's
        target step (an entry point of an interrupt), reaches."""
        if self.entry not in self.graph:
            return []
        roots = {self.entry} | {o.to_step for o in self.overrides if o.to_step in self.graph}
        reached = set(roots).union(*(nx.descendants(self.graph, root) for root in roots))
        return [step for step in self.steps if step not in reached]

    def edges(self) -> Iterator[tuple[str, str, str]]:
        """(from, to, transition id) for every edge."""
        yield from self.graph.edges(keys=True)


def _compile_override(
    protocol_id: str, order: int, override: Override, source_map: SourceMap
) -> CompiledOverride:
    return CompiledOverride(
        id=override.id,
        protocol=protocol_id,
        to_step=override.to,
        priority=override.priority,
        order=order,
        guard_key=override_key(protocol_id, override.id),
        condition=override.when,
        during=frozenset(override.during) if override.during is not None else None,
        because=override.because,
        source_id=override.source,
        span=source_map.span(("overrides", order)).short,
    )
