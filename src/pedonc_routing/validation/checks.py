"""Stage 2, validation: the registry of the cross-file checks, and the loop that runs them.

Each check is a module (like a yamllint rule) with

- ``CODES``: the codes it documents, one ``### CODE severity: title`` section each in its
  docstring (meaning, a FAIL example with the validator's real output, and the fix),
  rendered into docs/checks.md by :mod:`.checks_doc`;
- ``ALSO_REPORTS`` (rare): codes documented by another check that it reports for its own
  documents;
- ``GATE``: when it runs, given the errors the checks before it found (:class:`.Gate`);
- ``check(context)``: yields its issues from the shared :class:`.CheckContext`.

:data:`CHECKS` runs in order:

=========================  ==========================================================
:mod:`.shape`              ``S003`` which documents a bundle has
:mod:`.references`         ``R001``-``R004``, ``R007``-``R009`` names that must exist
:mod:`.guard_types`        ``T001``-``T006`` operators and constants fit each input
:mod:`.hygiene`            ``C001``-``C003`` sources, languages, review
:mod:`.approvals`          ``A001``, ``A002`` approvals that no longer match the content
:mod:`.graph`              ``G001``-``G003``, ``G010`` reachability, dead ends, cycles
:mod:`.limits`             ``E001`` what the durable-rules engine can hold
:mod:`.guards`             ``G004``-``G006``, ``G008``, ``G009`` overlaps, gaps, shadows
:mod:`.protocol_overlaps`  ``G007`` two protocols for the same child
:mod:`.facilities`         ``R005``, ``R006``, ``F002`` registry, catchments, links
:mod:`.capable_facilities` ``F001``, ``F003`` every step can be provided, in every region
=========================  ==========================================================

Reading and modelling (``Y001``-``Y008``, ``S001``, ``S002``) happen in
:mod:`pedonc_routing.loader`. No check raises on bad content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import cast

from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import DocumentSet
from pedonc_routing.validation import (
    approvals,
    capable_facilities,
    facilities,
    graph,
    guard_types,
    guards,
    hygiene,
    limits,
    protocol_overlaps,
    references,
    shape,
)
from pedonc_routing.validation.context import CheckContext, Gate

#: Every check, in the order it runs.
CHECKS: tuple[ModuleType, ...] = (
    shape,
    references,
    guard_types,
    hygiene,
    approvals,
    graph,
    limits,
    guards,
    protocol_overlaps,
    facilities,
    capable_facilities,
)

CheckFunction = Callable[[CheckContext], Iterator[Issue]]


def run_checks(documents: DocumentSet) -> Iterator[tuple[ModuleType, Issue]]:
    """Every issue of every check, with the check that reported it, in registry order."""
    context = CheckContext.of(documents)
    error_files: set[str] = set()  # the files the checks so far found an error in
    for module in CHECKS:
        gate: Gate = module.GATE
        if gate is Gate.CLEAN_SO_FAR and error_files:
            continue
        scope = context
        if gate is Gate.CLEAN_PROTOCOL:
            scope = context.narrowed(
                tuple(sourced for sourced in context.protocols if sourced.file not in error_files)
            )
        for issue in cast(CheckFunction, module.check)(scope):
            if issue.severity == "error":
                error_files.add(issue.file)
            yield module, issue


def validate_documents(documents: DocumentSet) -> list[Issue]:
    """Every cross-file issue of a bundle (the per-file ones are already in ``documents``)."""
    return [issue for _, issue in run_checks(documents)]
