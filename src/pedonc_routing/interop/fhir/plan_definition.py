"""Protocol -> FHIR R4 PlanDefinition (``type: clinical-protocol``).

One action per step (``id`` = step id) with:

- ``timingDuration`` (due within N hours) or ``timingTiming`` (repeat every N months);
- ``participant`` = the step's specialist;
- ``condition``: ``applicability`` for the protocol's ``applies_to`` (on the entry step) and
  for each override that jumps to the step; ``stop`` for each outgoing transition. Each
  gives the guard in words (``description``), as FHIRPath (``language: text/fhirpath``,
  the inputs as ``%name`` constants: fhirpath.py), and as data in our condition language
  (the condition-language extension: ``text/x-pedonc-condition``, compact JSON);
- ``relatedAction``: one per transition (``otherwise`` included), ``before-start`` of the
  target, always an action of this PlanDefinition: a step of another protocol is an action
  ``exit.PROTOCOL.STEP`` whose ``definitionCanonical`` is that protocol's PlanDefinition,
  and ``return`` (back to the step the child came from) is the action ``return``;
- nested actions for the step's follow-ups (ids unique: a follow-up given twice, e.g. under
  two conditions, gets ``-2``, ``-3``).

The protocol's sources are ``relatedArtifact`` citations. ``status`` is ``draft`` for a
draft protocol and ``active`` only once it is reviewed; ``date`` is the review date, else
the date the caller gives, else today (UTC). ``url`` ends with ``id``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pedonc_routing.bundle import Bundle
from pedonc_routing.compiler.pathway import RETURN, split_target
from pedonc_routing.interop.fhir import codes
from pedonc_routing.interop.fhir.fhirpath import to_fhirpath
from pedonc_routing.model.conditions import Condition
from pedonc_routing.model.documents import FollowUp, Protocol, Step
from pedonc_routing.render.words import in_words

TRANSITION_EXTENSION = f"{codes.BASE}/StructureDefinition/transition"
_PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"


def plan_definition(bundle: Bundle, protocol_id: str, *, date: str | None = None) -> dict[str, Any]:
    """The protocol as a PlanDefinition; raises UnknownProtocolError (with a suggestion).

    ``date`` (``YYYY-MM-DD``) is used when the protocol has no ``reviewed_on`` date.
    """
    protocol = bundle.protocol(protocol_id)
    specialists = bundle.compiled.care.specialists if bundle.compiled.care else {}
    overrides_to: dict[str, list[dict[str, Any]]] = {}
    for override in protocol.overrides:
        condition = _expression(override.when, f"override {override.id}: {override.because}")
        overrides_to.setdefault(override.to, []).append(
            {"kind": "applicability", "expression": condition}
        )
    titles = {name: text.en for name, text in specialists.items()}
    actions = []
    exits: dict[str, dict[str, Any]] = {}  # action id -> the action for a step elsewhere
    for step_id, step in protocol.steps.items():
        conditions = list(overrides_to.get(step_id, []))
        if step_id == protocol.entry and protocol.applies_to is not None:
            described = _expression(protocol.applies_to, "the protocol applies")
            conditions.insert(0, {"kind": "applicability", "expression": described})
        actions.append(_action(protocol, step_id, step, conditions, titles, exits))
    actions.extend(exits[key] for key in sorted(exits))
    # Active only when the governance body approved exactly this content (docs/governance.md);
    # "reviewed" in the YAML alone is the author's claim, not an approval.
    state = bundle.approvals.get(protocol.id)
    approved = state is not None and state.approved
    return {
        "resourceType": "PlanDefinition",
        "id": codes.fhir_id(protocol.id),
        "url": codes.plan_definition_url(protocol.id),
        "version": protocol.version,
        "name": "".join(part.capitalize() for part in protocol.id.split("_")),
        "title": protocol.title.en,
        "type": {"coding": [{"system": _PLAN_TYPE, "code": "clinical-protocol"}]},
        "status": "active" if approved else "draft",
        "experimental": not approved,
        "date": protocol.reviewed_on or date or datetime.now(UTC).date().isoformat(),
        "publisher": "pedonc-routing",
        "description": f"{protocol.title.en} (bundle {bundle.content_hash})",
        "relatedArtifact": [
            {
                "type": "citation",
                "label": source.id,
                "citation": source.citation,
                **({"url": source.url} if source.url else {}),
            }
            for source in protocol.sources
        ],
        "action": actions,
    }


def _expression(condition: Condition, description: str) -> dict[str, Any]:
    data = condition.model_dump(mode="json", by_alias=True, exclude_none=True)
    own = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return {
        "extension": [
            {
                "url": codes.CONDITION_EXTENSION,
                "extension": [
                    {"url": "language", "valueCode": codes.CONDITION_LANGUAGE},
                    {"url": "expression", "valueString": own},
                ],
            }
        ],
        "description": f"{description} — {in_words(condition)}",
        "language": "text/fhirpath",
        "expression": to_fhirpath(condition),
    }


def _action(
    protocol: Protocol,
    step_id: str,
    step: Step,
    conditions: list[dict[str, Any]],
    specialist_titles: dict[str, str],
    exits: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    related = []
    for transition in step.next:
        conditions.append(
            {
                "kind": "stop",
                "expression": _expression(
                    transition.when, f"{transition.id} -> {transition.to}: {transition.because}"
                ),
            }
        )
        related.append(_related(protocol.id, transition.to, transition.id, exits))
    if step.otherwise is not None:
        related.append(_related(protocol.id, step.otherwise.to, "otherwise", exits))
    action: dict[str, Any] = {
        "id": codes.fhir_id(step_id),
        "title": step.title.en,
        "description": step.family_info.en,
        "code": [
            {
                "coding": [
                    {
                        "system": codes.STEP_SYSTEM,
                        "code": f"{protocol.id}.{step_id}",
                        "display": step.title.en,
                    }
                ],
                "text": step.kind,
            }
        ],
        "priority": {"emergency": "stat", "urgent": "urgent"}.get(step.urgency, "routine"),
        "participant": [
            {
                "type": "practitioner",
                "role": {
                    "coding": [
                        {
                            "system": codes.SPECIALIST_SYSTEM,
                            "code": step.care.specialist,
                            "display": specialist_titles.get(
                                step.care.specialist, step.care.specialist
                            ),
                        }
                    ]
                },
            }
        ],
    }
    timing = _timing(
        step.timing.due_within_hours, step.timing.repeat_every_months, step.timing.for_years
    )
    action.update(timing)
    if conditions:
        action["condition"] = conditions
    if related:
        action["relatedAction"] = related
    if step.follow_ups:
        seen: dict[str, int] = {}
        nested = []
        for item in step.follow_ups:
            seen[item.id] = seen.get(item.id, 0) + 1
            nested.append(_follow_up(protocol.id, step_id, item, seen[item.id]))
        action["action"] = nested
    return action


def _related(
    protocol_id: str, target: str, transition_id: str, exits: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The relation to the target action, which is always in this PlanDefinition."""
    to_protocol, to_step = split_target(target, protocol_id)
    if to_step == RETURN:
        action_id = RETURN
        exits.setdefault(
            action_id,
            {
                "id": RETURN,
                "title": "Return to the step the child was on before this protocol",
                "description": "The pathway position's return step (returnToProtocol,"
                " returnToStep) is where the child goes next.",
            },
        )
    elif to_protocol == protocol_id:
        action_id = codes.fhir_id(to_step)
    else:
        action_id = codes.fhir_id(f"exit.{to_protocol}.{to_step}")
        exits.setdefault(
            action_id,
            {
                "id": action_id,
                "title": f"Continue in {to_protocol}: {to_step}",
                "code": [
                    {"coding": [{"system": codes.STEP_SYSTEM, "code": f"{to_protocol}.{to_step}"}]}
                ],
                "definitionCanonical": codes.plan_definition_url(to_protocol),
            },
        )
    return {
        "extension": [
            {
                "url": TRANSITION_EXTENSION,
                "extension": [{"url": "transition", "valueString": transition_id}],
            }
        ],
        "actionId": action_id,
        "relationship": "before-start",
    }


def _timing(
    due_within_hours: float | None, every_months: int | None, for_years: float | None
) -> dict[str, Any]:
    if every_months is not None:
        repeat: dict[str, Any] = {"frequency": 1, "period": every_months, "periodUnit": "mo"}
        if for_years is not None:
            repeat["boundsDuration"] = _duration(for_years, "a")
        return {"timingTiming": {"repeat": repeat}}
    if due_within_hours is not None:
        return {"timingDuration": _duration(due_within_hours, "h")}
    return {}


def _duration(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def _follow_up(protocol_id: str, step_id: str, item: FollowUp, occurrence: int) -> dict[str, Any]:
    suffix = f"-{occurrence}" if occurrence > 1 else ""
    action: dict[str, Any] = {
        "id": codes.fhir_id(f"{step_id}.{item.id}") + suffix,
        "title": item.title.en,
        "code": [
            {
                "coding": [
                    {
                        "system": codes.FOLLOW_UP_SYSTEM,
                        "code": f"{protocol_id}.{step_id}.{item.id}",
                    }
                ]
            }
        ],
    }
    action.update(_timing(item.due_within_hours, item.interval_months, item.for_years))
    if item.when is not None:
        described = _expression(item.when, item.because or item.id)
        action["condition"] = [{"kind": "applicability", "expression": described}]
    return action
