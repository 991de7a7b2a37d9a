"""pedonc_routing.testing.strategies: valid patients, boundaries, protocols, bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pedonc_routing as pr
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.testing import strategies
from pedonc_routing.testing.strategies import AS_OF, bundles, patients, protocols

SMALL = settings(max_examples=min(settings.default.max_examples, 60))


def test_all_is_exported() -> None:
    assert set(strategies.__all__) >= {"patients", "protocols", "bundles"}


@given(patient=patients())
def test_patients_are_valid_and_route(patient: dict[str, Any]) -> None:
    pr.PatientState.model_validate(patient)
    bundle = strategies.shipped_bundle()
    decision = bundle.route(patient)  # never PatientDataError
    assert "patient_id" not in patient
    assert decision.status != "needs_data" or "position.return_to" not in decision.missing


@SMALL
@given(patient=patients(allow_missing=True))
def test_patients_with_omissions_are_valid(patient: dict[str, Any]) -> None:
    strategies.shipped_bundle().route(patient)


@SMALL
@given(patient=st.from_type(pr.PatientState))
def test_patient_state_type_strategy(patient: pr.PatientState) -> None:
    assert isinstance(patient, pr.PatientState)
    strategies.shipped_bundle().route(patient)


@pytest.mark.parametrize(
    "protocol",
    ["all", "hodgkin_lymphoma", "burkitt_lymphoma", "wilms_tumour", "retinoblastoma",
     "low_grade_glioma", "early_warning"],
)  # fmt: skip
def test_new_patients_get_their_protocol(shipped_bundle: pr.Bundle, protocol: str) -> None:
    """No position: the diagnosis and age make the protocol's applies_to hold."""

    @settings(max_examples=25, derandomize=True)
    @given(patient=patients(shipped_bundle, protocol, position=None, interrupts=False))
    def check(patient: dict[str, Any]) -> None:
        decision = shipped_bundle.route(patient)
        assert decision.protocol is not None, decision.summary()
        assert decision.protocol.id == protocol

    check()


def test_complete_patients_never_need_data(shipped_bundle: pr.Bundle) -> None:
    @settings(max_examples=150, derandomize=True)
    @given(patient=patients(shipped_bundle, "all"))
    def check(patient: dict[str, Any]) -> None:
        assert shipped_bundle.route(patient).status != "needs_data"

    check()


def test_boundaries_are_drawn(shipped_bundle: pr.Bundle) -> None:
    """wbc_10e9_l lt 50 (precision 2): 49.99, 50 and 50.01 all appear; and ages at the
    birthday and the day before it."""
    seen: set[float] = set()
    ages: set[int] = set()

    @settings(max_examples=400, derandomize=True)
    @given(patient=patients(shipped_bundle, "all", at_step="diagnosis"))
    def collect(patient: dict[str, Any]) -> None:
        seen.add(patient["observations"]["wbc_10e9_l"])
        compiled = shipped_bundle.compiled
        read = read_patient(compiled.schema, patient, compiled.steps_by_protocol)
        ages.add(read.facts["age_years"])

    collect()
    assert {49.99, 50.0, 50.01, 99.99, 100.0, 100.01, 0.0, 2000.0} <= seen
    assert {0, 1, 9, 10, 17} <= ages


def test_fixed_values_and_derived_inputs(shipped_bundle: pr.Bundle) -> None:
    @settings(max_examples=20, derandomize=True)
    @given(
        patient=patients(
            shipped_bundle,
            "febrile_neutropenia",
            at_step="emergency_assessment",
            anc_10e9_l=0.3,
            home_region=st.sampled_from(["KZ-75", "KZ-71"]),
        )
    )
    def check(patient: dict[str, Any]) -> None:
        assert patient["observations"]["anc_10e9_l"] == 0.3
        assert patient["home_region"] in ("KZ-75", "KZ-71")
        assert patient["as_of"] == AS_OF.isoformat()
        assert patient["position"]["step"] == "emergency_assessment"

    check()
    derived = [name for name, spec in shipped_bundle.compiled.schema.inputs.items() if spec.terms]
    assert derived
    with pytest.raises(ValueError, match="derived"):
        patients(shipped_bundle, **{derived[0]: 1.0})
    with pytest.raises(ValueError, match="neither"):
        patients(shipped_bundle, not_an_input=1)


def test_derived_inputs_never_generated(shipped_bundle: pr.Bundle) -> None:
    derived = {n for n, spec in shipped_bundle.compiled.schema.inputs.items() if spec.terms}

    @settings(max_examples=100, derandomize=True)
    @given(patient=patients(shipped_bundle, "survivorship"))
    def check(patient: dict[str, Any]) -> None:
        assert not derived & {*patient["observations"], *patient["exposures"]}

    check()


def test_unknown_protocol_and_step(shipped_bundle: pr.Bundle) -> None:
    with pytest.raises(pr.UnknownProtocolError):
        patients(shipped_bundle, "al")
    with pytest.raises(ValueError, match="not a step"):
        patients(shipped_bundle, "all", at_step="nowhere")


@settings(max_examples=min(settings.default.max_examples, 25))
@given(document=protocols())
def test_generated_protocols_validate(tmp_path_factory: pytest.TempPathFactory,
                                      document: dict[str, Any]) -> None:  # fmt: skip
    root = strategies.write_protocol_bundle(
        tmp_path_factory.mktemp("generated"), {"generated.yaml": document}
    )
    report = pr.validate(root)
    assert report.ok, [str(issue) for issue in report.issues if issue.severity == "error"]


def test_bundles_load_and_route(tmp_path: Path) -> None:
    @settings(max_examples=8, derandomize=True)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        bundle = data.draw(bundles(tmp_path))
        generated = [p for p in bundle.protocol_ids if p.startswith("generated_")]
        assert generated
        patient = data.draw(patients(bundle, generated[0], position=None))
        decision = bundle.route(patient)
        assert decision.protocol is not None
        assert decision.protocol.id == generated[0]

    check()
