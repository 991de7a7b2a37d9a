"""CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/): discovery, the hook services, the cards.

    EHR --JWT + hook request (context, prefetch)--> prefetch_bundle --> FHIR Bundle
        --patient_from_fhir--> PatientState --Router.route--> Decision --decision_cards--> cards

Prefetch templates ask the EHR for the Patient and its Condition, Observation,
MedicationAdministration, Procedure and (for the child's position on a pathway) CarePlan
resources. The service never calls the EHR's FHIR server itself: without the Patient in
the prefetch it answers 412, as the specification allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pedonc_routing.model.documents import Language

#: The hooks served: a child's chart opened, and an encounter started.
HOOKS: dict[str, str] = {
    "patient-view": "pedonc-routing-patient-view",
    "encounter-start": "pedonc-routing-encounter-start",
}

PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "carePlans": "CarePlan?patient={{context.patientId}}&status=active",
}

_CONTEXT_REQUIRED = {
    "patient-view": ("userId", "patientId"),
    "encounter-start": ("userId", "patientId", "encounterId"),
}

_SOURCE = {
    "label": "pedonc_routing care pathways (draft protocols)",
    "topic": {
        "system": "https://pedonc-routing.example/cds-topics",
        "code": "care-pathway",
        "display": "Paediatric oncology care pathway",
    },
}

_INDICATOR = {"emergency": "critical", "urgent": "warning", "routine": "info"}


class HookRequestError(ValueError):
    """The hook request cannot be used; ``status`` is 400 (malformed) or 412 (no prefetch)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def discovery() -> dict[str, Any]:
    """The discovery document (``GET /cds-services``)."""
    titles = {
        "patient-view": "Next care-pathway step when a child's chart is opened",
        "encounter-start": "Next care-pathway step when an encounter starts",
    }
    return {
        "services": [
            {
                "hook": hook,
                "id": service_id,
                "title": titles[hook],
                "description": (
                    "Routes a child with cancer to the next step of the care pathway: "
                    "which step, at which facility, by which specialist and how urgently, "
                    "or which data are missing to decide."
                ),
                "prefetch": dict(PREFETCH),
                "usageRequirements": "The EHR must sign each request with a registered key.",
            }
            for hook, service_id in HOOKS.items()
        ]
    }


def hook_of(service_id: str) -> str | None:
    for hook, known in HOOKS.items():
        if known == service_id:
            return hook
    return None


def prefetch_bundle(hook: str, request: Any, as_of: datetime) -> dict[str, Any]:
    """The hook request's prefetched resources as one FHIR collection Bundle.

    Raises :class:`HookRequestError` for a malformed request (400) or a missing Patient
    (412). Messages name fields, never values.
    """
    if not isinstance(request, Mapping):
        raise HookRequestError("the request body must be a JSON object")
    for name in ("hook", "hookInstance", "context"):
        if name not in request:
            raise HookRequestError(f"{name}: required")
    if request["hook"] != hook:
        raise HookRequestError(f"hook: this service answers {hook}")
    context = request["context"]
    if not isinstance(context, Mapping):
        raise HookRequestError("context: must be an object")
    for name in _CONTEXT_REQUIRED[hook]:
        if not isinstance(context.get(name), str):
            raise HookRequestError(f"context.{name}: required (a string)")
    prefetch = request.get("prefetch") or {}
    if not isinstance(prefetch, Mapping):
        raise HookRequestError("prefetch: must be an object")
    patient = prefetch.get("patient")
    if not isinstance(patient, Mapping) or patient.get("resourceType") != "Patient":
        raise HookRequestError("prefetch.patient: the Patient resource is required", 412)
    resources: list[Mapping[str, Any]] = [patient]
    for key in PREFETCH:
        if key == "patient":
            continue
        value = prefetch.get(key)
        if value is None:
            continue
        if not isinstance(value, Mapping) or value.get("resourceType") != "Bundle":
            raise HookRequestError(f"prefetch.{key}: must be a FHIR Bundle (search result)")
        for index, entry in enumerate(value.get("entry") or []):
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if not isinstance(resource, Mapping):
                raise HookRequestError(f"prefetch.{key}.entry[{index}]: no resource")
            if resource.get("resourceType") == "OperationOutcome":
                continue  # a search may include warnings; they are not patient data
            resources.append(resource)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": as_of.astimezone(UTC).isoformat(),
        "entry": [{"resource": dict(resource)} for resource in resources],
    }


#: The specification: "less than 140 characters".
SUMMARY_LIMIT = 139


def _shorten(summary: str) -> str:
    return summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1] + "…"


def _card(summary: str, indicator: str, detail: str, links: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _shorten(summary),
        "detail": detail,
        "indicator": indicator,
        "source": dict(_SOURCE),
        "links": links,
    }


def decision_cards(
    decision: Mapping[str, Any],
    input_titles: Mapping[str, str],
    family_url: str | None,
    lang: Language,
) -> list[dict[str, Any]]:
    """The cards for one decision: the next step, or the data that are missing."""
    links = []
    if family_url is not None:
        labels = {
            "en": "Guide for the family",
            "ru": "Памятка для семьи",
            "kk": "Отбасыға жадынама",
        }
        links.append({"label": labels[lang], "url": family_url, "type": "absolute"})
    status = decision.get("status")
    protocol = decision.get("protocol") or {}
    reasons = [item.get("because", "") for item in decision.get("explanation") or []]
    why = "".join(f"\n- {reason}" for reason in reasons if reason)
    if status == "routed":
        step, facility = decision["step"], decision.get("facility")
        specialist = decision.get("specialist")
        urgency = str(decision.get("urgency") or "routine")
        where = f" at {facility['name']}" if facility else ""
        lines = [f"**Next step:** {step['title']} ({step['kind']})"]
        if facility:
            lines.append(
                f"**Facility:** {facility['name']} ({facility['region']}, {facility['level']})"
            )
        if specialist:
            lines.append(f"**Specialist:** {specialist['title']}")
        if step.get("due_within_hours") is not None:
            lines.append(f"**Due within:** {step['due_within_hours']:g} hours")
        lines.append(f"**Urgency:** {urgency}")
        lines.append(f"**Protocol:** {protocol.get('id')} {protocol.get('version')}")
        follow_ups = decision.get("follow_ups") or []
        if follow_ups:
            lines.append("**Follow-up:** " + "; ".join(item["title"] for item in follow_ups))
        summary = f"{urgency.capitalize()}: {step['title']}{where}"
        if len(summary) > SUMMARY_LIMIT:  # the step matters most; the detail names the place
            summary = f"{urgency.capitalize()}: {step['title']}"
        return [
            _card(
                summary,
                _INDICATOR.get(urgency, "info"),
                "\n\n".join(lines) + (f"\n\n**Why:**{why}" if why else ""),
                links,
            )
        ]
    if status == "needs_data":
        missing = list(decision.get("missing") or [])
        named = [f"{input_titles.get(name, name)} (`{name}`)" for name in missing]
        return [
            _card(
                f"Care pathway: {len(missing)} data item(s) missing to decide the next step",
                "warning",
                "Record these to get the next step:" + "".join(f"\n- {item}" for item in named),
                [],
            )
        ]
    if status == "completed":
        return [_card("Care pathway completed", "info", "No further step on the pathway.", links)]
    if status == "no_route":
        return [
            _card(
                "No facility or step found for this child: refer to the tumour board",
                "warning",
                "The protocols gave no route." + (f"\n\n**Why:**{why}" if why else ""),
                [],
            )
        ]
    return []  # not_applicable: no protocol covers this child, so the service stays silent


def data_problem_card(problems: list[str]) -> dict[str, Any]:
    """A card for a chart whose data cannot be read (the problems name fields, not values)."""
    listing = "".join(f"\n- {problem}" for problem in problems[:20])
    return _card(
        "Care pathway: the chart's data could not be read",
        "warning",
        f"Fix these to get a routing decision:{listing}",
        [],
    )


def now() -> datetime:
    return datetime.now(UTC)


def feedback_outcomes(body: Any) -> list[str]:
    """The outcomes (``accepted`` / ``overridden``) of a feedback request (2.0 section
    "Feedback"); card ids and reasons are not kept: only the counts are useful here."""
    if not isinstance(body, Mapping) or not isinstance(body.get("feedback"), list):
        raise HookRequestError("feedback: required (a list)")
    outcomes = []
    for index, item in enumerate(body["feedback"]):
        if not isinstance(item, Mapping) or not isinstance(item.get("card"), str):
            raise HookRequestError(f"feedback[{index}].card: required (the card's uuid)")
        outcome = item.get("outcome")
        if outcome not in ("accepted", "overridden"):
            raise HookRequestError(f"feedback[{index}].outcome: accepted or overridden")
        if not isinstance(item.get("outcomeTimestamp"), str):
            raise HookRequestError(f"feedback[{index}].outcomeTimestamp: required")
        outcomes.append(str(outcome))
    return outcomes
