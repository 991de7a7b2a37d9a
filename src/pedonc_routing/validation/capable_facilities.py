r"""Routing: can each step be provided, and in every region for emergencies (``F001``, ``F003``).

### F001 error: no facility can provide a step

For every non-passthrough step, at least one registry facility must offer all the step's
capabilities, have its specialist, be at least its `min_level`, and (for `urgency: emergency`
steps) have 24 h cover. Primary-level outpatient steps are exempt: the attached polyclinic
provides them. The check ignores age ranges. It runs only when there is no other error.

FAIL: `urgency: emergency` on `diagnosis`, and `cover_24h: false` on the only facility.

```
demo.yaml:16:11: F001 error: no facility offers 'diagnosis': capabilities ['flow_cytometry'], specialist 'pediatric_oncohematologist', level >= regional with 24 h cover
```

Fix: correct the step's needs, or add (or correct) a facility.

### F003 warning: emergency care outside the region

An emergency step that no facility in some regions can provide, so children there travel
to another region in an emergency. The message lists the regions.

FAIL: an emergency step that needs `hsct` (only the two republican centres have it).

```
protocol.yaml:18:11: F003 warning: emergency step 'emergency': no facility in KZ-10, KZ-11, ... can provide it, so children there travel to another region
```

PASS: require only what the regional children's hospitals offer for the first hours
(stabilisation), and transfer in a later step.
"""

from __future__ import annotations

from collections.abc import Iterator

from pedonc_routing.issues import Issue
from pedonc_routing.routing.network import Need, attached_primary_care_serves
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("F001", "F003")
GATE = Gate.CLEAN_SO_FAR


def check(context: CheckContext) -> Iterator[Issue]:
    """Some facility can provide each step; for emergencies, one in every region."""
    network, documents = context.network, context.documents
    regions = sorted({c.region for s in documents.catchments for c in s.model.catchments})
    for sourced in context.protocols:
        for step_id, step in sourced.model.steps.items():
            if step.passthrough:
                continue  # decided at once: no care is given there
            need = Need.of(step)
            if attached_primary_care_serves(need.min_level, need.setting):
                continue  # the attached polyclinic provides it
            capable = network.capable(need)
            if capable and need.urgency == "emergency":
                covered = {facility.region for facility in capable}
                uncovered = [region for region in regions if region not in covered]
                if uncovered:
                    yield Issue.at(
                        sourced.source_map.span(("steps", step_id, "care")),
                        "F003",
                        f"emergency step {step_id!r}: no facility in {', '.join(uncovered)} "
                        "can provide it, so children there travel to another region",
                        "warning",
                    )
            if not capable:
                yield Issue.at(
                    sourced.source_map.span(("steps", step_id, "care")),
                    "F001",
                    f"no facility offers {step_id!r}: capabilities "
                    f"{sorted(need.capabilities)}, specialist {need.specialist!r}, "
                    f"level >= {need.min_level}"
                    + (" with 24 h cover" if need.urgency == "emergency" else ""),
                )
