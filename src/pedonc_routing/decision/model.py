"""The decision: what next, where, who, when, and why (DESIGN.md sections 5 and 6)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pedonc_routing.engine.outcome import Status as Status  # a decision field's type


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProtocolRef(_Out):
    id: str
    version: str
    #: "approved": a governance body approved exactly this content; "draft": it did not
    #: (docs/governance.md).
    approval: Literal["approved", "draft"] = "draft"


class Iccc3Ref(_Out):
    """The child's ICCC-3 category (Steliarova-Foucher et al. 2005), from the ICD-O-3
    morphology and topography, for registries and reports."""

    main_group: str
    main_group_name: str
    subgroup: str
    subgroup_name: str
    division: str | None = None
    division_name: str | None = None


class StepRef(_Out):
    id: str
    kind: str
    title: str
    due_within_hours: float | None = None
    due_at: str | None = None
    setting: str | None = None


class FacilityRef(_Out):
    id: str
    name: str
    region: str
    level: str
    travel_hours: float | None = None


class SpecialistRef(_Out):
    id: str
    title: str


class ReturnRef(_Out):
    """Where to resume after an override's pathway: store it as ``position.return_to``."""

    protocol: str
    step: str


class FollowUpItem(_Out):
    id: str
    title: str
    due_within_hours: float | None = None
    interval_months: int | None = None
    for_years: float | None = None


class UndecidedFollowUp(_Out):
    """A follow-up of the step that the data given cannot decide, and what it needs."""

    id: str
    title: str
    interval_months: int | None = None
    needs: list[str]


class Explanation(_Out):
    """One rule that contributed: its id, ``file:line``, the reason, and the facts it read."""

    rule: str
    source: str
    because: str
    facts: dict[str, Any]
    citation: str | None = None


class Decision(_Out):
    """The answer for one child at one moment. Carries facts used, never identifiers."""

    status: Status
    protocol: ProtocolRef | None
    bundle_hash: str
    engine: str
    as_of: str
    from_step: str | None
    step: StepRef | None
    facility: FacilityRef | None
    specialist: SpecialistRef | None
    urgency: str | None
    follow_ups: list[FollowUpItem]
    missing: list[str]
    explanation: list[Explanation]
    return_to: ReturnRef | None = None
    #: The child's ICCC-3 category; None without an ICD-O-3 morphology, or outside ICCC-3.
    iccc3: Iccc3Ref | None = None
    #: With ``needs_data`` at a decided step: the follow-ups still undecided (those decided
    #: are in ``follow_ups``, the facility and specialist are given).
    undecided_follow_ups: list[UndecidedFollowUp] = []

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict in the documented shape (docs/decision-json.md)."""
        return self.model_dump(mode="json")

    def summary(self) -> str:
        """One readable line, e.g. for a terminal."""
        if self.status == "routed" and self.step is not None:
            where = f" at {self.facility.name}" if self.facility else ""
            due = (
                f" within {self.step.due_within_hours:g} h"
                if self.step.due_within_hours is not None
                else ""
            )
            return f"routed: {self.step.id} ({self.urgency}){due}{where}"
        if self.status == "needs_data":
            return f"needs_data: {', '.join(self.missing)}"
        return self.status
