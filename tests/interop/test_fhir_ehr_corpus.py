"""The EHR-style Bundle corpus (tests/interop/ehr_bundles/): each Bundle reads as the state in
expected.yaml and routes to the febrile-neutropenia emergency, or is refused with exactly the
listed problems. Before issue 14, five of these twelve silently missed the emergency (the
panel component, the later preliminary ANC, the alternative LOINC codes, another server's
patient and an orphan temperature, the unmapped temperature code).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import pedonc_routing as pr
from pedonc_routing.cli import main
from pedonc_routing.interop.fhir import read_fhir_patient

CORPUS = Path(__file__).resolve().parent / "ehr_bundles"
AS_OF = "2026-11-22T09:00:00+05:00"
EXPECTED: list[dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))


def test_every_corpus_bundle_has_an_expectation() -> None:
    assert sorted(path.name for path in CORPUS.glob("*.json")) == sorted(
        case["file"] for case in EXPECTED
    )


def test_the_corpus_is_what_make_bundles_writes() -> None:
    from ehr_bundles.make_bundles import make

    for name, bundle in make().items():
        assert json.loads((CORPUS / f"{name}.json").read_text("utf-8")) == bundle, name


@pytest.mark.parametrize("case", EXPECTED, ids=lambda case: case["file"])
def test_corpus_bundle_reads_as_expected(shipped_bundle: pr.Bundle, case: dict[str, Any]) -> None:
    source = (CORPUS / case["file"]).read_bytes()
    if "problems" in case:
        with pytest.raises(pr.PatientDataError) as caught:
            read_fhir_patient(source, as_of=AS_OF)
        assert list(caught.value.problems) == case["problems"]
        return
    read = read_fhir_patient(source, as_of=AS_OF)
    for name, value in case.get("observations", {}).items():
        assert read.patient.observations.get(name) == value, name
    if "diagnosis" in case:
        assert read.patient.diagnosis.model_dump() == case["diagnosis"]
    assert list(read.ignored) == case["ignored"]
    assert read.reference == "Patient/p-child"
    decision = shipped_bundle.route(read.patient)
    assert decision.step is not None
    assert (decision.step.id, decision.urgency) == (case["step"], "emergency")


def test_a_bundle_without_timestamp_needs_as_of_on_the_cli(tmp_path: Path) -> None:
    path = CORPUS / "12_no_timestamp.json"
    runner = CliRunner()
    refused = runner.invoke(main, ["route", "--fhir", str(path)])
    assert refused.exit_code == 1
    assert "Bundle.timestamp: required when as_of is not given" in refused.output
    routed = runner.invoke(
        main, ["route", "--fhir", str(path), "--as-of", AS_OF, "--format", "json"]
    )
    assert routed.exit_code == 0, routed.output
    assert json.loads(routed.output)["step"]["id"] == "emergency_assessment"


def test_several_patients_without_a_search_match_must_be_named() -> None:
    bundle = json.loads((CORPUS / "02_mother_in_the_same_bundle.json").read_text("utf-8"))
    for item in bundle["entry"]:
        item.pop("search", None)
    with pytest.raises(pr.PatientDataError, match=r"more than one Patient resource"):
        read_fhir_patient(bundle, as_of=AS_OF)
    read = read_fhir_patient(bundle, as_of=AS_OF, patient="p-child")
    assert read.patient.observations["temperature_c"] == 38.5
    mother = read_fhir_patient(bundle, as_of=AS_OF, patient="Patient/p-mother")
    assert mother.patient.observations == {"temperature_c": 36.6}  # hers only


def test_cli_output_subject_is_the_patient_resource_and_requester_is_set(tmp_path: Path) -> None:
    path = CORPUS / "01_vital_signs_panel_component.json"
    result = CliRunner().invoke(
        main,
        ["route", "--fhir", str(path), "--output", "fhir", "--requester", "PractitionerRole/r1"],
    )
    assert result.exit_code == 0, result.output
    resources = [item["resource"] for item in json.loads(result.output)["entry"]]
    for resource in resources:
        if resource["resourceType"] in ("CarePlan", "ServiceRequest"):
            assert resource["subject"] == {"reference": "Patient/p-child"}
        if resource["resourceType"] in ("ServiceRequest", "Task"):
            assert resource["requester"] == {"reference": "PractitionerRole/r1"}
