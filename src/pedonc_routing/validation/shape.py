r"""Bundle shape: which documents a bundle has (one check: ``S003``).

### S003 error: bundle shape

A bundle has exactly one `vocabulary` and one `care_catalogue`, at most one `routing_rules`,
and at least one `protocol`.

FAIL: a second care catalogue `care2.yaml` in the folder.

```
care2.yaml:1:7: S003 error: a bundle has one care_catalogue; the first is care.yaml
```

A bundle with no protocol gives `S003 error: the bundle has no protocol`.

Fix: remove the extra document, or validate the two bundles separately.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import DocumentSet, Sourced
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("S003",)
GATE = Gate.ALWAYS


def check(context: CheckContext) -> Iterator[Issue]:
    """One care catalogue, at most one routing_rules, at least one protocol."""
    documents = context.documents
    singletons: tuple[tuple[str, Sequence[Sourced[Any]]], ...] = (
        ("care_catalogue", documents.care_catalogues),
        ("routing_rules", documents.routing_rules),
    )
    for kind, found in singletons:
        for extra in found[1:]:
            yield Issue.at(
                extra.source_map.span(("kind",)),
                "S003",
                f"a bundle has one {kind}; the first is {found[0].file}",
            )
    if not documents.protocols and not _has_read_errors(documents):
        file = documents.issues[0].file if documents.issues else "bundle"
        yield Issue("S003", "error", "the bundle has no protocol", file, 1, 1)


def _has_read_errors(documents: DocumentSet) -> bool:
    return any(issue.severity == "error" for issue in documents.issues)
