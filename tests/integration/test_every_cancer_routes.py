"""Every child with cancer gets a pathway (issue 12): one representative diagnosis per ICCC-3
subgroup is routed, never ``not_applicable``, to a facility of regional or republican level;
disease protocols keep precedence over the catch-all pathway."""

from __future__ import annotations

from typing import Any

import pytest

import pedonc_routing as pr
from pedonc_routing.classification import classify
from pedonc_routing.classification.representatives import REPRESENTATIVES

#: ICCC-3 subgroups a disease protocol of the shipped bundle claims for its representative
#: (the others go to the catch-all pathway, `other_malignancy`).
DISEASE_PROTOCOL = {
    "Ia": "all",
    "Ib": "aml",
    "Ic": "cml",
    "Id": "jmml",
    "IIa": "hodgkin_lymphoma",
    "IIb": "lymphoblastic_lymphoma",
    "IIc": "burkitt_lymphoma",
    "IId": "langerhans_cell_histiocytosis",
    "IIIa": "ependymoma",
    "IIIc": "medulloblastoma",
    "IIIe": "craniopharyngioma",
    "IVa": "neuroblastoma",
    "V": "retinoblastoma",
    "VIa": "wilms_tumour",
    "VIIa": "hepatoblastoma",
    "VIIIa": "osteosarcoma",
    "VIIIc": "ewing_sarcoma",
    "IXa": "rhabdomyosarcoma",
    "Xa": "cns_germ_cell_tumour",
    "Xb": "germ_cell_tumour_extracranial",
    "Xc": "germ_cell_tumour_extracranial",
    "XIa": "adrenocortical_carcinoma",
    "XIb": "thyroid_carcinoma",
    "XIc": "nasopharyngeal_carcinoma",
    "XId": "melanoma",
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
    # Every decision names the child's ICCC-3 category, for registries and reports.
    assert decision.iccc3 is not None
    assert (decision.iccc3.subgroup, decision.iccc3.main_group) == (
        found.subgroup,
        found.main_group,
    )


@pytest.mark.parametrize(
    ("icd10", "morphology"),
    [
        ("C22.0", "8970/3"),  # hepatoblastoma
        ("C40.0", "9180/3"),  # osteosarcoma
        ("C71.6", "9470/3"),  # medulloblastoma
        ("C92.0", "9861/3"),  # AML
        ("C49.0", "8910/3"),  # embryonal rhabdomyosarcoma
        ("C49.9", "8800/3"),  # soft-tissue sarcoma NOS: the catch-all
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


def test_a_code_a_disease_protocol_may_claim_asks_for_the_morphology(bundle: pr.Bundle) -> None:
    """C49.9 without morphology may be a rhabdomyosarcoma (its own protocol, higher priority
    than the catch-all): the answer asks for the morphology instead of guessing."""
    decision = bundle.route(new_patient("C49.9", None, None))
    assert decision.status == "needs_data"
    assert decision.missing == ["icdo3_morphology"]


def test_decision_without_a_classifiable_morphology_has_no_iccc3(bundle: pr.Bundle) -> None:
    # 9811/3 (B-lymphoblastic leukaemia with t(9;22)) entered ICD-O-3 after the 2005 ICCC-3
    # table this library ships: no category is guessed.
    assert bundle.route(new_patient("C91.0", "9811/3", "C42.1")).iccc3 is None
    assert bundle.route(new_patient("C91.0", None, None)).iccc3 is None
    typed = bundle.route(new_patient("C91.0", "9836/3", "C42.1")).to_dict()["iccc3"]
    assert typed["division"] == "Ia.1"
    assert typed["division_name"] == "Precursor cell leukemias"


def test_all_still_gets_the_all_protocol(bundle: pr.Bundle) -> None:
    decision = bundle.route(new_patient("C91.0", "9836/3", "C42.1"))
    assert decision.status == "routed"
    assert decision.protocol is not None
    assert decision.protocol.id == "all"
