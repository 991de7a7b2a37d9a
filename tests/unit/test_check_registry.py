"""The check registry: every code belongs to exactly one module, each check module declares
the codes its docstring documents, and docs/checks.md lists exactly those codes.

Which module reports each code over the conformance corpus is tested in
tests/conformance/test_conformance.py, and the planted faults check their one code too.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from pedonc_routing.loader import documents, yaml_reader
from pedonc_routing.loader.documents import read_documents
from pedonc_routing.validation import checks_doc, context
from pedonc_routing.validation.checks import CHECKS, validate_documents
from pedonc_routing.validation.context import Gate

ROOT = Path(__file__).resolve().parents[2]
LOADER_MODULES = (yaml_reader, documents)


def declared_codes() -> Counter[str]:
    """How many modules declare each code: the checks' CODES, the loader's docstrings."""
    counts: Counter[str] = Counter()
    for module in CHECKS:
        counts.update(module.CODES)
    for module in LOADER_MODULES:
        counts.update(list(checks_doc.module_sections(module)))
    return counts


def test_no_code_belongs_to_two_modules() -> None:
    counts = declared_codes()
    assert [code for code, count in counts.items() if count > 1] == []
    assert len(counts) == 45  # Y001-Y008, S001-S003, R001-R009, T, G, C, A, F, E


def test_codes_reported_for_another_check_are_that_checks() -> None:
    counts = declared_codes()
    for module in CHECKS:
        for code in getattr(module, "ALSO_REPORTS", ()):
            assert code not in module.CODES
            assert counts[code] == 1, code


def test_each_check_declares_what_its_docstring_documents() -> None:
    for module in CHECKS:
        assert list(module.CODES) == list(checks_doc.module_sections(module)), module.__name__
        assert isinstance(module.GATE, Gate), module.__name__
        assert callable(module.check), module.__name__


def test_the_docs_page_lists_exactly_the_declared_codes() -> None:
    page = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    listed = re.findall(r"^### ([A-Z]\d{3}) ", page, re.MULTILINE)
    assert sorted(listed) == sorted(declared_codes())
    assert list(checks_doc.MODULES) == [*LOADER_MODULES, *CHECKS]


def test_the_gates_are_the_documented_ones() -> None:
    """The guard analysis waits for a clean protocol; G007 and F001/F003 for a clean bundle
    so far (docs/checks.md, "Some checks wait for earlier ones")."""
    gated = {module.__name__.rsplit(".", 1)[1]: module.GATE for module in CHECKS}
    assert {name for name, gate in gated.items() if gate is not Gate.ALWAYS} == {
        "guards",
        "protocol_overlaps",
        "capable_facilities",
    }
    assert gated["guards"] is Gate.CLEAN_PROTOCOL
    names = list(gated)
    # F001/F003 come last: every other check's errors hold them back.
    assert names[-1] == "capable_facilities"
    # The guard analysis comes after every check that reads a protocol's names and types.
    assert names.index("guards") > max(map(names.index, ["references", "guard_types", "graph"]))


def test_the_context_is_shared_not_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    """One pathway graph per protocol and one fact schema per validation, whatever the
    number of checks that read them (graph and limits both read the graphs)."""
    built: Counter[str] = Counter()
    real_graph, real_schema = context.PathwayGraph, context.FactSchema

    def counting_graph(*args: object) -> object:
        built["graph"] += 1
        return real_graph(*args)  # type: ignore[arg-type]

    def counting_schema(*args: object) -> object:
        built["schema"] += 1
        return real_schema(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(context, "PathwayGraph", counting_graph)
    monkeypatch.setattr(context, "FactSchema", counting_schema)
    bundle = read_documents([ROOT / "protocols"])
    validate_documents(bundle)
    assert built["schema"] == 1
    assert built["graph"] == len(bundle.protocols)
