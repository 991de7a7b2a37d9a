"""Hostile patient states: NaN/inf, huge numbers, strings where numbers go, unicode
confusables in codes, dates far in the past or future, deep junk. Each gives one
PatientDataError listing the problem (never a decision, never another exception), and no
patient identifier appears in any exception text or log record."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
import yaml

import pedonc_routing as pr
from conftest import EXAMPLES_DIR
from pedonc_routing.intake.patient import read_patient

SECRET = "anon-HOSTILE-90210"
BASE: dict[str, Any] = yaml.safe_load(
    (EXAMPLES_DIR / "01_b_all_standard_risk.yaml").read_text(encoding="utf-8")
)
BASE["patient_id"] = SECRET


def variant(path: str, value: Any) -> dict[str, Any]:
    patient = copy.deepcopy(BASE)
    *parents, key = path.split(".")
    node = patient
    for part in parents:
        node = node.setdefault(part, {})
    node[key] = value
    return patient


HOSTILE = {
    "nan count": variant("observations.wbc_10e9_l", float("nan")),
    "infinite count": variant("observations.wbc_10e9_l", float("inf")),
    "negative infinity": variant("observations.wbc_10e9_l", float("-inf")),
    "huge number": variant("observations.wbc_10e9_l", 10**300),
    "huge float": variant("observations.wbc_10e9_l", 1e308),
    "string count": variant("observations.wbc_10e9_l", "12.5"),
    "boolean count": variant("observations.wbc_10e9_l", True),
    "list count": variant("observations.wbc_10e9_l", [12.5]),
    "negative count": variant("observations.wbc_10e9_l", -0.01),
    "cyrillic C in ICD-10": variant("diagnosis.icd10", "\u0421" + "91.0"),
    "fullwidth digits in ICD-10": variant("diagnosis.icd10", "C\uff19\uff11.0"),
    "lowercase ICD-10": variant("diagnosis.icd10", "c91.0"),
    "ICD-10 with a trailing newline": variant("diagnosis.icd10", "C91.0\n"),
    "morphology without behaviour": variant("diagnosis.icdo3_morphology", "9811"),
    "region confusable": variant("home_region", "\u041aZ-75"),
    "region unknown": variant("home_region", "KZ-00"),
    "as_of in year 1": variant("as_of", "0001-01-01T00:00:00+00:00"),
    "as_of far future": variant("as_of", "9999-12-31T00:00:00+00:00"),
    "birth in 1800": variant("birth_date", "1800-01-01"),
    "birth after as_of": variant("birth_date", "2030-01-01"),
    "naive as_of": variant("as_of", "2026-11-22T09:00:00"),
    "enum case": variant("observations.immunophenotype", "b"),
    "unknown observation": variant("observations.wbc", 12.5),
    "exposure as text": variant("exposures.doxorubicin_mg_m2", "lots"),
    "nested junk": variant("observations.immunophenotype", {"a": [{"b": None}]}),
    "unknown top-level key": variant("name", "a child's name"),
    "position at unknown step": variant("position.step", "nowhere"),
    "negative age": variant("age_years", -1),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_state_is_a_clear_error(
    shipped_bundle: pr.Bundle, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(pr.PatientDataError) as raised:
        shipped_bundle.route(HOSTILE[name])
    error = raised.value
    assert error.problems, name
    assert SECRET not in str(error)
    assert all(SECRET not in problem for problem in error.problems)
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_valid_base_routes(shipped_bundle: pr.Bundle, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    decision = shipped_bundle.route(BASE)
    assert decision.status == "routed"
    assert SECRET not in str(decision.to_dict())
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_engine_failure_leaves_the_bundle_usable(shipped_bundle: pr.Bundle) -> None:
    """An exception inside the engine (here: a fact the encoder cannot handle, forced past
    validation) does not break the shared bundle: the next decision is still right."""
    from pedonc_routing.engine.walker import walk
    from pedonc_routing.intake.patient import PatientFacts

    compiled = shipped_bundle.compiled
    good = read_patient(compiled.schema, BASE, compiled.steps_by_protocol)
    bad = PatientFacts(good.state, {**good.facts, "immunophenotype": "not-an-enum-value"})
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the engine raises
        walk(compiled, shipped_bundle._evaluator, bad)
    decision = shipped_bundle.route(BASE)
    assert decision.step is not None
    assert decision.step.id == "induction_standard_risk"
