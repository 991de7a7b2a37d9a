"""The ``pedonc-routing`` CLI (cli.py) through click's CliRunner: validate (exit codes 0/1/2,
``FILE:LINE:COL: CODE severity: message`` lines, ``--format json``), route (text and json,
invalid patients exit 1 without echoing the patient id), and graph (mermaid / dot with the
contract step ids, unknown protocol exits 2 with a suggestion).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import EXAMPLES_DIR, PROTOCOLS_DIR, write_bundle
from pedonc_routing.cli import main

ISSUE_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]\d{3}) "
    r"(?P<severity>error|warning): (?P<message>.+)$"
)
CONTRACT_STEPS = (
    "risk_stratification",
    "induction_standard_risk",
    "induction_high_risk",
    "infant_induction",
)
SECRET = "anon-SECRET-4711"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def broken_bundle(tmp_path: Path) -> Path:
    protocol = (
        Path(__file__).resolve().parents[1]
        / "conformance"
        / "cases"
        / "r001_unknown_step"
        / "protocol.yaml"
    ).read_text(encoding="utf-8")
    return write_bundle(tmp_path / "broken", protocol)


def test_validate_shipped_protocols(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(PROTOCOLS_DIR)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_validate_default_is_the_shipped_protocols(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output


def test_validate_broken_bundle(runner: CliRunner, broken_bundle: Path) -> None:
    result = runner.invoke(main, ["validate", str(broken_bundle)])
    assert result.exit_code == 1
    issue_lines = [line for line in result.output.splitlines() if ISSUE_LINE.match(line)]
    assert len(issue_lines) == 1, result.output
    match = ISSUE_LINE.match(issue_lines[0])
    assert match is not None
    assert match["file"] == "broken/protocol.yaml"
    assert (match["line"], match["col"]) == ("19", "13")
    assert (match["code"], match["severity"]) == ("R001", "error")
    assert "did you mean 'done'" in match["message"]
    assert "1 error(s)" in result.output


def test_validate_missing_path(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_validate_json(runner: CliRunner, broken_bundle: Path) -> None:
    result = runner.invoke(main, ["validate", "--format", "json", str(broken_bundle)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["errors"] == 1
    (issue,) = data["issues"]
    assert {k: issue[k] for k in ("code", "severity", "file", "line", "column")} == {
        "code": "R001",
        "severity": "error",
        "file": "broken/protocol.yaml",
        "line": 19,
        "column": 13,
    }


def test_validate_json_clean(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "--format", "json", str(PROTOCOLS_DIR)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["errors"] == 0


def test_validate_strict_fails_on_warnings(runner: CliRunner, tmp_path: Path) -> None:
    protocol = (
        Path(__file__).resolve().parents[1]
        / "conformance"
        / "cases"
        / "c002_missing_language"
        / "protocol.yaml"
    ).read_text(encoding="utf-8")
    root = write_bundle(tmp_path / "warn", protocol)
    assert runner.invoke(main, ["validate", str(root)]).exit_code == 0
    assert runner.invoke(main, ["validate", "--strict", str(root)]).exit_code == 1


def test_route_text(runner: CliRunner) -> None:
    patient = EXAMPLES_DIR / "01_b_all_standard_risk.yaml"
    result = runner.invoke(main, ["route", str(patient)])
    assert result.exit_code == 0, result.output
    assert "status:     routed" in result.output
    assert "induction_standard_risk" in result.output
    assert "anon-0001" not in result.output


def test_route_json(runner: CliRunner) -> None:
    patient = EXAMPLES_DIR / "10_needs_data_no_immunophenotype.yaml"
    result = runner.invoke(main, ["route", "--format", "json", str(patient)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "needs_data"
    assert data["missing"] == ["immunophenotype"]
    assert "anon-0010" not in result.output


def test_route_json_patient_file(runner: CliRunner, tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES_DIR / "04_t_all.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(data, default=str), encoding="utf-8")
    result = runner.invoke(main, ["route", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["step"]["id"] == "induction_high_risk"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "JSON nested too deeply"),
        ('{"a": ' * 100_000, "JSON nested too deeply"),
        ("{not json", "Expecting property name"),
        (" " * (4 * 1024 * 1024 + 1), "larger than 4194304 bytes"),
    ],
)
@pytest.mark.parametrize("command", ["route", "family"])
def test_unreadable_json_patient_is_a_usage_error(
    runner: CliRunner, tmp_path: Path, command: str, text: str, message: str
) -> None:
    path = tmp_path / "patient.json"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(main, [command, str(path)])
    assert result.exit_code == 2, result.output
    assert f"error: cannot read {path}: " in result.stderr
    assert message in result.stderr


def test_route_russian(runner: CliRunner) -> None:
    patient = EXAMPLES_DIR / "01_b_all_standard_risk.yaml"
    english = runner.invoke(main, ["route", "--format", "json", str(patient)])
    russian = runner.invoke(main, ["route", "--format", "json", "--lang", "ru", str(patient)])
    assert (
        json.loads(english.stdout)["step"]["title"] != json.loads(russian.stdout)["step"]["title"]
    )


def test_route_invalid_patient(runner: CliRunner, tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES_DIR / "01_b_all_standard_risk.yaml").read_text("utf-8"))
    data["patient_id"] = SECRET
    data["home_region"] = "KZ-99"
    data["observations"]["wbc_10e9_l"] = -5
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(main, ["route", str(path)])
    assert result.exit_code == 1
    assert "home_region" in result.output
    assert "observations.wbc_10e9_l" in result.output
    assert SECRET not in result.output


def test_route_unreadable_patient_yaml(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("patient_id: [unclosed\n", encoding="utf-8")
    result = runner.invoke(main, ["route", str(path)])
    assert result.exit_code == 2
    assert "Y001" in result.output


def test_route_with_broken_protocols(runner: CliRunner, broken_bundle: Path) -> None:
    patient = EXAMPLES_DIR / "01_b_all_standard_risk.yaml"
    result = runner.invoke(main, ["route", "--protocols", str(broken_bundle), str(patient)])
    assert result.exit_code == 1
    assert "R001" in result.output


@pytest.mark.parametrize("output_format", ["mermaid", "dot"])
def test_graph(runner: CliRunner, output_format: str) -> None:
    result = runner.invoke(main, ["graph", "all", "--format", output_format])
    assert result.exit_code == 0, result.output
    for step in CONTRACT_STEPS:
        assert step in result.output
    if output_format == "mermaid":
        assert result.output.startswith("flowchart TD")
        assert re.search(r"risk_stratification -->\|.*\| induction_standard_risk", result.output)
    else:
        assert result.output.startswith('digraph "all"')
        assert '"risk_stratification" -> "infant_induction"' in result.output
        assert result.output.rstrip().endswith("}")


def test_graph_unknown_protocol(runner: CliRunner) -> None:
    result = runner.invoke(main, ["graph", "alll"])
    assert result.exit_code == 2
    assert "did you mean 'all'" in result.output


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "0.1.0" in result.output
