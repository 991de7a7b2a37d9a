"""The public entry points: :func:`validate`, :func:`load_bundle` and :class:`Bundle`."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pedonc_routing.compiler.compiled import CompiledBundle, compile_documents
from pedonc_routing.decision.builder import decide
from pedonc_routing.decision.model import Decision
from pedonc_routing.engine import EngineName, GuardEvaluator, make_evaluator
from pedonc_routing.errors import (
    ApprovalRequired,
    PatientDataError,
    UnknownLanguageError,
    UnknownProtocolError,
    ValidationFailed,
)
from pedonc_routing.governance.approvals import ApprovalState, approval_states
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.issues import Issue, ValidationReport
from pedonc_routing.loader.documents import DocumentSet, default_protocols_dir, read_documents
from pedonc_routing.model.documents import LANGUAGES, Language, Protocol
from pedonc_routing.model.patient import PatientState
from pedonc_routing.suggestions import did_you_mean
from pedonc_routing.validation.checks import validate_documents

logger = logging.getLogger("pedonc_routing")

ResultT = TypeVar("ResultT")

PathArg = str | Path | Iterable[str | Path] | None


def _paths(paths: PathArg) -> list[Path]:
    if paths is None:
        return [default_protocols_dir()]
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(path) for path in paths]


def _check(documents: DocumentSet) -> list[Issue]:
    return [*documents.issues, *validate_documents(documents)]


def iter_issues(paths: PathArg = None) -> Iterator[Issue]:
    """Every issue of the bundle at ``paths``, sorted by file and line."""
    yield from validate(paths).issues


def validate(paths: PathArg = None) -> ValidationReport:
    """Validate a bundle (folders and/or files); never raises on bad content."""
    return ValidationReport.of(_check(read_documents(_paths(paths))))


class Bundle:
    """Validated, compiled protocols ready to route children. Thread-safe; immutable.

    Attributes:
        content_hash: ``sha256:...`` of every file's name and bytes.
        engine: ``"durable"`` or ``"reference"``: the evaluator in use.
        report: the validation report (warnings included).
        approvals: each protocol's :class:`~pedonc_routing.governance.ApprovalState`, by id.
    """

    def __init__(
        self,
        compiled: CompiledBundle,
        evaluator: GuardEvaluator,
        report: ValidationReport,
        source: tuple[tuple[Path, ...], EngineName | None] | None = None,
        approvals: Mapping[str, ApprovalState] | None = None,
    ) -> None:
        self._compiled = compiled
        self.approvals: Mapping[str, ApprovalState] = approvals or {}
        self._evaluator = evaluator
        self.report = report
        # Where it was loaded from, so worker processes can load the same bundle.
        self._source = source
        for protocol in compiled.protocols.values():
            evaluator.prepare(protocol.table)
        for part in {part.name: part for part in compiled.selector_part_of.values()}.values():
            evaluator.prepare(part)

    @property
    def content_hash(self) -> str:
        return self._compiled.content_hash

    @property
    def engine(self) -> str:
        return self._evaluator.name

    @property
    def compiled(self) -> CompiledBundle:
        return self._compiled

    @property
    def protocol_ids(self) -> tuple[str, ...]:
        return tuple(self._compiled.protocols)

    def protocol(self, protocol_id: str) -> Protocol:
        """The protocol model; raises :class:`UnknownProtocolError` with a suggestion."""
        try:
            return self._compiled.protocols[protocol_id].model
        except KeyError:
            hint = did_you_mean(protocol_id, self._compiled.protocols)
            raise UnknownProtocolError(protocol_id, hint) from None

    def route(
        self, patient: PatientState | Mapping[str, Any], *, lang: Language = "en"
    ) -> Decision:
        """Decide the next step, facility, specialist and follow-ups for one child.

        Raises :class:`~pedonc_routing.errors.PatientDataError` listing every problem when
        the state is invalid (no partial decision is ever returned).
        """
        check_language(lang)
        facts = read_patient(self._compiled.schema, patient, self._compiled.steps_by_protocol)
        decision = decide(self._compiled, self._evaluator, facts, lang)
        logger.debug(
            "routed: status=%s protocol=%s step=%s",  # no patient identifier, ever
            decision.status,
            decision.protocol.id if decision.protocol else None,
            decision.step.id if decision.step else None,
        )
        return decision

    def route_many(
        self,
        patients: Iterable[PatientState | Mapping[str, Any]],
        *,
        workers: int | None = 1,
        lang: Language = "en",
        chunksize: int = 256,
    ) -> Iterator[Decision | PatientDataError]:
        """Route many children, in order; an invalid state yields its
        :class:`~pedonc_routing.errors.PatientDataError` in its place instead of stopping.

        ``workers`` > 1 (or ``None``: one per core) routes in that many processes, each
        loading the same bundle once: routing is CPU-bound Python, so threads would share one
        core. Results equal sequential routing, in the same order. Workers send each decision
        as JSON and the parent rebuilds it (pickling the model tree cost the parent more than
        the second core gained).
        """
        check_language(lang)
        if workers == 1:
            for patient in patients:
                yield _route_or_error(self, patient, lang)
            return
        for sent in self._in_workers(_route_in_worker, patients, workers, lang, chunksize):
            yield (
                Decision.model_validate_json(sent)
                if isinstance(sent, str)
                else PatientDataError(sent)
            )

    def route_many_json(
        self,
        patients: Iterable[PatientState | Mapping[str, Any]],
        *,
        workers: int | None = 1,
        lang: Language = "en",
        chunksize: int = 256,
    ) -> Iterator[str]:
        """Like :meth:`route_many`, but each result is one line of JSON (the decision's
        ``to_dict()``, or ``{"error": "patient_data", "problems": [...]}``).

        The parent only passes the workers' lines on, so this is the fastest way to write a
        registry-wide run to a file or a queue.
        """
        check_language(lang)
        if workers == 1:
            for patient in patients:
                yield _json_line(_route_or_error(self, patient, lang))
            return
        yield from self._in_workers(_route_json_in_worker, patients, workers, lang, chunksize)

    def _in_workers(
        self,
        function: Callable[[PatientState | Mapping[str, Any], Language], ResultT],
        patients: Iterable[PatientState | Mapping[str, Any]],
        workers: int | None,
        lang: Language,
        chunksize: int,
    ) -> Iterator[ResultT]:
        """``function`` over ``patients`` in worker processes that each load this bundle."""
        if self._source is None:
            raise ValueError("routing in worker processes needs a bundle made by load_bundle()")
        paths, engine = self._source
        count = workers or os.cpu_count() or 1
        with ProcessPoolExecutor(
            max_workers=count, initializer=_init_worker, initargs=(paths, engine)
        ) as pool:
            yield from pool.map(function, patients, itertools.repeat(lang), chunksize=chunksize)


def check_language(lang: object) -> None:
    """Raise :class:`~pedonc_routing.errors.UnknownLanguageError` (a ``ValueError``) for a
    language the protocols are not written in (a caller's mistake, caught before any
    routing rather than as an AttributeError deep inside)."""
    if lang not in LANGUAGES:
        raise UnknownLanguageError(lang, LANGUAGES)


def _json_line(result: Decision | PatientDataError) -> str:
    if isinstance(result, PatientDataError):
        return json.dumps({"error": "patient_data", "problems": result.problems})
    return json.dumps(result.to_dict(), ensure_ascii=False)


def _route_or_error(
    bundle: Bundle, patient: PatientState | Mapping[str, Any], lang: Language
) -> Decision | PatientDataError:
    try:
        return bundle.route(patient, lang=lang)
    except PatientDataError as error:
        return error


_worker_bundle: Bundle | None = None


def _init_worker(paths: tuple[Path, ...], engine: EngineName | None) -> None:
    global _worker_bundle
    _worker_bundle = load_bundle(paths, engine=engine)


def _route_in_worker(patient: PatientState | Mapping[str, Any], lang: Language) -> str | list[str]:
    """The decision as JSON (or the problems of an invalid state): the parent rebuilds it in
    ~15 us where unpickling the model tree took ~33 us, on the same cores as the workers."""
    assert _worker_bundle is not None, "worker not initialised"
    result = _route_or_error(_worker_bundle, patient, lang)
    return result.problems if isinstance(result, PatientDataError) else result.model_dump_json()


def load_bundle(
    paths: PathArg = None,
    *,
    engine: EngineName | None = None,
    require_approved: bool = False,
) -> Bundle:
    """Validate and compile a bundle; with no argument, the shipped protocols.

    Raises :class:`ValidationFailed` (with every issue) when validation finds errors.
    ``engine`` is ``"durable"`` (default where durable-rules imports) or ``"reference"``.
    ``require_approved=True`` is production mode: it raises :class:`ApprovalRequired`, one
    line per protocol, unless every protocol's current content carries an approval
    (docs/governance.md).
    """
    documents = read_documents(_paths(paths))
    report = ValidationReport.of(_check(documents))
    if not report.ok:
        raise ValidationFailed(report.issues)
    approvals = approval_states(documents)
    if require_approved:
        problems = [state.problem() for state in approvals.values() if not state.approved]
        if problems:
            raise ApprovalRequired([problem for problem in problems if problem is not None])
    approved = frozenset(pid for pid, state in approvals.items() if state.approved)
    compiled = dataclasses.replace(compile_documents(documents), approved_protocols=approved)
    evaluator = make_evaluator(engine, compiled.schema.inputs)
    return Bundle(compiled, evaluator, report, (tuple(_paths(paths)), engine), approvals)


def _route_json_in_worker(patient: PatientState | Mapping[str, Any], lang: Language) -> str:
    assert _worker_bundle is not None, "worker not initialised"
    return _json_line(_route_or_error(_worker_bundle, patient, lang))
