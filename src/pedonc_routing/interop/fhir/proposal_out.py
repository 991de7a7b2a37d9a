"""Decision -> a CPG-style proposal: what PlanDefinition/$apply returns in FHIR R4.

One CarePlan (``intent: proposal``, ``status: draft``) whose one activity is a contained
RequestGroup; the RequestGroup has one action per proposed request (the step's
ServiceRequest, its Task, each follow-up, the collect-data Task), each pointing at a
contained resource with the same intent. Nothing is ordered until a clinician accepts the
proposal, which is the CPG (Clinical Practice Guidelines IG) reading of $apply. An HTTP
``$apply`` endpoint returns :func:`decision_to_proposal`'s result as its body.

The resources are those of :func:`decision_to_fhir`, with ``proposal``/``draft`` and local
(``#id``) references, so the two outputs never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pedonc_routing.decision.model import Decision
from pedonc_routing.interop.fhir.decision_out import (
    ResourceBuilder,
    request_priority,
    subject_reference,
)
from pedonc_routing.model.patient import PatientState


def decision_to_proposal(
    decision: Decision,
    patient: PatientState | None = None,
    *,
    subject: str | None = None,
    requester: str | None = None,
) -> dict[str, Any]:
    """The decision as a CarePlan proposal holding a RequestGroup (deterministic).

    ``patient``, ``subject`` and ``requester`` as for :func:`decision_to_fhir`.
    """
    collection = ResourceBuilder(
        decision, subject_reference(patient, subject), requester, proposal=True
    ).bundle()
    items = collection["entry"]
    local = {
        item["fullUrl"]: _local_id(index, item["resource"]) for index, item in enumerate(items)
    }
    care_plan = dict(items[0]["resource"])  # the builder puts the CarePlan first
    contained = []
    actions = []
    for item in items[1:]:
        resource = _localized(item["resource"], local)
        resource["id"] = local[item["fullUrl"]]
        contained.append(resource)
        if resource["resourceType"] in ("ServiceRequest", "Task"):
            actions.append(_action(resource))
    group: dict[str, Any] = {
        "resourceType": "RequestGroup",
        "id": "request-group",
        "status": "draft",
        "intent": "proposal",
        "priority": request_priority(decision.urgency),
        "subject": care_plan["subject"],
        "authoredOn": decision.as_of,
    }
    if "instantiatesCanonical" in care_plan:
        group["instantiatesCanonical"] = care_plan["instantiatesCanonical"]
    if requester is not None:
        group["author"] = {"reference": requester}
    if actions:
        group["action"] = actions
    care_plan["contained"] = [group, *contained]
    care_plan["activity"] = [{"reference": {"reference": "#request-group"}}]
    proposal: dict[str, Any] = _localized(care_plan, local)
    return proposal


def _local_id(index: int, resource: Mapping[str, Any]) -> str:
    return f"{str(resource['resourceType']).lower()}-{index}"


def _localized(value: Any, local: Mapping[str, str]) -> Any:
    """A copy with every reference to a Bundle entry turned into ``#id`` (contained)."""
    if isinstance(value, Mapping):
        copied = {key: _localized(item, local) for key, item in value.items()}
        reference = copied.get("reference")
        if isinstance(reference, str) and reference in local:
            copied["reference"] = f"#{local[reference]}"
        return copied
    if isinstance(value, list):
        return [_localized(item, local) for item in value]
    return value


def _action(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A RequestGroup action proposing one contained request."""
    coding: Mapping[str, Any] = next(iter(resource.get("code", {}).get("coding", [])), {})
    action: dict[str, Any] = {
        "title": coding.get("display") or resource.get("description") or coding.get("code"),
        "resource": {"reference": f"#{resource['id']}"},
    }
    if "priority" in resource:
        action["priority"] = resource["priority"]
    if "occurrencePeriod" in resource:
        action["timingPeriod"] = resource["occurrencePeriod"]
    elif "occurrenceTiming" in resource:
        action["timingTiming"] = resource["occurrenceTiming"]
    return {key: value for key, value in action.items() if value is not None}
