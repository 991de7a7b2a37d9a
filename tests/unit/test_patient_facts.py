"""Patient state -> facts (intake/patient.py, model/patient.py): one PatientDataError that
lists every problem and never echoes the patient identifier; exact age in completed years
and months; numbers rounded half-even to the input's precision; explicit null = absent.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

import pedonc_routing as pr
from pedonc_routing.intake.patient import PatientFacts, completed_years_and_months, read_patient
from pedonc_routing.vocabulary.inputs import quantize

SECRET = "anon-SECRET-4711"


def base_patient() -> dict[str, Any]:
    """A valid child at the diagnosis step of the shipped ALL protocol."""
    return {
        "patient_id": SECRET,
        "as_of": "2026-11-22T09:00:00+05:00",
        "birth_date": "2022-03-14",
        "sex": "F",
        "home_region": "KZ-75",
        "current_facility": None,
        "diagnosis": {"icd10": "C91.0", "icdo3_morphology": "9811/3"},
        "position": {"protocol": "all", "step": "diagnosis"},
        "observations": {"wbc_10e9_l": 12.5, "immunophenotype": "B"},
        "exposures": {"doxorubicin_mg_m2": 0},
    }


def read(bundle: pr.Bundle, patient: dict[str, Any]) -> PatientFacts:
    compiled = bundle.compiled
    return read_patient(compiled.schema, patient, compiled.steps_by_protocol)


def problems_of(bundle: pr.Bundle, patient: Any) -> list[str]:
    with pytest.raises(pr.PatientDataError) as caught:
        bundle.route(patient)
    error = caught.value
    assert SECRET not in str(error)
    assert SECRET not in repr(error.args)
    assert all(SECRET not in problem for problem in error.problems)
    return error.problems


def field_of(problem: str) -> str:
    return problem.split(":", 1)[0]


def test_valid_patient_reads(reference_bundle: pr.Bundle) -> None:
    facts = read(reference_bundle, base_patient()).facts
    assert facts["age_years"] == 4
    assert facts["age_months"] == 4 * 12 + 8
    assert facts["wbc_10e9_l"] == 12.5
    assert facts["immunophenotype"] == "B"
    assert facts["home_region"] == "KZ-75"
    assert facts["icd10"] == "C91.0"
    assert "patient_id" not in facts
    assert SECRET not in repr(dict(facts))


def test_every_value_problem_is_listed_at_once(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["birth_date"] = "2027-01-01"  # after as_of
    patient["home_region"] = "KZ-99"  # not a KZ subdivision
    patient["position"] = {"protocol": "alll", "step": "diagnosis"}  # unknown protocol
    patient["observations"] = {
        "wbc_10e9_l": float("nan"),
        "anc_10e9_l": float("inf"),
        "temperature_c": 50.0,  # above the plausible range
        "immunophenotype": 3,  # wrong type for an enum
        "on_chemotherapy": "yes",  # wrong type for a boolean
        "not_an_input": 1,  # unknown key
    }
    patient["exposures"] = {"doxorubicin_mg_m2": -1}  # below the plausible range
    problems = problems_of(reference_bundle, patient)
    assert {field_of(p) for p in problems} == {
        "birth_date",
        "home_region",
        "position.protocol",
        "observations.wbc_10e9_l",
        "observations.anc_10e9_l",
        "observations.temperature_c",
        "observations.immunophenotype",
        "observations.on_chemotherapy",
        "observations.not_an_input",
        "exposures.doxorubicin_mg_m2",
    }
    assert len(problems) == 10
    text = "\n".join(problems)
    assert "finite" in text
    assert "did you mean 'all'" in text


def test_unknown_step_is_a_problem(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["position"] = {"protocol": "all", "step": "diagnosys"}
    problems = problems_of(reference_bundle, patient)
    assert [field_of(p) for p in problems] == ["position.step"]
    assert "did you mean 'diagnosis'" in problems[0]


def test_shape_problems_are_listed_together(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["favourite_colour"] = "blue"  # unknown top-level key
    patient["as_of"] = "2026-11-22T09:00:00"  # naive datetime
    patient["sex"] = 1  # wrong type
    patient["observations"] = {"wbc_10e9_l": float("nan"), "bogus": 1}
    problems = problems_of(reference_bundle, patient)
    assert {field_of(p) for p in problems} == {
        "favourite_colour",
        "as_of",
        "sex",
        "observations.wbc_10e9_l",
        "observations.bogus",
    }


def test_shape_and_context_problems_are_listed_together(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["favourite_colour"] = "blue"
    patient["as_of"] = "2026-11-22T09:00:00"  # naive
    patient["home_region"] = "KZ-99"
    patient["position"] = {"protocol": "all", "step": "nowhere"}
    problems = problems_of(reference_bundle, patient)
    assert {field_of(p) for p in problems} >= {
        "favourite_colour",
        "as_of",
        "home_region",
        "position.step",
    }


def test_not_a_mapping(reference_bundle: pr.Bundle) -> None:
    problems = problems_of(reference_bundle, [SECRET])
    assert problems == ["patient: expected a mapping, got list"]


def test_patient_state_object_is_accepted(reference_bundle: pr.Bundle) -> None:
    state = pr.PatientState.model_validate(base_patient())
    decision = reference_bundle.route(state)
    assert decision.status == "routed"
    assert decision.step is not None
    assert decision.step.id == "induction_standard_risk"


@pytest.mark.parametrize(
    ("as_of", "years"),
    [
        ("2026-11-21T23:59:00+05:00", 9),  # the day before the 10th birthday
        ("2026-11-22T00:00:00+05:00", 10),  # the birthday itself
        ("2026-11-23T09:00:00+05:00", 10),
    ],
)
def test_age_in_completed_years_at_birthday(
    reference_bundle: pr.Bundle, as_of: str, years: int
) -> None:
    patient = base_patient()
    patient["birth_date"] = "2016-11-22"
    patient["as_of"] = as_of
    facts = read(reference_bundle, patient).facts
    assert facts["age_years"] == years


def test_age_birthday_changes_the_risk_group(reference_bundle: pr.Bundle) -> None:
    # NCI standard risk needs age < 10: the day before the 10th birthday is standard risk
    patient = base_patient()
    patient["birth_date"] = "2016-11-23"
    assert reference_bundle.route(patient).step.id == "induction_standard_risk"  # type: ignore[union-attr]
    patient["birth_date"] = "2016-11-22"
    assert reference_bundle.route(patient).step.id == "induction_high_risk"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        (date(2020, 1, 31), date(2020, 2, 29), (0, 0)),
        (date(2020, 1, 31), date(2020, 3, 1), (0, 1)),
        (date(2020, 5, 2), date(2021, 5, 1), (0, 11)),
        (date(2020, 5, 2), date(2021, 5, 2), (1, 12)),
        (date(2019, 5, 2), date(2026, 11, 22), (7, 90)),
        (date(2026, 11, 22), date(2026, 11, 22), (0, 0)),
    ],
)
def test_completed_years_and_months(born: date, on: date, expected: tuple[int, int]) -> None:
    assert completed_years_and_months(born, on) == expected


def test_age_from_age_months(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    del patient["birth_date"]
    patient["age_months"] = 119
    facts = read(reference_bundle, patient).facts
    assert (facts["age_years"], facts["age_months"]) == (9, 119)


def test_age_disagreeing_with_birth_date(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["age_years"] = 7  # born 2022-03-14: 4 years at as_of
    problems = problems_of(reference_bundle, patient)
    assert [field_of(p) for p in problems] == ["age_years"]


def test_missing_age_is_not_an_error(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    del patient["birth_date"]
    facts = read(reference_bundle, patient).facts
    assert "age_years" not in facts
    decision = reference_bundle.route(patient)
    assert decision.status == "needs_data"
    assert decision.missing == ["age_years"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12.344, 12.34),
        (12.345, 12.34),  # half-even: 4 is even, stays
        (12.355, 12.36),  # half-even: 5 is odd, goes up
        (49.995, 50.0),
        (49.994, 49.99),
        (7, 7.0),
        (0.1, 0.1),
    ],
)
def test_numbers_are_rounded_to_precision(
    reference_bundle: pr.Bundle, value: float, expected: float
) -> None:
    patient = base_patient()
    patient["observations"]["wbc_10e9_l"] = value  # precision 2 in the vocabulary
    assert read(reference_bundle, patient).facts["wbc_10e9_l"] == expected


def test_rounding_decides_the_guard(reference_bundle: pr.Bundle) -> None:
    # 49.995 rounds to 50.00: not "WBC < 50", so not standard risk
    patient = base_patient()
    patient["observations"]["wbc_10e9_l"] = 49.995
    assert reference_bundle.route(patient).step.id == "induction_high_risk"  # type: ignore[union-attr]
    patient["observations"]["wbc_10e9_l"] = 49.994
    assert reference_bundle.route(patient).step.id == "induction_standard_risk"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "precision", "expected"),
    [(2.5, 0, 2.0), (3.5, 0, 4.0), (0.125, 2, 0.12), (0.135, 2, 0.14), (1e-7, 4, 0.0)],
)
def test_quantize(value: float, precision: int, expected: float) -> None:
    assert quantize(value, precision) == expected


def test_integer_value_for_a_number_input_is_accepted(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["exposures"]["doxorubicin_mg_m2"] = 150
    assert read(reference_bundle, patient).facts["doxorubicin_mg_m2"] == 150


def test_boolean_is_not_a_number(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["observations"]["wbc_10e9_l"] = True
    problems = problems_of(reference_bundle, patient)
    assert [field_of(p) for p in problems] == ["observations.wbc_10e9_l"]


def test_input_in_the_wrong_group(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["exposures"]["wbc_10e9_l"] = 10.0  # an observation, not an exposure
    problems = problems_of(reference_bundle, patient)
    assert [field_of(p) for p in problems] == ["exposures.wbc_10e9_l"]


def test_problem_does_not_echo_values(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["observations"]["temperature_c"] = 44.99
    patient["observations"]["immunophenotype"] = "anon-SECRET-4711-lineage"
    problems = problems_of(reference_bundle, patient)
    assert "44.99" not in "\n".join(problems)
    assert [field_of(p) for p in problems] == ["observations.immunophenotype"]


def test_patient_id_of_the_wrong_type_is_not_echoed(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["patient_id"] = SECRET * 10  # over 128 characters
    problems = problems_of(reference_bundle, patient)
    assert [field_of(p) for p in problems] == ["patient_id"]


def test_explicit_null_observation_is_absent(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["observations"]["immunophenotype"] = None
    decision = reference_bundle.route(patient)
    assert decision.status == "needs_data"
    assert decision.missing == ["immunophenotype"]


def test_explicit_null_exposure_is_absent(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["exposures"]["doxorubicin_mg_m2"] = None
    facts = read(reference_bundle, patient).facts
    assert "doxorubicin_mg_m2" not in facts


def test_string_exposure_is_one_problem(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["exposures"]["doxorubicin_mg_m2"] = "150"
    problems = problems_of(reference_bundle, patient)
    assert problems == ["exposures.doxorubicin_mg_m2: expected a number"]


def test_absent_observation_gives_needs_data(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    del patient["observations"]["immunophenotype"]
    decision = reference_bundle.route(patient)
    assert decision.status == "needs_data"
    assert decision.missing == ["immunophenotype"]
    assert decision.step is not None
    assert decision.step.id == "diagnosis"


def test_input_is_not_mutated(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    before = copy.deepcopy(patient)
    reference_bundle.route(patient)
    assert patient == before


def test_invalid_diagnosis_codes(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["diagnosis"] = {"icd10": "C9100", "icdo3_morphology": "9811"}
    problems = problems_of(reference_bundle, patient)
    assert sorted(field_of(p) for p in problems) == [
        "diagnosis.icd10",
        "diagnosis.icdo3_morphology",
    ]


def test_entered_at_after_as_of(reference_bundle: pr.Bundle) -> None:
    patient = base_patient()
    patient["position"]["entered_at"] = "2026-12-01T00:00:00+05:00"
    problems = problems_of(reference_bundle, patient)
    assert [field_of(p) for p in problems] == ["position.entered_at"]
