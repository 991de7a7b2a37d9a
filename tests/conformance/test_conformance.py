"""Conformance corpus: each folder under cases/ holds a few YAML files (a full small protocol
or a fragment) and a sidecar ``expected.yaml`` listing every issue they must produce as
``{file, code, line, column}`` (optionally ``message_contains``).

A case is validated as a bundle made of the shipped vocabulary, care catalogue and
facilities (copied in by the test) plus the case's own files; the set of
(file, code, line, column) of the errors and warnings in the case's own files must equal
the expected set exactly.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import pedonc_routing as pr
from conftest import write_bundle
from pedonc_routing.loader.documents import read_documents
from pedonc_routing.validation import checks_doc
from pedonc_routing.validation.checks import run_checks

CASES = Path(__file__).resolve().parent / "cases"
CASE_NAMES = sorted(path.name for path in CASES.iterdir() if path.is_dir())

#: Every code the corpus must exercise at least once: every code docs/checks.md documents.
REQUIRED_CODES = set(checks_doc.sections())


def load_expected(case: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASES / case / "expected.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{case}/expected.yaml must be a list"
    return data


def case_files(case: str) -> dict[str, str]:
    return {
        path.relative_to(CASES / case).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((CASES / case).rglob("*.yaml"))
        if path.name != "expected.yaml"
    }


def validate_case(case: str, tmp_path: Path) -> tuple[list[pr.Issue], str]:
    root = write_bundle(tmp_path / case, case_files(case))
    report = pr.validate(root)
    return list(report.issues), f"{case}/"


def test_corpus_covers_the_required_codes() -> None:
    covered = {entry["code"] for case in CASE_NAMES for entry in load_expected(case)}
    assert covered >= REQUIRED_CODES, sorted(REQUIRED_CODES - covered)
    assert any(load_expected(case) == [] for case in CASE_NAMES), "needs a passing case"


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case(case: str, tmp_path: Path) -> None:
    issues, prefix = validate_case(case, tmp_path)
    own = set(case_files(case))
    # Shared files must be clean: every issue belongs to one of the case's own files.
    foreign = [str(issue) for issue in issues if issue.file.removeprefix(prefix) not in own]
    assert foreign == []
    actual = {(i.file.removeprefix(prefix), i.code, i.line, i.column) for i in issues}
    expected_entries = load_expected(case)
    expected = {(e["file"], e["code"], e["line"], e["column"]) for e in expected_entries}
    assert actual == expected, "\n".join(str(issue) for issue in issues)
    for entry in expected_entries:
        if "message_contains" in entry:
            messages = [
                issue.message
                for issue in issues
                if (issue.file.removeprefix(prefix), issue.code, issue.line, issue.column)
                == (entry["file"], entry["code"], entry["line"], entry["column"])
            ]
            assert any(entry["message_contains"] in message for message in messages), messages


@pytest.mark.parametrize("case", CASE_NAMES)
def test_each_code_comes_from_its_one_module(case: str, tmp_path: Path) -> None:
    """Every code reported belongs to exactly one module, and the check that reports it is
    that module (or declares it reports it for the owner: ``ALSO_REPORTS``)."""
    documents = read_documents([write_bundle(tmp_path / case, case_files(case))])
    for issue in documents.issues:
        assert [m.__name__ for m in checks_doc.owners(issue.code)] in (
            ["pedonc_routing.loader.yaml_reader"],
            ["pedonc_routing.loader.documents"],
        ), str(issue)
    for module, issue in run_checks(documents):
        own = issue.code in module.CODES
        assert own or issue.code in getattr(module, "ALSO_REPORTS", ()), (module, str(issue))
        assert len(checks_doc.owners(issue.code)) == 1, str(issue)
        assert own or checks_doc.owners(issue.code) != [module], str(issue)


@pytest.mark.parametrize(
    "case", ["ok_minimal", "g001_unreachable", "r001_unknown_step", "y003_python_tag"]
)
def test_load_bundle_agrees_with_validate(case: str, tmp_path: Path) -> None:
    root = write_bundle(tmp_path / case, case_files(case))
    report = pr.validate(root)
    if report.ok:
        bundle = pr.load_bundle(root, engine="reference")
        assert bundle.report.issues == report.issues
    else:
        with pytest.raises(pr.ValidationFailed) as caught:
            pr.load_bundle(root, engine="reference")
        assert set(caught.value.issues) == set(report.issues)
        for error in report.errors:
            assert str(error) in str(caught.value)


def test_issue_text_format(tmp_path: Path) -> None:
    issues, prefix = validate_case("r001_unknown_step", tmp_path)
    (issue,) = issues
    assert str(issue) == (
        f"{prefix}protocol.yaml:19:13: R001 error: "
        "'dnoe' is not a step of protocol 'mini'; did you mean 'done'?"
    )


def test_shipped_protocols_are_clean() -> None:
    root = Path(__file__).resolve().parents[2] / "protocols"
    report = pr.validate(root)
    assert report.ok
    assert report.errors == ()


def test_missing_path_is_an_issue(tmp_path: Path) -> None:
    report = pr.validate(tmp_path / "nowhere")
    assert not report.ok
    assert [issue.code for issue in report.errors] == ["Y008"]


def test_bundle_without_protocol(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    shipped = Path(__file__).resolve().parents[2] / "protocols"
    shutil.copy(shipped / "vocabulary.yaml", root / "vocabulary.yaml")
    report = pr.validate(root)
    assert [issue.code for issue in report.errors] == ["S003"]
