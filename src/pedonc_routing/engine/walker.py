"""The walker: from a child's facts and position to one decision.

1. No position: the protocol whose ``applies_to`` holds (highest declared ``priority``, then
   first in file order) is chosen and the child starts at its entry step; if a protocol of
   higher priority is unknown for lack of data, the answer is ``needs_data``.
2. On a pathway: overrides (global interrupts) are checked first, by priority; an override
   fires only when its guard is *true* on the facts given.
3. Otherwise the current step's transitions are taken in order (priority, then file order).
   The first true one wins, unless an earlier one is unknown: then ``needs_data``.
   ``otherwise`` applies when none holds; with none, ``no_route``.
4. Passthrough steps are decided at once, so the walk continues through them.
5. The step's facility is chosen, its due time and follow-ups computed.

The evaluator is asked for truth values only; the order of choice is ours, never the
engine's firing order. The walk returns an :class:`~.outcome.Outcome` of typed values;
:mod:`pedonc_routing.decision.builder` makes the decision (and its texts, in the caller's
language) from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta

from pedonc_routing.compiler.compiled import CompiledBundle, CompiledProtocol
from pedonc_routing.compiler.guards import GuardTable, applies_key
from pedonc_routing.compiler.pathway import (
    RETURN,
    CompiledOverride,
    CompiledStep,
    CompiledTransition,
)
from pedonc_routing.engine.evaluator import GuardEvaluator, Truth
from pedonc_routing.engine.outcome import Outcome, Reason, Resume, Status
from pedonc_routing.intake.patient import PatientFacts
from pedonc_routing.model.documents import FollowUp
from pedonc_routing.model.patient import PatientState
from pedonc_routing.routing.network import FacilityChoice
from pedonc_routing.vocabulary.codes import icd10_key
from pedonc_routing.vocabulary.inputs import FactValue

MAX_HOPS = 16


class _Walk:
    """The state of one routing call."""

    def __init__(
        self,
        bundle: CompiledBundle,
        evaluator: GuardEvaluator,
        patient: PatientFacts,
    ) -> None:
        self.bundle = bundle
        self.evaluator = evaluator
        self.state: PatientState = patient.state
        self.facts: Mapping[str, FactValue] = patient.facts
        self.reasons: list[Reason] = []
        self.transition: CompiledTransition | None = None
        self.override: CompiledOverride | None = None
        position = patient.state.position
        # The pathway to resume after an override: carried while one is in force.
        self.return_to: Resume | None = (
            Resume(position.return_to.protocol, position.return_to.step)
            if position is not None and position.return_to is not None
            else None
        )
        self._truths: dict[str, Callable[[str], Truth]] = {}

    # -- evaluation ----------------------------------------------------------------------

    def truth(self, table: GuardTable) -> Callable[[str], Truth]:
        found = self._truths.get(table.name)
        if found is None:
            found = self.evaluator.evaluate(table, self.facts)
            self._truths[table.name] = found
        return found

    def facts_of(self, inputs: Iterable[str]) -> dict[str, FactValue]:
        return {name: self.facts[name] for name in sorted(inputs) if name in self.facts}

    def missing_of(self, inputs: Iterable[str]) -> set[str]:
        """The inputs to ask for: a missing derived input asks for its missing terms."""
        schema = self.bundle.schema
        return {
            base
            for name in inputs
            if name not in self.facts
            for base in schema.base_inputs(name)
            if base not in self.facts
        }

    def explain(
        self,
        rule: str,
        source: str,
        because: str,
        inputs: Iterable[str] = (),
        protocol: CompiledProtocol | None = None,
        source_id: str | None = None,
    ) -> None:
        citation = None
        if protocol is not None and source_id is not None and source_id in protocol.sources:
            citation = protocol.sources[source_id].citation
        self.reasons.append(Reason(rule, source, because, self.facts_of(inputs), citation))

    # -- the walk ------------------------------------------------------------------------

    def run(self) -> Outcome:
        position = self.state.position
        if position is None:
            return self._start()
        protocol = self.bundle.protocols[position.protocol]
        interrupt = self._override(protocol, position.step)
        if interrupt is not None:
            return interrupt
        step = protocol.graph.steps[position.step]
        if step.is_end:
            self.explain(
                f"{protocol.model.id}.{step.id}",
                step.span,
                f"{step.id!r} ({step.model.kind}) ends the pathway: nothing further to route",
            )
            return self._outcome("completed", protocol, position.step, step)
        return self._advance(protocol, step, position.step, hops=0)

    def _start(self) -> Outcome:
        """Choose the protocol whose ``applies_to`` holds.

        A protocol whose guard is *true* is chosen even when another one is unknown for lack
        of data: three-valued logic is monotone (a true guard stays true however the missing
        inputs turn out), and protocols that could both apply are reported by the validator
        (G007), so no completion of the data could make the other one apply instead. A
        protocol of *higher* declared priority that is unknown does block the choice (it
        would win if it applied): then the answer is ``needs_data``, as it is when none is
        true and some are unknown.
        """
        applies = self._applies_to()
        unknown: dict[str, set[str]] = {}
        waiting: str | None = None  # true, but a higher-priority protocol is unknown
        for protocol_id in self.bundle.selection_order:
            key = applies_key(protocol_id)
            value = applies(protocol_id)
            if value is None:
                unknown[protocol_id] = self.missing_of(self.bundle.selector.by_key[key].inputs)
            elif value and self._outranked_by_unknown(protocol_id, unknown):
                waiting = protocol_id  # a higher-priority protocol may apply: ask its data
                break
            elif value:
                protocol = self.bundle.protocols[protocol_id]
                self.explain(
                    f"{protocol_id}.applies_to",
                    protocol.applies_span,
                    f"the child's diagnosis and age fall under protocol {protocol_id!r}",
                    self.bundle.selector.by_key[key].inputs,
                )
                # An emergency outranks the pathway even before the child is on it; other
                # interrupts (e.g. supportive care) wait until the child is on a pathway.
                interrupt = self._override(protocol, protocol.model.entry, emergencies_only=True)
                if interrupt is not None:
                    return interrupt
                entry = protocol.graph.steps[protocol.model.entry]
                return self._arrive(protocol, entry, None, hops=0)
        for protocol_id in self.bundle.selection_order:
            missing = unknown.get(protocol_id)
            self.explain(
                f"{protocol_id}.applies_to",
                self.bundle.protocols[protocol_id].applies_span,
                f"protocol {protocol_id!r} may apply; deciding needs: {', '.join(sorted(missing))}"
                if missing is not None
                else f"protocol {protocol_id!r} applies, but one of higher priority may apply"
                if protocol_id == waiting
                else f"protocol {protocol_id!r} does not apply",
                self.bundle.selector.by_key[applies_key(protocol_id)].inputs,
            )
        if unknown:
            missing_all = set().union(*unknown.values())
            return self._outcome("needs_data", None, None, None, missing=missing_all)
        return self._outcome("not_applicable", None, None, None)

    def _outranked_by_unknown(self, protocol_id: str, unknown: Mapping[str, object]) -> bool:
        """True when a protocol of higher declared ``priority`` is unknown for lack of data."""
        protocols = self.bundle.protocols
        priority = protocols[protocol_id].model.priority
        return any(protocols[other].model.priority > priority for other in unknown)

    def _applies_to(self) -> Callable[[str], Truth]:
        """protocol id -> truth of its ``applies_to``, evaluating selector parts on demand.

        With the child's ICD-10 code known, a protocol the selection index does not list for
        it is certainly false (compiler.selection) and its part is never evaluated.
        """
        index = self.bundle.selection_index
        code = self.facts.get("icd10")
        candidates = (
            None if index is None or code is None else index.may_apply(icd10_key(str(code)))
        )
        part_of = self.bundle.selector_part_of

        def applies(protocol_id: str) -> Truth:
            if candidates is not None and protocol_id not in candidates:
                return False
            key = applies_key(protocol_id)
            return self.truth(part_of[key])(key)

        return applies

    def _override(
        self, protocol: CompiledProtocol, at_step: str, *, emergencies_only: bool = False
    ) -> Outcome | None:
        """Fire the first true override that can interrupt ``protocol``; the child returns to
        ``at_step`` of it afterwards (``return_to``). ``emergencies_only``: only overrides
        leading to an emergency step (for a child not yet on a pathway)."""
        if not protocol.overrides:
            return None
        truth = self.truth(protocol.table)
        for override in protocol.overrides:
            if emergencies_only and not self._leads_to_emergency(
                override.protocol, override.to_step
            ):
                continue
            if truth(override.guard_key):
                target_protocol = self.bundle.protocols[override.protocol]
                self.explain(
                    f"{override.protocol}.overrides.{override.id}",
                    override.span,
                    override.because,
                    protocol.table.by_key[override.guard_key].inputs,
                    target_protocol,
                    override.source_id,
                )
                target = target_protocol.graph.steps[override.to_step]
                self.override = override
                self.return_to = Resume(protocol.model.id, at_step)
                return self._arrive(target_protocol, target, self._from_step(), hops=0)
        return None

    def _leads_to_emergency(self, protocol_id: str, step_id: str) -> bool:
        return self.bundle.protocols[protocol_id].graph.steps[step_id].model.urgency == "emergency"

    def _from_step(self) -> str | None:
        position = self.state.position
        return position.step if position is not None else None

    def _advance(
        self, protocol: CompiledProtocol, step: CompiledStep, from_step: str | None, hops: int
    ) -> Outcome:
        chosen, missing = self._choose(protocol, step)
        if missing:
            self.explain(
                f"{protocol.model.id}.{step.id}",
                step.span,
                f"the transitions of {step.id!r} cannot be decided without: "
                + ", ".join(sorted(missing)),
            )
            return self._outcome("needs_data", protocol, from_step, step, missing=missing)
        if chosen is None:
            self.explain(
                f"{protocol.model.id}.{step.id}",
                step.span,
                "no transition holds and the step has no `otherwise`",
            )
            return self._outcome("no_route", protocol, from_step, step)
        if chosen.guard_key is not None:
            inputs: Iterable[str] = protocol.table.by_key[chosen.guard_key].inputs
        else:  # otherwise: the facts that made every transition false
            inputs = {
                name
                for transition in step.transitions
                if transition.guard_key is not None
                for name in protocol.table.by_key[transition.guard_key].inputs
            }
        self.transition = chosen
        self.explain(
            f"{protocol.model.id}.{step.id}.{chosen.id}",
            chosen.span,
            chosen.because,
            inputs,
            protocol,
            chosen.source_id,
        )
        if chosen.to_step == RETURN:
            if self.return_to is None:
                self.explain(
                    f"{protocol.model.id}.{step.id}.{chosen.id}",
                    chosen.span,
                    "resuming the interrupted pathway needs position.return_to",
                )
                return self._outcome(
                    "needs_data", protocol, from_step, step, missing={"position.return_to"}
                )
            resume = self.return_to
            self.return_to = None  # the interruption ends here
            target_protocol = self.bundle.protocols[resume.protocol]
            # Resume the interrupted step itself: the child goes back to it, not past it.
            return self._routed(
                target_protocol, target_protocol.graph.steps[resume.step], from_step
            )
        target_protocol = self.bundle.protocols[chosen.to_protocol]
        target = target_protocol.graph.steps[chosen.to_step]
        return self._arrive(target_protocol, target, from_step, hops + 1)

    def _arrive(
        self, protocol: CompiledProtocol, step: CompiledStep, from_step: str | None, hops: int
    ) -> Outcome:
        if step.model.passthrough and not step.is_end and hops < MAX_HOPS:
            return self._advance(protocol, step, from_step, hops)
        return self._routed(protocol, step, from_step)

    def _choose(
        self, protocol: CompiledProtocol, step: CompiledStep
    ) -> tuple[CompiledTransition | None, set[str]]:
        truth = self.truth(protocol.table)
        unknown: set[str] = set()
        for transition in step.transitions:
            assert transition.guard_key is not None
            value = truth(transition.guard_key)
            if value is None:
                unknown |= self.missing_of(protocol.table.by_key[transition.guard_key].inputs)
            elif value:
                return (None, unknown) if unknown else (transition, set())
        if unknown:
            return None, unknown
        return step.otherwise, set()

    def _routed(
        self, protocol: CompiledProtocol, step: CompiledStep, from_step: str | None
    ) -> Outcome:
        truth = self.truth(protocol.table)
        follow_ups: list[FollowUp] = []
        # A follow-up the data cannot decide never withholds the ones it can (a survivor's
        # echocardiogram is due whatever the hearing exposures): it is listed with its needs.
        undecided: list[tuple[FollowUp, frozenset[str]]] = []
        missing: set[str] = set()
        for follow_up in step.follow_ups:
            model = follow_up.model
            if follow_up.guard_key is not None:
                value = truth(follow_up.guard_key)
                if value is None:
                    needs = self.missing_of(protocol.table.by_key[follow_up.guard_key].inputs)
                    undecided.append((model, frozenset(needs)))
                    missing |= needs
                    continue
                if not value:
                    continue
                self.explain(
                    f"{protocol.model.id}.{step.id}.follow_ups.{model.id}",
                    follow_up.span,
                    model.because or f"{model.id} is due",
                    protocol.table.by_key[follow_up.guard_key].inputs,
                    protocol,
                    model.source,
                )
            follow_ups.append(model)
        if undecided:
            self.explain(
                f"{protocol.model.id}.{step.id}.follow_ups",
                step.span,
                f"{len(undecided)} of the follow-ups due at this step cannot be decided "
                f"without: {', '.join(sorted(missing))}; the {len(follow_ups)} decided are given",
            )
        current = self.state.current_facility
        if current is not None and current not in self.bundle.network.facilities:
            self.explain(
                "facility.continuity",
                self.bundle.network.registry_source,
                f"current facility {current!r} is not in the registry: continuity not applied",
            )
        age = self.facts.get("age_years")
        choice = self.bundle.network.choose(
            protocol.needs[step.id],
            self.state.home_region,
            self.state.current_facility,
            age if isinstance(age, int) else None,
        )
        self.explain(
            f"facility.{choice.rule}",
            choice.source,
            choice.because,
            ("home_region", "age_years"),
        )
        found = choice.facility is not None or choice.is_attached_primary_care
        if undecided:
            return self._outcome(
                "needs_data",
                protocol,
                from_step,
                step,
                missing=missing,
                follow_ups=follow_ups,
                undecided=undecided,
                choice=choice if found else None,
            )
        if not found:
            return self._outcome("no_route", protocol, from_step, step)
        return self._outcome(
            "routed", protocol, from_step, step, follow_ups=follow_ups, choice=choice
        )

    # -- the answer ----------------------------------------------------------------------

    def _outcome(
        self,
        status: Status,
        protocol: CompiledProtocol | None,
        from_step: str | None,
        step: CompiledStep | None,
        *,
        missing: set[str] | None = None,
        follow_ups: list[FollowUp] | None = None,
        undecided: list[tuple[FollowUp, frozenset[str]]] | None = None,
        choice: FacilityChoice | None = None,
    ) -> Outcome:
        due_at = None
        if status == "routed" and step is not None:
            hours = step.model.timing.due_within_hours
            if hours is not None:
                due_at = self.state.as_of + timedelta(hours=hours)
        return Outcome(
            status=status,
            as_of=self.state.as_of,
            home_region=self.state.home_region,
            protocol=protocol,
            from_step=from_step,
            step=step,
            transition=self.transition,
            override=self.override,
            facility=choice,
            due_at=due_at,
            follow_ups=tuple(follow_ups or ()),
            undecided_follow_ups=tuple(undecided or ()),
            missing=frozenset(missing or ()),
            reasons=tuple(self.reasons),
            return_to=self.return_to,
        )


def walk(bundle: CompiledBundle, evaluator: GuardEvaluator, patient: PatientFacts) -> Outcome:
    """Walk one checked patient's pathway; see the module docstring for the rules."""
    return _Walk(bundle, evaluator, patient).run()
