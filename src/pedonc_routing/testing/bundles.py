"""Bundles to test with: the shipped one, and small generated ones built in memory.

Why these exist: the compiler, the validator and the toolkit itself must hold for *any*
valid bundle, not only the shipped protocols. :func:`protocols` draws small valid protocols
(as YAML-able dicts) and :func:`bundles` whole bundles of them over the shipped vocabulary,
care catalogue and facilities. Nothing is written to disk: the documents are read from
memory (:func:`~pedonc_routing.loader.read_document_texts`), with the same positions
(``generated/generated_0.yaml:12:7``) and content hash as the same files on disk.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml
from hypothesis import strategies as st

from pedonc_routing.bundle import Bundle, load_bundle
from pedonc_routing.compiler.compiled import compile_documents
from pedonc_routing.engine import EngineName, make_evaluator
from pedonc_routing.errors import ValidationFailed
from pedonc_routing.issues import ValidationReport
from pedonc_routing.loader.documents import default_protocols_dir, read_document_texts
from pedonc_routing.validation.checks import validate_documents

__all__ = ["GENERATED_FOLDER", "build_bundle", "bundles", "protocols", "shipped_bundle"]

#: The folder name generated documents are shown under (``generated/care.yaml:3:5``).
GENERATED_FOLDER = "generated"
#: The shipped documents every generated bundle reuses: all but the protocols.
_SHARED_DOCUMENTS = ("vocabulary*.yaml", "care.yaml", "routing_rules.yaml", "facilities/*.yaml")


@functools.cache
def shipped_bundle() -> Bundle:
    """The shipped protocols (loaded once, on first use: importing this module stays cheap)."""
    return load_bundle()


@functools.cache
def _shared_texts() -> tuple[tuple[str, str], ...]:
    """The shipped vocabulary, care catalogue, routing rules and facilities, read once."""
    shipped = default_protocols_dir()
    paths = sorted({path for pattern in _SHARED_DOCUMENTS for path in shipped.glob(pattern)})
    return tuple(
        (f"{GENERATED_FOLDER}/{path.relative_to(shipped).as_posix()}", path.read_text("utf-8"))
        for path in paths
    )


def build_bundle(
    documents: Mapping[str, Mapping[str, Any] | str], *, engine: EngineName = "reference"
) -> Bundle:
    """A bundle of the shipped vocabulary, care catalogue, routing rules and facilities plus
    ``documents`` (``{file name: YAML-able dict or YAML text}``), built in memory.

    Raises :class:`~pedonc_routing.ValidationFailed` like
    :func:`~pedonc_routing.load_bundle`. Such a bundle cannot route in worker processes
    (``route_many(workers=2)``): they load a bundle from its files. The reference engine is
    the default: every durable-rules ruleset costs memory that is never freed, which a few
    hundred generated bundles would add up.
    """
    texts: list[tuple[str, str]] = list(_shared_texts())
    texts.extend(
        (
            f"{GENERATED_FOLDER}/{name}",
            text
            if isinstance(text, str)
            else yaml.safe_dump(dict(text), allow_unicode=True, sort_keys=False),
        )
        for name, text in documents.items()
    )
    # In the order a folder is read, so the bundle is the one these files on disk would give.
    texts.sort(key=lambda item: PurePosixPath(item[0]).parts)
    return _load_texts(texts, engine)


def _load_texts(texts: Iterable[tuple[str, str]], engine: EngineName) -> Bundle:
    """What :func:`~pedonc_routing.load_bundle` does, from ``(name, text)`` pairs."""
    documents = read_document_texts(texts)
    report = ValidationReport.of([*documents.issues, *validate_documents(documents)])
    if not report.ok:
        raise ValidationFailed(report.issues)
    compiled = compile_documents(documents)
    return Bundle(compiled, make_evaluator(engine, compiled.schema.inputs), report)


# -- random valid protocols ----------------------------------------------------------------


_TEXT = {"en": "Text", "ru": "Текст", "kk": "Мәтін"}
#: Care every shipped regional children's hospital offers (so F001 never fires).
_CARE = {
    "specialist": "pediatric_oncohematologist",
    "capabilities": ["cbc_smear"],
    "min_level": "regional",
    "setting": "inpatient",
}
#: Inputs generated protocols test: numeric ones get partitioned ranges.
_NUMERIC_INPUTS = (("wbc_10e9_l", 2, 0.0, 2000.0), ("anc_10e9_l", 2, 0.0, 200.0),
                   ("temperature_c", 1, 30.0, 45.0))  # fmt: skip
_BOOLEAN_INPUTS = ("induction_completed", "relapse_detected", "therapy_completed")
#: ICD-10 codes far from every shipped protocol's, one per generated protocol (so the
#: generated ``applies_to`` never overlap each other or the shipped ones: G007).
_PROTOCOL_CODES = ("C40", "C41", "C47", "C48", "C49", "C62", "C73", "C74")


def _step(kind: str, next_: list[dict[str, Any]], otherwise: str | None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "kind": kind,
        "title": dict(_TEXT),
        "family_info": dict(_TEXT),
        "care": dict(_CARE),
        "urgency": "urgent",
    }
    if next_:
        step["next"] = next_
    if otherwise is not None:
        step["otherwise"] = {"to": otherwise, "because": "None of the above", "source": "s1"}
    return step


@st.composite
def _protocol(draw: st.DrawFn, protocol_id: str, code: str) -> dict[str, Any]:
    count = draw(st.integers(2, 5), label="steps")
    names = [f"s{index}" for index in range(count)]
    used: set[str] = set()
    steps: dict[str, Any] = {}
    for index, name in enumerate(names[:-1]):
        later = names[index + 1 :]
        if draw(st.booleans(), label="numeric split?"):
            input_name, precision, low, high = draw(st.sampled_from(_NUMERIC_INPUTS))
            scale = 10**precision
            cuts = sorted(
                set(
                    draw(
                        st.lists(
                            st.integers(int(low * scale) + 1, int(high * scale)),
                            min_size=1,
                            max_size=3,
                        ),
                        label="cuts",
                    )
                )
            )
            bounds = [c / scale if precision else float(c) for c in cuts]
            transitions = []
            edges: list[tuple[float | None, float | None]] = [
                (None, bounds[0]),
                *itertools.pairwise(bounds),
                (bounds[-1], None),
            ]
            for order, (lower, upper) in enumerate(edges):
                tests = []
                if lower is not None:
                    tests.append({"input": input_name, "gte": lower})
                if upper is not None:
                    tests.append({"input": input_name, "lt": upper})
                transitions.append(
                    {
                        "id": f"band_{order}",
                        "to": names[index + 1] if order == 0 else draw(st.sampled_from(later)),
                        "when": tests[0] if len(tests) == 1 else {"all": tests},
                        "because": "Band of the range",
                        "source": "s1",
                    }
                )
            used.add(input_name)
            steps[name] = _step("staging", transitions, None)
        else:
            flag = draw(st.sampled_from(_BOOLEAN_INPUTS))
            used.add(flag)
            steps[name] = _step(
                "treatment_phase",
                [
                    {
                        "id": "done",
                        "to": names[index + 1],
                        "when": {"input": flag, "eq": True},
                        "because": "Phase completed",
                        "source": "s1",
                    }
                ],
                name,  # not yet completed: stay (continue the phase)
            )
    steps[names[-1]] = _step("terminal", [], None)
    return {
        "kind": "protocol",
        "id": protocol_id,
        "version": "1",
        "status": "draft",
        "title": dict(_TEXT),
        "sources": [{"id": "s1", "citation": "A generated citation for testing only."}],
        "inputs": sorted(used),
        "applies_to": {
            "all": [
                {"input": "icd10", "icd10_in": [code]},
                {"input": "age_years", "lt": 18},
            ]
        },
        "entry": names[0],
        "steps": steps,
    }


def protocols(
    protocol_id: str = "generated", code: str = "C40"
) -> st.SearchStrategy[dict[str, Any]]:
    """Random *valid* small protocols as YAML-able dicts, for testing the compiler and the
    validator themselves: 2-5 steps in a chain (every step reachable), each a partition of
    a numeric input into disjoint bands (``gte``/``lt``, no gap, no overlap) or a phase that
    continues until a completion flag is true, ending at a terminal step. They use the
    shipped vocabulary and care catalogue, and ``applies_to`` the ICD-10 prefix ``code``.
    """
    return _protocol(protocol_id, code)


def bundles(
    *, max_protocols: int = 3, engine: EngineName = "reference"
) -> st.SearchStrategy[Bundle]:
    """Bundles of 1-``max_protocols`` generated protocols (``generated_0``, ...) over the
    shipped vocabulary, care catalogue and facilities, built in memory
    (:func:`build_bundle`; the reference engine by default)."""

    def build(documents: list[dict[str, Any]]) -> Bundle:
        return build_bundle({f"{d['id']}.yaml": d for d in documents}, engine=engine)

    def many(count: int) -> st.SearchStrategy[list[dict[str, Any]]]:
        parts = [protocols(f"generated_{i}", _PROTOCOL_CODES[i]) for i in range(count)]
        return st.tuples(*parts).map(list)

    limit = min(max_protocols, len(_PROTOCOL_CODES))
    return st.integers(1, limit).flatmap(many).map(build)
