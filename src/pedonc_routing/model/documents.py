"""Pydantic models of the YAML file kinds: vocabulary, care catalogue, protocol, facilities.

These are the *raw* models: they check shape and types of one file. Cross-file references
(steps, inputs, capabilities, facilities) are checked by :mod:`pedonc_routing.validation`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from pedonc_routing.model.conditions import Condition

Language = Literal["en", "ru", "kk"]
LANGUAGES: tuple[Language, ...] = ("en", "ru", "kk")
Level = Literal["primary", "district", "regional", "republican"]
LEVELS: tuple[Level, ...] = ("primary", "district", "regional", "republican")
Urgency = Literal["emergency", "urgent", "routine"]
StepKind = Literal[
    "referral",
    "diagnostic",
    "staging",
    "treatment_phase",
    "procedure",
    "emergency",
    "follow_up",
    "survivorship",
    "palliative",
    "terminal",
]
#: Kinds of step where a pathway may end.
ENDING_KINDS = frozenset({"terminal", "survivorship", "palliative"})

Identifier = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
PositiveNumber = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: Text in one or more languages; English is required, ru/kk are checked by hygiene rules.
class LocalizedText(Frozen):
    en: StrictStr = Field(min_length=1)
    ru: StrictStr | None = None
    kk: StrictStr | None = None

    def get(self, language: Language) -> str:
        """The text in ``language``, falling back to English."""
        text = getattr(self, language)
        return text if text else self.en


# --- vocabulary -------------------------------------------------------------------------


class FormulaTerm(Frozen):
    input: Identifier
    factor: Annotated[float, Field(allow_inf_nan=False)] = 1.0


class Formula(Frozen):
    """A derived input: the weighted sum of other inputs (data, not code)."""

    sum: list[FormulaTerm] = Field(min_length=1)


class VocabularyInput(Frozen):
    """One patient input a protocol may read; ``group: derived`` inputs are computed."""

    type: Literal["number", "integer", "boolean", "enum"]
    group: Literal["observations", "exposures", "derived"]
    unit: StrictStr | None = None
    range: tuple[float, float] | None = None
    precision: Annotated[StrictInt, Field(ge=0, le=6)] = 2
    values: list[StrictStr] | None = None
    formula: Formula | None = None
    description: LocalizedText
    source: StrictStr | None = None

    @model_validator(mode="after")
    def _shape_fits_type(self) -> VocabularyInput:
        if (self.group == "derived") != (self.formula is not None):
            raise ValueError("a `derived` input needs a `formula`, and only a derived one")
        if self.formula is not None and self.type != "number":
            raise ValueError("a derived input is a number")
        if self.type == "enum" and not self.values:
            raise ValueError("an enum input needs `values`")
        if self.type != "enum" and self.values is not None:
            raise ValueError("only enum inputs take `values`")
        if self.type in ("number", "integer") and self.range is None:
            raise ValueError("a numeric input needs a plausible `range: [LO, HI]`")
        if self.range is not None:
            low, high = self.range
            if not (math.isfinite(low) and math.isfinite(high)) or low > high:
                raise ValueError("range needs finite LO <= HI")
        return self


class Vocabulary(Frozen):
    kind: Literal["vocabulary"]
    version: StrictStr
    inputs: dict[Identifier, VocabularyInput]


class CareCatalogue(Frozen):
    kind: Literal["care_catalogue"]
    version: StrictStr
    capabilities: dict[Identifier, LocalizedText]
    specialists: dict[Identifier, LocalizedText]


# --- protocol ---------------------------------------------------------------------------


class Source(Frozen):
    id: Identifier
    citation: StrictStr = Field(min_length=10)
    url: StrictStr | None = None
    used_for: StrictStr | None = None


class Care(Frozen):
    specialist: Identifier
    capabilities: list[Identifier] = Field(default_factory=list)
    min_level: Level = "primary"
    setting: Literal["inpatient", "outpatient", "telemedicine"] = "outpatient"


class Timing(Frozen):
    due_within_hours: PositiveNumber | None = None
    repeat_every_months: Annotated[StrictInt, Field(gt=0)] | None = None
    for_years: PositiveNumber | None = None


class FollowUp(Frozen):
    id: Identifier
    title: LocalizedText
    interval_months: Annotated[StrictInt, Field(gt=0)] | None = None
    due_within_hours: PositiveNumber | None = None
    for_years: PositiveNumber | None = None
    when: Condition | None = None
    because: StrictStr | None = None
    source: Identifier | None = None


class Transition(Frozen):
    id: Identifier
    to: StrictStr = Field(pattern=r"^([a-z][a-z0-9_]*:)?[a-z][a-z0-9_]*$")
    when: Condition
    because: StrictStr = Field(min_length=1)
    priority: StrictInt = 0
    source: Identifier | None = None


class Otherwise(Frozen):
    to: StrictStr = Field(pattern=r"^([a-z][a-z0-9_]*:)?[a-z][a-z0-9_]*$")
    because: StrictStr = Field(min_length=1)
    source: Identifier | None = None


class Step(Frozen):
    kind: StepKind
    passthrough: StrictBool = False
    title: LocalizedText
    family_info: LocalizedText
    care: Care
    urgency: Urgency = "routine"
    timing: Timing = Field(default_factory=Timing)
    follow_ups: list[FollowUp] = Field(default_factory=list)
    next: list[Transition] = Field(default_factory=list)
    otherwise: Otherwise | None = None


class Override(Frozen):
    """A global interrupt: applies to a child on any pathway (or those in ``during``)."""

    id: Identifier
    to: Identifier
    when: Condition
    because: StrictStr = Field(min_length=1)
    priority: StrictInt = 0
    during: list[Identifier] | None = None
    source: Identifier | None = None


class Protocol(Frozen):
    kind: Literal["protocol"]
    id: Identifier
    version: StrictStr
    status: Literal["draft", "reviewed"]
    reviewed_by: StrictStr | None = None
    reviewed_on: StrictStr | None = None
    title: LocalizedText
    sources: list[Source] = Field(default_factory=list)
    inputs: list[Identifier] = Field(default_factory=list)
    applies_to: Condition | None = None
    #: Precedence among protocols whose ``applies_to`` hold for one child: higher wins
    #: (default 0); a catch-all pathway declares a lower one than the disease protocols.
    priority: StrictInt = 0
    entry: Identifier
    steps: dict[Identifier, Step] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)


# --- facilities -------------------------------------------------------------------------


class Location(Frozen):
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class Facility(Frozen):
    id: Identifier
    name: LocalizedText
    region: StrictStr
    level: Level
    type: StrictStr
    capabilities: list[Identifier] = Field(default_factory=list)
    specialists: list[Identifier] = Field(default_factory=list)
    age_range_years: tuple[float, float] = (0, 18)
    location: Location
    cover_24h: StrictBool = False
    capabilities_confirmed: StrictBool = False
    sources: list[StrictStr] = Field(min_length=1)


class FacilityRegistry(Frozen):
    kind: Literal["facility_registry"]
    version: StrictStr
    note: StrictStr | None = None
    facilities: list[Facility]


class Catchment(Frozen):
    region: StrictStr
    regional: Identifier
    republican: Identifier
    source: StrictStr | None = None


class Catchments(Frozen):
    kind: Literal["catchments"]
    version: StrictStr
    note: StrictStr | None = None
    catchments: list[Catchment]


class ReferralLink(Frozen):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source_facility: Identifier = Field(alias="from")
    to: Identifier
    travel_hours: PositiveNumber


class ReferralLinks(Frozen):
    kind: Literal["referral_links"]
    version: StrictStr
    note: StrictStr | None = None
    links: list[ReferralLink]


Strategy = Literal[
    "continuity",
    "catchment_regional",
    "catchment_republican",
    "nearest_capable",
    "attached_primary_care",
]


class RoutingRules(Frozen):
    """Which facility-selection strategies are tried, in order, for each urgency."""

    kind: Literal["routing_rules"]
    version: StrictStr
    note: StrictStr | None = None
    sources: list[StrictStr] = Field(default_factory=list)
    order: dict[Urgency, list[Strategy]]

    @field_validator("order")
    @classmethod
    def _every_urgency_once(
        cls, order: dict[Urgency, list[Strategy]]
    ) -> dict[Urgency, list[Strategy]]:
        missing = [
            urgency for urgency in ("emergency", "urgent", "routine") if urgency not in order
        ]
        if missing:
            raise ValueError(f"needs a list for every urgency (missing: {', '.join(missing)})")
        for urgency, strategies in order.items():
            if not strategies or len(set(strategies)) != len(strategies):
                raise ValueError(f"order.{urgency}: needs a non-empty list without repeats")
        return order


# --- clinical governance ----------------------------------------------------------------

ApprovalDecision = Literal["approved", "changes_requested"]


class Approval(Frozen):
    """One decision of a clinical governance body on one version of one protocol.

    ``content_hash`` binds the decision to the protocol's content (see
    :mod:`pedonc_routing.governance`); ``parts`` holds a hash per step and per top-level key,
    so a later edit can be named by place. People are named by body and role only; an
    approval never names a patient."""

    protocol: Identifier
    version: StrictStr
    content_hash: Annotated[StrictStr, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
    parts: dict[StrictStr, Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{16}$")]]
    date: Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    body: StrictStr = Field(min_length=1, max_length=200)
    role: StrictStr = Field(min_length=1, max_length=200)
    decision: ApprovalDecision
    note: StrictStr | None = Field(default=None, max_length=2000)


class Approvals(Frozen):
    """The approvals file beside the protocols (``approvals.yaml``): newest last."""

    kind: Literal["approvals"]
    approvals: list[Approval] = Field(default_factory=list)


Document = (
    Vocabulary
    | CareCatalogue
    | Protocol
    | FacilityRegistry
    | Catchments
    | ReferralLinks
    | RoutingRules
    | Approvals
)

#: The model for each ``kind:`` value.
DOCUMENT_KINDS: dict[str, type[Document]] = {
    "vocabulary": Vocabulary,
    "care_catalogue": CareCatalogue,
    "protocol": Protocol,
    "facility_registry": FacilityRegistry,
    "catchments": Catchments,
    "referral_links": ReferralLinks,
    "routing_rules": RoutingRules,
    "approvals": Approvals,
}
