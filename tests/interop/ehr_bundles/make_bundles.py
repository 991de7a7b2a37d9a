"""Regenerate the EHR-style Bundle corpus: ``python tests/interop/ehr_bundles/make_bundles.py``.

Each Bundle is written the way hospital systems emit them (search-set Bundles with absolute
``fullUrl``s, resource ids, ``Patient/ID`` references, vital-signs panels, UCUM spellings as
the lab writes them, entered-in-error and preliminary results, mCODE conditions, another
person's resources in the same Bundle). The child is the febrile-neutropenia example
(examples/patients/febrile_neutropenia/01_fires_from_all_consolidation.yaml): a state read
right routes to the emergency. ``expected.yaml`` holds what each must read as.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASE = "https://ehr.example.kz/fhir"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
INPUT = "https://pedonc-routing.kz/fhir/CodeSystem/input"
VITAL = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
        }
    ]
}
AS_OF = "2026-11-22T09:00:00+05:00"
CHILD = "Patient/p-child"


def entry(resource: dict[str, Any], mode: str | None = "match") -> dict[str, Any]:
    item: dict[str, Any] = {
        "fullUrl": f"{BASE}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
    }
    if mode is not None:
        item["search"] = {"mode": mode}
    return item


def concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def morphology(system: str, code: str) -> dict[str, Any]:
    """mCODE's histology-morphology-behavior extension of a cancer Condition."""
    return {
        "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
        "valueCodeableConcept": concept(system, code),
    }


def quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


def observation(
    ident: str,
    code: tuple[str, str],
    value: dict[str, Any],
    when: str = "2026-11-22T08:40:00+05:00",
    subject: str = CHILD,
    status: str = "final",
) -> dict[str, Any]:
    system, number = code
    return {
        "resourceType": "Observation",
        "id": ident,
        "meta": {"lastUpdated": "2026-11-22T08:55:00+05:00"},
        "status": status,
        "code": {"coding": [{"system": system, "code": number}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "issued": "2026-11-22T08:50:00+05:00",
        **value,
    }


def child_bundle() -> dict[str, Any]:
    """The child as an EHR exports it: a search-set with absolute URLs."""
    patient = {
        "resourceType": "Patient",
        "id": "p-child",
        "identifier": [{"system": "urn:oid:1.2.398.7.1.1", "value": "IIN-190314500001"}],
        "name": [{"family": "Example", "given": ["Child"]}],
        "gender": "male",
        "birthDate": "2019-03-14",
        "address": [{"use": "home", "city": "Karaganda", "state": "KZ-35", "country": "KZ"}],
    }
    condition = {
        "resourceType": "Condition",
        "id": "c-all",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": {
            "coding": [
                {"system": "http://hl7.org/fhir/sid/icd-10", "code": "C91.0"},
                {"system": ICDO3, "code": "9811/3"},
            ]
        },
        "bodySite": [{"coding": [{"system": ICDO3, "code": "C42.1"}]}],
        "subject": {"reference": CHILD},
    }
    position = {
        "resourceType": "CarePlan",
        "id": "cp-1",
        "extension": [
            {
                "url": "https://pedonc-routing.kz/fhir/StructureDefinition/pathway-position",
                "extension": [
                    {"url": "protocol", "valueCode": "all"},
                    {"url": "step", "valueCode": "consolidation"},
                    {"url": "enteredAt", "valueDateTime": "2026-10-20T09:00:00+05:00"},
                ],
            }
        ],
        "status": "active",
        "intent": "plan",
        "subject": {"reference": CHILD},
    }
    inputs = [
        observation("o-imm", (INPUT, "immunophenotype"), {"valueString": "B"}),
        observation("o-risk", (INPUT, "initial_risk_group"), {"valueString": "standard"}),
        observation("o-rel", (INPUT, "relapse_detected"), {"valueBoolean": False}),
        observation("o-cons", (INPUT, "consolidation_completed"), {"valueBoolean": False}),
        observation("o-chemo", (INPUT, "on_chemotherapy"), {"valueBoolean": True}),
        observation("o-sust", (INPUT, "fever_sustained_1h"), {"valueBoolean": False}),
        observation("o-anc", (LOINC, "751-8"), {"valueQuantity": quantity(0.3, "10*9/L")}),
        observation(
            "o-temp",
            (LOINC, "8310-5"),
            {"category": [VITAL], "valueQuantity": quantity(38.5, "Cel")},
        ),
    ]
    return {
        "resourceType": "Bundle",
        "id": "search-1",
        "type": "searchset",
        "timestamp": AS_OF,
        "total": 11,
        "link": [{"relation": "self", "url": f"{BASE}/Patient/p-child/$everything"}],
        "entry": [entry(patient), entry(condition), entry(position)]
        + [entry(item) for item in inputs],
    }


def find(bundle: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == ident)


def drop(bundle: dict[str, Any], ident: str) -> None:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != ident]


def make() -> dict[str, dict[str, Any]]:
    made: dict[str, dict[str, Any]] = {}

    # 1. the temperature inside a vital-signs panel (85353-1), as a component
    b = child_bundle()
    drop(b, "o-temp")
    panel = observation("o-vitals", (LOINC, "85353-1"), {"category": [VITAL]})
    panel["component"] = [
        {"code": concept(LOINC, "8867-4"), "valueQuantity": quantity(128, "/min")},
        {"code": concept(LOINC, "8310-5"), "valueQuantity": quantity(38.5, "Cel")},
    ]
    b["entry"].append(entry(panel))
    made["01_vital_signs_panel_component"] = b

    # 2. the mother in the same Bundle: her Patient (search include) and her normal, later
    # temperature, which must never be read as the child's
    b = child_bundle()
    mother = {
        "resourceType": "Patient",
        "id": "p-mother",
        "gender": "female",
        "birthDate": "1990-01-01",
        "address": [{"use": "home", "state": "KZ-35"}],
    }
    b["entry"].append(entry(mother, "include"))
    b["entry"].append(
        entry(
            observation(
                "o-mother-temp",
                (LOINC, "8310-5"),
                {"category": [VITAL], "valueQuantity": quantity(36.6, "Cel")},
                when="2026-11-22T08:55:00+05:00",
                subject="Patient/p-mother",
            )
        )
    )
    made["02_mother_in_the_same_bundle"] = b

    # 3. units as the lab writes them: 10^9/L, cells per microlitre, degrees Fahrenheit
    b = child_bundle()
    find(b, "o-anc")["valueQuantity"] = quantity(0.3, "10^9/L")
    find(b, "o-temp")["valueQuantity"] = {
        "value": 101.3, "unit": "°F", "system": UCUM, "code": "[degF]"
    }  # fmt: skip
    wbc = {"valueQuantity": quantity(1900, "{cells}/uL")}
    b["entry"].append(entry(observation("o-wbc", (LOINC, "6690-2"), wbc)))
    made["03_mixed_units"] = b

    # 4. a later normal temperature entered in error, and an entered-in-error diagnosis
    b = child_bundle()
    wrong = observation(
        "o-temp-wrong",
        (LOINC, "8310-5"),
        {"category": [VITAL], "valueQuantity": quantity(36.6, "Cel")},
        when="2026-11-22T08:50:00+05:00",
        status="entered-in-error",
    )
    b["entry"].append(entry(wrong))
    wrong_condition = copy.deepcopy(find(b, "c-all"))
    wrong_condition["id"] = "c-wrong"
    wrong_condition["code"]["coding"] = [
        {"system": "http://hl7.org/fhir/sid/icd-10", "code": "C22.2"}
    ]
    wrong_condition["verificationStatus"]["coding"][0]["code"] = "entered-in-error"
    b["entry"].append(entry(wrong_condition))
    made["04_entered_in_error"] = b

    # 5. a final ANC and a later preliminary one (the analyser's, before review)
    b = child_bundle()
    b["entry"].append(
        entry(
            observation(
                "o-anc-prelim",
                (LOINC, "751-8"),
                {"valueQuantity": quantity(1.2, "10*9/L")},
                when="2026-11-22T08:45:00+05:00",
                status="preliminary",
            )
        )
    )
    made["05_final_beats_later_preliminary"] = b

    # 6. mCODE: morphology in the histology-morphology-behavior extension, and the same
    # leukaemia as a problem-list item with only its ICD-10 code
    b = child_bundle()
    condition = find(b, "c-all")
    condition["code"]["coding"] = [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "C91.0"}]
    condition["extension"] = [morphology(ICDO3, "9811/3")]
    problem = copy.deepcopy(condition)
    problem["id"] = "c-problem"
    del problem["extension"], problem["bodySite"]
    problem["category"][0]["coding"][0]["code"] = "problem-list-item"
    b["entry"].append(entry(problem))
    made["06_mcode_and_problem_list"] = b

    # 7. other LOINC codes for the same quantities: oral temperature, ANC without method,
    # WBC without method
    b = child_bundle()
    find(b, "o-temp")["code"]["coding"] = [{"system": LOINC, "code": "8331-1"}]
    find(b, "o-anc")["code"]["coding"] = [{"system": LOINC, "code": "26499-4"}]
    b["entry"].append(
        entry(observation("o-wbc", (LOINC, "26464-8"), {"valueQuantity": quantity(1.9, "10*3/uL")}))
    )  # fmt: skip
    made["07_alternative_loinc_codes"] = b

    # 8. a resource about the same id on another server, and one with no subject
    b = child_bundle()
    other = observation(
        "o-elsewhere",
        (LOINC, "751-8"),
        {"valueQuantity": quantity(4.0, "10*9/L")},
        when="2026-11-22T08:50:00+05:00",
        subject="https://other-ehr.example.kz/fhir/Patient/p-child",
    )
    b["entry"].append(entry(other))
    orphan = observation(
        "o-orphan",
        (LOINC, "8310-5"),
        {"valueQuantity": quantity(36.6, "Cel")},
        when="2026-11-22T08:50:00+05:00",
    )
    del orphan["subject"]
    b["entry"].append(entry(orphan))
    made["08_other_server_and_no_subject"] = b

    # 9. refused: the region as a name
    b = child_bundle()
    find(b, "p-child")["address"][0]["state"] = "Karaganda Region"
    made["09_refused_region_name"] = b

    # 10. refused: a temperature under a code we do not map (an EHR-local code)
    b = child_bundle()
    find(b, "o-temp")["code"]["coding"] = [{"system": f"{BASE}/CodeSystem/local", "code": "T-AX"}]
    made["10_refused_unmapped_temperature"] = b

    # 11. refused: a SNOMED CT morphology only
    b = child_bundle()
    condition = find(b, "c-all")
    condition["code"]["coding"] = [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "C91.0"}]
    condition["extension"] = [morphology("http://snomed.info/sct", "91857003")]
    made["11_refused_snomed_morphology"] = b

    # 12. no timestamp: read with an explicit as_of (the CLI's --as-of)
    b = child_bundle()
    del b["timestamp"]
    made["12_no_timestamp"] = b
    return made


if __name__ == "__main__":
    for name, bundle in make().items():
        text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
        (HERE / f"{name}.json").write_text(text, encoding="utf-8")
    print("written:", len(make()))
