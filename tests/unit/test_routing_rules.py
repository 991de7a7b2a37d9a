"""The `routing_rules` document: its order of strategies decides the facility, and a
malformed one is reported at its line instead of being guessed around."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import get_args

import pytest
import yaml

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, PROTOCOLS_DIR
from pedonc_routing.model.documents import Strategy
from pedonc_routing.routing.network import (
    STRATEGY_FUNCTIONS,
    at_least_level,
    attached_primary_care_serves,
)

STANDARD_RISK = EXAMPLES_DIR / "01_b_all_standard_risk.yaml"


def bundle_with_rules(root: Path, rules: str) -> Path:
    shutil.copytree(PROTOCOLS_DIR, root)
    (root / "routing_rules.yaml").write_text(rules, encoding="utf-8")
    return root


def rules_text(urgent: str) -> str:
    return (
        "kind: routing_rules\n"
        'version: "test"\n'
        "order:\n"
        "  emergency: [continuity, nearest_capable]\n"
        f"  urgent: {urgent}\n"
        "  routine: [continuity, catchment_regional, catchment_republican]\n"
    )


def test_shipped_rules_route_planned_care_by_catchment(shipped_bundle: pr.Bundle) -> None:
    patient = yaml.safe_load(STANDARD_RISK.read_text(encoding="utf-8"))
    decision = shipped_bundle.route(patient)
    assert decision.explanation[-1].rule.startswith("facility.catchment_")


def test_order_of_strategies_decides(tmp_path: Path) -> None:
    patient = yaml.safe_load(STANDARD_RISK.read_text(encoding="utf-8"))
    patient["home_region"] = "KZ-47"  # Mangystau: far from both republican centres
    nearest = pr.load_bundle(bundle_with_rules(tmp_path / "a", rules_text("[nearest_capable]")))
    catchment = pr.load_bundle(
        bundle_with_rules(tmp_path / "b", rules_text("[catchment_republican, nearest_capable]"))
    )
    by_nearest = nearest.route(patient)
    by_catchment = catchment.route(patient)
    assert by_nearest.explanation[-1].rule == "facility.nearest_capable"
    assert by_catchment.explanation[-1].rule == "facility.catchment_republican"
    assert by_nearest.facility is not None
    assert by_catchment.facility is not None
    assert by_nearest.facility.travel_hours is not None
    assert by_catchment.facility.travel_hours is not None
    assert by_nearest.facility.travel_hours <= by_catchment.facility.travel_hours


def test_no_strategy_finds_a_facility_is_no_route(tmp_path: Path) -> None:
    patient = yaml.safe_load(STANDARD_RISK.read_text(encoding="utf-8"))
    bundle = pr.load_bundle(bundle_with_rules(tmp_path / "c", rules_text("[continuity]")))
    decision = bundle.route(patient)  # no current facility: continuity cannot apply
    assert decision.status == "no_route"
    assert "tried: continuity" in decision.explanation[-1].because


@pytest.mark.parametrize(
    ("urgent", "message"),
    [
        ("[continuity, teleport]", "order.urgent"),
        ("[continuity, continuity]", "without repeats"),
    ],
)
def test_malformed_rules_are_reported(tmp_path: Path, urgent: str, message: str) -> None:
    report = pr.validate(bundle_with_rules(tmp_path / "d", rules_text(urgent)))
    assert not report.ok
    [issue] = [issue for issue in report.errors if issue.file.endswith("routing_rules.yaml")]
    assert issue.code == "S001"
    assert message in issue.message
    assert (issue.line, issue.column) == ((5, 24) if "teleport" in urgent else (4, 3))


def test_a_second_rules_document_is_refused(tmp_path: Path) -> None:
    root = bundle_with_rules(tmp_path / "e", rules_text("[nearest_capable]"))
    (root / "more_rules.yaml").write_text(rules_text("[continuity]"), encoding="utf-8")
    codes = {issue.code for issue in pr.validate(root).errors}
    assert codes == {"S003"}


def test_every_strategy_name_has_one_function() -> None:
    """The names routing_rules.yaml may use and the functions that apply them match."""
    assert set(STRATEGY_FUNCTIONS) == set(get_args(Strategy))


def test_care_levels_rank_primary_to_republican() -> None:
    order = ["primary", "district", "regional", "republican"]
    for low, level in enumerate(order):
        for high, minimum in enumerate(order):
            assert at_least_level(level, minimum) == (low >= high)


@pytest.mark.parametrize(
    ("min_level", "setting", "serves"),
    [
        ("primary", "outpatient", True),
        ("primary", "inpatient", False),
        ("primary", "telemedicine", False),
        ("district", "outpatient", False),
    ],
)
def test_the_attached_polyclinic_serves_primary_outpatient_steps_only(
    min_level: str, setting: str, serves: bool
) -> None:
    assert attached_primary_care_serves(min_level, setting) is serves
