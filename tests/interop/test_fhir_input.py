"""FHIR input details: unit conversion, which value wins, what is ignored, what is refused
(located by Bundle position, every problem at once), identifiers never in error text or
logs, the code table against the shipped vocabulary, and the CLI (route --fhir,
--output fhir, fhir plan-definition).
"""

from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle as FhirBundle
from fhir.resources.R4B.plandefinition import PlanDefinition

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, PROTOCOLS_DIR, REPO_ROOT
from pedonc_routing.cli import main
from pedonc_routing.interop.fhir import codes, patient_from_fhir, patient_to_fhir
from pedonc_routing.interop.fhir.units import UnitError, convert, is_ucum

FHIR_EXAMPLES = REPO_ROOT / "examples" / "fhir"
SECRETS = ("Aigerim", "Secretova", "IIN-990101300123", "secret-id-4711")
UCUM = codes.UCUM


def _base() -> dict[str, Any]:
    """B-ALL standard-risk patient (example 01) as a Bundle, with a name and identifiers."""
    patient = yaml.safe_load((EXAMPLES_DIR / "01_b_all_standard_risk.yaml").read_text())
    bundle = patient_to_fhir(patient)
    person = bundle["entry"][0]["resource"]
    person["id"] = SECRETS[3]
    person["name"] = [{"given": [SECRETS[0]], "family": SECRETS[1]}]
    person["identifier"] = [{"system": "urn:kz:iin", "value": SECRETS[2]}]
    return bundle


def _entry(bundle: dict[str, Any], code: str) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
        if any(coding["code"] == code for coding in concept.get("coding", [])):
            return index, resource
    raise AssertionError(code)


def _observation(code: str, value: dict[str, Any], when: str, system: str = codes.LOINC) -> Any:
    return {
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": {"reference": f"Patient/{SECRETS[3]}"},  # the child of _base()
            "effectiveDateTime": when,
            **value,
        }
    }


# -- units ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "canonical", "expected"),
    [
        ("100.4", "[degF]", "Cel", "38"),
        ("98.6", "[degF]", "Cel", "37"),
        ("311.15", "K", "Cel", "38"),
        ("12500", "/uL", "10*9/L", "12.5"),
        ("900", "{cells}/uL", "10*9/L", "0.9"),
        ("4.2", "10*3/uL", "10*9/L", "4.2"),
        ("12", "g/dL", "g/L", "120"),
        ("1.5", "g/m2", "mg/m2", "1500"),
        ("1500", "cGy", "Gy", "15"),
        # other valid UCUM spellings of the same unit, as EHRs write them
        ("4.2", "10^9/L", "10*9/L", "4.2"),
        ("4.2", "10*9.L-1", "10*9/L", "4.2"),
        ("4.2", "/nL", "10*9/L", "4.2"),
        ("4200", "/mm3", "10*9/L", "4.2"),
        ("4200", "{cells}/mm3", "10*9/L", "4.2"),
        ("4200", "10*6/L", "10*9/L", "4.2"),
        ("4.2", "10*3/mm3", "10*9/L", "4.2"),
        ("25", "dGy", "Gy", "2.5"),
        ("2500", "mg/dm2", "mg/m2", "250000"),
    ],
)
def test_unit_conversion_is_exact(value: str, unit: str, canonical: str, expected: str) -> None:
    assert convert(Decimal(value), unit, canonical) == Decimal(expected)


@pytest.mark.parametrize(
    ("unit", "canonical", "reason"),
    [
        ("mmol/L", "10*9/L", "another kind of quantity"),
        ("mg", "mg/m2", "another kind of quantity"),
        ("Gy", "Cel", "another kind of quantity"),
        ("%", "1", "not convertible"),  # a percentage is not an x ULN ratio
        # not UCUM: text as typed on a lab report
        ("cells/uL", "10*9/L", "not a UCUM unit"),
        ("x10^9/L", "10*9/L", "not a UCUM unit"),
        ("10**9/L", "10*9/L", "not a UCUM unit"),
        ("mcL", "10*9/L", "not a UCUM unit"),
        ("°C", "Cel", "not a UCUM unit"),
    ],
)
def test_unit_not_convertible_is_refused(unit: str, canonical: str, reason: str) -> None:
    with pytest.raises(UnitError, match=reason):
        convert(Decimal(1), unit, canonical)


# Examples from the UCUM specification (unitsofmeasure.org, sections 2-4: prefixes, exponents,
# the "10*"/"10^" atoms, annotations, division and the "." product), each parsed by the grammar.
@pytest.mark.parametrize(
    "code",
    ["m", "km", "kg", "mm2", "m.s-2", "kg.m/s2", "/s", "10*3", "10^3", "10*-3/mL", "%",
     "[degF]", "Cel", "mmol/L", "{rbc}", "/[HPF]", "mg/(24.h)", "mL/min/{1.73_m2}", "ug/dL"],
)  # fmt: skip
def test_ucum_specification_examples_parse(code: str) -> None:
    assert is_ucum(code)


def test_wbc_in_cells_per_microlitre_routes_like_10e9_per_litre(shipped_bundle: pr.Bundle) -> None:
    bundle = _base()
    _, wbc = _entry(bundle, "6690-2")
    wbc["valueQuantity"] = {"value": 60000, "unit": "cells/uL", "system": UCUM, "code": "/uL"}
    decision = shipped_bundle.route(patient_from_fhir(bundle))
    assert decision.step is not None
    assert decision.step.id == "induction_high_risk"  # 60 x10^9/L >= 50


# -- which value is used --------------------------------------------------------------------


def test_latest_observation_at_or_before_as_of_wins() -> None:
    bundle = _base()
    bundle["entry"] += [
        _observation(
            "8310-5",
            {"valueQuantity": {"value": 39.1, "system": UCUM, "code": "Cel"}},
            "2026-11-22T08:00:00+05:00",
        ),
        _observation(
            "8310-5",
            {"valueQuantity": {"value": 40.0, "system": UCUM, "code": "Cel"}},
            "2026-11-22T10:00:00+05:00",
        ),
    ]
    # the exported value (36.8) is recorded at as_of 09:00, after 08:00; 10:00 is after as_of
    assert patient_from_fhir(bundle).observations["temperature_c"] == 36.8
    earlier = patient_from_fhir(bundle, as_of="2026-11-22T08:30:00+05:00")
    assert earlier.observations["temperature_c"] == 39.1
    assert earlier.as_of.isoformat() == "2026-11-22T08:30:00+05:00"


@pytest.mark.parametrize(("second", "conflict"), [(37.0, False), (37, False), (38.5, True)])
def test_two_observations_at_the_same_time_must_agree(second: float, conflict: bool) -> None:
    bundle = _base()
    bundle["entry"] += [
        _observation(
            "8310-5",
            {"valueQuantity": {"value": value, "system": UCUM, "code": "Cel"}},
            "2026-11-22T08:45:00+05:00",
        )
        for value in (37, second)
    ]
    as_of = "2026-11-22T08:50:00+05:00"
    if conflict:
        with pytest.raises(pr.PatientDataError, match="different values of temperature_c"):
            patient_from_fhir(bundle, as_of=as_of)
    else:
        assert patient_from_fhir(bundle, as_of=as_of).observations["temperature_c"] == 37


def test_as_of_defaults_to_the_bundle_timestamp_and_is_required() -> None:
    bundle = _base()
    assert patient_from_fhir(bundle).as_of.isoformat() == bundle["timestamp"]
    del bundle["timestamp"]
    with pytest.raises(pr.PatientDataError, match=r"Bundle.timestamp: required"):
        patient_from_fhir(bundle)


def test_unmapped_codes_and_resources_are_ignored_with_a_note() -> None:
    bundle = _base()
    bundle["entry"].append(
        _observation(
            "8867-4",
            {"valueQuantity": {"value": 120, "system": UCUM, "code": "/min"}},
            "2026-11-22T08:00:00+05:00",
        )
    )
    bundle["entry"].append(
        {
            "resource": {
                "resourceType": "Encounter",
                "status": "in-progress",
                "class": {"code": "IMP"},
            }
        }
    )
    reading = pr_reading(bundle)
    assert reading.patient.observations == patient_from_fhir(_base()).observations
    index = len(bundle["entry"]) - 2
    assert f"entry[{index}] Observation: code not mapped" in reading.ignored


def pr_reading(bundle: dict[str, Any]) -> Any:
    from pedonc_routing.interop.fhir import read_fhir_patient

    return read_fhir_patient(bundle)


def test_gender_other_means_sex_not_known() -> None:
    bundle = _base()
    bundle["entry"][0]["resource"]["gender"] = "other"
    assert patient_from_fhir(bundle).sex is None


def test_administrations_add_to_an_earlier_cumulative_observation() -> None:
    bundle = _base()
    bundle["entry"].append(
        _observation(
            "doxorubicin_mg_m2",
            {"valueQuantity": {"value": 120, "system": UCUM, "code": "mg/m2"}},
            "2026-01-01T00:00:00+05:00",
            system=codes.INPUT_SYSTEM,
        )
    )
    for when, grams in (("2025-12-01T10:00:00+05:00", 1), ("2026-02-01T10:00:00+05:00", 0.03)):
        bundle["entry"].append(
            {
                "resource": {
                    "resourceType": "MedicationAdministration",
                    "status": "completed",
                    "medicationCodeableConcept": {
                        "coding": [{"system": codes.ATC, "code": "L01DB01"}]
                    },
                    "subject": {"reference": f"Patient/{SECRETS[3]}"},
                    "effectiveDateTime": when,
                    "dosage": {"dose": {"value": grams, "system": UCUM, "code": "g/m2"}},
                }
            }
        )
    # the exported 0 at as_of is the latest cumulative value: remove it to see the sum
    index, _ = _entry(bundle, "doxorubicin_mg_m2")
    del bundle["entry"][index]
    # 120 recorded on 2026-01-01 (includes the December dose) + 30 given in February
    assert patient_from_fhir(bundle).exposures["doxorubicin_mg_m2"] == pytest.approx(150)


# -- refusals -------------------------------------------------------------------------------


def test_every_problem_is_listed_with_its_position_and_the_unit_reason() -> None:
    bundle = _base()
    wbc_index, wbc = _entry(bundle, "6690-2")
    wbc["valueQuantity"] = {"value": 12.5, "system": UCUM, "code": "mmol/L"}
    temp_index, temperature = _entry(bundle, "8310-5")
    temperature["valueQuantity"] = {
        "value": 36.8,
        "system": "http://example.org/units",
        "code": "C",
    }
    with pytest.raises(pr.PatientDataError) as caught:
        patient_from_fhir(bundle)
    problems = caught.value.problems
    assert len(problems) == 2
    assert problems[0] == (
        f"entry[{wbc_index}] Observation.valueQuantity.code: another kind of quantity than"
        " 10*9/L (for wbc_10e9_l, in 10*9/L)"
    )
    assert problems[1].startswith(f"entry[{temp_index}] Observation.valueQuantity.code: a UCUM")


def test_invalid_fhir_is_refused_with_the_element_position() -> None:
    bundle = _base()
    index, temperature = _entry(bundle, "8310-5")
    temperature["effectiveDateTime"] = "2026-11-22T08:00:00"  # a time needs a zone in FHIR
    with pytest.raises(pr.PatientDataError) as caught:
        patient_from_fhir(bundle)
    assert caught.value.problems[0].startswith(f"entry[{index}] Observation.effectiveDateTime:")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(birthDate="2022-03"), "Patient.birthDate: a full date"),
        (lambda p: p.pop("address"), "Patient.address.state: required"),
        (lambda p: p.update(birthDate="2022-13-45"), "Patient.birthDate: "),
        (lambda p: p.update(gender="femme"), "Patient.gender: "),
    ],
)
def test_patient_problems_never_show_identifiers(
    change: Any, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = _base()
    change(bundle["entry"][0]["resource"])
    with caplog.at_level(logging.DEBUG), pytest.raises(pr.PatientDataError) as caught:
        patient_from_fhir(json.dumps(bundle))
    text = str(caught.value)
    assert message in text
    for secret in SECRETS:
        assert secret not in text
        assert secret not in caplog.text


def test_hostile_values_are_not_echoed() -> None:
    bundle = _base()
    _, wbc = _entry(bundle, "6690-2")
    wbc["valueQuantity"] = {"value": 12.5, "system": UCUM, "code": SECRETS[0]}
    bundle["entry"][0]["resource"]["birthDate"] = SECRETS[1]
    with pytest.raises(pr.PatientDataError) as caught:
        patient_from_fhir(bundle)
    for secret in SECRETS:
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{not json", "bundle: not valid JSON (line 1 column 2)"),
        ("[]", "bundle: expected a JSON object, got list"),
        ('{"resourceType": "Patient"}', "bundle: resourceType must be Bundle"),
        (
            '{"resourceType": "Bundle", "type": "collection", "timestamp": '
            '"2026-11-22T09:00:00+05:00"}',
            "bundle: no Patient resource",
        ),
        ("[" * 100_000, "bundle: JSON nested too deeply"),
        ('{"resourceType": "Bundle", "total": NaN}', "bundle: not valid JSON (NaN is not a"),
        (b"\xc3\x28{}", "bundle: not valid JSON (not UTF-8)"),
        (" " * (32 * 1024 * 1024 + 1), "bundle: larger than 33,554,432 characters"),
    ],
)
def test_not_a_bundle(source: str | bytes, message: str) -> None:
    with pytest.raises(pr.PatientDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        patient_from_fhir(source)


@pytest.mark.parametrize("where", ["entry", "contained"])
def test_unknown_resource_type_is_refused_without_echoing_it(where: str) -> None:
    """fhir.resources raises KeyError (quoting the value) for an unknown resourceType."""
    bundle = _base()
    if where == "entry":
        bundle["entry"].append({"resource": {"resourceType": SECRETS[0]}})
        expected = f"entry[{len(bundle['entry']) - 1}] resource.resourceType: not a FHIR R4"
    else:
        bundle["entry"][0]["resource"]["contained"] = [{"resourceType": SECRETS[0]}]
        expected = "bundle: a contained or nested resource has an unknown resourceType"
    with pytest.raises(pr.PatientDataError) as caught:
        patient_from_fhir(json.dumps(bundle))
    assert caught.value.problems[0].startswith(expected)
    for secret in SECRETS:
        assert secret not in str(caught.value)


def test_a_bound_is_not_read_as_the_value() -> None:
    """ANC "< 0.5" is not 0.5 (read as 0.5, the guard anc < 0.5 would be false)."""
    bundle = _base()
    index, anc = _entry(bundle, "751-8")
    anc["valueQuantity"] = {"value": 0.5, "comparator": "<", "system": UCUM, "code": "10*9/L"}
    with pytest.raises(pr.PatientDataError) as caught:
        patient_from_fhir(bundle)
    assert caught.value.problems == [
        f"entry[{index}] Observation.valueQuantity.comparator: anc_10e9_l needs an exact value,"
        " not a bound"
    ]


def test_two_different_diagnoses_are_refused() -> None:
    bundle = _base()
    condition = copy.deepcopy(
        next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    )
    condition["resource"]["code"]["coding"][0]["code"] = "C64"
    del condition["fullUrl"]
    bundle["entry"].append(condition)
    with pytest.raises(pr.PatientDataError, match="several different diagnoses"):
        patient_from_fhir(bundle)


# -- the code table against the shipped vocabulary ------------------------------------------


def test_every_number_input_of_the_vocabulary_has_its_ucum_unit() -> None:
    inputs: dict[str, Any] = {}
    for path in sorted(PROTOCOLS_DIR.glob("vocabulary*.yaml")):
        inputs.update(yaml.safe_load(path.read_text(encoding="utf-8"))["inputs"])
    sent = {name: spec for name, spec in inputs.items() if spec["group"] != "derived"}
    with_unit = {name for name, spec in sent.items() if spec.get("unit")}
    assert set(codes.INPUT_UNITS) == with_unit
    for name in with_unit:
        assert codes.INPUT_UNITS[name] == codes.VOCABULARY_UNIT_TO_UCUM[sent[name]["unit"]]
    exposures = {name for name, spec in sent.items() if spec["group"] == "exposures"}
    assert exposures == codes.EXPOSURE_INPUTS


# -- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_cli_route_fhir_matches_the_yaml_patient(runner: CliRunner) -> None:
    fhir_file = FHIR_EXAMPLES / "01_b_all_standard_risk.json"
    from_fhir = runner.invoke(main, ["route", "--fhir", str(fhir_file), "--format", "json"])
    from_yaml = runner.invoke(
        main, ["route", str(EXAMPLES_DIR / "01_b_all_standard_risk.yaml"), "--format", "json"]
    )
    assert from_fhir.exit_code == 0, from_fhir.output
    assert json.loads(from_fhir.output) == json.loads(from_yaml.output)


def test_cli_output_fhir_is_a_valid_bundle(runner: CliRunner) -> None:
    fhir_file = FHIR_EXAMPLES / "hand_febrile_neutropenia_degF_cells_per_uL.json"
    result = runner.invoke(main, ["route", "--fhir", str(fhir_file), "--output", "fhir"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    FhirBundle.model_validate(out)
    kinds = {entry["resource"]["resourceType"] for entry in out["entry"]}
    assert {"CarePlan", "ServiceRequest", "Task"} <= kinds


def test_cli_invalid_fhir_bundle_exits_1_without_identifiers(
    runner: CliRunner, tmp_path: Path
) -> None:
    bundle = _base()
    _, wbc = _entry(bundle, "6690-2")
    wbc["valueQuantity"]["code"] = "mmol/L"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = runner.invoke(main, ["route", "--fhir", str(path)])
    assert result.exit_code == 1
    assert "another kind of quantity than 10*9/L (for wbc_10e9_l" in result.output
    for secret in SECRETS:
        assert secret not in result.output


def test_cli_fhir_with_batch_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["route", "--fhir", "--batch", str(FHIR_EXAMPLES)])
    assert result.exit_code == 2
    assert "--fhir and --output fhir take one PATIENT_FILE, not --batch" in result.stderr


def test_cli_plan_definition(runner: CliRunner) -> None:
    result = runner.invoke(main, ["fhir", "plan-definition", "all"])
    assert result.exit_code == 0, result.output
    PlanDefinition.model_validate(json.loads(result.output))
    unknown = runner.invoke(main, ["fhir", "plan-definition", "alll"])
    assert unknown.exit_code == 2
    assert "did you mean 'all'?" in unknown.output


# -- subject ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "read"),
    [
        ({"reference": f"Patient/{SECRETS[3]}/_history/3"}, True),  # a version of the child
        ({"identifier": {"system": "urn:kz:iin", "value": SECRETS[2]}}, True),
        ({"identifier": {"system": "urn:kz:iin", "value": "IIN-000000000000"}}, False),
        ({"reference": "Patient/someone-else"}, False),
        ({"display": "the child"}, False),  # no reference or identifier: not known to be hers
    ],
)
def test_only_the_childs_resources_are_read(subject: dict[str, Any], read: bool) -> None:
    bundle = _base()
    index, _ = _entry(bundle, "8310-5")
    del bundle["entry"][index]  # the exported temperature: this one alone is then read or not
    fever = _observation(
        "8310-5",
        {"valueQuantity": {"value": 39.4, "system": UCUM, "code": "Cel"}},
        "2026-11-22T08:59:00+05:00",
    )
    fever["resource"]["subject"] = subject
    bundle["entry"].append(fever)
    reading = pr_reading(bundle)
    assert (reading.patient.observations.get("temperature_c") == 39.4) is read
    note = f"entry[{len(bundle['entry']) - 1}] Observation: subject is not the child's Patient"
    assert (note in reading.ignored) is not read


def test_units_convert_the_same_from_many_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pedonc_routing.interop.fhir import units

    units._parse_once.cache_clear()
    cases = [("300", "/uL"), ("0.3", "10^9/L"), ("0.3", "10*3/uL"), ("300", "{cells}/mm3")] * 50
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: convert(Decimal(c[0]), c[1], "10*9/L"), cases))
    assert set(results) == {Decimal("0.3")}
