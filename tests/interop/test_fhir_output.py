"""FHIR output details: the CPG-style proposal ($apply), PlanDefinition integrity (unique
action ids, every relatedAction inside the resource, url and id, date), the FHIRPath form of
every guard (parsed and evaluated by an independent engine, fhirpathpy), and the vital-signs
category on exported temperatures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
import yaml
from fhir.resources.R4B.careplan import CarePlan

import pedonc_routing as pr
from conftest import EXAMPLES_DIR
from pedonc_routing.interop.fhir import (
    codes,
    decision_to_fhir,
    decision_to_proposal,
    patient_to_fhir,
    plan_definition,
)

FEBRILE = EXAMPLES_DIR / "febrile_neutropenia" / "01_fires_from_all_consolidation.yaml"


def _patient(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _walk(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for action in actions:
        found.append(action)
        found += _walk(action.get("action", []))
    return found


# -- proposal -------------------------------------------------------------------------------


def test_proposal_is_a_care_plan_with_a_request_group(shipped_bundle: pr.Bundle) -> None:
    decision = shipped_bundle.route(_patient(FEBRILE))
    proposal = decision_to_proposal(decision, subject="Patient/p1", requester="PractitionerRole/r")
    CarePlan.model_validate(proposal)
    assert (proposal["intent"], proposal["status"]) == ("proposal", "draft")
    assert proposal["activity"] == [{"reference": {"reference": "#request-group"}}]
    contained = {item["id"]: item for item in proposal["contained"]}
    group = contained["request-group"]
    assert (group["resourceType"], group["intent"], group["status"]) == (
        "RequestGroup",
        "proposal",
        "draft",
    )
    assert group["priority"] == "stat"  # the emergency
    assert group["instantiatesCanonical"] == [
        f"{codes.plan_definition_url('febrile_neutropenia')}|2026.1"
    ]
    proposed = [contained[action["resource"]["reference"][1:]] for action in group["action"]]
    assert [item["resourceType"] for item in proposed] == ["ServiceRequest", "Task"]
    for item in proposed:
        assert item["intent"] == "proposal"
        assert item["requester"] == {"reference": "PractitionerRole/r"}
        assert item.get("subject", item.get("for")) == {"reference": "Patient/p1"}
    # every local reference resolves to a contained resource, none points outside
    text = json.dumps(proposal)
    assert "urn:uuid:" not in text
    for reference in _references(proposal):
        assert reference.startswith(("#", "Patient/", "PractitionerRole/r")), reference
        if reference.startswith("#"):
            assert reference[1:] in contained


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def test_proposal_for_needs_data_proposes_collecting_it(shipped_bundle: pr.Bundle) -> None:
    patient = _patient(EXAMPLES_DIR / "10_needs_data_no_immunophenotype.yaml")
    decision = shipped_bundle.route(patient)
    assert decision.status == "needs_data"
    proposal = decision_to_proposal(decision)
    (task,) = [item for item in proposal["contained"] if item["resourceType"] == "Task"]
    assert task["code"]["coding"][0]["code"] == "collect-data"
    assert task["intent"] == "proposal"
    # the order-level Bundle of the same decision is unchanged
    ordered = decision_to_fhir(decision)
    assert {e["resource"]["intent"] for e in ordered["entry"] if "intent" in e["resource"]} == {
        "plan",
        "order",
    }


# -- PlanDefinition -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_id", pr.load_bundle().protocol_ids)
def test_plan_definition_ids_and_relations_stay_inside(
    shipped_bundle: pr.Bundle, protocol_id: str
) -> None:
    definition = plan_definition(shipped_bundle, protocol_id, date="2026-12-01")
    assert definition["url"].endswith("/" + definition["id"])
    assert definition["date"] == "2026-12-01"
    actions = _walk(definition["action"])
    ids = [action["id"] for action in actions]
    assert len(ids) == len(set(ids)), "action ids must be unique"
    for action in actions:
        for related in action.get("relatedAction", []):
            assert related["actionId"] in ids
    protocol = shipped_bundle.protocol(protocol_id)
    for action in actions:
        if action["id"].startswith("exit."):
            target = action["code"][0]["coding"][0]["code"].split(".")[0]
            assert target != protocol.id
            assert action["definitionCanonical"] == codes.plan_definition_url(target)


def test_survivorship_follow_ups_given_twice_get_distinct_ids(shipped_bundle: pr.Bundle) -> None:
    definition = plan_definition(shipped_bundle, "survivorship", date="2026-12-01")
    step = next(a for a in definition["action"] if a["id"] == "long-term-follow-up")
    ids = [item["id"] for item in step["action"]]
    assert "long-term-follow-up.echocardiogram-2" in ids
    assert len(ids) == len(set(ids))


def test_return_is_an_explicit_action(shipped_bundle: pr.Bundle) -> None:
    definition = plan_definition(shipped_bundle, "febrile_neutropenia", date="2026-12-01")
    related = {
        rel["actionId"]
        for action in _walk(definition["action"])
        for rel in action.get("relatedAction", [])
    }
    assert "return" in related
    assert any(action["id"] == "return" for action in definition["action"])


def test_plan_definition_date_defaults_to_the_review_date(shipped_bundle: pr.Bundle) -> None:
    definition = plan_definition(shipped_bundle, "all")
    assert len(definition["date"]) == 10  # today (UTC) for a draft without review date


# -- FHIRPath ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_id", pr.load_bundle().protocol_ids)
def test_every_condition_is_fhirpath_an_engine_compiles(
    shipped_bundle: pr.Bundle, protocol_id: str
) -> None:
    definition = plan_definition(shipped_bundle, protocol_id, date="2026-12-01")
    for action in _walk(definition["action"]):
        for condition in action.get("condition", []):
            expression = condition["expression"]
            assert expression["language"] == "text/fhirpath"
            fhirpathpy.compile(expression["expression"])


def _evaluate(expression: str, inputs: dict[str, Any]) -> bool:
    result = fhirpathpy.compile(expression)({}, inputs)
    return result == [True]


def _febrile(chemo: bool, anc: float, temperature: float, sustained: bool) -> dict[str, Any]:
    return {
        "on_chemotherapy": chemo,
        "anc_10e9_l": anc,
        "temperature_c": temperature,
        "fever_sustained_1h": sustained,
    }


@pytest.mark.parametrize(
    ("inputs", "fires"),
    [
        (_febrile(True, 0.3, 38.5, False), True),
        (_febrile(True, 0.3, 38.1, True), True),
        (_febrile(True, 0.3, 38.1, False), False),
        (_febrile(True, 0.5, 39.0, False), False),
        (_febrile(False, 0.1, 39.0, False), False),
    ],
)
def test_febrile_neutropenia_guard_evaluates_as_the_router_decides(
    shipped_bundle: pr.Bundle, inputs: dict[str, Any], fires: bool
) -> None:
    definition = plan_definition(shipped_bundle, "febrile_neutropenia", date="2026-12-01")
    (override,) = [
        condition["expression"]["expression"]
        for action in definition["action"]
        for condition in action.get("condition", [])
        if condition["expression"]["description"].startswith("override")
    ]
    assert _evaluate(override, inputs) is fires
    # the router agrees on the same inputs (FN example, its observations replaced)
    patient = _patient(FEBRILE)
    patient["observations"].update(inputs)
    decision = shipped_bundle.route(patient)
    assert decision.step is not None
    assert (decision.step.id == "emergency_assessment") is fires


@pytest.mark.parametrize(
    ("code", "inside"),
    [
        ("C91.0", True),
        ("C22.2", True),
        ("D48.9", True),
        ("D50.1", False),
        ("Z08", True),
        ("B20", False),
    ],
)
def test_icd10_ranges_and_prefixes_match_as_in_the_protocol(
    shipped_bundle: pr.Bundle, code: str, inside: bool
) -> None:
    from pedonc_routing.interop.fhir.fhirpath import to_fhirpath
    from pedonc_routing.model.conditions import Test

    test = Test.model_validate(
        {"input": "icd10", "icd10_in": ["C00-D48", "Z08", "Z51.0", "Z51.1", "Z85", "Z92.3"]}
    )
    assert _evaluate(to_fhirpath(test), {"icd10": code}) is inside


@pytest.mark.parametrize(
    ("code", "inside"),
    [("9421/1", True), ("9421/3", False), ("9380/1", False), ("9384/1", True), ("9450/1", False)],
)
def test_morphology_ranges_match_digits_and_behaviour(code: str, inside: bool) -> None:
    from pedonc_routing.interop.fhir.fhirpath import to_fhirpath
    from pedonc_routing.model.conditions import Test

    test = Test.model_validate({"input": "m", "morphology_in": ["9421/1", "9383-9384/1"]})
    assert _evaluate(to_fhirpath(test), {"m": code}) is inside


# -- patient export -----------------------------------------------------------------------


def test_exported_temperature_carries_the_vital_signs_category() -> None:
    bundle = patient_to_fhir(_patient(FEBRILE))
    (temperature,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "8310-5"
    ]
    assert temperature["category"][0]["coding"][0]["code"] == "vital-signs"
    others = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and e["resource"] is not temperature
    ]
    assert others
    assert all("category" not in item for item in others)
