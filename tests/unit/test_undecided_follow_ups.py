"""A follow-up the data cannot decide never withholds the ones it can (issue 12): a survivor
whose record gives only the cardiac exposures still gets the echocardiogram and the
psychosocial assessment, the facility and the specialist; the rest are listed with what each
needs, and the decision stays ``needs_data`` (no missing exposure is guessed as zero)."""

from __future__ import annotations

from typing import Any

import pytest

import pedonc_routing as pr

CARDIAC = {
    "doxorubicin_mg_m2": 300,
    "daunorubicin_mg_m2": 0,
    "epirubicin_mg_m2": 0,
    "idarubicin_mg_m2": 0,
    "mitoxantrone_mg_m2": 0,
    "heart_rt_gy": 0,
}


def survivor(exposures: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": "anon-survivor",
        "as_of": "2026-11-22T09:00:00+05:00",
        "birth_date": "2012-01-01",
        "sex": "F",
        "home_region": "KZ-59",
        "diagnosis": {"icd10": "C91.0"},
        "position": {"protocol": "survivorship", "step": "long_term_follow_up"},
        "exposures": exposures,
    }


@pytest.mark.parametrize("engine", ["durable", "reference"])
def test_decidable_follow_ups_are_given_and_the_rest_listed(engine: str) -> None:
    bundle = pr.load_bundle(engine=engine)  # type: ignore[arg-type]
    decision = bundle.route(survivor(CARDIAC))
    assert decision.status == "needs_data"
    assert decision.step is not None
    assert decision.step.id == "long_term_follow_up"
    assert decision.facility is not None
    assert decision.specialist is not None
    given = {item.id: item.interval_months for item in decision.follow_ups}
    assert given["echocardiogram"] == 24  # doxorubicin 300 mg/m2: high risk, every 2 years
    assert "psychosocial_assessment" in given
    undecided = {item.id: item.needs for item in decision.undecided_follow_ups}
    assert "hearing_assessment" in undecided
    assert "cisplatin_mg_m2" in undecided["hearing_assessment"]
    assert not set(given) & set(undecided)
    # Every input asked for is one some undecided follow-up needs, and nothing else.
    assert set(decision.missing) == set().union(*undecided.values())
    # No exposure was guessed: a follow-up that zero exposures would rule out is not given.
    assert "thyroid_function" in undecided


def test_with_every_exposure_the_decision_is_routed_and_complete() -> None:
    bundle = pr.load_bundle()
    partial = bundle.route(survivor(CARDIAC))
    everything = dict.fromkeys(partial.missing, 0)
    decision = bundle.route(survivor({**CARDIAC, **everything}))
    assert decision.status == "routed"
    assert decision.undecided_follow_ups == []
    assert decision.missing == []
    assert {item.id for item in decision.follow_ups} >= {"echocardiogram"}


def test_a_treatment_step_with_an_undecided_transition_still_needs_data_without_a_step() -> None:
    """Only follow-ups are given early: an undecided transition keeps the old answer."""
    decision = pr.load_bundle().route(
        {
            "patient_id": "anon-all",
            "as_of": "2026-11-22T09:00:00+05:00",
            "birth_date": "2021-03-14",
            "sex": "F",
            "home_region": "KZ-55",
            "diagnosis": {"icd10": "C91.0"},
            "position": {"protocol": "all", "step": "diagnosis"},
            "observations": {"wbc_10e9_l": 12.5},
        }
    )
    assert decision.status == "needs_data"
    assert decision.facility is None
    assert decision.specialist is None
    assert decision.undecided_follow_ups == []
    assert "immunophenotype" in decision.missing
