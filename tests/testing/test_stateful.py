"""A stateful walk: children go through whole pathways of the shipped bundle.

A child starts with no position (the protocol is chosen by ``applies_to``), then each
decision's step becomes the child's position (with ``return_to`` when an override fired),
while time passes and observations change at random (phase-completed flags, counts, a
fever episode). At every step the decision must be total, at a capable facility, and the
same from both engines. At most 20 steps per child.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import pedonc_routing as pr
from pedonc_routing.testing.properties import (
    assert_capable_facility,
    assert_deterministic,
    assert_total,
)
from pedonc_routing.testing.strategies import (
    guard_constants,
    patients,
    shipped_bundle,
    value_strategy,
)

BUNDLE = shipped_bundle()
NEW_PATIENT_PROTOCOLS = sorted(BUNDLE.compiled.selection_order)


class PathwayWalk(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.patient: dict[str, Any] = {}
        self.decision: pr.Decision | None = None
        self.protocol = ""

    @initialize(data=st.data())
    def new_child(self, data: st.DataObject) -> None:
        self.protocol = data.draw(st.sampled_from(NEW_PATIENT_PROTOCOLS), label="protocol")
        self.patient = data.draw(patients(BUNDLE, self.protocol, position=None), label="child")

    def _inputs(self) -> list[str]:
        schema = BUNDLE.compiled.schema
        return sorted(
            name
            for group in ("observations", "exposures")
            for name in self.patient[group]
            if not schema.inputs[name].builtin
        )

    @rule(hours=st.sampled_from([1, 6, 24, 24 * 7, 24 * 30, 24 * 365]))
    def time_passes(self, hours: int) -> None:
        as_of = datetime.fromisoformat(self.patient["as_of"]) + timedelta(hours=hours)
        self.patient["as_of"] = as_of.isoformat()

    @rule(data=st.data())
    def observation_changes(self, data: st.DataObject) -> None:
        names = self._inputs()
        if not names:
            return
        schema = BUNDLE.compiled.schema
        name = data.draw(st.sampled_from(names), label="input")
        spec = schema.inputs[name]
        value = data.draw(value_strategy(spec, guard_constants(BUNDLE).get(name, set())))
        self.patient[spec.group][name] = value

    @rule(data=st.data())
    def phase_completed(self, data: st.DataObject) -> None:
        flags = [n for n in self._inputs() if n.endswith(("_completed", "_resolved"))]
        if flags:
            name = data.draw(st.sampled_from(flags), label="flag")
            self.patient["observations"][name] = True

    @rule()
    def follow_the_decision(self) -> None:
        decision = assert_total(BUNDLE, self.patient)
        self.decision = decision
        if decision.protocol is None or decision.step is None:
            return
        position: dict[str, Any] = {
            "protocol": decision.protocol.id,
            "step": decision.step.id,
            "entered_at": self.patient["as_of"],
        }
        if decision.return_to is not None:
            position["return_to"] = decision.return_to.model_dump()
        self.patient["position"] = position
        if (
            decision.facility is not None
            and decision.facility.id in BUNDLE.compiled.network.facilities
        ):
            self.patient["current_facility"] = decision.facility.id

    @invariant()
    def decisions_hold(self) -> None:
        if not self.patient:
            return
        assert_total(BUNDLE, self.patient)
        assert_capable_facility(BUNDLE, self.patient)
        assert_deterministic(BUNDLE, self.patient)


PathwayWalk.TestCase.settings = settings(
    settings.default,
    max_examples=min(settings.default.max_examples, 60),
    stateful_step_count=20,
)
test_pathway_walk = PathwayWalk.TestCase
