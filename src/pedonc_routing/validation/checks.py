"""Stage 2, validation: every cross-file check over the modelled documents, in order.

One module per check, each with its codes and their reference (meaning, a FAIL example with
the validator's real output, and the fix) in its docstring, rendered into docs/checks.md by
:mod:`.checks_doc`:

========================  =============================================================
:mod:`.shape`             ``S003`` which documents a bundle has
:mod:`.references`        ``R001``-``R004``, ``R007``-``R009`` names that must exist
:mod:`.guard_types`       ``T001``-``T006`` operators and constants fit each input
:mod:`.hygiene`           ``C001``-``C003`` sources, languages, review
:mod:`.graph`             ``G001``-``G003``, ``G010`` reachability, dead ends, cycles
:mod:`.limits`            ``E001`` what the durable-rules engine can hold
:mod:`.guards`            ``G004``-``G009`` overlaps, gaps, shadowed and impossible guards
:mod:`.facilities`        ``R005``, ``R006``, ``F002`` registry, catchments, links
:mod:`.coverage`          ``F001``, ``F003`` every step can be provided, in every region
========================  =============================================================

Reading and modelling (``Y001``-``Y008``, ``S001``, ``S002``) happen in
:mod:`pedonc_routing.loader`. No check raises on bad content.
"""

from __future__ import annotations

from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import DocumentSet, Sourced
from pedonc_routing.model.documents import Protocol
from pedonc_routing.validation.capable_facilities import routing_issues
from pedonc_routing.validation.facilities import facility_issues
from pedonc_routing.validation.graph import graph_issues
from pedonc_routing.validation.guard_types import protocol_type_issues
from pedonc_routing.validation.guards import applies_to_issues, step_guard_issues
from pedonc_routing.validation.hygiene import protocol_hygiene_issues
from pedonc_routing.validation.limits import engine_limit_issues
from pedonc_routing.validation.references import (
    protocol_reference_issues,
    vocabulary_issues,
)
from pedonc_routing.validation.shape import bundle_shape_issues
from pedonc_routing.vocabulary.inputs import FactSchema


def _has_errors(issues: list[Issue]) -> bool:
    return any(issue.severity == "error" for issue in issues)


def validate_documents(documents: DocumentSet) -> list[Issue]:
    """Every cross-file issue of a bundle (the per-file ones are already in ``documents``)."""
    issues: list[Issue] = []
    issues.extend(bundle_shape_issues(documents))
    schema = FactSchema([sourced.model for sourced in documents.vocabularies])
    issues.extend(vocabulary_issues(documents))
    care = documents.care_catalogues[0].model if documents.care_catalogues else None
    steps_of: dict[str, frozenset[str]] = {}
    seen: dict[str, Sourced[Protocol]] = {}
    for sourced in documents.protocols:
        protocol = sourced.model
        if protocol.id in seen:
            issues.append(
                Issue.at(
                    sourced.source_map.span(("id",)),
                    "R009",
                    f"protocol id {protocol.id!r} is also defined in {seen[protocol.id].file}",
                )
            )
            continue
        seen[protocol.id] = sourced
        steps_of[protocol.id] = frozenset(protocol.steps)
    override_count = {pid: len(s.model.overrides) for pid, s in seen.items()}
    for sourced in seen.values():
        interrupting = sum(override_count.values()) - override_count[sourced.model.id]
        found = [
            *protocol_reference_issues(sourced, schema, care, steps_of),
            *protocol_type_issues(sourced, schema),
            *protocol_hygiene_issues(sourced),
            *graph_issues(sourced),
            *engine_limit_issues(sourced, interrupting),
        ]
        issues.extend(found)
        # Guard analysis reads inputs and constants: only worth it once those are right.
        if not _has_errors(found):
            issues.extend(step_guard_issues(sourced, schema.inputs))
    if not _has_errors(issues):
        issues.extend(applies_to_issues(list(seen.values()), schema.inputs))
    issues.extend(facility_issues(documents, care))
    if not _has_errors(issues):
        issues.extend(routing_issues(documents, seen))
    return issues
