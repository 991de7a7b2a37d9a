"""Decision -> FHIR Bundle (collection): CarePlan, ServiceRequest, Task, Organization,
PractitionerRole.

- CarePlan: the plan for the child; ``instantiatesCanonical`` is the protocol's
  PlanDefinition (``URL|version``); the pathway-position extension holds the step decided,
  so a Bundle holding this CarePlan can be routed again later; tags carry the decision
  status and the protocol bundle's hash.
- ServiceRequest: the step (``occurrencePeriod`` ends at ``due_at``) and one per follow-up
  (``occurrenceTiming`` for repeated surveillance); ``performer`` = the facility's
  Organization and the specialist's PractitionerRole; ``reasonCode`` = each rule of the
  explanation with its ``file:line``.
- Task: the work to do (owner = PractitionerRole, ``restriction.period.end`` = due time),
  or for ``needs_data`` the data to collect, one ``input`` per missing input.

FHIR R4 ``reasonReference`` can only point at clinical resources (Condition, Observation,
...), not at a rule, so the rules go in ``reasonCode`` and the protocol in
``instantiatesCanonical``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from pedonc_routing.decision.model import Decision, FollowUpItem
from pedonc_routing.interop.fhir import codes
from pedonc_routing.interop.fhir.patient_out import position_extension
from pedonc_routing.model.patient import PatientState

_CARE_PLAN_STATUS = {
    "routed": "active",
    "needs_data": "on-hold",
    "no_route": "on-hold",
    "completed": "completed",
    "not_applicable": "unknown",
}
_PRIORITY = {"emergency": "stat", "urgent": "urgent", "routine": "routine"}


def request_priority(urgency: str | None) -> str:
    """A decision's urgency as a FHIR request priority (emergency -> stat)."""
    return _PRIORITY.get(urgency or "", "routine")


def decision_to_fhir(
    decision: Decision,
    patient: PatientState | None = None,
    *,
    subject: str | None = None,
    requester: str | None = None,
) -> dict[str, Any]:
    """The decision as a FHIR R4 Bundle (collection); deterministic for a given decision.

    ``subject`` is the reference of the input Patient resource (``Patient/ID`` or its
    ``fullUrl``: :attr:`FhirPatient.reference`). Without it, ``patient`` names the subject
    by its identifier (a ``patient_id`` is an identifier, never a resource id); without
    either the subject is an anonymous reference. ``requester`` (e.g.
    ``PractitionerRole/123``) is the ``requester`` of every ServiceRequest and Task.
    """
    builder = ResourceBuilder(decision, subject_reference(patient, subject), requester)
    return builder.bundle()


def subject_reference(patient: PatientState | None, subject: str | None) -> dict[str, Any]:
    """The Reference to the child: the Patient resource, else its identifier, else none."""
    if subject is not None:
        return {"reference": subject}
    if patient is None or patient.patient_id is None:
        return {"type": "Patient", "display": "patient"}
    return {
        "type": "Patient",
        "identifier": {"system": codes.PATIENT_ID_SYSTEM, "value": patient.patient_id},
    }


class ResourceBuilder:
    def __init__(
        self,
        decision: Decision,
        subject: dict[str, Any],
        requester: str | None = None,
        *,
        proposal: bool = False,
    ) -> None:
        # a proposal ($apply) is a draft the clinician accepts; an order-level plan is not
        self.proposal = proposal
        self.decision = decision
        self.subject = subject
        self.requester = {"reference": requester} if requester else None
        self.as_of = decision.as_of
        # The whole decision and its subject seed the urn:uuid full URLs: two children (or
        # two decisions) at the same as_of must not share a CarePlan's UUID.
        content = json.dumps(
            [decision.to_dict(), subject, requester], sort_keys=True, ensure_ascii=False
        )
        self.seed = hashlib.sha256(content.encode("utf-8")).hexdigest()
        self.entries: list[dict[str, Any]] = []
        self.tags = [
            {"system": codes.BUNDLE_HASH_SYSTEM, "code": decision.bundle_hash},
            {"system": codes.DECISION_STATUS_SYSTEM, "code": decision.status},
        ]

    def url(self, key: str) -> str:
        seed = f"{codes.BASE}/{self.seed}/{key}"
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}"

    def add(self, key: str, resource: dict[str, Any]) -> dict[str, str]:
        url = self.url(key)
        self.entries.append({"fullUrl": url, "resource": resource})
        return {"reference": url}

    def bundle(self) -> dict[str, Any]:
        decision = self.decision
        performers = self._performers()
        activities = []
        if decision.step is not None and decision.status in ("routed", "completed"):
            request = self._step_request(performers)
            activities.append(request)
            activities.append(self._step_task(request, performers))
            for follow_up in decision.follow_ups:
                activities.append(self._follow_up_request(follow_up, performers))
        if decision.missing:
            activities.append(self._data_task())
        self._care_plan(activities)
        self.entries.insert(0, self.entries.pop())  # the CarePlan first
        return {
            "resourceType": "Bundle",
            "meta": {"tag": self.tags},
            "type": "collection",
            "timestamp": self.as_of,
            "entry": self.entries,
        }

    # -- resources --------------------------------------------------------------------------

    def _performers(self) -> list[dict[str, Any]]:
        decision = self.decision
        performers = []
        organization = None
        if decision.facility is not None:
            facility = decision.facility
            organization = self.add(
                "Organization",
                {
                    "resourceType": "Organization",
                    "identifier": [{"system": codes.FACILITY_ID_SYSTEM, "value": facility.id}],
                    "type": [{"text": f"{facility.level} level"}],
                    "name": facility.name,
                    "address": [{"state": facility.region, "country": "KZ"}],
                },
            )
        if decision.specialist is not None:
            role: dict[str, Any] = {
                "resourceType": "PractitionerRole",
                "code": [{"coding": [self._specialist_coding()]}],
            }
            if organization is not None:
                role["organization"] = organization
            performers.append(self.add("PractitionerRole", role))
        if organization is not None:
            performers.append(organization)
        return performers

    def _intent(self, intent: str) -> str:
        return "proposal" if self.proposal else intent

    def _status(self, status: str) -> str:
        return "draft" if self.proposal else status

    def _add_requester(self, resource: dict[str, Any]) -> None:
        if self.requester is not None:
            resource["requester"] = dict(self.requester)

    def _specialist_coding(self) -> dict[str, str]:
        specialist = self.decision.specialist
        assert specialist is not None
        return {
            "system": codes.SPECIALIST_SYSTEM,
            "code": specialist.id,
            "display": specialist.title,
        }

    def _reasons(self) -> list[dict[str, Any]]:
        return [
            {
                "coding": [{"system": codes.RULE_SYSTEM, "code": item.rule}],
                "text": f"{item.because} [{item.source}]" if item.source else item.because,
            }
            for item in self.decision.explanation
        ]

    def _canonical(self) -> list[str]:
        protocol = self.decision.protocol
        if protocol is None:
            return []
        return [f"{codes.plan_definition_url(protocol.id)}|{protocol.version}"]

    def _step_request(self, performers: list[dict[str, Any]]) -> dict[str, str]:
        decision = self.decision
        step, protocol = decision.step, decision.protocol
        assert step is not None
        assert protocol is not None
        request: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "instantiatesCanonical": self._canonical(),
            "status": self._status("completed" if decision.status == "completed" else "active"),
            "intent": self._intent("plan"),
            "category": [{"text": step.kind}],
            "priority": request_priority(decision.urgency),
            "code": {
                "coding": [
                    {
                        "system": codes.STEP_SYSTEM,
                        "code": f"{protocol.id}.{step.id}",
                        "display": step.title,
                    }
                ]
            },
            "subject": self.subject,
            "occurrencePeriod": {
                "start": self.as_of,
                **({"end": step.due_at} if step.due_at else {}),
            },
            "authoredOn": self.as_of,
            "reasonCode": self._reasons(),
        }
        self._add_requester(request)
        if performers:
            request["performer"] = performers
        if decision.specialist is not None:
            request["performerType"] = {"coding": [self._specialist_coding()]}
        if step.setting:
            request["locationCode"] = [{"text": step.setting}]
        return self.add("ServiceRequest", request)

    def _step_task(
        self, request: dict[str, str], performers: list[dict[str, Any]]
    ) -> dict[str, str]:
        decision = self.decision
        step = decision.step
        assert step is not None
        task: dict[str, Any] = {
            "resourceType": "Task",
            "basedOn": [request],
            "status": self._status("completed" if decision.status == "completed" else "requested"),
            "intent": self._intent("order"),
            "priority": request_priority(decision.urgency),
            "description": step.title,
            "focus": request,
            "for": self.subject,
            "authoredOn": self.as_of,
        }
        self._add_requester(task)
        if performers:
            task["owner"] = performers[0]
        if step.due_at:
            task["restriction"] = {"period": {"start": self.as_of, "end": step.due_at}}
        return self.add("Task", task)

    def _follow_up_request(
        self, follow_up: FollowUpItem, performers: list[dict[str, Any]]
    ) -> dict[str, str]:
        protocol, step = self.decision.protocol, self.decision.step
        assert protocol is not None
        assert step is not None
        request: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "instantiatesCanonical": self._canonical(),
            "status": self._status("active"),
            "intent": self._intent("plan"),
            "code": {
                "coding": [
                    {
                        "system": codes.FOLLOW_UP_SYSTEM,
                        "code": f"{protocol.id}.{step.id}.{follow_up.id}",
                        "display": follow_up.title,
                    }
                ]
            },
            "subject": self.subject,
            "authoredOn": self.as_of,
        }
        if follow_up.interval_months is not None:
            repeat: dict[str, Any] = {
                "frequency": 1,
                "period": follow_up.interval_months,
                "periodUnit": "mo",
            }
            if follow_up.for_years is not None:
                repeat["boundsDuration"] = {
                    "value": follow_up.for_years,
                    "unit": "a",
                    "system": codes.UCUM,
                    "code": "a",
                }
            request["occurrenceTiming"] = {"repeat": repeat}
        elif follow_up.due_within_hours is not None:
            due = datetime.fromisoformat(self.as_of) + timedelta(hours=follow_up.due_within_hours)
            request["occurrencePeriod"] = {"start": self.as_of, "end": due.isoformat()}
        self._add_requester(request)
        if performers:
            request["performer"] = performers
        return self.add(f"ServiceRequest/{follow_up.id}", request)

    def _data_task(self) -> dict[str, str]:
        inputs = []
        for name in self.decision.missing:
            coded = codes.standard_code_of(name)
            system, code = (coded.system, coded.code) if coded else (codes.INPUT_SYSTEM, name)
            inputs.append(
                {"type": {"coding": [{"system": system, "code": code}]}, "valueString": name}
            )
        task = {
            "resourceType": "Task",
            "status": self._status("requested"),
            "intent": self._intent("order"),
            "code": {"coding": [{"system": codes.TASK_SYSTEM, "code": "collect-data"}]},
            "description": "collect the missing data: " + ", ".join(self.decision.missing),
            "for": self.subject,
            "authoredOn": self.as_of,
            "input": inputs,
        }
        self._add_requester(task)
        return self.add("Task/collect-data", task)

    def _care_plan(self, activities: list[dict[str, str]]) -> None:
        decision = self.decision
        care_plan: dict[str, Any] = {
            "resourceType": "CarePlan",
            "meta": {"tag": self.tags},
            "status": self._status(_CARE_PLAN_STATUS[decision.status]),
            "intent": self._intent("plan"),
            "description": decision.summary(),
            "subject": self.subject,
            "period": {"start": self.as_of},
            "created": self.as_of,
        }
        if self._canonical():
            care_plan["instantiatesCanonical"] = self._canonical()
        step_id = decision.step.id if decision.step else decision.from_step
        if decision.protocol is not None and step_id is not None:
            back = decision.return_to
            care_plan["extension"] = [
                position_extension(
                    decision.protocol.id,
                    step_id,
                    self.as_of if step_id != decision.from_step else None,
                    (back.protocol, back.step) if back else None,
                )
            ]
        if activities:
            care_plan["activity"] = [{"reference": reference} for reference in activities]
        self.add("CarePlan", care_plan)
