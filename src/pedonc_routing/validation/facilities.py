r"""Facility data: registry, catchments and referral links (``R005``, ``R006``, ``F002``).

### R005 error: unknown facility

A catchment's `regional` or `republican`, or a link's `from` or `to`, names a facility that is
not in the registry.

FAIL (`catchments.yaml`):

```yaml
kind: catchments
version: "1"
catchments:
  - {region: KZ-75, regional: kz75_centr, republican: kz75_centre}
```

```
catchments.yaml:4:3: F002 warning: region KZ-10 has no catchment (no designated centres)
...
catchments.yaml:4:31: R005 error: unknown facility 'kz75_centr'; did you mean 'kz75_centre'?
1 error(s), 19 warning(s)
```

Fix: use a registry id.

### R006 error: unknown region

A facility's or catchment's `region` is not an ISO 3166-2:KZ subdivision code (the list comes
from `pycountry`).

FAIL (`registry.yaml`):

```yaml
    region: KZ-ALA
```

```
registry.yaml:6:13: R006 error: 'KZ-ALA' is not an ISO 3166-2:KZ code
```

Fix: use the code, e.g. `KZ-75` for Almaty city, `KZ-71` for Astana, `KZ-79` for Shymkent.

### F002 warning: region without a catchment

When the bundle has a `catchments` document, every ISO 3166-2:KZ region should have a
catchment entry. There is one warning per missing region. (A bundle with no `catchments`
document gets no `F002`.)

FAIL (`catchments.yaml`):

```yaml
catchments:
  - {region: KZ-75, regional: kz75_centre, republican: kz75_centre}
```

```
catchments.yaml:4:3: F002 warning: region KZ-10 has no catchment (no designated centres)
catchments.yaml:4:3: F002 warning: region KZ-11 has no catchment (no designated centres)
...
catchments.yaml:4:3: F002 warning: region KZ-79 has no catchment (no designated centres)
0 error(s), 19 warning(s)
```

A child from a region without a catchment gets no designated centre: planned care falls
back to the nearest capable facility, measured from a registry facility in the home region
(see [facilities.md](facilities.md)). Fix: add the catchment.
"""

from __future__ import annotations

from collections.abc import Iterator

from pedonc_routing.issues import Issue
from pedonc_routing.source import LogicalPath
from pedonc_routing.suggestions import with_hint
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("R005", "R006", "F002")
#: Reference codes documented in :mod:`.references` that this check reports for the
#: facility documents: the registry's unknown capabilities and specialists, repeated ids.
ALSO_REPORTS = ("R003", "R004", "R009")
GATE = Gate.ALWAYS


def check(context: CheckContext) -> Iterator[Issue]:
    """The registry, catchments and links: ids unique, regions and names known."""
    documents, care, regions = context.documents, context.care, context.regions
    facility_ids: dict[str, str] = {}
    for sourced in documents.registries:
        for index, facility in enumerate(sourced.model.facilities):
            path: LogicalPath = ("facilities", index)
            source_map = sourced.source_map
            if facility.id in facility_ids:
                yield Issue.at(
                    source_map.span((*path, "id")),
                    "R009",
                    f"facility id {facility.id!r} repeats (first in {facility_ids[facility.id]})",
                )
            facility_ids.setdefault(facility.id, sourced.file)
            if facility.region not in regions:
                yield Issue.at(
                    source_map.span((*path, "region")),
                    "R006",
                    with_hint(
                        f"{facility.region!r} is not an ISO 3166-2:KZ code",
                        facility.region,
                        regions,
                    ),
                )
            if care is None:
                continue
            listed = (
                ("capabilities", "capability", "R003", facility.capabilities, care.capabilities),
                ("specialists", "specialist", "R004", facility.specialists, care.specialists),
            )
            for field, noun, code, names, known in listed:
                for index, name in enumerate(names):
                    if name not in known:
                        yield Issue.at(
                            source_map.span((*path, field, index)),
                            code,
                            with_hint(f"unknown {noun} {name!r}", name, known),
                        )
    covered: set[str] = set()
    for catchment_file in documents.catchments:
        for index, catchment in enumerate(catchment_file.model.catchments):
            path = ("catchments", index)
            if catchment.region not in regions:
                yield Issue.at(
                    catchment_file.source_map.span((*path, "region")),
                    "R006",
                    with_hint(
                        f"{catchment.region!r} is not an ISO 3166-2:KZ code",
                        catchment.region,
                        regions,
                    ),
                )
            if catchment.region in covered:
                yield Issue.at(
                    catchment_file.source_map.span((*path, "region")),
                    "R009",
                    f"region {catchment.region!r} has more than one catchment",
                )
            covered.add(catchment.region)
            for key in ("regional", "republican"):
                target = getattr(catchment, key)
                if target not in facility_ids:
                    yield Issue.at(
                        catchment_file.source_map.span((*path, key)),
                        "R005",
                        with_hint(f"unknown facility {target!r}", target, facility_ids),
                    )
    if documents.catchments:
        first = documents.catchments[0]
        for region in sorted(regions - covered):
            yield Issue.at(
                first.source_map.span(("catchments",)),
                "F002",
                f"region {region} has no catchment (no designated centres)",
                "warning",
            )
    for link_file in documents.links:
        for index, link in enumerate(link_file.model.links):
            for key, target in (("from", link.source_facility), ("to", link.to)):
                if target not in facility_ids:
                    yield Issue.at(
                        link_file.source_map.span(("links", index, key)),
                        "R005",
                        with_hint(f"unknown facility {target!r}", target, facility_ids),
                    )
