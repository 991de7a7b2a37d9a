"""Derived inputs: declared in a vocabulary as a weighted sum of other inputs (data, not
code), computed exactly at the declared precision, read by guards in both engines; a missing
term makes the derived input unknown and asks for the term. Vocabulary files merge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pedonc_routing as pr
from conftest import TEXT

DERIVED = """\
kind: vocabulary
version: test
inputs:
  anthracycline_score:
    type: number
    group: derived
    unit: mg/m2
    range: [0, 10000]
    precision: 1
    formula:
      sum:
        - {input: doxorubicin_mg_m2, factor: 1}
        - {input: daunorubicin_mg_m2, factor: 0.5}
    description: {en: test score}
"""

PROTOCOL = f"""\
kind: protocol
id: score
version: "1"
status: draft
title: {TEXT}
sources: [{{id: s, citation: "A test source, 2026, table 1"}}]
inputs: [anthracycline_score]
entry: check
steps:
  check:
    kind: follow_up
    title: {TEXT}
    family_info: {TEXT}
    care: {{specialist: pediatrician, min_level: primary, setting: outpatient}}
    next:
      - {{id: high, to: high, when: {{input: anthracycline_score, gte: 250}}, because: high}}
    otherwise: {{to: low, because: low}}
  high:
    kind: terminal
    title: {TEXT}
    family_info: {TEXT}
    care: {{specialist: pediatrician, min_level: primary, setting: outpatient}}
  low:
    kind: terminal
    title: {TEXT}
    family_info: {TEXT}
    care: {{specialist: pediatrician, min_level: primary, setting: outpatient}}
"""


def child(**exposures: Any) -> dict[str, Any]:
    return {
        "as_of": "2026-11-22T09:00:00+05:00",
        "age_years": 12,
        "home_region": "KZ-75",
        "position": {"protocol": "score", "step": "check"},
        "exposures": exposures,
    }


@pytest.fixture(params=["durable", "reference"])
def bundle(request: pytest.FixtureRequest, make_bundle: Callable[..., Path]) -> pr.Bundle:
    root = make_bundle(PROTOCOL, extra={"derived.yaml": DERIVED})
    return pr.load_bundle(root, engine=request.param)


@pytest.mark.parametrize(
    ("doxorubicin", "daunorubicin", "step"),
    [
        (200, 100, "high"),  # 200 + 50 = 250: on the boundary, gte holds
        (200, 99.8, "low"),  # 249.9
        (0, 500, "high"),
        (249.9, 0, "low"),
    ],
)
def test_weighted_sum_decides(
    bundle: pr.Bundle, doxorubicin: float, daunorubicin: float, step: str
) -> None:
    decision = bundle.route(child(doxorubicin_mg_m2=doxorubicin, daunorubicin_mg_m2=daunorubicin))
    assert decision.status == "routed"
    assert decision.step is not None
    assert decision.step.id == step
    facts = decision.explanation[0].facts
    assert facts["anthracycline_score"] == pytest.approx(doxorubicin + daunorubicin / 2)


def test_missing_term_asks_for_the_term(bundle: pr.Bundle) -> None:
    decision = bundle.route(child(doxorubicin_mg_m2=100))
    assert decision.status == "needs_data"
    assert decision.missing == ["daunorubicin_mg_m2"]


def test_derived_input_cannot_be_sent(bundle: pr.Bundle) -> None:
    patient = child(doxorubicin_mg_m2=1, daunorubicin_mg_m2=1)
    patient["observations"] = {"anthracycline_score": 900}
    with pytest.raises(pr.PatientDataError, match="anthracycline_score"):
        bundle.route(patient)


def test_formula_over_unknown_input_is_reported(make_bundle: Callable[..., Path]) -> None:
    broken = DERIVED.replace("daunorubicin_mg_m2, factor", "daunorubicine_mg_m2, factor")
    report = pr.validate(make_bundle(PROTOCOL, extra={"derived.yaml": broken}))
    [issue] = report.errors
    assert (issue.code, issue.line, issue.column) == ("R002", 13, 19)
    assert "did you mean 'daunorubicin_mg_m2'" in issue.message


def test_input_defined_in_two_vocabularies_is_reported(make_bundle: Callable[..., Path]) -> None:
    twice = DERIVED.replace("anthracycline_score:", "wbc_10e9_l:")
    report = pr.validate(make_bundle(PROTOCOL, extra={"derived.yaml": twice}))
    duplicate = [issue for issue in report.errors if issue.code == "R009"]
    # Files are read in name order: derived.yaml defines it first, vocabulary.yaml repeats it.
    assert [(i.file.rsplit("/", 1)[1], i.line, i.column) for i in duplicate] == [
        ("vocabulary.yaml", 11, 3)
    ]
    assert "derived.yaml" in duplicate[0].message
