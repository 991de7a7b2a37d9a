"""Shared by the render tests: one example patient per decision status, and input titles."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

import pedonc_routing as pr
from pedonc_routing.model.documents import LocalizedText
from pedonc_routing.render.family import input_titles as bundle_input_titles

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"

#: One example patient for each decision status (and an override into another protocol).
PATIENT_BY_STATUS = {
    "routed": "01_b_all_standard_risk.yaml",
    "routed_override": "febrile_neutropenia/01_fires_from_all_consolidation.yaml",
    "needs_data": "18_eoi_needs_mrd.yaml",
    "no_route": "survivorship/21_breast_surveillance_age_25.yaml",
    "completed": "19_palliative_care_completed.yaml",
    "not_applicable": "20_not_applicable_adult_hepatoblastoma.yaml",
    "follow_ups": "15_handover_to_survivorship.yaml",
}


def read_patient(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


@cache
def input_titles() -> dict[str, LocalizedText]:
    """The shipped vocabulary's input titles, computed once per test session."""
    return bundle_input_titles(pr.load_bundle(engine="reference"))
