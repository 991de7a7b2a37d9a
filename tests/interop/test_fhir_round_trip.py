"""FHIR in and out on the shipped data: every example patient -> Bundle (valid R4B) -> patient
-> the same decision; every decision -> CarePlan Bundle (valid); every protocol ->
PlanDefinition (valid, one action per step, one relatedAction per transition); the bundles
in examples/fhir/ are what the exporter makes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle as FhirBundle
from fhir.resources.R4B.plandefinition import PlanDefinition

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, REPO_ROOT
from pedonc_routing.interop.fhir import (
    codes,
    decision_to_fhir,
    patient_from_fhir,
    patient_to_fhir,
    plan_definition,
    read_fhir_patient,
)
from pedonc_routing.model.documents import Protocol

FHIR_EXAMPLES = REPO_ROOT / "examples" / "fhir"
ALL_PATIENT_FILES = sorted(
    path for path in EXAMPLES_DIR.rglob("*.yaml") if path.name != "expected.yaml"
)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize("path", ALL_PATIENT_FILES, ids=lambda p: str(p.relative_to(EXAMPLES_DIR)))
def test_round_trip_gives_the_same_decision(shipped_bundle: pr.Bundle, path: Path) -> None:
    patient = _load(path)
    exported = patient_to_fhir(patient)
    FhirBundle.model_validate(exported)  # raises when not valid FHIR R4B
    back = patient_from_fhir(json.dumps(exported))
    assert back.patient_id == patient["patient_id"]
    assert shipped_bundle.route(back).to_dict() == shipped_bundle.route(patient).to_dict()


@pytest.mark.parametrize("path", ALL_PATIENT_FILES, ids=lambda p: str(p.relative_to(EXAMPLES_DIR)))
def test_decision_bundle_validates(shipped_bundle: pr.Bundle, path: Path) -> None:
    patient = pr.PatientState.model_validate(_load(path))
    decision = shipped_bundle.route(patient)
    out = decision_to_fhir(decision, patient)
    FhirBundle.model_validate(out)
    (care_plan,) = _resources(out, "CarePlan")
    tags = {tag["system"]: tag["code"] for tag in care_plan["meta"]["tag"]}
    assert tags[codes.BUNDLE_HASH_SYSTEM] == shipped_bundle.content_hash
    assert tags[codes.DECISION_STATUS_SYSTEM] == decision.status
    references = {a["reference"]["reference"] for a in care_plan.get("activity", [])}
    assert references == {
        e["fullUrl"]
        for e in out["entry"]
        if e["resource"]["resourceType"] in ("ServiceRequest", "Task")
    }
    if decision.protocol is not None:
        assert care_plan["instantiatesCanonical"] == [
            f"{codes.PLAN_DEFINITION_BASE}/{codes.fhir_id(decision.protocol.id)}"
            f"|{decision.protocol.version}"
        ]


def test_routed_decision_names_facility_specialist_and_due_time(
    shipped_bundle: pr.Bundle,
) -> None:
    patient = _load(EXAMPLES_DIR / "febrile_neutropenia" / "01_fires_from_all_consolidation.yaml")
    decision = shipped_bundle.route(patient)
    assert decision.facility is not None
    assert decision.specialist is not None
    assert decision.step is not None
    out = decision_to_fhir(decision)
    step_request = next(
        r
        for r in _resources(out, "ServiceRequest")
        if r["code"]["coding"][0]["system"] == codes.STEP_SYSTEM
    )
    assert step_request["occurrencePeriod"]["end"] == decision.step.due_at
    assert step_request["priority"] == "stat"
    (organization,) = _resources(out, "Organization")
    assert organization["identifier"][0]["value"] == decision.facility.id
    (role,) = _resources(out, "PractitionerRole")
    assert role["code"][0]["coding"][0]["code"] == decision.specialist.id
    rules = [reason["coding"][0]["code"] for reason in step_request["reasonCode"]]
    assert rules == [item.rule for item in decision.explanation]
    (task,) = _resources(out, "Task")
    assert task["restriction"]["period"]["end"] == decision.step.due_at


def test_decision_bundles_of_two_children_share_no_full_url(shipped_bundle: pr.Bundle) -> None:
    """Same bundle, same as_of: the urn:uuid full URLs still differ per child and decision,
    and stay the same for the same decision."""
    first = pr.PatientState.model_validate(_load(EXAMPLES_DIR / "01_b_all_standard_risk.yaml"))
    second = first.model_copy(
        update={"patient_id": "anon-0002", "observations": {**first.observations, "wbc_10e9_l": 80}}
    )
    urls = []
    for patient in (first, second):
        out = decision_to_fhir(shipped_bundle.route(patient), patient)
        assert out == decision_to_fhir(shipped_bundle.route(patient), patient)
        urls.append({entry["fullUrl"] for entry in out["entry"]})
    assert not urls[0] & urls[1]


def test_patient_bundles_of_different_states_share_no_full_url() -> None:
    """Two children without ids at the same as_of, or one child at two moments: no shared
    urn:uuid; the same state: the same Bundle."""
    first = pr.PatientState.model_validate(_load(EXAMPLES_DIR / "01_b_all_standard_risk.yaml"))
    anonymous = first.model_copy(update={"patient_id": None})
    other_child = anonymous.model_copy(update={"birth_date": first.birth_date.replace(day=1)})  # type: ignore[union-attr]
    later = first.model_copy(update={"as_of": first.as_of.replace(hour=first.as_of.hour + 1)})
    bundles = [patient_to_fhir(state) for state in (first, anonymous, other_child, later)]
    assert bundles[0] == patient_to_fhir(first)
    urls = [{entry["fullUrl"] for entry in bundle["entry"]} for bundle in bundles]
    for index, mine in enumerate(urls):
        for theirs in urls[index + 1 :]:
            assert not mine & theirs


def test_needs_data_decision_asks_for_each_missing_input(shipped_bundle: pr.Bundle) -> None:
    decision = shipped_bundle.route(_load(EXAMPLES_DIR / "10_needs_data_no_immunophenotype.yaml"))
    out = decision_to_fhir(decision)
    (task,) = _resources(out, "Task")
    assert [item["valueString"] for item in task["input"]] == decision.missing
    assert _resources(out, "CarePlan")[0]["status"] == "on-hold"


def test_decision_care_plan_is_the_next_position(shipped_bundle: pr.Bundle) -> None:
    """A patient Bundle plus the decision's CarePlan (created later) is read at the new step."""
    exported = patient_to_fhir(_load(EXAMPLES_DIR / "01_b_all_standard_risk.yaml"))
    read = read_fhir_patient(exported)
    decision = shipped_bundle.route(read.patient)
    assert decision.step is not None
    care_plan = _resources(decision_to_fhir(decision, subject=read.reference), "CarePlan")[0]
    assert care_plan["subject"] == {"reference": "Patient/anon-0001"}  # the resource id
    care_plan["created"] = "2026-11-22T09:30:00+05:00"
    exported["entry"].append({"resource": care_plan})
    later = patient_from_fhir(exported, as_of="2026-11-22T10:00:00+05:00")
    assert later.position is not None
    assert (later.position.protocol, later.position.step) == ("all", decision.step.id)


@pytest.mark.parametrize("path", sorted(FHIR_EXAMPLES.glob("[0-9]*.json")), ids=lambda p: p.name)
def test_shipped_example_bundles_are_the_exporters_output(path: Path) -> None:
    source = EXAMPLES_DIR / path.with_suffix(".yaml").name
    assert json.loads(path.read_text(encoding="utf-8")) == patient_to_fhir(_load(source))


def test_every_example_patient_has_a_fhir_bundle() -> None:
    expected = {path.stem for path in EXAMPLES_DIR.glob("[0-9]*.yaml")}
    assert {path.stem for path in FHIR_EXAMPLES.glob("[0-9]*.json")} == expected


def test_hand_written_bundle_converts_units_and_sums_doses(shipped_bundle: pr.Bundle) -> None:
    text = (FHIR_EXAMPLES / "hand_febrile_neutropenia_degF_cells_per_uL.json").read_bytes()
    read = read_fhir_patient(text)
    patient = read.patient
    assert patient.observations["temperature_c"] == pytest.approx(38.5)  # 101.3 [degF]
    assert patient.observations["anc_10e9_l"] == pytest.approx(0.3)  # 300 /uL
    assert patient.exposures["daunorubicin_mg_m2"] == 60  # 30 + 30 mg/m2
    assert any("Observation: code not mapped" in line for line in read.ignored)  # heart rate
    assert any("after as_of" in line for line in read.ignored)
    yaml_patient = _load(
        EXAMPLES_DIR / "febrile_neutropenia" / "01_fires_from_all_consolidation.yaml"
    )
    assert shipped_bundle.route(patient).to_dict() == shipped_bundle.route(yaml_patient).to_dict()


def test_hand_written_radiation_in_cgy_is_summed_per_site() -> None:
    patient = patient_from_fhir((FHIR_EXAMPLES / "hand_survivor_heart_rt_cgy.json").read_bytes())
    assert patient.exposures["heart_rt_gy"] == pytest.approx(15.0)  # 900 cGy + 600 cGy


# -- PlanDefinition -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol_id", pr.load_bundle().protocol_ids)
def test_plan_definition_validates_with_an_action_per_step(
    shipped_bundle: pr.Bundle, protocol_id: str
) -> None:
    protocol: Protocol = shipped_bundle.protocol(protocol_id)
    definition = plan_definition(shipped_bundle, protocol_id)
    PlanDefinition.model_validate(definition)
    assert definition["version"] == protocol.version
    assert definition["status"] == "draft"  # no shipped protocol is approved
    assert definition["experimental"] is True
    assert len(definition["relatedArtifact"]) == len(protocol.sources)
    actions = {action["id"]: action for action in definition["action"]}
    steps = [codes.fhir_id(step_id) for step_id in protocol.steps]
    assert list(actions)[: len(steps)] == steps  # then the exits (other protocols, return)
    assert all(key.startswith("exit.") or key == "return" for key in list(actions)[len(steps) :])
    for step_id, step in protocol.steps.items():
        action = actions[codes.fhir_id(step_id)]
        transitions = len(step.next) + (step.otherwise is not None)
        assert len(action.get("relatedAction", [])) == transitions
        stops = [c for c in action.get("condition", []) if c["kind"] == "stop"]
        assert len(stops) == len(step.next)
        for stop, transition in zip(stops, step.next, strict=True):
            assert _own_language(stop["expression"]) == transition.when.model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
            assert stop["expression"]["language"] == "text/fhirpath"
        if step.timing.due_within_hours is not None and step.timing.repeat_every_months is None:
            assert action["timingDuration"]["value"] == step.timing.due_within_hours
        assert action["participant"][0]["role"]["coding"][0]["code"] == step.care.specialist


def test_plan_definition_entry_step_carries_applies_to(shipped_bundle: pr.Bundle) -> None:
    protocol = shipped_bundle.protocol("all")
    assert protocol.applies_to is not None
    definition = plan_definition(shipped_bundle, "all")
    entry = next(a for a in definition["action"] if a["id"] == codes.fhir_id(protocol.entry))
    applicability = [c for c in entry["condition"] if c["kind"] == "applicability"]
    expected = protocol.applies_to.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert _own_language(applicability[0]["expression"]) == expected


def _own_language(expression: dict[str, Any]) -> Any:
    """The guard in our condition language, from the Expression's extension."""
    (extension,) = [e for e in expression["extension"] if e["url"] == codes.CONDITION_EXTENSION]
    parts = {part["url"]: part for part in extension["extension"]}
    assert parts["language"]["valueCode"] == codes.CONDITION_LANGUAGE
    return json.loads(parts["expression"]["valueString"])


def test_override_is_an_applicability_condition_of_its_target(shipped_bundle: pr.Bundle) -> None:
    protocol = shipped_bundle.protocol("febrile_neutropenia")
    (override,) = protocol.overrides
    definition = plan_definition(shipped_bundle, "febrile_neutropenia")
    target = next(a for a in definition["action"] if a["id"] == codes.fhir_id(override.to))
    descriptions = [c["expression"]["description"] for c in target["condition"]]
    assert any(d.startswith(f"override {override.id}:") for d in descriptions)
