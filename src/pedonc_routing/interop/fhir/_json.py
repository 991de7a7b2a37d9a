"""Small typed helpers for reading FHIR JSON (plain dicts) and reporting where a problem is.

Problems are located by the element's position in the Bundle, e.g.
``entry[3] Observation.valueQuantity.code``, and never quote a value: a value may be a name
or an identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

_YEAR = re.compile(r"^\d{4}$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of the Bundle with its position (``entry[3]``)."""

    index: int
    resource: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.resource.get("resourceType", ""))

    def at(self, path: str) -> str:
        """``entry[3] Observation.valueQuantity`` (the location used in problems)."""
        return f"entry[{self.index}] {self.kind}.{path}"


def entries(bundle: Mapping[str, Any]) -> Iterator[Entry]:
    for index, item in enumerate(as_list(bundle.get("entry"))):
        resource = item.get("resource") if isinstance(item, Mapping) else None
        if isinstance(resource, Mapping):
            yield Entry(index, resource)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def codings(concept: Any) -> list[tuple[str, str]]:
    """``(system, code)`` of every coding of a CodeableConcept that has both."""
    pairs = []
    for coding in as_list(as_map(concept).get("coding")):
        system, code = text(as_map(coding).get("system")), text(as_map(coding).get("code"))
        if system and code:
            pairs.append((system, code))
    return pairs


def parse_instant(value: str, zone: tzinfo) -> datetime:
    """A FHIR date, dateTime or instant as an aware datetime.

    A partial date (``2026``, ``2026-11``, ``2026-11-20``) is the start of that period in
    ``zone`` (the time zone of ``as_of``): it counts as not later than any moment within it.
    Raises ValueError when the text is none of these forms.
    """
    if _YEAR.match(value):
        return datetime(int(value), 1, 1, tzinfo=zone)
    matched = _YEAR_MONTH.match(value)
    if matched:
        return datetime(int(matched[1]), int(matched[2]), 1, tzinfo=zone)
    if _DATE.match(value):
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=zone)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a date-time needs a time zone")
    return parsed


def effective_time(resource: Mapping[str, Any], prefix: str) -> tuple[str | None, str | None]:
    """The text of ``{prefix}DateTime``, ``{prefix}Instant`` or ``{prefix}Period`` (end, else
    start), with the element name it came from; (None, None) when there is none."""
    for suffix in ("DateTime", "Instant"):
        value = text(resource.get(prefix + suffix))
        if value:
            return value, prefix + suffix
    period = as_map(resource.get(prefix + "Period"))
    for side in ("end", "start"):
        value = text(period.get(side))
        if value:
            return value, f"{prefix}Period.{side}"
    return None, None
