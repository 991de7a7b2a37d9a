"""YAML invariants: the shipped file holds (statically and under hypothesis), and a planted
fault is found by both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from planting import plant_fixture  # noqa: F401  (the `plant` fixture)

import pedonc_routing as pr
from pedonc_routing.testing.invariants import (
    Invariant,
    InvariantsError,
    check_invariant,
    invariant_counterexample,
    load_invariants,
)
from pedonc_routing.testing.patients import patients
from pedonc_routing.testing.properties import PropertyFailed

SHIPPED = Path(__file__).resolve().parents[1] / "invariants" / "shipped.yaml"
INVARIANTS = load_invariants(SHIPPED)
FN = next(i for i in INVARIANTS if i.id == "febrile_neutropenia_is_an_emergency")


def test_shipped_file_has_the_febrile_neutropenia_invariant() -> None:
    assert FN.then.urgency == "emergency"
    assert FN.then.facility_cover_24h is True


@pytest.mark.parametrize("invariant", INVARIANTS, ids=[i.id for i in INVARIANTS])
def test_shipped_invariants_hold_statically(
    shipped_bundle: pr.Bundle, invariant: Invariant
) -> None:
    assert invariant_counterexample(shipped_bundle, invariant) is None


@given(patient=patients(interrupts=True))
def test_shipped_invariants_hold_under_hypothesis(
    shipped_bundle: pr.Bundle, patient: dict[str, Any]
) -> None:
    for invariant in INVARIANTS:
        check_invariant(shipped_bundle, invariant, patient)


@given(patient=patients(protocol="all", interrupts=True, on_chemotherapy=True))
def test_fn_invariant_on_children_on_chemotherapy(
    shipped_bundle: pr.Bundle, patient: dict[str, Any]
) -> None:
    check_invariant(shipped_bundle, FN, patient)


def test_planted_threshold_is_found_statically_and_by_hypothesis(plant: Any) -> None:
    # the override now needs ANC < 0.3: a child with ANC 0.3-0.49 is no longer an emergency
    bundle = plant(
        "febrile_neutropenia.yaml",
        "- {input: anc_10e9_l, lt: 0.5}",
        "- {input: anc_10e9_l, lt: 0.3}",
    )
    found = invariant_counterexample(bundle, FN)
    assert found is not None
    anc = found.patient["observations"]["anc_10e9_l"]
    assert 0.3 <= anc < 0.5
    assert any("urgency" in problem for problem in found.problems)

    @settings(max_examples=300, derandomize=True, database=None, phases=(Phase.generate,))
    @given(patient=patients(bundle, "all", interrupts=True, on_chemotherapy=True,
                            temperature_c=38.6))  # fmt: skip
    def check(patient: dict[str, Any]) -> None:
        check_invariant(bundle, FN, patient)

    with pytest.raises(PropertyFailed) as caught:
        check()
    assert 0.3 <= caught.value.facts["anc_10e9_l"] < 0.5
    assert "febrile_neutropenia_is_an_emergency" in str(caught.value)


def test_load_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "kind: invariants\ninvariants:\n  - id: x\n    description: d\n"
        "    when: {input: anc_10e9_l, lt: 0.5}\n    then: {urgency: soon}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvariantsError, match=r"bad.yaml:6"):
        load_invariants(path)
    path.write_text(
        "kind: invariants\ninvariants: !!python/object:os.system []\n", encoding="utf-8"
    )
    with pytest.raises(InvariantsError, match="Y003"):
        load_invariants(path)


def test_invariant_not_applying_is_vacuous(shipped_bundle: pr.Bundle) -> None:
    patient = {"as_of": "2026-11-22T09:00:00+05:00", "home_region": "KZ-75",
               "birth_date": "2020-01-01", "diagnosis": {"icd10": "C91.0"}}  # fmt: skip
    assert check_invariant(shipped_bundle, FN, patient) is None
