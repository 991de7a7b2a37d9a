r"""Content hygiene: sources cited, texts in en/ru/kk, review recorded (``C001``-``C003``).

### C001 error: protocol without sources

FAIL:

```yaml
sources: []
```

```
demo.yaml:2:5: C001 error: protocol cites no sources
```

Fix: add the sources the protocol's statements rest on.

### C002 warning: text missing a language

A `title`, `family_info` or follow-up `title` lacks `ru` or `kk` (`en` is required by the
model: its absence is `S001`).

FAIL:

```yaml
title: {en: "Demo", ru: "Демо"}
```

```
demo.yaml:5:8: C002 warning: title has no text in kk
```

Fix: add the translation. Until then the decision falls back to English.

### C003 error: reviewed protocol without reviewer and date

FAIL:

```yaml
status: reviewed
reviewed_by: null
```

```
demo.yaml:4:9: C003 error: a reviewed protocol needs reviewed_by and reviewed_on
```

Fix: fill in `reviewed_by` and `reviewed_on`, or keep `status: draft`. Only local clinical
governance may mark a protocol reviewed.
"""

from __future__ import annotations

from collections.abc import Iterator

from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import Sourced
from pedonc_routing.model.documents import (
    LANGUAGES,
    LocalizedText,
    Protocol,
)
from pedonc_routing.source import LogicalPath, SourceMap
from pedonc_routing.validation.context import CheckContext, Gate

CODES = ("C001", "C002", "C003")
GATE = Gate.ALWAYS


def check(context: CheckContext) -> Iterator[Issue]:
    """Every protocol's sources, languages and review."""
    for sourced in context.protocols:
        yield from _protocol_hygiene(sourced)


def _protocol_hygiene(sourced: Sourced[Protocol]) -> Iterator[Issue]:
    """Sources cited, texts in every language, review recorded."""
    protocol, source_map = sourced.model, sourced.source_map
    if not protocol.sources:
        yield Issue.at(source_map.span(("id",)), "C001", "protocol cites no sources")
    if protocol.status == "reviewed" and not (protocol.reviewed_by and protocol.reviewed_on):
        yield Issue.at(
            source_map.span(("status",)),
            "C003",
            "a reviewed protocol needs reviewed_by and reviewed_on",
        )
    yield from _text_languages(protocol.title, ("title",), source_map)
    for step_id, step in protocol.steps.items():
        path: LogicalPath = ("steps", step_id)
        yield from _text_languages(step.title, (*path, "title"), source_map)
        yield from _text_languages(step.family_info, (*path, "family_info"), source_map)
        for index, follow_up in enumerate(step.follow_ups):
            yield from _text_languages(
                follow_up.title, (*path, "follow_ups", index, "title"), source_map
            )


def _text_languages(
    text: LocalizedText, path: LogicalPath, source_map: SourceMap
) -> Iterator[Issue]:
    missing = [language for language in LANGUAGES if not getattr(text, language)]
    if missing:
        yield Issue.at(
            source_map.span(path),
            "C002",
            f"{path[-1]} has no text in {', '.join(missing)}",
            "warning",
        )
