r"""Protocol selection: two protocols that apply to the same child (``G007``).

The ``applies_to`` conditions are analysed symbolically like the guards of a step (see
:mod:`.guards`), over every protocol of the bundle at once.

### G007 warning: protocols overlap

Two protocols of equal `priority` (a protocol's top-level `priority`, default 0) both have
`applies_to` holding for the same child; the first in file order is chosen. Protocols of
different priority may overlap on purpose (a catch-all pathway declares a lower priority
than the disease protocols): the higher one is chosen, and not reported. Non-overlapping
`applies_to` at equal priority is also what lets routing choose a protocol whose guard is
true while another is unknown for lack of data.

FAIL: `other.yaml` applies to `C91`, `protocol.yaml` to `C91.0`.

```
protocol.yaml:9:1: G007 warning: protocols 'other' (other.yaml:9:1) and 'mini' both apply to this child; 'other' is chosen (file order): {diagnosis: {icd10: C91.0}}
```

PASS: narrow one of them (`icd10_in: ["C91.1-C91.9"]`), or give the broader one a lower
`priority` when the precedence is deliberate.
"""

from __future__ import annotations

from collections.abc import Iterator

from pedonc_routing.issues import Issue
from pedonc_routing.validation.boxes import Space, TooComplex, point_in
from pedonc_routing.validation.context import CheckContext, Gate
from pedonc_routing.validation.guards import Guarded, brief, overlapping_pairs

CODES = ("G007",)
# Reads every protocol's applies_to against the vocabulary: only once both are right.
GATE = Gate.CLEAN_SO_FAR


def check(context: CheckContext) -> Iterator[Issue]:
    """Pairs of protocols of equal ``priority`` whose ``applies_to`` hold for a common child
    (a different declared priority is a deliberate precedence, e.g. a catch-all pathway)."""
    selected = [
        Guarded(
            s.model.id, s.model.priority, s.model.applies_to, s.source_map.key_span(("applies_to",))
        )
        for s in context.protocols
        if s.model.applies_to is not None
    ]
    space = Space(context.schema.inputs, [g.condition for g in selected])
    try:
        boxes = [space.boxes(guard.condition) for guard in selected]
    except TooComplex:
        return
    for first, second, box in overlapping_pairs(selected, boxes, space):
        patient = space.patient_of(point_in(box, space.dimensions))
        yield Issue.at(
            second.span,
            "G007",
            f"protocols {first.label!r} ({first.span}) and {second.label!r} both apply to "
            f"this child; {first.label!r} is chosen (file order): {brief(patient)}",
            "warning",
            example=patient,
        )
