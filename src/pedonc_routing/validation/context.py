"""What every check reads, built once per validation: :class:`CheckContext` and :class:`Gate`.

The fact schema, the pathway graph of each protocol, the facility network and the other
derived views are built on first use and shared by every check that reads them (and by
the narrowed context a gated check gets: see :meth:`CheckContext.narrowed`).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from pedonc_routing.compiler.pathway import PathwayGraph
from pedonc_routing.loader.documents import DocumentSet, Sourced
from pedonc_routing.model.conditions import Condition
from pedonc_routing.model.documents import CareCatalogue, Protocol
from pedonc_routing.routing.network import FacilityNetwork
from pedonc_routing.source import LogicalPath, SourceSpan
from pedonc_routing.vocabulary.inputs import FactSchema, kz_region_codes


class Gate(enum.Enum):
    """When a check runs, given the errors the checks before it in the registry found."""

    #: On every document, whatever was found before.
    ALWAYS = "always"
    #: On each protocol whose file has no error from the checks before it.
    CLEAN_PROTOCOL = "on each protocol whose file has no error so far"
    #: Only when the checks before it found no error at all.
    CLEAN_SO_FAR = "only when the checks before it found no error"


@dataclass(frozen=True)
class DuplicateProtocol:
    """A protocol whose id an earlier protocol already has (``R009``); checks skip it."""

    sourced: Sourced[Protocol]
    first: Sourced[Protocol]


class _Derived:
    """The views built on first use, shared by a context and its narrowed copies."""

    def __init__(self, documents: DocumentSet) -> None:
        self.documents = documents
        self.pathways: dict[str, PathwayGraph | None] = {}

    @cached_property
    def schema(self) -> FactSchema:
        return FactSchema([sourced.model for sourced in self.documents.vocabularies])

    @cached_property
    def network(self) -> FacilityNetwork:
        facilities = [
            (facility, "")
            for sourced in self.documents.registries
            for facility in sourced.model.facilities
        ]
        # Which facilities can provide a step needs neither catchments nor links.
        return FacilityNetwork(facilities, [], [])


@dataclass(frozen=True)
class CheckContext:
    """The documents of one validation and the views the checks share.

    Attributes:
        documents: every modelled document (files that failed to read are not in it).
        protocols: the protocols to check, in file order, one per id (the first wins);
            a gated check may get fewer (see :meth:`narrowed`).
        duplicates: the protocols left out because their id repeats.
        steps_of: the step ids of every (first) protocol of the bundle, by protocol id.
    """

    documents: DocumentSet
    protocols: tuple[Sourced[Protocol], ...]
    duplicates: tuple[DuplicateProtocol, ...]
    steps_of: Mapping[str, frozenset[str]]
    _derived: _Derived = field(repr=False, compare=False)

    @classmethod
    def of(cls, documents: DocumentSet) -> CheckContext:
        first: dict[str, Sourced[Protocol]] = {}
        duplicates: list[DuplicateProtocol] = []
        for sourced in documents.protocols:
            if sourced.model.id in first:
                duplicates.append(DuplicateProtocol(sourced, first[sourced.model.id]))
            else:
                first[sourced.model.id] = sourced
        steps_of = {pid: frozenset(sourced.model.steps) for pid, sourced in first.items()}
        return cls(
            documents, tuple(first.values()), tuple(duplicates), steps_of, _Derived(documents)
        )

    def narrowed(self, protocols: tuple[Sourced[Protocol], ...]) -> CheckContext:
        """The same context (and the same built views) over fewer protocols."""
        return dataclasses.replace(self, protocols=protocols)

    @property
    def schema(self) -> FactSchema:
        """Every input: the built-ins plus the vocabularies' (the first definition wins)."""
        return self._derived.schema

    @property
    def care(self) -> CareCatalogue | None:
        """The care catalogue (the first, if there are several: ``S003``)."""
        catalogues = self.documents.care_catalogues
        return catalogues[0].model if catalogues else None

    @property
    def network(self) -> FacilityNetwork:
        """The registry's facilities, to ask which can provide a step."""
        return self._derived.network

    @property
    def regions(self) -> frozenset[str]:
        """The ISO 3166-2:KZ region codes."""
        return kz_region_codes()

    def formula_terms(self) -> Iterator[tuple[str, SourceSpan]]:
        """The input each term of each vocabulary formula names, and where."""
        for sourced in self.documents.vocabularies:
            for name, item in sourced.model.inputs.items():
                for index, term in enumerate(item.formula.sum if item.formula else ()):
                    path = ("inputs", name, "formula", "sum", index, "input")
                    yield term.input, sourced.source_map.span(path)

    def pathway(self, sourced: Sourced[Protocol]) -> PathwayGraph | None:
        """The protocol's pathway graph, or None when its entry is not a step (``R001``)."""
        protocol = sourced.model
        pathways = self._derived.pathways
        if protocol.id not in pathways:
            pathways[protocol.id] = (
                PathwayGraph(protocol, sourced.source_map)
                if protocol.entry in protocol.steps
                else None
            )
        return pathways[protocol.id]


def conditions_of(protocol: Protocol) -> Iterator[tuple[Condition, LogicalPath]]:
    """Every condition of a protocol (applies_to, transitions, follow-ups, overrides)."""
    if protocol.applies_to is not None:
        yield protocol.applies_to, ("applies_to",)
    for step_id, step in protocol.steps.items():
        for index, transition in enumerate(step.next):
            yield transition.when, ("steps", step_id, "next", index, "when")
        for index, follow_up in enumerate(step.follow_ups):
            if follow_up.when is not None:
                yield follow_up.when, ("steps", step_id, "follow_ups", index, "when")
    for index, override in enumerate(protocol.overrides):
        yield override.when, ("overrides", index, "when")
