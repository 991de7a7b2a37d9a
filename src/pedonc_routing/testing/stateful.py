"""A stateful walk: hypothesis sends children through whole pathways of a bundle.

Why: a property of one patient (:mod:`.properties`) checks one moment. A pathway is a
sequence of moments: the child's position is the step the last decision gave, time passes,
a phase completes, a count drops, and the next decision must still be sound. The walk lets
hypothesis choose those sequences (``RuleBasedStateMachine``, as in hypothesis's own
stateful testing) and shrink a failing one to the fewest steps.

A child starts with no position (the protocol is chosen by ``applies_to``); then, in any
order hypothesis picks, the child follows the decision (its step becomes the position, with
``return_to`` when an override fired, and its facility the current one), time passes (1 h
to a year), an observation changes (a value from :func:`~.patients.value_strategy`, biased
to the guards' constants) or a phase is completed (an input named ``*_completed`` or
``*_resolved`` becomes true). After every step each check of :data:`WALK_CHECKS` (total,
capable facility, deterministic) must hold for the child.

On your own bundle, in a test module::

    from pedonc_routing import load_bundle
    from pedonc_routing.testing.stateful import pathway_walk

    TestMyPathways = pathway_walk(load_bundle("my_protocols")).TestCase

or, inside a test, ``hypothesis.stateful.run_state_machine_as_test(pathway_walk(bundle))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pedonc_routing.bundle import Bundle
from pedonc_routing.decision.model import Decision
from pedonc_routing.model.patient import PatientState
from pedonc_routing.testing.patients import guard_constants, patients, value_strategy
from pedonc_routing.testing.properties import (
    assert_capable_facility,
    assert_deterministic,
    assert_total,
)

__all__ = ["WALK_CHECKS", "Check", "PathwayWalk", "pathway_walk"]

#: A property of one patient of a bundle: raises (an ``AssertionError``) when it fails.
Check = Callable[[Bundle, PatientState | Mapping[str, Any]], object]

#: What must hold after every step of the walk (from :mod:`.properties`).
WALK_CHECKS: tuple[Check, ...] = (assert_total, assert_capable_facility, assert_deterministic)

#: How much time may pass between two steps, in hours: an hour to a year.
_HOURS_PASSING = (1, 6, 24, 24 * 7, 24 * 30, 24 * 365)


class PathwayWalk(RuleBasedStateMachine):
    """Walks one child at a time through the pathways of :attr:`routing_bundle`.

    Use :func:`pathway_walk` to get a subclass for a bundle; subclass it yourself to add
    rules (e.g. a relapse) or invariants.

    Attributes:
        routing_bundle: the bundle walked (a class attribute, set by :func:`pathway_walk`;
            not ``bundle``, which is hypothesis's own method for its ``Bundle`` values).
        checks: what must hold after every step, each called as ``check(bundle, patient)``.
        patient: the child's current state, a mapping shaped as DESIGN.md section 4.
        decision: the last decision the child followed, or None before the first.
    """

    routing_bundle: ClassVar[Bundle]
    checks: ClassVar[tuple[Check, ...]] = WALK_CHECKS

    def __init__(self) -> None:
        super().__init__()
        self.patient: dict[str, Any] = {}
        self.decision: Decision | None = None

    @initialize(data=st.data())
    def new_child(self, data: st.DataObject) -> None:
        """A child not yet on any pathway, for whom a protocol's ``applies_to`` holds."""
        protocol = data.draw(
            st.sampled_from(sorted(self.routing_bundle.compiled.selection_order)), label="protocol"
        )
        self.patient = data.draw(
            patients(self.routing_bundle, protocol, position=None), label="child"
        )

    def _inputs(self) -> list[str]:
        """The child's recorded inputs that may change (not the built-in ones)."""
        schema = self.routing_bundle.compiled.schema
        return sorted(
            name
            for group in ("observations", "exposures")
            for name in self.patient[group]
            if not schema.inputs[name].builtin
        )

    @rule(hours=st.sampled_from(_HOURS_PASSING))
    def time_passes(self, hours: int) -> None:
        as_of = datetime.fromisoformat(self.patient["as_of"]) + timedelta(hours=hours)
        self.patient["as_of"] = as_of.isoformat()

    @rule(data=st.data())
    def observation_changes(self, data: st.DataObject) -> None:
        names = self._inputs()
        if not names:
            return
        name = data.draw(st.sampled_from(names), label="input")
        spec = self.routing_bundle.compiled.schema.inputs[name]
        constants = guard_constants(self.routing_bundle).get(name, set())
        self.patient[spec.group][name] = data.draw(value_strategy(spec, constants))

    @rule(data=st.data())
    def phase_completed(self, data: st.DataObject) -> None:
        flags = [name for name in self._inputs() if name.endswith(("_completed", "_resolved"))]
        if flags:
            name = data.draw(st.sampled_from(flags), label="flag")
            self.patient["observations"][name] = True

    @rule()
    def follow_the_decision(self) -> None:
        """The decision's step becomes the child's position, its facility the current one."""
        decision = assert_total(self.routing_bundle, self.patient)
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
            and decision.facility.id in self.routing_bundle.compiled.network.facilities
        ):
            self.patient["current_facility"] = decision.facility.id

    @invariant()
    def decisions_hold(self) -> None:
        if not self.patient:
            return
        for check in self.checks:
            check(self.routing_bundle, self.patient)


def pathway_walk(
    bundle: Bundle, *, checks: Iterable[Check] = WALK_CHECKS, max_steps: int = 20
) -> type[PathwayWalk]:
    """A :class:`PathwayWalk` for ``bundle``: run it with its ``TestCase`` (collected by
    pytest and unittest) or ``hypothesis.stateful.run_state_machine_as_test``.

    Args:
        bundle: the bundle to walk; every protocol it selects by ``applies_to`` is a start.
        checks: what must hold after every step; :data:`WALK_CHECKS` by default, add e.g.
            :func:`~.properties.assert_timely` or :func:`~.properties.assert_unique`.
        max_steps: the most steps (rules) per child, the TestCase's
            ``stateful_step_count``; the other settings are the current profile's.
    """
    walked, held = bundle, tuple(checks)

    class BundleWalk(PathwayWalk):
        routing_bundle = walked
        checks = held

    BundleWalk.TestCase.settings = settings(
        BundleWalk.TestCase.settings, stateful_step_count=max_steps
    )
    return BundleWalk
