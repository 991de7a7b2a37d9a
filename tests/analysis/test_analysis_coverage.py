"""``pedonc-routing coverage`` (analysis/coverage.py) on a tiny bundle whose coverage by three
cases is known by hand: steps, transitions (``otherwise`` included), and the guard boundaries
(``c - u``, ``c``, ``c + u``) with the missed points listed; plus the shipped cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from analysis_tiny import PROTOCOLS_DIR, REPO_ROOT, protocol, step, transition
from click.testing import CliRunner

import pedonc_routing as pr
from pedonc_routing.analysis import measure_coverage, read_cases
from pedonc_routing.analysis.samples import CaseFileError
from pedonc_routing.cli import main

TINY = protocol(
    "tiny",
    [
        step(
            "triage",
            kind="diagnostic",
            passthrough=True,
            next_=[transition("high_count", "urgent_care", "{input: wbc_10e9_l, gte: 50}")],
            otherwise="routine_care",
        ),
        step(
            "urgent_care",
            next_=[
                transition("completed", "follow_up_care", "{input: induction_completed, eq: true}")
            ],
        ),
        step("routine_care", kind="terminal"),
        step("follow_up_care", kind="terminal"),
    ],
    entry="triage",
    inputs=["wbc_10e9_l", "induction_completed"],
    applies_to='{all: [{input: icd10, icd10_in: ["C91.0"]}, {input: age_years, lt: 18}]}',
)

BASE = 'as_of: "2026-01-01T09:00:00+05:00", home_region: KZ-75'
CASES = f"""\
protocol: tiny
cases:
  - name: a new child with WBC 50 walks through triage to urgent care
    patient: {{{BASE}, age_years: 17, diagnosis: {{icd10: C91.0}},
              observations: {{wbc_10e9_l: 50}}}}
    expect: {{status: routed, step: urgent_care}}
  - name: WBC just below 50 at triage is routine
    patient: {{{BASE}, age_years: 5, position: {{protocol: tiny, step: triage}},
              observations: {{wbc_10e9_l: 49.99}}}}
    expect: {{status: routed, step: routine_care}}
  - name: WBC just above 50 at triage is urgent
    patient: {{{BASE}, age_years: 5, position: {{protocol: tiny, step: triage}},
              observations: {{wbc_10e9_l: 50.01}}}}
    expect: {{status: routed, step: urgent_care}}
"""


@pytest.fixture
def tiny(tmp_path: Path, make_bundle: Callable[..., Path]) -> tuple[Path, Path]:
    bundle = make_bundle({"tiny.yaml": TINY})
    cases = tmp_path / "cases" / "tiny.yaml"
    cases.parent.mkdir()
    cases.write_text(CASES, encoding="utf-8")
    return bundle, cases


def test_tiny_bundle_coverage_is_exact(tiny: tuple[Path, Path]) -> None:
    bundle_dir, cases_file = tiny
    bundle = pr.load_bundle(bundle_dir, engine="reference")
    report = measure_coverage(bundle, read_cases([cases_file])).to_dict()
    assert report["cases"] == 3
    assert report["errors"] == []
    (tiny_report,) = [p for p in report["protocols"] if p["protocol"] == "tiny"]
    assert tiny_report["cases"] == 3
    steps = tiny_report["steps"]
    assert (steps["covered"], steps["total"], steps["percent"]) == (3, 4, 75.0)
    assert [item["step"] for item in steps["missed"]] == ["follow_up_care"]
    transitions = tiny_report["transitions"]
    assert (transitions["covered"], transitions["total"], transitions["percent"]) == (2, 3, 66.7)
    assert [(m["step"], m["transition"]) for m in transitions["missed"]] == [
        ("urgent_care", "completed")
    ]
    assert tiny_report["overrides"]["total"] == 0
    boundaries = tiny_report["boundaries"]
    assert (boundaries["covered"], boundaries["total"], boundaries["percent"]) == (1, 2, 50.0)
    assert (boundaries["points_hit"], boundaries["points_total"]) == (4, 6)
    (missed,) = boundaries["missed"]
    # Only the child without a position had applies_to evaluated: age 17 seen, 18 and 19 not.
    assert missed["owner"] == "applies_to"
    assert (missed["input"], missed["operator"], missed["constant"]) == ("age_years", "lt", 18)
    assert missed["points"] == [17, 18, 19]
    assert missed["missing"] == [18, 19]
    assert missed["span"].endswith("tiny.yaml:10")


def test_missed_items_carry_file_and_line(tiny: tuple[Path, Path]) -> None:
    bundle_dir, cases_file = tiny
    bundle = pr.load_bundle(bundle_dir, engine="reference")
    report = measure_coverage(bundle, read_cases([cases_file])).to_dict()
    (tiny_report,) = [p for p in report["protocols"] if p["protocol"] == "tiny"]
    spans = [m["span"] for m in tiny_report["transitions"]["missed"]]
    text = TINY.splitlines()
    for span in spans:
        file, line = span.rsplit(":", 1)
        assert file.endswith("tiny.yaml")
        assert "completed" in text[int(line) - 1]


def test_coverage_cli_text_and_json(tiny: tuple[Path, Path]) -> None:
    bundle_dir, cases_file = tiny
    runner = CliRunner()
    result = runner.invoke(
        main, ["coverage", str(cases_file.parent), "--protocols", str(bundle_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "tiny (" in result.output
    assert "steps reached" in result.output
    assert "75.0%" in result.output
    assert "missed transition" in result.output
    assert "urgent_care.completed" in result.output
    assert "missed boundary" in result.output
    assert "no case at 18, 19" in result.output
    result = runner.invoke(
        main,
        ["coverage", str(cases_file), "--protocols", str(bundle_dir), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"cases", "errors", "totals", "protocols"}
    assert data["totals"]["steps"]["covered"] >= 3


def test_unroutable_case_is_listed_not_fatal(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    bundle_dir, _ = tiny
    cases = tmp_path / "bad.yaml"
    cases.write_text(
        f"cases:\n  - name: bad region\n    patient: {{{BASE.replace('KZ-75', 'XX')}}}\n"
        "    expect: {}\n",
        encoding="utf-8",
    )
    bundle = pr.load_bundle(bundle_dir, engine="reference")
    report = measure_coverage(bundle, read_cases([cases])).to_dict()
    assert report["cases"] == 1
    (error,) = report["errors"]
    assert error["case"] == f"{cases}:2"
    assert "home_region" in error["problem"]


def test_unreadable_case_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CaseFileError):
        read_cases([missing])
    result = CliRunner().invoke(main, ["coverage", str(missing)])
    assert result.exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - name: no patient\n    expect: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["coverage", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2" in result.output


def test_shipped_cases_route_and_reach_most_steps() -> None:
    """Every shipped case routes; the numbers are quoted in docs/coverage-and-diff.md."""
    bundle = pr.load_bundle(PROTOCOLS_DIR, engine="reference")
    report = measure_coverage(bundle, read_cases([REPO_ROOT / "tests" / "cases"])).to_dict()
    assert report["errors"] == []
    assert report["cases"] >= 200
    assert report["totals"]["steps"]["percent"] >= 80
    assert report["totals"]["overrides"]["percent"] == 100.0
