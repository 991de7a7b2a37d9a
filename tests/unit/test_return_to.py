"""Resuming an interrupted pathway: an override's decision carries ``return_to`` (where the
child was), and a transition ``to: return`` in the override's pathway routes the child back
to that step; without ``position.return_to`` it asks for it instead of guessing."""

from __future__ import annotations

from typing import Any

import pytest

import pedonc_routing as pr
from conftest import write_bundle
from unit.test_walker import ALWAYS, FEVER_NEUTROPENIA, OTHER, TINY, protocol, step, transition

EMERGENCY = protocol(
    "emergency",
    [
        step(
            "treat",
            kind="emergency",
            urgency="emergency",
            next_=[transition("recovered", "return", ALWAYS, because="episode over: resume")],
        ),
    ],
    entry="treat",
    inputs=["fever_sustained_1h", "anc_10e9_l", "wbc_10e9_l"],
    overrides=[
        "{id: fn, to: treat, priority: 10, when: " + FEVER_NEUTROPENIA + ', because: "F&N"}'
    ],
)


@pytest.fixture(scope="module", params=["durable", "reference"])
def bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> pr.Bundle:
    root = write_bundle(
        tmp_path_factory.mktemp("resume") / "bundle",
        {"tiny.yaml": TINY, "other.yaml": OTHER, "emergency.yaml": EMERGENCY},
    )
    return pr.load_bundle(root, engine=request.param)


def child(position: dict[str, Any], **observations: Any) -> dict[str, Any]:
    return {
        "as_of": "2026-11-22T09:00:00+05:00",
        "birth_date": "2016-05-02",
        "home_region": "KZ-11",
        "diagnosis": {"icd10": "C91.0"},
        "position": position,
        "observations": observations,
    }


def test_override_records_where_to_return(bundle: pr.Bundle) -> None:
    decision = bundle.route(
        child({"protocol": "tiny", "step": "a_step"}, fever_sustained_1h=True, anc_10e9_l=0.2)
    )
    assert decision.status == "routed"
    assert decision.step is not None
    assert decision.step.id == "treat"
    assert decision.return_to is not None
    assert (decision.return_to.protocol, decision.return_to.step) == ("tiny", "a_step")
    assert decision.to_dict()["return_to"] == {"protocol": "tiny", "step": "a_step"}


def test_return_resumes_the_interrupted_step(bundle: pr.Bundle) -> None:
    position = {
        "protocol": "emergency",
        "step": "treat",
        "return_to": {"protocol": "tiny", "step": "a_step"},
    }
    decision = bundle.route(child(position, wbc_10e9_l=3.0))
    assert decision.status == "routed"
    assert decision.protocol is not None
    assert (decision.protocol.id, decision.step.id if decision.step else None) == (
        "tiny",
        "a_step",
    )
    assert decision.return_to is None  # the interruption is over


def test_return_without_return_to_needs_it(bundle: pr.Bundle) -> None:
    decision = bundle.route(child({"protocol": "emergency", "step": "treat"}, wbc_10e9_l=3.0))
    assert decision.status == "needs_data"
    assert decision.missing == ["position.return_to"]


def test_unknown_return_point_is_a_data_error(bundle: pr.Bundle) -> None:
    position = {
        "protocol": "emergency",
        "step": "treat",
        "return_to": {"protocol": "tiny", "step": "nowhere"},
    }
    with pytest.raises(pr.PatientDataError, match=r"position\.return_to"):
        bundle.route(child(position, wbc_10e9_l=3.0))
