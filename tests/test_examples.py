"""The shipped protocols on the example patients (examples/patients + expected.yaml), with
both engines: expected status/step/missing/urgency, the decision JSON shape of DESIGN.md
section 6, explanation sources that point at real lines inside protocols/, and no patient
identifier anywhere in the decision.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
import yaml

import pedonc_routing as pr
from conftest import EXAMPLES_DIR, PROTOCOLS_DIR, ExamplePatient, load_example_patients

EXAMPLES = load_example_patients()
IDS = [name for name, _, _ in EXAMPLES]

TOP_KEYS = {
    "status",
    "protocol",
    "bundle_hash",
    "from_step",
    "step",
    "facility",
    "specialist",
    "urgency",
    "follow_ups",
    "missing",
    "explanation",
}


@pytest.fixture(params=["durable", "reference"])
def bundle(
    request: pytest.FixtureRequest, shipped_bundle: pr.Bundle, reference_bundle: pr.Bundle
) -> pr.Bundle:
    chosen = shipped_bundle if request.param == "durable" else reference_bundle
    assert chosen.engine == request.param
    return chosen


@cache
def protocol_lines(relative: str) -> list[str]:
    return (PROTOCOLS_DIR / relative).read_text(encoding="utf-8").splitlines()


def test_there_are_examples(example_patients: list[ExamplePatient]) -> None:
    assert len(example_patients) >= 18
    # every example file has an entry in expected.yaml, and the other way round
    entries = yaml.safe_load((EXAMPLES_DIR / "expected.yaml").read_text(encoding="utf-8"))
    assert sorted(entry["file"] for entry in entries) == IDS
    statuses = {expected["status"] for _, _, expected in example_patients}
    assert statuses >= {"routed", "needs_data", "not_applicable", "completed"}


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_expected_outcome(bundle: pr.Bundle, example: ExamplePatient) -> None:
    _, patient, expected = example
    decision = bundle.route(patient)
    assert decision.status == expected["status"]
    assert (decision.step.id if decision.step else None) == expected["step"]
    assert decision.missing == expected["missing"]
    assert decision.urgency == expected["urgency"]
    assert decision.engine == bundle.engine
    if decision.status == "routed":
        assert decision.facility is not None
        assert decision.specialist is not None
    else:
        assert decision.facility is None


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_decision_json_shape(bundle: pr.Bundle, example: ExamplePatient) -> None:
    _, patient, _ = example
    decision = bundle.route(patient)
    data = decision.to_dict()
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    assert json.loads(text) == data
    assert set(data) >= TOP_KEYS
    assert data["bundle_hash"] == bundle.content_hash
    assert data["bundle_hash"].startswith("sha256:")
    assert len(data["bundle_hash"]) == len("sha256:") + 64
    assert data["status"] in {"routed", "needs_data", "no_route", "not_applicable", "completed"}
    if data["protocol"] is not None:
        assert set(data["protocol"]) >= {"id", "version"}
        # the ALL examples stay on ALL, except the hand-over into long-term follow-up and
        # the hepatoblastoma that the catch-all pathway routes (issue 12)
        assert data["protocol"]["id"] in {"all", "survivorship", "other_malignancy"}
        assert data["protocol"]["version"] == "2026.1"
    if data["step"] is not None:
        assert set(data["step"]) >= {"id", "kind", "title", "due_within_hours"}
    if data["facility"] is not None:
        assert set(data["facility"]) >= {"id", "name", "region", "level"}
    if data["specialist"] is not None:
        assert set(data["specialist"]) >= {"id", "title"}
    assert data["urgency"] in {None, "emergency", "urgent", "routine"}
    assert isinstance(data["missing"], list)
    for follow_up in data["follow_ups"]:
        assert set(follow_up) >= {"id", "title", "due_within_hours", "interval_months"}
    if data["status"] == "routed":
        assert data["explanation"], "a routed decision explains itself"
    for item in data["explanation"]:
        assert set(item) >= {"rule", "source", "because", "facts"}
        assert isinstance(item["facts"], dict)


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_explanation_sources_point_inside_protocols(
    bundle: pr.Bundle, example: ExamplePatient
) -> None:
    _, patient, _ = example
    decision = bundle.route(patient)
    for item in decision.explanation:
        file, _, line = item.source.rpartition(":")
        assert file.startswith("protocols/"), item.source
        lines = protocol_lines(file.removeprefix("protocols/"))
        assert 1 <= int(line) <= len(lines), item.source
        text = lines[int(line) - 1]
        rule = item.rule
        step_level = rule.count(".") == 1 or rule.endswith(".follow_ups")
        if rule.startswith("all.") and step_level:
            # a step-level reason (needs_data, completed) points at the step's key
            assert f"{rule.split('.')[1]}:" in text, (item.source, text)
        elif rule.startswith("all.") and not rule.endswith(("applies_to", "otherwise")):
            # a transition's source is the line of its list item: "- id: <transition id>"
            assert f"id: {rule.rsplit('.', 1)[1]}" in text, (item.source, text)
        elif rule in {"facility.catchment_regional", "facility.catchment_republican"}:
            assert f"region: {patient['home_region']}" in text, (item.source, text)
        elif rule in {"facility.continuity", "facility.nearest_capable"}:
            assert decision.facility is not None
            assert f"id: {decision.facility.id}" in text, (item.source, text)


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_no_patient_id_in_decision(bundle: pr.Bundle, example: ExamplePatient) -> None:
    _, patient, _ = example
    secret = "anon-SECRET-4711"
    patient = {**patient, "patient_id": secret}
    decision = bundle.route(patient)
    assert secret not in json.dumps(decision.to_dict(), ensure_ascii=False)
    assert secret not in repr(decision)
    assert secret not in decision.summary()


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_engines_agree(
    shipped_bundle: pr.Bundle, reference_bundle: pr.Bundle, example: ExamplePatient
) -> None:
    _, patient, _ = example

    def strip(data: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in data.items() if key != "engine"}

    assert strip(shipped_bundle.route(patient).to_dict()) == strip(
        reference_bundle.route(patient).to_dict()
    )


def test_default_bundle_is_the_shipped_protocols(shipped_bundle: pr.Bundle) -> None:
    default = pr.load_bundle()
    assert default.content_hash == shipped_bundle.content_hash
    assert "all" in default.protocol_ids


def test_languages(reference_bundle: pr.Bundle) -> None:
    _, patient, _ = EXAMPLES[0]
    english = reference_bundle.route(patient, lang="en")
    russian = reference_bundle.route(patient, lang="ru")
    assert english.step is not None
    assert russian.step is not None
    assert english.step.id == russian.step.id
    assert english.step.title != russian.step.title
    protocol = reference_bundle.protocol("all")
    assert russian.step.title == protocol.steps[russian.step.id].title.ru


def test_unknown_protocol_suggests(reference_bundle: pr.Bundle) -> None:
    with pytest.raises(pr.UnknownProtocolError) as caught:
        reference_bundle.protocol("alll")
    assert caught.value.suggestion == "all"
    assert "did you mean 'all'" in str(caught.value)
    assert isinstance(caught.value, KeyError)
