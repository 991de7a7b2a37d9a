"""ICCC-3: the International Classification of Childhood Cancer, third edition, as data.

Source: Steliarova-Foucher E, Stiller C, Lacour B, Kaatsch P. International Classification of
Childhood Cancer, third edition. Cancer. 2005;103(7):1457-1467 (doi:10.1002/cncr.20910),
transcribed from the SEER recode tables based on ICD-O-3 (main classification: 12 groups and
their subgroups; extended classification: the divisions of Ia and IIb). The table is
``iccc3.json`` beside this module; its ``source`` block says what was transcribed and what
was not.

``classify(morphology, topography)`` maps an ICD-O-3 morphology (``"9836/3"``) and topography
(``"C42.1"``, the dot optional, or ``None`` when unknown) to an :class:`Iccc3Class`, or ``None``
when the code is outside ICCC-3 (not malignant outside the CNS, in situ, metastatic, not in
the table) or when the subgroup depends on a topography that is not given.

This package imports nothing else from pedonc_routing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["Iccc3Class", "classify", "subgroups"]

_MORPHOLOGY = re.compile(r"^M?(\d{4})/(\d)$")
_TOPOGRAPHY = re.compile(r"^C(\d{2})\.?(\d)$")
#: Intracranial and intraspinal sites (ICD-O-3 C70.0-C72.9, C75.1-C75.3), where ICCC-3 also
#: counts non-malignant (behaviour /0, /1) tumours.
_CNS_SITES = ((700, 729), (751, 753))
_NON_MALIGNANT_SUBGROUPS = ("III", "Xa")
#: The table's "any site" topography (every ICD-O-3 site, C00.0-C80.9).
_ANY_SITE = "C" + "000-C809"


@dataclass(frozen=True)
class Iccc3Class:
    """One ICCC-3 category: main group (I-XII), subgroup (e.g. ``"Ia"``; ``"V"`` has none
    below the group) and, where the extended classification is transcribed, the division
    (e.g. ``"Ia.1"``). ``name`` is the English name of the most specific level given."""

    main_group: str
    main_group_name: str
    subgroup: str
    subgroup_name: str
    division: str | None
    division_name: str | None

    @property
    def name(self) -> str:
        return self.division_name or self.subgroup_name


@dataclass(frozen=True)
class _Rule:
    histology: tuple[tuple[int, int], ...]
    sites: tuple[tuple[int, int], ...] | None  # None: any site (C000-C809)

    def histology_matches(self, histology: int) -> bool:
        return _within(histology, self.histology)


@dataclass(frozen=True)
class _Category:
    code: str
    name: str
    rules: tuple[_Rule, ...]
    divisions: tuple[_Category, ...]


def _within(value: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= value <= high for low, high in ranges)


def _ranges(text: str, parse: Any) -> tuple[tuple[int, int], ...]:
    ranges = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        ranges.append((parse(low), parse(high or low)))
    return tuple(ranges)


def _site(code: str) -> int:
    match = re.fullmatch(r"C(\d{3})", code.strip())
    if match is None:
        raise ValueError(f"bad topography in iccc3.json: {code!r}")
    return int(match.group(1))


def _rules(raw: list[dict[str, str]]) -> tuple[_Rule, ...]:
    return tuple(
        _Rule(
            histology=_ranges(rule["morphology"], int),
            sites=None if rule["topography"] == _ANY_SITE else _ranges(rule["topography"], _site),
        )
        for rule in raw
    )


def _category(raw: dict[str, Any]) -> _Category:
    return _Category(
        code=raw["code"],
        name=raw["name"],
        rules=_rules(raw["rules"]),
        divisions=tuple(_category(d) for d in raw.get("divisions", ())),
    )


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], tuple[_Category, ...]]:
    text = resources.files(__package__).joinpath("iccc3.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return dict(data["groups"]), tuple(_category(raw) for raw in data["subgroups"])


def _main_group(subgroup: str) -> str:
    return subgroup.rstrip("abcdef") if subgroup != "V" else "V"


def subgroups() -> tuple[str, ...]:
    """Every subgroup code of the table, in table order (``"V"`` stands for group V)."""
    return tuple(category.code for category in _table()[1])


def _parse_topography(topography: str | None) -> int | None:
    if topography is None:
        return None
    match = _TOPOGRAPHY.match(topography.strip().upper())
    if match is None:
        raise ValueError(f"not an ICD-O-3 topography code: {topography!r}")
    return int(match.group(1) + match.group(2))


def _match(categories: tuple[_Category, ...], histology: int, site: int | None) -> _Category | None:
    """The first category with a rule matching; ``None`` also when the first category whose
    morphology matches needs a site that is not given."""
    for category in categories:
        for rule in category.rules:
            if not rule.histology_matches(histology):
                continue
            if rule.sites is None:
                return category
            if site is None:
                return None  # depends on the site: undecidable without it
            if _within(site, rule.sites):
                return category
    return None


def classify(morphology: str, topography: str | None) -> Iccc3Class | None:
    """The ICCC-3 category of an ICD-O-3 morphology (``"9836/3"``) at a topography
    (``"C42.1"``), or ``None`` (see the module docstring). Raises ``ValueError`` for a
    malformed code."""
    match = _MORPHOLOGY.match(morphology.strip().upper())
    if match is None:
        raise ValueError(f"not an ICD-O-3 morphology code: {morphology!r}")
    histology, behaviour = int(match.group(1)), int(match.group(2))
    site = _parse_topography(topography)
    if behaviour in (0, 1):
        if site is None or not any(_within(site, (r,)) for r in _CNS_SITES):
            return None
    elif behaviour != 3:
        return None
    groups, categories = _table()
    found = _match(categories, histology, site)
    if found is None:
        return None
    if behaviour != 3 and not found.code.startswith(_NON_MALIGNANT_SUBGROUPS):
        return None
    division = _match(found.divisions, histology, site) if found.divisions else None
    group = _main_group(found.code)
    return Iccc3Class(
        main_group=group,
        main_group_name=groups[group],
        subgroup=found.code,
        subgroup_name=found.name,
        division=division.code if division is not None else None,
        division_name=division.name if division is not None else None,
    )
