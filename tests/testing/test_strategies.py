"""pedonc_routing.testing.patients and .bundles (both re-exported by .strategies): valid
patients, boundaries, protocols, and bundles built in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import pedonc_routing as pr
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.testing import bundles as bundles_module
from pedonc_routing.testing import patients as patients_module
from pedonc_routing.testing import strategies
from pedonc_routing.testing.bundles import GENERATED_FOLDER, build_bundle, bundles, protocols
from pedonc_routing.testing.patients import AS_OF, patients

SMALL = settings(max_examples=min(settings.default.max_examples, 60))


def test_strategies_reexports_patients_and_bundles() -> None:
    assert set(strategies.__all__) >= {"patients", "protocols", "bundles"}
    assert set(strategies.__all__) == {*patients_module.__all__, *bundles_module.__all__} - {
        "GENERATED_FOLDER"
    }
    for name in strategies.__all__:
        home = patients_module if name in patients_module.__all__ else bundles_module
        assert getattr(strategies, name) is getattr(home, name)


@given(patient=patients())
def test_patients_are_valid_and_route(patient: dict[str, Any]) -> None:
    pr.PatientState.model_validate(patient)
    bundle = bundles_module.shipped_bundle()
    decision = bundle.route(patient)  # never PatientDataError
    assert "patient_id" not in patient
    assert decision.status != "needs_data" or "position.return_to" not in decision.missing


@SMALL
@given(patient=patients(allow_missing=True))
def test_patients_with_omissions_are_valid(patient: dict[str, Any]) -> None:
    bundles_module.shipped_bundle().route(patient)


@SMALL
@given(patient=st.from_type(pr.PatientState))
def test_patient_state_type_strategy(patient: pr.PatientState) -> None:
    assert isinstance(patient, pr.PatientState)
    bundles_module.shipped_bundle().route(patient)


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
def test_generated_protocols_validate(document: dict[str, Any]) -> None:
    bundle = build_bundle({"generated.yaml": document})  # raises ValidationFailed if not
    assert "generated" in bundle.protocol_ids


def test_built_bundles_read_as_the_same_files_on_disk(tmp_path: Path) -> None:
    """In memory, a document gets the positions and the content hash it has on disk."""
    document = {**_small_protocol(), "colour": "red"}  # an unknown key: S001 at its line
    with pytest.raises(pr.ValidationFailed) as in_memory:
        build_bundle({"small.yaml": document})
    on_disk = _write_generated(tmp_path / GENERATED_FOLDER, {"small.yaml": document})
    assert [str(i) for i in in_memory.value.issues] == [str(i) for i in pr.validate(on_disk).issues]
    assert any(str(i).startswith("generated/small.yaml:") for i in in_memory.value.issues)

    built = build_bundle({"small.yaml": _small_protocol()})
    _write_generated(tmp_path / GENERATED_FOLDER, {"small.yaml": _small_protocol()})
    assert built.content_hash == pr.load_bundle(on_disk, engine="reference").content_hash
    assert built.engine == "reference"
    source = built.compiled.protocols["small"].graph.steps["s0"].span
    assert str(source).startswith("generated/small.yaml:")


def _small_protocol() -> dict[str, Any]:
    return {
        "kind": "protocol",
        "id": "small",
        "version": "1",
        "status": "draft",
        "title": {"en": "Text", "ru": "Текст", "kk": "Мәтін"},
        "sources": [{"id": "s1", "citation": "A citation written for this test only."}],
        "inputs": [],
        "applies_to": {"all": [{"input": "icd10", "icd10_in": ["C41"]},
                               {"input": "age_years", "lt": 18}]},
        "entry": "s0",
        "steps": {"s0": {"kind": "terminal", "title": {"en": "Text", "ru": "Текст", "kk": "Мәтін"},
                         "family_info": {"en": "Text", "ru": "Текст", "kk": "Мәтін"},
                         "care": {"specialist": "pediatric_oncohematologist",
                                  "min_level": "regional", "setting": "inpatient"},
                         "urgency": "routine"}},
    }  # fmt: skip


def _write_generated(root: Path, documents: dict[str, dict[str, Any]]) -> Path:
    """The folder :func:`build_bundle` reads in memory, written out: shipped vocabulary, care,
    routing rules and facilities plus ``documents``."""
    shipped = Path(pr.__file__).resolve().parents[2] / "protocols"
    for pattern in ("vocabulary*.yaml", "care.yaml", "routing_rules.yaml", "facilities/*.yaml"):
        for path in shipped.glob(pattern):
            target = root / path.relative_to(shipped)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    for name, document in documents.items():
        (root / name).write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return root


def test_bundles_load_and_route() -> None:
    @settings(max_examples=8, derandomize=True)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        bundle = data.draw(bundles())
        generated = [p for p in bundle.protocol_ids if p.startswith("generated_")]
        assert generated
        patient = data.draw(patients(bundle, generated[0], position=None))
        decision = bundle.route(patient)
        assert decision.protocol is not None
        assert decision.protocol.id == generated[0]

    check()
