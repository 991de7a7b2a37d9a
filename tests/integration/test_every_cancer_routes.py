"""Every child with cancer gets a pathway (issue 12): one representative diagnosis per ICCC-3
subgroup is routed, never ``not_applicable``, to a facility of regional or republican level;
disease protocols keep precedence over the catch-all pathway."""

from __future__ import annotations

from typing import Any

import pytest

import pedonc_routing as pr
from iccc3_representatives import REPRESENTATIVES
from pedonc_routing.classification import classify

#: ICCC-3 subgroups a disease protocol of the shipped bundle claims for its representative.
DISEASE_PROTOCOL = {
    "Ia": "all",
    "IIa": "hodgkin_lymphoma",
    "IIc": "burkitt_lymphoma",
    "V": "retinoblastoma",
    "VIa": "wilms_tumour",
}


def new_patient(icd10: str, morphology: str | None, topography: str | None) -> dict[str, Any]:
    diagnosis = {"icd10": icd10}
    if morphology is not None:
        diagnosis["icdo3_morphology"] = morphology
    if topography is not None:
        diagnosis["icdo3_topography"] = topography
    return {
        "patient_id": "anon-0012",
        "as_of": "2026-11-22T09:00:00+05:00",
        "birth_date": "2016-01-01",
        "sex": "F",
        "home_region": "KZ-39",
        "diagnosis": diagnosis,
    }


@pytest.fixture(scope="module")
def bundle() -> pr.Bundle:
    return pr.load_bundle()


@pytest.mark.parametrize("subgroup", sorted(REPRESENTATIVES))
def test_every_iccc3_subgroup_is_routed(bundle: pr.Bundle, subgroup: str) -> None:
    icd10, morphology, topography = REPRESENTATIVES[subgroup]
    found = classify(morphology, topography)
    assert found is not None
    assert found.subgroup == subgroup
    decision = bundle.route(new_patient(icd10, morphology, topography))
    assert decision.status == "routed", decision.summary()
    assert decision.facility is not None
    assert decision.facility.level in {"regional", "republican"}
    assert decision.protocol is not None
    assert decision.protocol.id == DISEASE_PROTOCOL.get(subgroup, "other_malignancy")


@pytest.mark.parametrize(
    ("icd10", "morphology"),
    [
        ("C22.0", "8970/3"),  # hepatoblastoma
        ("C40.0", "9180/3"),  # osteosarcoma
        ("C71.6", "9470/3"),  # medulloblastoma
        ("C92.0", "9861/3"),  # AML: no disease protocol on this bundle
        ("C49.9", None),  # a C-code without morphology
        ("C97", None),  # multiple independent primaries
    ],
)
def test_any_c_code_is_routed_by_a_pathway(
    bundle: pr.Bundle, icd10: str, morphology: str | None
) -> None:
    decision = bundle.route(new_patient(icd10, morphology, None))
    assert decision.status == "routed", decision.summary()
    assert decision.facility is not None
    assert decision.facility.level in {"regional", "republican"}


def test_all_still_gets_the_all_protocol(bundle: pr.Bundle) -> None:
    decision = bundle.route(new_patient("C91.0", "9836/3", "C42.1"))
    assert decision.status == "routed"
    assert decision.protocol is not None
    assert decision.protocol.id == "all"
