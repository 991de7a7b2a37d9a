"""The facility network (a networkx graph) and the choice of facility for a step.

A choice is made by *strategies* tried in the order the bundle's ``routing_rules`` document
gives for the step's urgency (:data:`DEFAULT_ORDER` without one); the first that finds a
capable facility wins, and the decision names it:

- ``continuity``: the child's current facility, if it is capable;
- ``catchment_regional`` / ``catchment_republican``: the home region's designated centre;
- ``nearest_capable``: the capable facility nearest by travel time from the child (current
  facility, else the home region's designated regional centre, else a facility there);
- ``attached_primary_care``: a primary-level outpatient step goes to the child's attached
  polyclinic (polyclinics are not in the registry).

"Capable" means: offers every capability the step needs, has the step's specialist, is at
least the step's minimum level, serves the child's age, and (for emergency steps) has 24 h
cover.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import networkx as nx

from pedonc_routing.model.documents import (
    LEVELS,
    Catchment,
    Facility,
    Level,
    LocalizedText,
    Step,
    Strategy,
)

ROAD_SPEED_KMH = 60.0
_EARTH_RADIUS_KM = 6371.0
_LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}

ATTACHED_PRIMARY_CARE: Final = "attached_primary_care"
#: The attached polyclinic as a decision names it (it is not in the facility registry).
ATTACHED_PRIMARY_CARE_NAME = LocalizedText(en="Attached polyclinic (primary care)")


def at_least_level(level: Level | str, minimum: Level | str) -> bool:
    """Whether care level ``level`` is ``minimum`` or above (primary < ... < republican)."""
    return _LEVEL_RANK[level] >= _LEVEL_RANK[minimum]


def attached_primary_care_serves(min_level: Level | str, setting: str) -> bool:
    """Whether the child's attached polyclinic can provide a step: primary-level outpatient
    care, which needs no registry facility."""
    return min_level == "primary" and setting == "outpatient"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True)
class FacilityChoice:
    """The facility chosen for a step, or None with the reason."""

    facility: Facility | None
    rule: str
    because: str
    travel_hours: float | None
    source: str  # file:line of the facility or catchment entry

    @property
    def is_attached_primary_care(self) -> bool:
        """The child's attached polyclinic (no registry facility) provides the step."""
        return self.rule == ATTACHED_PRIMARY_CARE


@dataclass(frozen=True, slots=True)
class Need:
    """What a step needs of a facility (hashable, for caching choices)."""

    capabilities: frozenset[str]
    specialist: str
    min_level: str
    setting: str
    urgency: str

    @classmethod
    def of(cls, step: Step) -> Need:
        return cls(
            frozenset(step.care.capabilities),
            step.care.specialist,
            step.care.min_level,
            step.care.setting,
            step.urgency,
        )


#: The order used when the bundle has no ``routing_rules`` document.
DEFAULT_ORDER: dict[str, tuple[Strategy, ...]] = {
    "emergency": ("continuity", "nearest_capable", ATTACHED_PRIMARY_CARE),
    "urgent": (
        "continuity",
        "catchment_regional",
        "catchment_republican",
        "nearest_capable",
        ATTACHED_PRIMARY_CARE,
    ),
    "routine": (
        "continuity",
        "catchment_regional",
        "catchment_republican",
        "nearest_capable",
        ATTACHED_PRIMARY_CARE,
    ),
}


class FacilityNetwork:
    """Facilities as nodes, referral links as edges weighted by travel hours."""

    def __init__(
        self,
        facilities: Iterable[tuple[Facility, str]],
        catchments: Iterable[tuple[Catchment, str]],
        links: Iterable[tuple[str, str, float]],
        order: Mapping[str, Sequence[Strategy]] | None = None,
    ) -> None:
        self.order: dict[str, tuple[Strategy, ...]] = {
            urgency: tuple(strategies)
            for urgency, strategies in (order if order is not None else DEFAULT_ORDER).items()
        }
        self.graph: Any = nx.Graph()
        self.facilities: dict[str, Facility] = {}
        self.spans: dict[str, str] = {}
        for facility, span in facilities:
            self.facilities[facility.id] = facility
            self.spans[facility.id] = span
            self.graph.add_node(facility.id, level=facility.level, region=facility.region)
        # Where choices that no single entry made are cited: the registry file itself.
        first_span = next(iter(self.spans.values()), "")
        self.registry_source = first_span.rsplit(":", 1)[0] + ":1" if first_span else ""
        self.catchments: dict[str, Catchment] = {}
        self.catchment_spans: dict[str, str] = {}
        for catchment, span in catchments:
            self.catchments[catchment.region] = catchment
            self.catchment_spans[catchment.region] = span
        for source, target, hours in links:
            if source in self.facilities and target in self.facilities:
                self.graph.add_edge(source, target, travel_hours=hours)
        self.choose = lru_cache(maxsize=4096)(self._choose)

    def travel_hours(self, origin: Facility, target: Facility) -> float:
        if origin.id == target.id:
            return 0.0
        edge = self.graph.get_edge_data(origin.id, target.id)
        if edge is not None:
            return float(edge["travel_hours"])
        distance = haversine_km(
            origin.location.lat, origin.location.lon, target.location.lat, target.location.lon
        )
        return round(distance / ROAD_SPEED_KMH, 1)

    def is_capable(self, facility: Facility, need: Need, age_years: int | None) -> bool:
        if not at_least_level(facility.level, need.min_level):
            return False
        if not need.capabilities <= set(facility.capabilities):
            return False
        if need.specialist not in facility.specialists:
            return False
        if need.urgency == "emergency" and not facility.cover_24h:
            return False
        if age_years is not None:
            low, high = facility.age_range_years
            if not low <= age_years < high:
                return False
        return True

    def capable(self, need: Need, age_years: int | None = None) -> list[Facility]:
        return [f for f in self.facilities.values() if self.is_capable(f, need, age_years)]

    def origin_of(self, home_region: str, current_facility: str | None) -> Facility | None:
        """Where the child is taken to be: the current facility, else the home region's
        designated regional centre, else any registry facility in the home region."""
        if current_facility in self.facilities:
            return self.facilities[current_facility]
        catchment = self.catchments.get(home_region)
        if catchment is not None and catchment.regional in self.facilities:
            return self.facilities[catchment.regional]
        # No catchment: measure from any registry facility in the home region.
        in_region = sorted(f.id for f in self.facilities.values() if f.region == home_region)
        return self.facilities[in_region[0]] if in_region else None

    def _choose(
        self, need: Need, home_region: str, current_facility: str | None, age_years: int | None
    ) -> FacilityChoice:
        context = _Context(need, home_region, current_facility, age_years)
        for strategy in self.order[need.urgency]:
            choice = STRATEGY_FUNCTIONS[strategy](self, context)
            if choice is not None:
                return choice
        tried = ", ".join(self.order[need.urgency])
        because = (
            f"the routing rules for {need.urgency} steps (tried: {tried}) chose none of the "
            "capable facilities"
            if self.capable(need, age_years)
            else "no facility in the registry can provide this step for this child"
        )
        return FacilityChoice(None, "no_capable_facility", because, None, self.registry_source)

    # -- strategies: each returns a choice or None to let the next one try -----------------

    def _by_continuity(self, context: _Context) -> FacilityChoice | None:
        current = self.facilities.get(context.current_facility or "")
        if current is None or not self.is_capable(current, context.need, context.age_years):
            return None
        return FacilityChoice(
            current,
            "continuity",
            "the child's current facility can provide this step",
            0.0,
            self.spans[current.id],
        )

    def _by_catchment(self, context: _Context, level: str) -> FacilityChoice | None:
        catchment = self.catchments.get(context.home_region)
        if catchment is None:
            return None
        facility = self.facilities.get(getattr(catchment, level))
        if facility is None or not self.is_capable(facility, context.need, context.age_years):
            return None
        origin = self.origin_of(context.home_region, context.current_facility)
        return FacilityChoice(
            facility,
            f"catchment_{level}",
            f"designated {level} centre for {context.home_region} that can provide this step",
            self.travel_hours(origin, facility) if origin else None,
            self.catchment_spans[context.home_region],
        )

    def _by_catchment_regional(self, context: _Context) -> FacilityChoice | None:
        return self._by_catchment(context, "regional")

    def _by_catchment_republican(self, context: _Context) -> FacilityChoice | None:
        return self._by_catchment(context, "republican")

    def _by_nearest_capable(self, context: _Context) -> FacilityChoice | None:
        origin = self.origin_of(context.home_region, context.current_facility)
        candidates = self.capable(context.need, context.age_years)
        if origin is None or not candidates:
            return None
        hours, _, nearest = min((self.travel_hours(origin, f), f.id, f) for f in candidates)
        return FacilityChoice(
            nearest,
            "nearest_capable",
            f"nearest facility by travel time ({hours:g} h) that can provide this step",
            hours,
            self.spans[nearest.id],
        )

    def _by_attached_primary_care(self, context: _Context) -> FacilityChoice | None:
        need = context.need
        if not attached_primary_care_serves(need.min_level, need.setting):
            return None
        return FacilityChoice(
            None,
            ATTACHED_PRIMARY_CARE,
            "primary care at the child's attached polyclinic (not in the facility registry)",
            None,
            self.registry_source,
        )


@dataclass(frozen=True, slots=True)
class _Context:
    need: Need
    home_region: str
    current_facility: str | None
    age_years: int | None


#: The strategies a routing rule may name (``routing_rules.yaml``), by that name.
STRATEGY_FUNCTIONS: dict[Strategy, Callable[[FacilityNetwork, _Context], FacilityChoice | None]] = {
    "continuity": FacilityNetwork._by_continuity,
    "catchment_regional": FacilityNetwork._by_catchment_regional,
    "catchment_republican": FacilityNetwork._by_catchment_republican,
    "nearest_capable": FacilityNetwork._by_nearest_capable,
    ATTACHED_PRIMARY_CARE: FacilityNetwork._by_attached_primary_care,
}
