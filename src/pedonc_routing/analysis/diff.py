"""Version diff: what changes for children when a bundle changes, shown by example.

A reviewer of a protocol change needs the *clinical* consequence ("children with WBC 50 to
59.99 now get standard-risk induction"), not a text diff of YAML. Both versions route the
same patients:

- for every protocol and step present in both versions, boundary patients positioned at
  that step (:func:`~pedonc_routing.analysis.samples.guard_patients` over the union of both
  versions' guards there: its transitions, the overrides that can interrupt it, and the
  follow-ups of the step and of the steps it leads to), so every old and every new
  threshold is tried one unit below, at and above;
- patients with no position, on the boundaries of every ``applies_to``;
- every recorded case patient (``--cases``).

Each patient's decisions are compared field by field (status, protocol, step, facility,
specialist, urgency, follow-ups, missing inputs, due time). A change is attributed to the
step where the two walks first part (the first explanation rule that differs), so a
threshold change at a passthrough step is reported there, not at every step that walks
through it. Every distinct (field, old value, new value) is one *kind* of change, reported
with its count and the first patient (in generation order) that shows it. Steps and
protocols only one version has are listed too; patients are not positioned on them.

Generation is deterministic (no randomness), so the same two bundles always give the same
report, and it can be kept with a change request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pedonc_routing.analysis.samples import (
    GENERATED_AS_OF,
    GENERATED_REGION,
    Case,
    guard_patients,
)
from pedonc_routing.bundle import Bundle
from pedonc_routing.compiler.compiled import CompiledBundle
from pedonc_routing.decision.model import Decision
from pedonc_routing.errors import PatientDataError
from pedonc_routing.model.conditions import Condition
from pedonc_routing.vocabulary.inputs import InputSpec

#: The decision fields compared, in report order.
FIELDS = (
    "status",
    "protocol",
    "step",
    "facility",
    "specialist",
    "urgency",
    "follow_ups",
    "missing",
    "due_within_hours",
)
#: Status of a patient one version rejects (e.g. an input removed from the vocabulary).
INVALID = "invalid_patient"
DEFAULT_MAX_EXAMPLES = 1000


def decision_fields(decision: Decision | None) -> dict[str, Any]:
    """The compared fields of a decision (JSON values); ``None`` is a rejected patient."""
    if decision is None:
        return dict.fromkeys(FIELDS) | {"status": INVALID}
    return {
        "status": decision.status,
        "protocol": decision.protocol.id if decision.protocol else None,
        "step": decision.step.id if decision.step else None,
        "facility": decision.facility.id if decision.facility else None,
        "specialist": decision.specialist.id if decision.specialist else None,
        "urgency": decision.urgency,
        "follow_ups": sorted(_follow_up_text(item) for item in decision.follow_ups),
        "missing": list(decision.missing),
        "due_within_hours": decision.step.due_within_hours if decision.step else None,
    }


def _follow_up_text(item: Any) -> str:
    parts = [item.id]
    if item.due_within_hours is not None:
        parts.append(f"within {item.due_within_hours:g} h")
    if item.interval_months is not None:
        parts.append(f"every {item.interval_months} months")
    if item.for_years is not None:
        parts.append(f"for {item.for_years:g} years")
    return " ".join(parts)


@dataclass
class ChangeKind:
    """One kind of change at one locus: a field going from one value to another."""

    field: str
    old: Any
    new: Any
    patients: int
    example: dict[str, Any]
    example_origin: str  # "generated" or the case's FILE:LINE

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "patients": self.patients,
            "example": self.example,
            "example_origin": self.example_origin,
        }


@dataclass
class LocusChanges:
    """The changes attributed to one protocol step (or ``applies_to`` / ``overrides.ID``)."""

    protocol: str
    step: str
    patients: int = 0
    kinds: dict[tuple[str, str, str], ChangeKind] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "step": self.step,
            "patients": self.patients,
            "kinds": [kind.to_dict() for kind in self.sorted_kinds()],
        }

    def sorted_kinds(self) -> list[ChangeKind]:
        return sorted(
            self.kinds.values(),
            key=lambda k: (
                FIELDS.index(k.field),
                -k.patients,
                json.dumps(k.old),
                json.dumps(k.new),
            ),
        )


@dataclass
class StructureChange:
    """Protocols, and steps of protocols in both versions, that only one version has."""

    protocols_added: list[str] = field(default_factory=list)
    protocols_removed: list[str] = field(default_factory=list)
    steps_added: list[dict[str, str]] = field(default_factory=list)  # protocol, step, span
    steps_removed: list[dict[str, str]] = field(default_factory=list)
    versions: list[dict[str, str]] = field(default_factory=list)  # protocol, old, new

    @property
    def empty(self) -> bool:
        return not (
            self.protocols_added or self.protocols_removed or self.steps_added or self.steps_removed
        )


@dataclass
class DiffReport:
    """Everything that differs between two bundle versions, for the reviewer."""

    old: str
    new: str
    generated: int
    recorded: int
    rejected_by_both: int
    changed: int
    structure: StructureChange
    loci: list[LocusChanges]

    @property
    def has_changes(self) -> bool:
        return bool(self.loci) or not self.structure.empty

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``pedonc-routing diff --format json`` (see
        docs/coverage-and-diff.md)."""
        return {
            "old": self.old,
            "new": self.new,
            "patients": {
                "generated": self.generated,
                "recorded": self.recorded,
                "rejected_by_both": self.rejected_by_both,
                "changed": self.changed,
            },
            "protocols": {
                "added": self.structure.protocols_added,
                "removed": self.structure.protocols_removed,
                "versions": self.structure.versions,
            },
            "steps": {"added": self.structure.steps_added, "removed": self.structure.steps_removed},
            "changes": [locus.to_dict() for locus in self.loci],
        }


# -- patients ------------------------------------------------------------------------------


def _unique(conditions: Iterable[Condition | None]) -> list[Condition]:
    seen: dict[str, Condition] = {}
    for condition in conditions:
        if condition is not None:
            seen.setdefault(condition.model_dump_json(by_alias=True), condition)
    return list(seen.values())


def _step_conditions(bundle: CompiledBundle, protocol_id: str, step_id: str) -> list[Condition]:
    protocol = bundle.protocols[protocol_id]
    step = protocol.graph.steps[step_id]
    conditions: list[Condition | None] = [t.condition for t in step.transitions]
    conditions += [o.condition for o in protocol.overrides]
    conditions += [f.model.when for f in step.follow_ups]
    for transition in (*step.transitions, step.otherwise):
        if transition is None or not transition.to_protocol:
            continue
        target = bundle.protocols.get(transition.to_protocol)
        target_step = target.graph.steps.get(transition.to_step) if target else None
        if target_step is not None:
            conditions += [f.model.when for f in target_step.follow_ups]
    return [c for c in conditions if c is not None]


def generated_patients(
    old: CompiledBundle, new: CompiledBundle, max_examples: int
) -> Iterator[dict[str, Any]]:
    """Boundary patients for every step both versions share, then for ``applies_to``."""
    inputs: dict[str, InputSpec] = {**old.schema.inputs, **new.schema.inputs}
    for protocol_id in sorted(set(old.protocols) & set(new.protocols)):
        old_steps = old.protocols[protocol_id].graph.steps
        new_steps = new.protocols[protocol_id].graph.steps
        for step_id in [s for s in new_steps if s in old_steps]:
            conditions = _unique(
                [
                    *_step_conditions(old, protocol_id, step_id),
                    *_step_conditions(new, protocol_id, step_id),
                ]
            )
            template = {
                "as_of": GENERATED_AS_OF,
                "home_region": GENERATED_REGION,
                "position": {"protocol": protocol_id, "step": step_id},
            }
            yield from guard_patients(inputs, conditions, template, max_examples)
    applies = _unique(
        p.model.applies_to for bundle in (old, new) for p in bundle.protocols.values()
    )
    template = {"as_of": GENERATED_AS_OF, "home_region": GENERATED_REGION}
    yield from guard_patients(inputs, applies, template, max_examples)


# -- comparing -----------------------------------------------------------------------------


def _route(bundle: Bundle, patient: Mapping[str, Any]) -> Decision | None:
    try:
        return bundle.route(patient)
    except PatientDataError:
        return None


def _locus_of_rule(bundle: Bundle, rule: str) -> tuple[str, str] | None:
    parts = rule.split(".")
    if len(parts) < 2 or parts[0] not in bundle.compiled.protocols:
        return None
    if parts[1] == "overrides" and len(parts) >= 3:
        return parts[0], f"overrides.{parts[2]}"
    return parts[0], parts[1]


def _final_locus(decision: Decision | None) -> tuple[str, str] | None:
    if decision is None or decision.protocol is None:
        return None
    return decision.protocol.id, decision.step.id if decision.step else "applies_to"


def _walk(bundle: Bundle, decision: Decision | None) -> list[tuple[str, str]]:
    """(rule, rule and where it led) for each explanation rule: a transition that keeps its
    id but changes its target must still count as the place where the walks part."""
    if decision is None:
        return []
    walked = []
    for item in decision.explanation:
        parts = item.rule.split(".")
        target = ""
        protocol = bundle.compiled.protocols.get(parts[0])
        step = protocol.graph.steps.get(parts[1]) if protocol and len(parts) == 3 else None
        if step is not None:
            for transition in (*step.transitions, step.otherwise):
                if transition is not None and transition.id == parts[2]:
                    target = f"->{transition.to_protocol}:{transition.to_step}"
        walked.append((item.rule, item.rule + target))
    return walked


def locus(
    old_bundle: Bundle,
    new_bundle: Bundle,
    old: Decision | None,
    new: Decision | None,
) -> tuple[str, str]:
    """Where two walks part: the protocol and step of the first explanation rule that
    differs (in id or target), else (the same walk, e.g. a facility or due-time change) the
    final step."""
    old_walk = _walk(old_bundle, old)
    new_walk = _walk(new_bundle, new)
    for index in range(max(len(old_walk), len(new_walk))):
        left = old_walk[index] if index < len(old_walk) else None
        right = new_walk[index] if index < len(new_walk) else None
        if left is not None and right is not None and left[1] == right[1]:
            continue
        for bundle, rule in ((new_bundle, right), (old_bundle, left)):
            if rule is not None:
                found = _locus_of_rule(bundle, rule[0])
                if found is not None:
                    return found
        break
    return _final_locus(new) or _final_locus(old) or ("(none)", "applies_to")


def _structure(old: CompiledBundle, new: CompiledBundle) -> StructureChange:
    change = StructureChange(
        protocols_added=sorted(set(new.protocols) - set(old.protocols)),
        protocols_removed=sorted(set(old.protocols) - set(new.protocols)),
    )
    for protocol_id in sorted(set(old.protocols) & set(new.protocols)):
        old_graph = old.protocols[protocol_id].graph
        new_graph = new.protocols[protocol_id].graph
        change.steps_added += [
            {"protocol": protocol_id, "step": s, "span": step.span}
            for s, step in new_graph.steps.items()
            if s not in old_graph.steps
        ]
        change.steps_removed += [
            {"protocol": protocol_id, "step": s, "span": step.span}
            for s, step in old_graph.steps.items()
            if s not in new_graph.steps
        ]
        old_version = old.protocols[protocol_id].model.version
        new_version = new.protocols[protocol_id].model.version
        if old_version != new_version:
            change.versions.append(
                {"protocol": protocol_id, "old": old_version, "new": new_version}
            )
    return change


def diff_bundles(
    old: Bundle,
    new: Bundle,
    cases: Sequence[Case] = (),
    *,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    old_name: str = "old",
    new_name: str = "new",
) -> DiffReport:
    """Route generated and recorded patients with both bundles; collect every change.

    ``max_examples`` caps the generated patients per step (see
    :func:`~pedonc_routing.analysis.samples.guard_patients`).
    """
    patients: list[tuple[str, dict[str, Any]]] = [
        ("generated", patient)
        for patient in generated_patients(old.compiled, new.compiled, max_examples)
    ]
    generated = len(patients)
    patients += [
        (case.where, {k: v for k, v in case.patient.items() if k != "patient_id"}) for case in cases
    ]
    loci: dict[tuple[str, str], LocusChanges] = {}
    rejected = changed = 0
    for origin, patient in patients:
        old_decision = _route(old, patient)
        new_decision = _route(new, patient)
        if old_decision is None and new_decision is None:
            rejected += 1
            continue
        before = decision_fields(old_decision)
        after = decision_fields(new_decision)
        differing = [name for name in FIELDS if before[name] != after[name]]
        if not differing:
            continue
        changed += 1
        where = locus(old, new, old_decision, new_decision)
        entry = loci.setdefault(where, LocusChanges(*where))
        entry.patients += 1
        for name in differing:
            key = (name, json.dumps(before[name]), json.dumps(after[name]))
            kind = entry.kinds.get(key)
            if kind is None:
                entry.kinds[key] = ChangeKind(name, before[name], after[name], 1, patient, origin)
            else:
                kind.patients += 1
    return DiffReport(
        old=old_name,
        new=new_name,
        generated=generated,
        recorded=len(cases),
        rejected_by_both=rejected,
        changed=changed,
        structure=_structure(old.compiled, new.compiled),
        loci=[loci[key] for key in sorted(loci)],
    )


# -- text ----------------------------------------------------------------------------------


def _value_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_diff(report: DiffReport) -> str:
    """The report for a terminal or a change request: structure first, then each locus."""
    lines = [
        f"diff {report.old} -> {report.new}: {report.generated} generated and "
        f"{report.recorded} recorded patient(s), {report.changed} changed"
        + (f", {report.rejected_by_both} rejected by both" if report.rejected_by_both else "")
    ]
    structure = report.structure
    for protocol_id in structure.protocols_added:
        lines.append(f"protocol added:   {protocol_id}")
    for protocol_id in structure.protocols_removed:
        lines.append(f"protocol removed: {protocol_id}")
    for item in structure.versions:
        lines.append(f"protocol version: {item['protocol']} {item['old']} -> {item['new']}")
    for item in structure.steps_added:
        lines.append(f"step added:       {item['protocol']}.{item['step']} ({item['span']})")
    for item in structure.steps_removed:
        lines.append(f"step removed:     {item['protocol']}.{item['step']} ({item['span']})")
    current = None
    for entry in report.loci:
        if entry.protocol != current:
            current = entry.protocol
            lines.append("")
            lines.append(f"protocol {entry.protocol}")
        lines.append(f"  at {entry.step}: {entry.patients} patient(s) changed")
        for kind in entry.sorted_kinds():
            lines.append(
                f"    {kind.field}: {_value_text(kind.old)} -> {_value_text(kind.new)}"
                f"  ({kind.patients} patient(s))"
            )
            example = json.dumps(kind.example, ensure_ascii=False, sort_keys=True)
            origin = "" if kind.example_origin == "generated" else f" [{kind.example_origin}]"
            lines.append(f"      e.g.{origin} {example}")
    if not report.has_changes:
        lines.append("no change")
    return "\n".join(lines)
