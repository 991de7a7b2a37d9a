"""The stateful walk (pedonc_routing.testing.stateful): children go through whole pathways
of the shipped bundle and hold every check at every step; on a small in-memory bundle the
walk passes, and fails once a fault is planted at a step only a walk reaches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import pedonc_routing as pr
from pedonc_routing.compiler.guards import GuardTable
from pedonc_routing.engine.reference import ReferenceEvaluator, Truth
from pedonc_routing.testing.bundles import build_bundle, shipped_bundle
from pedonc_routing.testing.properties import PropertyFailed, assert_total
from pedonc_routing.testing.stateful import WALK_CHECKS, PathwayWalk, pathway_walk

ShippedWalk = pathway_walk(shipped_bundle())
ShippedWalk.TestCase.settings = settings(
    ShippedWalk.TestCase.settings, max_examples=min(settings.default.max_examples, 60)
)
test_shipped_pathway_walk = ShippedWalk.TestCase

#: Walks on the small bundle: derandomized, no example database, no shrinking (any failing
#: walk proves the fault is caught); ten steps reach the end of its three-step pathway.
SMALL_WALKS = settings(
    max_examples=30,
    stateful_step_count=10,
    derandomize=True,
    database=None,
    phases=(Phase.generate,),
)

_TEXT = {"en": "Text", "ru": "Текст", "kk": "Мәтін"}
_CARE = {"specialist": "pediatric_oncohematologist", "min_level": "regional",
         "setting": "inpatient"}  # fmt: skip


def _phase(until: str, then: str) -> dict[str, Any]:
    """A treatment phase that continues until the flag ``until`` is true."""
    return {
        "kind": "treatment_phase",
        "title": _TEXT,
        "family_info": _TEXT,
        "care": _CARE,
        "urgency": "urgent",
        "next": [{"id": "done", "to": then, "when": {"input": until, "eq": True},
                  "because": "Phase completed", "source": "s1"}],
        "otherwise": {"to": "self", "because": "Not yet completed", "source": "s1"},
    }  # fmt: skip


def _walked_protocol() -> dict[str, Any]:
    """Induction, then consolidation, then follow-up: consolidation is reached only by
    following two decisions."""
    steps = {
        "induction": _phase("induction_completed", "consolidation"),
        "consolidation": _phase("therapy_completed", "follow_up"),
        "follow_up": {"kind": "terminal", "title": _TEXT, "family_info": _TEXT, "care": _CARE,
                      "urgency": "routine"},
    }  # fmt: skip
    for name, step in steps.items():
        if "otherwise" in step:
            step["otherwise"] = {**step["otherwise"], "to": name}
    return {
        "kind": "protocol",
        "id": "walked",
        "version": "1",
        "status": "draft",
        "title": _TEXT,
        "sources": [{"id": "s1", "citation": "A citation written for this test only."}],
        "inputs": ["induction_completed", "therapy_completed"],
        "applies_to": {"all": [{"input": "icd10", "icd10_in": ["C40"]},
                               {"input": "age_years", "lt": 18}]},
        "entry": "induction",
        "steps": steps,
    }  # fmt: skip


@pytest.fixture(name="small_bundle", scope="module")
def small_bundle_fixture() -> pr.Bundle:
    """The shipped vocabulary, care and facilities plus the walked protocol, in memory."""
    return build_bundle({"walked.yaml": _walked_protocol()})


class _FaultAt:
    """The reference evaluator, except that it raises on one guard (a planted engine bug,
    like the durable-rules faults of DESIGN.md section 8)."""

    name = "reference"

    def __init__(self, guard_key: str) -> None:
        self.guard_key = guard_key
        self.inner = ReferenceEvaluator()

    def prepare(self, table: GuardTable) -> None:
        self.inner.prepare(table)

    def evaluate(self, table: GuardTable, facts: Mapping[str, Any]) -> Callable[[str], Truth]:
        truth = self.inner.evaluate(table, facts)

        def planted(key: str) -> Truth:
            if key == self.guard_key:
                raise RuntimeError("planted fault")
            return truth(key)

        return planted


def test_pathway_walk_is_a_state_machine_per_bundle(small_bundle: pr.Bundle) -> None:
    walk = pathway_walk(small_bundle, max_steps=7)
    assert issubclass(walk, PathwayWalk)
    assert walk.routing_bundle is small_bundle
    assert walk.checks == WALK_CHECKS
    assert walk.TestCase.settings.stateful_step_count == 7
    assert pathway_walk(shipped_bundle()).routing_bundle is not small_bundle  # one class per bundle


def test_the_walk_passes_on_a_sound_small_bundle(small_bundle: pr.Bundle) -> None:
    run_state_machine_as_test(pathway_walk(small_bundle), settings=SMALL_WALKS)


def test_the_walk_finds_a_fault_only_a_walk_reaches(small_bundle: pr.Bundle) -> None:
    consolidation = small_bundle.compiled.protocols["walked"].graph.steps["consolidation"]
    guard_key = consolidation.transitions[0].guard_key
    assert guard_key is not None
    faulty = pr.Bundle(small_bundle.compiled, _FaultAt(guard_key), small_bundle.report)
    # a new child never meets the fault: its decision is the entry step, induction
    child = {"as_of": "2026-11-22T09:00:00+05:00", "birth_date": "2019-01-01",
             "home_region": "KZ-75", "diagnosis": {"icd10": "C40.2"},
             "observations": {"induction_completed": True, "therapy_completed": True}}  # fmt: skip
    decision = assert_total(faulty, child)
    assert decision.step is not None
    assert decision.step.id == "induction"

    with pytest.raises(PropertyFailed) as caught:
        run_state_machine_as_test(pathway_walk(faulty), settings=SMALL_WALKS)
    assert "routing raised RuntimeError: planted fault" in str(caught.value)
    assert caught.value.facts["position"] == "walked.consolidation"
