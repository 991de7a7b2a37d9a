"""Stage 3, compiling: validated documents -> pathway graphs, facility network, guard tables.

The result, :class:`CompiledBundle`, is immutable and shared by every routing call: nothing
on the routing path re-validates models or copies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pedonc_routing.compiler.guards import Guard, GuardTable, applies_key
from pedonc_routing.compiler.pathway import CompiledOverride, PathwayGraph
from pedonc_routing.compiler.selection import SelectionIndex
from pedonc_routing.loader.documents import DocumentSet
from pedonc_routing.model.documents import CareCatalogue, Protocol, Source
from pedonc_routing.routing.network import FacilityNetwork, Need
from pedonc_routing.vocabulary.inputs import FactSchema


@dataclass(frozen=True)
class CompiledProtocol:
    model: Protocol
    file: str
    graph: PathwayGraph
    table: GuardTable
    overrides: tuple[CompiledOverride, ...]  # every override that can interrupt this protocol
    sources: Mapping[str, Source]
    needs: Mapping[str, Need]  # step id -> what it needs of a facility
    applies_span: str  # file:line of applies_to


@dataclass(frozen=True)
class CompiledBundle:
    content_hash: str
    protocols: Mapping[str, CompiledProtocol]
    selector: GuardTable
    selection_order: tuple[str, ...]  # protocols with applies_to: priority desc, file order
    selection_index: SelectionIndex | None  # None: every protocol is a candidate
    selector_part_of: Mapping[str, GuardTable]  # applies_to key -> the part evaluating it
    schema: FactSchema
    network: FacilityNetwork
    care: CareCatalogue | None
    steps_by_protocol: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Protocols whose current content carries a governance approval (set at load time).
    approved_protocols: frozenset[str] = frozenset()


#: Protocols per selector part: a code's candidates (neighbours in ICD-10 order) then share
#: one or two parts, while a part stays one durable-rules shard (measured 64-match budget).
SELECTOR_PART_SIZE = 16


def selector_parts(selector: GuardTable, chunks: list[list[str]]) -> tuple[GuardTable, ...]:
    """The selector split into tables of ``chunks`` of protocols (itself when one chunk), so
    choosing a protocol evaluates only the parts holding the code's candidates."""
    if len(chunks) <= 1:
        return (selector,)
    return tuple(
        GuardTable(
            f"{selector.name}:{number}",
            tuple(selector.by_key[applies_key(pid)] for pid in chunk),
        )
        for number, chunk in enumerate(chunks)
    )


def compile_documents(documents: DocumentSet) -> CompiledBundle:
    """Compile documents that passed validation."""
    short_hash = documents.content_hash.removeprefix("sha256:")[:16]
    graphs = {
        sourced.model.id: (sourced, PathwayGraph(sourced.model, sourced.source_map))
        for sourced in documents.protocols
    }
    all_overrides = sorted(
        (override for _, graph in graphs.values() for override in graph.overrides),
        key=lambda o: (-o.priority, o.protocol, o.order),
    )
    protocols: dict[str, CompiledProtocol] = {}
    for protocol_id, (sourced, graph) in graphs.items():
        interrupts = tuple(
            o
            for o in all_overrides
            if o.protocol != protocol_id and (o.during is None or protocol_id in o.during)
        )
        guards = [*graph.guards, *(Guard.of(o.guard_key, o.condition) for o in interrupts)]
        protocols[protocol_id] = CompiledProtocol(
            model=sourced.model,
            file=sourced.file,
            graph=graph,
            table=GuardTable(f"{short_hash}:{protocol_id}", tuple(guards)),
            overrides=interrupts,
            sources={source.id: source for source in sourced.model.sources},
            needs={step_id: Need.of(step.model) for step_id, step in graph.steps.items()},
            applies_span=sourced.source_map.key_span(("applies_to",)).short,
        )
    selection = sorted(
        (s.model for s in documents.protocols if s.model.applies_to is not None),
        key=lambda p: -p.priority,
    )
    applies_to = {p.id: p.applies_to for p in selection if p.applies_to is not None}
    selector = GuardTable(
        f"{short_hash}:applies_to",
        tuple(Guard.of(applies_key(pid), condition) for pid, condition in applies_to.items()),
    )
    index = SelectionIndex.build(applies_to)
    parts = selector_parts(selector, index.chunks(SELECTOR_PART_SIZE))
    facilities = [
        (facility, sourced.source_map.span(("facilities", index)).short)
        for sourced in documents.registries
        for index, facility in enumerate(sourced.model.facilities)
    ]
    catchments = [
        (catchment, sourced.source_map.span(("catchments", index)).short)
        for sourced in documents.catchments
        for index, catchment in enumerate(sourced.model.catchments)
    ]
    links = [
        (link.source_facility, link.to, link.travel_hours)
        for sourced in documents.links
        for link in sourced.model.links
    ]
    care = documents.care_catalogues[0].model if documents.care_catalogues else None
    return CompiledBundle(
        content_hash=documents.content_hash,
        protocols=protocols,
        selector=selector,
        selection_order=tuple(p.id for p in selection),
        selection_index=index,
        selector_part_of={guard.key: part for part in parts for guard in part.guards},
        schema=FactSchema([sourced.model for sourced in documents.vocabularies]),
        network=FacilityNetwork(
            facilities,
            catchments,
            links,
            {
                urgency: list(strategies)
                for urgency, strategies in documents.routing_rules[0].model.order.items()
            }
            if documents.routing_rules
            else None,
        ),
        care=care,
        steps_by_protocol={pid: frozenset(p.graph.steps) for pid, p in protocols.items()},
    )
