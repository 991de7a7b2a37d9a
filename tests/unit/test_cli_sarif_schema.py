"""CLI interop (cli.py, interop/): guard counterexamples printed under their issue line,
``validate --format sarif`` (SARIF 2.1.0 structure, rule titles in step with docs/checks.md),
and ``schema`` (one JSON Schema per YAML kind plus the patient state, usable by jsonschema).

Bundles are written to tmp_path from inline protocols, so these tests never depend on the
shipped protocols validating.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, PROTOCOLS_DIR, REPO_ROOT, write_bundle
from pedonc_routing.cli import main
from pedonc_routing.interop.json_schema import JSON_SCHEMA_DIALECT, SCHEMA_MODELS
from pedonc_routing.interop.sarif import RULE_TITLES, SARIF_SCHEMA, to_sarif
from pedonc_routing.loader.yaml_reader import read_yaml_file

#: Two transitions of one step hold together at priority 0 (G004 warning with an example).
OVERLAP = """\
kind: protocol
id: mini
version: "1"
status: draft
title: {en: Mini, ru: Мини, kk: Шағын}
sources:
  - {id: src_a, citation: "Author A. A small test citation. 2020."}
inputs: [wbc_10e9_l, immunophenotype]
applies_to: {input: icd10, icd10_in: ["C91.0"]}
entry: start
steps:
  start:
    kind: diagnostic
    title: {en: Start, ru: Старт, kk: Бастау}
    family_info: {en: Info, ru: Инфо, kk: Ақпарат}
    care: {specialist: pediatric_oncohematologist, min_level: regional, setting: inpatient}
    next:
      - {id: high_count, to: done, when: {input: wbc_10e9_l, gte: 50}, because: High, source: src_a}
      - {id: t_lineage, to: done, when: {input: immunophenotype, eq: T}, because: T, source: src_a}
    otherwise: {to: done, because: "Default", source: src_a}
  done:
    kind: terminal
    title: {en: Done, ru: Готово, kk: Дайын}
    family_info: {en: Info, ru: Инфо, kk: Ақпарат}
    care: {specialist: pediatric_oncohematologist, min_level: regional, setting: outpatient}
"""

#: The second transition: removing it removes the overlap.
T_LINEAGE = (
    "      - {id: t_lineage, to: done, when: {input: immunophenotype, eq: T},"
    " because: T, source: src_a}\n"
)
assert T_LINEAGE in OVERLAP

#: The same without the overlap, marked reviewed with no reviewer (C003 error) and one title
#: missing Kazakh (C002 warning): exactly one error and one warning.
ONE_ERROR_ONE_WARNING = (
    OVERLAP.replace("status: draft", "status: reviewed")
    .replace(
        T_LINEAGE,
        "",
    )
    .replace("title: {en: Done, ru: Готово, kk: Дайын}", "title: {en: Done, ru: Готово}")
)

SCHEMA_FILES = {
    "vocabulary.schema.json",
    "care_catalogue.schema.json",
    "protocol.schema.json",
    "facility_registry.schema.json",
    "catchments.schema.json",
    "referral_links.schema.json",
    "routing_rules.schema.json",
    "approvals.schema.json",
    "patient_state.schema.json",
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def overlap_bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "overlap", OVERLAP)


@pytest.fixture
def mixed_bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "mixed", ONE_ERROR_ONE_WARNING)


def _g004(bundle: Path) -> pr.Issue:
    issues = [issue for issue in pr.validate(bundle).issues if issue.code == "G004"]
    assert len(issues) == 1, issues
    assert issues[0].example is not None
    return issues[0]


# --- text format: counterexamples ------------------------------------------------------


def test_text_prints_the_counterexample_under_its_issue(
    runner: CliRunner, overlap_bundle: Path
) -> None:
    expected = _g004(overlap_bundle)
    result = runner.invoke(main, ["validate", str(overlap_bundle)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = lines.index(str(expected))
    assert lines[at + 1] == "    example patient:"
    snippet: list[str] = []
    for line in lines[at + 2 :]:
        if not line.startswith("    "):
            break
        snippet.append(line[4:])
    assert yaml.safe_load("\n".join(snippet)) == expected.example
    assert snippet[0] == "observations:"  # block style, sorted keys
    assert re.fullmatch(r"0 error\(s\), [1-9]\d* warning\(s\)", result.output.splitlines()[-1])


def test_strict_fails_on_counterexample_warnings(runner: CliRunner, overlap_bundle: Path) -> None:
    result = runner.invoke(main, ["validate", str(overlap_bundle), "--strict"])
    assert result.exit_code == 1
    assert "example patient:" in result.stdout


def test_text_without_examples_prints_no_snippet(runner: CliRunner, mixed_bundle: Path) -> None:
    result = runner.invoke(main, ["validate", str(mixed_bundle)])
    assert result.exit_code == 1
    assert "example patient:" not in result.output
    assert "1 error(s), 1 warning(s)" in result.output


# --- SARIF ------------------------------------------------------------------------------


def _sarif(runner: CliRunner, bundle: Path, expected_exit: int) -> dict[str, Any]:
    result = runner.invoke(main, ["validate", str(bundle), "--format", "sarif"])
    assert result.exit_code == expected_exit, result.output
    log = json.loads(result.stdout)
    assert isinstance(log, dict)
    return log


def test_sarif_structure(runner: CliRunner, mixed_bundle: Path) -> None:
    issues = {issue.code: issue for issue in pr.validate(mixed_bundle).issues}
    assert sorted(issues) == ["C002", "C003"]
    log = _sarif(runner, mixed_bundle, expected_exit=1)

    assert log["$schema"] == SARIF_SCHEMA == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "pedonc-routing"
    assert driver["version"] == metadata.version("pedonc-routing")
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == ["C002", "C003"]
    assert rules[0]["shortDescription"]["text"] == "text missing a language"
    assert rules[1]["shortDescription"]["text"] == "reviewed protocol without reviewer and date"

    results = run["results"]
    assert {result["ruleId"]: result["level"] for result in results} == {
        "C003": "error",
        "C002": "warning",
    }
    for result in results:
        issue = issues[result["ruleId"]]
        assert rules[result["ruleIndex"]]["id"] == issue.code
        assert result["message"]["text"] == issue.message
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert uri == issue.file == "mixed/protocol.yaml"  # relative, forward slashes
        assert location["region"] == {"startLine": issue.line, "startColumn": issue.column}
        assert "properties" not in result


def test_sarif_carries_the_counterexample(runner: CliRunner, overlap_bundle: Path) -> None:
    expected = _g004(overlap_bundle)
    log = _sarif(runner, overlap_bundle, expected_exit=0)
    (g004,) = [result for result in log["runs"][0]["results"] if result["ruleId"] == "G004"]
    assert g004["level"] == "warning"
    assert g004["properties"]["example"] == expected.example


def test_sarif_of_a_clean_bundle_has_an_empty_run(runner: CliRunner, tmp_path: Path) -> None:
    clean = OVERLAP.replace(
        T_LINEAGE,
        "",
    )
    bundle = write_bundle(tmp_path / "clean", clean)
    log = _sarif(runner, bundle, expected_exit=0)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_rule_titles_cover_every_documented_code() -> None:
    text = (REPO_ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^### ([A-Z]\d{3}) [^:]+: (.+)$", text, flags=re.MULTILINE))
    assert documented, "no check headings found in docs/checks.md"
    missing = sorted(set(documented) - set(RULE_TITLES))
    assert not missing, f"add these codes to interop/sarif.py RULE_TITLES: {missing}"
    for code in ("G004", "G005", "G006", "G007", "G008", "G009", "G010", "F003"):
        assert code in RULE_TITLES


def test_rule_titles_cover_every_code_the_source_emits() -> None:
    source = REPO_ROOT / "src" / "pedonc_routing"
    emitted = {
        code
        for path in source.rglob("*.py")
        if "interop" not in path.parts
        for code in re.findall(r"[\"']([YSRTGCFE]\d{3})[\"']", path.read_text(encoding="utf-8"))
    }
    assert emitted
    missing = sorted(emitted - set(RULE_TITLES))
    assert not missing, f"add these codes to interop/sarif.py RULE_TITLES: {missing}"


# --- schema -----------------------------------------------------------------------------


def test_schema_writes_one_file_per_kind(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "nested" / ".schemas"
    result = runner.invoke(main, ["schema", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert {path.name for path in out.iterdir()} == SCHEMA_FILES
    for path in out.iterdir():
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == JSON_SCHEMA_DIALECT
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"]
        assert schema["type"] == "object"
    protocol_text = (out / "protocol.schema.json").read_text(encoding="utf-8")
    assert '"steps"' in protocol_text
    assert '"next"' in protocol_text
    protocol = json.loads(protocol_text)
    assert protocol["properties"]["kind"]["const"] == "protocol"
    # The condition union is a plain oneOf of its four forms.
    when = protocol["$defs"]["Transition"]["properties"]["when"]
    assert len(when["oneOf"]) == 4


def test_schema_without_output_prints_every_kind(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    schemas = json.loads(result.stdout)
    assert set(schemas) == set(SCHEMA_MODELS)
    assert {f"{kind}.schema.json" for kind in schemas} == SCHEMA_FILES
    assert "ReferralLink" in json.dumps(schemas["referral_links"])
    # by_alias: the YAML key is `from`, not the Python field name.
    link = schemas["referral_links"]["$defs"]["ReferralLink"]
    assert "from" in link["properties"]
    assert "source_facility" not in link["properties"]


def test_schema_output_that_is_a_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("", encoding="utf-8")
    result = runner.invoke(main, ["schema", "--output", str(target)])
    assert result.exit_code == 2


def _plain(data: Any) -> Any:
    """YAML timestamps as the strings an editor sees (JSON has no date type)."""

    def default(value: Any) -> str:
        if isinstance(value, date | datetime):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.loads(json.dumps(data, default=default))


def test_schemas_accept_real_files_and_reject_bad_ones(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "schemas"
    assert CliRunner().invoke(main, ["schema", "--output", str(out)]).exit_code == 0
    schemas = {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in out.iterdir()
    }
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    protocol_schema = jsonschema.Draft202012Validator(schemas["protocol"])

    loaded, issues = read_yaml_file(PROTOCOLS_DIR / "all.yaml", "all.yaml")
    assert loaded is not None
    assert not issues
    all_yaml = _plain(loaded.data)
    assert list(protocol_schema.iter_errors(all_yaml)) == []
    assert list(protocol_schema.iter_errors(_plain(yaml.safe_load(OVERLAP)))) == []

    first_step = next(iter(all_yaml["steps"]))
    all_yaml["steps"][first_step]["nxet"] = []
    assert list(protocol_schema.iter_errors(all_yaml)), "an unknown key must be rejected"

    patient = yaml.safe_load((EXAMPLES_DIR / "01_b_all_standard_risk.yaml").read_text("utf-8"))
    patient_schema = jsonschema.Draft202012Validator(schemas["patient_state"])
    assert list(patient_schema.iter_errors(_plain(patient))) == []
    del patient["home_region"]
    assert list(patient_schema.iter_errors(_plain(patient))), "home_region is required"


def test_sarif_uris_are_uri_references() -> None:
    report = pr.ValidationReport.of(
        [
            pr.Issue("R001", "error", "relative", "protocols/a b.yaml", 3, 5),
            pr.Issue("R001", "error", "absolute", "/tmp/bundle/x.yaml", 0, 0),
        ]
    )
    results = to_sarif(report, version="9.9")["runs"][0]["results"]
    uris = {
        result["message"]["text"]: result["locations"][0]["physicalLocation"] for result in results
    }
    assert uris["relative"]["artifactLocation"]["uri"] == "protocols/a%20b.yaml"
    assert uris["absolute"]["artifactLocation"]["uri"] == "file:///tmp/bundle/x.yaml"
    # SARIF positions are 1-based: never 0.
    assert uris["absolute"]["region"] == {"startLine": 1, "startColumn": 1}
