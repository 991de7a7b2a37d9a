"""YAML test cases (``tests/cases/*.yaml``): a patient in, the expected decision fields out.

Protocol authors write these without Python. Each file::

    protocol: hodgkin_lymphoma          # informational
    cases:
      - name: stage IA, early response adequate
        patient: {...}                  # a patient state inline, or
        file: examples/patients/hodgkin_lymphoma/01_stage_ia.yaml   # a path from the repo
        expect:                         # every key is optional; only given keys are checked
          status: routed
          protocol: hodgkin_lymphoma
          step: induction
          urgency: urgent
          facility_level: republican
          facility: kz75_scpps
          specialist: pediatric_oncologist
          missing: []
          follow_ups: [echocardiogram]  # ids, in any order; [] means none
          follow_up_intervals: {echocardiogram: 24}

Every case runs with both engines, which must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import pedonc_routing as pr
from conftest import REPO_ROOT
from pedonc_routing.testing.pytest_plugin import CASE_KEYS, case_differences  # the plugin's own

CASES_DIR = Path(__file__).resolve().parent / "cases"


def load_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, case in enumerate(document["cases"]):
            if "file" in case:
                patient_text = (REPO_ROOT / case["file"]).read_text(encoding="utf-8")
                patient = yaml.safe_load(patient_text)
            else:
                patient = case["patient"]
            name = f"{path.stem}[{index}] {case.get('name', '')}".strip()
            cases.append((name, patient, case["expect"]))
    return cases


CASES = load_cases()


@pytest.mark.parametrize(("name", "patient", "expect"), CASES, ids=[case[0] for case in CASES])
def test_case(
    shipped_bundle: pr.Bundle,
    reference_bundle: pr.Bundle,
    name: str,
    patient: dict[str, Any],
    expect: dict[str, Any],
) -> None:
    assert set(expect) <= CASE_KEYS, f"{name}: unknown expect keys {set(expect) - CASE_KEYS}"
    decision = shipped_bundle.route(patient)
    assert case_differences(decision, expect) == {}, decision.summary()
    reference = reference_bundle.route(patient).to_dict()
    assert {k: v for k, v in decision.to_dict().items() if k != "engine"} == {
        k: v for k, v in reference.items() if k != "engine"
    }
