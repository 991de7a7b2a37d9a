"""PatientState -> FHIR Bundle (type collection): the inverse of patient_in.py.

Used to make the example bundles in ``examples/fhir/`` and to prove the round trip (a
patient read back from its Bundle gets the same decision). Every value is recorded at
``as_of``. Drug doses above 0 become MedicationAdministrations, radiation doses above 0
radiotherapy Procedures; every other input, and a dose of 0 (a known "none"), is an
Observation, coded by LOINC where one exists and by the project code system otherwise.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from pedonc_routing.errors import PatientDataError
from pedonc_routing.intake.patient import shape_problems
from pedonc_routing.interop.fhir import codes
from pedonc_routing.model.patient import PatientState

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_DRUG_BY_INPUT = {coded.input: coded for coded in codes.DRUGS if coded.system == codes.ATC}
_SITE_BY_INPUT = {coded.input: coded for coded in codes.RADIATION_SITES}
_VITAL_SIGNS = {
    "coding": [
        {"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}
    ]
}


def patient_to_fhir(patient: PatientState | Mapping[str, Any]) -> dict[str, Any]:
    """A FHIR R4 Bundle (collection) holding the patient's state; deterministic."""
    state = _state(patient)
    as_of = state.as_of.isoformat()
    # Seeded by the whole state: the same state gives the same Bundle, and two states (two
    # children without ids, or one child at two moments) never share a urn:uuid.
    urls = _Urls(hashlib.sha256(state.model_dump_json().encode()).hexdigest())
    subject = {"reference": urls.of("Patient")}
    resources: list[tuple[str, dict[str, Any]]] = [(urls.of("Patient"), _patient(state))]
    if any(state.diagnosis.model_dump().values()):
        resources.append((urls.of("Condition"), _condition(state, subject)))
    for name in ("age_years", "age_months"):
        value = getattr(state, name)
        if value is not None and state.birth_date is None:
            quantity = _quantity(value, "a" if name == "age_years" else "mo")
            age = _observation(codes.AGE_CODE, subject, as_of, {"valueQuantity": quantity})
            resources.append((urls.of(name), age))
    for name, value in state.observations.items():
        if value is not None:
            resources.append((urls.of(name), _input_observation(name, value, subject, as_of)))
    for name, value in state.exposures.items():
        if value is None:
            continue
        if name in _DRUG_BY_INPUT and value:
            resources.append((urls.of(name), _administration(name, value, subject, as_of)))
        elif name in _SITE_BY_INPUT and value:
            resources.append((urls.of(name), _radiotherapy(name, value, subject, as_of)))
        else:
            resources.append((urls.of(name), _input_observation(name, value, subject, as_of)))
    if state.position is not None:
        resources.append((urls.of("CarePlan"), _care_plan(state, subject)))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": as_of,
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in resources],
    }


def _state(patient: PatientState | Mapping[str, Any]) -> PatientState:
    if isinstance(patient, PatientState):
        return patient
    try:
        return PatientState.model_validate(patient)
    except ValidationError as error:
        raise PatientDataError(shape_problems(error)) from None


class _Urls:
    """Deterministic ``urn:uuid:`` full URLs, so the same state gives the same Bundle."""

    def __init__(self, seed: str) -> None:
        self._seed = seed

    def of(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{codes.BASE}/{self._seed}/{key}')}"


def _patient(state: PatientState) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if state.patient_id is not None:
        if _FHIR_ID.match(state.patient_id):
            patient["id"] = state.patient_id
        patient["identifier"] = [{"system": codes.PATIENT_ID_SYSTEM, "value": state.patient_id}]
    if state.sex is not None:
        patient["gender"] = codes.SEX_TO_GENDER.get(state.sex, "unknown")
    if state.birth_date is not None:
        patient["birthDate"] = state.birth_date.isoformat()
    patient["address"] = [{"use": "home", "state": state.home_region, "country": "KZ"}]
    if state.current_facility is not None:
        patient["managingOrganization"] = {
            "identifier": {"system": codes.FACILITY_ID_SYSTEM, "value": state.current_facility}
        }
    return patient


def _condition(state: PatientState, subject: dict[str, Any]) -> dict[str, Any]:
    diagnosis = state.diagnosis
    coding = []
    if diagnosis.icd10:
        coding.append({"system": codes.ICD10, "code": diagnosis.icd10})
    if diagnosis.icdo3_morphology:
        coding.append({"system": codes.ICDO3, "code": diagnosis.icdo3_morphology})
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "subject": subject,
    }
    if coding:
        condition["code"] = {"coding": coding}
    if diagnosis.icdo3_topography:
        condition["bodySite"] = [
            {"coding": [{"system": codes.ICDO3, "code": diagnosis.icdo3_topography}]}
        ]
    return condition


def _observation(
    coded: codes.Coded, subject: dict[str, Any], as_of: str, value: dict[str, Any]
) -> dict[str, Any]:
    """An Observation; ``value`` is its one ``value[x]`` (e.g. ``{"valueBoolean": True}``),
    optionally after its ``category``."""
    category = {"category": value.pop("category")} if "category" in value else {}
    return {
        "resourceType": "Observation",
        "status": "final",
        **category,
        "code": {
            "coding": [{"system": coded.system, "code": coded.code, "display": coded.display}]
        },
        "subject": subject,
        "effectiveDateTime": as_of,
        **value,
    }


def _input_observation(
    name: str, value: Any, subject: dict[str, Any], as_of: str
) -> dict[str, Any]:
    coded = codes.standard_code_of(name) or codes.Coded(codes.INPUT_SYSTEM, name, name, name)
    unit = codes.INPUT_UNITS.get(name)
    element: dict[str, Any]
    if isinstance(value, bool):
        element = {"valueBoolean": value}
    elif isinstance(value, str):
        element = {
            "valueCodeableConcept": {
                "coding": [{"system": codes.INPUT_VALUE_SYSTEM, "code": value}],
                "text": value,
            }
        }
    elif isinstance(value, int) and unit is None:
        element = {"valueInteger": value}
    else:
        element = {"valueQuantity": _quantity(value, unit)}
    if name == "temperature_c":
        # FHIR R4's vital-signs profile (bodytemp) requires the category
        element = {"category": [_VITAL_SIGNS], **element}
    return _observation(coded, subject, as_of, element)


def _quantity(value: Any, unit: str | None) -> dict[str, Any]:
    if unit is None:
        return {"value": value}
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def _administration(name: str, value: Any, subject: dict[str, Any], as_of: str) -> dict[str, Any]:
    drug = _DRUG_BY_INPUT[name]
    return {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": drug.system, "code": drug.code, "display": drug.display}]
        },
        "subject": subject,
        "effectiveDateTime": as_of,
        "dosage": {
            "text": "cumulative dose to date",
            "dose": _quantity(value, codes.INPUT_UNITS[name]),
        },
    }


def _radiotherapy(name: str, value: Any, subject: dict[str, Any], as_of: str) -> dict[str, Any]:
    site = _SITE_BY_INPUT[name]
    therapy = codes.RADIOTHERAPY
    return {
        "resourceType": "Procedure",
        "extension": [
            {
                "url": codes.DOSE_EXTENSION,
                "valueQuantity": _quantity(value, codes.INPUT_UNITS[name]),
            }
        ],
        "status": "completed",
        "code": {
            "coding": [{"system": therapy.system, "code": therapy.code, "display": therapy.display}]
        },
        "subject": subject,
        "performedDateTime": as_of,
        "bodySite": [
            {"coding": [{"system": site.system, "code": site.code, "display": site.display}]}
        ],
    }


def _care_plan(state: PatientState, subject: dict[str, Any]) -> dict[str, Any]:
    position = state.position
    assert position is not None
    return {
        "resourceType": "CarePlan",
        "extension": [
            position_extension(
                position.protocol,
                position.step,
                position.entered_at.isoformat() if position.entered_at else None,
                (position.return_to.protocol, position.return_to.step)
                if position.return_to
                else None,
            )
        ],
        "instantiatesCanonical": [codes.plan_definition_url(position.protocol)],
        "status": "active",
        "intent": "plan",
        "subject": subject,
    }


def position_extension(
    protocol: str, step: str, entered_at: str | None, return_to: tuple[str, str] | None
) -> dict[str, Any]:
    """The pathway-position extension (read back by patient_in.py as ``position``)."""
    parts: list[dict[str, Any]] = [
        {"url": "protocol", "valueCode": protocol},
        {"url": "step", "valueCode": step},
    ]
    if entered_at is not None:
        parts.append({"url": "enteredAt", "valueDateTime": entered_at})
    if return_to is not None:
        parts.append({"url": "returnToProtocol", "valueCode": return_to[0]})
        parts.append({"url": "returnToStep", "valueCode": return_to[1]})
    return {"url": codes.POSITION_EXTENSION, "extension": parts}
