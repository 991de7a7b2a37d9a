"""The durable-rules evaluator across bundles in one process (engine/durable.py): rulesets
are shared between bundles by a digest of their definition, so two bundles whose guard
tables have identical conditions but different guard keys (another protocol id, a renamed
step) must still each read their own guards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import pedonc_routing as pr
from conftest import TEXT
from pedonc_routing.engine import durable_available

pytestmark = pytest.mark.skipif(not durable_available(), reason="durable-rules not importable")

CARE = "{specialist: pediatric_oncohematologist, min_level: regional, setting: inpatient}"


def protocol(pid: str, first_step: str, icd: str) -> str:
    """A tiny protocol; ``icd`` keeps each test's selector table distinct from the others."""
    return f"""kind: protocol
id: {pid}
version: "1"
status: draft
title: {TEXT}
sources:
  - {{id: src, citation: "Test citation for the reload test, 2026."}}
inputs: [wbc_10e9_l]
applies_to: {{all: [{{input: icd10, icd10_in: ["{icd}"]}}, {{input: age_years, lt: 21}}]}}
entry: {first_step}
steps:
  {first_step}:
    kind: diagnostic
    title: {TEXT}
    family_info: {TEXT}
    care: {CARE}
    next:
      - {{id: high, to: done, when: {{input: wbc_10e9_l, gte: 50}}, because: "high"}}
    otherwise: {{to: {first_step}, because: "wait"}}
  done:
    kind: terminal
    title: {TEXT}
    family_info: {TEXT}
    care: {CARE}
"""


def patient(pid: str | None, step: str | None, icd: str) -> dict[str, object]:
    data: dict[str, object] = {
        "as_of": "2026-11-22T09:00:00+05:00",
        "birth_date": "2016-05-02",
        "home_region": "KZ-11",
        "diagnosis": {"icd10": icd},
        "observations": {"wbc_10e9_l": 80.0},
    }
    if pid is not None:
        data["position"] = {"protocol": pid, "step": step}
    return data


def test_same_bundle_loaded_twice(make_bundle: Callable[..., Path]) -> None:
    root = make_bundle(protocol("reload_same", "start", "C40"))
    first, second = pr.load_bundle(root), pr.load_bundle(root)
    for bundle in (first, second):
        assert bundle.engine == "durable"
        decision = bundle.route(patient("reload_same", "start", "C40.2"))
        assert (decision.status, decision.step and decision.step.id) == ("routed", "done")


def test_identical_guards_under_another_protocol_id(make_bundle: Callable[..., Path]) -> None:
    alpha = pr.load_bundle(make_bundle(protocol("reload_alpha", "start", "C47")))
    beta = pr.load_bundle(make_bundle(protocol("reload_beta", "start", "C47")))
    assert alpha.route(patient(None, None, "C47.1")).status == "routed"
    reference = pr.load_bundle(
        make_bundle(protocol("reload_beta", "start", "C47")), engine="reference"
    )
    expected = reference.route(patient(None, None, "C47.1"))
    assert expected.status == "routed"
    decision = beta.route(patient(None, None, "C47.1"))  # regression: once not_applicable
    assert decision.status == "routed"
    assert decision.protocol is not None
    assert decision.protocol.id == "reload_beta"


def test_identical_guards_under_a_renamed_step(make_bundle: Callable[..., Path]) -> None:
    old = pr.load_bundle(make_bundle(protocol("reload_rename", "start", "C49")))
    assert old.route(patient("reload_rename", "start", "C49.0")).step.id == "done"  # type: ignore[union-attr]
    new = pr.load_bundle(make_bundle(protocol("reload_rename", "begin", "C49")))
    decision = new.route(
        patient("reload_rename", "begin", "C49.0")
    )  # regression: once "begin" (otherwise)
    assert decision.step is not None
    assert decision.step.id == "done"
