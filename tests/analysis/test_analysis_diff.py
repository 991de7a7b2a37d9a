"""``pedonc-routing diff`` (analysis/diff.py): a planted threshold change (the NCI/Rome WBC
cut-off 50 -> 60 at ALL risk stratification) is found, and only it, with an example child in
[50, 60); identical bundles show no change (exit 0); a removed step is reported.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from analysis_tiny import PROTOCOLS_DIR, REPO_ROOT, protocol, step, transition
from click.testing import CliRunner

import pedonc_routing as pr
from pedonc_routing.analysis import diff_bundles, read_cases
from pedonc_routing.cli import main

NCI_WBC = "            - {input: wbc_10e9_l, lt: 50}"


def _planted(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "planted"
    shutil.copytree(PROTOCOLS_DIR, target)
    path = target / "all.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def shipped() -> pr.Bundle:
    return pr.load_bundle(PROTOCOLS_DIR, engine="reference")


@pytest.fixture
def wbc_60(tmp_path: Path) -> Path:
    return _planted(tmp_path, NCI_WBC, NCI_WBC.replace("50", "60"))


def test_planted_threshold_change_is_found_and_only_it(shipped: pr.Bundle, wbc_60: Path) -> None:
    new = pr.load_bundle(wbc_60, engine="reference")
    cases = read_cases([REPO_ROOT / "tests" / "cases"])
    report = diff_bundles(shipped, new, cases)
    assert report.has_changes
    assert report.structure.empty
    assert [(locus.protocol, locus.step) for locus in report.loci] == [
        ("all", "risk_stratification")
    ]
    (locus,) = report.loci
    assert locus.patients >= 3  # 50.00, 50.01 and 59.99 at least
    (kind,) = locus.kinds.values()
    assert (kind.field, kind.old, kind.new) == (
        "step",
        "induction_high_risk",
        "induction_standard_risk",
    )
    assert kind.patients == locus.patients == report.changed
    example = kind.example
    assert "patient_id" not in example
    assert 50 <= example["observations"]["wbc_10e9_l"] < 60
    assert example["observations"]["immunophenotype"] == "B"
    assert 1 <= example["age_years"] < 10


def test_identical_bundles_show_no_change(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(PROTOCOLS_DIR, copy)
    result = CliRunner().invoke(
        main, ["diff", str(PROTOCOLS_DIR), str(copy), "--format", "json", "--max-examples", "50"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["changes"] == []
    assert data["patients"]["changed"] == 0
    assert data["patients"]["generated"] > 0
    result = CliRunner().invoke(
        main, ["diff", str(PROTOCOLS_DIR), str(copy), "--max-examples", "50"]
    )
    assert result.exit_code == 0
    assert result.output.rstrip().endswith("no change")


def test_cli_reports_the_planted_change_with_exit_1(wbc_60: Path) -> None:
    # 200 per step still holds every point of risk_stratification (154) and is faster.
    result = CliRunner().invoke(
        main, ["diff", str(PROTOCOLS_DIR), str(wbc_60), "--max-examples", "200"]
    )
    assert result.exit_code == 1, result.output
    assert "protocol all" in result.output
    assert "at risk_stratification" in result.output
    assert "step: induction_high_risk -> induction_standard_risk" in result.output


def test_removed_step_is_reported(make_bundle: Callable[..., Path]) -> None:
    def tiny(with_extra: bool) -> str:
        steps = [
            step(
                "start",
                kind="diagnostic",
                next_=[
                    transition(
                        "go", "extra" if with_extra else "done", "{input: wbc_10e9_l, gte: 50}"
                    )
                ],
                otherwise="done",
            ),
            step("done", kind="terminal"),
        ]
        if with_extra:
            steps.append(step("extra", kind="terminal"))
        return protocol(
            "tiny",
            steps,
            entry="start",
            inputs=["wbc_10e9_l"],
            applies_to='{input: icd10, icd10_in: ["C91.0"]}',
        )

    old = make_bundle({"tiny.yaml": tiny(True)})
    new = make_bundle({"tiny.yaml": tiny(False)})
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert [(s["protocol"], s["step"]) for s in data["steps"]["removed"]] == [("tiny", "extra")]
    assert data["steps"]["added"] == []
    # Children with WBC >= 50 at start now end at `done` instead of the removed step.
    (change,) = data["changes"]
    assert (change["protocol"], change["step"]) == ("tiny", "start")
    kinds = {(k["field"], k["old"], k["new"]) for k in change["kinds"]}
    assert ("step", "extra", "done") in kinds
    text = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert "step removed:     tiny.extra" in text.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["diff", str(PROTOCOLS_DIR)]).exit_code == 2
    assert runner.invoke(main, ["diff", str(PROTOCOLS_DIR), str(tmp_path / "nope")]).exit_code == 2
    result = runner.invoke(
        main, ["diff", str(PROTOCOLS_DIR), str(PROTOCOLS_DIR), "--cases", str(tmp_path / "nope")]
    )
    assert result.exit_code == 2
    broken = tmp_path / "broken"
    shutil.copytree(PROTOCOLS_DIR, broken)
    (broken / "all.yaml").write_text("kind: protocol\n", encoding="utf-8")
    result = runner.invoke(main, ["diff", str(PROTOCOLS_DIR), str(broken)])
    assert result.exit_code == 2
    assert "do not validate" in result.output
